package emulator_test

import (
	"context"
	"net/http"
	"testing"
)

// The collaborator permission API: the legacy permission and the role of
// a user on a repository; 404 for a user that does not exist.
func TestContractCollaboratorPermission(t *testing.T) {
	env := newContractEnv(t)
	if env.emu == nil {
		t.Skip("roles are set through the emulator")
	}
	ctx := context.Background()
	for login, role := range map[string]string{"reader": "read", "triager": "triage", "maintainer": "maintain", "outsider": "none"} {
		if err := env.emu.SetPermission(env.owner+"/"+env.repo, login, role); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.emu.SetPermission(env.owner+"/"+env.repo, "x", "superuser"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	want := map[string][2]string{
		env.owner:    {"admin", "admin"},
		env.botLogin: {"write", "write"},
		"reader":     {"read", "read"},
		"triager":    {"read", "triage"},
		"maintainer": {"write", "maintain"},
		"outsider":   {"none", "none"},
	}
	for login, w := range want {
		p, _, err := env.client.Repositories.GetPermissionLevel(ctx, env.owner, env.repo, login)
		if err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		if p.GetPermission() != w[0] || p.GetUser().GetLogin() != login {
			t.Errorf("%s: permission %q of %q, want %q", login, p.GetPermission(), p.GetUser().GetLogin(), w[0])
		}
	}
	_, _, err := env.client.Repositories.GetPermissionLevel(ctx, env.owner, env.repo, "nobody-at-all")
	expectStatus(t, err, http.StatusNotFound, "")
}
