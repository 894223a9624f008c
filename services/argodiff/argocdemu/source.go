package argocdemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/google/go-github/v52/github"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// GitHubSource renders a directory of plain YAML/JSON manifests from a
// GitHub repository (or the GitHub emulator) through the REST API, as
// Argo CD's directory source does: every .yaml, .yml and .json file of the
// directory (and its subdirectories with recurse), each document one
// object; documents without apiVersion and kind (a component's
// telefonistka.yaml) are skipped. HEAD means the default branch.
type GitHubSource struct {
	Client *github.Client
}

// Render implements Source.
func (g GitHubSource) Render(ctx context.Context, repoURL, revision, dir string, recurse bool) ([]*unstructured.Unstructured, error) {
	owner, repo, err := ownerRepo(repoURL)
	if err != nil {
		return nil, err
	}
	if revision == "HEAD" || revision == "" {
		r, _, err := g.Client.Repositories.Get(ctx, owner, repo)
		if err != nil {
			return nil, fmt.Errorf("reading %s/%s: %w", owner, repo, err)
		}
		revision = r.GetDefaultBranch()
	}
	tree, _, err := g.Client.Git.GetTree(ctx, owner, repo, revision, true)
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s/%s at %s: %w", owner, repo, revision, err)
	}
	dir = strings.Trim(dir, "/")
	var files []*github.TreeEntry
	for _, e := range tree.Entries {
		p := e.GetPath()
		inDir := path.Dir(p) == dir || recurse && strings.HasPrefix(p, dir+"/")
		if e.GetType() != "blob" || !inDir {
			continue
		}
		switch path.Ext(p) {
		case ".yaml", ".yml", ".json":
			files = append(files, e)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].GetPath() < files[j].GetPath() })
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, _, err := g.Client.Git.GetBlobRaw(ctx, owner, repo, f.GetSHA())
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.GetPath(), err)
		}
		objs, err := decodeObjects(data)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.GetPath(), err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func ownerRepo(repoURL string) (string, string, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSuffix(repoURL, "/"), ".git"))
	if err != nil {
		return "", "", fmt.Errorf("repository URL %q: %w", repoURL, err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return "", "", fmt.Errorf("repository URL %q names no owner/repo", repoURL)
	}
	return parts[len(parts)-2], parts[len(parts)-1], nil
}

// decodeObjects reads every YAML or JSON document of data.
func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) == 0 || m["apiVersion"] == nil || m["kind"] == nil {
			continue // not a Kubernetes object (telefonistka.yaml, values files)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// NewGitHubSource returns a source reading through the REST API at baseURL
// (e.g. http://127.0.0.1:9000/api/v3/) with token ("" for none).
func NewGitHubSource(baseURL, token string) (GitHubSource, error) {
	hc := &http.Client{}
	if token != "" {
		hc.Transport = tokenTransport{token: token}
	}
	c, err := github.NewEnterpriseClient(baseURL, baseURL, hc)
	if err != nil {
		return GitHubSource{}, fmt.Errorf("GitHub URL %q: %w", baseURL, err)
	}
	return GitHubSource{Client: c}, nil
}

type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return http.DefaultTransport.RoundTrip(r)
}
