package config

import (
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("x: &x {<<: *x}"))
	f.Add([]byte("promotionPaths: [{sourcePath: '(?P<x>a)', componentPathExtraDepth: 99}]"))
}

// checkFindings asserts the properties every finding must have.
func checkFindings(t *testing.T, file string, findings []Finding) {
	for _, fd := range findings {
		if fd.File != file || fd.Line < 1 || fd.Column < 1 || fd.Key == "" || fd.Message == "" {
			t.Fatalf("malformed finding %+v", fd)
		}
		if fd.Severity != SeverityError && fd.Severity != SeverityWarning {
			t.Fatalf("unknown severity in %+v", fd)
		}
	}
}

func FuzzParseRepoConfig(f *testing.F) {
	addSeeds(f, "testdata/repo/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, findings := ParseRepoConfig("telefonistka.yaml", data)
		checkFindings(t, "telefonistka.yaml", findings)
		if HasErrors(findings) {
			return
		}
		for _, fl := range cfg.PromotionPaths {
			if CanonicalDir(fl.SourcePath) != fl.SourcePath {
				t.Fatalf("sourcePath %q is not canonical", fl.SourcePath)
			}
			for _, pr := range fl.PromotionPrs {
				for _, tp := range pr.TargetPaths {
					if !SafeRepoPath(tp) || CanonicalDir(tp) != tp {
						t.Fatalf("target %q escapes the repository or is not canonical", tp)
					}
				}
			}
			// Matching must never panic either.
			fl.Component(fl.SourcePath + "x/y")
		}
	})
}

func FuzzParseComponentConfig(f *testing.F) {
	addSeeds(f, "testdata/component/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, findings := ParseComponentConfig("c/telefonistka.yaml", data)
		checkFindings(t, "c/telefonistka.yaml", findings)
		cfg.Allows("prod/")
	})
}
