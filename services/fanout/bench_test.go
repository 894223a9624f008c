package fanout

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// BenchmarkPushTo50SlowEndpoints measures one push fanned out to 50
// endpoints that each answer after 100 ms: from storing the push on the
// GITHUB stream to the 50th fanout.delivered event, with the real
// consumers on an embedded JetStream.
func BenchmarkPushTo50SlowEndpoints(b *testing.B) {
	for _, concurrency := range []int{10, 50} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			cfg := testConfig()
			cfg.Concurrency = concurrency
			h := start(b, cfg)
			rc := newReceiver(b, func(string, int, http.ResponseWriter, *http.Request) { time.Sleep(100 * time.Millisecond) })
			var repl []string
			for i := 0; i < 50; i++ {
				repl = append(repl, fmt.Sprintf("'%s/ep%02d'", rc.srv.URL, i))
			}
			sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: [%s]}]", strings.Join(repl, ", ")))
			body := pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil))
			var worst time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("bench-%d", i)
				start := time.Now()
				h.deliver(id, body, nil)
				for n := 0; n < 50; {
					select {
					case env := <-h.events:
						if env.Type == events.TypeFanoutDelivered && env.CorrelationID == id {
							n++
						}
					case <-time.After(30 * time.Second):
						b.Fatalf("push %d: %d of 50 endpoints delivered", i, n)
					}
				}
				worst = max(worst, time.Since(start))
			}
			b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
		})
	}
}
