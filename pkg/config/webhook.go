package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func (d *decoder) webhooks(n *yaml.Node, path string) []WebhookEndpoint {
	items, _, ok := d.sequence(n, path)
	if !ok {
		return nil
	}
	var out []WebhookEndpoint
	for i, it := range items {
		p := index(path, i)
		entries, ok := d.mapping(it, p)
		if !ok {
			continue
		}
		d.checkUnknown(entries, p, webhookKeys)
		var ep WebhookEndpoint
		var exprSet, replSet bool
		var replNodes []*yaml.Node
		for _, e := range entries {
			switch e.key {
			case "expression":
				s, isNil, ok := d.scalarString(e.val, join(p, e.key))
				if ok && !isNil {
					exprSet = true
					ep.Expression = s
					ep.Regexp = d.compile(e.val, join(p, e.key), s)
				}
			case "replacements":
				vals, nodes, _, _ := d.stringList(e.val, join(p, e.key))
				ep.Replacements, replNodes, replSet = vals, nodes, len(vals) > 0
			}
		}
		if !exprSet {
			d.warnf(d.visit(it), join(p, "expression"), "required key is missing; this entry is ignored")
		}
		if !replSet {
			d.warnf(d.visit(it), join(p, "replacements"), "no replacements; this entry forwards nothing")
		}
		for j, r := range ep.Replacements {
			d.checkReplacement(replNodes[j], index(join(p, "replacements"), j), r, ep)
		}
		if exprSet && ep.Regexp != nil {
			out = append(out, ep)
		}
	}
	return out
}

func (d *decoder) checkReplacement(n *yaml.Node, path, r string, ep WebhookEndpoint) {
	lower := strings.ToLower(r)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		d.errorf(n, path, "a replacement must be an http:// or https:// URL, got %q", r)
	}
	if ep.Regexp == nil {
		return
	}
	for _, ref := range captureRefs(r) {
		if num, err := strconv.Atoi(ref); err == nil {
			if num > ep.Regexp.NumSubexp() {
				d.warnf(n, path, "references capture group $%s but the expression has only %d", ref, ep.Regexp.NumSubexp())
			}
			continue
		}
		if ep.Regexp.SubexpIndex(ref) < 0 {
			d.warnf(n, path, "references capture group ${%s} which the expression does not define", ref)
		}
	}
}

// captureRefs lists the group references of a template as Go's
// Regexp.Expand reads them: $name or ${name}, where name is a run of
// letters, digits and underscores; $$ is a literal dollar.
func captureRefs(t string) []string {
	var refs []string
	for i := 0; i < len(t); i++ {
		if t[i] != '$' || i+1 >= len(t) {
			continue
		}
		if t[i+1] == '$' {
			i++
			continue
		}
		if t[i+1] == '{' {
			end := strings.IndexByte(t[i+2:], '}')
			if end < 0 {
				continue
			}
			name := t[i+2 : i+2+end]
			if isCaptureName(name) {
				refs = append(refs, name)
			}
			i += 2 + end
			continue
		}
		j := i + 1
		for j < len(t) && isNameByte(t[j]) {
			j++
		}
		if j > i+1 {
			refs = append(refs, t[i+1:j])
		}
		i = j - 1
	}
	return refs
}

func isCaptureName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
