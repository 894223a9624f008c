package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

type routeAdder func(method, pattern string, acc access, h handlerFunc)

func (e *Emulator) registerMisc(add routeAdder) {
	add("GET", "/rate_limit", accessAny, e.getRateLimit)
	add("GET", "/user", accessUser, e.getAuthenticatedUser)
	add("GET", "/users/{username}", accessAny, e.getUser)
	add("GET", "/app", accessApp, e.getApp)
	add("GET", "/app/installations", accessApp, e.listInstallations)
	add("GET", "/app/installations/{installation_id}", accessApp, e.getInstallation)
	add("POST", "/app/installations/{installation_id}/access_tokens", accessApp, e.createInstallationToken)
	add("GET", "/repos/{owner}/{repo}/installation", accessApp, e.getRepoInstallation)
	add("GET", "/orgs/{org}/installation", accessApp, e.getAccountInstallation("org"))
	add("GET", "/users/{username}/installation", accessApp, e.getAccountInstallation("username"))
	add("GET", "/installation/repositories", accessInstallation, e.listInstallationRepos)
}

func (e *Emulator) getRateLimit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	t := time.Now()
	rate := func(resource string) map[string]any {
		used, reset := e.ctl.peek(c.id.key+"/"+resource, t)
		return map[string]any{"limit": e.opts.RateLimit, "remaining": e.opts.RateLimit - used,
			"reset": reset.Unix(), "used": used, "resource": resource}
	}
	core := rate("core")
	writeJSON(w, http.StatusOK, map[string]any{
		"resources": map[string]any{"core": core, "graphql": rate("graphql"), "search": rate("search")},
		"rate":      core,
	})
}

func (e *Emulator) getAuthenticatedUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if c.id.inst != nil {
		writeError(w, errStatus(http.StatusForbidden, "Resource not accessible by integration"))
		return
	}
	writeJSON(w, http.StatusOK, e.fullUserJSON(c.id.user))
}

func (e *Emulator) fullUserJSON(u *user) map[string]any {
	j := e.userJSON(u)
	return map[string]any{
		"login": j.Login, "id": j.ID, "node_id": j.NodeID, "avatar_url": j.AvatarURL, "gravatar_id": "",
		"url": j.URL, "html_url": j.HTMLURL, "type": j.Type, "site_admin": false,
		"name": u.Login, "company": nil, "blog": "", "location": nil, "email": nil, "bio": nil,
		"public_repos": 0, "followers": 0, "following": 0,
		"created_at": ts(e.started), "updated_at": ts(e.started),
	}
}

func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u, ok := e.users.find(param(r, "username"))
	if !ok {
		writeError(w, errNotFound())
		return
	}
	writeJSON(w, http.StatusOK, e.fullUserJSON(u))
}

func (e *Emulator) appJSON(app *App) map[string]any {
	owner := e.userJSON(e.users.get(app.Slug + "-owner"))
	return map[string]any{
		"id": app.ID, "slug": app.Slug, "node_id": nodeID("A", app.ID), "owner": owner, "name": app.Name,
		"description": "", "external_url": e.opts.HTMLURL, "html_url": e.opts.HTMLURL + "/apps/" + app.Slug,
		"created_at": ts(e.started), "updated_at": ts(e.started),
		"permissions": appPermissions, "events": []string{"pull_request", "push", "issue_comment"},
		"installations_count": len(e.auth.installations(app)),
	}
}

var appPermissions = map[string]string{
	"contents": "write", "pull_requests": "write", "issues": "write", "statuses": "write", "metadata": "read",
}

func (e *Emulator) installationJSON(in *installation) map[string]any {
	return map[string]any{
		"id": in.ID, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", in.ID),
		"account": e.userJSON(in.account), "app_id": in.app.ID, "app_slug": in.app.Slug,
		"target_id": in.account.ID, "target_type": in.account.Type, "repository_selection": "all",
		"access_tokens_url": fmt.Sprintf("%s/app/installations/%d/access_tokens", e.apiURL(), in.ID),
		"repositories_url":  e.apiURL() + "/installation/repositories",
		"html_url":          fmt.Sprintf("%s/organizations/%s/settings/installations/%d", e.opts.HTMLURL, in.account.Login, in.ID),
		"permissions":       appPermissions, "events": []string{"pull_request", "push", "issue_comment"},
		"created_at": ts(in.createdAt), "updated_at": ts(in.createdAt), "single_file_name": nil,
		"suspended_at": nil, "suspended_by": nil,
	}
}

func (e *Emulator) getApp(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	writeJSON(w, http.StatusOK, e.appJSON(c.id.app))
}

func (e *Emulator) listInstallations(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var out []map[string]any
	for _, in := range paginate(e, w, r, e.auth.installations(c.id.app)) {
		out = append(out, e.installationJSON(in))
	}
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) installationParam(r *http.Request, c *reqCtx) (*installation, bool) {
	id, ok := intParam(r, "installation_id")
	if !ok {
		return nil, false
	}
	in, ok := e.auth.installation(id)
	return in, ok && in.app == c.id.app
}

func (e *Emulator) getInstallation(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	in, ok := e.installationParam(r, c)
	if !ok {
		writeError(w, errNotFound())
		return
	}
	writeJSON(w, http.StatusOK, e.installationJSON(in))
}

func (e *Emulator) createInstallationToken(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	in, ok := e.installationParam(r, c)
	if !ok {
		writeError(w, errNotFound())
		return
	}
	tok, exp := e.auth.issueToken(in)
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": ts(exp), "permissions": appPermissions, "repository_selection": "all",
	})
}

func (e *Emulator) getRepoInstallation(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	writeJSON(w, http.StatusOK, e.installationJSON(e.auth.installationFor(c.id.app, c.repo.owner)))
}

func (e *Emulator) getAccountInstallation(paramName string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		login := param(r, paramName)
		for _, rp := range e.allRepos() {
			if strings.EqualFold(rp.owner.Login, login) {
				writeJSON(w, http.StatusOK, e.installationJSON(e.auth.installationFor(c.id.app, rp.owner)))
				return
			}
		}
		writeError(w, errNotFound())
	}
}

func (e *Emulator) listInstallationRepos(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var mine []*repo
	for _, rp := range e.allRepos() {
		if strings.EqualFold(rp.owner.Login, c.id.inst.account.Login) {
			mine = append(mine, rp)
		}
	}
	page := paginate(e, w, r, mine)
	out := make([]*jRepo, 0, len(page))
	for _, rp := range page {
		rp.mu.RLock()
		out = append(out, e.repoJSON(rp, false))
		rp.mu.RUnlock()
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(mine), "repository_selection": "all", "repositories": out})
}
