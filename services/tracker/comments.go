package tracker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/tracker/internal/render"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// GitHub is what the tracker does on GitHub: its comment on a change's
// original PR. *githubapi.GitHub is one; its writes go through the shared
// write budget.
type GitHub interface {
	Comment(ctx context.Context, repo events.Repo, number int, body string) (githubapi.PostedComment, error)
	EditComment(ctx context.Context, repo events.Repo, id int64, body string) (githubapi.PostedComment, error)
	Comments(ctx context.Context, repo events.Repo, number int) ([]githubapi.IssueComment, error)
	MinimizeComment(ctx context.Context, repo events.Repo, nodeID string) error
}

// commentRecord is the tracker's comment on one change's original PR, and
// a digest of the body it last wrote.
type commentRecord struct {
	ID     int64  `json:"id"`
	NodeID string `json:"nodeId"`
	Hash   string `json:"hash"`
}

const (
	// leaseTTL is the lease of the comment writer: one replica writes
	// comments, another takes over within this after it dies.
	leaseTTL = 30 * time.Second
	leaseKey = "tracker-comments"
	// retryAfter is when a comment that failed is tried again, unless
	// GitHub said when.
	retryAfter = 10 * time.Second
)

// commenter keeps the comment of every change whose repository asked for
// it in step with the change's journey. Changes the model reports touched
// are written once they have been quiet for CommentDelay, by the replica
// holding the comment lease.
type commenter struct {
	cfg      Config
	gh       GitHub
	botLogin func(context.Context) (string, error)
	texts    *render.Comments
	records  *bus.Records[commentRecord]
	leases   *bus.Leases
	model    *view.Model
	metrics  *metrics
	log      *slog.Logger

	// backlog tells how many events the projection has not handled yet
	// (pending) and is handling (in flight).
	backlog func(ctx context.Context) (pending, inFlight uint64, err error)

	mu    sync.Mutex
	busy  int // journeys taken and being written
	due   map[view.JourneyRef]time.Time
	wake  chan struct{}
	clock func() time.Time
}

func newCommenter(cfg Config, gh GitHub, botLogin func(context.Context) (string, error), texts *render.Comments,
	records *bus.Records[commentRecord], leases *bus.Leases, model *view.Model, m *metrics, log *slog.Logger,
	backlog func(ctx context.Context) (uint64, uint64, error)) *commenter {
	c := &commenter{cfg: cfg, gh: gh, botLogin: botLogin, texts: texts, records: records, leases: leases, model: model,
		metrics: m, log: log, backlog: backlog, due: map[view.JourneyRef]time.Time{}, wake: make(chan struct{}, 1), clock: time.Now}
	model.OnTouched(c.touch)
	return c
}

// touch schedules the journeys' comments CommentDelay from now.
func (c *commenter) touch(refs []view.JourneyRef) {
	at := c.clock().Add(c.cfg.CommentDelay)
	c.mu.Lock()
	for _, r := range refs {
		c.due[r] = at
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *commenter) retry(r view.JourneyRef, after time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.due[r]; !ok { // touched meanwhile: that schedule stands
		c.due[r] = c.clock().Add(after)
	}
}

// takeDue removes and returns the journeys due now, and when the next one
// is due.
func (c *commenter) takeDue() ([]view.JourneyRef, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	next := time.Minute
	var out []view.JourneyRef
	for r, at := range c.due {
		if !at.After(now) {
			out = append(out, r)
			delete(c.due, r)
		} else {
			next = min(next, at.Sub(now))
		}
	}
	c.busy += len(out)
	return out, next
}

// done marks a journey taken by takeDue as handled.
func (c *commenter) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy--
}

// idle reports whether nothing is due or being written.
func (c *commenter) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busy == 0 && len(c.due) == 0
}

// run writes comments while this replica holds the comment lease, once
// the model holds every record and the projection has caught up with the
// stream: comments show settled journeys, so a replay from the start (a
// rebuild, a new installation) does not edit them through every
// intermediate state.
func (c *commenter) run(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ctx.Done():
		return nil
	case <-ready:
	}
	for ctx.Err() == nil {
		pending, inFlight, err := c.backlog(ctx)
		if err == nil && pending == 0 && inFlight == 0 {
			break
		}
		sleep(ctx, 250*time.Millisecond)
	}
	for ctx.Err() == nil {
		lease, err := c.leases.Acquire(ctx, leaseKey, leaseTTL)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, bus.ErrLeaseHeld) {
				c.log.Warn("taking the comment lease", "error", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		c.loop(lease.Context())
		lease.Release()
	}
	return nil
}

func (c *commenter) loop(ctx context.Context) {
	for {
		refs, next := c.takeDue()
		if len(refs) > 0 {
			// A backlog (the projection fell behind) would show journeys
			// half-way: wait for it to be handled.
			if pending, _, err := c.backlog(ctx); err != nil || pending > 0 {
				for _, r := range refs {
					c.retry(r, time.Second)
					c.done()
				}
				refs, next = nil, time.Second
			}
		}
		for _, r := range refs {
			c.handle(ctx, r)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-time.After(next):
		}
	}
}

// handle writes one journey's comment, scheduling a retry when that
// fails for a reason that may pass.
func (c *commenter) handle(ctx context.Context, r view.JourneyRef) {
	defer c.done()
	if ctx.Err() != nil { // the lease was lost: the next holder writes it
		c.retry(r, 0)
		return
	}
	if err := c.write(ctx, r); err != nil {
		c.metrics.comments.WithLabelValues("failed").Inc()
		if bus.IsPermanent(err) {
			c.log.Error("writing the tracker comment; giving up on this version of it", "repo", r.Repo.String(), "pr", r.Number, "error", err)
			return
		}
		after, asked := bus.RetryDelay(err)
		if !asked {
			after = retryAfter
		}
		c.log.Warn("writing the tracker comment; trying again", "repo", r.Repo.String(), "pr", r.Number, "error", err, "retry_in", after.String())
		c.retry(r, after)
	}
}

// write brings the comment of one journey up to date.
func (c *commenter) write(ctx context.Context, r view.JourneyRef) error {
	j, ok := c.model.Journey(r.Repo, r.Number)
	if !ok || !j.Comment {
		return nil
	}
	if c.cfg.CommentMaxAge > 0 && c.clock().Sub(j.Updated) > c.cfg.CommentMaxAge {
		return nil
	}
	body, err := c.texts.Comment(j, c.cfg.pageURL(j.Repo))
	if err != nil {
		return bus.Permanent(err)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	key := state.JourneyKey(r.Repo, r.Number)
	rec, _, err := c.records.Get(ctx, key)
	if err != nil {
		return err
	}
	if rec != nil && rec.Hash == hash {
		return nil
	}
	action := "edited"
	if rec == nil {
		if rec, err = c.adopt(ctx, r); err != nil {
			return err
		}
		action = "adopted"
	}
	if rec != nil {
		posted, err := c.gh.EditComment(ctx, r.Repo, rec.ID, body)
		switch {
		case err == nil:
			c.metrics.comments.WithLabelValues(action).Inc()
			return c.records.Put(ctx, key, &commentRecord{ID: posted.ID, NodeID: posted.NodeID, Hash: hash})
		case !githubapi.IsNotFound(err):
			return err
		}
		action = "replaced" // someone deleted it
	} else {
		action = "created"
	}
	posted, err := c.gh.Comment(ctx, r.Repo, r.Number, body)
	if err != nil {
		return err
	}
	c.metrics.comments.WithLabelValues(action).Inc()
	return c.records.Put(ctx, key, &commentRecord{ID: posted.ID, NodeID: posted.NodeID, Hash: hash})
}

// adopt finds the tracker's comment among the PR's comments when its record
// is gone (a crash between posting and recording, a deleted bucket): the
// newest one the bot wrote is kept, older ones are minimised.
func (c *commenter) adopt(ctx context.Context, r view.JourneyRef) (*commentRecord, error) {
	comments, err := c.gh.Comments(ctx, r.Repo, r.Number)
	if err != nil {
		return nil, err
	}
	bot, err := c.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	var ours []githubapi.IssueComment
	for _, ic := range comments {
		if githubapi.IsTrackerComment(ic.Body) && githubapi.SameLogin(ic.Author, bot) {
			ours = append(ours, ic)
		}
	}
	if len(ours) == 0 {
		return nil, nil
	}
	for _, old := range ours[:len(ours)-1] {
		if err := c.gh.MinimizeComment(ctx, r.Repo, old.NodeID); err != nil {
			c.log.Warn("minimising an older tracker comment", "repo", r.Repo.String(), "pr", r.Number, "comment", old.ID, "error", err)
		}
	}
	keep := ours[len(ours)-1]
	return &commentRecord{ID: keep.ID, NodeID: keep.NodeID}, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
