package comments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

// TemplateSet holds a service's comment templates: the built-ins, with the
// files found in the TEMPLATES_PATH directory parsed on top. Every service
// that comments uses one, so overrides behave the same everywhere.
type TemplateSet struct {
	set *template.Template
	// Overridden lists the template files taken from the override directory.
	Overridden []string
}

var funcs = template.FuncMap{"join": strings.Join}

// LoadTemplates parses the built-in templates matching pattern in builtins,
// then, for each file of files (file name -> the template it must define)
// present in dir, the override. A missing directory or file falls back to the
// built-in; an override that does not parse, or does not define its
// template, is an error. dir "" means no overrides.
func LoadTemplates(builtins fs.FS, pattern string, files map[string]string, dir string) (*TemplateSet, error) {
	set, err := template.New("comments").Funcs(funcs).ParseFS(builtins, pattern)
	if err != nil {
		return nil, fmt.Errorf("parsing built-in comment templates: %w", err)
	}
	t := &TemplateSet{set: set}
	if dir == "" {
		return t, nil
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, file := range names {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading template override %s: %w", file, err)
		}
		// Parsed alone first: in the set, the built-in definition would
		// hide an override that forgot to define its template.
		alone, err := template.New(file).Funcs(funcs).Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("parsing template override %s: %w", file, err)
		}
		if alone.Lookup(files[file]) == nil {
			return nil, fmt.Errorf("template override %s does not define %q", file, files[file])
		}
		if _, err := t.set.New(file).Parse(string(data)); err != nil {
			return nil, fmt.Errorf("parsing template override %s: %w", file, err)
		}
		t.Overridden = append(t.Overridden, file)
	}
	return t, nil
}

// Render executes the named template with data and prefixes the marker.
func (t *TemplateSet) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	b.WriteString(Marker)
	if err := t.Execute(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Execute executes the named template (no marker).
func (t *TemplateSet) Execute(w io.Writer, name string, data any) error {
	if err := t.set.ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("rendering the %s comment: %w", name, err)
	}
	return nil
}
