package promoter

import (
	"context"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// A promoter that loses its group lease in the middle of a promotion stops
// writing: another holder takes the lease over while GitHub answers the
// create-tree call, and that attempt makes no commit, branch or PR. The
// entry is retried once the lease is free.
func TestLostGroupLeaseStopsThePromotion(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.cfg.LockTTL = 3 * time.Second
	f.start()
	merge := f.merge(map[string]*string{"source/a/app.yaml": emulator.Content("a: 2\n")})
	origin := f.origin("change-1")
	locks, err := f.conn.JS.KeyValue(context.Background(), events.BucketPromotionLocks)
	if err != nil {
		t.Fatal(err)
	}
	key := hashKey("group", testRepo.String(), groupKey)
	taken := make(chan struct{})
	f.gh.OnNext("POST", "/repos/{owner}/{repo}/git/trees", func() {
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		if _, err := locks.Put(context.Background(), key, []byte(`{"holder":"another-replica","expires":"`+until+`"}`)); err != nil {
			t.Error(err)
		}
		close(taken)
		// GitHub answers slowly; the holder's renewal finds the lease taken.
		time.Sleep(2 * time.Second)
	})
	f.publish(planned(merge, origin, "supersede", "a"), false)
	<-taken

	// Wait until the first attempt has ended: the entry is delivered again
	// (it waits for the lease), or, if the promoter kept writing, its PR
	// is opened.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if opened := payloads[*events.PromotionPROpened](f, events.TypePromotionPROpened); len(opened) > 0 {
			t.Fatalf("the promoter kept writing after losing its group lease: PR #%d opened", opened[0].Number)
		}
		cons, err := f.conn.JS.Consumer(context.Background(), events.StreamPromotion, Consumer)
		if err != nil {
			t.Fatal(err)
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.Delivered.Consumer >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first attempt neither stopped nor finished")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := f.gh.Count("POST /repos/{owner}/{repo}/git/commits"); n != 0 {
		t.Fatalf("%d commits written after the lease was lost", n)
	}
	if prs := f.botPRs(); len(prs) != 0 {
		t.Fatalf("%d PRs opened after the lease was lost", len(prs))
	}

	// The other holder releases the lease: the entry is promoted once.
	if err := locks.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if fin := f.finished(merge, 1); fin.Outcome != events.OutcomeOpened {
		t.Fatalf("entry finished as %s (%s)", fin.Outcome, fin.Error)
	}
	if prs := f.botPRs(); len(prs) != 1 {
		t.Fatalf("%d PRs, want 1", len(prs))
	}
}
