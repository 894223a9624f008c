package githubapi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v52/github"
)

// RetryAfterError asks for the work to be retried after Delay (a rate
// limit). Consumers find it with errors.As or through its RetryAfter method.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry in %v)", e.Err, e.Delay)
}
func (e *RetryAfterError) Unwrap() error             { return e.Err }
func (e *RetryAfterError) RetryAfter() time.Duration { return e.Delay }

// PermanentError is a failure that retrying will not fix (bad credentials,
// missing repo, rejected input). Message is GitHub's own explanation, fit
// for a PR comment.
type PermanentError struct {
	StatusCode int
	Message    string
	Err        error
}

func (e *PermanentError) Error() string   { return e.Err.Error() }
func (e *PermanentError) Unwrap() error   { return e.Err }
func (e *PermanentError) Permanent() bool { return true }

// HTTPStatusError is a non-2xx GraphQL response (the GraphQL client gives
// no typed error of its own), or a GraphQL rate-limit answer.
type HTTPStatusError struct {
	Method     string
	URL        string
	StatusCode int
	Header     http.Header
	Message    string
	// RateLimited marks a 200 answer reporting RATE_LIMITED.
	RateLimited bool
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, e.Message)
}

const (
	// defaultSecondaryDelay is the wait after a secondary rate limit that
	// names no Retry-After, as GitHub advises ("at least one minute").
	defaultSecondaryDelay = time.Minute
	// maxRateLimitDelay caps waits computed from X-RateLimit-Reset.
	maxRateLimitDelay = time.Hour
)

// Classify tells consumers what to do about err. It returns:
//   - a *RetryAfterError for rate limits: the Retry-After of a secondary
//     limit (or a minute), or the primary limit's reset time plus a little jitter;
//   - a *PermanentError for 4xx answers other than rate limits, 408 and 409;
//   - err itself for everything else (5xx, timeouts, connection errors),
//     which consumers retry with backoff.
//
// Errors that already carry RetryAfter or Permanent are returned as they
// are. errors.Is and errors.As still reach every wrapped error.
func Classify(err error) error { return defaultClassifier.classify(err) }

type classifier struct {
	now    func() time.Time
	jitter func() time.Duration
}

var defaultClassifier = classifier{
	now:    time.Now,
	jitter: func() time.Duration { return time.Second + rand.N(4*time.Second) }, //nolint:gosec // retry jitter, not a secret
}

func (c classifier) classify(err error) error {
	if err == nil || alreadyClassified(err) {
		return err
	}
	var (
		abuse *github.AbuseRateLimitError
		rate  *github.RateLimitError
		resp  *github.ErrorResponse
		otp   *github.TwoFactorAuthError
		gql   *HTTPStatusError
		inst  *ghinstallation.HTTPError
	)
	switch {
	case errors.As(err, &abuse):
		if abuse.RetryAfter != nil && *abuse.RetryAfter > 0 {
			return &RetryAfterError{Delay: *abuse.RetryAfter, Err: err}
		}
		return c.byResponse(err, abuse.Response, abuse.Message, true)
	case errors.As(err, &rate):
		if rate.Rate.Reset.IsZero() {
			return &RetryAfterError{Delay: defaultSecondaryDelay, Err: err}
		}
		return &RetryAfterError{Delay: c.untilReset(rate.Rate.Reset.Time), Err: err}
	case errors.As(err, &otp):
		return &PermanentError{StatusCode: http.StatusUnauthorized, Message: otp.Message, Err: err}
	case errors.As(err, &resp):
		return c.byResponse(err, resp.Response, responseMessage(resp), false)
	case errors.As(err, &gql):
		return c.byStatus(err, gql.StatusCode, gql.Header, gql.Message, gql.RateLimited)
	case errors.As(err, &inst) && inst.Response != nil:
		return c.byResponse(err, inst.Response, inst.Message, false)
	}
	return err
}

func alreadyClassified(err error) bool {
	var ra interface{ RetryAfter() time.Duration }
	var perm interface{ Permanent() bool }
	return errors.As(err, &ra) || (errors.As(err, &perm) && perm.Permanent())
}

func (c classifier) byResponse(err error, resp *http.Response, msg string, secondary bool) error {
	if resp == nil {
		if secondary {
			return &RetryAfterError{Delay: defaultSecondaryDelay, Err: err}
		}
		return err
	}
	return c.byStatus(err, resp.StatusCode, resp.Header, msg, secondary)
}

func (c classifier) byStatus(err error, code int, h http.Header, msg string, secondary bool) error {
	if code == http.StatusForbidden || code == http.StatusTooManyRequests || secondary {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), c.now()); ok {
			return &RetryAfterError{Delay: d, Err: err}
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			if reset, ok := parseEpoch(h.Get("X-RateLimit-Reset")); ok {
				return &RetryAfterError{Delay: c.untilReset(reset), Err: err}
			}
		}
		if secondary || code == http.StatusTooManyRequests || strings.Contains(strings.ToLower(msg), "rate limit") {
			return &RetryAfterError{Delay: defaultSecondaryDelay, Err: err}
		}
	}
	switch {
	case code >= 500, code == http.StatusRequestTimeout, code == http.StatusConflict:
		return err
	case code >= 400:
		return &PermanentError{StatusCode: code, Message: msg, Err: err}
	default:
		return err
	}
}

// untilReset is the wait until reset, plus jitter so that waiting
// consumers do not all come back in the same second.
func (c classifier) untilReset(reset time.Time) time.Duration {
	d := reset.Sub(c.now())
	d = max(0, min(d, maxRateLimitDelay))
	return d + c.jitter()
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

func parseEpoch(v string) (time.Time, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// responseMessage is GitHub's message with the details it lists.
func responseMessage(r *github.ErrorResponse) string {
	msg := r.Message
	for _, e := range r.Errors {
		detail := e.Message
		if detail == "" {
			detail = strings.TrimSpace(strings.Join([]string{e.Resource, e.Field, e.Code}, " "))
		}
		if detail != "" {
			msg += ": " + detail
		}
	}
	return msg
}
