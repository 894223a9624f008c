package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// syntaxError is where a YAML syntax error is and what it is.
type syntaxError struct {
	line, column int
	message      string
}

// locateSyntaxError places a syntax error yaml.v3 reported for data.
// yaml.v3's errors carry a line only, and for a problem found inside a
// structure (an unclosed "[", a mis-indented key) the line before the one
// where the structure starts. So the document is parsed again with
// goccy/go-yaml, whose errors carry the line and column of the offending
// token; an unclosed "[" or "{" is reported where it opens. When goccy
// finds nothing, yaml.v3's line and message are used as they are.
func locateSyntaxError(data []byte, v3err error) syntaxError {
	fallback := syntaxError{line: 1, column: 1, message: strings.TrimPrefix(v3err.Error(), "yaml: ")}
	if m := yamlErrLine.FindStringSubmatch(fallback.message); m != nil {
		if l, err := strconv.Atoi(m[1]); err == nil && l > 0 {
			fallback.line = l
		}
		fallback.message = m[2]
	}
	tok, msg, ok := goccySyntaxError(data)
	if !ok {
		return fallback
	}
	found := syntaxError{line: tok.Position.Line, column: tok.Position.Column, message: msg}
	if open := unclosedFlow(data, tok.Position.Offset); open != nil {
		return syntaxError{line: open.Position.Line, column: open.Position.Column,
			message: fmt.Sprintf("this %q is never closed (%s at %d:%d)", open.Value, msg, found.line, found.column)}
	}
	if startsLine(data, found.line, found.column) {
		found.message += " (is this line indented as intended?)"
	}
	return found
}

// startsLine reports whether only blanks precede column (1-based, in
// characters) on line of data.
func startsLine(data []byte, line, column int) bool {
	lines := strings.Split(string(data), "\n")
	if line > len(lines) {
		return false
	}
	text := []rune(lines[line-1])
	if column-1 > len(text) {
		return false
	}
	return strings.TrimLeft(string(text[:column-1]), " \t") == ""
}

// positioned is the part of goccy/go-yaml's errors used here.
type positioned interface {
	GetToken() *token.Token
	GetMessage() string
}

// goccySyntaxError parses data with goccy/go-yaml (duplicate keys allowed:
// the decoder reports those itself) and returns the token and message of
// its error, if it has one with a position.
func goccySyntaxError(data []byte) (tok *token.Token, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			tok, msg, ok = nil, "", false
		}
	}()
	_, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	var pe positioned
	if err == nil || !errors.As(err, &pe) || pe.GetToken() == nil || pe.GetToken().Position == nil {
		return nil, "", false
	}
	t := pe.GetToken()
	if t.Position.Line < 1 || t.Position.Column < 1 {
		return nil, "", false
	}
	return t, pe.GetMessage(), true
}

// unclosedFlow returns the innermost "[" or "{" opened before offset that
// no "]" or "}" closes before it, or nil.
func unclosedFlow(data []byte, offset int) *token.Token {
	var open []*token.Token
	for _, t := range lexer.Tokenize(string(data)) {
		if t.Position == nil || t.Position.Offset >= offset {
			break
		}
		switch t.Type {
		case token.SequenceStartType, token.MappingStartType:
			open = append(open, t)
		case token.SequenceEndType, token.MappingEndType:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) == 0 {
		return nil
	}
	return open[len(open)-1]
}
