package app

import (
	"errors"
	"testing"
)

func TestCheckSettingsNamesEachProblemOnce(t *testing.T) {
	shared := func() error { return errors.New("no GitHub identity") }
	err := CheckSettings(
		Builder{Name: "a", Check: shared},
		Builder{Name: "b", Check: func() error { return errors.Join(shared(), errors.New("SECRET is required")) }},
		Builder{Name: "c"},
		Builder{Name: "d", Check: func() error { return nil }},
	)
	var se *SettingsError
	if !errors.As(err, &se) || len(se.Problems) != 2 || se.Problems[0] != "no GitHub identity" || se.Problems[1] != "SECRET is required" {
		t.Fatalf("err = %#v", err)
	}
	if want := "invalid settings:\n  - no GitHub identity\n  - SECRET is required"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if err := CheckSettings(Builder{Name: "ok", Check: func() error { return nil }}); err != nil {
		t.Errorf("no problems: %v", err)
	}
}
