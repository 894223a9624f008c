package graphql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokPunct
	tokName
	tokInt
	tokFloat
	tokString
)

func (k tokKind) String() string {
	return [...]string{"EOF", "punctuation", "name", "int", "float", "string"}[k]
}

type token struct {
	kind      tokKind
	text      string
	line, col int
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

func (l *lexer) token() (token, error) {
	// Skip ignored tokens: whitespace, commas, comments and a byte order mark.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' {
			l.advance(1)
		} else if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
		} else if strings.HasPrefix(l.src[l.pos:], "\uFEFF") {
			l.pos += 3
		} else {
			break
		}
	}
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		return t, nil
	}
	c := l.src[l.pos]
	switch {
	case strings.HasPrefix(l.src[l.pos:], "..."):
		t.kind, t.text = tokPunct, "..."
		l.advance(3)
	case strings.IndexByte("!$():=@[]{}|", c) >= 0:
		t.kind, t.text = tokPunct, string(c)
		l.advance(1)
	case c == '_' || isLetter(c):
		start := l.pos
		for l.pos < len(l.src) && (l.src[l.pos] == '_' || isLetter(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.advance(1)
		}
		t.kind, t.text = tokName, l.src[start:l.pos]
	case c == '-' || isDigit(c):
		return l.number(t)
	case c == '"':
		return l.str(t)
	default:
		r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
		return t, &SyntaxError{fmt.Sprintf("unexpected character %q", r), t.line, t.col}
	}
	return t, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (l *lexer) number(t token) (token, error) {
	start := l.pos
	t.kind = tokInt
	if l.src[l.pos] == '-' {
		l.advance(1)
	}
	digits := func() int {
		n := 0
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.advance(1)
			n++
		}
		return n
	}
	if digits() == 0 {
		return t, &SyntaxError{"invalid number", t.line, t.col}
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		t.kind = tokFloat
		l.advance(1)
		if digits() == 0 {
			return t, &SyntaxError{"invalid number", t.line, t.col}
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		t.kind = tokFloat
		l.advance(1)
		if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
			l.advance(1)
		}
		if digits() == 0 {
			return t, &SyntaxError{"invalid number", t.line, t.col}
		}
	}
	t.text = l.src[start:l.pos]
	return t, nil
}

func (l *lexer) str(t token) (token, error) {
	t.kind = tokString
	if strings.HasPrefix(l.src[l.pos:], `"""`) {
		l.advance(3)
		end := strings.Index(l.src[l.pos:], `"""`)
		if end < 0 {
			return t, &SyntaxError{"unterminated string", t.line, t.col}
		}
		t.text = strings.ReplaceAll(l.src[l.pos:l.pos+end], `\"""`, `"""`)
		l.advance(end + 3)
		return t, nil
	}
	l.advance(1)
	var sb strings.Builder
	for {
		if l.pos >= len(l.src) || l.src[l.pos] == '\n' {
			return t, &SyntaxError{"unterminated string", t.line, t.col}
		}
		c := l.src[l.pos]
		if c == '"' {
			l.advance(1)
			t.text = sb.String()
			return t, nil
		}
		if c != '\\' {
			sb.WriteByte(c)
			l.advance(1)
			continue
		}
		if l.pos+1 >= len(l.src) {
			return t, &SyntaxError{"unterminated string", t.line, t.col}
		}
		esc := l.src[l.pos+1]
		l.advance(2)
		switch esc {
		case '"', '\\', '/':
			sb.WriteByte(esc)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			if l.pos+4 > len(l.src) {
				return t, &SyntaxError{"invalid unicode escape", t.line, t.col}
			}
			n, err := strconv.ParseUint(l.src[l.pos:l.pos+4], 16, 32)
			if err != nil {
				return t, &SyntaxError{"invalid unicode escape", t.line, t.col}
			}
			sb.WriteRune(rune(n))
			l.advance(4)
		default:
			return t, &SyntaxError{fmt.Sprintf("invalid escape \\%c", esc), t.line, t.col}
		}
	}
}
