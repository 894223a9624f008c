package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/deploy/internal/dockerfile"
)

const (
	imageBin      = "/usr/local/bin/telefonistka"
	dataDir       = "/data"
	templatesDir  = "/srv/templates"
	buildStage    = "build"
	imageStage    = "telefonistka"
	buildOutBin   = "/out" + imageBin
	distrolessRef = "gcr.io/distroless/static-debian12:nonroot"
)

func parseDockerfile(t *testing.T) dockerfile.File {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	df, err := dockerfile.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return df
}

// TestDockerfileStages checks the stages of the Dockerfile: a Go build stage
// on the workspace's Go version running `make image-binary`, and a final
// distroless stage with only that binary, a numeric non-root user owning
// /data (a declared volume) and /srv/templates, and `server` as the default
// command.
func TestDockerfileStages(t *testing.T) {
	df := parseDockerfile(t)

	// The Go image follows go.work's Go version.
	goVersion := workspaceGoVersion(t)
	var goImage string
	for _, a := range df.GlobalArgs {
		if name, value, _ := strings.Cut(a.Args, "="); name == "GO_IMAGE" {
			goImage = value
		}
	}
	if want := "golang:" + goVersion; goImage != want {
		t.Errorf("ARG GO_IMAGE = %q, want %q (go.work says go %s)", goImage, want, goVersion)
	}

	build, ok := df.Stage(buildStage)
	if !ok {
		t.Fatalf("no %q stage", buildStage)
	}
	if build.From != "${GO_IMAGE}" {
		t.Errorf("build stage FROM %q, want ${GO_IMAGE}", build.From)
	}
	var makes int
	for _, run := range build.Find("RUN") {
		words := run.Words()
		if i := slices.Index(words, "make"); i >= 0 {
			makes++
			if !slices.Contains(words[i:], "image-binary") || !slices.Contains(words[i:], "OUT="+buildOutBin) {
				t.Errorf("line %d: the build stage must run `make image-binary OUT=%s`, got %q", run.Line, buildOutBin, run.Args)
			}
		}
	}
	if makes != 1 {
		t.Errorf("the build stage runs make %d times, want once (make image-binary)", makes)
	}

	final := df.Stages[len(df.Stages)-1]
	if final.Name != imageStage {
		t.Errorf("the last stage (what `docker build .` produces) is %q, want %q", final.Name, imageStage)
	}
	if final.From != distrolessRef {
		t.Errorf("final stage FROM %q, want %q", final.From, distrolessRef)
	}

	users := final.Find("USER")
	if len(users) != 1 {
		t.Fatalf("final stage has %d USER instructions, want 1", len(users))
	}
	uid, _, _ := strings.Cut(users[0].Args, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid (runAsNonRoot cannot verify a name)", users[0].Args)
	}

	// What the final stage copies: the binary, and the two directories the
	// user owns; nothing else, and only from the build stage.
	copies := map[string]map[string]string{}
	for _, c := range final.Find("COPY") {
		flags, _ := c.Flags()
		words := c.Words()
		if flags["from"] != buildStage || len(words) != 2 {
			t.Errorf("line %d: COPY %s: the final stage copies only single paths from %q", c.Line, c.Args, buildStage)
			continue
		}
		flags["src"] = words[0]
		copies[words[1]] = flags
	}
	if c := copies[imageBin]; c == nil || c["src"] != buildOutBin {
		t.Errorf("the final stage must copy %s from the build stage's %s, got %v", imageBin, buildOutBin, c)
	}
	for _, dir := range []string{dataDir, templatesDir} {
		c := copies[dir]
		if c == nil {
			t.Errorf("the final stage does not create %s", dir)
			continue
		}
		if owner, _, _ := strings.Cut(c["chown"], ":"); owner != uid {
			t.Errorf("%s is owned by %q, want the image user %s (so it is writable with no --user or volume flags)", dir, c["chown"], uid)
		}
	}
	if len(copies) != 3 {
		t.Errorf("the final stage copies %d paths, want 3 (binary, %s, %s)", len(copies), dataDir, templatesDir)
	}

	volumes := final.Find("VOLUME")
	if len(volumes) != 1 || !slices.Equal(volumes[0].Words(), []string{dataDir}) {
		t.Errorf("VOLUME = %v, want [%q]", volumes, dataDir)
	}

	env := map[string]string{}
	for _, e := range final.Find("ENV") {
		for _, kv := range e.Words() {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Errorf("line %d: ENV %q: use the KEY=VALUE form", e.Line, kv)
			}
			env[k] = v
			if !knownEnv(t, k) {
				t.Errorf("line %d: ENV %s: no code reads this variable", e.Line, k)
			}
		}
	}
	if env["TELEFONISTKA_DATA_DIR"] != dataDir || env["TEMPLATES_PATH"] != templatesDir {
		t.Errorf("ENV = %v, want TELEFONISTKA_DATA_DIR=%s and TEMPLATES_PATH=%s", env, dataDir, templatesDir)
	}

	if e := final.Find("ENTRYPOINT"); len(e) != 1 || !slices.Equal(e[0].Words(), []string{imageBin}) {
		t.Errorf("ENTRYPOINT = %v, want [%q]", e, imageBin)
	}
	cmd := final.Find("CMD")
	if len(cmd) != 1 || !slices.Equal(cmd[0].Words(), []string{"server"}) {
		t.Errorf("CMD = %v, want [\"server\"] (the original image's default command)", cmd)
	}
	if e := final.Find("EXPOSE"); len(e) != 1 || e[0].Args != "8080" {
		t.Errorf("EXPOSE = %v, want 8080", e)
	}
}

// workspaceGoVersion returns go.work's "go" directive as major.minor.
func workspaceGoVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.work has no go directive")
	}
	return string(m[1])
}

// TestDockerignore checks that the build context leaves out what must not
// reach an image (git data, local binaries and data, secrets) and keeps what
// the build needs (every module of go.work, the Makefile).
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var patterns []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: %q: this test does not understand exceptions", line)
		}
		patterns = append(patterns, strings.TrimPrefix(line, "/"))
	}
	ignored := func(p string) bool {
		for _, pat := range patterns {
			for q := p; q != "."; q = path.Dir(q) {
				if ok, _ := path.Match(pat, q); ok {
					return true
				}
				if strings.HasPrefix(pat, "**/") {
					if ok, _ := path.Match(strings.TrimPrefix(pat, "**/"), path.Base(q)); ok {
						return true
					}
				}
			}
		}
		return false
	}
	for _, p := range []string{".git/HEAD", "bin/telefonistka", "data/jetstream", ".env", "secrets/github-app.pem", "deploy/helm/telefonistka/Chart.yaml", "x/y.test", "key.pem", "nats.creds"} {
		if !ignored(p) {
			t.Errorf("%s reaches the build context", p)
		}
	}
	need := []string{"go.work", "go.work.sum", "Makefile", "deploy/cmd/devsecrets/main.go"}
	for _, dir := range workspaceModules(t) {
		need = append(need, path.Join(dir, "go.mod"), path.Join(dir, "go.sum"))
	}
	for _, p := range need {
		if ignored(p) {
			t.Errorf("%s is left out of the build context, but the build needs it", p)
		}
	}
}

// workspaceModules returns the directories go.work uses.
func workspaceModules(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range regexp.MustCompile(`(?m)^\s+\./(\S+)\s*$`).FindAllSubmatch(data, -1) {
		dirs = append(dirs, string(m[1]))
	}
	if len(dirs) < 5 {
		t.Fatalf("go.work lists only %v", dirs)
	}
	return dirs
}

// TestImageBinaryIsStatic builds the binary as the Dockerfile does and checks
// that it is statically linked: no program interpreter, no dynamic section,
// no shared library. A dynamic binary cannot start in the distroless static
// image, which has no libc.
func TestImageBinaryIsStatic(t *testing.T) {
	if err := checkStatic(imageBinary(t)); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, "version")
	if code != 0 || !strings.HasPrefix(out, "telefonistka ") {
		t.Errorf("telefonistka version: exit %d, %q", code, out)
	}
}

// TestCheckStaticRejectsDynamicBinaries shows the check fails on a
// dynamically linked program (this machine's ls).
func TestCheckStaticRejectsDynamicBinaries(t *testing.T) {
	const dynamic = "/bin/ls"
	f, err := elf.Open(dynamic)
	if err != nil {
		t.Skipf("no ELF %s to compare with: %v", dynamic, err)
	}
	f.Close()
	if err := checkStatic(dynamic); err == nil {
		t.Fatalf("%s passed as static", dynamic)
	}
}

func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var problems []string
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			problems = append(problems, "it names a program interpreter (PT_INTERP)")
		case elf.PT_DYNAMIC:
			problems = append(problems, "it has a dynamic section (PT_DYNAMIC)")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		problems = append(problems, "it needs "+strings.Join(libs, ", "))
	}
	if len(problems) > 0 {
		return &notStaticError{file: file, problems: problems}
	}
	return nil
}

type notStaticError struct {
	file     string
	problems []string
}

func (e *notStaticError) Error() string {
	return e.file + " is not statically linked: " + strings.Join(e.problems, "; ")
}
