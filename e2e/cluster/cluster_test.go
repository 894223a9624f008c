// Package cluster runs Telefonistka as shared infrastructure: a 3-node
// JetStream cluster (nats-server processes on loopback), every service as
// its own process (two replicas of ingress, planner and promoter), and a
// burst of merges across many repositories of the GitHub emulator, during
// which one NATS node and one replica of every service are killed with
// SIGKILL and restarted. `make test-cluster` runs it; `go test` skips it
// unless TELEFONISTKA_CLUSTER is set.
package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

const (
	botToken  = "cluster-bot-token"
	botLogin  = "telefonistka-bot"
	developer = "alice"
	secret    = "cluster-webhook-secret"
	component = "workspace/nginx/deployment.yaml"
)

// settings of a run, from the environment (the make target sets them).
type settings struct {
	repos      int           // CLUSTER_REPOS: repositories, one merge each
	spacing    time.Duration // CLUSTER_MERGE_SPACING: between two merges
	faults     bool          // CLUSTER_FAULTS: kill a NATS node and a replica of every service mid-burst
	down       time.Duration // CLUSTER_DOWN: how long they stay down
	timeout    time.Duration // CLUSTER_TIMEOUT: for the whole chain to settle
	natsCall   time.Duration // CLUSTER_NATS_TIMEOUT, CLUSTER_PUBLISH_TIMEOUT: the services' TELEFONISTKA_NATS_TIMEOUT, INGRESS_PUBLISH_TIMEOUT
	publish    time.Duration
	writeRate  int // CLUSTER_WRITE_RATE (a second), CLUSTER_WRITE_BURST: the GitHub write budget all replicas share
	writeBurst int
	report     string // CLUSTER_REPORT: a file for the figures (Markdown)
	// killLeaderOf (CLUSTER_KILL_LEADER_OF) names the stream whose leader
	// is the NATS node killed: GITHUB by default, so webhooks arrive while
	// the stream that stores them elects a new leader.
	killLeaderOf string
}

func loadSettings(t *testing.T) settings {
	t.Helper()
	s := settings{repos: 20, spacing: 100 * time.Millisecond, faults: true, down: 5 * time.Second, timeout: 10 * time.Minute,
		natsCall: 10 * time.Second, publish: 2 * time.Second,
		writeRate: 10, writeBurst: 100, report: os.Getenv("CLUSTER_REPORT"), killLeaderOf: events.StreamGitHub}
	if v := os.Getenv("CLUSTER_KILL_LEADER_OF"); v != "" {
		s.killLeaderOf = v
	}
	for env, d := range map[string]*time.Duration{"CLUSTER_MERGE_SPACING": &s.spacing, "CLUSTER_DOWN": &s.down, "CLUSTER_TIMEOUT": &s.timeout,
		"CLUSTER_NATS_TIMEOUT": &s.natsCall, "CLUSTER_PUBLISH_TIMEOUT": &s.publish} {
		if v := os.Getenv(env); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", env, v, err)
			}
			*d = parsed
		}
	}
	if os.Getenv("CLUSTER_FAULTS") == "0" {
		s.faults = false
	}
	for env, n := range map[string]*int{"CLUSTER_REPOS": &s.repos, "CLUSTER_WRITE_RATE": &s.writeRate, "CLUSTER_WRITE_BURST": &s.writeBurst} {
		if v := os.Getenv(env); v != "" {
			parsed, err := strconv.Atoi(v)
			if err != nil || parsed < 1 {
				t.Fatalf("%s=%q: want a positive whole number", env, v)
			}
			*n = parsed
		}
	}
	return s
}

// writeSlack is how many writes past the budget's own bound the emulator
// lets through in a minute (a write granted at the end of one window may
// reach the emulator at the start of the next).
const writeSlack = 2

// writesPerMinute is the most content-creating calls the shared budget
// allows in any minute: its burst and a minute of its rate.
func (s settings) writesPerMinute() int { return s.writeBurst + 60*s.writeRate }

// binaries returns nats-server (CLUSTER_NATS_SERVER, else GOPATH/bin) and
// telefonistka (CLUSTER_TELEFONISTKA, else built into the test's directory).
func binaries(t *testing.T, dir string) (natsServer, telefonistka string) {
	t.Helper()
	natsServer = os.Getenv("CLUSTER_NATS_SERVER")
	if natsServer == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			t.Fatal(err)
		}
		natsServer = filepath.Join(strings.TrimSpace(string(out)), "bin", "nats-server")
	}
	if _, err := os.Stat(natsServer); err != nil {
		t.Fatalf("nats-server not found (%v): go install github.com/nats-io/nats-server/v2@v2.15.3", err)
	}
	telefonistka = os.Getenv("CLUSTER_TELEFONISTKA")
	if telefonistka == "" {
		telefonistka = filepath.Join(dir, "telefonistka")
		build := exec.Command("go", "build", "-o", telefonistka, "./cmd/telefonistka")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building telefonistka: %v\n%s", err, out)
		}
	}
	return natsServer, telefonistka
}

// replicas of each service; ingress, planner and promoter run twice.
var replicas = map[string]int{"ingress": 2, "planner": 2, "promoter": 2, "drift": 1, "argodiff": 1, "fanout": 1, "bumper": 1, "tracker": 1}

// order starts consumers before ingress.
var order = []string{"planner", "promoter", "drift", "argodiff", "fanout", "bumper", "tracker", "ingress"}

func TestClusterBurstSurvivesNodeAndReplicaKills(t *testing.T) {
	if os.Getenv("TELEFONISTKA_CLUSTER") == "" {
		t.Skip("runs a NATS cluster and every service as processes: make test-cluster")
	}
	set := loadSettings(t)
	dir := t.TempDir()
	if keep := os.Getenv("CLUSTER_KEEP_DIR"); keep != "" {
		dir = keep
		_ = os.MkdirAll(dir, 0o750)
	}
	natsBin, bin := binaries(t, dir)
	nodes := startCluster(t, natsBin, dir)
	conn, err := bus.Connect(bus.ConnOptions{URL: clusterURL(nodes), Name: "cluster-test", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.NC.Close() })

	emu, repos := startEmulator(t, set.repos)
	// Like GitHub's secondary limit, at the budget's bound: a write over it
	// is refused (and counted), which the check below fails on.
	emu.SetSecondaryLimit(set.writesPerMinute()+writeSlack, time.Minute)
	lb := &balancer{client: &http.Client{Timeout: 30 * time.Second}}
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	emu.SetWebhook(front.URL+"/webhook", secret)

	env := append(os.Environ(),
		"NATS_URL="+clusterURL(nodes), "TELEFONISTKA_STREAM_REPLICAS=3",
		"GITHUB_URL="+emu.URL(), "GITHUB_OAUTH_TOKEN="+botToken, "GITHUB_WEBHOOK_SECRET="+secret,
		"GITHUB_WRITE_RATE="+strconv.Itoa(set.writeRate), "GITHUB_WRITE_BURST="+strconv.Itoa(set.writeBurst),
		// A stream whose leader died elects another within 4 to 14 s (raft
		// election timeout, load): ingress waits INGRESS_PUBLISH_TIMEOUT
		// (2 s, shorter than any election, so the spool is used), then
		// keeps the webhook in its spool and answers; GitHub waits 10 s.
		"INGRESS_PUBLISH_TIMEOUT="+set.publish.String(), "TELEFONISTKA_NATS_TIMEOUT="+set.natsCall.String(),
		// The test's repositories ask for no Argo CD diffs (there is no
		// Argo CD): drift is the one checker of every PR.
		"TELEFONISTKA_PR_CHECKERS=drift",
		"LOG_FORMAT=json", "LOG_LEVEL=info", "PR_METRICS_INTERVAL=0", "TELEFONISTKA_SHUTDOWN_TIMEOUT=5s",
		"TEMPLATES_PATH="+dir)
	procs := map[string][]*service{}
	var all []*service
	total := 0
	for _, name := range order {
		total += replicas[name]
	}
	ports := freePorts(t, total)
	for _, name := range order {
		for r := 1; r <= replicas[name]; r++ {
			s := newService(dir, name, r, ports[len(all)], env)
			procs[name] = append(procs[name], s)
			all = append(all, s)
		}
	}
	t.Cleanup(func() {
		for _, s := range all {
			s.stop()
		}
	})
	for _, s := range all {
		s.start(t, bin)
		if s.name == "ingress" {
			lb.targets = append(lb.targets, fmt.Sprintf("http://127.0.0.1:%d", s.port))
		}
	}
	readyCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	for _, s := range all {
		if err := s.waitReady(readyCtx); err != nil {
			cancel()
			t.Fatalf("%v\n%s", err, s.tail())
		}
	}
	cancel()
	t.Logf("cluster up: 3 NATS nodes, %d service processes, %d repositories", len(all), len(repos))

	run := &burst{t: t, emu: emu, conn: conn, set: set, merged: map[string]time.Time{}}
	faultsDone := make(chan faultReport, 1)
	run.merge(repos, func() {
		if !set.faults {
			faultsDone <- faultReport{}
			return
		}
		go func() { faultsDone <- injectFaults(t, set, nodes, natsBin, conn, procs) }()
	})
	faults := <-faultsDone
	if set.faults {
		// While the stream that stores deliveries elects a new leader,
		// JetStream stores nothing: ingress keeps a webhook that waited
		// INGRESS_PUBLISH_TIMEOUT in its spool and answers 202.
		faults.leaderless = leaderless(t, conn, nodes, faults.at)
	}
	settled := run.waitSettled(repos)
	faults.spool = spoolCounts(t, procs["ingress"])
	if faults.spool.drained < faults.spool.spooled {
		t.Errorf("%d webhooks accepted into a spool, %d stored from it", faults.spool.spooled, faults.spool.drained)
	}
	if !settled {
		for _, s := range all {
			t.Logf("== %s\n%s", s.id(), s.tail())
		}
		t.FailNow()
	}
	run.check(repos)
	for _, s := range all {
		if n := s.crashCount(); n > 0 {
			t.Errorf("%s exited %d times without being killed (restarted each time); log %s", s.id(), n, s.logPath)
		}
	}
	figures := run.figures(repos, faults)
	t.Log("\n" + figures)
	if set.report != "" {
		if err := os.WriteFile(set.report, []byte(figures), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// startEmulator starts the GitHub emulator with n copies of the sample
// repository, without its Argo CD settings (the test runs no Argo CD).
func startEmulator(t *testing.T, n int) (*emulator.Emulator, []string) {
	t.Helper()
	sample := filepath.Join(t.TempDir(), "gitops-repo")
	if err := os.CopyFS(sample, os.DirFS(filepath.Join("..", "..", "examples", "gitops-repo"))); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(sample, "telefonistka.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, withoutArgoCD(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Tokens: map[string]string{botToken: botLogin}})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	repos := make([]string, n)
	for i := range repos {
		name := fmt.Sprintf("gitops-%02d", i+1)
		if err := emu.CreateRepoFromDir("acme", name, sample); err != nil {
			t.Fatal(err)
		}
		repos[i] = "acme/" + name
	}
	return emu, repos
}

// withoutArgoCD drops the top-level argocd block of a telefonistka.yaml.
func withoutArgoCD(cfg []byte) []byte {
	var out []string
	skipping := false
	for _, line := range strings.Split(string(cfg), "\n") {
		if strings.HasPrefix(line, "argocd:") {
			skipping = true
			continue
		}
		if skipping && (strings.HasPrefix(line, " ") || strings.TrimSpace(line) == "") {
			continue
		}
		skipping = false
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}

// faultReport says what was killed and when.
type faultReport struct {
	node       string
	led        string // the stream the killed node led
	spool      spooled
	services   []string
	at, back   time.Time
	leaderless window // the GITHUB stream without a leader
}

// injectFaults kills (SIGKILL) the NATS node leading set.killLeaderOf (the
// GITHUB stream by default) and one replica of every service, waits
// set.down, and restarts them all.
func injectFaults(t *testing.T, set settings, nodes []*natsNode, natsBin string, conn *bus.Conn,
	procs map[string][]*service) faultReport {
	victim := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if st, err := conn.JS.Stream(ctx, set.killLeaderOf); err == nil {
		if info, err := st.Info(ctx); err == nil && info.Cluster != nil {
			for _, n := range nodes {
				if n.name == info.Cluster.Leader {
					victim = n
				}
			}
		}
	}
	cancel()
	rep := faultReport{node: victim.name, led: set.killLeaderOf, at: time.Now()}
	victim.kill()
	var killed []*service
	for _, name := range order {
		s := procs[name][0]
		s.kill()
		killed = append(killed, s)
		rep.services = append(rep.services, s.id())
	}
	time.Sleep(set.down)
	victim.start(t, natsBin)
	for _, s := range killed {
		if err := s.launch(); err != nil {
			t.Errorf("restarting %s: %v", s.id(), err)
		}
	}
	rep.back = time.Now()
	return rep
}

// streamMessages reads every message of a stream with its timestamp.
func streamMessages(t *testing.T, conn *bus.Conn, stream string) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := conn.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := info.State.Msgs
	if total == 0 {
		return nil
	}
	cons, err := conn.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for uint64(len(out)) < total {
		batch, err := cons.Fetch(int(min(total-uint64(len(out)), 500)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m)
			n++
		}
		if n == 0 {
			break
		}
	}
	return out
}
