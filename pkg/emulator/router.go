package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// access says which kind of credential a route needs.
type access int

const (
	accessUser         access = iota // a user or installation token
	accessApp                        // an app JWT
	accessInstallation               // an installation token
	accessAny                        // anything, including app JWTs
)

// reqCtx is what a route handler gets besides the request.
type reqCtx struct {
	id   *identity
	repo *repo // set for /repos/{owner}/{repo}/... routes
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *reqCtx)

func (e *Emulator) routes() http.Handler {
	api := chi.NewRouter()
	// Unknown routes still authenticate, count (as "METHOD <unmatched>") and carry the
	// rate-limit headers, as GitHub's 404s do.
	unmatched := func(w http.ResponseWriter, r *http.Request) {
		e.wrap(r.Method, "<unmatched>", accessAny, "core", func(w http.ResponseWriter, _ *http.Request, _ *reqCtx) {
			writeError(w, errNotFound())
		}).ServeHTTP(w, r)
	}
	api.NotFound(unmatched)
	api.MethodNotAllowed(unmatched)
	add := func(method, pattern string, acc access, h handlerFunc) {
		api.Method(method, pattern, e.wrap(method, pattern, acc, "core", h))
	}
	e.registerMisc(add)
	e.registerRepos(add)
	e.registerCollaborators(add)
	e.registerGit(add)
	e.registerCommits(add)
	e.registerPulls(add)
	e.registerIssues(add)
	graphql := e.wrap(http.MethodPost, "/graphql", accessUser, "graphql", e.serveGraphQL)
	controls := e.controlRoutes()

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-GitHub-Request-Id", requestID())
		w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
		w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
		path := r.URL.EscapedPath()
		switch {
		case path == "/_emulator" || strings.HasPrefix(path, "/_emulator/"):
			controls.ServeHTTP(w, r)
			return
		case path == "/api/graphql" || path == "/graphql":
			if r.Method != http.MethodPost {
				writeError(w, errNotFound())
				return
			}
			graphql.ServeHTTP(w, r)
			return
		}
		if rest, ok := strings.CutPrefix(path, "/api/v3"); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
		if path == "" {
			path = "/"
		}
		rctx := chi.NewRouteContext()
		rctx.RoutePath = path
		api.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx)))
	})
}

func requestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:4] + ":" + h[4:8] + ":" + h[8:14] + ":" + h[14:20]
}

// wrap adds what every API route does: counting, injected latency and faults,
// authentication, rate-limit headers and repository lookup.
func (e *Emulator) wrap(method, pattern string, acc access, resource string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.EscapedPath()
		if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePath != "" {
			path = rctx.RoutePath
		}
		delay, before, fault := e.ctl.begin(method, pattern, path)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if before != nil {
			before()
		}
		id, authErr := e.auth.authenticate(r)
		bucket := "anonymous"
		if id != nil {
			bucket = id.key
		}
		bucket += "/" + resource
		if fault != nil {
			e.applyFault(w, fault, bucket, resource)
			return
		}
		if id != nil && createsContent(method, pattern) {
			if wait, ok := e.writes.admit(identityName(id), time.Now()); !ok {
				e.applyFault(w, &Fault{Kind: FaultSecondaryRateLimit, RetryAfter: max(1, int(wait.Round(time.Second).Seconds()))}, bucket, resource)
				return
			}
		}
		if pattern != "/rate_limit" {
			used, reset, exhausted := e.ctl.spend(bucket, e.opts.RateLimit, e.opts.EnforceRateLimit, time.Now())
			setRateHeaders(w, e.opts.RateLimit, used, reset, resource)
			if exhausted {
				writeError(w, &apiError{Status: http.StatusForbidden, Message: "API rate limit exceeded for " + bucket + ".",
					DocURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#primary-rate-limit"})
				return
			}
		}
		if authErr != nil {
			writeError(w, authErr)
			return
		}
		if aerr := checkAccess(id, acc); aerr != nil {
			writeError(w, aerr)
			return
		}
		c := &reqCtx{id: id}
		if owner := param(r, "owner"); owner != "" {
			rp, ok := e.repo(owner, param(r, "repo"))
			if !ok || (id.inst != nil && !strings.EqualFold(id.inst.account.Login, rp.owner.Login)) {
				writeError(w, errNotFound())
				return
			}
			c.repo = rp
		}
		h(w, r, c)
	})
}

func checkAccess(id *identity, acc access) *apiError {
	isJWT := id.user == nil
	switch acc {
	case accessApp:
		if !isJWT {
			return &apiError{Status: http.StatusUnauthorized, Message: "A JSON web token could not be decoded"}
		}
	case accessInstallation:
		if id.inst == nil {
			return &apiError{Status: http.StatusForbidden, Message: "You must authenticate with an installation access token in order to list repositories for an installation."}
		}
	case accessUser:
		if isJWT {
			return &apiError{Status: http.StatusForbidden, Message: "Resource not accessible by integration"}
		}
	}
	return nil
}

func setRateHeaders(w http.ResponseWriter, limit, used int, reset time.Time, resource string) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", resource)
}

func (e *Emulator) applyFault(w http.ResponseWriter, f *Fault, bucket, resource string) {
	t := time.Now()
	used, reset := e.ctl.peek(bucket, t)
	switch f.Kind {
	case FaultServerError:
		setRateHeaders(w, e.opts.RateLimit, used, reset, resource)
		writeError(w, &apiError{Status: f.Status, Message: "Server Error"})
	case FaultSecondaryRateLimit:
		setRateHeaders(w, e.opts.RateLimit, used, reset, resource)
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		writeError(w, &apiError{Status: http.StatusForbidden, DocURL: secondaryDocURL,
			Message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
				"If you reach out to GitHub Support for help, please include the request ID " + w.Header().Get("X-GitHub-Request-Id") + "."})
	case FaultPrimaryRateLimit:
		setRateHeaders(w, e.opts.RateLimit, e.opts.RateLimit, t.Add(time.Duration(f.ResetIn)*time.Second), resource)
		writeError(w, &apiError{Status: http.StatusForbidden, Message: "API rate limit exceeded for " + bucket + ".",
			DocURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#primary-rate-limit"})
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close() // dropping the connection is the fault; nothing to do if closing fails
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
}

// param returns a URL parameter, unescaped ("*" is the wildcard rest of the path).
func param(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func intParam(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(param(r, name), 10, 64)
	return n, err == nil && n > 0
}

// issueParam finds the issue or PR named by {number}; the caller holds c.repo.mu.
func issueParam(r *http.Request, c *reqCtx) (*issue, *apiError) {
	n, ok := intParam(r, "number")
	if !ok {
		return nil, errNotFound()
	}
	is, ok := c.repo.issues[int(n)]
	if !ok {
		return nil, errNotFound()
	}
	return is, nil
}

// pullParam is issueParam restricted to pull requests.
func pullParam(r *http.Request, c *reqCtx) (*issue, *apiError) {
	is, aerr := issueParam(r, c)
	if aerr != nil {
		return nil, aerr
	}
	if is.pr == nil {
		return nil, errNotFound()
	}
	return is, nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("invalid hex %q", s))
	}
	return b
}
