package config

import (
	"errors"
	"strings"
	"testing"
)

func TestComponentAllows(t *testing.T) {
	cfg, err := LoadComponentConfig("c/telefonistka.yaml", []byte(`
promotionTargetAllowList: ["prod/", "^staging/"]
promotionTargetBlockList: ["prod/us-"]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"prod/eu-1/":        true,
		"prod/us-1/":        false, // block wins over allow
		"staging/c1/":       true,
		"clusters/staging/": false, // allow list regex is anchored by the user
		"lab/c1/":           false, // not on the allow list
		"x/prod/eu/":        true,  // unanchored
	}
	for target, want := range tests {
		if got := cfg.Allows(target); got != want {
			t.Errorf("Allows(%q) = %v, want %v", target, got, want)
		}
	}
	var none *ComponentConfig
	if !none.Allows("anything/") {
		t.Error("a missing component file must allow every target")
	}
	empty, _ := ParseComponentConfig("c", []byte("promotionTargetAllowList: []\n"))
	if !empty.Allows("anything/") {
		t.Error("an empty allow list must mean no allow list")
	}
}

func TestLoadReturnsError(t *testing.T) {
	_, err := LoadComponentConfig("app/x/telefonistka.yaml", []byte("promotionTargetBlockList: ['(']\n"))
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || len(cfgErr.Findings) != 1 || cfgErr.Findings[0].Line != 1 {
		t.Fatalf("LoadComponentConfig error = %v, want a config.Error with one finding on line 1", err)
	}
	_, err = LoadRepoConfig("telefonistka.yaml", []byte("promotionPrPolicy: sometimes\n"))
	if !errors.As(err, &cfgErr) {
		t.Fatalf("LoadRepoConfig error = %v, want a config.Error", err)
	}
	cfg, err := LoadRepoConfig("telefonistka.yaml", nil)
	if err != nil || len(cfg.PromotionPaths) != 0 || cfg.PromotionPrPolicy != PolicySupersede {
		t.Fatalf("a missing file must be an empty configuration, got %+v, %v", cfg, err)
	}
	// Warnings alone never make a configuration unusable.
	if _, err := LoadRepoConfig("telefonistka.yaml", []byte("unknownKey: 1\n")); err != nil {
		t.Fatalf("warnings made the configuration unusable: %v", err)
	}
}

func TestCheckFileSize(t *testing.T) {
	if err := CheckFileSize(RepoFileName, MaxFileBytes); err != nil {
		t.Fatalf("a file of exactly 1 MiB refused: %v", err)
	}
	err := CheckFileSize(RepoFileName, MaxFileBytes+1)
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || !HasErrors(cfgErr.Findings) || !strings.Contains(err.Error(), "1048577 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
}
