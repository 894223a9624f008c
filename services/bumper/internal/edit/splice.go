package edit

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// textEdit replaces src[start:end] with text (an insertion when start ==
// end). seq orders edits at the same place.
type textEdit struct {
	start, end int
	text       string
	seq        int
}

// splicer computes text edits by walking the original and the edited
// documents side by side. Any difference it cannot express as a local text
// edit makes it give up, and the caller writes the documents again instead.
type splicer struct {
	src        []byte
	lineStarts []int
	indent     int
	newline    string
	edits      []textEdit
}

// splice returns content with the differences between docs and edited
// applied as text edits, or false when some difference is not a scalar
// replacement or an addition of keys to a non-empty block mapping.
func splice(content []byte, docs, edited []*yaml.Node, indent int) ([]byte, bool) {
	s := &splicer{src: content, lineStarts: lineStarts(content), indent: indent, newline: "\n"}
	if bytes.Contains(content, []byte("\r\n")) {
		s.newline = "\r\n"
	}
	if len(docs) != len(edited) || unusualLineBreaks(content) {
		return nil, false
	}
	for i := range docs {
		if !s.walk(docs[i].Content[0], edited[i].Content[0], false) {
			return nil, false
		}
	}
	return s.apply()
}

func (s *splicer) walk(o, e *yaml.Node, inFlow bool) bool {
	if o.Kind != e.Kind || o.Anchor != e.Anchor || o.Line == 0 {
		return false
	}
	switch o.Kind {
	case yaml.ScalarNode:
		if o.Value == e.Value && o.Tag == e.Tag && o.Style == e.Style {
			return true
		}
		return s.replaceScalar(o, e, inFlow)
	case yaml.AliasNode:
		return o.Value == e.Value
	case yaml.SequenceNode:
		if len(o.Content) != len(e.Content) || o.Style != e.Style {
			return false
		}
		for i := range o.Content {
			if !s.walk(o.Content[i], e.Content[i], inFlow || o.Style&yaml.FlowStyle != 0) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		if len(e.Content) < len(o.Content) || o.Style != e.Style {
			return false
		}
		flow := inFlow || o.Style&yaml.FlowStyle != 0
		for i := 0; i < len(o.Content); i += 2 {
			if !equalNodes(o.Content[i], e.Content[i]) || !s.walk(o.Content[i+1], e.Content[i+1], flow) {
				return false
			}
		}
		switch {
		case len(e.Content) == len(o.Content):
		case len(o.Content) == 0:
			return false
		case o.Style&yaml.FlowStyle != 0:
			return s.appendFlowKeys(o, e)
		case inFlow:
			return false
		default:
			return s.appendKeys(o, e)
		}
		return true
	}
	return false
}

// replaceScalar replaces the text of the scalar o by that of e.
func (s *splicer) replaceScalar(o, e *yaml.Node, inFlow bool) bool {
	if o.Style&(yaml.TaggedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 || e.Tag != "!!str" {
		return false
	}
	q, ok := quotingOf(e.Style)
	if !ok {
		return false
	}
	start, ok := s.offset(o.Line, o.Column)
	if !ok {
		return false
	}
	start = skipProperties(s.src, start)
	end, ok := scalarEnd(s.src, start, o, inFlow)
	if !ok {
		return false
	}
	s.add(start, end, renderScalar(e.Value, q))
	return true
}

// appendKeys inserts the entries e has beyond o after o's last entry.
func (s *splicer) appendKeys(o, e *yaml.Node) bool {
	firstKey := o.Content[0]
	keyIndent := firstKey.Column - 1
	if !s.indentedWithSpaces(firstKey.Line, keyIndent) {
		return false
	}
	last := o.Content[len(o.Content)-2]
	at, needNewline, ok := s.subtreeEnd(last.Line, keyIndent)
	if !ok {
		return false
	}
	var b strings.Builder
	if needNewline {
		b.WriteString(s.newline)
	}
	if !s.renderEntries(&b, e.Content[len(o.Content):], keyIndent) {
		return false
	}
	s.add(at, at, b.String())
	return true
}

// renderEntries writes mapping entries (key, value pairs) as block YAML.
func (s *splicer) renderEntries(b *strings.Builder, kv []*yaml.Node, indent int) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" || k.Anchor != "" || v.Anchor != "" {
			return false
		}
		b.WriteString(strings.Repeat(" ", indent))
		if plainKey(k.Value) {
			b.WriteString(k.Value)
		} else {
			b.WriteString(doubleQuote(k.Value))
		}
		b.WriteByte(':')
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
			q, ok := quotingOf(v.Style)
			if !ok {
				return false
			}
			b.WriteString(" " + renderScalar(v.Value, q) + s.newline)
		case v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Style&yaml.FlowStyle == 0:
			b.WriteString(s.newline)
			if !s.renderEntries(b, v.Content, indent+s.indent) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// subtreeEnd finds where the mapping entry whose key is on keyLine (1-based)
// with the given indentation ends: after the last line that is more
// indented, or a sequence item at the same indentation. It returns the
// offset after that line, and whether that line lacks a final newline.
func (s *splicer) subtreeEnd(keyLine, keyIndent int) (int, bool, bool) {
	lastContent := keyLine - 1
	for l := keyLine; l < len(s.lineStarts); l++ {
		line := s.line(l)
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		trimmed = strings.TrimRight(trimmed, " \t\r")
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case indent > keyIndent, indent == keyIndent && isSequenceItem(trimmed):
			lastContent = l
			continue
		}
		break
	}
	if lastContent+1 < len(s.lineStarts) {
		return s.lineStarts[lastContent+1], false, true
	}
	return len(s.src), len(s.src) > 0 && s.src[len(s.src)-1] != '\n', true
}

func isSequenceItem(line string) bool {
	return line == "-" || strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "-\t")
}

// line returns line l (0-based) without its line break.
func (s *splicer) line(l int) string {
	if l < 0 || l >= len(s.lineStarts) {
		return ""
	}
	end := len(s.src)
	if l+1 < len(s.lineStarts) {
		end = s.lineStarts[l+1]
	}
	return strings.TrimRight(string(s.src[s.lineStarts[l]:end]), "\n")
}

// indentedWithSpaces reports whether line (1-based) starts with n columns
// of spaces, or of a "- " sequence indicator followed by spaces.
func (s *splicer) indentedWithSpaces(line, n int) bool {
	text := s.line(line - 1)
	if len(text) < n {
		return false
	}
	for i, c := range text[:n] {
		if c != ' ' && (c != '-' || i+1 >= len(text) || text[i+1] != ' ') {
			return false
		}
	}
	return true
}

func (s *splicer) add(start, end int, text string) {
	s.edits = append(s.edits, textEdit{start: start, end: end, text: text, seq: len(s.edits)})
}

// apply performs the edits, giving up if two of them overlap.
func (s *splicer) apply() ([]byte, bool) {
	edits := append([]textEdit(nil), s.edits...)
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, false
		}
		out.Write(s.src[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(s.src[pos:])
	return out.Bytes(), true
}

// offset converts a 1-based line and rune column to a byte offset.
func (s *splicer) offset(line, col int) (int, bool) {
	if line < 1 || line > len(s.lineStarts) || col < 1 {
		return 0, false
	}
	p := s.lineStarts[line-1]
	for i := 1; i < col; i++ {
		if p >= len(s.src) || s.src[p] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(s.src[p:])
		p += size
	}
	return p, true
}

// unusualLineBreaks reports line breaks other than \n and \r\n, which YAML
// counts but the splicer does not.
func unusualLineBreaks(src []byte) bool {
	for i, c := range src {
		if c == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			return true
		}
	}
	return bytes.Contains(src, []byte("\u0085")) || bytes.Contains(src, []byte("\u2028")) || bytes.Contains(src, []byte("\u2029"))
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// skipProperties skips an anchor or tag before a scalar.
func skipProperties(src []byte, p int) int {
	for p < len(src) && (src[p] == '&' || src[p] == '!') {
		for p < len(src) && !isBlank(src[p]) {
			p++
		}
		for p < len(src) && (src[p] == ' ' || src[p] == '\t') {
			p++
		}
	}
	return p
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scalarEnd returns the offset just after the scalar o that starts at p.
// Block scalars and plain scalars spanning several lines are not handled.
func scalarEnd(src []byte, p int, o *yaml.Node, inFlow bool) (int, bool) {
	if p >= len(src) {
		return 0, false
	}
	switch src[p] {
	case '"':
		end, ok := quotedEnd(src, p)
		return end, ok && o.Style&yaml.DoubleQuotedStyle != 0
	case '\'':
		end, ok := quotedEnd(src, p)
		return end, ok && o.Style&yaml.SingleQuotedStyle != 0
	case '|', '>':
		return 0, false
	}
	if o.Style != 0 {
		return 0, false
	}
	end := p
	for end < len(src) && src[end] != '\n' && src[end] != '\r' {
		c := src[end]
		if c == '#' && end > p && (src[end-1] == ' ' || src[end-1] == '\t') {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == '}') {
			break
		}
		end++
	}
	for end > p && (src[end-1] == ' ' || src[end-1] == '\t') {
		end--
	}
	return end, string(src[p:end]) == o.Value
}
