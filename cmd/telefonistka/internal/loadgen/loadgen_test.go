package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestRunSendsSignedUniqueDeliveries(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("X-GitHub-Delivery")
		if ids[id] {
			w.WriteHeader(http.StatusOK)
			return
		}
		ids[id] = true
		if r.Header.Get("X-Hub-Signature-256") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{URL: srv.URL, Secret: "s", Rate: 200, Duration: 250 * time.Millisecond, Workers: 4, Body: []byte(`{}`), RunID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent < 40 || res.ByStatus[202] != res.Sent {
		t.Fatalf("result: %+v", res.ByStatus)
	}
	if res.Percentile(50) > res.Percentile(99) {
		t.Fatal("percentiles out of order")
	}
}
