package drift

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
)

// PendingAfter is how long a telefonistka status must have been pending
// for its PR to count as having a pending check.
const PendingAfter = 20 * time.Minute

// prMetrics are the open-PR gauges, labelled repo_slug.
type prMetrics struct {
	open, promotion, pending *prometheus.GaugeVec

	mu    sync.Mutex
	repos map[string]bool // slugs with values
}

func newPRMetrics(reg prometheus.Registerer) (*prMetrics, error) {
	m := &prMetrics{repos: map[string]bool{}}
	var err error
	gauge := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"repo_slug"})
		if reg == nil || err != nil {
			return g
		}
		if rerr := reg.Register(g); rerr != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(rerr, &are) {
				return are.ExistingCollector.(*prometheus.GaugeVec)
			}
			err = rerr
		}
		return g
	}
	m.open = gauge("telefonistka_github_open_prs", "Open pull requests per repository.")
	m.promotion = gauge("telefonistka_github_open_promotion_prs", "Open pull requests labelled promotion per repository.")
	m.pending = gauge("telefonistka_github_open_prs_with_pending_telefonistka_checks",
		"Open pull requests whose head's telefonistka status has been pending for more than 20 minutes, per repository.")
	return m, err
}

type prCounts struct{ open, promotion, pending int }

// set publishes counts; repos listed in keep but absent from counts (their
// count failed) keep their values; every other repo is removed.
func (m *prMetrics) set(counts map[string]prCounts, keep map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for slug, c := range counts {
		m.open.WithLabelValues(slug).Set(float64(c.open))
		m.promotion.WithLabelValues(slug).Set(float64(c.promotion))
		m.pending.WithLabelValues(slug).Set(float64(c.pending))
		m.repos[slug] = true
	}
	for slug := range m.repos {
		if _, counted := counts[slug]; !counted && !keep[slug] {
			m.deleteLocked(slug)
		}
	}
}

// clear removes every value (this process no longer holds the lease).
func (m *prMetrics) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for slug := range m.repos {
		m.deleteLocked(slug)
	}
}

func (m *prMetrics) deleteLocked(slug string) {
	m.open.DeleteLabelValues(slug)
	m.promotion.DeleteLabelValues(slug)
	m.pending.DeleteLabelValues(slug)
	delete(m.repos, slug)
}

// prMetricsLease names the PR metrics loop in events.BucketLeases.
const prMetricsLease = "drift-pr-metrics"

// metricsLoop refreshes the gauges every PR_METRICS_INTERVAL while this
// process holds the metrics lease; each pass is bounded by the interval and
// runs under the lease, so it stops when the lease is lost.
func (s *Service) metricsLoop(ctx context.Context) {
	interval := s.cfg.PRMetricsInterval
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var held *bus.Lease
	defer func() {
		if held != nil {
			held.Release()
		}
	}()
	for {
		s.leaseAttempts.Add(1)
		if held != nil && held.Context().Err() != nil { // lost: another replica counts now
			held.Release()
			held = nil
			s.metrics.clear()
		}
		if held == nil {
			l, err := s.leases.Acquire(ctx, prMetricsLease, 0)
			switch {
			case errors.Is(err, bus.ErrLeaseHeld):
				s.metrics.clear()
			case err != nil:
				s.log.Warn("taking the PR metrics lease", "error", err)
			default:
				held = l
			}
		}
		if held != nil {
			pass, cancel := context.WithTimeout(held.Context(), interval)
			if err := s.refreshPRMetrics(pass); err != nil && pass.Err() == nil {
				s.log.Warn("refreshing the PR metrics", "error", err)
			}
			cancel()
			if held.Context().Err() != nil {
				s.metrics.clear() // lost during the pass
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refreshPRMetrics counts the open PRs of every repository (all pages).
func (s *Service) refreshPRMetrics(ctx context.Context) error {
	repos, err := s.metricRepos(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	counts := map[string]prCounts{}
	keep := map[string]bool{}
	var errs []error
	_ = forEach(ctx, 4, repos, func(ctx context.Context, r events.Repo) error {
		c, err := s.countPRs(ctx, r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			keep[r.String()] = true
			errs = append(errs, err)
			return nil
		}
		counts[r.String()] = c
		return nil
	})
	s.metrics.set(counts, keep)
	return errors.Join(errs...)
}

// metricRepos lists the repositories to count: with App auth every
// repository of every installation; with a token every repository whose
// deliveries the GITHUB stream holds.
func (s *Service) metricRepos(ctx context.Context) ([]events.Repo, error) {
	if !s.clients.IsApp() {
		return s.seenRepos(ctx)
	}
	owners, err := s.clients.InstallationOwners(ctx)
	if err != nil {
		return nil, err
	}
	var repos []events.Repo
	for _, owner := range owners {
		some, err := s.gh.InstallationRepos(ctx, owner)
		if err != nil {
			return nil, err
		}
		repos = append(repos, some...)
	}
	return repos, nil
}

// seenRepos reads the repositories from the subjects of the deliveries
// the GITHUB stream holds (github.<event>.<action>.<owner>.<repo>).
func (s *Service) seenRepos(ctx context.Context) ([]events.Repo, error) {
	stream, err := s.conn.JS.Stream(ctx, events.StreamGitHub)
	if err != nil {
		return nil, err
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("github.>"))
	if err != nil {
		return nil, err
	}
	seen := map[events.Repo]bool{}
	var repos []events.Repo
	for subject := range info.State.Subjects {
		tokens := strings.Split(subject, ".")
		if len(tokens) != 5 || tokens[3] == events.EmptyToken || tokens[4] == events.EmptyToken {
			continue
		}
		owner, err1 := events.UnescapeToken(tokens[3])
		name, err2 := events.UnescapeToken(tokens[4])
		r := events.Repo{Owner: owner, Name: name}
		if err1 != nil || err2 != nil || seen[r] {
			continue
		}
		seen[r] = true
		repos = append(repos, r)
	}
	return repos, nil
}

// countPRs counts a repository's open PRs, those labelled promotion, and
// those whose head's telefonistka status has been pending for more than
// PendingAfter (one combined-status read per open PR).
func (s *Service) countPRs(ctx context.Context, repo events.Repo) (prCounts, error) {
	open, err := s.gh.OpenPulls(ctx, repo, "")
	if err != nil {
		return prCounts{}, err
	}
	var c prCounts
	for _, pr := range open {
		c.open++
		if slices.Contains(pr.Labels, plan.PromotionLabel) {
			c.promotion++
		}
		st, found, err := s.gh.LatestStatus(ctx, repo, pr.HeadSHA, githubapi.StatusContext)
		if err != nil {
			return prCounts{}, err
		}
		if found && st.State == githubapi.StatePending && s.now().Sub(st.UpdatedAt) > PendingAfter {
			c.pending++
		}
	}
	return c, nil
}
