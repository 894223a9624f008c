package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/e2e"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// burst is one run: the merges made and when.
type burst struct {
	t      *testing.T
	emu    *emulator.Emulator
	conn   *bus.Conn
	set    settings
	merged map[string]time.Time // merge commit -> when the developer merged
	origin map[string]int       // repo -> the developer's PR
	first  time.Time
}

// merge has the developer change workspace/nginx in every repository and
// merge it, set.spacing apart; midway it calls mid (the faults).
func (b *burst) merge(repos []string, mid func()) {
	b.origin = map[string]int{}
	b.first = time.Now()
	for i, repo := range repos {
		if i == len(repos)/2 {
			mid()
		}
		cur, err := b.emu.ReadFile(repo, "main", component)
		if err != nil {
			b.t.Fatal(err)
		}
		res, err := b.emu.OpenChange(repo, emulator.ChangeRequest{Author: developer, Branch: "bump-nginx", Title: "Bump nginx",
			Files: map[string]string{component: cur + "# bumped by the cluster test\n"}, Merge: true})
		if err != nil || !res.Merged {
			b.t.Fatalf("merging in %s: %+v %v", repo, res, err)
		}
		b.merged[res.MergeCommitSHA] = time.Now()
		b.origin[repo] = res.Number
		time.Sleep(b.set.spacing)
	}
}

// botPRs returns the promotion PRs of repo.
func (b *burst) botPRs(repo string) []emulator.PullRequest {
	prs, err := b.emu.PullRequests(repo)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []emulator.PullRequest
	for _, pr := range prs {
		if pr.Author == botLogin {
			out = append(out, pr)
		}
	}
	return out
}

// complete reports whether repo shows the whole chain: the lab and
// staging PR merged, one labelled open PR per prod cluster.
func (b *burst) complete(repo string) bool {
	merged, prod := 0, 0
	for _, pr := range b.botPRs(repo) {
		switch {
		case strings.HasSuffix(pr.Title, "lab and staging") && pr.Merged:
			merged++
		case strings.Contains(pr.Title, "prod") && pr.State == "open" && len(pr.Labels) > 0:
			prod++
		}
	}
	return merged == 1 && prod == 2
}

// waitSettled waits until every repository shows its whole chain, every
// run that started has finished, every webhook was delivered and every
// consumer is idle.
func (b *burst) waitSettled(repos []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), b.set.timeout)
	defer cancel()
	var pending []string
	err := waitFor(ctx, func() (bool, error) {
		pending = pending[:0]
		for _, repo := range repos {
			if !b.complete(repo) {
				pending = append(pending, repo)
			}
		}
		if len(pending) > 0 {
			return false, fmt.Errorf("%d repositories not promoted to every stage", len(pending))
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := b.emu.WaitWebhooks(wctx); err != nil {
			return false, err
		}
		started, finished := b.count(events.TypePromotionRunStarted), b.count(events.TypePromotionRunFinished)
		if started != finished || started < uint64(2*len(repos)) {
			return false, fmt.Errorf("%d runs started, %d finished", started, finished)
		}
		idle, err := bus.Idle(wctx, b.conn.JS)
		if err != nil {
			return false, err
		}
		if !idle {
			return false, errors.New("consumers busy")
		}
		return true, nil
	})
	if err != nil {
		b.t.Errorf("the burst did not settle within %s: %v; pending: %v", b.set.timeout, err, pending)
		return false
	}
	return true
}

// count returns how many events of typ the PROMOTION stream holds.
func (b *burst) count(typ string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := b.conn.JS.Stream(ctx, events.StreamPromotion)
	if err != nil {
		return 0
	}
	info, err := st.Info(ctx, jetstreamSubjects(events.FilterFor(typ)))
	if err != nil {
		return 0
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// check asserts what the run must show: every webhook answered 2xx, one PR
// and one commit per plan entry, no dead letters, no pending status.
func (b *burst) check(repos []string) {
	t := b.t
	// Webhooks of the services' last writes (the tracker editing its
	// comment) may still be on their way: each must be answered first.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.emu.WaitWebhooks(ctx); err != nil {
		t.Errorf("webhooks still unanswered: %v", err)
	}
	var failed []string
	// GitHub does not retry: each webhook must be answered 2xx at its
	// one attempt, the node loss included (nothing redelivers here).
	attempts := map[string]int{}
	for _, d := range b.emu.Deliveries() {
		attempts[d.GUID]++
		if d.StatusCode < 200 || d.StatusCode > 299 {
			failed = append(failed, fmt.Sprintf("%s %s.%s: %d %s", d.GUID, d.Event, d.Action, d.StatusCode, d.Error))
		}
	}
	for guid, n := range attempts {
		if n > 1 {
			failed = append(failed, fmt.Sprintf("%s: %d attempts, want 1", guid, n))
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d webhooks not answered 2xx:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	for _, repo := range repos {
		prs := b.botPRs(repo)
		var titles []string
		for _, pr := range prs {
			titles = append(titles, pr.Title)
		}
		sort.Strings(titles)
		if len(prs) != 3 || !strings.HasSuffix(titles[0], "lab and staging") ||
			!strings.HasSuffix(titles[1], "prod eu-1") || !strings.HasSuffix(titles[2], "prod us-1") {
			t.Errorf("%s: promotion PRs %q, want one each to lab and staging, prod eu-1, prod us-1", repo, titles)
		}
		b.checkOneCommit(repo, prs)
		heads := []string{}
		if o, err := b.emu.GetPullRequest(repo, b.origin[repo]); err == nil {
			heads = append(heads, o.HeadSHA)
		}
		for _, pr := range prs {
			heads = append(heads, pr.HeadSHA)
		}
		for _, sha := range heads {
			if state := b.latestStatus(repo, sha); state == "pending" {
				t.Errorf("%s: commit %s left with a pending %s status", repo, sha, githubapi.StatusContext)
			}
		}
	}
	if n, err := bus.DeadLetters(context.Background(), b.conn.JS); err != nil || n != 0 {
		t.Errorf("dead letters: %d (%v)", n, err)
	}
	b.checkStreams()
	if n := b.emu.SecondaryLimited(); n != 0 {
		t.Errorf("the emulator refused %d writes over the write budget (%d a minute): the replicas did not share it", n, b.set.writesPerMinute())
	}
	for _, repo := range repos {
		v, err := e2e.PromiseViolations(b.emu, repo, botLogin)
		if err != nil {
			t.Fatalf("%s: checking the promotion promise: %v", repo, err)
		}
		for _, x := range v {
			t.Errorf("%s: promotion promise broken: %s", repo, x)
		}
	}
}

// checkStreams asserts that every stream, KV bucket and object store has 3
// replicas (TELEFONISTKA_STREAM_REPLICAS) and that the buckets are read from
// their leader (a direct get from a lagging follower answers with an older
// record).
func (b *burst) checkStreams() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names := 0
	for info := range b.conn.JS.ListStreams(ctx).Info() {
		names++
		c := info.Config
		if c.Replicas != 3 {
			b.t.Errorf("stream %s: %d replicas, want 3", c.Name, c.Replicas)
		}
		if (strings.HasPrefix(c.Name, "KV_") || strings.HasPrefix(c.Name, "OBJ_")) && c.AllowDirect {
			b.t.Errorf("bucket %s answers direct gets from any replica (allow_direct), so a read may miss a write", c.Name)
		}
	}
	if names == 0 {
		b.t.Error("no streams listed")
	}
}

// checkOneCommit asserts that each promotion PR holds one commit: its head's
// parent is on the default branch's first-parent history. (Counting the
// commits created through the API would not do: a promoter killed between
// creating a commit and its branch leaves an unreferenced commit behind,
// which a retry replaces.)
func (b *burst) checkOneCommit(repo string, prs []emulator.PullRequest) {
	def, err := b.emu.DefaultBranch(repo)
	if err != nil {
		b.t.Fatal(err)
	}
	mainline := map[string]bool{}
	for sha := def; sha != ""; {
		c, err := b.emu.GetCommit(repo, sha)
		if err != nil {
			b.t.Fatal(err)
		}
		mainline[c.SHA] = true
		sha = ""
		if len(c.Parents) > 0 {
			sha = c.Parents[0]
		}
	}
	for _, pr := range prs {
		c, err := b.emu.GetCommit(repo, pr.HeadSHA)
		if err != nil {
			b.t.Fatal(err)
		}
		if len(c.Parents) != 1 || !mainline[c.Parents[0]] {
			b.t.Errorf("%s: promotion PR #%d (%s) holds more than one commit (head %s, parents %v)", repo, pr.Number, pr.Title, pr.HeadSHA, c.Parents)
		}
	}
}

func (b *burst) latestStatus(repo, sha string) string {
	state, err := e2e.LatestStatus(b.emu, repo, sha)
	if err != nil {
		b.t.Fatal(err)
	}
	return state
}

// figures measures the run from the PROMOTION stream's timestamps and the
// emulator's counters.
func (b *burst) figures(repos []string, f faultReport) string {
	// Count webhooks once answered (the services' last writes may have
	// sent more since the check).
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	if err := b.emu.WaitWebhooks(wctx); err != nil {
		b.t.Errorf("webhooks still unanswered: %v", err)
	}
	wcancel()
	botMerged := map[string]time.Time{} // the bot's merge commit -> when
	type opened struct {
		merge string
		at    time.Time
	}
	var opens []opened
	for _, m := range streamMessages(b.t, b.conn, events.StreamPromotion) {
		env, err := events.Decode(m.Data())
		if err != nil {
			continue
		}
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		switch env.Type {
		case events.TypePromotionMerged:
			var ev events.PromotionMerged
			if env.DecodeData(&ev) == nil {
				botMerged[ev.MergedAs] = meta.Timestamp
			}
		case events.TypePromotionPROpened:
			var ev events.PromotionPROpened
			if env.DecodeData(&ev) == nil {
				opens = append(opens, opened{merge: ev.MergeCommit, at: meta.Timestamp})
			}
		}
	}
	var lat []time.Duration
	last := b.first
	for _, o := range opens {
		start, ok := b.merged[o.merge]
		if !ok {
			start, ok = botMerged[o.merge]
		}
		if ok {
			lat = append(lat, o.at.Sub(start))
		}
		if o.at.After(last) {
			last = o.at
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return percentile(lat, p) }
	window := last.Sub(b.first)
	var writes int64
	for key, n := range b.emu.Counters() {
		if method, _, _ := strings.Cut(key, " "); method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE" {
			writes += n
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&sb, "| repositories, merges | %d, %d (%s apart) |\n", len(repos), len(repos), b.set.spacing)
	deliveries := b.emu.Deliveries()
	answer := make([]time.Duration, len(deliveries))
	for i, d := range deliveries {
		answer[i] = time.Duration(d.DurationMS * float64(time.Millisecond))
	}
	slices.Sort(answer)
	fmt.Fprintf(&sb, "| webhooks, answered 2xx at the first (only) attempt, answered 503 | %d, %d, %d |\n", len(deliveries), countOK(deliveries), countStatus(deliveries, 503))
	fmt.Fprintf(&sb, "| accepted into an ingress spool, then stored from it | %d, %d |\n", f.spool.spooled, f.spool.drained)
	if !f.leaderless.empty() {
		fmt.Fprintf(&sb, "| GITHUB stream without a leader after the kill | %s |\n", f.leaderless.to.Sub(f.leaderless.from).Round(100*time.Millisecond))
	}
	fmt.Fprintf(&sb, "| webhook answer time p50 / p99 / max | %s / %s / %s |\n", percentile(answer, 0.50).Round(time.Millisecond),
		percentile(answer, 0.99).Round(time.Millisecond), percentile(answer, 1).Round(time.Millisecond))
	fmt.Fprintf(&sb, "| promotion PRs opened | %d (%d per merge) |\n", len(opens), len(opens)/max(len(repos), 1))
	fmt.Fprintf(&sb, "| first merge to last promotion PR | %s |\n", window.Round(100*time.Millisecond))
	fmt.Fprintf(&sb, "| throughput | %.1f promotion PRs a minute |\n", float64(len(opens))/window.Minutes())
	fmt.Fprintf(&sb, "| merge to PR p50 / p99 / max | %s / %s / %s |\n", pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond))
	fmt.Fprintf(&sb, "| GitHub writes by the bot: in all / in the busiest 60 s | %d / %d |\n",
		writes, b.emu.MostWritesInWindow()["user:"+botLogin])
	fmt.Fprintf(&sb, "| write budget of the run (all replicas) | GITHUB_WRITE_RATE=%d/s, GITHUB_WRITE_BURST=%d: at most %d a minute |\n", b.set.writeRate, b.set.writeBurst, b.set.writesPerMinute())
	fmt.Fprintf(&sb, "| NATS call deadlines | TELEFONISTKA_NATS_TIMEOUT=%s, INGRESS_PUBLISH_TIMEOUT=%s |\n", b.set.natsCall, b.set.publish)
	if f.node != "" {
		fmt.Fprintf(&sb, "| killed (SIGKILL) %s after the first merge, restarted %s later | NATS %s (%s leader); %s |\n",
			f.at.Sub(b.first).Round(100*time.Millisecond), f.back.Sub(f.at).Round(100*time.Millisecond), f.node, f.led, strings.Join(f.services, ", "))
	}
	return sb.String()
}

// percentile returns the p-th percentile (0 to 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func countStatus(ds []emulator.Delivery, status int) int {
	n := 0
	for _, d := range ds {
		if d.StatusCode == status {
			n++
		}
	}
	return n
}

func countOK(ds []emulator.Delivery) int {
	n := 0
	for _, d := range ds {
		if d.StatusCode >= 200 && d.StatusCode <= 299 {
			n++
		}
	}
	return n
}

func jetstreamSubjects(filter string) jetstream.StreamInfoOpt {
	return jetstream.WithSubjectFilter(filter)
}
