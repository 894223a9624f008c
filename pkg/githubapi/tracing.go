package githubapi

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// traced wraps the base transport so that every call to GitHub is a client
// span, a child of the span in the request's context (the handler's span,
// itself a child of the span ingress started for the webhook). Span names
// say the method and the API group and path ("github POST repos/git").
func traced(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base, otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		group, path, _ := OperationLabels(r.URL.Path)
		name := "github " + r.Method + " " + group
		if path != "" {
			name += "/" + path
		}
		return name
	}))
}
