// Package comments renders the comments the drift service posts, from Go
// templates that users may override (TEMPLATES_PATH). Every comment starts
// with the marker `<!-- telefonistka_tag -->` and a newline, which the
// renderer adds itself so overrides cannot lose it.
//
//	file                                 name                 data
//	drift-pr-comment.gotmpl              driftMsg             map[section title]diff text
//	toggle-commit-status-comment.gotmpl  toggleCommitStatus   ToggleData
//	command-denied-comment.gotmpl        commandDenied        DeniedData
//
// A section title is "`<source>` ↔️  `<target>`" (component paths); its
// diff text is the pair's output in a ```diff fence, followed by
// "### Blame Links:" and one link per changed file when contents differ.
// Templates get one function, join (strings.Join). A missing override file
// falls back to the built-in template; one that does not parse, or does not
// define its template, is an error.
package comments

import (
	"embed"
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/config"
	plancomments "github.com/telefonistka/telefonistka/pkg/plan/comments"
)

// Marker starts every bot comment.
const Marker = config.CommentMarker

//go:embed templates/*.gotmpl
var builtins embed.FS

// Files maps each template file name to the template it defines.
var Files = map[string]string{
	"drift-pr-comment.gotmpl":             "driftMsg",
	"toggle-commit-status-comment.gotmpl": "toggleCommitStatus",
	"command-denied-comment.gotmpl":       "commandDenied",
}

// Renderer renders the comments. It is safe for concurrent use.
type Renderer struct {
	*plancomments.TemplateSet
}

// New loads the built-in templates and the overrides found in dir ("" for
// none).
func New(dir string) (*Renderer, error) {
	t, err := plancomments.LoadTemplates(builtins, "templates/*.gotmpl", Files, dir)
	if err != nil {
		return nil, fmt.Errorf("loading drift comment templates: %w", err)
	}
	return &Renderer{TemplateSet: t}, nil
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

// DeniedData is the data of commandDenied: who asked for what, and the
// permission they have.
type DeniedData struct {
	Login, Command, Repo string
	// Permission is GitHub's: none or read (triage reads as read).
	Permission string
}

// CommandDenied renders the reply to a command its author may not run.
func (r *Renderer) CommandDenied(d DeniedData) (string, error) {
	return r.Render("commandDenied", d)
}
