package app

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// traced starts a server span for every request but the health and metrics
// endpoints: for a webhook it is the root of the trace that follows the
// delivery through JetStream (traceparent in the message headers) to every
// service's handler and each of their GitHub calls.
func traced(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/metrics", "/healthz", "/live", "/readyz", "/ready":
				return false
			}
			return true
		}))
}
