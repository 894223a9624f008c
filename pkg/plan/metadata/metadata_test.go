package metadata

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
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

func blockOf(t *testing.T, jsonText string) string {
	return "<!--|Telefonistka data, do not delete|" + base64.StdEncoding.EncodeToString([]byte(jsonText)) + "|-->"
}

// The original wrote no originalPrNumber (0) and no originalPrAuthors.
const originalStyle = `{"originalPrAuthor":"alice","originalPrNumber":0,"promotedPaths":["env/staging/nginx"],
"previousPromotionPaths":{"7":{"sourcePath":"env/dev/","targetPaths":["env/staging/"]},"12":{"sourcePath":"env/lab/","targetPaths":["env/dev/"]}},"someFutureField":{"x":1}}`

func TestBuildFromOriginalStyleOrigin(t *testing.T) {
	origin, err := Extract("Promotion path(nginx):\n\n" + blockOf(t, originalStyle))
	if err != nil {
		t.Fatal(err)
	}
	o := Origin{Number: 15, Author: "promotion-bot", Metadata: origin}
	if got := o.OriginalPrNumber(); got != 7 {
		t.Errorf("OriginalPrNumber = %d, want the smallest history key 7", got)
	}
	m := Build(Promotion{
		Key: "env/staging/>env/prod/", SourceLabel: "env/staging/", Targets: []string{"env/prod/"},
		PromotedPaths: []string{"env/prod/nginx"}, Components: []ComponentRef{{"env/staging/", "nginx"}},
		SourceCommit: "abc123", Policy: "supersede",
	}, []Origin{o})
	if m.OriginalPrAuthor != "alice" || !reflect.DeepEqual(m.OriginalPrAuthors, []string{"alice"}) {
		t.Errorf("authors = %q / %q, want alice inherited", m.OriginalPrAuthor, m.OriginalPrAuthors)
	}
	if got := m.HistoryKeys(); !reflect.DeepEqual(got, []string{"7", "12", "15"}) {
		t.Errorf("history keys = %q", got)
	}
	block, err := Block(m)
	if err != nil {
		t.Fatal(err)
	}
	decoded, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(block, "<!--|Telefonistka data, do not delete|"), "|-->"))
	checkGolden(t, "testdata/build-chained.golden", block+"\n"+string(decoded)+"\n")
}

func TestBuildWithoutMetadata(t *testing.T) {
	m := Build(Promotion{Key: "k", SourceLabel: "workspace/", Targets: []string{"a/", "b/"}}, []Origin{{Number: 3, Author: "bob"}})
	if m.OriginalPrNumber != 3 || m.OriginalPrAuthor != "bob" || !reflect.DeepEqual(m.OriginPrs, []int{3}) {
		t.Errorf("metadata = %+v", m)
	}
	want := map[string]PromotionPath{"3": {SourcePath: "workspace/", TargetPaths: []string{"a/", "b/"}}}
	if !reflect.DeepEqual(m.PreviousPromotionPaths, want) {
		t.Errorf("history = %+v, want %+v", m.PreviousPromotionPaths, want)
	}
}

func TestRoundTripKeepsUnknownFields(t *testing.T) {
	m, err := Extract(blockOf(t, originalStyle))
	if err != nil {
		t.Fatal(err)
	}
	block, err := Block(*m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Extract("text\n" + block)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Extra["someFutureField"]) != `{"x":1}` {
		t.Errorf("unknown field lost: %q", again.Extra)
	}
	first, _ := json.Marshal(m)
	second, _ := json.Marshal(again)
	if string(first) != string(second) {
		t.Errorf("round trip changed the metadata:\n%s\n%s", first, second)
	}
}

func TestExtract(t *testing.T) {
	good := blockOf(t, `{"originalPrNumber":5}`)
	later := blockOf(t, `{"originalPrNumber":9}`)
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr error
	}{
		{"missing", "just a body", 0, ErrNoMetadata},
		{"last block wins", good + "\n\n" + later, 9, nil},
		{"unpadded base64 accepted", "<!--|Telefonistka data, do not delete|" + base64.RawStdEncoding.EncodeToString([]byte(`{"originalPrNumber":4}`)) + "|-->", 4, nil},
		{"undecodable last block", good + "\n<!--|Telefonistka data, do not delete|%%%|-->", 0, errors.New("any")},
		{"not JSON", "<!--|Telefonistka data, do not delete|" + base64.StdEncoding.EncodeToString([]byte("nope")) + "|-->", 0, errors.New("any")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Extract(tt.body)
			switch {
			case errors.Is(tt.wantErr, ErrNoMetadata):
				if !errors.Is(err, ErrNoMetadata) {
					t.Fatalf("err = %v, want ErrNoMetadata", err)
				}
			case tt.wantErr != nil:
				if err == nil {
					t.Fatal("no error for a broken block")
				}
			case err != nil:
				t.Fatal(err)
			case m.OriginalPrNumber != tt.want:
				t.Errorf("originalPrNumber = %d, want %d", m.OriginalPrNumber, tt.want)
			}
		})
	}
}

func TestCycleGuard(t *testing.T) {
	history := map[string]PromotionPath{}
	for i := 1; i < MaxChainDepth; i++ {
		history[string(rune('a'+i))] = PromotionPath{}
	}
	o := Origin{Number: 1, Metadata: &Metadata{PreviousPromotionPaths: history}}
	if o.TooDeep() {
		t.Fatalf("depth %d stopped", o.Depth())
	}
	history["z"] = PromotionPath{}
	if !o.TooDeep() {
		t.Fatalf("depth %d not stopped", o.Depth())
	}
}

func TestMerge(t *testing.T) {
	existing := Build(Promotion{Key: "k", SourceLabel: "s/", Targets: []string{"t/"}, Components: []ComponentRef{{"s/", "nginx"}}, SourceCommit: "old"},
		[]Origin{{Number: 10, Author: "alice"}})
	existing.BranchCommit = "branch1"
	existing.Extra = map[string]json.RawMessage{"keep": json.RawMessage(`true`)}
	next := Build(Promotion{Key: "k", SourceLabel: "s/", Targets: []string{"t/"}, Components: []ComponentRef{{"s/", "redis"}, {"s/", "nginx"}}, SourceCommit: "new"},
		[]Origin{{Number: 11, Author: "bob"}})
	m := Merge(existing, next)
	if !reflect.DeepEqual(m.OriginPrs, []int{10, 11}) || !reflect.DeepEqual(m.OriginalPrAuthors, []string{"alice", "bob"}) ||
		m.OriginalPrNumber != 10 || m.SourceCommit != "new" || m.BranchCommit != "branch1" || string(m.Extra["keep"]) != "true" {
		t.Errorf("merged = %+v", m)
	}
	if want := []ComponentRef{{"s/", "nginx"}, {"s/", "redis"}}; !reflect.DeepEqual(m.Components, want) {
		t.Errorf("components = %+v, want %+v", m.Components, want)
	}
	if len(m.PreviousPromotionPaths) != 2 {
		t.Errorf("history = %+v", m.PreviousPromotionPaths)
	}
}
