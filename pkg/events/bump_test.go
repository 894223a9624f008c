package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

func init() {
	examples[TypeBumpRequested] = &BumpRequested{
		TargetRepo: "acme/gitops", TargetFile: "apps/billing/values.yaml", Mode: BumpYAML,
		Address:         `.db.[] | select(.name == "postgres").image.tag`,
		Replacement:     "16.2",
		TriggeringRepo:  "acme/billing",
		TriggeringSHA:   "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
		TriggeringActor: "octocat",
		AutoMerge:       true,
	}
	examples[TypeBumpOpened] = &BumpOpened{
		TargetRepo: "acme/gitops", TargetFile: "apps/billing/values.yaml",
		TriggeringRepo: "acme/billing", TriggeringSHA: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
		Branch:   "artifact_version_bump/acme/billing/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
		Commit:   "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
		PRNumber: 42, PRURL: "https://github.com/acme/gitops/pull/42",
		Adopted: true, Merged: true, MergeCommit: "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",
	}
	examples[TypeBumpUnchanged] = &BumpUnchanged{
		TargetRepo: "acme/gitops", TargetFile: "apps/billing/values.yaml",
		TriggeringRepo: "acme/billing", TriggeringSHA: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
		BaseBranch: "main", BaseCommit: "5d4c3b2a1908f7e6d5c4b3a291807f6e5d4c3b2a",
	}
	examples[TypeBumpFailed] = &BumpFailed{
		TargetRepo: "acme/gitops", TargetFile: "apps/billing/values.yaml",
		TriggeringRepo: "acme/billing", TriggeringSHA: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
		Step:      "auto-merging the PR",
		Error:     "merging PR #42: 405 Pull Request is not mergeable",
		Permanent: true, PRNumber: 42, PRURL: "https://github.com/acme/gitops/pull/42",
	}
}

func TestBumpRequestIDFormula(t *testing.T) {
	// The formula documented for callers in other languages.
	var b strings.Builder
	for _, p := range []string{"bump.requested", "acme/gitops", "apps/values.yaml", "acme/billing", "abc123"} {
		b.WriteString(strconv.Itoa(len(p)) + ":" + p + ";")
	}
	sum := sha256.Sum256([]byte(b.String()))
	want := hex.EncodeToString(sum[:])[:32]
	if got := BumpRequestID("Acme/GitOps", "apps/values.yaml", "acme/Billing", "ABC123"); got != want {
		t.Fatalf("BumpRequestID = %s, want %s", got, want)
	}
	if BumpRequestID("acme/gitops", "apps/Values.yaml", "acme/billing", "abc123") == want {
		t.Fatal("the file path must stay case-sensitive")
	}
	r := examples[TypeBumpRequested].(*BumpRequested)
	if r.ID() != BumpRequestID(r.TargetRepo, r.TargetFile, r.TriggeringRepo, r.TriggeringSHA) {
		t.Fatal("ID() differs from BumpRequestID")
	}
	if BumpOutcomeID(want, TypeBumpOpened) == BumpOutcomeID(want, TypeBumpFailed) {
		t.Fatal("outcome ids of different types collide")
	}
}

func TestBumpRequestedValidate(t *testing.T) {
	valid := func() BumpRequested { return *examples[TypeBumpRequested].(*BumpRequested) }
	cases := []struct {
		name   string
		change func(r *BumpRequested)
		want   string
	}{
		{"valid yaml", func(*BumpRequested) {}, ""},
		{"valid regex", func(r *BumpRequested) { r.Mode, r.Address, r.Regex = BumpRegex, "", "tag: .*" }, ""},
		{"valid overwrite with empty content", func(r *BumpRequested) { r.Mode, r.Address, r.Replacement = BumpOverwrite, "", "" }, ""},
		{"bad target repo", func(r *BumpRequested) { r.TargetRepo = "gitops" }, "targetRepo"},
		{"absolute file", func(r *BumpRequested) { r.TargetFile = "/values.yaml" }, "targetFile"},
		{"empty file", func(r *BumpRequested) { r.TargetFile = "" }, "targetFile"},
		{"bad triggering repo", func(r *BumpRequested) { r.TriggeringRepo = "a/b/c" }, "triggeringRepo"},
		{"tag as sha", func(r *BumpRequested) { r.TriggeringSHA = "v1.2.3" }, ""},
		{"branch-like sha", func(r *BumpRequested) { r.TriggeringSHA = "release/2024.1" }, ""},
		{"empty sha", func(r *BumpRequested) { r.TriggeringSHA = "" }, "triggeringSha"},
		{"sha with a space", func(r *BumpRequested) { r.TriggeringSHA = "v1 2" }, "triggeringSha"},
		{"sha with ..", func(r *BumpRequested) { r.TriggeringSHA = "v1..2" }, "triggeringSha"},
		{"sha with a colon", func(r *BumpRequested) { r.TriggeringSHA = "a:b" }, "triggeringSha"},
		{"sha ending in .lock", func(r *BumpRequested) { r.TriggeringSHA = "x.lock" }, "triggeringSha"},
		{"sha segment starting with a dot", func(r *BumpRequested) { r.TriggeringSHA = "a/.b" }, "triggeringSha"},
		{"sha ending in a slash", func(r *BumpRequested) { r.TriggeringSHA = "v1/" }, "triggeringSha"},
		{"sha with a control character", func(r *BumpRequested) { r.TriggeringSHA = "v1\n" }, "triggeringSha"},
		{"sha with @{", func(r *BumpRequested) { r.TriggeringSHA = "v@{1}" }, "triggeringSha"},
		{"unknown mode", func(r *BumpRequested) { r.Mode = "sed" }, `mode "sed"`},
		{"yaml without address", func(r *BumpRequested) { r.Address = "" }, "needs address"},
		{"regex without regex", func(r *BumpRequested) { r.Mode, r.Address = BumpRegex, "" }, "needs regex"},
		{"overwrite with regex", func(r *BumpRequested) { r.Mode, r.Address, r.Regex = BumpOverwrite, "", "x" }, "takes content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := valid()
			c.change(&r)
			err := r.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v does not mention %q", err, c.want)
			}
		})
	}
}
