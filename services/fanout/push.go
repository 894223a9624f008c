package fanout

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strings"

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

// pushPayload is the part of GitHub's push payload fan-out reads. Decoding
// only these fields, rather than the whole event, keeps a push cheap to
// handle: in the all-in-one server every push is decoded while ingress
// answers webhooks on the same cores.
type pushPayload struct {
	Ref        string `json:"ref"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Repository *struct {
		Name          string `json:"name"`
		DefaultBranch string `json:"default_branch"`
		Owner         struct {
			Login string `json:"login"`
			Name  string `json:"name"`
		} `json:"owner"`
	} `json:"repository"`
	Commits []pushCommit `json:"commits"`
}

// pushCommit is the part of one commit of a push fan-out reads.
type pushCommit struct {
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Modified []string `json:"modified"`
}

// parsePush reads a push delivery. The body is JSON, or a form with the
// JSON in its payload field, as the Content-Type header says.
func parsePush(d *events.GitHubDelivery) (*push, error) {
	payload, err := jsonPayload(d)
	if err != nil {
		return nil, err
	}
	var pe pushPayload
	if err := json.Unmarshal(payload, &pe); err != nil {
		return nil, fmt.Errorf("parsing push payload: %w", err)
	}
	p := &push{Ref: pe.Ref, After: pe.After, Deleted: pe.Deleted, Files: changedFiles(pe.Commits)}
	if r := pe.Repository; r != nil {
		p.DefaultBranch = r.DefaultBranch
		p.Repo = events.Repo{Owner: r.Owner.Login, Name: r.Name}
		if p.Repo.Owner == "" {
			p.Repo.Owner = r.Owner.Name
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
		return d.Body, nil // json.Unmarshal checks that it is JSON
	}
	form, err := url.ParseQuery(string(d.Body))
	if err != nil || !form.Has("payload") {
		return nil, errors.New("form-encoded push has no payload field")
	}
	return []byte(form.Get("payload")), nil
}

// changedFiles is the sorted union of the files the commits added,
// modified or removed.
func changedFiles(commits []pushCommit) []string {
	seen := map[string]bool{}
	for _, c := range commits {
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
