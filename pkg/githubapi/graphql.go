package githubapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error answer is read for its message.
const maxErrorBody = 64 << 10

// graphQLErrors turns GraphQL answers that carry no data into typed
// errors Classify understands: any non-200 status, and a 200 that reports
// RATE_LIMITED with no requests left. The GraphQL client has no typed
// errors of its own.
type graphQLErrors struct {
	next http.RoundTripper
}

func (t *graphQLErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rateLimited := resp.StatusCode == http.StatusOK && resp.Header.Get("X-RateLimit-Remaining") == "0"
	if resp.StatusCode == http.StatusOK && !rateLimited {
		return resp, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if readErr != nil {
		return nil, readErr
	}
	if rateLimited {
		if !bytes.Contains(body, []byte("RATE_LIMITED")) {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
	}
	return nil, &HTTPStatusError{
		Method:      req.Method,
		URL:         req.URL.Redacted(),
		StatusCode:  resp.StatusCode,
		Header:      resp.Header,
		Message:     graphQLMessage(body),
		RateLimited: rateLimited,
	}
}

// graphQLMessage is the message GitHub put in an error body, or the body itself.
func graphQLMessage(body []byte) string {
	var parsed struct {
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		msgs := []string{}
		if parsed.Message != "" {
			msgs = append(msgs, parsed.Message)
		}
		for _, e := range parsed.Errors {
			if e.Message != "" {
				msgs = append(msgs, e.Message)
			}
		}
		if len(msgs) > 0 {
			return strings.Join(msgs, "; ")
		}
	}
	return strings.TrimSpace(string(body))
}
