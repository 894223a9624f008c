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

// BenchmarkDecodePush is the CPU fan-out spends reading one push of twelve
// commits from its stored event: the envelope, the delivery and the payload
// (in the all-in-one server, it shares the cores with ingress).
func BenchmarkDecodePush(b *testing.B) {
	var commits [][3][]string
	for range 12 {
		commits = append(commits, files(nil, []string{"clusters/prod/eu-1/nginx/values.yaml", "clusters/prod/us-1/nginx/values.yaml"}, nil))
	}
	body := pushBody("refs/heads/main", "main", strings.Repeat("b", 40), commits...)
	env, err := events.New(events.Meta{ID: "d1", Source: "ingress"}, &events.GitHubDelivery{
		DeliveryID: "d1", Event: "push", Headers: map[string]string{"Content-Type": "application/json"}, Body: body})
	if err != nil {
		b.Fatal(err)
	}
	data, err := env.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := events.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		var d events.GitHubDelivery
		if err := env.DecodeData(&d); err != nil {
			b.Fatal(err)
		}
		p, err := parsePush(&d)
		if err != nil || !p.forwardable() || len(p.Files) != 2 {
			b.Fatalf("%+v %v", p, err)
		}
	}
}
