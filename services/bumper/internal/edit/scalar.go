package edit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// quoting is how a scalar is written.
type quoting int

const (
	plain quoting = iota
	singleQuoted
	doubleQuoted
)

// yamlStyle is the yaml.v3 style of q.
func (q quoting) yamlStyle() yaml.Style {
	switch q {
	case singleQuoted:
		return yaml.SingleQuotedStyle
	case doubleQuoted:
		return yaml.DoubleQuotedStyle
	default:
		return 0
	}
}

// chooseQuoting picks how value is written over a scalar that was written
// with style old (zero for a plain or new scalar): a quoted scalar keeps its
// quotes when they can hold the value; anything else is written plain unless
// plain would read back as another value or type, then double-quoted.
func chooseQuoting(value string, old yaml.Style, inFlow bool) quoting {
	switch {
	case old&yaml.DoubleQuotedStyle != 0:
		return doubleQuoted
	case old&yaml.SingleQuotedStyle != 0:
		if singleQuotable(value) {
			return singleQuoted
		}
		return doubleQuoted
	case readsBackPlain(value, inFlow):
		return plain
	default:
		return doubleQuoted
	}
}

// renderScalar returns the YAML text of value written with q.
func renderScalar(value string, q quoting) string {
	switch q {
	case singleQuoted:
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case doubleQuoted:
		return doubleQuote(value)
	default:
		return value
	}
}

// readsBackPlain reports whether value, written without quotes as a mapping
// value (and as a flow sequence item when inFlow), parses back as exactly
// this string. It lets the YAML parser decide, so every rule of plain
// scalars (indicators, ": ", " #", numbers, booleans, nulls, timestamps...)
// is honoured.
func readsBackPlain(value string, inFlow bool) bool {
	if value == "" || strings.ContainsAny(value, "\n\r") || !printable(value) || yaml11Bools[value] {
		return false
	}
	if !plainParses("k: "+value+"\n", value, yaml.MappingNode, 1) {
		return false
	}
	return !inFlow || plainParses("["+value+"]\n", value, yaml.SequenceNode, 0)
}

// yaml11Bools are the plain words that YAML 1.2 reads as strings but YAML
// 1.1 readers (Helm's, among others) read as booleans, so they are quoted.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// plainKey reports whether key can be written as a plain mapping key that
// reads back as this string.
func plainKey(key string) bool {
	if key == "" || strings.ContainsAny(key, "\n\r") || !printable(key) || yaml11Bools[key] {
		return false
	}
	return plainParses(key+": x\n", key, yaml.MappingNode, 0)
}

// plainParses parses doc and reports whether it is one collection of kind
// whose node at index is the plain string want.
func plainParses(doc, want string, kind yaml.Kind, index int) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		return false
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	if c.Kind != kind || len(c.Content) <= index || (kind == yaml.MappingNode && len(c.Content) != 2) || (kind == yaml.SequenceNode && len(c.Content) != 1) {
		return false
	}
	s := c.Content[index]
	return s.Kind == yaml.ScalarNode && s.Style == 0 && s.ShortTag() == "!!str" && s.Value == want && s.Anchor == ""
}

// singleQuotable reports whether value can be written single-quoted on one
// line: only printable characters and no line breaks.
func singleQuotable(value string) bool {
	return !strings.ContainsAny(value, "\n\r") && printable(value)
}

// printable reports whether every character of s may appear literally in a
// YAML scalar (YAML's nb-char set, tab included).
func printable(s string) bool {
	for _, r := range s {
		if !printableRune(r) {
			return false
		}
	}
	return true
}

func printableRune(r rune) bool {
	switch {
	case r == '\t':
		return true
	case r >= 0x20 && r <= 0x7e:
		return true
	case r == 0x85:
		return true
	case r >= 0xa0 && r <= 0xd7ff:
		return r != 0x2028 && r != 0x2029
	case r >= 0xe000 && r <= 0xfffd:
		return r != 0xfeff
	case r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// doubleQuote writes value as a YAML double-quoted scalar on one line,
// escaping backslashes, quotes and every character that is not printable.
func doubleQuote(value string) string {
	var b strings.Builder
	b.Grow(len(value) + 2)
	b.WriteByte('"')
	for _, r := range value {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		case 0x85:
			b.WriteString(`\N`)
		case 0x2028:
			b.WriteString(`\L`)
		case 0x2029:
			b.WriteString(`\P`)
		default:
			switch {
			case printableRune(r):
				b.WriteRune(r)
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// checkValue rejects values YAML cannot hold as a string.
func checkValue(value string) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("the value is not valid UTF-8")
	}
	return nil
}
