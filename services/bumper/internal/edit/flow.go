package edit

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// appendFlowKeys inserts the entries e has beyond o before the closing
// brace of the flow mapping o.
func (s *splicer) appendFlowKeys(o, e *yaml.Node) bool {
	start, ok := s.offset(o.Line, o.Column)
	if !ok {
		return false
	}
	start = skipProperties(s.src, start)
	end, ok := flowEnd(s.src, start)
	if !ok {
		return false
	}
	var b strings.Builder
	if !renderFlowEntries(&b, e.Content[len(o.Content):]) {
		return false
	}
	// Insert after the last non-blank character before the brace.
	at := end - 1
	for at > start && isBlank(s.src[at-1]) {
		at--
	}
	if s.src[at-1] == ',' { // a trailing comma is allowed in flow mappings
		s.add(at, at, " "+b.String())
	} else {
		s.add(at, at, ", "+b.String())
	}
	return true
}

// renderFlowEntries writes mapping entries in flow form: k: v, k2: {k3: v3}.
func renderFlowEntries(b *strings.Builder, kv []*yaml.Node) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" || k.Anchor != "" || v.Anchor != "" {
			return false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if plainKey(k.Value) && !strings.ContainsAny(k.Value, ",[]{}") {
			b.WriteString(k.Value)
		} else {
			b.WriteString(doubleQuote(k.Value))
		}
		b.WriteString(": ")
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
			q, ok := quotingOf(v.Style)
			if !ok {
				return false
			}
			b.WriteString(renderScalar(v.Value, q))
		case v.Kind == yaml.MappingNode && len(v.Content) > 0:
			b.WriteByte('{')
			if !renderFlowEntries(b, v.Content) {
				return false
			}
			b.WriteByte('}')
		default:
			return false
		}
	}
	return true
}

// quotingOf maps a scalar style to a quoting, if it is one.
func quotingOf(style yaml.Style) (quoting, bool) {
	switch style {
	case 0:
		return plain, true
	case yaml.SingleQuotedStyle:
		return singleQuoted, true
	case yaml.DoubleQuotedStyle:
		return doubleQuoted, true
	}
	return plain, false
}

// flowEnd returns the offset after the flow collection starting at p,
// skipping nested collections, quoted scalars and comments.
func flowEnd(src []byte, p int) (int, bool) {
	if p >= len(src) || (src[p] != '{' && src[p] != '[') {
		return 0, false
	}
	depth := 0
	for i := p; i < len(src); i++ {
		switch c := src[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case '"', '\'':
			if i > p && !isFlowBoundary(src[i-1]) {
				continue // a quote inside a plain scalar
			}
			j, ok := quotedEnd(src, i)
			if !ok {
				return 0, false
			}
			i = j - 1
		case '#':
			if isBlank(src[i-1]) {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, false
}

func isFlowBoundary(c byte) bool {
	return isBlank(c) || c == ',' || c == '{' || c == '[' || c == ':'
}

// quotedEnd returns the offset after the quoted scalar starting at p.
func quotedEnd(src []byte, p int) (int, bool) {
	q := src[p]
	for i := p + 1; i < len(src); i++ {
		switch {
		case q == '"' && src[i] == '\\':
			i++
		case src[i] == q && q == '\'' && i+1 < len(src) && src[i+1] == '\'':
			i++
		case src[i] == q:
			return i + 1, true
		}
	}
	return 0, false
}
