package githubapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Every GitHub call is a child span of the span in its context, and the
// trace context goes out in the request's traceparent header.
func TestGitHubCallsAreChildSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(sdktrace.NewTracerProvider()) })

	var traceparent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent = r.Header.Get("Traceparent")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ref":"refs/heads/main","object":{"sha":"abc"}}`))
	}))
	defer srv.Close()
	f, err := NewFactory(Config{OAuthToken: "t", URL: srv.URL + "/api/v3/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.ForOwner(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "consume promotion.planned.v1")
	if _, _, err := c.Git.GetRef(ctx, "acme", "gitops", "heads/main"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var call sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "github GET repos/git" {
			call = s
		}
	}
	if call == nil {
		t.Fatalf("no span for the GitHub call among %d spans", len(spans.Ended()))
	}
	if call.Parent().SpanID() != parent.SpanContext().SpanID() || call.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Fatal("the GitHub call's span is not a child of the handler's span")
	}
	if traceparent == "" {
		t.Fatal("no traceparent header on the request")
	}
}
