package events

import (
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"
)

// TypeGitHubDelivery is a webhook delivery from GitHub, stored by ingress.
const TypeGitHubDelivery = "github.delivery_received.v1"

// GitHubDelivery is a GitHub webhook delivery as ingress received it. Body
// holds the raw request body byte for byte (base64 in JSON), so consumers can
// forward it with the original signature intact.
type GitHubDelivery struct {
	// DeliveryID is X-GitHub-Delivery.
	DeliveryID string `json:"deliveryId"`
	// Event is X-GitHub-Event, e.g. "pull_request".
	Event string `json:"event"`
	// Action is the payload's "action" field, if any.
	Action string `json:"action,omitempty"`
	// Headers are the request headers that matter to consumers, in canonical
	// form (X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID,
	// X-Hub-Signature-256, X-Hub-Signature, Content-Type, User-Agent, ...).
	Headers map[string]string `json:"headers"`
	// Body is the raw request body as received. Bodies larger than
	// InlineBodyLimit are stored in the object store bucket BucketBodies
	// instead and BodyRef points at them; pkg/bus fills Body in before a
	// handler sees the delivery.
	Body []byte `json:"body,omitempty"`
	// BodyRef locates a body kept outside the message.
	BodyRef *BodyRef `json:"bodyRef,omitempty"`
	// ReceivedAt is when ingress accepted the delivery.
	ReceivedAt time.Time `json:"receivedAt"`
}

// EventType implements Payload.
func (*GitHubDelivery) EventType() string { return TypeGitHubDelivery }

// InlineBodyLimit is the largest body carried inside a delivery event; a
// larger one goes to the object store, so messages stay small (an external
// NATS works with its default 1 MB max_payload) and a 25 MiB webhook stays
// under JetStream's per-record limit.
const InlineBodyLimit = 256 << 10

// BucketBodies is the object store bucket holding large delivery bodies.
const BucketBodies = "github_bodies"

// BodyRef points at a body in the object store.
type BodyRef struct {
	Bucket string `json:"bucket"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	// SHA256 is the hex digest of the body, checked when it is read back.
	SHA256 string `json:"sha256"`
}

// TypeConsumerFailed records a message a consumer gave up on: it failed
// permanently, or it was delivered the maximum number of times. It is
// published on the dead-letter subject of the consumer.
const TypeConsumerFailed = "consumer.failed.v1"

// ConsumerFailed is the dead-letter record of a message.
type ConsumerFailed struct {
	// Consumer is the durable consumer (service) that gave up.
	Consumer string `json:"consumer"`
	// Stream and StreamSequence locate the original message, so an operator
	// can inspect or replay it while the stream still holds it.
	Stream         string `json:"stream"`
	StreamSequence uint64 `json:"streamSequence"`
	// Subject is the original message's subject.
	Subject string `json:"subject"`
	// Deliveries is how many times the message was delivered.
	Deliveries uint64 `json:"deliveries"`
	// Reason is "permanent" (the handler said retrying cannot help) or
	// "max_deliveries".
	Reason string `json:"reason"`
	// Error is the last handler error.
	Error string `json:"error"`
	// OriginalID and OriginalType identify the failed event.
	OriginalID   string `json:"originalId"`
	OriginalType string `json:"originalType"`
}

// EventType implements Payload.
func (*ConsumerFailed) EventType() string { return TypeConsumerFailed }

// Reasons for ConsumerFailed.
const (
	FailedPermanent     = "permanent"
	FailedMaxDeliveries = "max_deliveries"
)

func init() {
	register(func() Payload { return &GitHubDelivery{} })
	register(func() Payload { return &ConsumerFailed{} })
}

// Header returns a header of the delivery (case-insensitive name).
func (d *GitHubDelivery) Header(name string) string {
	if v, ok := d.Headers[name]; ok {
		return v
	}
	for k, v := range d.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// PayloadJSON returns the webhook payload as JSON: Body itself for JSON
// deliveries, the "payload" form field for form-encoded ones. Forward Body,
// parse PayloadJSON.
func (d *GitHubDelivery) PayloadJSON() ([]byte, error) {
	ct := d.Header("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(d.Body))
		if err != nil {
			return nil, fmt.Errorf("parsing form-encoded delivery %s: %w", d.DeliveryID, err)
		}
		if !form.Has("payload") {
			return nil, fmt.Errorf("form-encoded delivery %s has no payload field", d.DeliveryID)
		}
		return []byte(form.Get("payload")), nil
	}
	return d.Body, nil
}
