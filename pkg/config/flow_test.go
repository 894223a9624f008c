package config

import (
	"strconv"
	"testing"
)

func mustFlow(t *testing.T, src string, depth int) *Flow {
	t.Helper()
	yaml := "promotionPaths:\n  - sourcePath: '" + src + "'\n    componentPathExtraDepth: " + strconv.Itoa(depth) + "\n    promotionPrs: [{targetPaths: [t/]}]\n"
	cfg, err := LoadRepoConfig("telefonistka.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return &cfg.PromotionPaths[0]
}

func TestFlowComponent(t *testing.T) {
	tests := []struct {
		name, source string
		depth        int
		path         string
		under        bool
		dir, comp    string
	}{
		{"literal", "workspace/", 0, "workspace/nginx/values.yaml", true, "workspace/", "nginx"},
		{"literal without trailing slash", "workspace", 0, "workspace/nginx/a/b.yaml", true, "workspace/", "nginx"},
		{"many trailing slashes", "workspace///", 0, "workspace/nginx/x", true, "workspace/", "nginx"},
		{"file directly in source dir", "workspace/", 0, "workspace/README.md", true, "", ""},
		{"no glued names", "clusters/c2", 0, "clusters/c2nginx/x", false, "", ""},
		{"component dir itself", "workspace/", 0, "workspace/nginx/", true, "", ""},
		{"not under", "workspace/", 0, "other/nginx/x", false, "", ""},
		{"anchored at start", "prod/", 0, "x/prod/nginx/x", false, "", ""},
		{"depth 2", "apps/", 2, "apps/teamA/ns/nginx/deploy.yaml", true, "apps/", "teamA/ns/nginx"},
		{"depth 2 not deep enough", "apps/", 2, "apps/teamA/ns/file.yaml", true, "", ""},
		{"empty segment", "apps/", 0, "apps//x", true, "", ""},
		{"regex", "prod/[^/]*/", 0, "prod/us-east-4/nginx/x.yaml", true, "prod/us-east-4/", "nginx"},
		{"regex segment boundary", "prod/us", 0, "prod/us-east/nginx/x", false, "", ""},
		{"regex greedy", "env/.*", 0, "env/a/b/nginx/file", true, "env/a/b/", "nginx"},
		{"regex with groups", "(dev|qa)/(eu|us)", 0, "qa/us/redis/x", true, "qa/us/", "redis"},
		{"regex alternation anchored", "a|b", 0, "xb/c/d", false, "", ""},
		{"caret in pattern", "^env/", 0, "env/nginx/x", true, "env/", "nginx"},
		{"newline in name", "w/", 0, "w/ng\ninx/a\nb", true, "w/", "ng\ninx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFlow(t, tt.source, tt.depth)
			if got := f.Under(tt.path); got != tt.under {
				t.Errorf("Under(%q) = %v, want %v", tt.path, got, tt.under)
			}
			m, ok := f.Component(tt.path)
			if ok != (tt.comp != "") || m.SourceDir != tt.dir || m.Component != tt.comp {
				t.Errorf("Component(%q) = %+v, %v; want dir %q comp %q", tt.path, m, ok, tt.dir, tt.comp)
			}
			if ok && !f.Under(tt.path) {
				t.Errorf("a component was found for a path not under the flow")
			}
		})
	}
}

// The literal fast path and the prefix filter must agree with the plain
// regexes they shortcut.
func FuzzMatchAgreesWithRegex(f *testing.F) {
	for _, s := range [][2]string{{"workspace", "workspace/nginx/x"}, {"a/b", "a/b//c/d"}, {"a", "a/b/"},
		{"a", "a/b/c/d/e"}, {"env/src-0[^/]*", "env/src-01/x/y"}, {"(?i)ENV", "env/a/b"}, {"a|b", "b/c/d"}} {
		f.Add(s[0], s[1], 1)
		f.Add(s[0], s[1], 0)
	}
	f.Fuzz(func(t *testing.T, pattern, path string, depth int) {
		depth = (depth%3 + 3) % 3
		fl := &Flow{ComponentPathExtraDepth: depth}
		if err := fl.compile(pattern, depth); err != nil {
			return
		}
		wantUnder := fl.under.MatchString(path)
		var want Match
		if idx := fl.component.FindStringSubmatchIndex(path); idx != nil {
			start, end := idx[2*fl.compGroup], idx[2*fl.compGroup+1]
			want = Match{SourceDir: path[:start], Component: path[start:end]}
		}
		got, ok := fl.Component(path)
		if fl.Under(path) != wantUnder || got != want || ok != (want.Component != "") {
			t.Fatalf("pattern %q path %q depth %d: got (%v %+v %v), regex says (%v %+v)", pattern, path, depth, fl.Under(path), got, ok, wantUnder, want)
		}
	})
}

func TestEligible(t *testing.T) {
	f := Flow{PrHasLabels: []string{"fast", "hotfix"}}
	if f.Eligible(nil) || f.Eligible([]string{"other"}) {
		t.Error("a flow with a label condition is eligible without the label")
	}
	if !f.Eligible([]string{"x", "hotfix"}) {
		t.Error("a flow is not eligible with one of its labels")
	}
	if !(&Flow{}).Eligible(nil) {
		t.Error("a flow without condition is not eligible")
	}
}

func TestCheckRelativePath(t *testing.T) {
	ok := []string{"a", "a/", "a/b/c//", "a.b/..c/d..", "clusters/prod/eu-1/"}
	bad := []string{"", "/", "//", "/a", "a/../b", "..", "./a", "a/./b", "a//b", "a\\b", " "}
	for _, p := range ok {
		if msg := CheckRelativePath(p); msg != "" {
			t.Errorf("CheckRelativePath(%q) = %q, want ok", p, msg)
		}
	}
	for _, p := range bad {
		if CheckRelativePath(p) == "" || SafeRepoPath(p) {
			t.Errorf("CheckRelativePath(%q) accepted an unsafe path", p)
		}
	}
}

func TestCanonicalDir(t *testing.T) {
	for in, want := range map[string]string{"a": "a/", "a/": "a/", "a///": "a/", "": "", "///": "", "a/b": "a/b/"} {
		if got := CanonicalDir(in); got != want {
			t.Errorf("CanonicalDir(%q) = %q, want %q", in, got, want)
		}
	}
}
