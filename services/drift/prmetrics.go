package drift

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

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

// metricsLoop refreshes the gauges every PR_METRICS_INTERVAL while this
// process holds the lease; each pass is bounded by the interval.
func (s *Service) metricsLoop(ctx context.Context) {
	interval := s.cfg.PRMetricsInterval
	tick := time.NewTicker(interval)
	defer tick.Stop()
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.leases.release(rctx); err != nil {
			s.log.Warn("releasing the PR metrics lease", "error", err)
		}
	}()
	for {
		held, err := s.leases.hold(ctx, 3*interval)
		switch {
		case err != nil:
			s.log.Warn("renewing the PR metrics lease", "error", err)
		case !held:
			s.metrics.clear()
		default:
			pass, cancel := context.WithTimeout(ctx, interval)
			if err := s.refreshPRMetrics(pass); err != nil && ctx.Err() == nil {
				s.log.Warn("refreshing the PR metrics", "error", err)
			}
			cancel()
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
		client, err := s.clients.ForOwner(ctx, owner)
		if err != nil {
			return nil, err
		}
		opts := &github.ListOptions{PerPage: 100}
		for {
			page, resp, err := client.Apps.ListRepos(ctx, opts)
			if err != nil {
				return nil, githubapi.Classify(err)
			}
			for _, r := range page.Repositories {
				repos = append(repos, events.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()})
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
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
	client, err := s.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return prCounts{}, err
	}
	var c prCounts
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := client.PullRequests.List(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return prCounts{}, githubapi.Classify(err)
		}
		for _, pr := range page {
			c.open++
			for _, l := range pr.Labels {
				if l.GetName() == plan.PromotionLabel {
					c.promotion++
					break
				}
			}
			pending, err := s.staleHeadPending(ctx, client, repo, pr.GetHead().GetSHA())
			if err != nil {
				return prCounts{}, err
			}
			if pending {
				c.pending++
			}
		}
		if resp.NextPage == 0 {
			return c, nil
		}
		opts.Page = resp.NextPage
	}
}

func (s *Service) staleHeadPending(ctx context.Context, client *github.Client, repo events.Repo, sha string) (bool, error) {
	opts := &github.ListOptions{PerPage: 100}
	for {
		cs, resp, err := client.Repositories.GetCombinedStatus(ctx, repo.Owner, repo.Name, sha, opts)
		if err != nil {
			return false, githubapi.Classify(err)
		}
		for _, st := range cs.Statuses {
			if st.GetContext() == githubapi.StatusContext {
				return st.GetState() == githubapi.StatePending && s.now().Sub(st.GetUpdatedAt().Time) > PendingAfter, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opts.Page = resp.NextPage
	}
}
