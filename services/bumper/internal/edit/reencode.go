package edit

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// reencode writes the edited documents with the YAML encoder, using the
// file's indentation, line breaks, leading blank lines and a leading "---".
func reencode(orig []byte, edited []*yaml.Node, indent int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writing YAML: %v", r)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(indent)
	for _, d := range edited {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("writing YAML: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	body := buf.Bytes()

	var prefix []byte
	rest := orig
	for {
		switch {
		case bytes.HasPrefix(rest, []byte("\n")):
			prefix, rest = append(prefix, '\n'), rest[1:]
			continue
		case bytes.HasPrefix(rest, []byte("\r\n")):
			prefix, rest = append(prefix, '\n'), rest[2:]
			continue
		}
		break
	}
	if startsWithDocumentMarker(rest) && !startsWithDocumentMarker(body) {
		prefix = append(prefix, "---\n"...)
	}
	out = append(prefix, body...)
	if bytes.Contains(orig, []byte("\r\n")) {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return out, nil
}

func startsWithDocumentMarker(b []byte) bool {
	return bytes.HasPrefix(b, []byte("---")) && (len(b) == 3 || isBlank(b[3]))
}

// detectIndent returns the indentation step of the documents: the column
// difference between a block mapping's key and the keys of a block mapping
// nested in it (2 when there is none).
func detectIndent(docs []*yaml.Node) int {
	for _, d := range docs {
		if n := nestedIndent(d.Content[0]); n > 0 {
			return n
		}
	}
	return 2
}

func nestedIndent(n *yaml.Node) int {
	if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 {
				if d := v.Content[0].Column - k.Column; d > 0 && d <= 8 && v.Content[0].Line > k.Line {
					return d
				}
			}
		}
	}
	for _, c := range n.Content {
		if d := nestedIndent(c); d > 0 {
			return d
		}
	}
	return 0
}

// sameDocuments parses out and compares it with want, ignoring comments
// and positions.
func sameDocuments(out []byte, want []*yaml.Node) error {
	got, err := parseDocuments(out)
	if err != nil {
		return fmt.Errorf("the result is not valid YAML: %w", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("the result has %d documents instead of %d", len(got), len(want))
	}
	for i := range got {
		if !equalNodes(got[i].Content[0], want[i].Content[0]) {
			return fmt.Errorf("document %d of the result differs from the intended edit", i+1)
		}
	}
	return nil
}

// quotingStyles are the style bits that change how a scalar is written.
const quotingStyles = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

// equalNodes compares two node trees: kinds, tags, values, anchors, aliases,
// scalar quoting and collection flow style.
func equalNodes(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.Anchor != b.Anchor || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		if a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Style&quotingStyles != b.Style&quotingStyles {
			return false
		}
	case yaml.AliasNode:
		if a.Value != b.Value {
			return false
		}
	case yaml.MappingNode, yaml.SequenceNode:
		if a.ShortTag() != b.ShortTag() || a.Style&yaml.FlowStyle != b.Style&yaml.FlowStyle {
			return false
		}
	}
	for i := range a.Content {
		if !equalNodes(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
