// Package graphql parses and executes the subset of GraphQL that GitHub clients such as
// githubv4 send: one operation with variable definitions, arguments given as literals or
// variables, aliases, nested selections and inline fragments.
package graphql

import (
	"fmt"
	"strconv"
)

// Document is a parsed operation.
type Document struct {
	Operation  string // "query" or "mutation"
	Name       string
	Variables  []VariableDef
	Selections []Selection
}

// VariableDef declares one operation variable.
type VariableDef struct {
	Name    string
	Type    string
	Default any
	HasDef  bool
}

// Selection is a field or, when On is set, an inline fragment.
type Selection struct {
	Alias      string
	Name       string
	Args       []Argument
	On         string
	Selections []Selection
	Line, Col  int
}

// Key is the response key: the alias or the field name.
func (s Selection) Key() string {
	if s.Alias != "" {
		return s.Alias
	}
	return s.Name
}

// Argument is a field argument.
type Argument struct {
	Name  string
	Value any // Variable, EnumValue, string, int64, float64, bool, nil, []any, []ObjectField
}

// Variable references an operation variable.
type Variable string

// EnumValue is an unquoted enum literal.
type EnumValue string

// ObjectField is one field of an input object literal.
type ObjectField struct {
	Name  string
	Value any
}

// SyntaxError reports where a document could not be parsed.
type SyntaxError struct {
	Msg       string
	Line, Col int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Parse error on %s (line %d, column %d)", e.Msg, e.Line, e.Col)
}

// Parse parses src. When it holds several operations, the one called operationName (or
// the first, if operationName is empty) is returned.
func Parse(src, operationName string) (*Document, error) {
	p := &parser{lx: lexer{src: src, line: 1, col: 1}}
	p.next()
	var docs []*Document
	for p.tok.kind != tokEOF {
		d, err := p.operation()
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, &SyntaxError{"end of file (unexpected)", p.tok.line, p.tok.col}
	}
	if operationName == "" {
		return docs[0], nil
	}
	for _, d := range docs {
		if d.Name == operationName {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no operation named %q", operationName)
}

type parser struct {
	lx  lexer
	tok token
	err error
}

func (p *parser) next() {
	if p.err != nil {
		p.tok = token{kind: tokEOF}
		return
	}
	t, err := p.lx.token()
	if err != nil {
		p.err = err
		t = token{kind: tokEOF, line: p.lx.line, col: p.lx.col}
	}
	p.tok = t
}

func (p *parser) fail(what string) error {
	if p.err != nil {
		return p.err
	}
	desc := fmt.Sprintf("%q (%s)", p.tok.text, p.tok.kind)
	if p.tok.kind == tokEOF {
		desc = "end of file"
	}
	return &SyntaxError{fmt.Sprintf("%s, expected %s", desc, what), p.tok.line, p.tok.col}
}

func (p *parser) punct(s string) bool {
	if p.tok.kind == tokPunct && p.tok.text == s {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(s string) error {
	if !p.punct(s) {
		return p.fail(strconv.Quote(s))
	}
	return nil
}

func (p *parser) name() (string, error) {
	if p.tok.kind != tokName {
		return "", p.fail("a name")
	}
	n := p.tok.text
	p.next()
	return n, nil
}

func (p *parser) operation() (*Document, error) {
	d := &Document{Operation: "query"}
	if p.tok.kind == tokName && (p.tok.text == "query" || p.tok.text == "mutation") {
		d.Operation = p.tok.text
		p.next()
		if p.tok.kind == tokName {
			d.Name = p.tok.text
			p.next()
		}
		if p.punct("(") {
			for !p.punct(")") {
				v, err := p.variableDef()
				if err != nil {
					return nil, err
				}
				d.Variables = append(d.Variables, v)
			}
		}
	} else if p.tok.kind == tokName {
		return nil, p.fail("an operation")
	}
	sels, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	d.Selections = sels
	return d, nil
}

func (p *parser) variableDef() (VariableDef, error) {
	if err := p.expect("$"); err != nil {
		return VariableDef{}, err
	}
	name, err := p.name()
	if err != nil {
		return VariableDef{}, err
	}
	if err := p.expect(":"); err != nil {
		return VariableDef{}, err
	}
	typ, err := p.typeRef()
	if err != nil {
		return VariableDef{}, err
	}
	v := VariableDef{Name: name, Type: typ}
	if p.punct("=") {
		if v.Default, err = p.value(true); err != nil {
			return VariableDef{}, err
		}
		v.HasDef = true
	}
	return v, nil
}

func (p *parser) typeRef() (string, error) {
	var t string
	if p.punct("[") {
		inner, err := p.typeRef()
		if err != nil {
			return "", err
		}
		if err := p.expect("]"); err != nil {
			return "", err
		}
		t = "[" + inner + "]"
	} else {
		n, err := p.name()
		if err != nil {
			return "", err
		}
		t = n
	}
	if p.punct("!") {
		t += "!"
	}
	return t, nil
}

func (p *parser) selectionSet() ([]Selection, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []Selection
	for !p.punct("}") {
		if p.tok.kind == tokEOF {
			return nil, p.fail(`"}"`)
		}
		s, err := p.selection()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, &SyntaxError{"empty selection set", p.tok.line, p.tok.col}
	}
	return out, nil
}

func (p *parser) selection() (Selection, error) {
	s := Selection{Line: p.tok.line, Col: p.tok.col}
	if p.punct("...") {
		if p.tok.kind != tokName || p.tok.text != "on" {
			return s, p.fail(`"on" (named fragments are not supported)`)
		}
		p.next()
		var err error
		if s.On, err = p.name(); err != nil {
			return s, err
		}
		s.Selections, err = p.selectionSet()
		return s, err
	}
	name, err := p.name()
	if err != nil {
		return s, err
	}
	s.Name = name
	if p.punct(":") {
		s.Alias = name
		if s.Name, err = p.name(); err != nil {
			return s, err
		}
	}
	if p.punct("(") {
		for !p.punct(")") {
			an, err := p.name()
			if err != nil {
				return s, err
			}
			if err := p.expect(":"); err != nil {
				return s, err
			}
			v, err := p.value(false)
			if err != nil {
				return s, err
			}
			s.Args = append(s.Args, Argument{an, v})
		}
	}
	if p.tok.kind == tokPunct && p.tok.text == "{" {
		if s.Selections, err = p.selectionSet(); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (p *parser) value(constant bool) (any, error) {
	t := p.tok
	switch t.kind {
	case tokPunct:
		switch t.text {
		case "$":
			if constant {
				return nil, p.fail("a constant value")
			}
			p.next()
			n, err := p.name()
			return Variable(n), err
		case "[":
			p.next()
			list := []any{}
			for !p.punct("]") {
				if p.tok.kind == tokEOF {
					return nil, p.fail(`"]"`)
				}
				v, err := p.value(constant)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			return list, nil
		case "{":
			p.next()
			obj := []ObjectField{}
			for !p.punct("}") {
				n, err := p.name()
				if err != nil {
					return nil, err
				}
				if err := p.expect(":"); err != nil {
					return nil, err
				}
				v, err := p.value(constant)
				if err != nil {
					return nil, err
				}
				obj = append(obj, ObjectField{n, v})
			}
			return obj, nil
		}
	case tokString:
		p.next()
		return t.text, nil
	case tokInt:
		p.next()
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, &SyntaxError{"integer out of range", t.line, t.col}
		}
		return n, nil
	case tokFloat:
		p.next()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &SyntaxError{"invalid float", t.line, t.col}
		}
		return f, nil
	case tokName:
		p.next()
		switch t.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return EnumValue(t.text), nil
	}
	return nil, p.fail("a value")
}
