package bump

import "testing"

// The texts are byte-exact (SPEC §9).
func TestTexts(t *testing.T) {
	cases := []struct{ got, want string }{
		{BranchName("acme/billing", "abc123"), "artifact_version_bump/acme/billing/abc123"},
		{CommitMessage("apps/values.yaml"), "Bumping version @ apps/values.yaml"},
		{PRTitle("acme/billing", "apps/values.yaml"), "acme/billing\U0001F6A0 Bumping version @ apps/values.yaml"},
		{PRBody("acme/billing", "abc123"), "Bumping version triggered by acme/billing@abc123"},
		{NoChangeMessage("apps/values.yaml"), "No change to apps/values.yaml; not opening a PR."},
		{Label, "promotion"},
		{MergeTitle, "Auto-merge"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
