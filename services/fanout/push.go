package fanout

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// push is what fan-out needs from a push delivery.
type push struct {
	Ref           string
	After         string
	DefaultBranch string
	Deleted       bool
	Repo          events.Repo
	// Files is the union of added, modified and removed over all commits,
	// sorted.
	Files []string
}

// zeroSHA is the "after" of a push that deleted the ref.
const zeroSHA = "0000000000000000000000000000000000000000"

// forwardable reports whether the push updates the default branch.
func (p *push) forwardable() bool {
	return p.DefaultBranch != "" && p.Ref == "refs/heads/"+p.DefaultBranch &&
		!p.Deleted && p.After != "" && p.After != zeroSHA
}

// parsePush reads a push delivery. The body is JSON, or a form with the
// JSON in its payload field, as the Content-Type header says.
func parsePush(d *events.GitHubDelivery) (*push, error) {
	payload, err := jsonPayload(d)
	if err != nil {
		return nil, err
	}
	ev, err := github.ParseWebHook("push", payload)
	if err != nil {
		return nil, fmt.Errorf("parsing push payload: %w", err)
	}
	pe, ok := ev.(*github.PushEvent)
	if !ok {
		return nil, fmt.Errorf("parsing push payload: got %T", ev)
	}
	p := &push{
		Ref:     pe.GetRef(),
		After:   pe.GetAfter(),
		Deleted: pe.GetDeleted(),
		Files:   changedFiles(pe.Commits),
	}
	if r := pe.GetRepo(); r != nil {
		p.DefaultBranch = r.GetDefaultBranch()
		p.Repo = events.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
		if p.Repo.Owner == "" {
			p.Repo.Owner = r.GetOwner().GetName()
		}
	}
	return p, nil
}

func jsonPayload(d *events.GitHubDelivery) ([]byte, error) {
	ct := ""
	for k, v := range d.Headers {
		if strings.EqualFold(k, "Content-Type") {
			ct = v
		}
	}
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/x-www-form-urlencoded" {
		if !json.Valid(d.Body) {
			return nil, errors.New("push body is not JSON")
		}
		return d.Body, nil
	}
	form, err := url.ParseQuery(string(d.Body))
	if err != nil || !form.Has("payload") {
		return nil, errors.New("form-encoded push has no payload field")
	}
	return []byte(form.Get("payload")), nil
}

// changedFiles is the sorted union of the files the commits added,
// modified or removed.
func changedFiles(commits []*github.HeadCommit) []string {
	seen := map[string]bool{}
	for _, c := range commits {
		if c == nil {
			continue
		}
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, f := range list {
				if f != "" {
					seen[f] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
