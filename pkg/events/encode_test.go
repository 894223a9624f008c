package events

import (
	"bytes"
	"encoding/json"
	"sort"
	"testing"
)

// Encode writes what json.Marshal writes, for every example and for
// envelopes without their optional fields or data.
func TestEncodeIsJSONMarshal(t *testing.T) {
	keys := make([]string, 0, len(examples))
	for k := range examples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var envs []*Envelope
	for _, k := range keys {
		full := exampleEnvelope(t, examples[k])
		bare := *full
		bare.CausationID, bare.Repo, bare.PR = "", nil, 0
		envs = append(envs, full, &bare)
	}
	data, err := json.Marshal(map[string]string{"a": "<b>\u2028"}) // as New encodes data
	if err != nil {
		t.Fatal(err)
	}
	envs = append(envs, &Envelope{ID: "x", Type: TypeGitHubDelivery},
		&Envelope{ID: "<&>", Type: "t", Source: "a\u2028b", Data: data})
	for _, env := range envs {
		want, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := env.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Encode differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	}
}

// BenchmarkEncodeDelivery encodes the envelope of a 4.7 KB webhook, as
// ingress does for every delivery it stores.
func BenchmarkEncodeDelivery(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4700)
	env, err := New(Meta{ID: "d", Source: "ingress", CorrelationID: "d", Repo: &Repo{Owner: "acme", Name: "gitops"}},
		&GitHubDelivery{DeliveryID: "d", Event: "push", Headers: map[string]string{"Content-Type": "application/json"}, Body: body})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
