package events

import (
	"os"
	"strings"
	"testing"
)

// consumerTable renders the README's "Who consumes what" table.
func consumerTable() string {
	var b strings.Builder
	b.WriteString("| service | durable consumer | stream | subjects |\n|---|---|---|---|\n")
	for _, c := range Consumers() {
		subjects := make([]string, len(c.FilterSubjects))
		for i, s := range c.FilterSubjects {
			subjects[i] = "`" + s + "`"
		}
		b.WriteString("| " + c.Service + " | `" + c.Durable + "` | `" + c.Stream + "` | " + strings.Join(subjects, ", ") + " |\n")
	}
	return b.String()
}

func TestReadmeMapsEveryConsumer(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- consumers: generated from Consumers(), checked by TestReadmeMapsEveryConsumer -->\n", "<!-- /consumers -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no consumer table between %q and %q", begin, end)
	}
	if got, want := s[i+len(begin):j], consumerTable(); got != want {
		t.Fatalf("README.md's consumer table is not Consumers(); want:\n%s", want)
	}
}

func TestConsumerNamesAreUniqueAndKnown(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Consumers() {
		if seen[c.Durable] {
			t.Errorf("consumer %s listed twice", c.Durable)
		}
		seen[c.Durable] = true
		if Consumer(c.Durable).Stream != c.Stream || len(c.FilterSubjects) == 0 {
			t.Errorf("consumer %s: %+v", c.Durable, c)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an unknown consumer name did not panic")
		}
	}()
	Consumer("nobody")
}

func TestStreamsOf(t *testing.T) {
	got := strings.Join(StreamsOf("planner"), ",")
	if got != "DEADLETTER,GITHUB,PROMOTION" {
		t.Errorf("planner needs %s", got)
	}
	if got := strings.Join(StreamsOf("ingress"), ","); got != "GITHUB" {
		t.Errorf("ingress needs %s", got)
	}
	if got := strings.Join(StreamsOf("drift"), ","); got != "DEADLETTER,DRIFT,GITHUB" {
		t.Errorf("drift needs %s", got)
	}
}
