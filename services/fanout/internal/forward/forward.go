// Package forward sends one copy of a webhook delivery to one endpoint and
// classifies the outcome: delivered, worth retrying (no answer, timeout, 429,
// 5xx) or final. It makes exactly one attempt; retries are the caller's.
package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/services/fanout/internal/netguard"
)

// Request is one copy of a delivery for one endpoint.
type Request struct {
	URL string
	// Headers are the original request headers; ForwardHeaders filters them.
	Headers map[string]string
	// Body is sent byte for byte.
	Body []byte
	// SkipTLSVerify turns off certificate verification for this request.
	SkipTLSVerify bool
}

// Outcome is what one attempt produced.
type Outcome struct {
	// StatusCode is the answer's status; 0 when there was no answer.
	StatusCode int
	// Err is nil when the endpoint answered 2xx.
	Err error
	// Retryable is true for no answer, a timeout, 429 and 5xx.
	Retryable bool
	// RetryAfter is the answer's Retry-After, when it had a usable one.
	RetryAfter time.Duration
}

// Delivered reports whether the endpoint answered 2xx.
func (o Outcome) Delivered() bool { return o.Err == nil }

// Client sends requests with a per-attempt timeout. Redirects are not
// followed: a 3xx is a final answer, so a redirect can never lead a
// request past the URL checks.
type Client struct {
	timeout  time.Duration
	verify   *http.Client
	insecure *http.Client
	now      func() time.Time
}

// NewClient returns a Client whose attempts each last at most timeout, and
// which keeps up to idlePerHost idle connections per host. Unless
// allowLocal, it refuses to connect to loopback, link-local and metadata
// addresses (netguard), whatever name resolved to them.
func NewClient(timeout time.Duration, idlePerHost int, allowLocal bool) *Client {
	return &Client{
		timeout:  timeout,
		verify:   newHTTPClient(idlePerHost, false, allowLocal),
		insecure: newHTTPClient(idlePerHost, true, allowLocal),
		now:      time.Now,
	}
}

func newHTTPClient(idlePerHost int, skipVerify, allowLocal bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = idlePerHost
	if !allowLocal {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: netguard.Control}
		tr.DialContext = d.DialContext
	}
	if skipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only with whProxtSkipTLSVerifyUpstream
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Close releases idle connections.
func (c *Client) Close() {
	c.verify.CloseIdleConnections()
	c.insecure.CloseIdleConnections()
}

// maxDrain is how much of an answer's body is read so the connection can
// be reused; the body itself is ignored.
const maxDrain = 64 << 10

// Send makes one POST attempt.
func (c *Client) Send(ctx context.Context, r Request) Outcome {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Outcome{Err: fmt.Errorf("building request: %w", err)}
	}
	req.Header = ForwardHeaders(r.Headers)
	hc := c.verify
	if r.SkipTLSVerify {
		hc = c.insecure
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The client's error names the URL with its query: keep only
		// the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, netguard.ErrRefused) {
			return Outcome{Err: fmt.Errorf("not called: %w", err)}
		}
		return Outcome{Err: fmt.Errorf("no answer: %w", err), Retryable: true}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	return c.classify(resp)
}

func (c *Client) classify(resp *http.Response) Outcome {
	o := Outcome{StatusCode: resp.StatusCode}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return o
	}
	o.Err = fmt.Errorf("endpoint answered %s", statusText(code))
	if code == http.StatusTooManyRequests || code >= 500 {
		o.Retryable = true
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			o.RetryAfter = d
		}
	}
	return o
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// dropped are the headers never forwarded: hop-by-hop headers (RFC 9110
// section 7.6.1, plus the non-standard ones proxies use), Host and
// Content-Length, which belong to the new request, and credentials meant
// for Telefonistka (or a proxy in front of it), never for the endpoints.
var dropped = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true,
	"Authorization": true, "Cookie": true, "X-Api-Key": true,
}

// ForwardHeaders returns the headers to send: every original header except
// hop-by-hop ones (including those the Connection header names), Host,
// Content-Length and credentials (Authorization, Cookie, X-Api-Key).
// Values are kept as they are.
func ForwardHeaders(orig map[string]string) http.Header {
	extra := map[string]bool{}
	for k, v := range orig {
		if http.CanonicalHeaderKey(k) != "Connection" {
			continue
		}
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				extra[http.CanonicalHeaderKey(name)] = true
			}
		}
	}
	h := make(http.Header, len(orig))
	for k, v := range orig {
		ck := http.CanonicalHeaderKey(k)
		if dropped[ck] || extra[ck] {
			continue
		}
		h[ck] = append(h[ck], v)
	}
	return h
}
