package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spanRecorder records the spans of every test from its first call on: the
// tracers the services took from otel's global provider follow only the
// first provider set, so it is set once (go test -count=N runs this test again).
var spanRecorder = sync.OnceValue(func() *tracetest.SpanRecorder {
	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	return spans
})

// One trace runs from the webhook ingress received to every GitHub call of
// every service that acted on it: ingress starts the span, the trace context
// travels in the NATS headers of each event, and each GitHub call is a child
// span of the handler that made it.
func TestOneTraceFromTheWebhookToEveryGitHubCall(t *testing.T) {
	spans := spanRecorder()

	h := Start(t, Options{})
	_, merge := h.MergeChange("bump-nginx", Change{workspaceNginx + "/deployment.yaml": Set("kind: Deployment\n")})
	h.WaitRun(merge, runTimeout)

	// The run's final status can be seen before the handlers that wrote it
	// have returned and ended their spans: wait until they have.
	var byTrace map[trace.TraceID][]sdktrace.ReadOnlySpan
	deadline := time.Now().Add(runTimeout)
	for {
		byTrace = tracesOf(spans.Ended())
		if promotionTraceComplete(byTrace) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, list := range byTrace {
		names := map[string]int{}
		for _, s := range list {
			names[s.Name()]++
		}
		if names["consume "+"promotion.planned.v1"] == 0 {
			continue
		}
		// The trace of the merge: the webhook, the planner, the promoter.
		for _, want := range []string{"POST /webhook", "consume github.delivery_received.v1", "consume promotion.planned.v1"} {
			if names[want] == 0 {
				t.Errorf("the promotion's trace has no %q span: %v", want, names)
			}
		}
		byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
		for _, s := range list {
			byID[s.SpanContext().SpanID()] = s
		}
		calls := map[string]int{}
		for _, s := range list {
			if !strings.HasPrefix(s.Name(), "github ") {
				continue
			}
			parent, ok := byID[s.Parent().SpanID()]
			if !ok || !strings.HasPrefix(parent.Name(), "consume ") {
				t.Errorf("GitHub call %s is not a child of a handler's span", s.Name())
				continue
			}
			calls[parent.Name()]++
		}
		if calls["consume github.delivery_received.v1"] == 0 || calls["consume promotion.planned.v1"] == 0 {
			t.Fatalf("GitHub calls by handler in the promotion's trace: %v; want the planner's and the promoter's", calls)
		}
		return
	}
	t.Fatalf("no trace holds the promotion (%d traces)", len(byTrace))
}

func tracesOf(ended []sdktrace.ReadOnlySpan) map[trace.TraceID][]sdktrace.ReadOnlySpan {
	byTrace := map[trace.TraceID][]sdktrace.ReadOnlySpan{}
	for _, s := range ended {
		byTrace[s.SpanContext().TraceID()] = append(byTrace[s.SpanContext().TraceID()], s)
	}
	return byTrace
}

// promotionTraceComplete says whether a trace holds an ended promoter span
// and the ended parent of each of its GitHub calls.
func promotionTraceComplete(byTrace map[trace.TraceID][]sdktrace.ReadOnlySpan) bool {
	for _, list := range byTrace {
		ended := map[trace.SpanID]bool{}
		promoted := false
		for _, s := range list {
			ended[s.SpanContext().SpanID()] = true
			promoted = promoted || s.Name() == "consume promotion.planned.v1"
		}
		if !promoted {
			continue
		}
		for _, s := range list {
			if strings.HasPrefix(s.Name(), "github ") && !ended[s.Parent().SpanID()] {
				return false
			}
		}
		return true
	}
	return false
}
