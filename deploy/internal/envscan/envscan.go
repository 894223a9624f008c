// Package envscan lists the environment variables Go code reads, from its
// source: struct fields tagged `envconfig:"NAME"` and calls such as
// os.Getenv("NAME"), os.LookupEnv("NAME") or a getenv("NAME") passed around.
// Deployment tests check the variables they set against this list, so a
// typo or a variable the code stopped reading fails a test instead of being
// silently ignored.
package envscan

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Var is one environment variable and where the code reads it.
type Var struct {
	Name  string
	Where []string // file:line, relative to the scanned root
}

// getters are the function names whose first string argument names a variable.
var getters = map[string]bool{"Getenv": true, "getenv": true, "LookupEnv": true, "lookupEnv": true}

// Scan walks root for non-test .go files, skipping testdata, vendor and
// hidden directories, and returns the variables they read by name.
func Scan(root string) (map[string]*Var, error) {
	vars := map[string]*Var{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		add := func(n string, pos token.Pos) {
			v := vars[n]
			if v == nil {
				v = &Var{Name: n}
				vars[n] = v
			}
			v.Where = append(v.Where, fmt.Sprintf("%s:%d", filepath.ToSlash(rel), fset.Position(pos).Line))
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if n.Tag == nil {
					return true
				}
				tag, err := strconv.Unquote(n.Tag.Value)
				if err != nil {
					return true
				}
				if env, ok := reflect.StructTag(tag).Lookup("envconfig"); ok && env != "" {
					add(strings.Split(env, ",")[0], n.Pos())
				}
			case *ast.CallExpr:
				if !getters[funcName(n.Fun)] || len(n.Args) == 0 {
					return true
				}
				if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && s != "" {
						add(s, n.Pos())
					}
				}
			}
			return true
		})
		return nil
	})
	return vars, err
}

func funcName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// Names returns the sorted names of vars.
func Names(vars map[string]*Var) []string {
	out := make([]string, 0, len(vars))
	for n := range vars {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
