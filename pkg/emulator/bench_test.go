package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-github/v52/github"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

// bigRepo returns an emulator holding acme/big with 10,000 files in 100 directories.
func bigRepo(b *testing.B) (*emulator.Emulator, string, string) {
	b.Helper()
	files := make(map[string]string, 10_000)
	for d := 0; d < 100; d++ {
		for f := 0; f < 100; f++ {
			files[fmt.Sprintf("clusters/c%02d/app-%02d/manifest-%03d.yaml", d%10, d, f)] = fmt.Sprintf("kind: ConfigMap\nname: m%d-%d\n", d, f)
		}
	}
	e := startEmulator(b, emulator.Options{})
	if err := e.CreateRepo("acme", "big", files); err != nil {
		b.Fatal(err)
	}
	head, err := e.GetCommit("acme/big", "main")
	if err != nil {
		b.Fatal(err)
	}
	return e, head.SHA, head.Tree
}

// BenchmarkPromotionCycle measures one promotion's GitHub traffic through go-github: a
// recursive read of a 10,000-file tree, then create tree, commit, ref and pull request.
func BenchmarkPromotionCycle(b *testing.B) {
	e, head, tree := bigRepo(b)
	c := clientFor(b, e.URL(), botToken)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, _, err := c.Git.GetTree(ctx, "acme", "big", tree, true)
		if err != nil || len(t.Entries) != 10_111 {
			b.Fatalf("tree read: %d entries, %v", len(t.Entries), err)
		}
		nt, _, err := c.Git.CreateTree(ctx, "acme", "big", tree, []*github.TreeEntry{
			{Path: str(fmt.Sprintf("clusters/c01/app-%02d/manifest-000.yaml", i%100)), Mode: str("100644"), Type: str("blob"), Content: str(fmt.Sprintf("v%d\n", i))},
			{Path: str("clusters/c02/app-02/manifest-001.yaml"), Mode: str("100644"), Type: str("blob")},
		})
		if err != nil {
			b.Fatal(err)
		}
		cm, _, err := c.Git.CreateCommit(ctx, "acme", "big", &github.Commit{Message: str("Syncing"), Tree: nt, Parents: []*github.Commit{{SHA: str(head)}}})
		if err != nil {
			b.Fatal(err)
		}
		branch := fmt.Sprintf("promotions/bench-%d", i)
		if _, _, err := c.Git.CreateRef(ctx, "acme", "big", &github.Reference{Ref: str("refs/heads/" + branch), Object: &github.GitObject{SHA: cm.SHA}}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.PullRequests.Create(ctx, "acme", "big", &github.NewPullRequest{Title: str("Promotion"), Head: str(branch), Base: str("main")}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkPromotionCycleServer is the same cycle over plain HTTP with the responses
// discarded, so it measures the emulator rather than go-github's JSON decoding.
func BenchmarkPromotionCycleServer(b *testing.B) {
	e, head, tree := bigRepo(b)
	hc := &http.Client{Transport: tokenTransport{botToken}}
	base := e.URL() + "repos/acme/big/"
	call := func(method, path string, body any, out any) {
		var buf bytes.Buffer
		if body != nil {
			_ = json.NewEncoder(&buf).Encode(body)
		}
		req, _ := http.NewRequest(method, base+path, &buf)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, msg)
		}
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		} else {
			_, _ = io.Copy(io.Discard, resp.Body)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call("GET", "git/trees/"+tree+"?recursive=1", nil, nil)
		var nt, cm struct {
			SHA string `json:"sha"`
		}
		call("POST", "git/trees", map[string]any{"base_tree": tree, "tree": []map[string]any{
			{"path": fmt.Sprintf("clusters/c01/app-%02d/manifest-000.yaml", i%100), "mode": "100644", "type": "blob", "content": fmt.Sprintf("v%d\n", i)},
			{"path": "clusters/c02/app-02/manifest-001.yaml", "mode": "100644", "type": "blob", "sha": nil},
		}}, &nt)
		call("POST", "git/commits", map[string]any{"message": "Syncing", "tree": nt.SHA, "parents": []string{head}}, &cm)
		branch := fmt.Sprintf("promotions/bench-%d", i)
		call("POST", "git/refs", map[string]any{"ref": "refs/heads/" + branch, "sha": cm.SHA}, nil)
		call("POST", "pulls", map[string]any{"title": "Promotion", "head": branch, "base": "main"}, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkRecursiveTreeReadFresh reads, each time, a 10,000-file tree never listed before
// (one file changed), as after every merge to the default branch.
func BenchmarkRecursiveTreeReadFresh(b *testing.B) {
	e, _, tree := bigRepo(b)
	c := clientFor(b, e.URL(), botToken)
	hc := &http.Client{Transport: tokenTransport{botToken}}
	ctx := context.Background()
	trees := make([]string, b.N)
	for i := range trees {
		nt, _, err := c.Git.CreateTree(ctx, "acme", "big", tree, []*github.TreeEntry{
			{Path: str(fmt.Sprintf("clusters/c03/app-03/fresh-%d.yaml", i)), Mode: str("100644"), Type: str("blob"), Content: str("x")}})
		if err != nil {
			b.Fatal(err)
		}
		trees[i] = nt.GetSHA()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := hc.Get(e.URL() + "repos/acme/big/git/trees/" + trees[i] + "?recursive=1")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 1_000_000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}
