package events

import "time"

// StreamSpec describes a JetStream stream. pkg/bus creates or updates each
// one at start, so the definitions here are the single source of truth.
type StreamSpec struct {
	Name        string
	Description string
	Subjects    []string
	// MaxAge is how long messages are kept.
	MaxAge time.Duration
	// Duplicates is the window in which a repeated Nats-Msg-Id is dropped.
	Duplicates time.Duration
	// Sources, if any, are streams whose messages this one copies (a
	// stream with sources and no subjects of its own: TRACKER).
	Sources []StreamSource
}

// StreamSource is a stream another stream copies messages from.
type StreamSource struct {
	Name string
	// FilterSubject, if set, copies only the messages it matches.
	FilterSubject string
}

// Stream names.
const (
	StreamGitHub     = "GITHUB"
	StreamPromotion  = "PROMOTION"
	StreamDrift      = "DRIFT"
	StreamArgoDiff   = "ARGODIFF"
	StreamFanout     = "FANOUT"
	StreamBump       = "BUMP"
	StreamDeadLetter = "DEADLETTER"
)

// DefaultDuplicateWindow is the JetStream duplicate window of every stream.
// Deliveries repeated after it are caught by the delivery KV record.
const DefaultDuplicateWindow = 10 * time.Minute

// Streams returns the stream definitions. dup overrides the duplicate window
// when non-zero (tests use a short one).
func Streams(dup time.Duration) []StreamSpec {
	if dup <= 0 {
		dup = DefaultDuplicateWindow
	}
	week := 7 * 24 * time.Hour
	return []StreamSpec{
		{Name: StreamGitHub, Description: "GitHub webhook deliveries accepted by ingress", Subjects: []string{"github.>"}, MaxAge: week, Duplicates: dup},
		{Name: StreamPromotion, Description: "Promotion plans and their outcomes", Subjects: []string{"promotion.>"}, MaxAge: 4 * week, Duplicates: dup},
		{Name: StreamDrift, Description: "Drift detected or cleared on open PRs", Subjects: []string{"drift.>"}, MaxAge: week, Duplicates: dup},
		{Name: StreamArgoDiff, Description: "Argo CD diffs commented on open PRs", Subjects: []string{"argodiff.>"}, MaxAge: week, Duplicates: dup},
		{Name: StreamFanout, Description: "Push webhook forwarding jobs and outcomes", Subjects: []string{"fanout.>"}, MaxAge: week, Duplicates: dup},
		{Name: StreamBump, Description: "Version bump requests and outcomes", Subjects: []string{"bump.>"}, MaxAge: 4 * week, Duplicates: dup},
		{Name: StreamDeadLetter, Description: "Messages a consumer gave up on", Subjects: []string{"deadletter.>"}, MaxAge: 4 * week, Duplicates: dup},
	}
}

// KV buckets.
const (
	// BucketDeliveries records every GitHub delivery id ingress stored, so a
	// redelivery days later is recognised.
	BucketDeliveries = "github_deliveries"
	// DeliveriesTTL is how long a delivery id is remembered.
	DeliveriesTTL = 8 * 24 * time.Hour
	// BucketGitHubBudget holds the GitHub write budget of every identity
	// (installation or token): one schedule per key, updated with
	// compare-and-set by every replica of every service, so together they
	// keep within GitHub's secondary limit.
	BucketGitHubBudget = "github_write_budget"
	// GitHubBudgetTTL forgets a budget nobody used for longer than any
	// pause GitHub can ask for (an idle budget is a full one).
	GitHubBudgetTTL = 2 * time.Hour
)

// ConsumerSpec describes a durable pull consumer of one service.
type ConsumerSpec struct {
	// Service is the service that runs the consumer.
	Service string
	// Durable is the consumer name; replicas of a service share it.
	Durable string
	Stream  string
	// FilterSubjects selects the messages the service handles.
	FilterSubjects []string
	// MaxDeliver is how many times a message is tried before it is
	// dead-lettered.
	MaxDeliver int
	// AckWait is how long a delivery may run before JetStream redelivers it,
	// unless the handler reports progress.
	AckWait time.Duration
}
