package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
)

// flakyKV answers its first calls with no responders, as a bucket does
// while its stream elects a leader after a NATS node is lost.
type flakyKV struct {
	jetstream.KeyValue
	failures int
	calls    int
}

func (k *flakyKV) fail() error {
	k.calls++
	if k.calls <= k.failures {
		return nats.ErrNoResponders
	}
	return nil
}

func (k *flakyKV) Get(context.Context, string) (jetstream.KeyValueEntry, error) {
	if err := k.fail(); err != nil {
		return nil, err
	}
	return nil, jetstream.ErrKeyNotFound
}

func (k *flakyKV) Create(context.Context, string, []byte, ...jetstream.KVCreateOpt) (uint64, error) {
	return 1, k.fail()
}

func (k *flakyKV) Update(_ context.Context, _ string, _ []byte, rev uint64) (uint64, error) {
	return rev + 1, k.fail()
}

// A KV call made while the bucket has no leader is tried again within its
// deadline instead of failing the handler that made it.
func TestCallKVRetriesWhileTheBucketHasNoLeader(t *testing.T) {
	ctx := context.Background()
	newKV := func() (*flakyKV, bus.CallKV) {
		f := &flakyKV{failures: 3}
		return f, bus.CallKV{KeyValue: f, Timeout: time.Minute}
	}
	f, kv := newKV()
	if _, err := kv.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) || f.calls != 4 {
		t.Errorf("Get: %v after %d calls, want key not found after 4", err, f.calls)
	}
	f, kv = newKV()
	if rev, err := kv.Create(ctx, "k", nil); err != nil || rev != 1 || f.calls != 4 {
		t.Errorf("Create: revision %d, %v after %d calls", rev, err, f.calls)
	}
	f, kv = newKV()
	if rev, err := kv.Update(ctx, "k", nil, 7); err != nil || rev != 8 || f.calls != 4 {
		t.Errorf("Update: revision %d, %v after %d calls", rev, err, f.calls)
	}
	// A refusal is not retried.
	f, kv = newKV()
	f.failures = 0
	f.KeyValue = nil
	if _, err := kv.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) || f.calls != 1 {
		t.Errorf("Get of a missing key: %v after %d calls, want one call", err, f.calls)
	}
}

// While the cluster elects its metadata leader, JetStream answers 503
// "system temporarily unavailable": a call (a service's consumer set up at
// start) is tried again instead of failing the service.
func TestCallRetriesWhileJetStreamIsUnavailable(t *testing.T) {
	unavailable := &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}
	calls := 0
	err := bus.Call(context.Background(), time.Minute, func(context.Context) error {
		calls++
		if calls < 3 {
			return unavailable
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("%v after %d calls, want success after 3", err, calls)
	}
}
