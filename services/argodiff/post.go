package argodiff

import (
	"context"
	"fmt"
	"strconv"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/comment"
)

// tagReserve is kept free in every comment for its run tag.
const tagReserve = 256

// runTag ends each comment of a run, so a redelivery finds a comment an
// earlier delivery posted but did not live to record.
func runTag(runID, part string) string {
	return "\n<!-- telefonistka-argodiff run=" + runID + " part=" + part + " -->\n"
}

// post comments the blocks (nothing when there is none), after the drift
// service minimised the PR's earlier comments, and returns the comment ids.
func (d *differ) post(ctx context.Context, blocks []comment.Component) ([]int64, error) {
	if len(blocks) == 0 {
		return nil, nil
	}
	bodies, err := d.s.texts.Bodies(blocks, d.checkbox(blocks), d.run.HeadBranch, comment.MaxBytes-tagReserve)
	if err != nil {
		return nil, err
	}
	if ok, err := d.waitMinimized(ctx); err != nil || !ok {
		return nil, err
	}
	ids := make([]int64, 0, len(bodies))
	for i, body := range bodies {
		id, err := d.postOnce(ctx, "diff-"+strconv.Itoa(i+1), body)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// waitMinimized waits until the drift service minimised the PR's earlier
// bot comments for this run, so it cannot hide this run's comments. It
// returns false when a newer run replaced this one.
func (d *differ) waitMinimized(ctx context.Context) (bool, error) {
	waitCtx, cancel := context.WithTimeout(ctx, d.s.cfg.MinimizedTimeout)
	defer cancel()
	rec, err := d.s.runs.WaitMinimized(waitCtx, d.run.key(), d.run.ID)
	if err != nil {
		return false, err
	}
	if rec == nil {
		d.log.Info("a newer run for this head replaced this one; not commenting")
		return false, nil
	}
	return true, nil
}

// postOnce posts body as part of the run unless it was posted before: it
// is in the run record, or (on a redelivery) on the PR with the part's run
// tag. The comment is recorded in the run record.
func (d *differ) postOnce(ctx context.Context, part, body string) (int64, error) {
	rec, _, err := d.s.runs.Get(ctx, d.run.key())
	if err != nil {
		return 0, err
	}
	if rec != nil && rec.RunID == d.run.ID {
		if c, ok := rec.Comment(Checker, part); ok {
			return c.ID, nil
		}
	}
	tag := runTag(d.run.ID, part)
	var id int64
	var nodeID string
	if d.msg.Delivery > 1 {
		found, err := d.api.findComment(ctx, d.run.PR, tag)
		if err != nil {
			return 0, err
		}
		if found != nil {
			id, nodeID = found.ID, found.NodeID
		}
	}
	if id == 0 {
		c, err := d.api.comment(ctx, d.run.PR, body+tag)
		if err != nil {
			return 0, fmt.Errorf("posting the Argo CD diff comment: %w", err)
		}
		id, nodeID = c.ID, c.NodeID
	}
	rc := events.RunComment{Checker: Checker, Part: part, ID: id, NodeID: nodeID}
	if _, err := d.s.runs.Modify(ctx, d.run.key(), d.run.ID, func(r *events.PRCheckRun) { r.AddComment(rc) }); err != nil {
		return 0, err
	}
	return id, nil
}

// checkbox reports whether the comment offers the deploy-from-branch
// checkbox: allowSyncfromBranchPathRegex is set and some component it
// matches has an existing application not already synced from the branch.
func (d *differ) checkbox(blocks []comment.Component) bool {
	re := d.cfg.ArgoCD.AllowSyncFromBranchPathRegex
	if re == nil || d.run.HeadBranch == "" {
		return false
	}
	for _, b := range blocks {
		if re.MatchString(b.Path) && b.App != "" && !b.Temporary && b.Result != comment.ResultSynced {
			return true
		}
	}
	return false
}
