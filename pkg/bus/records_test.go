package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
)

type counter struct {
	N int `json:"n"`
}

func TestRecordsUpdateIsCompareAndSet(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	ctx := context.Background()
	recs, err := bus.OpenRecords[counter](ctx, c, "test_counters", time.Hour, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if v, rev, err := recs.Get(ctx, "missing"); v != nil || rev != 0 || err != nil {
		t.Fatalf("missing record: %v %d %v", v, rev, err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := recs.Update(ctx, "k", func(cur *counter) *counter {
				if cur == nil {
					cur = &counter{}
				}
				cur.N++
				return cur
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	v, _, err := recs.Get(ctx, "k")
	if err != nil || v == nil || v.N != 16 {
		t.Fatalf("after 16 concurrent increments: %+v, %v", v, err)
	}
	if got, stored, err := recs.Update(ctx, "k", func(*counter) *counter { return nil }); err != nil || stored || got.N != 16 {
		t.Fatalf("an update that changes nothing: %+v %v %v", got, stored, err)
	}
	if ok, err := recs.Create(ctx, "k", &counter{N: 1}); ok || err != nil {
		t.Fatalf("create over an existing record: %v %v", ok, err)
	}
	if err := recs.Delete(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := recs.Create(ctx, "k", &counter{N: 1}); !ok || err != nil {
		t.Fatalf("create after delete: %v %v", ok, err)
	}
	if err := recs.Put(ctx, "bad", &counter{N: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestRecordsCallsHaveTheirOwnDeadline(t *testing.T) {
	srv := bustest.Start(t)
	var recs *bus.Records[counter]
	callFrozen(t, srv, func(c *bus.Conn) {
		var err error
		if recs, err = bus.OpenRecords[counter](context.Background(), c, "test_frozen", time.Hour, "counter"); err != nil {
			t.Fatal(err)
		}
	}, func(ctx context.Context) error {
		_, _, err := recs.Get(ctx, "k")
		return err
	})
}
