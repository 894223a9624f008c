package config

import "testing"

func TestErrorCommentGolden(t *testing.T) {
	_, repoFindings := ParseRepoConfig("telefonistka.yaml", []byte("promotionPaths:\n  - sourcePath: /abs\n    promotionPrs: [{targetPaths: ['../x']}]\nunknown: 1\n"))
	_, compFindings := ParseComponentConfig("env/nginx/telefonistka.yaml", []byte("promotionTargetBlockList: ['```(']\n"))
	// The unclosed "[" opened at 3:19, not where the parser gave up.
	_, syntaxFindings := ParseRepoConfig("telefonistka.yaml", []byte("promotionPaths:\n  - sourcePath: workspace/\n    promotionPrs: [{targetPaths: [a/]}\n  - sourcePath: b/\n"))
	tests := map[string][]Finding{
		"errcomment-syntax":    syntaxFindings,
		"errcomment-repo":      repoFindings,
		"errcomment-component": compFindings,
	}
	for name, findings := range tests {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, "testdata/"+name+".golden", ErrorComment(findings))
		})
	}
}

func TestFence(t *testing.T) {
	for in, want := range map[string]string{"": "```", "a `b` c": "```", "x ``` y": "````", "`````": "``````"} {
		if got := Fence(in); got != want {
			t.Errorf("Fence(%q) = %q, want %q", in, got, want)
		}
	}
}
