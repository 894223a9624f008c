package deploy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/telefonistka/telefonistka/deploy/internal/envscan"
)

// root is the repository root (this module lives in deploy/).
const root = ".."

// The image's binary, built once per test run exactly as the Dockerfile
// builds it.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// imageBinary builds the image's binary with `make image-binary` (the
// Dockerfile's build command) and returns its path.
func imageBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "telefonistka-image-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "telefonistka")
		cmd := exec.Command("make", "--no-print-directory", "image-binary", "OUT="+binPath)
		cmd.Dir = root
		binOut, binErr = cmd.CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("make image-binary: %v\n%s", binErr, binOut)
	}
	return binPath
}

// TestMain removes the built binary.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// runBinary runs the image's binary with args and returns what it printed
// (stdout and stderr) and its exit code.
func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(imageBinary(t), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running telefonistka %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), code
}

var (
	envOnce sync.Once
	envVars map[string]*envscan.Var
	envErr  error
)

// pendingEnv are variables deployments set before the code that reads them
// lands (none now).
var pendingEnv = map[string]bool{}

// knownEnv reports whether the code reads the environment variable name.
// OpenTelemetry's standard OTEL_* variables are read by its SDK.
func knownEnv(t *testing.T, name string) bool {
	t.Helper()
	envOnce.Do(func() { envVars, envErr = envscan.Scan(root) })
	if envErr != nil {
		t.Fatalf("scanning the code for environment variables: %v", envErr)
	}
	return envVars[name] != nil || pendingEnv[name] || strings.HasPrefix(name, "OTEL_")
}

// serviceNames returns the services `telefonistka serve` knows, from the
// binary's own usage line ("usage: telefonistka serve <a|b|c>").
func serviceNames(t *testing.T) []string {
	t.Helper()
	out, code := runBinary(t, "serve")
	if code != 2 {
		t.Fatalf("telefonistka serve without a name exited %d, want 2:\n%s", code, out)
	}
	_, list, ok := strings.Cut(out, "serve <")
	list, _, ok2 := strings.Cut(list, ">")
	if !ok || !ok2 {
		t.Fatalf("no service list in %q", out)
	}
	names := strings.Split(list, "|")
	sort.Strings(names)
	return names
}
