package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// prMetricsLease names the PR metrics loop in events.BucketLeases.
const prMetricsLease = "drift-pr-metrics"

// lease lets one process of the deployment run a job: the holder renews
// it before it expires; another process takes it over once it has expired
// (or was released). Expiry is kept in the value, so replicas with
// different settings agree.
type lease struct {
	kv     jetstream.KeyValue
	key    string
	holder string
	now    func() time.Time
}

type leaseRecord struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

func newLease(kv jetstream.KeyValue, key string) *lease {
	host, _ := os.Hostname()
	return &lease{kv: kv, key: key, holder: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), events.RandomID()[:8]), now: time.Now}
}

// hold acquires or renews the lease for ttl and reports whether this
// process holds it.
func (l *lease) hold(ctx context.Context, ttl time.Duration) (bool, error) {
	now := l.now()
	data, err := json.Marshal(leaseRecord{Holder: l.holder, Expires: now.Add(ttl).UTC()})
	if err != nil {
		return false, err
	}
	e, err := l.kv.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		_, err = l.kv.Create(ctx, l.key, data)
		return l.won(err)
	}
	if err != nil {
		return false, fmt.Errorf("reading lease %s: %w", l.key, err)
	}
	var cur leaseRecord
	if json.Unmarshal(e.Value(), &cur) == nil && cur.Holder != l.holder && now.Before(cur.Expires) {
		return false, nil
	}
	_, err = l.kv.Update(ctx, l.key, data, e.Revision())
	return l.won(err)
}

func (l *lease) won(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case isConflict(err):
		return false, nil
	}
	return false, fmt.Errorf("writing lease %s: %w", l.key, err)
}

// release gives the lease up if this process holds it, so another takes
// over at once.
func (l *lease) release(ctx context.Context) error {
	e, err := l.kv.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading lease %s: %w", l.key, err)
	}
	var cur leaseRecord
	if json.Unmarshal(e.Value(), &cur) != nil || cur.Holder != l.holder {
		return nil
	}
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(e.Revision())); err != nil && !isConflict(err) {
		return fmt.Errorf("releasing lease %s: %w", l.key, err)
	}
	return nil
}
