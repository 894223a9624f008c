package fanout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

func TestDeliveryStore(t *testing.T) {
	srv := bustest.Start(t)
	conn := srv.Connect()
	ctx := context.Background()
	var seqs []uint64
	for i := 0; i < 3; i++ {
		r := repo
		env, err := events.New(events.Meta{ID: fmt.Sprint("d", i), Source: "test", Repo: &r},
			&events.GitHubDelivery{DeliveryID: fmt.Sprint("d", i), Event: "push", Headers: map[string]string{"A": "b"}, Body: bytes.Repeat([]byte{'x'}, 40)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := (bus.Publisher{JS: conn.JS}).Publish(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, p.Sequence)
	}
	s := newDeliveryStore(conn.JS, 100) // room for two bodies of 40 bytes

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.get(ctx, events.StreamGitHub, seqs[0], "d0")
			if err != nil || d.DeliveryID != "d0" || len(d.Body) != 40 || d.Headers["A"] != "b" {
				t.Errorf("concurrent get: %+v, %v", d, err)
			}
		}()
	}
	wg.Wait()
	for i := 1; i < 3; i++ {
		if _, err := s.get(ctx, events.StreamGitHub, seqs[i], fmt.Sprint("d", i)); err != nil {
			t.Fatal(err)
		}
	}
	cached, size := s.cached.Len(), s.cached.Size()
	firstKept := s.cached.Contains(deliveryKey(events.StreamGitHub, seqs[0]))
	if cached != 2 || size != 80 || firstKept {
		t.Fatalf("cache holds %d entries, %d bytes (first kept: %v); want the two most recent, 80 bytes", cached, size, firstKept)
	}

	if _, err := s.get(ctx, events.StreamGitHub, seqs[1], "someone-else"); !errors.Is(err, errDeliveryGone) {
		t.Fatalf("mismatched delivery id: %v", err)
	}
	if _, err := s.get(ctx, events.StreamGitHub, 1000, "d9"); !errors.Is(err, errDeliveryGone) {
		t.Fatalf("sequence beyond the stream: %v", err)
	}
	st, _ := conn.JS.Stream(ctx, events.StreamGitHub)
	for _, i := range []int{0, 1} { // the first, then one inside the stream
		if err := st.DeleteMsg(ctx, seqs[i]); err != nil {
			t.Fatal(err)
		}
		fresh := newDeliveryStore(conn.JS, 100)
		if _, err := fresh.get(ctx, events.StreamGitHub, seqs[i], fmt.Sprint("d", i)); !errors.Is(err, errDeliveryGone) {
			t.Fatalf("deleted message %d: %v", i, err)
		}
	}
	if _, err := s.get(ctx, "NOSUCHSTREAM", 1, "d0"); !errors.Is(err, errDeliveryGone) {
		t.Fatalf("missing stream: %v", err)
	}
}
