package fanout

import (
	"bytes"
	"net/url"
	"reflect"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
)

const someSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"

func TestParsePush(t *testing.T) {
	f := files([]string{"b", "a"}, []string{"c", "a"}, nil)
	g := files(nil, []string{"d"}, []string{"b", "e"})
	body := pushBody("refs/heads/trunk", "trunk", someSHA, f, g)
	form := []byte("payload=" + url.QueryEscape(string(body)))
	cases := []struct {
		name        string
		body        []byte
		contentType string
		forwardable bool
		files       []string
		wantErr     bool
	}{
		{name: "default branch", body: body, contentType: "application/json", forwardable: true, files: []string{"a", "b", "c", "d", "e"}},
		{name: "content type with parameters", body: body, contentType: "application/json; charset=utf-8", forwardable: true, files: []string{"a", "b", "c", "d", "e"}},
		{name: "form encoded", body: form, contentType: "application/x-www-form-urlencoded", forwardable: true, files: []string{"a", "b", "c", "d", "e"}},
		{name: "other branch", body: pushBody("refs/heads/main", "trunk", someSHA, f), contentType: "application/json", files: []string{"a", "b", "c"}},
		{name: "tag named like the branch", body: pushBody("refs/tags/trunk", "trunk", someSHA, f), contentType: "application/json", files: []string{"a", "b", "c"}},
		{name: "no default branch in payload", body: pushBody("refs/heads/", "", someSHA, f), contentType: "application/json", files: []string{"a", "b", "c"}},
		{name: "deletion", body: pushBody("refs/heads/trunk", "trunk", zeroSHA), contentType: "application/json", files: []string{}},
		{name: "no commits", body: pushBody("refs/heads/trunk", "trunk", someSHA), contentType: "application/json", forwardable: true, files: []string{}},
		{name: "not JSON", body: []byte("<xml/>"), contentType: "application/json", wantErr: true},
		{name: "form without payload", body: []byte("x=1"), contentType: "application/x-www-form-urlencoded", wantErr: true},
		{name: "wrong JSON shape", body: []byte(`{"ref": 5}`), contentType: "application/json", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePush(&events.GitHubDelivery{Event: "push", Body: tc.body, Headers: map[string]string{"content-type": tc.contentType}})
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.forwardable() != tc.forwardable {
				t.Errorf("forwardable = %v, want %v (%+v)", p.forwardable(), tc.forwardable, p)
			}
			if !reflect.DeepEqual(p.Files, tc.files) {
				t.Errorf("files %q, want %q", p.Files, tc.files)
			}
			if p.Repo != repo {
				t.Errorf("repo %v", p.Repo)
			}
		})
	}
}

func TestParsePushDeletedFlag(t *testing.T) {
	body := bytes.Replace(pushBody("refs/heads/main", "main", someSHA), []byte(`"deleted":false`), []byte(`"deleted":true`), 1)
	p, err := parsePush(&events.GitHubDelivery{Body: body, Headers: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if p.forwardable() {
		t.Fatal("a deleting push is forwardable")
	}
}

// FuzzParsePush feeds arbitrary bodies: parsing never panics, and a push
// it calls forwardable names the default branch.
func FuzzParsePush(f *testing.F) {
	f.Add(pushBody("refs/heads/main", "main", someSHA, files([]string{"a/b"}, nil, []string{"c"})), "application/json")
	f.Add([]byte("payload=%7B%22ref%22%3A%22refs%2Fheads%2Fx%22%7D"), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"ref":"refs/heads/","after":"x","repository":{"default_branch":""},"commits":[null,{"added":[""]}]}`), "application/json")
	f.Add([]byte(`[]`), "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		p, err := parsePush(&events.GitHubDelivery{Body: body, Headers: map[string]string{"Content-Type": contentType}})
		if err != nil {
			return
		}
		if p.forwardable() && (p.DefaultBranch == "" || p.Ref != "refs/heads/"+p.DefaultBranch || p.After == zeroSHA) {
			t.Fatalf("forwardable push %+v", p)
		}
		for i := 1; i < len(p.Files); i++ {
			if p.Files[i-1] >= p.Files[i] {
				t.Fatalf("files not sorted and unique: %q", p.Files)
			}
		}
	})
}
