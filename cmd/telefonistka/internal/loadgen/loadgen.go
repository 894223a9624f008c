// Package loadgen sends signed webhook deliveries to a running ingress at a
// fixed rate and reports throughput and latency. It is open-loop: requests
// are scheduled on a clock, and latency counts from the scheduled time, so a
// server that stalls cannot hide the wait (no coordinated omission).
package loadgen

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Options of a run.
type Options struct {
	URL      string
	Secret   string
	Rate     int // requests per second; 0 means as fast as Workers allow
	Duration time.Duration
	Workers  int
	Body     []byte
	Event    string
	// RunID prefixes delivery ids so runs never collide with each other.
	RunID string
}

// Result of a run.
type Result struct {
	Sent      int
	ByStatus  map[int]int
	Errors    int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(r.Latencies) {
		i = len(r.Latencies) - 1
	}
	return r.Latencies[i]
}

// Accepted counts 2xx answers.
func (r Result) Accepted() int {
	n := 0
	for code, c := range r.ByStatus {
		if code >= 200 && code < 300 {
			n += c
		}
	}
	return n
}

// String is the report printed by the command.
func (r Result) String() string {
	codes := make([]int, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var status bytes.Buffer
	for _, c := range codes {
		fmt.Fprintf(&status, " %d=%d", c, r.ByStatus[c])
	}
	return fmt.Sprintf("sent %d in %s (%.0f req/s), accepted %.0f/s, errors %d, status:%s\nlatency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		r.Sent, r.Elapsed.Round(time.Millisecond), float64(r.Sent)/r.Elapsed.Seconds(),
		float64(r.Accepted())/r.Elapsed.Seconds(), r.Errors, status.String(),
		r.Percentile(50), r.Percentile(90), r.Percentile(99), r.Percentile(99.9), r.Percentile(100))
}

// Run sends deliveries until Duration has passed.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.Event == "" {
		o.Event = "push"
	}
	mac := hmac.New(sha256.New, []byte(o.Secret))
	mac.Write(o.Body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers, MaxConnsPerHost: o.Workers}, Timeout: 30 * time.Second}

	type sample struct {
		status  int
		latency time.Duration
	}
	jobs := make(chan time.Time, o.Workers*4)
	samples := make(chan sample, o.Workers*4)
	var wg sync.WaitGroup
	var seq int64
	var seqMu sync.Mutex
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for scheduled := range jobs {
				seqMu.Lock()
				seq++
				id := fmt.Sprintf("%s-%d", o.RunID, seq)
				seqMu.Unlock()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, bytes.NewReader(o.Body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", o.Event)
				req.Header.Set("X-GitHub-Delivery", id)
				req.Header.Set("X-Hub-Signature-256", sig)
				resp, err := client.Do(req)
				s := sample{latency: time.Since(scheduled)}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					s.status = resp.StatusCode
				}
				samples <- s
			}
		}()
	}
	res := Result{ByStatus: map[int]int{}}
	collected := make(chan struct{})
	go func() {
		for s := range samples {
			res.Sent++
			if s.status == 0 {
				res.Errors++
			} else {
				res.ByStatus[s.status]++
			}
			res.Latencies = append(res.Latencies, s.latency)
		}
		close(collected)
	}()

	start := time.Now()
	deadline := start.Add(o.Duration)
	if o.Rate > 0 {
		interval := time.Second / time.Duration(o.Rate)
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(deadline) || ctx.Err() != nil {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			jobs <- at
		}
	} else {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			jobs <- time.Now()
		}
	}
	close(jobs)
	wg.Wait()
	close(samples)
	<-collected
	res.Elapsed = time.Since(start)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res, ctx.Err()
}
