package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Schema lists the object types an executor may resolve. A field whose type name is not in
// Types is a scalar (or enum).
type Schema struct {
	Query, Mutation string
	Types           map[string]Type
}

// Type is an object or interface type.
type Type struct {
	Fields map[string]Field
	// Implements lists the interfaces an object type satisfies (for inline fragments).
	Implements []string
}

// Field is a field's result type (GraphQL notation, e.g. "[IssueComment]!") and arguments.
type Field struct {
	Type string
	Args []string
}

// Object resolves the fields of one value of an object type.
type Object interface {
	TypeName() string
	// Resolve returns a scalar (string, bool, int, int64, float64, nil), an Object, or a
	// slice of them.
	Resolve(ctx context.Context, field string, args map[string]any) (any, error)
}

// Error is one entry of a response's errors list.
type Error struct {
	Type       string         `json:"type,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
	Locations  []Location     `json:"locations,omitempty"`
	Message    string         `json:"message"`
}

// Location is a position in the query text.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// ResolveError is returned by resolvers to report a typed execution error such as
// NOT_FOUND or FORBIDDEN.
type ResolveError struct {
	Type, Message string
}

func (e *ResolveError) Error() string { return e.Message }

// Response is a GraphQL response body.
type Response struct {
	Data   any     `json:"data,omitempty"`
	Errors []Error `json:"errors,omitempty"`
}

// Fields is an object in the response, encoded with its keys in selection order.
type Fields []KeyValue

// KeyValue is one key of Fields.
type KeyValue struct {
	Key   string
	Value any
}

// MarshalJSON writes the keys in order.
func (f Fields) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, kv := range f {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Execute validates doc against schema and, if it is valid, resolves it from root.
// Validation errors yield a response without data, as GitHub answers.
func Execute(ctx context.Context, schema *Schema, doc *Document, vars map[string]any, root Object) Response {
	rootType := schema.Query
	if doc.Operation == "mutation" {
		rootType = schema.Mutation
	}
	v := validator{schema: schema, declared: map[string]bool{}}
	for _, d := range doc.Variables {
		v.declared[d.Name] = true
	}
	v.selections(rootType, doc.Selections, []any{doc.Operation})
	if len(v.errs) > 0 {
		return Response{Errors: v.errs}
	}
	values := map[string]any{}
	for _, d := range doc.Variables {
		if val, ok := vars[d.Name]; ok {
			values[d.Name] = val
		} else if d.HasDef {
			values[d.Name] = literal(d.Default, nil)
		} else if strings.HasSuffix(d.Type, "!") {
			return Response{Errors: []Error{{
				Message:    fmt.Sprintf("Variable $%s of type %s was provided invalid value", d.Name, d.Type),
				Extensions: map[string]any{"code": "variableMismatch"},
			}}}
		}
	}
	e := executor{schema: schema, vars: values}
	data := e.object(ctx, root, rootType, doc.Selections, nil)
	return Response{Data: data, Errors: e.errs}
}

type validator struct {
	schema   *Schema
	declared map[string]bool
	errs     []Error
}

func baseType(t string) string { return strings.Trim(t, "[]!") }

func (v *validator) add(s Selection, path []any, code, msg string, ext map[string]any) {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["code"] = code
	v.errs = append(v.errs, Error{
		Path: append([]any{}, path...), Extensions: ext,
		Locations: []Location{{s.Line, s.Col}}, Message: msg,
	})
}

func (v *validator) selections(typeName string, sels []Selection, path []any) {
	t, ok := v.schema.Types[typeName]
	if !ok {
		return
	}
	for _, s := range sels {
		if s.On != "" {
			if _, ok := v.schema.Types[s.On]; !ok {
				v.add(s, path, "undefinedType", fmt.Sprintf("No such type %s, so it can't be a fragment condition", s.On), nil)
				continue
			}
			v.selections(s.On, s.Selections, append(path, "... on "+s.On))
			continue
		}
		p := append(append([]any{}, path...), s.Key())
		if s.Name == "__typename" {
			continue
		}
		f, ok := t.Fields[s.Name]
		if !ok {
			v.add(s, p, "undefinedField", fmt.Sprintf("Field '%s' doesn't exist on type '%s'", s.Name, typeName),
				map[string]any{"typeName": typeName, "fieldName": s.Name})
			continue
		}
		for _, a := range s.Args {
			if !contains(f.Args, a.Name) {
				v.add(s, p, "argumentNotAccepted", fmt.Sprintf("Field '%s' doesn't accept argument '%s'", s.Name, a.Name),
					map[string]any{"name": s.Name, "typeName": "Field", "argumentName": a.Name})
			}
			v.variables(s, p, a.Value)
		}
		bt := baseType(f.Type)
		_, isObject := v.schema.Types[bt]
		switch {
		case isObject && len(s.Selections) == 0:
			v.add(s, p, "selectionMismatch", fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", s.Name, bt, s.Name), nil)
		case !isObject && len(s.Selections) > 0:
			v.add(s, p, "selectionMismatch", fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [%s])", s.Name, bt, selNames(s.Selections)), nil)
		case isObject:
			v.selections(bt, s.Selections, p)
		}
	}
}

func (v *validator) variables(s Selection, path []any, val any) {
	switch x := val.(type) {
	case Variable:
		if !v.declared[string(x)] {
			v.add(s, path, "variableNotDefined", fmt.Sprintf("Variable $%s is used by anonymous query but not declared", x), nil)
		}
	case []any:
		for _, e := range x {
			v.variables(s, path, e)
		}
	case []ObjectField:
		for _, f := range x {
			v.variables(s, path, f.Value)
		}
	}
}

func selNames(sels []Selection) string {
	var names []string
	for _, s := range sels {
		names = append(names, s.Key())
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// literal turns a parsed value into plain Go values, substituting variables.
func literal(val any, vars map[string]any) any {
	switch x := val.(type) {
	case Variable:
		return vars[string(x)]
	case EnumValue:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = literal(e, vars)
		}
		return out
	case []ObjectField:
		out := make(map[string]any, len(x))
		for _, f := range x {
			out[f.Name] = literal(f.Value, vars)
		}
		return out
	}
	return val
}

type executor struct {
	schema *Schema
	vars   map[string]any
	errs   []Error
}

func (e *executor) matches(obj Object, staticType, on string) bool {
	if on == staticType || on == obj.TypeName() {
		return true
	}
	return contains(e.schema.Types[obj.TypeName()].Implements, on)
}

func (e *executor) object(ctx context.Context, obj Object, staticType string, sels []Selection, path []any) Fields {
	var out Fields
	e.collect(ctx, obj, staticType, sels, path, &out)
	return out
}

func (e *executor) collect(ctx context.Context, obj Object, staticType string, sels []Selection, path []any, out *Fields) {
	for _, s := range sels {
		if s.On != "" {
			if e.matches(obj, staticType, s.On) {
				e.collect(ctx, obj, s.On, s.Selections, path, out)
			}
			continue
		}
		p := append(append([]any{}, path...), s.Key())
		if s.Name == "__typename" {
			*out = append(*out, KeyValue{s.Key(), obj.TypeName()})
			continue
		}
		args := make(map[string]any, len(s.Args))
		for _, a := range s.Args {
			args[a.Name] = literal(a.Value, e.vars)
		}
		val, err := obj.Resolve(ctx, s.Name, args)
		if err != nil {
			ge := Error{Path: p, Locations: []Location{{s.Line, s.Col}}, Message: err.Error()}
			var re *ResolveError
			if errors.As(err, &re) {
				ge.Type = re.Type
			}
			e.errs = append(e.errs, ge)
			val = nil
		}
		fieldType := e.fieldType(obj.TypeName(), staticType, s.Name)
		*out = append(*out, KeyValue{s.Key(), e.complete(ctx, val, fieldType, s.Selections, p)})
	}
}

func (e *executor) fieldType(dynamic, static, field string) string {
	if f, ok := e.schema.Types[dynamic].Fields[field]; ok {
		return baseType(f.Type)
	}
	return baseType(e.schema.Types[static].Fields[field].Type)
}

func (e *executor) complete(ctx context.Context, val any, typeName string, sels []Selection, path []any) any {
	switch x := val.(type) {
	case nil:
		return nil
	case Object:
		return e.object(ctx, x, typeName, sels, path)
	case []Object:
		out := make([]any, len(x))
		for i, o := range x {
			out[i] = e.object(ctx, o, typeName, sels, append(path, i))
		}
		return out
	}
	return val
}
