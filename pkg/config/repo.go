package config

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// RepoFileName is the name of both the repository and the component files.
const RepoFileName = "telefonistka.yaml"

// Policy is the value of promotionPrPolicy.
type Policy string

const (
	// PolicySupersede keeps at most one open promotion PR per promotion group.
	PolicySupersede Policy = "supersede"
	// PolicyPerChange opens one promotion PR per merged PR and plan entry.
	PolicyPerChange Policy = "perChange"
)

// RepoConfig is a parsed repository telefonistka.yaml. The zero value (as
// returned for a missing or empty file) promotes nothing.
type RepoConfig struct {
	// PromotionPaths are the flows, in file order.
	PromotionPaths []Flow
	// PromotionPrPolicy is supersede unless the file says perChange.
	PromotionPrPolicy Policy
	DryRunMode        bool
	// AutoApprovePromotionPrs asks for an approval by the approver identity.
	AutoApprovePromotionPrs bool
	// PromotionLabels is the union of promtionPRlables and promotionPrLabels,
	// deduplicated, in file order; "promotion" is not included.
	PromotionLabels []string
	// ToggleCommitStatus maps a comment word (without "/") to a status context.
	ToggleCommitStatus           map[string]string
	WebhookEndpointRegexs        []WebhookEndpoint
	WhProxtSkipTLSVerifyUpstream bool
	ArgoCD                       ArgoCD
	// PromotionTrackerComment asks the tracker service to keep one comment
	// on a change's original PR showing its promotion journey.
	PromotionTrackerComment bool
}

// ArgoCD holds the argocd.* keys.
type ArgoCD struct {
	CommentDiffOnPR    bool
	AutoMergeNoDiffPRs bool
	// AllowSyncFromBranchPathRegex is nil when the key is unset or empty.
	// It is matched, unanchored, against component paths.
	AllowSyncFromBranchPathRegex   *regexp.Regexp
	UseSHALabelForAppDiscovery     bool
	CreateTempAppObjectFromNewApps bool
}

// WebhookEndpoint is one webhookEndpointRegexs element.
type WebhookEndpoint struct {
	Expression   string
	Regexp       *regexp.Regexp
	Replacements []string
}

// ToggleCommitStatusKeys returns the toggleCommitStatus keys in byte order.
func (c *RepoConfig) ToggleCommitStatusKeys() []string {
	keys := make([]string, 0, len(c.ToggleCommitStatus))
	for k := range c.ToggleCommitStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WebhookURLs expands the fan-out URLs for the files a push changed: for
// each file, the first rule whose expression matches contributes all its
// replacements, expanded from that match. URLs are deduplicated and sorted.
func (c *RepoConfig) WebhookURLs(files []string) []string {
	seen := map[string]bool{}
	for _, f := range files {
		for _, ep := range c.WebhookEndpointRegexs {
			m := ep.Regexp.FindStringSubmatchIndex(f)
			if m == nil {
				continue
			}
			for _, r := range ep.Replacements {
				seen[string(ep.Regexp.ExpandString(nil, r, f, m))] = true
			}
			break
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

var (
	repoKeys = []string{
		"promotionPaths", "promotionPrPolicy", "dryRunMode", "autoApprovePromotionPrs",
		"promtionPRlables", "promotionPrLabels", "toggleCommitStatus", "webhookEndpointRegexs",
		"whProxtSkipTLSVerifyUpstream", "argocd", "promotionTrackerComment",
		// Accepted and ignored, as by the original.
		"promotionBranchNameTemplte", "promtionPrBodyTemplate",
	}
	argoKeys    = []string{"commentDiffonPR", "autoMergeNoDiffPRs", "allowSyncfromBranchPathRegex", "useSHALabelForAppDiscovery", "createTempAppObjectFromNewApps"}
	webhookKeys = []string{"expression", "replacements"}
)

// LoadRepoConfig parses a repository file and returns an *Error when it has
// error findings. A nil or empty data is an empty configuration.
func LoadRepoConfig(file string, data []byte) (*RepoConfig, error) {
	cfg, findings := ParseRepoConfig(file, data)
	if HasErrors(findings) {
		return nil, &Error{File: file, Findings: findings}
	}
	return cfg, nil
}

// ParseRepoConfig parses a repository file and returns the configuration
// with every finding. When findings contain errors the configuration is
// partial and must not be used to promote. It never panics.
func ParseRepoConfig(file string, data []byte) (*RepoConfig, []Finding) {
	d := &decoder{file: file}
	cfg := &RepoConfig{PromotionPrPolicy: PolicySupersede, ToggleCommitStatus: map[string]string{}}
	root, ok := d.parseDocument(data)
	if !ok || root == nil {
		return cfg, d.findings
	}
	entries, ok := d.mapping(root, "")
	if !ok {
		return cfg, d.findings
	}
	d.checkUnknown(entries, "", repoKeys)
	var labelNodes [2]*yaml.Node
	for _, e := range entries {
		p := e.key
		switch e.key {
		case "promotionPaths":
			cfg.PromotionPaths = d.flows(e.val, p)
		case "promotionPrPolicy":
			cfg.PromotionPrPolicy = d.policy(e.val, p)
		case "dryRunMode":
			cfg.DryRunMode, _ = d.boolean(e.val, p)
		case "autoApprovePromotionPrs":
			cfg.AutoApprovePromotionPrs, _ = d.boolean(e.val, p)
			if cfg.AutoApprovePromotionPrs {
				d.warnf(e.keyNode, p, "promotion PRs are approved with the approver identity: make sure APPROVER_GITHUB_OAUTH_TOKEN or the APPROVER_GITHUB_APP_* variables are set")
			}
		case "promtionPRlables", "promotionPrLabels":
			vals, _, _, _ := d.stringList(e.val, p)
			cfg.PromotionLabels = appendUnique(cfg.PromotionLabels, vals...)
			if e.key == "promtionPRlables" {
				labelNodes[0] = e.keyNode
			} else {
				labelNodes[1] = e.keyNode
			}
		case "toggleCommitStatus":
			d.toggles(e.val, p, cfg.ToggleCommitStatus)
		case "webhookEndpointRegexs":
			cfg.WebhookEndpointRegexs = d.webhooks(e.val, p)
		case "whProxtSkipTLSVerifyUpstream":
			cfg.WhProxtSkipTLSVerifyUpstream, _ = d.boolean(e.val, p)
		case "argocd":
			cfg.ArgoCD = d.argocd(e.val, p)
		case "promotionTrackerComment":
			cfg.PromotionTrackerComment, _ = d.boolean(e.val, p)
		case "promotionBranchNameTemplte", "promtionPrBodyTemplate":
			d.warnf(e.keyNode, p, "this key has no effect and is accepted only for compatibility")
		}
	}
	if labelNodes[0] != nil && labelNodes[1] != nil {
		d.warnf(labelNodes[1], "promotionPrLabels", "both `promtionPRlables` and `promotionPrLabels` are set; the union of both applies")
	}
	d.crossFlowChecks(cfg.PromotionPaths)
	return cfg, d.sorted()
}

func (d *decoder) policy(n *yaml.Node, path string) Policy {
	s, isNil, ok := d.scalarString(n, path)
	if !ok || isNil {
		return PolicySupersede
	}
	switch Policy(s) {
	case PolicySupersede, PolicyPerChange:
		return Policy(s)
	}
	msg := "unknown promotionPrPolicy %q; use `supersede` or `perChange`"
	for _, p := range []Policy{PolicySupersede, PolicyPerChange} {
		if strings.EqualFold(string(p), s) {
			msg = "unknown promotionPrPolicy %q; did you mean `" + string(p) + "`?"
		}
	}
	d.errorf(d.visit(n), path, msg, s)
	return PolicySupersede
}

func (d *decoder) toggles(n *yaml.Node, path string, out map[string]string) {
	entries, ok := d.mapping(n, path)
	if !ok {
		return
	}
	for _, e := range entries {
		p := join(path, e.key)
		if strings.TrimSpace(e.key) == "" || strings.IndexFunc(e.key, isSpace) >= 0 {
			d.errorf(e.keyNode, p, "a toggleCommitStatus key must be a non-empty word without whitespace, got %q", e.key)
			continue
		}
		v, isNil, ok := d.scalarString(e.val, p)
		if !ok {
			continue
		}
		if isNil || v == "" {
			d.warnf(e.keyNode, p, "empty status context; `/%s` would do nothing", e.key)
			continue
		}
		out[e.key] = v
	}
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0xA0
}

func (d *decoder) argocd(n *yaml.Node, path string) ArgoCD {
	var a ArgoCD
	entries, ok := d.mapping(n, path)
	if !ok {
		return a
	}
	d.checkUnknown(entries, path, argoKeys)
	var needsDiff []entry
	for _, e := range entries {
		p := join(path, e.key)
		switch e.key {
		case "commentDiffonPR":
			a.CommentDiffOnPR, _ = d.boolean(e.val, p)
		case "autoMergeNoDiffPRs":
			a.AutoMergeNoDiffPRs, _ = d.boolean(e.val, p)
			if a.AutoMergeNoDiffPRs {
				needsDiff = append(needsDiff, e)
			}
		case "allowSyncfromBranchPathRegex":
			s, _, ok := d.scalarString(e.val, p)
			if ok && s != "" {
				a.AllowSyncFromBranchPathRegex = d.compile(e.val, p, s)
				needsDiff = append(needsDiff, e)
			}
		case "useSHALabelForAppDiscovery":
			a.UseSHALabelForAppDiscovery, _ = d.boolean(e.val, p)
		case "createTempAppObjectFromNewApps":
			a.CreateTempAppObjectFromNewApps, _ = d.boolean(e.val, p)
		}
	}
	if !a.CommentDiffOnPR {
		for _, e := range needsDiff {
			d.warnf(e.keyNode, join(path, e.key), "has no effect unless `argocd.commentDiffonPR` is true")
		}
	}
	return a
}

// compile compiles a regex, recording an error finding when it fails.
func (d *decoder) compile(n *yaml.Node, path, expr string) *regexp.Regexp {
	re, err := regexp.Compile(expr)
	if err != nil {
		d.errorf(d.visit(n), path, "invalid regular expression: %v", err)
		return nil
	}
	return re
}

func appendUnique(list []string, vals ...string) []string {
	for _, v := range vals {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}
