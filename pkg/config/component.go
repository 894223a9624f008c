package config

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// ComponentConfig is a parsed <component path>/telefonistka.yaml. The zero
// value (a missing file) allows every target.
type ComponentConfig struct {
	// PromotionTargetBlockList: a target directory matching any entry is
	// skipped. It wins over the allow list.
	PromotionTargetBlockList []*regexp.Regexp
	// PromotionTargetAllowList: if non-empty, only target directories
	// matching an entry are promoted.
	PromotionTargetAllowList []*regexp.Regexp
	DisableArgoCDDiff        bool
}

// Allows reports whether the component may be promoted to targetDir (a
// canonical target directory). Both lists are unanchored regexes.
func (c *ComponentConfig) Allows(targetDir string) bool {
	if c == nil {
		return true
	}
	for _, re := range c.PromotionTargetBlockList {
		if re.MatchString(targetDir) {
			return false
		}
	}
	if len(c.PromotionTargetAllowList) == 0 {
		return true
	}
	for _, re := range c.PromotionTargetAllowList {
		if re.MatchString(targetDir) {
			return true
		}
	}
	return false
}

var componentKeys = []string{"promotionTargetBlockList", "promotionTargetAllowList", "disableArgoCDDiff"}

// LoadComponentConfig parses a component file and returns an *Error when it
// has error findings. A nil or empty data is an empty configuration.
func LoadComponentConfig(file string, data []byte) (*ComponentConfig, error) {
	cfg, findings := ParseComponentConfig(file, data)
	if HasErrors(findings) {
		return nil, &Error{File: file, Findings: findings}
	}
	return cfg, nil
}

// ParseComponentConfig parses a component file and returns the
// configuration with every finding. It never panics.
func ParseComponentConfig(file string, data []byte) (*ComponentConfig, []Finding) {
	d := &decoder{file: file}
	cfg := &ComponentConfig{}
	root, ok := d.parseDocument(data)
	if !ok || root == nil {
		return cfg, d.findings
	}
	entries, ok := d.mapping(root, "")
	if !ok {
		return cfg, d.findings
	}
	d.checkUnknown(entries, "", componentKeys)
	for _, e := range entries {
		switch e.key {
		case "promotionTargetBlockList":
			cfg.PromotionTargetBlockList, _ = d.regexList(e.val, e.key)
		case "promotionTargetAllowList":
			list, isNil := d.regexList(e.val, e.key)
			if len(list) == 0 && !d.failedAt(e.key) {
				what := "an empty list"
				if isNil {
					what = "null"
				}
				d.warnf(d.visit(e.val), e.key, "promotionTargetAllowList is %s, which means no allow list", what)
			}
			cfg.PromotionTargetAllowList = list
		case "disableArgoCDDiff":
			cfg.DisableArgoCDDiff, _ = d.boolean(e.val, e.key)
		}
	}
	return cfg, d.sorted()
}

// regexList reads a list of regexes; entries that fail to compile are
// reported and left out.
func (d *decoder) regexList(n *yaml.Node, path string) (list []*regexp.Regexp, isNil bool) {
	vals, nodes, isNil, _ := d.stringList(n, path)
	for i, v := range vals {
		if re := d.compile(nodes[i], index(path, i), v); re != nil {
			list = append(list, re)
		}
	}
	return list, isNil
}

// failedAt reports whether an error was recorded at or below path.
func (d *decoder) failedAt(path string) bool {
	for _, f := range d.findings {
		if f.Severity == SeverityError && (f.Key == path || len(f.Key) > len(path) && f.Key[:len(path)] == path && (f.Key[len(path)] == '.' || f.Key[len(path)] == '[')) {
			return true
		}
	}
	return false
}
