package tracker

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// chain publishes a change's journey in two parts: up to the prod PRs
// opened, then the EU one merged by a person.
func chainParts(n int, component string, comment bool) (first, rest []*events.Envelope) {
	w := scenario.NewWriter()
	w.Chain(n, component, comment, true)
	last := len(w.Events) - 1 // the prod EU merge
	return w.Events[:last], w.Events[last:]
}

func TestProjectsAJourneyAndEditsOneComment(t *testing.T) {
	h := newHarness(t)
	h.issues(4)
	h.start()
	first, rest := chainParts(1, "nginx", true)
	h.publish(first...)
	h.settle()

	var j view.Journey
	h.getJSON("/tracker/api/v1/repos/acme/gitops/changes/1", &j)
	if j.State != view.JourneyWaiting || j.Done != 1 || j.Total != 3 || len(j.Stages) != 2 || !j.Comment {
		t.Fatalf("journey after the prod PRs opened: %+v", j)
	}
	comments := h.comments(1)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "| 2 | `clusters/staging/c1/` | `clusters/prod/eu-1/` | nginx | #3 | ⏳ open, waiting for review |") ||
		!strings.Contains(comments[0].Body, "(https://telefonistka.example.com/tracker/acme/gitops)") {
		t.Fatalf("tracker comments on #1: %+v", comments)
	}
	id := comments[0].ID

	h.publish(rest...)
	h.settle()
	h.getJSON("/tracker/api/v1/repos/acme/gitops/changes/1", &j)
	if j.Done != 2 {
		t.Fatalf("journey after prod EU merged: %+v", j)
	}
	comments = h.comments(1)
	if len(comments) != 1 || comments[0].ID != id || !strings.Contains(comments[0].Body, "| #3 | ✅ merged |") {
		t.Fatalf("the comment was not edited in place: %+v", comments)
	}
	// The promotion PRs get no comment of their own.
	for n := 2; n <= 4; n++ {
		if c := h.comments(n); len(c) != 0 {
			t.Errorf("PR #%d has tracker comments: %+v", n, c)
		}
	}

	var env view.Environments
	h.getJSON("/tracker/api/v1/repos/acme/gitops/environments?path=clusters/prod/eu-1", &env)
	if len(env.Targets) != 1 || env.Targets[0].Cells[0].Current == nil || env.Targets[0].Cells[0].Current.PR != 3 {
		t.Fatalf("prod EU: %+v", env)
	}
}

// A repository without promotionTrackerComment gets no comment, and its
// change is still tracked.
func TestNoCommentWithoutTheKey(t *testing.T) {
	h := newHarness(t)
	h.issues(4)
	h.start()
	first, _ := chainParts(1, "nginx", false)
	h.publish(first...)
	h.settle()
	var j view.Journey
	h.getJSON("/tracker/api/v1/repos/acme/gitops/changes/1", &j)
	if j.Comment || j.Total != 3 {
		t.Fatalf("journey: %+v", j)
	}
	if c := h.comments(1); len(c) != 0 {
		t.Fatalf("comments without the key: %+v", c)
	}
}

// Deleting the tracker's bucket and starting again replays the stream
// from the start and rebuilds exactly the same records.
func TestRebuildFromTheStreamsGivesTheSameState(t *testing.T) {
	h := newHarness(t)
	h.issues(40)
	h.start()
	w := scenario.NewWriter()
	scenario.Sample(w)
	h.publish(w.Events...)
	h.settle()
	before := h.snapshot()
	if len(before) < 20 {
		t.Fatalf("only %d records", len(before))
	}
	commentsBefore := h.comments(10)

	h.stop()
	if err := h.conn.JS.DeleteKeyValue(context.Background(), events.BucketTracker); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.settle()
	after := h.snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s differs after the rebuild:\n%s\nwas\n%s", k, after[k], v)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared in the rebuild", k)
		}
	}
	// The comments were already right: the rebuild edits nothing.
	if got := h.comments(10); len(got) != 1 || got[0].UpdatedAt != commentsBefore[0].UpdatedAt {
		t.Errorf("comments after the rebuild: %+v, before: %+v", got, commentsBefore)
	}
}

// The comment's record lost (a crash between posting and recording, a
// deleted bucket): the tracker finds its comment on the PR and edits it,
// and minimises any older copy; a comment someone deleted is posted again.
func TestCommentAdoptedOrReplaced(t *testing.T) {
	h := newHarness(t)
	h.issues(4)
	// An older tracker comment, as if posted twice before a crash.
	if _, err := h.emu.Comment(scenario.Repo.String(), 1, bot, "<!-- telefonistka_tag -->\n<!-- telefonistka_tracker -->\nold"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.emu.Comment(scenario.Repo.String(), 1, bot, "<!-- telefonistka_tag -->\n<!-- telefonistka_tracker -->\nnewer"); err != nil {
		t.Fatal(err)
	}
	// A person quoting the comment is not the tracker's.
	if _, err := h.emu.Comment(scenario.Repo.String(), 1, "alice", "<!-- telefonistka_tag -->\n<!-- telefonistka_tracker -->\nquote"); err != nil {
		t.Fatal(err)
	}
	h.start()
	first, rest := chainParts(1, "nginx", true)
	h.publish(first...)
	h.settle()
	all, _ := h.emu.Comments(scenario.Repo.String(), 1)
	if len(all) != 3 || !all[0].Minimized || all[1].Minimized || !strings.Contains(all[1].Body, "Promotion of #1") ||
		all[2].Body != "<!-- telefonistka_tag -->\n<!-- telefonistka_tracker -->\nquote" {
		t.Fatalf("comments after adoption: %+v", all)
	}

	// Someone deletes it: the next change of the journey posts it again.
	if code := h.deleteComment(all[1].ID); code != http.StatusNoContent {
		t.Fatalf("deleting the comment: %d", code)
	}
	h.publish(rest...)
	h.settle()
	got := h.comments(1)
	if len(got) != 1 || got[0].ID == all[1].ID || !strings.Contains(got[0].Body, "| #3 | ✅ merged |") {
		t.Fatalf("comments after the deletion: %+v", got)
	}
}

// Two replicas sharing the consumer project the events into the same
// records as one process in memory: every record merges whatever order its
// facts come in, and each replica's memory of the records it wrote only
// saves reads (a record the other replica changed fails the
// compare-and-set and is read again).
func TestTwoReplicasProjectWhatOneWould(t *testing.T) {
	h := newHarness(t)
	h.cfg.Comments = false
	h.start()
	second, err := NewService(context.Background(), Deps{Config: h.cfg, Conn: h.srv.Connect(), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	w := scenario.NewWriter()
	w.Fleet(60, 7)
	h.publish(w.Events...)
	h.settle()

	mem := state.NewMem()
	for _, env := range w.Events {
		f, err := state.FromEvent(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := mem.Tables().Apply(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{}
	for _, recs := range []map[string]any{anyRecords(mem.PRs.Records()), anyRecords(mem.Runs.Records()),
		anyRecords(mem.Entries.Records()), anyRecords(mem.Journeys.Records()), anyRecords(mem.Cells.Records())} {
		for k, v := range recs {
			b, _ := json.Marshal(v)
			want[k] = string(b)
		}
	}
	got := h.snapshot()
	delete(got, metaKey)
	if len(got) != len(want) {
		t.Errorf("%d records, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s:\n%s\nwant\n%s", k, got[k], v)
		}
	}
}

func anyRecords[T any](in map[string]*T) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// The process is not ready until the model holds every record, so pages
// never show a half-loaded projection.
func TestNotReadyUntilTheModelHoldsEveryRecord(t *testing.T) {
	h := newHarness(t)
	health := &bus.Health{}
	svc, err := NewService(context.Background(), Deps{Config: Config{Retention: time.Hour, Concurrency: 1}, Conn: h.conn,
		Log: quietLog(), Health: health})
	if err != nil {
		t.Fatal(err)
	}
	if health.Err() == nil {
		t.Error("ready before the model was loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the model was not loaded")
	}
	if err := health.Err(); err != nil {
		t.Errorf("not ready once loaded: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
