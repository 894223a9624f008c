package envscan

import (
	"reflect"
	"testing"
)

func TestScan(t *testing.T) {
	vars, err := Scan("testdata/src")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"LOG_LEVEL", "NATS_URL", "PORT", "SPLIT_WORDS", "TARGET_REPO"}
	if got := Names(vars); !reflect.DeepEqual(got, want) {
		t.Fatalf("names = %q, want %q", got, want)
	}
	if got := vars["PORT"].Where; !reflect.DeepEqual(got, []string{"a/a.go:6"}) {
		t.Errorf("PORT read at %q", got)
	}
}
