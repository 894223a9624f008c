package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeBudget bounds the number of nodes one file may make the decoder visit,
// so aliases cannot expand a small file into an enormous amount of work.
const nodeBudget = 1_000_000

// decoder walks a yaml.v3 node tree and records findings with positions.
type decoder struct {
	flowMeta  []flowNodes
	flowPaths []string
	file      string
	findings  []Finding
	visits    int
	overrun   bool
}

func (d *decoder) add(sev Severity, n *yaml.Node, key, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	if key == "" {
		key = RootKey
	}
	d.findings = append(d.findings, Finding{
		File: d.file, Line: line, Column: col, Severity: sev, Key: key,
		Message: fmt.Sprintf(format, args...),
	})
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	d.add(SeverityError, n, key, format, args...)
}

func (d *decoder) warnf(n *yaml.Node, key, format string, args ...any) {
	d.add(SeverityWarning, n, key, format, args...)
}

// visit follows aliases and charges the node budget. It returns nil once
// the budget is spent; callers treat nil like an absent value.
func (d *decoder) visit(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.visits++
	if d.visits > nodeBudget {
		if !d.overrun {
			d.overrun = true
			d.errorf(n, "", "the document expands to too many nodes (aliases); refusing to read it")
		}
		return nil
	}
	return n
}

// parseDocument parses data into its root node. An empty document yields nil.
func (d *decoder) parseDocument(data []byte) (root *yaml.Node, ok bool) {
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		at := locateSyntaxError(data, err)
		d.findings = append(d.findings, Finding{
			File: d.file, Line: at.line, Column: at.column, Severity: SeverityError, Key: RootKey,
			Message: "invalid YAML: " + at.message,
		})
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

var yamlErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// safeUnmarshal turns a panic inside the YAML library into an error.
func safeUnmarshal(data []byte, out *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	return yaml.Unmarshal(data, out)
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// entry is one key/value pair of a mapping.
type entry struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

// mapping returns the pairs of a mapping node in document order, with merge
// keys (<<) applied and duplicate keys reported. A null node is an empty
// mapping. ok is false (and an error recorded) for any other kind of node.
func (d *decoder) mapping(n *yaml.Node, path string) ([]entry, bool) {
	n = d.visit(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return nil, false
	}
	seen := map[string]int{}
	var entries, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kk := d.visit(k)
		if kk == nil {
			return entries, false
		}
		if kk.Kind != yaml.ScalarNode {
			d.errorf(kk, path, "mapping keys must be strings, got %s", describe(kk))
			continue
		}
		if kk.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(v, path)...)
			continue
		}
		if prev, dup := seen[kk.Value]; dup {
			d.errorf(kk, join(path, kk.Value), "key %q is already defined on line %d", kk.Value, entries[prev].keyNode.Line)
			continue
		}
		seen[kk.Value] = len(entries)
		entries = append(entries, entry{key: kk.Value, keyNode: kk, val: v})
	}
	for _, m := range merged {
		if _, dup := seen[m.key]; dup {
			continue
		}
		seen[m.key] = len(entries)
		entries = append(entries, m)
	}
	return entries, true
}

// mergeSources reads the value of a << key: a mapping or a list of mappings,
// earlier mappings taking precedence.
func (d *decoder) mergeSources(v *yaml.Node, path string) []entry {
	v = d.visit(v)
	if v == nil {
		return nil
	}
	var sources []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{v}
	case yaml.SequenceNode:
		sources = v.Content
	default:
		d.errorf(v, path, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(v))
		return nil
	}
	var out []entry
	seen := map[string]bool{}
	for _, s := range sources {
		es, _ := d.mapping(s, path)
		for _, e := range es {
			if !seen[e.key] {
				seen[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// sequence returns the items of a sequence node. A null node is an empty
// sequence with isNil set.
func (d *decoder) sequence(n *yaml.Node, path string) (items []*yaml.Node, isNil, ok bool) {
	n = d.visit(n)
	if isNull(n) {
		return nil, true, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", describe(n))
		return nil, false, false
	}
	return n.Content, false, true
}

// scalarString reads a string value. Any scalar is accepted as its text.
func (d *decoder) scalarString(n *yaml.Node, path string) (s string, isNil, ok bool) {
	n = d.visit(n)
	if isNull(n) {
		return "", true, true
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a string, got %s", describe(n))
		return "", false, false
	}
	if tag := n.ShortTag(); tag != "!!str" {
		d.warnf(n, path, "expected a string, got %s; it is read as the text %q", describe(n), n.Value)
	}
	return n.Value, false, true
}

// stringList reads a list of strings; null items are skipped with a warning.
func (d *decoder) stringList(n *yaml.Node, path string) (vals []string, nodes []*yaml.Node, isNil, ok bool) {
	items, isNil, ok := d.sequence(n, path)
	if !ok || isNil {
		return nil, nil, isNil, ok
	}
	vals = []string{}
	for i, it := range items {
		p := index(path, i)
		it = d.visit(it)
		if isNull(it) {
			if it != nil {
				d.warnf(it, p, "null entry is ignored")
			}
			continue
		}
		s, _, itemOK := d.scalarString(it, p)
		if !itemOK {
			ok = false
			continue
		}
		vals = append(vals, s)
		nodes = append(nodes, it)
	}
	return vals, nodes, false, ok
}

// boolean reads a bool; YAML 1.1 spellings (yes/no/on/off, any case) count.
func (d *decoder) boolean(n *yaml.Node, path string) (b, ok bool) {
	n = d.visit(n)
	if isNull(n) {
		return false, true
	}
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	d.errorf(n, path, "expected a boolean (true/false), got %s", describe(n))
	return false, false
}

// integer reads an int.
func (d *decoder) integer(n *yaml.Node, path string) (v int, isNil, ok bool) {
	n = d.visit(n)
	if isNull(n) {
		return 0, true, true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var i int
		if err := n.Decode(&i); err == nil {
			return i, false, true
		}
	}
	d.errorf(n, path, "expected an integer, got %s", describe(n))
	return 0, false, false
}

func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + v
		case "!!int", "!!float":
			return "number " + v
		}
		return strconv.Quote(v)
	}
	return "an unsupported node"
}

// join appends a key to a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a key path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// checkUnknown warns about keys outside known, suggesting a known key that
// differs only in letter case.
func (d *decoder) checkUnknown(entries []entry, path string, known []string) {
	for _, e := range entries {
		if isKnown(e.key, known) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q is ignored", e.key)
		if k := suggestKey(e.key, known); k != "" {
			msg += fmt.Sprintf("; did you mean `%s`?", k)
		}
		d.warnf(e.keyNode, join(path, e.key), "%s", msg)
	}
}

func isKnown(key string, known []string) bool {
	for _, k := range known {
		if k == key {
			return true
		}
	}
	return false
}

// sorted returns the findings in file position order.
func (d *decoder) sorted() []Finding {
	SortFindings(d.findings)
	return d.findings
}
