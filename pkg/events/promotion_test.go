package events

import "testing"

func init() {
	const (
		run   = "5b0c7a1e9d2f4c3b8a7e6d5c4b3a2f10"
		merge = "9fceb02d0ae598e95dc970b74767f19372d61af8"
		head  = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
		key   = "prod/[^/]*/>prod/eu-east-1/|prod/eu-west-1/"
	)
	pair := PromotionPair{SourceDir: "staging/eu-1/", TargetDir: "prod/eu-east-1/", Component: "nginx"}
	loser := PromotionPair{SourceDir: "staging/eu-2/", TargetDir: "prod/eu-east-1/", Component: "nginx"}
	examples[TypePromotionRunStarted] = &PromotionRunStarted{
		RunID: run, MergeCommit: merge, HeadSHA: head,
		Keys: []string{key}, ComponentErrors: 1, TrackerComment: true,
	}
	examples[TypePromotionPlanned] = &PromotionPlanned{
		RunID:         run,
		MergeCommit:   merge,
		DefaultBranch: "main",
		Origin: PromotionOrigin{
			Number: 7, Author: "alice", HeadRef: "promotions/group-staging-0123456789ab", HeadSHA: head,
			Labels: []string{"promotion"}, OriginalPrNumber: 3, OriginalPrAuthors: []string{"alice"},
			History:        map[string]PromotionLevel{"3": {SourcePath: "workspace/", TargetPaths: []string{"staging/eu-1/", "staging/eu-2/"}}},
			OriginPrs:      []int{3},
			HistoryParents: map[string][]string{"3": {}},
		},
		Group: PromotionGroup{
			Key: key, SourcePath: "prod/[^/]*/", FlowIndex: 2,
			Targets:           []string{"prod/eu-east-1/", "prod/eu-west-1/"},
			RawTargets:        []string{"prod/eu-east-1", "prod/eu-west-1/"},
			TargetDescription: "EU production",
		},
		Policy:      "supersede",
		Branch:      "promotions/group-prod-_-_-1a2b3c4d5e6f",
		AutoMerge:   true,
		AutoApprove: true,
		Labels:      []string{"promotion", "prod"},
		Components:  []PromotionComponent{{SourceDir: "staging/eu-1/", Name: "nginx"}, {SourceDir: "staging/eu-2/", Name: "nginx"}},
		Sync:        []PromotionPair{pair},
		Skipped:     []PromotionPair{{SourceDir: "staging/eu-1/", TargetDir: "prod/eu-west-1/", Component: "nginx"}},
		Duplicates:  []PromotionDuplicate{{Winner: pair, Loser: loser}},
		Base: &PromotionBase{Commit: merge, Tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
			Changes: []PromotionChange{
				{Path: "prod/eu-east-1/nginx/values.yaml", Mode: "100644", Type: "blob", SHA: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
				{Path: "prod/eu-east-1/nginx/old.yaml", Mode: "100644", Type: "blob", Delete: true},
			},
			Notes: []string{"staging/eu-2/nginx was not promoted to prod/eu-east-1/: staging/eu-1/nginx wins"}},
	}
	examples[TypePromotionPROpened] = &PromotionPROpened{
		RunID: run, Key: key, MergeCommit: merge, Branch: "promotions/group-prod-_-_-1a2b3c4d5e6f-9fceb02",
		Number: 12, URL: "https://github.com/acme/gitops/pull/12",
		Commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Adopted: true, Replaces: 11,
	}
	examples[TypePromotionPRUpdated] = &PromotionPRUpdated{
		RunID: run, Key: key, MergeCommit: merge, Branch: "promotions/group-prod-_-_-1a2b3c4d5e6f",
		Number: 11, URL: "https://github.com/acme/gitops/pull/11",
		Commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", SourceCommit: merge, OriginPRs: []int{5, 7},
	}
	examples[TypePromotionMerged] = &PromotionMerged{
		RunID: run, Key: key, MergeCommit: merge, Number: 12,
		MergedAs: "7638417db6d59f3c431d3e1f261cc637155684cd", Attempts: 2,
	}
	examples[TypePromotionInSync] = &PromotionInSync{RunID: run, Key: key, MergeCommit: merge, ClosedPR: 11}
	examples[TypePromotionFailed] = &PromotionFailed{
		RunID: run, Key: key, MergeCommit: merge, Stage: "merge", Number: 12,
		Error: "merging promotion PR #12: 405 Pull Request is not mergeable",
	}
	examples[TypePromotionEntryFinished] = &PromotionEntryFinished{
		RunID: run, Key: key, MergeCommit: merge, Outcome: OutcomeFailed, Number: 12,
		Error: "merging promotion PR #12: 405 Pull Request is not mergeable",
	}
	examples[TypePromotionRunFinished] = &PromotionRunFinished{
		RunID: run, MergeCommit: merge, HeadSHA: head, State: "error",
		Outcomes: map[string]string{key: OutcomeFailed, "workspace/>staging/eu-1/": OutcomeMerged},
		Failures: []PromotionEntryFailure{{Key: key, Error: "merging promotion PR #12: 405 Pull Request is not mergeable"}},
	}
}

func TestPromotionIDsAreDerived(t *testing.T) {
	repo := Repo{Owner: "acme", Name: "gitops"}
	first, second := PromotionRunID(repo, "abc"), PromotionRunID(repo, "abc")
	if first != second {
		t.Fatal("run id is not deterministic")
	}
	if PromotionRunID(repo, "abc") == PromotionRunID(repo, "abd") {
		t.Fatal("different merges share a run id")
	}
	a := PromotionEntryID(repo, "abc", "a/>b/")
	if a != PromotionEntryID(repo, "abc", "a/>b/") || a == PromotionEntryID(repo, "abc", "a/>c/") {
		t.Fatal("entry ids must be deterministic and differ per plan key")
	}
	if PromotionEventID(TypePromotionPROpened, repo, "abc", "k") == PromotionEventID(TypePromotionMerged, repo, "abc", "k") {
		t.Fatal("outcome events of different types share an id")
	}
}

func TestPromotionSubjects(t *testing.T) {
	env, err := New(Meta{Source: "planner", Repo: &Repo{Owner: "acme", Name: "git.ops"}, PR: 7}, &PromotionPlanned{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	subject, err := Subject(env)
	if err != nil {
		t.Fatal(err)
	}
	if want := "promotion.planned.acme.git%2Eops"; subject != want {
		t.Fatalf("subject %q, want %q", subject, want)
	}
	if got := FilterFor(TypePromotionEntryFinished); got != "promotion.entry_finished.>" {
		t.Fatalf("filter %q", got)
	}
}
