package drift

import (
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const configErrorHeading = githubapi.Marker + "\nFailed to get configuration\n```\n"

// lastStatus returns the newest telefonistka status of sha.
func (h *harness) lastStatus(sha string) emulator.Status {
	h.t.Helper()
	all, err := h.emu.Statuses(full, sha)
	if err != nil {
		h.t.Fatal(err)
	}
	var last emulator.Status
	for _, s := range all {
		if s.Context == githubapi.StatusContext {
			last = s
		}
	}
	return last
}

func TestInvalidComponentFileFailsClosedForThatComponent(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr := h.openPR("bad-component", map[string]*string{
		"env/staging/nginx/telefonistka.yaml": emulator.Content("promotionTargetBlockList:\n  - \"[\"\n"),
		"env/staging/redis/values.yaml":       emulator.Content("maxmemory: 2gb\n"),
	})
	head := h.pr(pr).HeadSHA
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,error" {
		t.Fatalf("status states = %s, want pending,error", got)
	}
	st := h.lastStatus(head)
	if !strings.HasPrefix(st.Description, "invalid configuration: env/staging/nginx/telefonistka.yaml:2:") {
		t.Errorf("error description = %q", st.Description)
	}
	h.waitIdle()
	errs := visible(h.botComments(pr), "Failed to get configuration")
	if len(errs) != 1 {
		t.Fatalf("%d configuration-error comments, want 1", len(errs))
	}
	body := errs[0].Body
	// The file is both validated as changed and read by the plan: one line.
	if !strings.HasPrefix(body, configErrorHeading+"env/staging/nginx/telefonistka.yaml:2:5: promotionTargetBlockList[0]: ") ||
		strings.Count(body, "env/staging/nginx/telefonistka.yaml") != 1 {
		t.Errorf("configuration-error comment:\n%s", body)
	}
	// nginx drifts but its configuration is broken, so it is not checked.
	if n := len(visible(h.botComments(pr), driftHeading)); n != 0 {
		t.Errorf("%d drift comments for a component that fails closed", n)
	}
}

func TestInvalidRepoConfigOnMain(t *testing.T) {
	files := fixture()
	files["telefonistka.yaml"] = "promotionPaths:\n  - sourcePath: \"env/(staging/\"\n"
	h := newHarness(t, files)
	h.start(options{})
	pr := h.openPR("any", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 2\n")})
	head := h.pr(pr).HeadSHA
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,error" {
		t.Fatalf("status states = %s", got)
	}
	h.waitIdle()
	errs := visible(h.botComments(pr), "Failed to get configuration")
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Body, configErrorHeading+"telefonistka.yaml:2:") {
		t.Fatalf("configuration-error comments = %+v", errs)
	}
	if n := len(visible(h.botComments(pr), driftHeading)); n != 0 {
		t.Errorf("%d drift comments with an unusable configuration", n)
	}
}

func TestChangedRepoConfigIsValidatedAtTheHead(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr := h.openPR("edit-config", map[string]*string{
		"telefonistka.yaml":             emulator.Content(stagingToProd + "promotionPrPolicy: sometimes\n"),
		"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n"),
	})
	head := h.pr(pr).HeadSHA
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,error" {
		t.Fatalf("status states = %s", got)
	}
	h.waitIdle()
	errs := visible(h.botComments(pr), "Failed to get configuration")
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Body, configErrorHeading+"telefonistka.yaml:8:20: promotionPrPolicy: ") ||
		!strings.Contains(errs[0].Body, "promotionPrPolicy") {
		t.Fatalf("configuration-error comments = %+v", errs)
	}
	// The configuration on main is fine, so drift is still reported.
	if n := len(visible(h.botComments(pr), driftHeading)); n != 1 {
		t.Errorf("%d drift comments, want 1", n)
	}
}

// A directory where a component's telefonistka.yaml is expected was "no
// configuration" here (the component checked as if unconfigured); it is a
// configuration error, and the component fails closed.
func TestAComponentFileThatIsADirectoryFailsClosed(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr := h.openPR("dir-component", map[string]*string{
		"env/staging/nginx/telefonistka.yaml/values.yaml": emulator.Content("x: 1\n"),
		"env/staging/redis/values.yaml":                   emulator.Content("maxmemory: 2gb\n"),
	})
	head := h.pr(pr).HeadSHA
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,error" {
		t.Fatalf("status states = %s, want pending,error", got)
	}
	h.waitIdle()
	errs := visible(h.botComments(pr), "Failed to get configuration")
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Body, configErrorHeading+"env/staging/nginx/telefonistka.yaml: (root): it is a directory, not a file") {
		t.Fatalf("configuration-error comments = %+v", errs)
	}
}
