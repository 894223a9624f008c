package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// window is a stretch of time; zero when there was none.
type window struct{ from, to time.Time }

func (w window) empty() bool { return w.to.IsZero() }

// leaderless returns how long the GITHUB stream had no leader after the
// kill at killed: until a surviving node logged a new leader for it. When
// the killed node did not lead it, no node logs one and the window is
// empty. It waits (up to a minute) for the stream to have a leader.
func leaderless(t *testing.T, conn *bus.Conn, nodes []*natsNode, killed time.Time) window {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := waitFor(ctx, func() (bool, error) {
		// Each look has its own deadline: a request sent while the test's
		// connection moved off the killed node gets no reply.
		actx, acancel := context.WithTimeout(ctx, 3*time.Second)
		defer acancel()
		st, err := conn.JS.Stream(actx, events.StreamGitHub)
		if err != nil {
			return false, err
		}
		info, err := st.Info(actx)
		if err != nil {
			return false, err
		}
		return info.Cluster != nil && info.Cluster.Leader != "", fmt.Errorf("stream %s has no leader", events.StreamGitHub)
	})
	if err != nil {
		t.Fatalf("after the node loss: %v", err)
	}
	marker := fmt.Sprintf("new stream leader for '$G > %s'", events.StreamGitHub)
	var elected time.Time
	for _, n := range nodes {
		f, err := os.Open(n.logPath)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, marker) {
				continue
			}
			// [pid] 2006/01/02 15:04:05.000000 [INF] ...
			fields := strings.Fields(line)
			if len(fields) < 3 {
				continue
			}
			at, err := time.ParseInLocation("2006/01/02 15:04:05.000000", fields[1]+" "+fields[2], time.Local)
			if err == nil && at.After(killed) && (elected.IsZero() || at.Before(elected)) {
				elected = at
			}
		}
		_ = f.Close()
	}
	if elected.IsZero() {
		return window{}
	}
	return window{from: killed, to: elected}
}

// spooled counts, from the ingress replicas' logs, the webhooks accepted
// into a spool and the spooled deliveries later stored on JetStream.
type spooled struct{ spooled, drained int }

func spoolCounts(t *testing.T, ingress []*service) spooled {
	t.Helper()
	var c spooled
	for _, s := range ingress {
		f, err := os.Open(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "webhook accepted (spooled)":
				c.spooled++
			case "spooled delivery stored":
				c.drained++
			}
		}
		_ = f.Close()
	}
	return c
}
