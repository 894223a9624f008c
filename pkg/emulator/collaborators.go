package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// Roles a collaborator can have, weakest first, as GitHub names them
// (role_name); "none" is no access.
var roles = []string{"none", "read", "triage", "write", "maintain", "admin"}

// role is login's role on r: the owner is admin, a login given a role
// with SetPermission has it, anyone else has write. The caller holds r.mu.
func (r *repo) role(login string) string {
	if strings.EqualFold(login, r.owner.Login) {
		return "admin"
	}
	if p, ok := r.permissions[strings.ToLower(login)]; ok {
		return p
	}
	return "write"
}

// legacyPermission is the "permission" field GitHub derives from a role:
// maintain reads as write, triage as read.
func legacyPermission(role string) string {
	switch role {
	case "maintain":
		return "write"
	case "triage":
		return "read"
	}
	return role
}

// SetPermission gives login a role on repoName: one of none, read, triage,
// write, maintain, admin. By default everyone has write (the owner admin).
// A user with none, read or triage comments with author_association NONE.
func (e *Emulator) SetPermission(repoName, login, role string) error {
	valid := false
	for _, r := range roles {
		valid = valid || r == role
	}
	if !valid {
		return fmt.Errorf("role %q is not one of %s", role, strings.Join(roles, ", "))
	}
	e.users.get(login)
	return e.withRepo(repoName, func(r *repo) error {
		if r.permissions == nil {
			r.permissions = map[string]string{}
		}
		r.permissions[strings.ToLower(login)] = role
		return nil
	})
}

func (e *Emulator) registerCollaborators(add routeAdder) {
	add("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", accessUser, e.getPermission)
}

// getPermission answers GET /repos/{owner}/{repo}/collaborators/{username}/permission:
// 404 for an unknown user, else the legacy permission and the role.
func (e *Emulator) getPermission(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u, ok := e.users.find(param(r, "username"))
	if !ok {
		writeError(w, errStatus(http.StatusNotFound, "Not Found"))
		return
	}
	c.repo.mu.RLock()
	role := c.repo.role(u.Login)
	c.repo.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"permission": legacyPermission(role),
		"role_name":  role,
		"user":       e.userJSON(u),
	})
}
