package events

import (
	"strings"
	"testing"
)

func TestEscapeToken(t *testing.T) {
	cases := []struct{ in, want string }{
		{"acme", "acme"},
		{"my-org", "my-org"},
		{"gitops.infra", "gitops%2Einfra"},
		{"a*b", "a%2Ab"},
		{"a>b", "a%3Eb"},
		{"100%", "100%25"},
		{"with space", "with%20space"},
		{"-leading", "%2Dleading"},
		{"", EmptyToken},
		{"ünï", "%C3%BCn%C3%AF"},
		{"pull_request", "pull_request"},
	}
	for _, c := range cases {
		got := EscapeToken(c.in)
		if got != c.want {
			t.Errorf("EscapeToken(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.ContainsAny(got, ".*> \t") {
			t.Errorf("EscapeToken(%q) = %q still holds a special character", c.in, got)
		}
		back, err := UnescapeToken(got)
		if err != nil || back != c.in {
			t.Errorf("UnescapeToken(%q) = %q, %v; want %q", got, back, err, c.in)
		}
	}
}

func TestUnescapeRejectsMalformed(t *testing.T) {
	for _, bad := range []string{"a.b", "%2", "%ZZ", "a*"} {
		if _, err := UnescapeToken(bad); err == nil {
			t.Errorf("UnescapeToken(%q) succeeded", bad)
		}
	}
}

func FuzzEscapeToken(f *testing.F) {
	for _, s := range []string{"", "a.b", "*", ">", "-", "%", "x y", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := EscapeToken(s)
		if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Fatalf("EscapeToken(%q) = %q is not a single literal token", s, tok)
		}
		back, err := UnescapeToken(tok)
		if err != nil || back != s {
			t.Fatalf("round trip of %q: %q, %v", s, back, err)
		}
	})
}

func TestSubjects(t *testing.T) {
	repo := &Repo{Owner: "acme", Name: "gitops.prod"}
	if got, want := GitHubSubject("pull_request", "closed", repo), "github.pull_request.closed.acme.gitops%2Eprod"; got != want {
		t.Errorf("GitHubSubject = %q, want %q", got, want)
	}
	if got, want := GitHubSubject("ping", "", nil), "github.ping.-.-.-"; got != want {
		t.Errorf("GitHubSubject without action and repo = %q, want %q", got, want)
	}
	// Exactly five tokens whatever the names hold.
	for _, name := range []string{"a.b.c", "*", ">", "x>y.z*"} {
		s := GitHubSubject("push", "", &Repo{Owner: name, Name: name})
		if n := len(strings.Split(s, ".")); n != 5 {
			t.Errorf("subject %q has %d tokens", s, n)
		}
	}
	env := exampleEnvelope(t, examples[TypeConsumerFailed])
	env.Repo = repo
	s, err := Subject(env)
	if err != nil || s != "consumer.failed.acme.gitops%2Eprod" {
		t.Errorf("Subject = %q, %v", s, err)
	}
	del := exampleEnvelope(t, examples[TypeGitHubDelivery])
	if s, _ := Subject(del); s != "github.pull_request.closed.acme.gitops" {
		t.Errorf("delivery subject = %q", s)
	}
	if got := FilterFor("promotion.planned.v1"); got != "promotion.planned.>" {
		t.Errorf("FilterFor = %q", got)
	}
	if got := GitHubFilter("pull_request", "*"); got != "github.pull_request.*.>" {
		t.Errorf("GitHubFilter = %q", got)
	}
	if got := DeadLetterSubject("planner", repo); got != "deadletter.planner.acme.gitops%2Eprod" {
		t.Errorf("DeadLetterSubject = %q", got)
	}
}

func TestStreamsCoverEverySubject(t *testing.T) {
	streams := Streams(0)
	covered := func(subject string) int {
		n := 0
		for _, s := range streams {
			for _, pat := range s.Subjects {
				if strings.HasPrefix(subject, strings.TrimSuffix(pat, ">")) {
					n++
				}
			}
		}
		return n
	}
	for _, typ := range Types() {
		env := exampleEnvelope(t, examples[typ])
		subj, err := Subject(env)
		if err != nil {
			t.Fatal(err)
		}
		if typ == TypeConsumerFailed {
			subj = DeadLetterSubject("planner", env.Repo)
		}
		if n := covered(subj); n != 1 {
			t.Errorf("subject %s of %s is stored by %d streams, want 1", subj, typ, n)
		}
	}
}

func TestPayloadJSON(t *testing.T) {
	d := &GitHubDelivery{DeliveryID: "x", Headers: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"a":1}`)}
	if b, err := d.PayloadJSON(); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("json: %s, %v", b, err)
	}
	d = &GitHubDelivery{DeliveryID: "x", Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body: []byte(`payload=%7B%22a%22%3A1%7D`)}
	if b, err := d.PayloadJSON(); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("form: %s, %v", b, err)
	}
	d.Body = []byte(`other=1`)
	if _, err := d.PayloadJSON(); err == nil {
		t.Fatal("form without payload accepted")
	}
}
