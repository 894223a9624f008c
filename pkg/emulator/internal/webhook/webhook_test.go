package webhook

import (
	"context"
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type received struct {
	guid, event, sig string
	body             string
}

func receiver(t *testing.T, status int) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event"), r.Header.Get("X-Hub-Signature-256"), string(body)})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func wait(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOrderSignatureAndRedelivery(t *testing.T) {
	srv, got := receiver(t, http.StatusAccepted)
	d := New(nil, 0)
	defer d.Close()
	d.Configure(srv.URL, "s3cret")
	for i := 0; i < 50; i++ {
		d.Enqueue("push", "", "o/r", []byte(`{"n":`+string(rune('0'+i%10))+`}`))
	}
	wait(t, d)
	recv := got()
	if len(recv) != 50 {
		t.Fatalf("received %d deliveries, want 50", len(recv))
	}
	log := d.Deliveries()
	for i, r := range recv {
		if r.guid != log[i].GUID {
			t.Fatalf("delivery %d arrived out of order", i)
		}
		want, _ := Sign([]byte("s3cret"), []byte(r.body))
		if !hmac.Equal([]byte(r.sig), []byte(want)) {
			t.Fatalf("bad signature %q", r.sig)
		}
		if log[i].State != StateDelivered || log[i].StatusCode != http.StatusAccepted || log[i].DeliveredAt == nil {
			t.Fatalf("log entry %d = %+v", i, log[i])
		}
	}
	id, err := d.Redeliver(log[3].GUID)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, d)
	recv = got()
	last := recv[len(recv)-1]
	if last.guid != log[3].GUID || last.body != recv[3].body {
		t.Errorf("redelivery sent %+v, want GUID %s", last, log[3].GUID)
	}
	all := d.Deliveries()
	if re := all[len(all)-1]; re.ID != id || !re.Redelivery || re.GUID != log[3].GUID {
		t.Errorf("redelivery log entry = %+v", re)
	}
	if _, err := d.Redeliver("nope"); err == nil {
		t.Error("redelivering an unknown id succeeded")
	}
}

func TestFailuresAreLogged(t *testing.T) {
	srv, _ := receiver(t, http.StatusServiceUnavailable)
	d := New(nil, 2)
	defer d.Close()
	d.Enqueue("ping", "", "", []byte(`{}`))
	d.Configure(srv.URL, "")
	d.Enqueue("push", "", "", []byte(`{}`))
	d.Enqueue("push", "", "", []byte(`{}`))
	wait(t, d)
	log := d.Deliveries()
	if len(log) != 2 {
		t.Fatalf("log keeps %d entries, want the last 2", len(log))
	}
	for _, del := range log {
		if del.State != StateFailed || del.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("entry = %+v, want failed 503", del)
		}
	}
	d2 := New(nil, 0)
	defer d2.Close()
	d2.Enqueue("ping", "", "", []byte(`{}`))
	wait(t, d2)
	if s := d2.Deliveries()[0].State; s != StateSkipped {
		t.Errorf("state without URL = %s, want skipped", s)
	}
}
