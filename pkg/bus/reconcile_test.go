package bus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestReconcileNeverLowersWhatAnOperatorRaised(t *testing.T) {
	day := 24 * time.Hour
	want := jetstream.StreamConfig{Name: "GITHUB", Description: "deliveries", Subjects: []string{"github.>"},
		Replicas: 1, MaxAge: 7 * day, Duplicates: 10 * time.Minute}
	cases := []struct {
		name   string
		cur    func(*jetstream.StreamConfig)
		update bool
		check  func(t *testing.T, next jetstream.StreamConfig)
		kept   []string
	}{
		{name: "as created", cur: func(*jetstream.StreamConfig) {}},
		{name: "raised by an operator", cur: func(c *jetstream.StreamConfig) {
			c.Replicas, c.MaxAge, c.Duplicates = 3, 30*day, time.Hour
		}, kept: []string{"replicas", "max_age", "duplicate_window"}, check: func(t *testing.T, next jetstream.StreamConfig) {
			if next.Replicas != 3 || next.MaxAge != 30*day || next.Duplicates != time.Hour {
				t.Errorf("lowered: %+v", next)
			}
		}},
		{name: "no age limit kept", cur: func(c *jetstream.StreamConfig) { c.MaxAge = 0 }, kept: []string{"max_age"},
			check: func(t *testing.T, next jetstream.StreamConfig) {
				if next.MaxAge != 0 {
					t.Errorf("an unlimited age became %s", next.MaxAge)
				}
			}},
		{name: "below what we need is raised", cur: func(c *jetstream.StreamConfig) { c.MaxAge, c.Duplicates = day, time.Minute },
			update: true, check: func(t *testing.T, next jetstream.StreamConfig) {
				if next.MaxAge != 7*day || next.Duplicates != 10*time.Minute {
					t.Errorf("not raised: %+v", next)
				}
			}},
		{name: "more replicas wanted", cur: func(c *jetstream.StreamConfig) { c.Replicas = 0 }, update: true},
		{name: "missing subject added, others kept", cur: func(c *jetstream.StreamConfig) { c.Subjects = []string{"audit.>"} },
			update: true, check: func(t *testing.T, next jetstream.StreamConfig) {
				if strings.Join(next.Subjects, ",") != "audit.>,github.>" {
					t.Errorf("subjects %v", next.Subjects)
				}
			}},
		{name: "limits we do not set", cur: func(c *jetstream.StreamConfig) { c.MaxBytes, c.Storage = 1<<30, jetstream.MemoryStorage },
			kept: []string{"storage", "max_bytes"}, check: func(t *testing.T, next jetstream.StreamConfig) {
				if next.MaxBytes != 1<<30 {
					t.Errorf("max bytes changed: %d", next.MaxBytes)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur := want
			cur.Subjects = []string{"github.>"}
			c.cur(&cur)
			next, update, kept, err := reconcile(cur, want)
			if err != nil {
				t.Fatal(err)
			}
			if update != c.update {
				t.Errorf("update = %v, want %v", update, c.update)
			}
			var settings []string
			for _, k := range kept {
				settings = append(settings, k.Setting)
			}
			if strings.Join(settings, ",") != strings.Join(c.kept, ",") {
				t.Errorf("kept %v, want %v", kept, c.kept)
			}
			if c.check != nil {
				c.check(t, next)
			}
		})
	}
}

func TestReconcileNamesAConflict(t *testing.T) {
	cur := jetstream.StreamConfig{Name: "DRIFT", Subjects: []string{"drift.>"}, Retention: jetstream.WorkQueuePolicy}
	_, _, _, err := reconcile(cur, jetstream.StreamConfig{Name: "DRIFT", Subjects: []string{"drift.>"}})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Stream != "DRIFT" || conflict.Setting != "retention" ||
		!strings.Contains(err.Error(), "nats stream rm DRIFT") {
		t.Fatalf("err = %v", err)
	}
}

// A sourced stream (TRACKER) gets the sources it is missing; a source an
// operator added stays.
func TestReconcileAddsMissingSources(t *testing.T) {
	src := func(name, filter string) *jetstream.StreamSource {
		return &jetstream.StreamSource{Name: name, FilterSubject: filter}
	}
	want := jetstream.StreamConfig{Name: "TRACKER", MaxAge: time.Hour,
		Sources: []*jetstream.StreamSource{src("GITHUB", "github.pull_request.*.>"), src("PROMOTION", "")}}
	cur := want
	cur.Sources = []*jetstream.StreamSource{src("PROMOTION", ""), src("AUDIT", "")}
	next, update, _, err := reconcile(cur, want)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range next.Sources {
		got = append(got, s.Name+"="+s.FilterSubject)
	}
	if !update || strings.Join(got, ",") != "PROMOTION=,AUDIT=,GITHUB=github.pull_request.*.>" {
		t.Errorf("update %v, sources %v", update, got)
	}
	if _, update, _, _ := reconcile(want, want); update {
		t.Error("a stream with its sources is updated again")
	}
}

// A replicated KV bucket or object store is read from its leader: a direct
// get answered by a lagging follower returns an older record or none.
func TestReplicatedBucketsAreReadFromTheLeader(t *testing.T) {
	cases := []struct {
		kind     string
		replicas int
		direct   bool // after
		changed  bool
	}{
		{"kv", 3, false, true},
		{"object_store", 3, false, true},
		{"kv", 1, true, false},
		{"stream", 3, true, false}, // not a bucket: left alone
	}
	for _, c := range cases {
		cfg := jetstream.StreamConfig{Name: "X", Replicas: c.replicas, AllowDirect: true}
		changed := leaderReads(c.kind, &cfg)
		if changed != c.changed || cfg.AllowDirect != c.direct {
			t.Errorf("%s of %d replicas: changed %v, allow_direct %v; want %v, %v", c.kind, c.replicas, changed, cfg.AllowDirect, c.changed, c.direct)
		}
	}
	cfg := jetstream.StreamConfig{Name: "X", Replicas: 3}
	if leaderReads("kv", &cfg) {
		t.Error("a bucket already read from its leader is updated again")
	}
}
