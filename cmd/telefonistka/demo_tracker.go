package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// demoCommentDelay is how quiet a change stays before the tracker edits its
// comment in the demo (TRACKER_COMMENT_DELAY), so the comment follows the
// chain closely.
const demoCommentDelay = "200ms"

// followComment shows the tracker's comment on the developer's PR as the
// chain stands, then merges the first prod PR as a reviewer would and shows
// the comment again, edited in place. It returns the prod PR still open.
func followComment(ctx context.Context, js jetstream.JetStream, emu *emulator.Emulator, out io.Writer, origin int,
	prod []int, pageURL string, timeout time.Duration) (int, error) {
	start := time.Now()
	fmt.Fprintf(out, "\nThe tracker's comment on #%d, edited in place as the change moves on (every change and environment: %s):\n",
		origin, pageURL)
	want := map[int]string{}
	for _, n := range prod {
		want[n] = "open"
	}
	id, err := showComment(ctx, emu, out, origin, want, 0, start, timeout)
	if err != nil || len(prod) < 2 {
		return 0, err
	}
	// The prod PRs open concurrently: the one to merge is found by title.
	eu, other := prod[0], prod[1]
	if pr, err := emu.GetPullRequest(demoRepo, other); err == nil && strings.Contains(pr.Title, "eu-1") {
		eu, other = other, eu
	}
	fmt.Fprintf(out, "%s merges #%d (prod eu-1)\n", demoDeveloper, eu)
	if _, err := emu.MergePullRequest(demoRepo, eu, demoDeveloper); err != nil {
		return 0, err
	}
	if _, err := waitSettled(ctx, js, emu, timeout); err != nil {
		return 0, err
	}
	want[eu] = "merged"
	if _, err := showComment(ctx, emu, out, origin, want, id, start, timeout); err != nil {
		return 0, err
	}
	return other, nil
}

// showComment waits until the tracker's comment on origin shows each PR of
// want in its state ("open", "merged"), then prints its headline and rows.
// A comment other than the one with id (when not 0) is an error: the
// tracker edits one comment.
func showComment(ctx context.Context, emu *emulator.Emulator, out io.Writer, origin int, want map[int]string,
	id int64, start time.Time, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		comments, err := emu.Comments(demoRepo, origin)
		if err != nil {
			return 0, err
		}
		var ours []emulator.Comment
		for _, c := range comments {
			if githubapi.IsTrackerComment(c.Body) && c.Author == demoBot {
				ours = append(ours, c)
			}
		}
		if len(ours) > 1 || len(ours) == 1 && id != 0 && ours[0].ID != id {
			return 0, fmt.Errorf("the tracker wrote %d comments on #%d, not one edited in place", len(ours), origin)
		}
		if len(ours) == 1 {
			headline, rows := commentTable(ours[0].Body)
			if showsAll(rows, want) {
				fmt.Fprintf(out, "%5.1fs  %s\n", time.Since(start).Seconds(), headline)
				for _, r := range rows {
					fmt.Fprintf(out, "         stage %s  %-16s %-4s %s\n", r[0], r[1], r[2], r[3])
				}
				return ours[0].ID, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the tracker's comment on #%d did not show the chain within %s", origin, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// commentTable reads the tracker comment's headline and, per row, the
// stage, where it goes (the description, or the targets), the PR and the
// state.
func commentTable(body string) (string, [][4]string) {
	var headline string
	var rows [][4]string
	for _, line := range strings.Split(body, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			if _, after, found := strings.Cut(h, ": "); found {
				headline = after
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 || cells[0] == "stage" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		to, _, _ := strings.Cut(cells[2], " (")
		rows = append(rows, [4]string{cells[0], strings.Trim(to, "`"), cells[4], cells[5]})
	}
	return headline, rows
}

// showsAll reports whether every PR of want is in a row in its state, with
// its Argo CD diff (argodiff comments every promotion PR of the sample
// repository).
func showsAll(rows [][4]string, want map[int]string) bool {
	for n, state := range want {
		found := false
		for _, r := range rows {
			if r[2] == "#"+strconv.Itoa(n) && strings.Contains(r[3], state) && strings.Contains(r[3], "Argo CD:") {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return len(rows) > 0
}

// waitSettled waits until the chain has come to rest again (chainSettled).
func waitSettled(ctx context.Context, js jetstream.JetStream, emu *emulator.Emulator, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		settled, err := chainSettled(ctx, js, emu)
		if err != nil || settled {
			return settled, err
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the promotion chain did not come to rest within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
