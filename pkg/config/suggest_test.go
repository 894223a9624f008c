package config

import "testing"

func TestSuggestKey(t *testing.T) {
	cases := []struct {
		key   string
		known []string
		want  string
	}{
		{"condition", flowKeys, "conditions"},
		{"targetPath", flowKeys, "targetPaths"},
		{"targetDescripton", promotionPrKey, "targetDescription"},
		{"promtionPrLables", repoKeys, "promotionPrLabels"},
		{"promotionPRLabels", repoKeys, "promotionPrLabels"},
		{"promtionPRlables", repoKeys, "promotionPrLabels"},
		{"PromotionPrPolicy", repoKeys, "promotionPrPolicy"},
		{"autoMerg", conditionKeys, "autoMerge"},
		{"prHasLabel", conditionKeys, "prHasLabels"},
		{"commentdiffonpr", argoKeys, "commentDiffonPR"},
		{"dryrun", repoKeys, ""},
		{"somethingElse", repoKeys, ""},
		{"x", flowKeys, ""},
	}
	for _, c := range cases {
		if got := suggestKey(c.key, c.known); got != c.want {
			t.Errorf("suggestKey(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "ab", 2}, {"kitten", "sitting", 3},
		{"lables", "labels", 1}, {"condition", "conditions", 1}, {"ab", "ba", 1},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
