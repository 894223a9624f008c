package events

// Fan-out events: the fanout service forwards a push delivery to the
// endpoints a repository's webhookEndpointRegexs choose. It publishes one
// fanout.requested job per endpoint, then one outcome per job
// (fanout.delivered or fanout.failed); an endpoint refused before any call
// is recorded as fanout.rejected.

// Wire names of the fan-out events.
const (
	TypeFanoutRequested = "fanout.requested.v1"
	TypeFanoutDelivered = "fanout.delivered.v1"
	TypeFanoutFailed    = "fanout.failed.v1"
	TypeFanoutRejected  = "fanout.rejected.v1"
)

// FanoutRequested is a job: forward one push delivery to one endpoint. Its
// ID is derived from the delivery id and the URL, so a redelivered push does
// not forward twice within the duplicate window. The body is not copied into
// the job; it is read from the original delivery message.
type FanoutRequested struct {
	// DeliveryID is X-GitHub-Delivery of the push.
	DeliveryID string `json:"deliveryId"`
	// URL is the endpoint, already validated and allowed.
	URL string `json:"url"`
	// DeliveryStream and DeliverySequence locate the GitHub delivery message
	// (an envelope holding GitHubDelivery) whose body and headers are sent.
	DeliveryStream   string `json:"deliveryStream"`
	DeliverySequence uint64 `json:"deliverySequence"`
	// Commit is the pushed commit (the push's "after"), for people reading
	// the event.
	Commit string `json:"commit"`
	// SkipTLSVerify is the repository's whProxtSkipTLSVerifyUpstream at
	// that commit.
	SkipTLSVerify bool `json:"skipTlsVerify,omitempty"`
}

// EventType implements Payload.
func (*FanoutRequested) EventType() string { return TypeFanoutRequested }

// FanoutDelivered records that an endpoint answered a forwarded push with
// a 2xx status.
type FanoutDelivered struct {
	DeliveryID string `json:"deliveryId"`
	URL        string `json:"url"`
	// StatusCode is the endpoint's answer.
	StatusCode int `json:"statusCode"`
	// Attempts is how many attempts it took, this one included.
	Attempts int `json:"attempts"`
}

// EventType implements Payload.
func (*FanoutDelivered) EventType() string { return TypeFanoutDelivered }

// FanoutFailed records that forwarding a push to an endpoint was given up.
type FanoutFailed struct {
	DeliveryID string `json:"deliveryId"`
	URL        string `json:"url"`
	// Reason is one of the FanoutFailed* constants.
	Reason string `json:"reason"`
	// StatusCode is the last answer's status; 0 when there was no answer.
	StatusCode int `json:"statusCode,omitempty"`
	// Error describes the last attempt's failure.
	Error string `json:"error"`
	// Attempts is how many attempts were made.
	Attempts int `json:"attempts"`
}

// EventType implements Payload.
func (*FanoutFailed) EventType() string { return TypeFanoutFailed }

// Reasons for FanoutFailed.
const (
	// FanoutFailedStatus: the endpoint answered with a status that is not
	// retried (a 3xx or a 4xx other than 429).
	FanoutFailedStatus = "final_status"
	// FanoutFailedAttempts: every allowed attempt failed with a retryable
	// error (no answer, timeout, 429 or 5xx).
	FanoutFailedAttempts = "attempts_exhausted"
	// FanoutFailedDeliveryGone: the original delivery is no longer in its
	// stream, so there is nothing to forward.
	FanoutFailedDeliveryGone = "delivery_gone"
)

// FanoutRejected records an endpoint URL that was refused before any call:
// it is not an absolute http or https URL, or FANOUT_ALLOWED_URL_REGEX does
// not fully match it.
type FanoutRejected struct {
	DeliveryID string `json:"deliveryId"`
	URL        string `json:"url"`
	// Commit is the pushed commit whose configuration produced the URL.
	Commit string `json:"commit"`
	// Reason says why the URL was refused.
	Reason string `json:"reason"`
}

// EventType implements Payload.
func (*FanoutRejected) EventType() string { return TypeFanoutRejected }

func init() {
	register(func() Payload { return &FanoutRequested{} })
	register(func() Payload { return &FanoutDelivered{} })
	register(func() Payload { return &FanoutFailed{} })
	register(func() Payload { return &FanoutRejected{} })
}
