package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

var testSchema = &Schema{
	Query:    "Query",
	Mutation: "Mutation",
	Types: map[string]Type{
		"Query":       {Fields: map[string]Field{"viewer": {Type: "User!"}, "item": {Type: "Item", Args: []string{"id"}}}},
		"Mutation":    {Fields: map[string]Field{"hide": {Type: "HidePayload", Args: []string{"input"}}}},
		"User":        {Fields: map[string]Field{"login": {Type: "String!"}}, Implements: []string{"Actor"}},
		"Actor":       {Fields: map[string]Field{"login": {Type: "String!"}}},
		"Item":        {Fields: map[string]Field{"id": {Type: "ID!"}, "n": {Type: "Int!"}, "owner": {Type: "Actor"}, "tags": {Type: "[String]"}}},
		"HidePayload": {Fields: map[string]Field{"item": {Type: "Item"}}},
	},
}

type obj struct {
	typ    string
	fields map[string]any
}

func (o obj) TypeName() string { return o.typ }
func (o obj) Resolve(_ context.Context, f string, args map[string]any) (any, error) {
	if fn, ok := o.fields[f].(func(map[string]any) (any, error)); ok {
		return fn(args)
	}
	return o.fields[f], nil
}

func testRoot(hidden *string) Object {
	user := obj{"User", map[string]any{"login": "octo"}}
	item := func(id string) Object {
		return obj{"Item", map[string]any{"id": id, "n": 3, "owner": user, "tags": []any{"a", "b"}}}
	}
	return obj{"Root", map[string]any{
		"viewer": user,
		"item": func(args map[string]any) (any, error) {
			if args["id"] == "missing" {
				return nil, &ResolveError{"NOT_FOUND", "Could not resolve to a node with the global id of 'missing'"}
			}
			return item(fmt.Sprint(args["id"])), nil
		},
		"hide": func(args map[string]any) (any, error) {
			in, _ := args["input"].(map[string]any)
			*hidden = fmt.Sprint(in["subjectId"], ":", in["classifier"])
			return obj{"HidePayload", map[string]any{"item": item(fmt.Sprint(in["subjectId"]))}}, nil
		},
	}}
}

func run(t *testing.T, q string, vars map[string]any, hidden *string) string {
	t.Helper()
	doc, err := Parse(q, "")
	if err != nil {
		return "parse error: " + err.Error()
	}
	resp := Execute(context.Background(), testSchema, doc, vars, testRoot(hidden))
	out, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"githubv4 style query", `query($id:ID!){item(id: $id){id,n,owner{login},tags}}`, map[string]any{"id": "x1"},
			`{"data":{"item":{"id":"x1","n":3,"owner":{"login":"octo"},"tags":["a","b"]}}}`},
		{"anonymous shorthand with alias and typename", `{ me: viewer { __typename login } }`, nil,
			`{"data":{"me":{"__typename":"User","login":"octo"}}}`},
		{"inline fragment", `{item(id:"7"){owner{... on User{login}}}}`, nil,
			`{"data":{"item":{"owner":{"login":"octo"}}}}`},
		{"fragment on other type is skipped", `{item(id:"7"){owner{... on Actor{login}}}}`, nil,
			`{"data":{"item":{"owner":{"login":"octo"}}}}`},
		{"unknown field", `query{viewer{login,email}}`, nil,
			`{"errors":[{"path":["query","viewer","email"],"extensions":{"code":"undefinedField","fieldName":"email","typeName":"User"},"locations":[{"line":1,"column":20}],"message":"Field 'email' doesn't exist on type 'User'"}]}`},
		{"object without selections", `{viewer}`, nil,
			`{"errors":[{"path":["query","viewer"],"extensions":{"code":"selectionMismatch"},"locations":[{"line":1,"column":2}],"message":"Field must have selections (field 'viewer' returns User but has no selections. Did you mean 'viewer { ... }'?)"}]}`},
		{"resolver error", `{item(id:"missing"){id}}`, nil,
			`{"data":{"item":null},"errors":[{"type":"NOT_FOUND","path":["item"],"locations":[{"line":1,"column":2}],"message":"Could not resolve to a node with the global id of 'missing'"}]}`},
		{"undeclared variable", `{item(id:$x){id}}`, nil,
			`{"errors":[{"path":["query","item"],"extensions":{"code":"variableNotDefined"},"locations":[{"line":1,"column":2}],"message":"Variable $x is used by anonymous query but not declared"}]}`},
		{"syntax error", `{item(id:"x"){id}`, nil, `parse error: Parse error on end of file, expected "}" (line 1, column 18)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hidden string
			if got := run(t, tt.query, tt.vars, &hidden); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMutationWithInputObject(t *testing.T) {
	var hidden string
	got := run(t, `mutation($input:HideInput!){hide(input:$input){item{id}}}`,
		map[string]any{"input": map[string]any{"subjectId": "IC_1", "classifier": "OUTDATED"}}, &hidden)
	if want := `{"data":{"hide":{"item":{"id":"IC_1"}}}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if hidden != "IC_1:OUTDATED" {
		t.Errorf("mutation saw %q", hidden)
	}
	hidden = ""
	got = run(t, `mutation{hide(input:{subjectId:"IC_2",classifier:SPAM}){item{n}}}`, nil, &hidden)
	if hidden != "IC_2:SPAM" || got != `{"data":{"hide":{"item":{"n":3}}}}` {
		t.Errorf("literal input: hidden %q, response %s", hidden, got)
	}
}

func TestParseValues(t *testing.T) {
	doc, err := Parse(`query Q($a: [Int!]! = [1, 2]) { item(id: "a\"b\u00e9\n") { n } } # comment`, "Q")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "Q" || doc.Variables[0].Type != "[Int!]!" || !doc.Variables[0].HasDef {
		t.Errorf("variables = %+v", doc.Variables)
	}
	if got := doc.Selections[0].Args[0].Value; got != "a\"b\u00e9\n" {
		t.Errorf("string literal = %q", got)
	}
	if _, err := Parse(`query { item(id: 1.5e3) { n } }`, ""); err != nil {
		t.Errorf("float literal: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`query($number:Int!$owner:String!$name:String!$commentsCursor:String){repository(owner: $owner, name: $name){pullRequest(number: $number){comments(first: 100, after: $commentsCursor){nodes{id,databaseId,body,isMinimized,author{login}},pageInfo{endCursor,hasNextPage}}}}}`)
	f.Add(`mutation($input:MinimizeCommentInput!){minimizeComment(input:$input){minimizedComment{isMinimized}}}`)
	f.Add(`{viewer{login}}`)
	f.Add(`{a(x:[1,{b:"c"}],y:-2.5e+3,z:"""block""")}`)
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := Parse(src, "")
		if err != nil {
			return
		}
		var hidden string
		_ = Execute(context.Background(), testSchema, doc, map[string]any{}, testRoot(&hidden))
	})
}
