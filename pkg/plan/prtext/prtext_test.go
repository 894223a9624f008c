package prtext

import (
	"flag"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestPerChangeBranch(t *testing.T) {
	// The example of the specification.
	if got, want := PerChangeBranch(11, "originBranch", []string{"targetPath1", "targetPath2"}), "promotions/11-originBranch-676f02019f18"; got != want {
		t.Errorf("PerChangeBranch = %q, want %q", got, want)
	}
	long := strings.Repeat("é/", 150)
	got := PerChangeBranch(123456, long, []string{"a/"})
	if utf8.RuneCountInString(got) > 250 || !strings.HasPrefix(got, "promotions/123456-"+strings.Repeat("é-", 100)+"-") {
		t.Errorf("long ref not cut to 200 runes: %q (%d runes)", got, utf8.RuneCountInString(got))
	}
}

func TestPerChangeBranchesCollide(t *testing.T) {
	got := PerChangeBranches(5, "feature/x", [][]string{{"a/"}, {"b/"}, {"a/"}, {"a/"}})
	want := []string{"promotions/5-feature-x-" + sha1Hex("a/")[:12], "promotions/5-feature-x-" + sha1Hex("b/")[:12]}
	want = append(want, want[0]+"-2", want[0]+"-3")
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("branch %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestSupersedeBranch(t *testing.T) {
	key := "prod/[^/]*/>prod/eu-east-1/|prod/eu-west-1/"
	tests := []struct{ source, want string }{
		{"workspace/", "promotions/group-workspace-" + sha1Hex(key)[:12]},
		{"prod/[^/]*/", "promotions/group-prod-" + sha1Hex(key)[:12]},
		{"clusters/staging/c1/", "promotions/group-clusters-staging-c1-" + sha1Hex(key)[:12]},
		{"..a..b./", "promotions/group-a-b-" + sha1Hex(key)[:12]},
		{strings.Repeat("abcdefghi/", 20), "promotions/group-" + strings.TrimRight(strings.Repeat("abcdefghi-", 10), "-") + "-" + sha1Hex(key)[:12]},
	}
	for _, tt := range tests {
		if got := SupersedeBranch(tt.source, key); got != tt.want {
			t.Errorf("SupersedeBranch(%q) = %q, want %q", tt.source, got, tt.want)
		}
	}
	if got := SupersedeFallbackBranch("promotions/group-x-0123456789ab", "abcdef0123456789"); got != "promotions/group-x-0123456789ab-abcdef0" {
		t.Errorf("fallback = %q", got)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"a b//c":          "a-b-c",
		"-.a.-":           "a",
		"x_y.z-1":         "x_y.z-1",
		"(dev|qa)/[^/]*/": "dev-qa",
		"":                "",
	} {
		if got := Slug(in, 100); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTitle(t *testing.T) {
	title, overflow := Title([]string{"nginx", "redis"}, "lab and staging")
	if title != "🚀 Promotion: nginx,redis ➡️  lab and staging" || overflow != "" {
		t.Errorf("Title = %q, %q", title, overflow)
	}
	names := make([]string, 60)
	for i := range names {
		names[i] = "component-" + string(rune('a'+i%26))
	}
	title, overflow = Title(names, "clusters/prod/eu-1/")
	full := "🚀 Promotion: " + strings.Join(names, ",") + " ➡️  clusters/prod/eu-1/"
	if utf8.RuneCountInString(title) != MaxTitleRunes+3 || !strings.HasSuffix(title, "...") ||
		strings.TrimSuffix(title, "...")+overflow != full {
		t.Errorf("split title %q + overflow %q does not rebuild the full title", title, overflow)
	}
}

func TestBodyGolden(t *testing.T) {
	history := map[string]metadata.PromotionPath{
		"3":  {SourcePath: "workspace/", TargetPaths: []string{"clusters/staging/c1/", "clusters/lab/c1/"}},
		"10": {SourcePath: "clusters/staging/c1/", TargetPaths: []string{"clusters/prod/us-1/"}},
		"11": {SourcePath: "clusters/staging/c1/", TargetPaths: []string{"clusters/prod/us-1/"}},
	}
	meta := metadata.Metadata{OriginalPrAuthor: "alice", OriginalPrNumber: 3, PromotedPaths: []string{"clusters/prod/us-1/redis"}, PreviousPromotionPaths: history, OriginPrs: []int{10, 11}}
	names := []string{"redis"}
	_, overflow := Title(append(names, strings.Repeat("x", 260)), "t")
	tests := map[string]BodyInput{
		"body-simple": {ComponentNames: names, Metadata: metadata.Metadata{PreviousPromotionPaths: map[string]metadata.PromotionPath{
			"7": {SourcePath: "workspace/", TargetPaths: []string{"clusters/lab/c1/", "clusters/staging/c1/"}}}}},
		"body-supersede-notes-skips": {ComponentNames: names, Metadata: meta, SkipSet: []string{"clusters/lab/c1/", "clusters/prod/us-1"},
			Notes:           []string{"Note: prod/eu/nginx had several sources in this change; dev/a/nginx was used, dev/b/nginx was not."},
			IncludesOrigins: []int{11, 10, 11}},
		"body-title-overflow": {ComponentNames: names, TitleOverflow: overflow, Metadata: metadata.Metadata{}},
		// Two unrelated chains in one supersede PR (#1 -> #2 and #5 -> #6)
		// are siblings; #8, a PR that carried #2 and #5, sits below both.
		"body-sibling-chains": {ComponentNames: []string{"nginx", "redis"}, IncludesOrigins: []int{2, 6}, Metadata: metadata.Metadata{
			PreviousPromotionPaths: map[string]metadata.PromotionPath{
				"1": {SourcePath: "workspace/", TargetPaths: []string{"clusters/staging/c1/"}},
				"2": {SourcePath: "clusters/staging/c1/", TargetPaths: []string{"clusters/prod/eu-1/"}},
				"5": {SourcePath: "workspace/", TargetPaths: []string{"clusters/staging/c1/"}},
				"6": {SourcePath: "clusters/staging/c1/", TargetPaths: []string{"clusters/prod/eu-1/"}},
				"8": {SourcePath: "clusters/prod/eu-1/", TargetPaths: []string{"clusters/prod/eu-2/"}},
			},
			HistoryParents: map[string][]string{"1": {}, "2": {"1"}, "5": {}, "6": {"5"}, "8": {"2", "6"}},
		}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			body, err := Body(in)
			if err != nil {
				t.Fatal(err)
			}
			m, err := metadata.Extract(body)
			if err != nil {
				t.Fatalf("the body's metadata cannot be read back: %v", err)
			}
			if m.OriginalPrNumber != in.Metadata.OriginalPrNumber {
				t.Errorf("metadata changed on the way")
			}
			checkGolden(t, "testdata/"+name+".golden", body)
		})
	}
}

// Levels written by the original carry no parents: each sits one step
// below the level before it, as the original lays them out.
func TestHistoryWithoutParentsKeepsTheOriginalLayout(t *testing.T) {
	m := metadata.Metadata{PreviousPromotionPaths: map[string]metadata.PromotionPath{
		"3": {SourcePath: "a/", TargetPaths: []string{"b/"}},
		"9": {SourcePath: "b/", TargetPaths: []string{"c/"}},
		"4": {SourcePath: "x/", TargetPaths: []string{"y/"}},
	}}
	want := "↘️  #3  `a/` ➡️  \n" + indent + "`b/`  \n" +
		indent + "↘️  #4  `x/` ➡️  \n" + indent + indent + "`y/`  \n" +
		indent + indent + "↘️  #9  `b/` ➡️  \n" + indent + indent + indent + "`c/`  \n"
	if got := History(m, nil); got != want {
		t.Errorf("History =\n%s\nwant\n%s", got, want)
	}
}

func TestCommitMessage(t *testing.T) {
	if got := CommitMessage("dev/a/, dev/b/"); got != "Syncing from dev/a/, dev/b/" {
		t.Errorf("CommitMessage = %q", got)
	}
}
