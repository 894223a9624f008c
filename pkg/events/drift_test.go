package events

import (
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"
)

func init() {
	examples[TypeDriftDetected] = &DriftDetected{
		HeadSHA:       "2f5e0c8a91d04b7c3e6a8f1b2d4c6e8a0b1c3d5e",
		DefaultBranch: "main",
		ComparedSHA:   "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		Pairs: []DriftPair{
			{Source: "env/staging/nginx", Target: "env/prod/nginx", Changed: 2, OnlyInSource: 1, OnlyInTarget: 1},
		},
		CommentIDs: []int64{1042},
	}
	examples[TypeDriftCleared] = &DriftCleared{
		HeadSHA:         "9c1d7e3f5a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d",
		DefaultBranch:   "main",
		ComparedSHA:     "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		PreviousHeadSHA: "2f5e0c8a91d04b7c3e6a8f1b2d4c6e8a0b1c3d5e",
	}
}

func TestPRCheckRunFinal(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	type result struct{ checker, state, reason string }
	tests := []struct {
		name       string
		expected   []string
		results    []result
		wantState  string
		wantReason string
		wantDone   bool
	}{
		{name: "nothing reported", expected: []string{"drift"}, wantDone: false},
		{name: "one of two", expected: []string{"drift", "argodiff"},
			results: []result{{"drift", CheckSuccess, ""}}, wantDone: false},
		{name: "all succeeded", expected: []string{"drift", "argodiff"},
			results:   []result{{"drift", CheckSuccess, ""}, {"argodiff", CheckSuccess, ""}},
			wantState: CheckSuccess, wantDone: true},
		{name: "one failed", expected: []string{"drift", "argodiff"},
			results:   []result{{"drift", CheckSuccess, ""}, {"argodiff", CheckError, "app x failed"}},
			wantState: CheckError, wantReason: "app x failed", wantDone: true},
		{name: "first failing checker in order gives the reason", expected: []string{"drift", "argodiff"},
			results:   []result{{"drift", CheckError, "bad config"}, {"argodiff", CheckError, "app x failed"}},
			wantState: CheckError, wantReason: "app x failed", wantDone: true},
		{name: "unexpected checkers do not count", expected: []string{"drift"},
			results:   []result{{"other", CheckError, "x"}, {"drift", CheckSuccess, ""}},
			wantState: CheckSuccess, wantDone: true},
		{name: "a later result replaces an earlier one", expected: []string{"drift"},
			results:   []result{{"drift", CheckError, "timeout"}, {"drift", CheckSuccess, ""}},
			wantState: CheckSuccess, wantDone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewPRCheckRun("d1", Repo{Owner: "acme", Name: "gitops"}, 7, "abc", tc.expected, now)
			for _, res := range tc.results {
				r.Finish(res.checker, res.state, res.reason, now)
			}
			state, reason, done := r.Final()
			if state != tc.wantState || reason != tc.wantReason || done != tc.wantDone {
				t.Fatalf("Final() = %q, %q, %v; want %q, %q, %v", state, reason, done, tc.wantState, tc.wantReason, tc.wantDone)
			}
		})
	}
}

func TestPRCheckRunCommentsAndRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := NewPRCheckRun("d1", Repo{Owner: "acme", Name: "gitops"}, 7, "abc", []string{"drift"}, now)
	r.AddComment(RunComment{Checker: "drift", Part: "drift-1", ID: 1, NodeID: "IC_1"})
	r.AddComment(RunComment{Checker: "drift", Part: "drift-2", ID: 2, NodeID: "IC_2"})
	r.AddComment(RunComment{Checker: "drift", Part: "drift-1", ID: 3, NodeID: "IC_3"})
	if c, ok := r.Comment("drift", "drift-1"); !ok || c.ID != 3 {
		t.Fatalf("drift-1 = %+v, %v; want the replacement with id 3", c, ok)
	}
	if _, ok := r.Comment("argodiff", "drift-1"); ok {
		t.Fatal("a part of another checker was found")
	}
	if got, want := r.CommentNodeIDs(), map[string]bool{"IC_2": true, "IC_3": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("CommentNodeIDs = %v, want %v", got, want)
	}
	r.Minimized = true
	r.Finish("drift", CheckSuccess, "", now)
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back PRCheckRun
	if err := strictUnmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, *r)
	}
}

func TestPRCheckKeysAreValidKVKeys(t *testing.T) {
	valid := regexp.MustCompile(`\A[-/_=.a-zA-Z0-9]+\z`)
	repos := []Repo{{"acme", "gitops"}, {"my.org", "repo.with.dots"}, {"-dash", "a%b"}, {"ünï", "*>"}}
	seen := map[string]Repo{}
	for _, r := range repos {
		k := PRCheckKey(r, 12, "6dcb09b5b57875f334f61aebed695e2e4193db5e")
		if !valid.MatchString(k) {
			t.Errorf("key %q for %v is not a valid KV key", k, r)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("repos %v and %v share key %q", r, other, k)
		}
		seen[k] = r
		if PRKey(r, 12) == PRKey(r, 1) {
			t.Errorf("PR numbers share a key for %v", r)
		}
	}
}
