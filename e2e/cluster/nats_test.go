package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// natsNode is one nats-server process of the 3-node JetStream cluster.
type natsNode struct {
	name                   string
	client, route, monitor int
	dir, conf, logPath     string
	cmd                    *exec.Cmd
	exited                 chan struct{}
}

// config is what a platform team would run (per node; the README's
// "Running on a NATS cluster" shows it): JetStream on file storage, a
// cluster of three on its own port, the monitoring endpoint, and a
// max_payload above the largest event (a 25 MiB webhook in its envelope).
func (n *natsNode) config(routes []string) string {
	return fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
max_payload: 48MB
max_pending: 64MB

jetstream {
  store_dir: %q
  max_memory_store: 256MB
  max_file_store: 10GB
}

cluster {
  name: telefonistka
  listen: 127.0.0.1:%d
  routes: [%s]
}
`, n.name, n.client, n.monitor, n.dir, n.route, strings.Join(routes, ", "))
}

// startCluster writes the configuration of three nodes and starts them.
func startCluster(t *testing.T, bin, dir string) []*natsNode {
	t.Helper()
	nodes := make([]*natsNode, 3)
	var routes []string
	ports := freePorts(t, 3*len(nodes))
	for i := range nodes {
		n := &natsNode{name: fmt.Sprintf("n%d", i+1), client: ports[3*i], route: ports[3*i+1], monitor: ports[3*i+2]}
		n.dir = filepath.Join(dir, n.name)
		n.conf = filepath.Join(dir, n.name+".conf")
		n.logPath = filepath.Join(dir, n.name+".log")
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", n.route))
		nodes[i] = n
	}
	for _, n := range nodes {
		if err := os.WriteFile(n.conf, []byte(n.config(routes)), 0o600); err != nil {
			t.Fatal(err)
		}
		n.start(t, bin)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.kill()
		}
	})
	for _, n := range nodes {
		n.waitHealthy(t)
	}
	return nodes
}

func (n *natsNode) start(t *testing.T, bin string) {
	t.Helper()
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "-c", n.conf)
	dieWithTest(n.cmd)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", n.name, err)
	}
	n.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
	}(n.cmd, n.exited)
}

// kill ends the node with SIGKILL (no clean shutdown) and waits for it.
func (n *natsNode) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// waitHealthy waits until the node's JetStream is healthy.
func (n *natsNode) waitHealthy(t *testing.T) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", n.monitor)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 60s (log %s)", n.name, n.logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.client) }

func clusterURL(nodes []*natsNode) string {
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.url()
	}
	return strings.Join(urls, ",")
}

// freePorts returns n distinct free ports of loopback. Each listener is
// held until all are chosen: closed one at a time, the kernel may hand the
// same port out twice.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// waitFor polls cond every 100ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
