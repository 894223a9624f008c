package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// deliveryStore is what the webhook handler needs from the message bus.
type deliveryStore interface {
	// Seen reports whether a delivery id was stored before (also days ago).
	Seen(ctx context.Context, deliveryID string) (bool, error)
	// Store publishes the delivery on subject; duplicate is true when
	// JetStream already held it.
	Store(ctx context.Context, subject string, env *events.Envelope) (duplicate bool, err error)
	// Remember records the delivery id for later redeliveries.
	Remember(ctx context.Context, deliveryID string) error
	// PutBody keeps a body too large to travel inside the event.
	PutBody(ctx context.Context, deliveryID string, body []byte) (*events.BodyRef, error)
}

// notStored are headers that are not part of the delivery: those that
// describe one connection, and credentials meant for Telefonistka or a proxy
// in front of it (a webhook URL with user info makes GitHub send
// Authorization), which must not rest on the stream nor be forwarded.
var notStored = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
	"Host": true, "Content-Length": true,
	"Authorization": true, "Cookie": true, "X-Api-Key": true,
}

type webhookHandler struct {
	cfg   Config
	store deliveryStore
	spool *spool // nil when off
	// answerAfterSpool: a delivery is answered once the spool holds it
	// (INGRESS_ANSWER_AFTER=spool), not once JetStream does.
	answerAfterSpool bool
	metrics          *metrics
	// remembering counts the delivery ids being recorded after their
	// answer went out.
	remembering sync.WaitGroup
	log         *slog.Logger
	now         func() time.Time
}

// payloadHead is the part of a payload ingress reads: enough to name the
// subject and the envelope's repo and PR.
type payloadHead struct {
	Action     string `json:"action"`
	Number     int    `json:"number"`
	Repository *struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
			Name  string `json:"name"`
		} `json:"owner"`
	} `json:"repository"`
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Issue *struct {
		Number int `json:"number"`
	} `json:"issue"`
}

// repo returns the repository's owner and name, ok false when the payload
// names no repository.
func (p *payloadHead) repo() (owner, name string, ok bool) {
	if p.Repository == nil || p.Repository.Name == "" {
		return "", "", false
	}
	owner = p.Repository.Owner.Login
	if owner == "" {
		owner = p.Repository.Owner.Name
	}
	return owner, p.Repository.Name, true
}

// answer is what ingress answers a delivery with.
type answer struct {
	status int
	msg    string
	attrs  []any // for the log line
	// stored is the id of a delivery the stream holds, to remember once
	// the answer is sent.
	stored string
	// warn logs a 2xx answer as a warning (a spooled delivery).
	warn bool
}

func reply(status int, msg string, attrs []any) answer {
	return answer{status: status, msg: msg, attrs: attrs}
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	a := h.handle(r)
	h.metrics.requests.WithLabelValues(fmt.Sprint(a.status)).Observe(time.Since(start).Seconds())
	level := slog.LevelInfo
	if a.warn {
		level = slog.LevelWarn
	}
	if a.status >= 500 {
		level = slog.LevelError
	} else if a.status >= 400 {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "webhook "+a.msg, append(a.attrs, "status", a.status)...)
	body := a.msg + "\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, body)
	if a.stored == "" {
		return
	}
	// The delivery is stored, so the answer goes out now: recording the
	// id for redeliveries days later is one more JetStream round trip
	// GitHub need not wait for, nor the next request on this connection
	// (a load balancer keeps connections open; while a stream elects a
	// leader the record can take INGRESS_PUBLISH_TIMEOUT). Until the
	// record is written (or if writing it fails, as before), the stream's
	// duplicate window catches a redelivery.
	ctx := context.WithoutCancel(r.Context())
	h.remembering.Add(1)
	go func() {
		defer h.remembering.Done()
		h.remember(ctx, a.stored)
	}()
}

// remember records a stored delivery's id; a failure is logged, the
// delivery is stored all the same.
func (h *webhookHandler) remember(ctx context.Context, deliveryID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.PublishTimeout)
	defer cancel()
	if err := h.store.Remember(ctx, deliveryID); err != nil {
		h.log.Warn("recording delivery id", "delivery_id", deliveryID, "error", err)
	}
}

// handle validates, deduplicates and stores one delivery.
func (h *webhookHandler) handle(r *http.Request) answer {
	deliveryID := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	attrs := []any{"delivery_id", clip(deliveryID), "event", clip(event)}

	body, err := readBody(r, h.cfg.MaxBodyBytes)
	if err != nil {
		h.metrics.hit("parsing_failed")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reply(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.cfg.MaxBodyBytes), attrs)
		}
		return reply(http.StatusBadRequest, "could not read body", attrs)
	}
	if err := verifySignature([]byte(h.cfg.WebhookSecret), body, r.Header.Get("X-Hub-Signature-256"), r.Header.Get("X-Hub-Signature")); err != nil {
		h.metrics.hit("validation_failed")
		return reply(http.StatusUnauthorized, err.Error(), attrs)
	}
	if event == "" || deliveryID == "" {
		h.metrics.hit("parsing_failed")
		return reply(http.StatusBadRequest, "X-GitHub-Event and X-GitHub-Delivery headers are required", attrs)
	}
	if len(deliveryID) > 256 || strings.ContainsFunc(deliveryID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		h.metrics.hit("parsing_failed")
		return reply(http.StatusBadRequest, "X-GitHub-Delivery is not a printable id of at most 256 characters", attrs)
	}
	if err := checkEvent(event); err != nil {
		h.metrics.hit("parsing_failed")
		return reply(http.StatusBadRequest, err.Error(), attrs)
	}
	payload, status, msg := extractPayload(r.Header.Get("Content-Type"), body)
	if status != 0 {
		h.metrics.hit("parsing_failed")
		return reply(status, msg, attrs)
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		h.metrics.hit("parsing_failed")
		return reply(http.StatusBadRequest, "payload is not a JSON object", attrs)
	}
	if err := checkHead(&head); err != nil {
		h.metrics.hit("parsing_failed")
		return reply(http.StatusBadRequest, err.Error(), attrs)
	}
	h.metrics.hit("successful")
	if event == "ping" {
		return reply(http.StatusOK, "pong", attrs)
	}
	attrs = append(attrs, "action", head.Action)
	if h.answerAfterSpool {
		if a, ok := h.spoolFirst(r.Header, deliveryID, event, body, &head, attrs); ok {
			return a
		}
	}
	return h.store1(r.Context(), r.Header, deliveryID, event, body, &head, attrs)
}

// spoolFirst answers a delivery once the spool holds it (written, not
// fsynced: see addUnsynced); the drain stores it on JetStream moments
// later. ok is false when the spool cannot take it (full, or failing): the
// delivery is then stored on JetStream before the answer, as without the
// spool (and counted as refused by a full spool only if that fails too).
func (h *webhookHandler) spoolFirst(hdr http.Header, deliveryID, event string, body []byte, head *payloadHead, attrs []any) (answer, bool) {
	err := h.spool.addUnsynced(&spooledDelivery{DeliveryID: deliveryID, Event: event, Headers: keptHeaders(hdr), ReceivedAt: h.now(),
		Head: head, Body: body})
	switch {
	case err == nil:
		return answer{status: http.StatusAccepted, msg: "accepted", attrs: attrs}, true
	case !errors.Is(err, errSpoolFull):
		h.log.Error("spool failed; storing the delivery on JetStream before answering", append(attrs, "error", err)...)
	}
	return answer{}, false
}

// keptHeaders are the headers of hdr that are part of the delivery.
func keptHeaders(hdr http.Header) http.Header {
	kept := make(http.Header, len(hdr))
	for k, v := range hdr {
		if !notStored[k] {
			kept[k] = v
		}
	}
	return kept
}

// storeOutcome is what storing a delivery came to.
type storeOutcome int

const (
	outcomeStored    storeOutcome = iota // JetStream holds it now
	outcomeDuplicate                     // JetStream held it already (duplicate window)
	outcomeSeen                          // its id was recorded before
)

// stepError is a failed JetStream call while storing a delivery.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// prepared is a delivery ready to publish.
type prepared struct {
	subject string
	env     *events.Envelope
}

// prepare looks a verified delivery's id up and, unless it was stored
// before (nil, nil), puts a large body in the object store and builds its
// event. repo is set once known.
func (h *webhookHandler) prepare(ctx context.Context, hdr http.Header, deliveryID, event string, body []byte, head *payloadHead,
	received time.Time, repo *string) (*prepared, error) {
	seen, err := h.store.Seen(ctx, deliveryID)
	if err != nil {
		return nil, &stepError{"looking up delivery id", err}
	}
	if seen {
		return nil, nil
	}
	var ref *events.BodyRef
	if len(body) > events.InlineBodyLimit {
		if ref, err = h.store.PutBody(ctx, deliveryID, body); err != nil {
			return nil, &stepError{"storing body", err}
		}
		body = nil
	}
	env, err := newDelivery(hdr, deliveryID, event, body, ref, head, received)
	if err != nil {
		return nil, fmt.Errorf("encoding delivery: %w", err)
	}
	if env.Repo != nil {
		*repo = env.Repo.String()
	}
	// The subject comes from what was just parsed: events.Subject would
	// decode the delivery (and its body) again.
	return &prepared{subject: events.GitHubSubject(event, head.Action, env.Repo), env: env}, nil
}

// deliver stores a verified delivery: it looks its id up, puts a large body
// in the object store and publishes the delivery. repo is set once known.
func (h *webhookHandler) deliver(ctx context.Context, hdr http.Header, deliveryID, event string, body []byte, head *payloadHead,
	received time.Time, repo *string) (storeOutcome, error) {
	p, err := h.prepare(ctx, hdr, deliveryID, event, body, head, received, repo)
	if err != nil {
		return 0, err
	}
	if p == nil {
		return outcomeSeen, nil
	}
	dup, err := h.store.Store(ctx, p.subject, p.env)
	if err != nil {
		return 0, &stepError{"publishing delivery", err}
	}
	if dup {
		return outcomeDuplicate, nil
	}
	return outcomeStored, nil
}

func (h *webhookHandler) store1(ctx context.Context, hdr http.Header, deliveryID, event string, body []byte, head *payloadHead, attrs []any) answer {
	// Keep storing even if GitHub hangs up. A body bound for the object
	// store gets time for its transfer on top of the publish timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.PublishTimeout+publishTransferTime(len(body)))
	defer cancel()
	received := h.now()
	var repo string
	out, err := h.deliver(ctx, hdr, deliveryID, event, body, head, received, &repo)
	if repo != "" {
		attrs = append(attrs, "repo", repo)
	}
	var step *stepError
	switch {
	case errors.As(err, &step):
		return h.spoolOr503(hdr, deliveryID, event, body, received, attrs, err)
	case err != nil:
		return reply(http.StatusInternalServerError, "could not encode delivery", append(attrs, "error", err))
	case out == outcomeSeen:
		return reply(http.StatusOK, "delivery already received", attrs)
	case out == outcomeDuplicate:
		return answer{status: http.StatusOK, msg: "delivery already received", attrs: attrs, stored: deliveryID}
	}
	return answer{status: http.StatusAccepted, msg: "accepted", attrs: attrs, stored: deliveryID}
}

// spoolOr503 keeps a delivery JetStream could not store in the local spool,
// when JetStream is unavailable (no leader, no responders, a timeout, the
// connection down) and the spool has room: the delivery is then accepted,
// and stored on JetStream once it is back. Otherwise the answer is 503 and
// GitHub records a failed delivery.
func (h *webhookHandler) spoolOr503(hdr http.Header, deliveryID, event string, body []byte, received time.Time, attrs []any, err error) answer {
	attrs = append(attrs, "error", err)
	if h.spool == nil || !bus.IsUnavailable(err) {
		return reply(http.StatusServiceUnavailable, "message bus unavailable; redeliver later", attrs)
	}
	d := &spooledDelivery{DeliveryID: deliveryID, Event: event, Headers: keptHeaders(hdr), ReceivedAt: received, Body: body}
	if serr := h.spool.add(d); serr != nil {
		if errors.Is(serr, errSpoolFull) {
			h.metrics.spoolFull.Inc()
			return reply(http.StatusServiceUnavailable, "message bus unavailable and spool full; redeliver later", attrs)
		}
		return reply(http.StatusServiceUnavailable, "message bus unavailable and spool failed; redeliver later", append(attrs, "spool_error", serr))
	}
	h.metrics.spooled.Inc()
	return answer{status: http.StatusAccepted, msg: "accepted (spooled)", attrs: attrs, warn: true}
}

// readBody reads a request body of at most limit bytes. A declared length
// within the limit sizes the buffer once, instead of the doublings of
// io.ReadAll (a 5 KB push would take five).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free before its last read
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return buf.Bytes(), err
}

// extractPayload returns the JSON payload of a body by content type, or a
// non-zero status when the content type is not acceptable.
func extractPayload(contentType string, body []byte) ([]byte, int, string) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json or application/x-www-form-urlencoded"
	}
	switch mt {
	case "application/json":
		return body, 0, ""
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil || !form.Has("payload") {
			return nil, http.StatusBadRequest, "form body has no payload field"
		}
		return []byte(form.Get("payload")), 0, ""
	}
	return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json or application/x-www-form-urlencoded"
}

// NewDelivery builds the envelope of a GitHub delivery: the raw body and the
// headers that describe it (hop-by-hop headers and credentials dropped), with the repository
// and PR number read from the payload for the subject and the envelope. The
// delivery id is the envelope id, so JetStream drops a repeated delivery.
func NewDelivery(hdr http.Header, deliveryID, event string, body []byte, now time.Time) (*events.Envelope, error) {
	payload, status, msg := extractPayload(hdr.Get("Content-Type"), body)
	if status != 0 {
		return nil, errors.New(msg)
	}
	if err := checkEvent(event); err != nil {
		return nil, err
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("payload is not a JSON object: %w", err)
	}
	if err := checkHead(&head); err != nil {
		return nil, err
	}
	return newDelivery(hdr, deliveryID, event, body, nil, &head, now)
}

// newDelivery builds the delivery event; with ref set, the body is kept in
// the object store and body is nil.
func newDelivery(hdr http.Header, deliveryID, event string, body []byte, ref *events.BodyRef, head *payloadHead, now time.Time) (*events.Envelope, error) {
	headers := make(map[string]string, len(hdr))
	for k, v := range hdr {
		if !notStored[k] {
			headers[k] = strings.Join(v, ", ")
		}
	}
	meta := events.Meta{ID: deliveryID, Source: "ingress", CorrelationID: deliveryID, Time: now}
	if owner, name, ok := head.repo(); ok {
		meta.Repo = &events.Repo{Owner: owner, Name: name}
	}
	switch {
	case head.PullRequest != nil:
		meta.PR = head.PullRequest.Number
	case head.Issue != nil:
		meta.PR = head.Issue.Number
	case event == "pull_request":
		meta.PR = head.Number
	}
	return events.New(meta, &events.GitHubDelivery{
		DeliveryID: deliveryID,
		Event:      event,
		Action:     head.Action,
		Headers:    headers,
		Body:       body,
		BodyRef:    ref,
		ReceivedAt: now.UTC(),
	})
}

// publishTransferTime is the time storing a body of n bytes may add to the
// publish timeout: none for a body that travels inside its event.
func publishTransferTime(n int) time.Duration {
	if n <= events.InlineBodyLimit {
		return 0
	}
	return bus.TransferTime(int64(n))
}
