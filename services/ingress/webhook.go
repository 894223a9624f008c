package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// deliveryStore is what the webhook handler needs from the message bus.
type deliveryStore interface {
	// Seen reports whether a delivery id was stored before (also days ago).
	Seen(ctx context.Context, deliveryID string) (bool, error)
	// Store publishes the delivery; duplicate is true when JetStream already
	// held it.
	Store(ctx context.Context, env *events.Envelope) (duplicate bool, err error)
	// Remember records the delivery id for later redeliveries.
	Remember(ctx context.Context, deliveryID string) error
	// PutBody keeps a body too large to travel inside the event.
	PutBody(ctx context.Context, deliveryID string, body []byte) (*events.BodyRef, error)
}

// hopByHop headers describe one connection and are not part of the delivery.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
	"Host": true, "Content-Length": true,
}

type webhookHandler struct {
	cfg     Config
	store   deliveryStore
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time
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

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	status, msg, attrs := h.handle(r)
	h.metrics.requests.WithLabelValues(fmt.Sprint(status)).Observe(time.Since(start).Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	} else if status >= 400 {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "webhook "+msg, append(attrs, "status", status)...)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// handle validates, deduplicates and stores one delivery, returning the
// status, a short message and log attributes.
func (h *webhookHandler) handle(r *http.Request) (int, string, []any) {
	deliveryID := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	attrs := []any{"delivery_id", deliveryID, "event", event}

	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		h.metrics.hit("parsing_failed")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.cfg.MaxBodyBytes), attrs
		}
		return http.StatusBadRequest, "could not read body", attrs
	}
	if err := verifySignature([]byte(h.cfg.WebhookSecret), body, r.Header.Get("X-Hub-Signature-256"), r.Header.Get("X-Hub-Signature")); err != nil {
		h.metrics.hit("validation_failed")
		return http.StatusUnauthorized, err.Error(), attrs
	}
	if event == "" || deliveryID == "" {
		h.metrics.hit("parsing_failed")
		return http.StatusBadRequest, "X-GitHub-Event and X-GitHub-Delivery headers are required", attrs
	}
	if len(deliveryID) > 256 || strings.ContainsFunc(deliveryID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		h.metrics.hit("parsing_failed")
		return http.StatusBadRequest, "X-GitHub-Delivery is not a printable id of at most 256 characters", attrs
	}
	payload, status, msg := extractPayload(r.Header.Get("Content-Type"), body)
	if status != 0 {
		h.metrics.hit("parsing_failed")
		return status, msg, attrs
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		h.metrics.hit("parsing_failed")
		return http.StatusBadRequest, "payload is not a JSON object", attrs
	}
	h.metrics.hit("successful")
	if event == "ping" {
		return http.StatusOK, "pong", attrs
	}
	attrs = append(attrs, "action", head.Action)
	return h.store1(r.Context(), r.Header, deliveryID, event, body, &head, attrs)
}

func (h *webhookHandler) store1(ctx context.Context, hdr http.Header, deliveryID, event string, body []byte, head *payloadHead, attrs []any) (int, string, []any) {
	// Keep storing even if GitHub hangs up: once published, the delivery
	// must also be remembered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.PublishTimeout)
	defer cancel()
	seen, err := h.store.Seen(ctx, deliveryID)
	if err != nil {
		return http.StatusServiceUnavailable, "message bus unavailable; redeliver later", append(attrs, "error", err)
	}
	if seen {
		return http.StatusOK, "delivery already received", attrs
	}
	var ref *events.BodyRef
	if len(body) > events.InlineBodyLimit {
		if ref, err = h.store.PutBody(ctx, deliveryID, body); err != nil {
			return http.StatusServiceUnavailable, "message bus unavailable; redeliver later", append(attrs, "error", err)
		}
		body = nil
	}
	env, err := newDelivery(hdr, deliveryID, event, body, ref, head, h.now())
	if err != nil {
		return http.StatusInternalServerError, "could not encode delivery", append(attrs, "error", err)
	}
	if env.Repo != nil {
		attrs = append(attrs, "repo", env.Repo.String())
	}
	dup, err := h.store.Store(ctx, env)
	if err != nil {
		return http.StatusServiceUnavailable, "message bus unavailable; redeliver later", append(attrs, "error", err)
	}
	if err := h.store.Remember(ctx, deliveryID); err != nil {
		// Stored, so the answer is still a success; the duplicate window
		// still catches quick redeliveries.
		h.log.Warn("recording delivery id", "delivery_id", deliveryID, "error", err)
	}
	if dup {
		return http.StatusOK, "delivery already received", attrs
	}
	return http.StatusAccepted, "accepted", attrs
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
// headers that describe it (hop-by-hop headers dropped), with the repository
// and PR number read from the payload for the subject and the envelope. The
// delivery id is the envelope id, so JetStream drops a repeated delivery.
func NewDelivery(hdr http.Header, deliveryID, event string, body []byte, now time.Time) (*events.Envelope, error) {
	payload, status, msg := extractPayload(hdr.Get("Content-Type"), body)
	if status != 0 {
		return nil, errors.New(msg)
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("payload is not a JSON object: %w", err)
	}
	return newDelivery(hdr, deliveryID, event, body, nil, &head, now)
}

// newDelivery builds the delivery event; with ref set, the body is kept in
// the object store and body is nil.
func newDelivery(hdr http.Header, deliveryID, event string, body []byte, ref *events.BodyRef, head *payloadHead, now time.Time) (*events.Envelope, error) {
	headers := make(map[string]string, len(hdr))
	for k, v := range hdr {
		if !hopByHop[k] {
			headers[k] = strings.Join(v, ", ")
		}
	}
	meta := events.Meta{ID: deliveryID, Source: "ingress", CorrelationID: deliveryID, Time: now}
	if head.Repository != nil && head.Repository.Name != "" {
		owner := head.Repository.Owner.Login
		if owner == "" {
			owner = head.Repository.Owner.Name
		}
		meta.Repo = &events.Repo{Owner: owner, Name: head.Repository.Name}
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
