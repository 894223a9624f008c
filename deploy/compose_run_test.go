package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/telefonistka/telefonistka/deploy/internal/devsecrets"
)

// TestComposeStackRuns runs docker-compose.yml without Docker: the NATS
// container as an in-process nats-server started from deploy/compose/nats.conf,
// every other container as a process of the image's binary with the
// container's command and environment (on top of the image's ENV), its mounts
// mapped to directories, and host names and ports mapped to 127.0.0.1.
// Then a developer merges a change through the emulator and the test waits
// for the promotion PRs the services open as the GitHub App, which shows the
// mounted App key, the NATS credentials and the commands work together.
func TestComposeStackRuns(t *testing.T) {
	c := loadCompose(t)
	tmp := t.TempDir()

	// The secrets container.
	volumes := map[string]string{}
	for v := range c.Volumes {
		volumes[v] = filepath.Join(tmp, "volumes", v)
		if err := os.MkdirAll(volumes[v], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := devsecrets.Write(volumes["secrets"]); err != nil {
		t.Fatal(err)
	}

	natsURL := startComposeNATS(t, c.Services["nats"], volumes)

	// Ports: every container gets a local one; "name:port" in URLs and
	// flags becomes 127.0.0.1:local.
	hosts := map[string]string{"nats:4222": strings.TrimPrefix(natsURL, "nats://")}
	listen := map[string]string{} // container -> local address
	var names []string
	for name, s := range c.Services {
		if s.runsImage() {
			names = append(names, name)
			port := "8080"
			if s.isEmulator() {
				_, port, _ = strings.Cut(emulatorFlags(s)["listen"], ":")
			}
			listen[name] = freeAddr(t)
			hosts[name+":"+port] = listen[name]
		}
	}
	sort.Strings(names)
	imageEnv := dockerfileEnv(t)
	rewrite := func(s *composeService, v string) string {
		if to, ok := hosts[v]; ok { // host:port (ARGOCD_SERVER_ADDR)
			return to
		}
		for from, to := range hosts {
			v = strings.ReplaceAll(v, "//"+from, "//"+to)
		}
		if m, rel, ok := s.mountFor(t, v); ok {
			if m.Bind {
				return filepath.Join(root, m.Source, rel)
			}
			return filepath.Join(volumes[m.Source], rel)
		}
		return v
	}

	ctx, cancel := context.WithCancel(context.Background())
	var procs []*exec.Cmd
	var wg sync.WaitGroup
	logs := map[string]*syncBuffer{}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		wg.Wait()
		cancel()
		if t.Failed() {
			for _, n := range names {
				t.Logf("--- %s\n%s", n, logs[n].String())
			}
		}
	})
	// The image's own directories (/data, /srv/templates), per container.
	for _, name := range names {
		s := c.Services[name]
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + tmp}
		for k, v := range imageEnv {
			if _, set := s.Environment[k]; !set {
				dir := filepath.Join(tmp, "image", name, filepath.FromSlash(v))
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				env = append(env, k+"="+dir)
			}
		}
		for k, v := range s.Environment {
			env = append(env, k+"="+rewrite(s, v))
		}
		args := append([]string(nil), s.Command...)
		if s.isEmulator() {
			for i, a := range args[1:] {
				i++
				flag, v, _ := strings.Cut(a, "=")
				switch flag {
				case "--listen":
					args[i] = flag + "=" + listen[name]
				case "--repo":
					repo, dir, _ := strings.Cut(v, "=")
					args[i] = flag + "=" + repo + "=" + rewrite(s, dir)
				default:
					args[i] = flag + "=" + rewrite(s, v)
				}
			}
		} else {
			env = append(env, "LISTEN_ADDRESS="+listen[name])
		}
		cmd := exec.CommandContext(ctx, imageBinary(t), args...)
		cmd.Env = env
		logs[name] = &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs[name], logs[name]
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", name, err)
		}
		procs = append(procs, cmd)
		wg.Add(1)
		go func() { defer wg.Done(); _ = cmd.Wait() }()
	}

	// Every service ready (NATS connected, streams there), the emulator up.
	deadline := time.Now().Add(90 * time.Second)
	for _, name := range names {
		url := "http://" + listen[name] + "/readyz"
		switch c.Services[name].Command[0] {
		case "github-emulator":
			url = "http://" + listen[name] + "/_emulator/healthz"
		case "argocd-emulator":
			url = "http://" + listen[name] + "/_argocd/counters"
		}
		waitHTTP(t, url, deadline, func() string { return logs[name].String() })
	}

	// alice changes workspace/nginx on a branch, opens a PR and merges it.
	gh := &ghClient{t: t, base: "http://" + listen["github"] + "/api/v3/repos/acme/gitops", token: "demo"}
	var file struct {
		SHA     string `json:"sha"`
		Content string `json:"content"`
	}
	gh.do("GET", "/contents/workspace/nginx/deployment.yaml", nil, &file)
	var ref struct {
		Object struct{ SHA string } `json:"object"`
	}
	gh.do("GET", "/git/ref/heads/main", nil, &ref)
	gh.do("POST", "/git/refs", map[string]any{"ref": "refs/heads/bump-nginx", "sha": ref.Object.SHA}, nil)
	old, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(file.Content, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	updated := string(old) + "# bumped by the compose test\n"
	gh.do("PUT", "/contents/workspace/nginx/deployment.yaml", map[string]any{
		"message": "Bump nginx", "branch": "bump-nginx", "sha": file.SHA,
		"content": base64.StdEncoding.EncodeToString([]byte(updated)),
	}, nil)
	var pr struct{ Number int }
	gh.do("POST", "/pulls", map[string]any{"title": "Bump nginx", "head": "bump-nginx", "base": "main"}, &pr)
	gh.do("PUT", fmt.Sprintf("/pulls/%d/merge", pr.Number), map[string]any{}, nil)

	// The chain: lab+staging opened and merged automatically by the App,
	// then one PR per prod cluster.
	type pull struct {
		Number int
		Title  string
		State  string
		User   struct{ Login string }
		Merged bool `json:"merged"`
	}
	for {
		var pulls []pull
		gh.do("GET", "/pulls?state=all&per_page=100", nil, &pulls)
		var promotions []string
		for _, p := range pulls {
			if p.Number != pr.Number {
				if p.User.Login != "telefonistka[bot]" {
					t.Fatalf("PR #%d %q opened by %s, want the App telefonistka[bot]", p.Number, p.Title, p.User.Login)
				}
				promotions = append(promotions, p.Title)
			}
		}
		if len(promotions) == 3 {
			t.Logf("promotion PRs: %q", promotions)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the merge, promotion PRs %q; want 3", promotions)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// argodiff comments the developer's PR once it has asked the test Argo CD
	// server for the applications of its components.
	for {
		var comments []struct{ Body string }
		gh.do("GET", fmt.Sprintf("/issues/%d/comments", pr.Number), nil, &comments)
		found := false
		for _, c := range comments {
			found = found || strings.Contains(c.Body, "Diff of ArgoCD applications")
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Argo CD diff comment on #%d: %+v", pr.Number, comments)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startComposeNATS starts the NATS container's configuration in process:
// deploy/compose/nats.conf with the volume paths mapped, on a random port.
// It checks what the configuration must give: JetStream, a max payload of at
// least 48 MB, and a credentials-only server (a client without the mounted
// creds is refused).
func startComposeNATS(t *testing.T, n *composeService, volumes map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join(root, natsConfPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nats.conf"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	// The include's directory is the secrets volume's mount point.
	for _, m := range n.mounts(t) {
		if m.Source == "secrets" {
			rel, err := filepath.Rel("/etc/nats", m.Target)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("the secrets volume is mounted at %s, outside the configuration's directory", m.Target)
			}
			if err := os.Symlink(volumes["secrets"], filepath.Join(dir, rel)); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts, err := server.ProcessConfigFile(filepath.Join(dir, "nats.conf"))
	if err != nil {
		t.Fatalf("%s: %v", natsConfPath, err)
	}
	if !opts.JetStream {
		t.Fatalf("%s does not enable JetStream", natsConfPath)
	}
	if opts.MaxPayload < 48<<20 {
		t.Errorf("%s: max_payload %d, want at least 48 MiB", natsConfPath, opts.MaxPayload)
	}
	if opts.StoreDir != "/data" {
		t.Errorf("%s: store_dir %s, want /data (the nats-data volume)", natsConfPath, opts.StoreDir)
	}
	opts.StoreDir = filepath.Join(dir, "jetstream")
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.NoSigs = true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	url := s.ClientURL()
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Error("NATS accepts a client without credentials")
	}
	nc, err := nats.Connect(url, nats.UserCredentials(filepath.Join(volumes["secrets"], devsecrets.NATSCredFile)))
	if err != nil {
		t.Fatalf("connecting with the generated credentials: %v", err)
	}
	if nc.MaxPayload() < 48<<20 {
		t.Errorf("the server announces a max payload of %d", nc.MaxPayload())
	}
	nc.Close()
	return url
}

// dockerfileEnv returns the ENV of the image's final stage.
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	df := parseDockerfile(t)
	env := map[string]string{}
	for _, e := range df.Stages[len(df.Stages)-1].Find("ENV") {
		for _, kv := range e.Words() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHTTP polls url until it answers 200, or fails at deadline.
func waitHTTP(t *testing.T, url string, deadline time.Time, logs func() string) {
	t.Helper()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready (last: %v)\n%s", url, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ghClient calls the emulator's REST API for one repository.
type ghClient struct {
	t     *testing.T
	base  string
	token string
}

func (g *ghClient) do(method, path string, body, out any) {
	g.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			g.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.base+path, r)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+g.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		g.t.Fatalf("%s %s: %s\n%s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			g.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
