package events

import (
	"errors"
	"fmt"
	"strings"
)

// Version bump events: a code repository's pipeline asks Telefonistka to open
// the PR that bumps a version in a GitOps repository (the same operation as
// the bump-overwrite, bump-regex and bump-yaml commands). The bumper service
// consumes bump.requested and answers with exactly one outcome per request:
// bump.opened, bump.unchanged or bump.failed, caused by the request (its
// CausationID is the request's ID).
//
// Publishing a request: the envelope's Repo is the target repository, so it
// goes on bump.requested.<owner>.<repo> (escaped as in EscapeToken), and its
// ID must be BumpRequestID of the request, so that a pipeline retrying the
// same request within the stream's duplicate window is stored once. With the
// nats CLI (see services/bumper/README.md for the full example):
//
//	nats pub bump.requested.acme.gitops --header Nats-Msg-Id:$ID "$(cat request.json)"
//
// where request.json is an envelope such as testdata/bump.requested.v1.json.
// Requests are idempotent per (target repo, target file, triggering repo,
// triggering SHA) even after the duplicate window: the branch name is derived
// from the triggering repo and SHA, an open PR on it is adopted, and a commit
// identical to the one on the branch is not made again.

// Wire names of the bump events.
const (
	TypeBumpRequested = "bump.requested.v1"
	TypeBumpOpened    = "bump.opened.v1"
	TypeBumpUnchanged = "bump.unchanged.v1"
	TypeBumpFailed    = "bump.failed.v1"
)

// Bump modes: how the new content of the target file is computed.
const (
	// BumpOverwrite replaces the whole file with Content (creating it if
	// absent), like bump-overwrite.
	BumpOverwrite = "overwrite"
	// BumpRegex replaces every match of Regex with Replacement (which may use
	// $1, ${1}, ${name}), like bump-regex. The file must exist and the regex
	// must match.
	BumpRegex = "regex"
	// BumpYAML sets every node Address selects to Replacement as a YAML
	// string, creating missing keys, like bump-yaml. The file must exist.
	BumpYAML = "yaml"
)

// BumpRequested asks for a version-bump PR.
//
// Example (the data of an envelope of type bump.requested.v1):
//
//	{"targetRepo": "acme/gitops", "targetFile": "apps/billing/values.yaml",
//	 "mode": "yaml", "address": ".image.tag", "replacement": "v1.5.0",
//	 "triggeringRepo": "acme/billing", "triggeringSha": "9f8e7d...",
//	 "triggeringActor": "octocat", "autoMerge": true}
type BumpRequested struct {
	// TargetRepo is the GitOps repository, "owner/name".
	TargetRepo string `json:"targetRepo"`
	// TargetFile is the file's path from the repository root.
	TargetFile string `json:"targetFile"`
	// Mode is BumpOverwrite, BumpRegex or BumpYAML.
	Mode string `json:"mode"`
	// Content is the new file content (BumpOverwrite only).
	Content string `json:"content,omitempty"`
	// Regex is a Go (RE2) regular expression (BumpRegex only).
	Regex string `json:"regex,omitempty"`
	// Address is a yq path expression such as
	// `.db.[] | select(.name == "postgres").image.tag` (BumpYAML only).
	Address string `json:"address,omitempty"`
	// Replacement is the regex replacement or the YAML value; it may be
	// empty.
	Replacement string `json:"replacement,omitempty"`
	// TriggeringRepo is the code repository that triggered the bump,
	// "owner/name"; it names the branch and the PR.
	TriggeringRepo string `json:"triggeringRepo"`
	// TriggeringSHA is its commit SHA, or another name of the build safe in
	// a branch name (a tag such as v1.2.3).
	TriggeringSHA string `json:"triggeringSha"`
	// TriggeringActor is assigned to the PR, if set.
	TriggeringActor string `json:"triggeringActor,omitempty"`
	// AutoMerge merges the PR right after it is opened.
	AutoMerge bool `json:"autoMerge,omitempty"`
}

// EventType implements Payload.
func (*BumpRequested) EventType() string { return TypeBumpRequested }

// BumpRequestID is the ID a bump.requested envelope must carry: derived from
// the target repo, target file, triggering repo and triggering SHA (repos and
// SHA lower-cased), so the same request always has the same ID. Callers in
// other languages compute it as DeriveID does: the first 32 hex digits of the
// SHA-256 of "<len>:<part>;" for each part, the parts being
// "bump.requested", target repo, target file, triggering repo and SHA.
func BumpRequestID(targetRepo, targetFile, triggeringRepo, sha string) string {
	return DeriveID("bump.requested", strings.ToLower(targetRepo), targetFile,
		strings.ToLower(triggeringRepo), strings.ToLower(sha))
}

// ID returns BumpRequestID of the request.
func (r *BumpRequested) ID() string {
	return BumpRequestID(r.TargetRepo, r.TargetFile, r.TriggeringRepo, r.TriggeringSHA)
}

// maxTriggeringSHA bounds triggeringSha, which ends up in a branch name.
const maxTriggeringSHA = 200

// branchSafe explains why s cannot end a branch name
// (artifact_version_bump/<repo>/<s>), following git's rules for ref names
// (git check-ref-format); "" means it can. Commit SHAs and tags such as
// v1.2.3 or release/2024.1 are fine.
func branchSafe(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxTriggeringSHA:
		return fmt.Sprintf("is longer than %d characters", maxTriggeringSHA)
	case strings.Contains(s, ".."), strings.Contains(s, "@{"), strings.Contains(s, "//"):
		return `contains "..", "@{" or "//"`
	case strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"), strings.HasSuffix(s, "."):
		return `starts with "/" or ends with "/" or "."`
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Sprintf("contains %q, which a branch name cannot hold", r)
		}
	}
	for _, part := range strings.Split(s, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return `has a path segment starting with "." or ending with ".lock"`
		}
	}
	return ""
}

// Validate checks that the request is complete and consistent with its mode.
// It does not compile the regex or the address.
func (r *BumpRequested) Validate() error {
	var errs []error
	if _, err := ParseRepo(r.TargetRepo); err != nil {
		errs = append(errs, fmt.Errorf("targetRepo: %w", err))
	}
	if r.TargetFile == "" || strings.HasPrefix(r.TargetFile, "/") || strings.HasSuffix(r.TargetFile, "/") {
		errs = append(errs, fmt.Errorf("targetFile %q must be a file path from the repository root", r.TargetFile))
	}
	if _, err := ParseRepo(r.TriggeringRepo); err != nil {
		errs = append(errs, fmt.Errorf("triggeringRepo: %w", err))
	}
	if why := branchSafe(r.TriggeringSHA); why != "" {
		errs = append(errs, fmt.Errorf("triggeringSha %q %s (it names the bump branch)", r.TriggeringSHA, why))
	}
	switch r.Mode {
	case BumpOverwrite:
		if r.Regex != "" || r.Address != "" {
			errs = append(errs, errors.New("mode overwrite takes content, not regex or address"))
		}
	case BumpRegex:
		if r.Regex == "" {
			errs = append(errs, errors.New("mode regex needs regex"))
		}
		if r.Content != "" || r.Address != "" {
			errs = append(errs, errors.New("mode regex takes regex and replacement, not content or address"))
		}
	case BumpYAML:
		if r.Address == "" {
			errs = append(errs, errors.New("mode yaml needs address"))
		}
		if r.Content != "" || r.Regex != "" {
			errs = append(errs, errors.New("mode yaml takes address and replacement, not content or regex"))
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q is not %s, %s or %s", r.Mode, BumpOverwrite, BumpRegex, BumpYAML))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid bump request: %w", err)
	}
	return nil
}

// BumpOpened records that the bump PR is open (or was already open).
type BumpOpened struct {
	TargetRepo     string `json:"targetRepo"`
	TargetFile     string `json:"targetFile"`
	TriggeringRepo string `json:"triggeringRepo"`
	TriggeringSHA  string `json:"triggeringSha"`
	// Branch is artifact_version_bump/<triggering repo>/<sha>.
	Branch string `json:"branch"`
	// Commit is the branch head.
	Commit   string `json:"commit"`
	PRNumber int    `json:"prNumber"`
	PRURL    string `json:"prUrl"`
	// Adopted is true when the PR was open before this request was handled
	// (a retried or replayed request).
	Adopted bool `json:"adopted,omitempty"`
	// Merged is true when the PR was auto-merged; MergeCommit is the result.
	Merged      bool   `json:"merged,omitempty"`
	MergeCommit string `json:"mergeCommit,omitempty"`
}

// EventType implements Payload.
func (*BumpOpened) EventType() string { return TypeBumpOpened }

// BumpUnchanged records that the new content equals the file on the default
// branch, so no PR was opened.
type BumpUnchanged struct {
	TargetRepo     string `json:"targetRepo"`
	TargetFile     string `json:"targetFile"`
	TriggeringRepo string `json:"triggeringRepo"`
	TriggeringSHA  string `json:"triggeringSha"`
	// BaseBranch and BaseCommit are the default branch and the commit read.
	BaseBranch string `json:"baseBranch"`
	BaseCommit string `json:"baseCommit"`
}

// EventType implements Payload.
func (*BumpUnchanged) EventType() string { return TypeBumpUnchanged }

// BumpFailed records that a bump request was given up.
type BumpFailed struct {
	TargetRepo     string `json:"targetRepo"`
	TargetFile     string `json:"targetFile"`
	TriggeringRepo string `json:"triggeringRepo"`
	TriggeringSHA  string `json:"triggeringSha"`
	// Step is the step that failed, e.g. "reading apps/values.yaml" or
	// "auto-merging the PR".
	Step string `json:"step"`
	// Error is the failure, fit for a person.
	Error string `json:"error"`
	// Permanent is true when retrying cannot help (invalid request, regex
	// without a match, missing file, GitHub refusing the change); false when
	// the attempts ran out.
	Permanent bool `json:"permanent,omitempty"`
	// PRNumber and PRURL are set when the PR was opened before the failure
	// (a failed auto-merge).
	PRNumber int    `json:"prNumber,omitempty"`
	PRURL    string `json:"prUrl,omitempty"`
}

// EventType implements Payload.
func (*BumpFailed) EventType() string { return TypeBumpFailed }

// BumpOutcomeID is the ID of the outcome event of type typ for the request
// with ID requestID, so a request handled twice publishes its outcome once.
func BumpOutcomeID(requestID, typ string) string {
	return DeriveID("bump.outcome", requestID, typ)
}

func init() {
	register(func() Payload { return &BumpRequested{} })
	register(func() Payload { return &BumpOpened{} })
	register(func() Payload { return &BumpUnchanged{} })
	register(func() Payload { return &BumpFailed{} })
}
