package forward

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestForwardHeaders(t *testing.T) {
	orig := map[string]string{
		"X-Github-Event":      "push",
		"X-Github-Delivery":   "d-1",
		"X-Hub-Signature-256": "sha256=abc",
		"X-Hub-Signature":     "sha1=def",
		"User-Agent":          "GitHub-Hookshot/1",
		"Content-Type":        "application/json",
		"Accept":              "*/*",
		"Host":                "telefonistka.example.com",
		"Content-Length":      "123",
		"Connection":          "keep-alive, X-Private-Hop",
		"X-Private-Hop":       "1",
		"Keep-Alive":          "timeout=5",
		"Transfer-Encoding":   "chunked",
		"Te":                  "trailers",
		"Upgrade":             "h2c",
		"Proxy-Authorization": "Basic x",
		"Authorization":       "Bearer for-telefonistka",
		"cookie":              "session=1",
		"X-API-Key":           "k",
		"x-lower-case":        "kept",
	}
	got := ForwardHeaders(orig)
	want := http.Header{
		"X-Github-Event":      {"push"},
		"X-Github-Delivery":   {"d-1"},
		"X-Hub-Signature-256": {"sha256=abc"},
		"X-Hub-Signature":     {"sha1=def"},
		"User-Agent":          {"GitHub-Hookshot/1"},
		"Content-Type":        {"application/json"},
		"Accept":              {"*/*"},
		"X-Lower-Case":        {"kept"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("forwarded headers:\n got %v\nwant %v", got, want)
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		delivered  bool
		retryable  bool
		status     int
		retryAfter time.Duration
	}{
		{name: "200", handler: func(w http.ResponseWriter, _ *http.Request) {}, delivered: true, status: 200},
		{name: "204", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }, delivered: true, status: 204},
		{name: "404 is final", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }, status: 404},
		{name: "400 is final", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(400) }, status: 400},
		{name: "redirect is not followed and is final", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, status: 307},
		{name: "429 with Retry-After", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, retryable: true, status: 429, retryAfter: 7 * time.Second},
		{name: "503", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, retryable: true, status: 503},
		{name: "500 with a large body", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write(bytes.Repeat([]byte("x"), 1<<20))
		}, retryable: true, status: 500},
	}
	c := NewClient(5*time.Second, 4, true)
	defer c.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			o := c.Send(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`)})
			if o.Delivered() != tc.delivered || o.Retryable != tc.retryable || o.StatusCode != tc.status || o.RetryAfter != tc.retryAfter {
				t.Fatalf("outcome %+v; want delivered=%v retryable=%v status=%d retryAfter=%v",
					o, tc.delivered, tc.retryable, tc.status, tc.retryAfter)
			}
		})
	}
}

func TestSendSendsBodyAndHeadersAsGiven(t *testing.T) {
	body := []byte("{\"a\":  1,\n \"b\":\"\u00e9\"}\n")
	got := make(chan *http.Request, 1)
	gotBody := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		gotBody <- b
	}))
	defer srv.Close()
	c := NewClient(5*time.Second, 1, true)
	defer c.Close()
	o := c.Send(context.Background(), Request{URL: srv.URL + "/hook?x=1", Body: body,
		Headers: map[string]string{"X-Github-Event": "push", "User-Agent": "GitHub-Hookshot/1"}})
	if !o.Delivered() {
		t.Fatal(o.Err)
	}
	r := <-got
	if r.Method != http.MethodPost || r.URL.Path != "/hook" || r.URL.RawQuery != "x=1" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if r.Header.Get("X-Github-Event") != "push" || r.UserAgent() != "GitHub-Hookshot/1" {
		t.Errorf("headers %v", r.Header)
	}
	if b := <-gotBody; !bytes.Equal(b, body) || r.ContentLength != int64(len(body)) {
		t.Errorf("body %q (length %d), want %q", b, r.ContentLength, body)
	}
}

func TestSendTimesOutAndConnectionErrorsAreRetryable(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	c := NewClient(200*time.Millisecond, 1, true)
	defer c.Close()
	start := time.Now()
	o := c.Send(context.Background(), Request{URL: hang.URL})
	if o.Delivered() || !o.Retryable || o.StatusCode != 0 {
		t.Fatalf("hanging endpoint: %+v", o)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("attempt took %v despite a 200ms timeout", el)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	if o := c.Send(context.Background(), Request{URL: url}); o.Delivered() || !o.Retryable || o.StatusCode != 0 {
		t.Fatalf("closed port: %+v", o)
	}
}

func TestSendVerifiesTLSUnlessSkipped(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	c := NewClient(5*time.Second, 1, true)
	defer c.Close()
	if o := c.Send(context.Background(), Request{URL: srv.URL}); o.Delivered() {
		t.Fatal("self-signed certificate accepted with verification on")
	}
	if o := c.Send(context.Background(), Request{URL: srv.URL, SkipTLSVerify: true}); !o.Delivered() {
		t.Fatalf("with SkipTLSVerify: %v", o.Err)
	}
}

// Without the opt-in, the client does not connect to the machine itself,
// whatever the URL looks like, and says so as a final outcome.
func TestSendRefusesLocalAddressesUnlessAllowed(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	c := NewClient(5*time.Second, 1, false)
	defer c.Close()
	o := c.Send(context.Background(), Request{URL: srv.URL + "/hook?token=s3cret", Body: []byte("{}")})
	if o.Delivered() || o.Retryable || called {
		t.Fatalf("outcome %+v, endpoint called: %v; want a final refusal before connecting", o, called)
	}
	if !strings.Contains(o.Err.Error(), "FANOUT_ALLOW_LOCAL_ADDRESSES") || strings.Contains(o.Err.Error(), "s3cret") {
		t.Fatalf("error %q: want the opt-in named and no query", o.Err)
	}
	// A name that resolves to loopback is refused the same way.
	o = c.Send(context.Background(), Request{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), Body: []byte("{}")})
	if o.Delivered() || called {
		t.Fatalf("localhost: outcome %+v, endpoint called: %v", o, called)
	}
}
