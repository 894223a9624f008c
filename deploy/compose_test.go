package deploy

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/telefonistka/telefonistka/deploy/internal/devsecrets"
)

// compose is the part of the Compose specification docker-compose.yml uses;
// decoding is strict, so a misspelt key fails the test.
type compose struct {
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]*struct{}       `yaml:"volumes"`
}

type composeService struct {
	Image       string                          `yaml:"image"`
	Build       *composeBuild                   `yaml:"build"`
	Command     []string                        `yaml:"command"`
	Environment map[string]string               `yaml:"environment"`
	Volumes     []string                        `yaml:"volumes"`
	Ports       []string                        `yaml:"ports"`
	Restart     string                          `yaml:"restart"`
	DependsOn   map[string]composeDependsOnSpec `yaml:"depends_on"`
}

type composeBuild struct {
	Context string `yaml:"context"`
	Target  string `yaml:"target"`
}

type composeDependsOnSpec struct {
	Condition string `yaml:"condition"`
}

// mount is one volume entry: a named volume or a bind mount of a repository
// path.
type mount struct {
	Source   string // volume name, or a path relative to the repository root
	Bind     bool
	Target   string
	ReadOnly bool
}

func (s *composeService) mounts(t *testing.T) []mount {
	t.Helper()
	var out []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			t.Fatalf("volume %q: want SOURCE:TARGET[:ro]", v)
		}
		m := mount{Source: parts[0], Target: parts[1], ReadOnly: len(parts) == 3 && parts[2] == "ro"}
		if strings.HasPrefix(m.Source, "./") {
			m.Bind = true
			m.Source = path.Clean(m.Source)
		}
		out = append(out, m)
	}
	return out
}

// mountFor returns the mount a path inside the container is under, and the
// path relative to the mount.
func (s *composeService) mountFor(t *testing.T, p string) (mount, string, bool) {
	t.Helper()
	for _, m := range s.mounts(t) {
		if p == m.Target || strings.HasPrefix(p, m.Target+"/") {
			return m, strings.TrimPrefix(strings.TrimPrefix(p, m.Target), "/"), true
		}
	}
	return mount{}, "", false
}

// interpolation matches ${NAME}, ${NAME:-default} and ${NAME:?message}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}`)

// loadCompose reads docker-compose.yml as Compose would with an empty
// environment: variables take their defaults, and a required one fails.
func loadCompose(t *testing.T) *compose {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := interpolation.ReplaceAllStringFunc(string(data), func(ref string) string {
		m := interpolation.FindStringSubmatch(ref)
		if m[2] == "?" {
			t.Errorf("%s: docker compose up fails without this variable; give it a default", ref)
		}
		return m[3]
	})
	var top map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(text), &top); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for k := range top {
		if k != "services" && k != "volumes" && !strings.HasPrefix(k, "x-") {
			t.Errorf("docker-compose.yml: unexpected top-level key %q", k)
		}
	}
	var c compose
	// The top level has extension fields (x-...), so decode it loosely,
	// then every service strictly.
	var loose struct {
		Services map[string]yaml.Node `yaml:"services"`
		Volumes  map[string]*struct{} `yaml:"volumes"`
	}
	if err := yaml.Unmarshal([]byte(text), &loose); err != nil {
		t.Fatal(err)
	}
	c.Volumes = loose.Volumes
	c.Services = map[string]*composeService{}
	for name, node := range loose.Services {
		// Round-trip through YAML to decode with KnownFields (merge keys
		// are resolved by the first decode).
		var raw map[string]any
		if err := node.Decode(&raw); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		b, err := yaml.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewDecoder(strings.NewReader(string(b)))
		d.KnownFields(true)
		var s composeService
		if err := d.Decode(&s); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		c.Services[name] = &s
	}
	return &c
}

// runsImage reports whether the service runs the Telefonistka image (the
// Dockerfile's final stage).
func (s *composeService) runsImage() bool {
	return s.Build != nil && s.Build.Target == imageStage
}

// isEmulator reports whether the container runs one of the emulators
// (flags --name=value, --listen among them).
func (s *composeService) isEmulator() bool {
	return len(s.Command) > 0 && strings.HasSuffix(s.Command[0], "-emulator")
}

// TestComposeServices checks that every built service runs in its own
// container with `serve <name>`, and that not-built services are absent.
func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	serving := map[string]string{}
	for name, s := range c.Services {
		if s.runsImage() && len(s.Command) == 2 && s.Command[0] == "serve" {
			if prev, dup := serving[s.Command[1]]; dup {
				t.Errorf("services %s and %s both run serve %s", prev, name, s.Command[1])
			}
			serving[s.Command[1]] = name
		}
	}
	for _, svc := range serviceNames(t) {
		if serving[svc] == "" {
			t.Errorf("no container runs `serve %s`", svc)
		}
	}
}

// TestComposeCommandsAndEnvironment checks every container of the
// Telefonistka image against the binary: its command exists, its flags are
// flags of that command, its variables are read by the code, and every file
// or directory a variable or flag names is under a mount.
func TestComposeCommandsAndEnvironment(t *testing.T) {
	c := loadCompose(t)
	commands := binaryCommands(t)
	for name, s := range c.Services {
		if !s.runsImage() {
			continue
		}
		if s.Image != "telefonistka:dev" {
			t.Errorf("%s: image %q, want telefonistka:dev (one image for every container)", name, s.Image)
		}
		if len(s.Command) == 0 || !commands[s.Command[0]] {
			t.Errorf("%s: command %q is not a telefonistka command", name, s.Command)
			continue
		}
		switch s.Command[0] {
		case "github-emulator":
			checkEmulator(t, name, s)
		case "argocd-emulator":
			checkArgoCDEmulator(t, c, name, s)
		}
		for k, v := range s.Environment {
			if !knownEnv(t, k) {
				t.Errorf("%s: %s: no code reads this variable", name, k)
			}
			if isPathVar(k) {
				checkMounted(t, name, s, k, v)
			}
		}
		for _, m := range s.mounts(t) {
			if m.Bind {
				if _, err := os.Stat(filepath.Join(root, m.Source)); err != nil {
					t.Errorf("%s: bind mount %s: %v", name, m.Source, err)
				}
			} else if _, ok := c.Volumes[m.Source]; !ok {
				t.Errorf("%s: volume %s is not declared", name, m.Source)
			}
			if m.Source == "secrets" && !m.ReadOnly {
				t.Errorf("%s: mount the secrets volume read-only", name)
			}
		}
		for dep := range s.DependsOn {
			if c.Services[dep] == nil {
				t.Errorf("%s depends on %s, which does not exist", name, dep)
			}
		}
	}

	// The ingress and the emulator agree on the webhook secret and URL, the
	// services reach the emulator and NATS where they listen.
	ingress, github := c.Services["ingress"], c.Services["github"]
	if ingress == nil || github == nil {
		t.Fatal("no ingress or github service")
	}
	flags := emulatorFlags(github)
	if flags["webhook-secret"] == "" || flags["webhook-secret"] != ingress.Environment["GITHUB_WEBHOOK_SECRET"] {
		t.Errorf("the emulator signs with %q, ingress checks %q", flags["webhook-secret"], ingress.Environment["GITHUB_WEBHOOK_SECRET"])
	}
	if want := "http://ingress:8080/webhook"; flags["webhook-url"] != want {
		t.Errorf("the emulator sends webhooks to %q, want %q (ingress's default port)", flags["webhook-url"], want)
	}
	_, port, _ := strings.Cut(flags["listen"], ":")
	for name, s := range c.Services {
		if u, ok := s.Environment["GITHUB_URL"]; ok && u != "http://github:"+port+"/api/v3/" {
			t.Errorf("%s: GITHUB_URL %q, but the emulator listens on port %s", name, u, port)
		}
		if u, ok := s.Environment["NATS_URL"]; ok && u != "nats://nats:4222" {
			t.Errorf("%s: NATS_URL %q, want nats://nats:4222", name, u)
		}
		if s.runsImage() && s.Command[0] == "serve" && s.Environment["NATS_CREDS"] == "" {
			t.Errorf("%s: no NATS_CREDS, but the NATS server requires credentials", name)
		}
	}
}

// isPathVar reports whether a variable names a file or directory.
func isPathVar(name string) bool {
	return strings.HasSuffix(name, "_PATH") || name == "NATS_CREDS" || name == "TELEFONISTKA_DATA_DIR"
}

// checkMounted checks that the path p a container uses is under one of its
// mounts, and that files from the secrets volume are ones devsecrets writes.
func checkMounted(t *testing.T, service string, s *composeService, what, p string) {
	t.Helper()
	m, rel, ok := s.mountFor(t, p)
	if !ok {
		t.Errorf("%s: %s=%s is not under any mount", service, what, p)
		return
	}
	if m.Source == "secrets" && !slices.Contains([]string{devsecrets.AppKeyFile, devsecrets.NATSCredFile}, rel) {
		t.Errorf("%s: %s=%s: the secrets volume has no %s", service, what, p, rel)
	}
	if m.Bind {
		if _, err := os.Stat(filepath.Join(root, m.Source, rel)); err != nil {
			t.Errorf("%s: %s=%s: %v", service, what, p, err)
		}
	}
}

// emulatorFlags returns the --name=value flags of a github-emulator command.
func emulatorFlags(s *composeService) map[string]string {
	flags := map[string]string{}
	for _, a := range s.Command[1:] {
		name, value, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		flags[name] = value
	}
	return flags
}

// checkEmulator checks the emulator's flags against the binary's usage and
// its directories against the mounts.
func checkEmulator(t *testing.T, name string, s *composeService) {
	t.Helper()
	known := emulatorFlagNames(t)
	for _, a := range s.Command[1:] {
		if !strings.HasPrefix(a, "--") || !strings.Contains(a, "=") {
			t.Errorf("%s: argument %q: write flags as --name=value", name, a)
			continue
		}
		flag, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !known[flag] {
			t.Errorf("%s: github-emulator has no flag --%s", name, flag)
		}
	}
	flags := emulatorFlags(s)
	if host, _, _ := strings.Cut(flags["listen"], ":"); host != "0.0.0.0" {
		t.Errorf("%s: --listen=%s is not reachable from other containers", name, flags["listen"])
	}
	if d := flags["data"]; d == "" {
		t.Errorf("%s: no --data: the repositories would not survive a restart", name)
	} else {
		checkMounted(t, name, s, "--data", d)
	}
	_, dir, _ := strings.Cut(flags["repo"], "=")
	m, rel, ok := s.mountFor(t, dir)
	if !ok || !m.Bind || path.Join(m.Source, rel) != "examples/gitops-repo" {
		t.Errorf("%s: --repo=%s does not come from examples/gitops-repo", name, flags["repo"])
	}
}

// checkArgoCDEmulator checks the test Argo CD server's flags: reachable
// from the other containers, its fixture from the examples, GitHub read
// from the emulator, and the token argodiff sends; argodiff reaches it.
func checkArgoCDEmulator(t *testing.T, c *compose, name string, s *composeService) {
	t.Helper()
	out, _ := runBinary(t, "argocd-emulator", "--help")
	flags := emulatorFlags(s)
	for flag := range flags {
		if !strings.Contains(out, "-"+flag+" ") && !strings.Contains(out, "-"+flag+"\n") {
			t.Errorf("%s: argocd-emulator has no flag --%s", name, flag)
		}
	}
	host, port, _ := strings.Cut(flags["listen"], ":")
	if host != "0.0.0.0" {
		t.Errorf("%s: --listen=%s is not reachable from other containers", name, flags["listen"])
	}
	m, rel, ok := s.mountFor(t, flags["fixture"])
	if !ok || !m.Bind || path.Join(m.Source, rel) != "examples/argocd-fixture.yaml" {
		t.Errorf("%s: --fixture=%s does not come from examples/argocd-fixture.yaml", name, flags["fixture"])
	}
	_, ghPort, _ := strings.Cut(emulatorFlags(c.Services["github"])["listen"], ":")
	if want := "http://github:" + ghPort + "/api/v3/"; flags["github-url"] != want {
		t.Errorf("%s: --github-url=%s, want %s", name, flags["github-url"], want)
	}
	argodiff := c.Services["argodiff"]
	if argodiff == nil {
		t.Fatal("no argodiff service")
	}
	if got := argodiff.Environment["ARGOCD_SERVER_ADDR"]; got != name+":"+port {
		t.Errorf("argodiff: ARGOCD_SERVER_ADDR=%s, but %s listens on %s:%s", got, name, name, port)
	}
	if argodiff.Environment["ARGOCD_TOKEN"] != flags["token"] || flags["token"] == "" {
		t.Errorf("argodiff sends the token %q, %s accepts %q", argodiff.Environment["ARGOCD_TOKEN"], name, flags["token"])
	}
}

// binaryCommands returns the commands of the binary's usage.
func binaryCommands(t *testing.T) map[string]bool {
	t.Helper()
	out, code := runBinary(t, "help")
	if code != 0 {
		t.Fatalf("telefonistka help exited %d:\n%s", code, out)
	}
	cmds := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]+) `).FindAllStringSubmatch(out, -1) {
		cmds[m[1]] = true
	}
	if !cmds["serve"] || !cmds["server"] {
		t.Fatalf("no serve/server in the usage:\n%s", out)
	}
	return cmds
}

// emulatorFlagNames returns the flags of `telefonistka github-emulator -h`.
func emulatorFlagNames(t *testing.T) map[string]bool {
	t.Helper()
	out, code := runBinary(t, "github-emulator", "-h")
	if code != 0 {
		t.Fatalf("telefonistka github-emulator -h exited %d:\n%s", code, out)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(out, -1) {
		flags[m[1]] = true
	}
	if !flags["listen"] {
		t.Fatalf("no -listen in the emulator's usage:\n%s", out)
	}
	return flags
}

// TestComposeNATS checks the NATS container: the configuration file it is
// started with is the repository's, it includes the generated
// authentication from the secrets volume, and the image is the NATS version
// the tests run (the workspace's nats-server module).
func TestComposeNATS(t *testing.T) {
	c := loadCompose(t)
	n := c.Services["nats"]
	if n == nil {
		t.Fatal("no nats service")
	}
	if len(n.Command) != 2 || n.Command[0] != "--config" {
		t.Fatalf("nats command %q, want --config FILE", n.Command)
	}
	m, rel, ok := n.mountFor(t, n.Command[1])
	if !ok || !m.Bind || path.Join(m.Source, rel) != natsConfPath {
		t.Fatalf("nats runs with %s, which is not %s", n.Command[1], natsConfPath)
	}
	conf, err := os.ReadFile(filepath.Join(root, natsConfPath))
	if err != nil {
		t.Fatal(err)
	}
	inc := regexp.MustCompile(`(?m)^include\s+(\S+)`).FindSubmatch(conf)
	if inc == nil {
		t.Fatalf("%s includes no authentication", natsConfPath)
	}
	incPath := path.Join(path.Dir(n.Command[1]), string(inc[1]))
	if m, rel, ok := n.mountFor(t, incPath); !ok || m.Source != "secrets" || rel != devsecrets.NATSAuthFile {
		t.Errorf("include %s is not the secrets volume's %s", incPath, devsecrets.NATSAuthFile)
	}
	if dep := n.DependsOn["secrets"]; dep.Condition != "service_completed_successfully" {
		t.Errorf("nats must start after the secrets are written, depends_on: %v", n.DependsOn)
	}
	store := regexp.MustCompile(`store_dir:\s*(\S+)`).FindSubmatch(conf)
	if store == nil {
		t.Fatalf("%s: no JetStream store_dir", natsConfPath)
	}
	if m, _, ok := n.mountFor(t, string(store[1])); !ok || m.Bind {
		t.Errorf("JetStream stores in %s, which is not on a volume", store[1])
	}

	image, tag, _ := strings.Cut(n.Image, ":")
	want := natsServerMinor(t)
	if image != "nats" || tag != want {
		t.Errorf("nats image %q, want nats:%s (the nats-server version the tests run)", n.Image, want)
	}
}

const natsConfPath = "deploy/compose/nats.conf"

// natsServerMinor returns the major.minor of the nats-server module the
// workspace builds (and these tests run).
func natsServerMinor(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m nats-server: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`^v(\d+\.\d+)\.`).FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		t.Fatalf("nats-server version %q", out)
	}
	return m[1]
}
