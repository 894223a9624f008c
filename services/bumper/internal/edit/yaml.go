package edit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mikefarah/yq/v4/pkg/yqlib"
	"gopkg.in/yaml.v3"
)

// MaxYAMLSize bounds the files bump-yaml edits.
const MaxYAMLSize = 10 << 20

// ErrNoMatch is in the chain of the errors saying that a regex or an
// address selected nothing, so nothing could be bumped.
var ErrNoMatch = errors.New("nothing matched")

// YAML sets every node that address (a yq path expression such as
// `.db.[] | select(.name == "postgres").image.tag`) selects in content to
// value, as a YAML string, creating missing map keys on the way.
//
// Only the selected scalars change: comments, key order, indentation, blank
// lines and the quoting of other nodes stay as they are. A quoted scalar
// keeps its quotes; a plain or new scalar is written plain unless it would
// read back as something else (16.2, true, 0x1F, null, "a: b"...), then
// double-quoted. The value is always escaped, never evaluated.
//
// Edits are made in the text where they can be (replacing an existing scalar,
// appending keys to a block mapping); otherwise the documents are written
// again by the YAML encoder with the file's indentation. Either way the
// result is parsed back and compared with the intended documents.
func YAML(content []byte, address, value string) ([]byte, error) {
	out, _, err := editYAML(content, address, value)
	return out, err
}

// editYAML is YAML that also reports whether the edit was made in the text
// (true) or by writing the documents again.
func editYAML(content []byte, address, value string) ([]byte, bool, error) {
	if len(content) > MaxYAMLSize {
		return nil, false, fmt.Errorf("the file is larger than %d bytes", MaxYAMLSize)
	}
	if err := checkValue(value); err != nil {
		return nil, false, err
	}
	docs, err := parseDocuments(content)
	if err != nil {
		return nil, false, fmt.Errorf("the file is not valid YAML: %w", err)
	}
	edited, err := evaluate(docs, address, value)
	if err != nil {
		return nil, false, err
	}
	indent := detectIndent(docs)
	if out, ok := splice(content, docs, edited, indent); ok {
		if sameDocuments(out, edited) == nil {
			return out, true, nil
		}
	}
	out, err := reencode(content, edited, indent)
	if err != nil {
		return nil, false, err
	}
	if err := sameDocuments(out, edited); err != nil {
		return nil, false, fmt.Errorf("writing the edited YAML: %w", err)
	}
	return out, false, nil
}

// parseDocuments parses every document of a YAML stream. An empty stream
// gives one empty document.
func parseDocuments(content []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parsing YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
	if len(docs) == 0 {
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode})
	}
	for _, d := range docs {
		if len(d.Content) == 0 {
			d.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!null"}}
		}
	}
	return docs, nil
}

// evaluate applies the address to copies of docs and returns the edited
// documents.
func evaluate(docs []*yaml.Node, address, value string) ([]*yaml.Node, error) {
	yqMu.Lock()
	defer yqMu.Unlock()
	expr, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	roots := make([]*yqlib.CandidateNode, len(docs))
	for i, d := range docs {
		root := &yqlib.CandidateNode{}
		if err := root.UnmarshalYAML(d.Content[0], map[string]*yqlib.CandidateNode{}); err != nil {
			return nil, fmt.Errorf("reading YAML document %d: %w", i+1, err)
		}
		root.SetDocument(uint(i))
		roots[i] = root
	}
	selected, err := selectNodes(expr, roots)
	if err != nil {
		return nil, err
	}
	targets, err := settableTargets(address, roots, selected)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		inFlow := t.Parent != nil && t.Parent.Style&yqlib.FlowStyle != 0
		q := chooseQuoting(value, yqlib.MapToYamlStyle(t.Style&(yqlib.SingleQuotedStyle|yqlib.DoubleQuotedStyle)), inFlow)
		t.Kind = yqlib.ScalarNode
		t.Tag = "!!str"
		t.Value = value
		t.Style = yqlib.MapYamlStyle(q.yamlStyle())
	}
	edited := make([]*yaml.Node, len(docs))
	for i, r := range roots {
		n, err := r.MarshalYAML()
		if err != nil {
			return nil, fmt.Errorf("writing YAML document %d: %w", i+1, err)
		}
		doc := *docs[i]
		doc.Content = []*yaml.Node{n}
		edited[i] = &doc
	}
	return edited, nil
}

// settableTargets checks that every selected node is a scalar of the
// documents (not a key, a collection, an alias or a value the address
// computed) and returns them without duplicates.
func settableTargets(address string, roots, selected []*yqlib.CandidateNode) ([]*yqlib.CandidateNode, error) {
	if len(selected) == 0 {
		return nil, fmt.Errorf("the address %q selects no node: %w", address, ErrNoMatch)
	}
	inTree := map[*yqlib.CandidateNode]bool{}
	for _, r := range roots {
		markTree(r, inTree)
	}
	seen := map[*yqlib.CandidateNode]bool{}
	var out []*yqlib.CandidateNode
	for _, n := range selected {
		if seen[n] {
			continue
		}
		seen[n] = true
		where := n.GetNicePath()
		switch {
		case !inTree[n]:
			return nil, fmt.Errorf("the address %q selects a value it computes, not a node of the file", address)
		case n.IsMapKey:
			return nil, fmt.Errorf("the address %q selects the key %s; select its value to set it", address, where)
		case n.Kind == yqlib.MappingNode:
			return nil, fmt.Errorf("the address %q selects a mapping at %s; only scalars can be set", address, where)
		case n.Kind == yqlib.SequenceNode:
			return nil, fmt.Errorf("the address %q selects a sequence at %s; only scalars can be set", address, where)
		case n.Kind == yqlib.AliasNode:
			return nil, fmt.Errorf("the address %q selects the alias %s; set the anchored node instead", address, where)
		}
		out = append(out, n)
	}
	return out, nil
}

func markTree(n *yqlib.CandidateNode, seen map[*yqlib.CandidateNode]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	for _, c := range n.Content {
		markTree(c, seen)
	}
}
