// Package webhook signs and delivers webhook payloads from one ordered queue and keeps a
// log of deliveries that can be redelivered with their original GUID.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 for GitHub's legacy X-Hub-Signature header, sent as GitHub does
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Delivery states.
const (
	StateQueued    = "queued"
	StateDelivered = "delivered" // the receiver answered 2xx
	StateFailed    = "failed"    // network error or non-2xx answer
	StateSkipped   = "skipped"   // no webhook URL was configured
)

// Delivery is one attempt to send one event.
type Delivery struct {
	ID          int64           `json:"id"`
	GUID        string          `json:"guid"`
	Event       string          `json:"event"`
	Action      string          `json:"action,omitempty"`
	Repository  string          `json:"repository,omitempty"`
	Redelivery  bool            `json:"redelivery"`
	State       string          `json:"state"`
	URL         string          `json:"url,omitempty"`
	StatusCode  int             `json:"status_code"`
	Error       string          `json:"error,omitempty"`
	QueuedAt    time.Time       `json:"queued_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	DurationMS  float64         `json:"duration_ms"`
	Payload     json.RawMessage `json:"payload"`
}

// ErrUnknownDelivery is returned when redelivering an id that is not in the log.
var ErrUnknownDelivery = errors.New("unknown delivery")

// Dispatcher delivers events one at a time, in the order they were queued.
type Dispatcher struct {
	client  *http.Client
	logSize int
	hookID  int64

	mu       sync.Mutex
	cond     *sync.Cond
	url      string
	secret   string
	queue    []*Delivery
	inFlight bool
	log      []*Delivery
	nextID   int64
	closed   bool
	done     chan struct{}
}

// New starts a dispatcher keeping at most logSize deliveries in its log.
func New(client *http.Client, logSize int) *Dispatcher {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if logSize <= 0 {
		logSize = 2_000
	}
	d := &Dispatcher{client: client, logSize: logSize, hookID: 1, done: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	go d.run()
	return d
}

// Configure sets the receiver URL and the signing secret; an empty URL disables sending.
func (d *Dispatcher) Configure(url, secret string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.url, d.secret = url, secret
}

// Enqueue queues one event with a fresh GUID and returns its log entry's id.
func (d *Dispatcher) Enqueue(event, action, repo string, payload []byte) int64 {
	return d.enqueue(&Delivery{
		GUID: NewGUID(), Event: event, Action: action, Repository: repo, Payload: payload,
	})
}

// Redeliver queues the delivery with log id (or GUID) again, with the same GUID and payload.
func (d *Dispatcher) Redeliver(idOrGUID string) (int64, error) {
	d.mu.Lock()
	var orig *Delivery
	for _, del := range d.log {
		if strconv.FormatInt(del.ID, 10) == idOrGUID || del.GUID == idOrGUID {
			orig = del
			break
		}
	}
	d.mu.Unlock()
	if orig == nil {
		return 0, fmt.Errorf("redelivering %s: %w", idOrGUID, ErrUnknownDelivery)
	}
	return d.enqueue(&Delivery{
		GUID: orig.GUID, Event: orig.Event, Action: orig.Action, Repository: orig.Repository,
		Payload: orig.Payload, Redelivery: true,
	}), nil
}

func (d *Dispatcher) enqueue(del *Delivery) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextID++
	del.ID = d.nextID
	del.State = StateQueued
	del.QueuedAt = time.Now().UTC()
	d.queue = append(d.queue, del)
	d.log = append(d.log, del)
	if len(d.log) > d.logSize {
		d.log = append([]*Delivery(nil), d.log[len(d.log)-d.logSize:]...)
	}
	d.cond.Broadcast()
	return del.ID
}

// Deliveries returns a copy of the log, oldest first.
func (d *Dispatcher) Deliveries() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Delivery, len(d.log))
	for i, del := range d.log {
		out[i] = *del
	}
	return out
}

// Wait blocks until every queued delivery has been attempted, or ctx ends.
func (d *Dispatcher) Wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for (len(d.queue) > 0 || d.inFlight) && ctx.Err() == nil && !d.closed {
		d.cond.Wait()
	}
	return ctx.Err()
}

// Close stops the dispatcher after the delivery in progress; queued deliveries are dropped.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
	<-d.done
}

func (d *Dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if d.closed {
			d.mu.Unlock()
			return
		}
		del := d.queue[0]
		d.queue = d.queue[1:]
		d.inFlight = true
		url, secret := d.url, d.secret
		d.mu.Unlock()

		result := d.send(del, url, secret)

		d.mu.Lock()
		del.State, del.URL, del.StatusCode, del.Error = result.State, result.URL, result.StatusCode, result.Error
		del.DeliveredAt, del.DurationMS = result.DeliveredAt, result.DurationMS
		d.inFlight = false
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

func (d *Dispatcher) send(del *Delivery, url, secret string) (res Delivery) {
	res.URL = url
	if url == "" {
		res.State, res.Error = StateSkipped, "no webhook URL configured"
		return res
	}
	start := time.Now()
	defer func() {
		now := time.Now().UTC()
		res.DeliveredAt = &now
		res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	}()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(del.Payload))
	if err != nil {
		res.State, res.Error = StateFailed, err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/emulator")
	req.Header.Set("X-GitHub-Event", del.Event)
	req.Header.Set("X-GitHub-Delivery", del.GUID)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(d.hookID, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	if secret != "" {
		sha256sig, sha1sig := Sign([]byte(secret), del.Payload)
		req.Header.Set("X-Hub-Signature-256", sha256sig)
		req.Header.Set("X-Hub-Signature", sha1sig)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		res.State, res.Error = StateFailed, err.Error()
		return res
	}
	resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.State = StateDelivered
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.State = StateFailed
	}
	return res
}

// Sign returns the X-Hub-Signature-256 and X-Hub-Signature header values for body.
func Sign(secret, body []byte) (sha256sig, sha1sig string) {
	m256 := hmac.New(sha256.New, secret)
	m256.Write(body)
	m1 := hmac.New(sha1.New, secret)
	m1.Write(body)
	return "sha256=" + hex.EncodeToString(m256.Sum(nil)), "sha1=" + hex.EncodeToString(m1.Sum(nil))
}

// NewGUID returns a random version 4 UUID, the form of X-GitHub-Delivery.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
