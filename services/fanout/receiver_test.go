package fanout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// call is one request a receiver got.
type call struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a webhook endpoint on loopback. respond decides the answer
// to the n-th call of a path (n from 1); nil answers 200.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []call
	respond func(path string, n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t testing.TB, respond func(path string, n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.calls = append(rc.calls, call{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := 0
		for _, c := range rc.calls {
			if c.Path == r.URL.Path {
				n++
			}
		}
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(r.URL.Path, n, w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) callsTo(path string) []call {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []call
	for _, c := range rc.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func (rc *receiver) paths() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for _, c := range rc.calls {
		out[c.Path]++
	}
	return out
}

// pushBody is a push payload as GitHub sends it (trimmed), with each
// commit's added, modified and removed files.
func pushBody(ref, defaultBranch, after string, commits ...[3][]string) []byte {
	cs := make([]map[string]any, len(commits))
	for i, c := range commits {
		cs[i] = map[string]any{"id": fmt.Sprintf("c%d", i), "added": c[0], "modified": c[1], "removed": c[2]}
	}
	b, err := json.Marshal(map[string]any{
		"ref": ref, "before": "1111111111111111111111111111111111111111", "after": after,
		"created": false, "deleted": false, "commits": cs,
		"repository": map[string]any{
			"name": testRepo, "full_name": testOwner + "/" + testRepo, "default_branch": defaultBranch,
			"owner": map[string]any{"login": testOwner, "name": testOwner},
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// verifies reports whether the request carries a valid signature of body.
func verifies(h http.Header, body []byte) bool {
	return hmac.Equal([]byte(h.Get("X-Hub-Signature-256")), []byte(sign(body)))
}
