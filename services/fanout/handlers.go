package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/fanout/internal/forward"
	"github.com/telefonistka/telefonistka/services/fanout/internal/targets"
)

// source is the envelope Source of fan-out events.
const source = "fanout"

// handlePush turns a push to the default branch into one job per endpoint.
// Job IDs derive from the delivery id and the URL, so handling the same
// push again publishes nothing new within the duplicate window.
func (s *Service) handlePush(ctx context.Context, m *bus.Message) error {
	var d events.GitHubDelivery
	if err := m.Env.DecodeData(&d); err != nil {
		return bus.Permanent(err)
	}
	p, err := parsePush(&d)
	if err != nil {
		return bus.Permanent(fmt.Errorf("delivery %s: %w", d.DeliveryID, err))
	}
	log := m.Log.With("delivery_id", d.DeliveryID, "ref", p.Ref, "commit", p.After)
	if !p.forwardable() {
		log.Debug("push is not an update of the default branch; not forwarded", "default_branch", p.DefaultBranch)
		return nil
	}
	if len(p.Files) == 0 {
		log.Debug("push changed no files; nothing to forward")
		return nil
	}
	repo := p.Repo
	if m.Env.Repo != nil {
		repo = *m.Env.Repo
	}
	cfg, err := s.configs.get(ctx, repo, p.After)
	if err != nil {
		return err
	}
	sel := targets.Select(cfg, p.Files, s.cfg.Policy())
	for _, r := range sel.Rejected {
		s.metrics.rejected(r.URL)
		log.Warn("endpoint refused; not called", "url", targets.Redact(r.URL), "reason", r.Reason)
		err := s.publish(ctx, m.Env, events.DeriveID(events.TypeFanoutRejected, d.DeliveryID, r.URL), &repo,
			&events.FanoutRejected{DeliveryID: d.DeliveryID, URL: targets.Redact(r.URL), Commit: p.After, Reason: "URL " + r.Reason})
		if err != nil {
			return err
		}
	}
	for _, u := range sel.Accepted {
		job := &events.FanoutRequested{
			DeliveryID:       d.DeliveryID,
			URL:              u,
			DeliveryStream:   events.StreamGitHub,
			DeliverySequence: m.StreamSeq,
			Commit:           p.After,
			SkipTLSVerify:    cfg.WhProxtSkipTLSVerifyUpstream,
		}
		if err := s.publish(ctx, m.Env, jobID(d.DeliveryID, u), &repo, job); err != nil {
			return err
		}
	}
	if len(sel.Accepted)+len(sel.Rejected) > 0 {
		log.Info("push fanned out", "files", len(p.Files), "endpoints", len(sel.Accepted), "rejected", len(sel.Rejected))
	}
	return nil
}

// jobID is the ID of the job forwarding delivery to url.
func jobID(delivery, url string) string {
	return events.DeriveID(events.TypeFanoutRequested, delivery, url)
}

// handleJob makes one attempt to forward a delivery to one endpoint. A
// retryable failure before the last attempt asks JetStream to redeliver
// the job after the backoff (or the endpoint's Retry-After); the last
// attempt and final answers are recorded as fanout.failed.
func (s *Service) handleJob(ctx context.Context, m *bus.Message) error {
	var job events.FanoutRequested
	if err := m.Env.DecodeData(&job); err != nil {
		return bus.Permanent(err)
	}
	attempt := int(m.Delivery)
	// Logs and outcome events name the URL without its secrets; only the
	// job itself carries it whole.
	shown := targets.Redact(job.URL)
	log := m.Log.With("delivery_id", job.DeliveryID, "url", shown, "attempt", attempt)
	if reason := targets.Check(job.URL, s.cfg.Policy()); reason != "" {
		// The allowlist changed since the job was made.
		s.metrics.rejected(job.URL)
		log.Warn("endpoint refused; not called", "reason", reason)
		s.record(ctx, m.Env, log, &events.FanoutRejected{DeliveryID: job.DeliveryID, URL: shown, Commit: job.Commit, Reason: "URL " + reason})
		return nil
	}
	d, err := s.deliveries.get(ctx, job.DeliveryStream, job.DeliverySequence, job.DeliveryID)
	if errors.Is(err, errDeliveryGone) {
		log.Error("cannot forward: the original delivery is gone", "error", err)
		s.record(ctx, m.Env, log, &events.FanoutFailed{DeliveryID: job.DeliveryID, URL: shown,
			Reason: events.FanoutFailedDeliveryGone, Error: err.Error(), Attempts: attempt - 1})
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the delivery to forward: %w", err)
	}

	start := time.Now()
	o := s.client.Send(ctx, forward.Request{URL: job.URL, Headers: d.Headers, Body: d.Body, SkipTLSVerify: job.SkipTLSVerify})
	s.metrics.attempt(job.URL, o)
	log = log.With("status", o.StatusCode, "duration", time.Since(start).String())
	switch {
	case o.Delivered():
		log.Info("push forwarded")
		s.record(ctx, m.Env, log, &events.FanoutDelivered{DeliveryID: job.DeliveryID, URL: shown,
			StatusCode: o.StatusCode, Attempts: attempt})
		return nil
	case o.Retryable && ctx.Err() != nil:
		// Cut off by shutdown or the event deadline: not the endpoint's
		// verdict, so try again.
		return fmt.Errorf("forwarding interrupted: %w", o.Err)
	case o.Retryable && attempt < s.cfg.MaxAttempts:
		return bus.RetryAfter(o.Err, forward.RetryDelay(o, s.cfg.RetryBase, attempt))
	}
	reason := events.FanoutFailedStatus
	if o.Retryable {
		reason = events.FanoutFailedAttempts
	}
	log.Error("forwarding failed; giving up", "error", o.Err, "reason", reason)
	s.record(ctx, m.Env, log, &events.FanoutFailed{DeliveryID: job.DeliveryID, URL: shown, Reason: reason,
		StatusCode: o.StatusCode, Error: o.Err.Error(), Attempts: attempt})
	return nil
}

// record publishes the outcome of a job. The forward already happened, so
// a failure to record it is logged rather than retried: retrying would
// call the endpoint again.
func (s *Service) record(ctx context.Context, job *events.Envelope, log *slog.Logger, p events.Payload) {
	id := events.DeriveID(p.EventType(), job.ID)
	if err := s.publish(ctx, job, id, job.Repo, p); err != nil {
		log.Error("recording the forwarding outcome", "event_type", p.EventType(), "error", err)
	}
}

// publishTimeout bounds one publish, also after the handler's context ended.
const publishTimeout = 10 * time.Second

func (s *Service) publish(ctx context.Context, cause *events.Envelope, id string, repo *events.Repo, p events.Payload) error {
	meta := events.Follow(cause, source)
	meta.ID, meta.Repo, meta.PR = id, repo, 0
	env, err := events.New(meta, p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if _, err := s.pub.Publish(ctx, env); err != nil {
		return fmt.Errorf("publishing %s: %w", p.EventType(), err)
	}
	return nil
}
