package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// examples holds one filled-in example per event type. Each family's test
// file adds its own from init.
var examples = map[string]Payload{}

func init() {
	examples[TypeGitHubDelivery] = &GitHubDelivery{
		DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Event:      "pull_request",
		Action:     "closed",
		Headers: map[string]string{
			"Content-Type":        "application/json",
			"User-Agent":          "GitHub-Hookshot/044aadd",
			"X-Github-Delivery":   "72d3162e-cc78-11e3-81ab-4c9367dc0958",
			"X-Github-Event":      "pull_request",
			"X-Github-Hook-Id":    "292430182",
			"X-Hub-Signature-256": "sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c",
		},
		Body:       []byte(`{"action":"closed","number":7}`),
		ReceivedAt: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
	}
	examples[TypeConsumerFailed] = &ConsumerFailed{
		Consumer: "planner", Stream: StreamGitHub, StreamSequence: 42,
		Subject:    "github.pull_request.closed.acme.gitops",
		Deliveries: 10, Reason: FailedMaxDeliveries,
		Error:      "reading telefonistka.yaml at 1f2e3d: 502 Bad Gateway",
		OriginalID: "b3c1a9e2-0f4d-4a51-9d7c-2c1e5b8f6a10", OriginalType: TypeGitHubDelivery,
	}
}

func exampleEnvelope(t *testing.T, p Payload) *Envelope {
	t.Helper()
	env, err := New(Meta{
		ID:            "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
		Source:        "example",
		CorrelationID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		CausationID:   "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
		Repo:          &Repo{Owner: "acme", Name: "gitops"},
		PR:            7,
		Time:          time.Date(2026, 11, 21, 10, 0, 1, 0, time.UTC),
	}, p)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestEveryTypeHasAnExample(t *testing.T) {
	for _, typ := range Types() {
		if _, ok := examples[typ]; !ok {
			t.Errorf("event type %s has no example (and so no golden file)", typ)
		}
	}
}

func TestGoldenRoundTrip(t *testing.T) {
	// Keys are type names, or type#variant for further examples of a type.
	keys := make([]string, 0, len(examples))
	for k := range examples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		p := examples[key]
		typ, _, _ := strings.Cut(key, "#")
		if p.EventType() != typ {
			t.Errorf("example %s is a %s", key, p.EventType())
		}
		t.Run(key, func(t *testing.T) {
			if v := reflect.ValueOf(p).Elem(); v.IsZero() {
				t.Fatal("example is empty")
			}
			if key == typ {
				assertAllFieldsSet(t, typ, reflect.ValueOf(p).Elem())
			}
			got, err := json.MarshalIndent(exampleEnvelope(t, p), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", strings.ReplaceAll(key, "#", ".")+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden (run with -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
			// Strict decode of the golden file and re-encode must be lossless.
			env, payload, err := strictDecode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(payload, p) {
				t.Fatalf("payload after round trip:\n got %#v\nwant %#v", payload, p)
			}
			again, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(again, '\n'), want) {
				t.Fatalf("re-encoding the decoded golden differs:\n%s", again)
			}
		})
	}
}

// assertAllFieldsSet makes sure examples exercise every field, so a golden
// file shows the whole wire shape.
func assertAllFieldsSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := path + "." + v.Type().Field(i).Name
		if f.IsZero() && !strings.Contains(v.Type().Field(i).Tag.Get("json"), "omitempty") {
			t.Errorf("%s is not set in the example", name)
		}
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Time{}) {
			assertAllFieldsSet(t, name, f)
		}
	}
}

// strictUnmarshal is what the golden tests decode with: every field of what
// we write must be known, so the golden files show the whole shape and a
// field dropped from a type fails the test.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// strictDecode decodes an envelope and its payload strictly.
func strictDecode(b []byte) (*Envelope, Payload, error) {
	var env Envelope
	if err := strictUnmarshal(b, &env); err != nil {
		return nil, nil, err
	}
	p, ok := NewPayload(env.Type)
	if !ok {
		return nil, nil, fmt.Errorf("unknown type %s", env.Type)
	}
	if err := strictUnmarshal(env.Data, p); err != nil {
		return nil, nil, err
	}
	return &env, p, nil
}

// A reader of this version handles an event written by a newer version that
// added fields to the envelope and to the payload (a rolling upgrade: new
// planner, old promoter). The fields it knows keep their values.
func TestOlderReaderHandlesNewerEvent(t *testing.T) {
	for _, typ := range Types() {
		t.Run(typ, func(t *testing.T) {
			golden, err := os.ReadFile(filepath.Join("testdata", typ+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal(golden, &raw); err != nil {
				t.Fatal(err)
			}
			raw["addedInV1_1"] = map[string]any{"tenant": "blue"}
			data := raw["data"].(map[string]any)
			data["addedField"] = "something a newer writer knows"
			data["addedList"] = []any{1, 2, 3}
			newer, err := json.Marshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			env, err := Decode(newer)
			if err != nil {
				t.Fatalf("decoding a newer envelope: %v", err)
			}
			p, err := env.Payload()
			if err != nil {
				t.Fatalf("decoding a newer payload: %v", err)
			}
			if err := env.DecodeData(p); err != nil {
				t.Fatalf("DecodeData of a newer payload: %v", err)
			}
			_, want, err := strictDecode(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("known fields changed:\n got %#v\nwant %#v", p, want)
			}
			if env.ID == "" || env.Repo == nil || env.CorrelationID == "" {
				t.Fatalf("envelope fields lost: %+v", env)
			}
		})
	}
}

func TestDecodeRejectsWhatIsNotAnEnvelope(t *testing.T) {
	env := exampleEnvelope(t, examples[TypeConsumerFailed])
	env.Type = "nope.nothing.v1"
	if _, err := env.Payload(); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Decode([]byte(`{"id":"x","type":"consumer.failed.v1","data":{}} {}`)); err == nil {
		t.Error("trailing data accepted")
	}
	if _, err := Decode([]byte(`{"type":"consumer.failed.v1","data":{}}`)); err == nil {
		t.Error("envelope without id accepted")
	}
	if _, err := Decode([]byte(`{"id":"x","type":"consumer.failed.v1","data":{"deliveries":"three"}}`)); err != nil {
		t.Fatal(err) // the payload is decoded later
	}
	bad := &Envelope{ID: "x", Type: TypeConsumerFailed, Data: json.RawMessage(`{"deliveries":"three"}`)}
	if _, err := bad.Payload(); err == nil {
		t.Error("a payload field of the wrong type accepted")
	}
}

func TestDecodeDataChecksType(t *testing.T) {
	env := exampleEnvelope(t, examples[TypeConsumerFailed])
	if err := env.DecodeData(&GitHubDelivery{}); err == nil {
		t.Fatal("decoding a consumer.failed event as a delivery succeeded")
	}
}

func TestDeriveIDIsDeterministicAndUnambiguous(t *testing.T) {
	a := DeriveID("acme/gitops", "abc", "k")
	if a != DeriveID("acme/gitops", "abc", "k") {
		t.Fatal("same parts gave different ids")
	}
	if DeriveID("ab", "c") == DeriveID("a", "bc") {
		t.Fatal("part boundaries are ambiguous")
	}
	if first, second := RandomID(), RandomID(); first == second {
		t.Fatal("random ids repeat")
	}
}

func init() {
	// A large delivery: the body lives in the object store.
	examples[TypeGitHubDelivery+"#ref"] = &GitHubDelivery{
		DeliveryID: "0b1c2d3e-cc78-11e3-81ab-4c9367dc0958",
		Event:      "push",
		Headers:    map[string]string{"Content-Type": "application/json", "X-Github-Event": "push"},
		BodyRef: &BodyRef{Bucket: BucketBodies, Name: "0b1c2d3e-cc78-11e3-81ab-4c9367dc0958",
			Size: 26214400, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		ReceivedAt: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
	}
}
