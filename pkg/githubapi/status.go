package githubapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/google/go-github/v52/github"
)

const (
	// StatusContext is the context of the bot's commit status.
	StatusContext = "telefonistka"
	// StatusDescription is the status description unless an error gives a reason.
	StatusDescription = "Telefonistka GitOps Bot"
	// ProjectHomeURL is the status target URL when no template is set or it fails.
	ProjectHomeURL = "https://github.com/telefonistka/telefonistka"
	// maxStatusDescription is GitHub's limit on a status description, in characters.
	maxStatusDescription = 140
)

// Commit status states.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateError   = "error"
	StateFailure = "failure"
)

// StatusTarget is the commit a status is set on.
type StatusTarget struct {
	Owner    string
	Repo     string
	PrNumber int
	SHA      string
}

// StatusURLData is what the CUSTOM_COMMIT_STATUS_URL_TEMPLATE_PATH template
// receives. CommitTime is the time of the status update.
type StatusURLData struct {
	CommitTime time.Time
	Owner      string
	Repo       string
	PrNumber   int
	SHA        string
}

// StatusCreator creates commit statuses; *github.RepositoriesService is one.
type StatusCreator interface {
	CreateStatus(ctx context.Context, owner, repo, ref string, status *github.RepoStatus) (*github.RepoStatus, *github.Response, error)
}

// StatusSetter sets the telefonistka commit status and counts the updates.
type StatusSetter struct {
	tmpl    *template.Template
	metrics *Metrics
	logger  *slog.Logger
	now     func() time.Time
}

// NewStatusSetter reads the target URL template at templatePath (empty
// means none). A template that cannot be read or parsed is logged and
// replaced by ProjectHomeURL: it never stops the process.
func NewStatusSetter(templatePath string, metrics *Metrics, logger *slog.Logger) *StatusSetter {
	if logger == nil {
		logger = slog.Default()
	}
	if metrics == nil {
		metrics, _ = NewMetrics(nil)
	}
	s := &StatusSetter{metrics: metrics, logger: logger, now: time.Now}
	if templatePath != "" {
		tmpl, err := template.New(filepath.Base(templatePath)).ParseFiles(templatePath)
		if err != nil {
			logger.Warn("commit status URL template unusable; using the project home page", "path", templatePath, "err", err)
		} else {
			s.tmpl = tmpl
		}
	}
	return s
}

// StatusSetter returns a StatusSetter for the configured template and this Factory's metrics.
func (f *Factory) StatusSetter(logger *slog.Logger) *StatusSetter {
	return NewStatusSetter(f.cfg.CommitStatusURLTemplatePath, f.metrics, logger)
}

// TargetURL renders the status target URL for t at time now. Empty,
// failing or non-http(s) output gives ProjectHomeURL.
func (s *StatusSetter) TargetURL(t StatusTarget, now time.Time) string {
	if s.tmpl == nil {
		return ProjectHomeURL
	}
	var buf bytes.Buffer
	data := StatusURLData{CommitTime: now, Owner: t.Owner, Repo: t.Repo, PrNumber: t.PrNumber, SHA: t.SHA}
	if err := s.tmpl.Execute(&buf, data); err != nil {
		s.logger.Warn("commit status URL template failed; using the project home page", "err", err)
		return ProjectHomeURL
	}
	out := strings.TrimSpace(buf.String())
	if u, err := url.Parse(out); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.logger.Warn("commit status URL template gave no http(s) URL; using the project home page", "output", out)
		return ProjectHomeURL
	}
	return out
}

// Description is the status description: reason (on one line, cut to
// GitHub's 140 characters) for an error state, StatusDescription otherwise.
func Description(state, reason string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if state != StateError || reason == "" {
		return StatusDescription
	}
	runes := []rune(reason)
	if len(runes) <= maxStatusDescription {
		return reason
	}
	return string(runes[:maxStatusDescription-1]) + "…"
}

// Set sets the telefonistka status of t.SHA to state; reason is used as
// the description of an error state. Successful updates are counted in
// telefonistka_github_commit_status_updates_total.
func (s *StatusSetter) Set(ctx context.Context, repos StatusCreator, t StatusTarget, state, reason string) error {
	return s.SetContext(ctx, repos, t, StatusContext, state, Description(state, reason))
}

// SetContext sets a status with any context and description, with the same
// target URL and counting.
func (s *StatusSetter) SetContext(ctx context.Context, repos StatusCreator, t StatusTarget, statusContext, state, description string) error {
	return s.SetContextAs(ctx, repos, t, statusContext, state, description, s.TargetURL(t, s.now()))
}

// SetContextAs sets a status with the given description and target URL
// (empty: none), counting it like Set. toggleCommitStatus uses it to change
// only the state of a CI's status, keeping the CI's link and description.
func (s *StatusSetter) SetContextAs(ctx context.Context, repos StatusCreator, t StatusTarget, statusContext, state, description, targetURL string) error {
	status := &github.RepoStatus{State: &state, Context: &statusContext, Description: &description}
	if targetURL != "" {
		status.TargetURL = &targetURL
	}
	if _, _, err := repos.CreateStatus(ctx, t.Owner, t.Repo, t.SHA, status); err != nil {
		return Classify(fmt.Errorf("setting status %q of %s/%s@%s to %s: %w", statusContext, t.Owner, t.Repo, t.SHA, state, err))
	}
	s.metrics.statusUpdates.WithLabelValues(t.Owner+"/"+t.Repo, state).Inc()
	return nil
}
