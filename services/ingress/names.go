package ingress

import (
	"fmt"
	"regexp"
)

// The event, the action and the repository's owner and name become tokens
// of the NATS subject a delivery is stored on, and the event header is not
// covered by the signature. Each is checked against what GitHub sends before
// anything is published: a subject over the server's control-line limit
// (4 KiB) would make NATS close the connection.

// githubEvents are the X-GitHub-Event values GitHub sends (its documented
// webhook events, with the older names of the installation events). Any
// other value is refused: no service consumes it.
var githubEvents = setOf(
	"branch_protection_configuration", "branch_protection_rule", "check_run", "check_suite",
	"code_scanning_alert", "commit_comment", "content_reference", "create", "custom_property",
	"custom_property_values", "delete", "dependabot_alert", "deploy_key", "deployment",
	"deployment_protection_rule", "deployment_review", "deployment_status", "discussion",
	"discussion_comment", "fork", "github_app_authorization", "gollum", "installation",
	"installation_repositories", "installation_target", "integration_installation",
	"integration_installation_repositories", "issue_comment", "issue_dependencies", "issues",
	"label", "marketplace_purchase", "member", "membership", "merge_group", "meta", "milestone",
	"org_block", "organization", "package", "page_build", "personal_access_token_request", "ping",
	"project", "project_card", "project_column", "projects_v2", "projects_v2_item",
	"projects_v2_status_update", "public", "pull_request", "pull_request_review",
	"pull_request_review_comment", "pull_request_review_thread", "push", "registry_package",
	"release", "repository", "repository_advisory", "repository_dispatch", "repository_import",
	"repository_ruleset", "repository_vulnerability_alert", "secret_scanning_alert",
	"secret_scanning_alert_location", "secret_scanning_scan", "security_advisory",
	"security_and_analysis", "sponsorship", "star", "status", "sub_issues", "team", "team_add",
	"watch", "workflow_dispatch", "workflow_job", "workflow_run",
)

// Limits GitHub itself enforces on names.
const (
	maxOwnerLen  = 39  // user and organization logins
	maxRepoLen   = 100 // repository names
	maxActionLen = 64  // the longest action GitHub sends is about 30 bytes
)

var (
	// Actions are lower-case words joined by "_" (ready_for_review). They
	// are checked by shape, not by a list, so an action GitHub adds later
	// still reaches the consumers that subscribe to every action.
	actionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// Logins are letters, digits and "-"; managed users add "_shortcode".
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// Repository names are letters, digits, ".", "-" and "_".
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkEvent refuses an X-GitHub-Event GitHub does not send.
func checkEvent(event string) error {
	if !githubEvents[event] {
		return fmt.Errorf("X-GitHub-Event %s is not a GitHub webhook event", clip(event))
	}
	return nil
}

// checkHead refuses an action, owner or repository name GitHub would not
// send.
func checkHead(head *payloadHead) error {
	if a := head.Action; a != "" && (len(a) > maxActionLen || !actionPattern.MatchString(a)) {
		return fmt.Errorf("action %s is not a GitHub action (lower-case letters, digits and _, at most %d bytes)", clip(a), maxActionLen)
	}
	owner, name, ok := head.repo()
	if !ok {
		return nil
	}
	if len(owner) > maxOwnerLen || !ownerPattern.MatchString(owner) {
		return fmt.Errorf("repository owner %s is not a GitHub login (letters, digits, - and _, at most %d bytes)", clip(owner), maxOwnerLen)
	}
	if len(name) > maxRepoLen || !repoPattern.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("repository name %s is not a GitHub repository name (letters, digits, ., - and _, at most %d bytes)", clip(name), maxRepoLen)
	}
	return nil
}

// clip quotes s for a message or a log, cut to 64 bytes.
func clip(s string) string {
	const n = 64
	if len(s) > n {
		return fmt.Sprintf("%q... (%d bytes)", s[:n], len(s))
	}
	return fmt.Sprintf("%q", s)
}
