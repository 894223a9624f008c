// Package comments renders the comments the drift service posts, from Go
// templates that users may override (TEMPLATES_PATH). Every comment starts
// with the marker `<!-- telefonistka_tag -->` and a newline, which the
// renderer adds itself so overrides cannot lose it.
//
//	file                                 name                 data
//	drift-pr-comment.gotmpl              driftMsg             map[section title]diff text
//	toggle-commit-status-comment.gotmpl  toggleCommitStatus   ToggleData
//
// A section title is "`<source>` ↔️  `<target>`" (component paths); its
// diff text is the pair's output in a ```diff fence, followed by
// "### Blame Links:" and one link per changed file when contents differ.
// Templates get one function, join (strings.Join). A missing override file
// falls back to the built-in template; one that does not parse, or does not
// define its template, is an error.
package comments

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// Marker starts every bot comment.
const Marker = config.CommentMarker

//go:embed templates/*.gotmpl
var builtins embed.FS

// Files maps each template file name to the template it defines.
var Files = map[string]string{
	"drift-pr-comment.gotmpl":             "driftMsg",
	"toggle-commit-status-comment.gotmpl": "toggleCommitStatus",
}

var funcs = template.FuncMap{"join": strings.Join}

// Renderer renders the comments. It is safe for concurrent use.
type Renderer struct {
	set *template.Template
	// Overridden lists the template files taken from the override directory.
	Overridden []string
}

// New loads the built-in templates and the overrides found in dir ("" for
// none).
func New(dir string) (*Renderer, error) {
	set, err := template.New("comments").Funcs(funcs).ParseFS(builtins, "templates/*.gotmpl")
	if err != nil {
		return nil, fmt.Errorf("parsing built-in drift comment templates: %w", err)
	}
	r := &Renderer{set: set}
	if dir == "" {
		return r, nil
	}
	files := make([]string, 0, len(Files))
	for f := range Files {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading template override %s: %w", file, err)
		}
		// Parsed alone first: in the set, the built-in would hide a
		// missing definition.
		alone, err := template.New(file).Funcs(funcs).Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("parsing template override %s: %w", file, err)
		}
		if alone.Lookup(Files[file]) == nil {
			return nil, fmt.Errorf("template override %s does not define %q", file, Files[file])
		}
		if _, err := r.set.New(file).Parse(string(data)); err != nil {
			return nil, fmt.Errorf("parsing template override %s: %w", file, err)
		}
		r.Overridden = append(r.Overridden, file)
	}
	return r, nil
}

// Render executes the named template with data and prefixes the marker.
func (r *Renderer) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	b.WriteString(Marker)
	if err := r.set.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("rendering the %s comment: %w", name, err)
	}
	return b.String(), nil
}

// Toggle is one flipped commit status.
type Toggle struct {
	// Key is the toggleCommitStatus key (typed as /<key>).
	Key string
	// Context is the status context flipped.
	Context string
	// State is the new state; Previous the newest state before ("" if none).
	State, Previous string
}

// ToggleData is the data of toggleCommitStatus.
type ToggleData struct {
	// SHA is the PR head commit the statuses were set on.
	SHA     string
	Toggles []Toggle
}

// ToggleReply renders the reply to a toggleCommitStatus comment.
func (r *Renderer) ToggleReply(d ToggleData) (string, error) {
	return r.Render("toggleCommitStatus", d)
}
