package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const (
	schemaDir  = "../../schema"
	docsFile   = "../../docs/configuration.md"
	readmeFile = "../../README.md"
	examplesIn = "../../examples"
)

func compileSchemas(t *testing.T) (repo, component *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	load := func(name string) *jsonschema.Schema {
		f, err := os.Open(filepath.Join(schemaDir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatalf("%s is not JSON: %v", name, err)
		}
		if err := c.AddResource(name, doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(name)
		if err != nil {
			t.Fatalf("compiling %s: %v", name, err)
		}
		return s
	}
	return load("telefonistka.json"), load("telefonistka-component.json")
}

// yamlToJSON converts a YAML document to the JSON value a schema validates.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("YAML without a JSON form: %v", err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type example struct {
	name    string
	kind    string // "repo" or "component"
	invalid bool   // the example shows a mistake
	data    []byte
}

var docExample = regexp.MustCompile("(?s)<!-- schema: (repo|component)( invalid)? -->\n```yaml\n(.*?)```")

func collectExamples(t *testing.T) []example {
	var out []example
	for _, file := range []string{docsFile, readmeFile} {
		doc, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := docExample.FindAllSubmatch(doc, -1)
		for i, m := range found {
			out = append(out, example{name: fmt.Sprintf("%s example %d", filepath.Base(file), i+1), kind: string(m[1]), invalid: len(m[2]) > 0, data: m[3]})
		}
		if blocks := strings.Count(string(doc), "```yaml"); blocks != len(found) {
			t.Fatalf("%s has %d yaml blocks but %d are marked with <!-- schema: repo|component -->", file, blocks, len(found))
		}
	}
	err := filepath.WalkDir(examplesIn, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != RepoFileName {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(examplesIn, p)
		kind := "component"
		if strings.Count(filepath.ToSlash(rel), "/") == 1 {
			kind = "repo" // examples/<repo>/telefonistka.yaml
		}
		out = append(out, example{name: rel, kind: kind, data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseAny(kind string, data []byte) []Finding {
	if kind == "repo" {
		_, f := ParseRepoConfig("telefonistka.yaml", data)
		return f
	}
	_, f := ParseComponentConfig("c/telefonistka.yaml", data)
	return f
}

// Every example in the docs and examples/ must pass the schema and
// validation (or fail both when it shows a mistake).
func TestExamplesAgainstSchemas(t *testing.T) {
	repoSchema, compSchema := compileSchemas(t)
	examples := collectExamples(t)
	if len(examples) < 8 {
		t.Fatalf("found only %d examples", len(examples))
	}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			schema := repoSchema
			if ex.kind == "component" {
				schema = compSchema
			}
			schemaErr := schema.Validate(yamlToJSON(t, ex.data))
			findings := parseAny(ex.kind, ex.data)
			if ex.invalid {
				if schemaErr == nil || !HasErrors(findings) {
					t.Errorf("a mistake went unnoticed: schema error %v, findings %v", schemaErr, findings)
				}
				return
			}
			if schemaErr != nil {
				t.Errorf("schema rejects the example: %v", schemaErr)
			}
			if HasErrors(findings) {
				t.Errorf("validate reports errors: %v", findings)
			}
		})
	}
}

// Whatever a schema rejects, validate reports.
func TestSchemaRejectionsAreReported(t *testing.T) {
	repoSchema, compSchema := compileSchemas(t)
	cases := map[string][]string{
		"repo": {
			"promotionPaths: [{sourcePath: a/, promotionPrs: [{targetPaths: [b/], extra: 1}]}]",
			"promotionPaths: [{promotionPrs: []}]",
			"promotionPaths: [{sourcePath: a/, componentPathExtraDepth: -1}]",
			"promotionPaths: [{sourcePath: a/, componentPathExtraDepth: 1.5}]",
			"promotionPaths: [{sourcePath: a/, conditions: {autoMerge: maybe}}]",
			"promotionPaths: [{sourcePath: a/, targetPaths: [a/, b/]}]",
			"promotionPaths: [{sourcePath: a/, promotionPrs: [{targetPaths: ['']}]}]",
			"promotionPaths: [{sourcePath: 5, promotionPrs: [{targetPaths: [b]}]}]",
			"promotionPrPolicy: always",
			"dryRunMode: 1",
			"toggleCommitStatus: {'a b': x}",
			"toggleCommitStatus: {a: null}",
			"webhookEndpointRegexs: [{expression: x}]",
			"webhookEndpointRegexs: [{replacements: ['https://x']}]",
			"webhookEndpointRegexs: [{expression: x, replacements: ['ftp://x']}]",
			"argocd: {commentDiffOnPR: true}",
			"promtionPrLables: [x]",
			"promotionPrLabels: [x, ~]",
			"- a",
		},
		"component": {
			"promotionTargetBlockList: x",
			"promotionTargetAllowList: [1]",
			"disableArgoCDDiff: sometimes",
			"other: 1",
		},
	}
	check := func(kind, doc string, mustReject bool) {
		schema := repoSchema
		if kind == "component" {
			schema = compSchema
		}
		var probe any
		if yaml.Unmarshal([]byte(doc), &probe) != nil {
			return // not YAML at all: validate reports it, the schema cannot see it
		}
		if schema.Validate(yamlToJSON(t, []byte(doc))) == nil {
			if mustReject {
				t.Errorf("the %s schema accepts a bad document:\n%s", kind, doc)
			}
			return
		}
		if findings := parseAny(kind, []byte(doc)); len(findings) == 0 {
			t.Errorf("the %s schema rejects this document but validate reports nothing:\n%s", kind, doc)
		}
	}
	for kind, docs := range cases {
		for _, doc := range docs {
			check(kind, doc, true)
		}
	}
	for kind, glob := range map[string]string{"repo": "testdata/repo/*.yaml", "component": "testdata/component/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			data, _ := os.ReadFile(f)
			check(kind, string(data), false)
		}
	}
}
