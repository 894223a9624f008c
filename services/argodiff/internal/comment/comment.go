// Package comment renders the Argo CD diff comments (SPEC §7.4) from a Go
// template users may override (TEMPLATES_PATH), and fits them into
// GitHub's comment size: one comment, or one per component, in the concise
// form, or with the object list cut.
//
//	file                              name             data
//	argocd-diff-pr-comment.gotmpl     argoCdDiff       Comment
//	argocd-auto-merge-comment.gotmpl  argoCdAutoMerge  AutoMerge
//
// Every comment starts with the bot marker and a newline, added by the
// renderer so overrides cannot lose it.
package comment

import (
	"embed"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	plancomments "github.com/telefonistka/telefonistka/pkg/plan/comments"
)

//go:embed templates/*.gotmpl
var builtins embed.FS

// Files maps each template file to the template it defines.
var Files = map[string]string{
	"argocd-diff-pr-comment.gotmpl":    "argoCdDiff",
	"argocd-auto-merge-comment.gotmpl": "argoCdAutoMerge",
}

// MaxBytes is GitHub's comment limit (65,536 characters), measured in
// UTF-8 bytes to stay safe.
const MaxBytes = 65536

// Results of a component.
const (
	ResultDiff   = "diff"
	ResultNoDiff = "nodiff"
	ResultSynced = "synced" // the app already follows the PR branch with auto-sync
	ResultNoApp  = "noapp"
	ResultError  = "error"
)

// Redacted is the text of every object of a component whose configuration
// sets disableArgoCDDiff.
const Redacted = "✂️ ✂️  Redacted ✂️ ✂️ \nUnset component-level configuration key `disableArgoCDDiff` to see diff content."

// Comment is the data of one comment.
type Comment struct {
	// Components are the blocks, sorted by path.
	Components []Component
	// Concise shows only the objects' titles (set per split comment).
	Concise bool
	// Split is set on the comments of a split: Index of Total, one
	// component each.
	Split        bool
	Index, Total int
	// Checkbox shows the deploy-from-branch checkbox for Branch.
	Checkbox bool
	Branch   string
}

// Component is one component's block.
type Component struct {
	// Path is the component path.
	Path string
	// Result is one of the Result* constants.
	Result string
	// App is the application's name and AppURL its page in Argo CD ("" when
	// none was found).
	App, AppURL string
	// Temporary is set for an application created from an ApplicationSet
	// for the preview; KeptTemp when it was kept after a failure.
	Temporary, KeptTemp bool
	// Health and Sync are the application's status; AutoSync tells whether
	// automated sync is on.
	Health, Sync string
	AutoSync     bool
	// Objects are the differing objects; Cut counts those left out for
	// size. Concise shows only their titles.
	Objects []Object
	Cut     int
	Concise bool
	// Error is the failure of an "error" component, Fence a code fence
	// longer than any backtick run in it.
	Error, Fence string
	// TempAppsEnabled tells the no-app block whether
	// createTempAppObjectFromNewApps is on (no hint then).
	TempAppsEnabled bool
}

// Object is one differing object.
type Object struct {
	// Title is "<namespace>/<kind>/<name>".
	Title string
	// Text is its diff (or Redacted); Fence fences it safely.
	Text, Fence string
}

// NewObject builds an Object, redacted when redact is set.
func NewObject(title, text string, redact bool) Object {
	if redact {
		text = Redacted
	}
	text = strings.TrimRight(text, "\n")
	return Object{Title: title, Text: text, Fence: config.Fence(text)}
}

// NewError builds the block of a component that failed.
func NewError(c Component, err error) Component {
	c.Result = ResultError
	c.Error = strings.TrimRight(err.Error(), "\n")
	c.Fence = config.Fence(c.Error)
	return c
}

// Renderer renders the comments; it is safe for concurrent use.
type Renderer struct{ t *plancomments.TemplateSet }

// New loads the built-in template and the override found in dir ("" for
// none).
func New(dir string) (*Renderer, error) {
	t, err := plancomments.LoadTemplates(builtins, "templates/*.gotmpl", Files, dir)
	if err != nil {
		return nil, fmt.Errorf("loading Argo CD diff comment templates: %w", err)
	}
	return &Renderer{t: t}, nil
}

// Render renders one comment (marker included).
func (r *Renderer) Render(c Comment) (string, error) {
	for i := range c.Components {
		c.Components[i].Concise = c.Concise
	}
	return r.t.Render("argoCdDiff", c)
}

// AutoMerge is the data of the comment left on a no-diff promotion PR
// when it is merged (argocd.autoMergeNoDiffPRs).
type AutoMerge struct {
	// Components are the PR's components, each with no diff.
	Components []Component
}

// RenderAutoMerge renders the auto-merge comment (marker included).
func (r *Renderer) RenderAutoMerge(c AutoMerge) (string, error) {
	return r.t.Render("argoCdAutoMerge", c)
}

// Bodies renders the comments of a PR: all components in one comment when
// it fits in limit bytes; otherwise one comment per component (only the
// last with the checkbox), each in the concise form if the full one does
// not fit, with its object list cut if even that does not fit. reserve
// bytes are kept free in every comment for the caller's trailer.
func (r *Renderer) Bodies(components []Component, checkbox bool, branch string, limit int) ([]string, error) {
	whole := Comment{Components: components, Checkbox: checkbox, Branch: branch}
	body, err := r.Render(whole)
	if err != nil {
		return nil, err
	}
	if len(body) <= limit {
		return []string{body}, nil
	}
	out := make([]string, 0, len(components))
	for i, comp := range components {
		c := Comment{
			Components: []Component{comp}, Split: true, Index: i + 1, Total: len(components),
			Checkbox: checkbox && i == len(components)-1, Branch: branch,
		}
		body, err := r.fit(c, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, body)
	}
	return out, nil
}

// fit renders a one-component comment within limit: full, concise, or
// concise with as many objects as fit (found by bisection).
func (r *Renderer) fit(c Comment, limit int) (string, error) {
	body, err := r.Render(c)
	if err != nil || len(body) <= limit {
		return body, err
	}
	c.Concise = true
	if body, err = r.Render(c); err != nil || len(body) <= limit {
		return body, err
	}
	comp := c.Components[0]
	all := comp.Objects
	render := func(keep int) (string, error) {
		cc := c
		k := comp
		k.Objects, k.Cut = all[:keep], comp.Cut+len(all)-keep
		cc.Components = []Component{k}
		return r.Render(cc)
	}
	lo, hi := 0, len(all) // the largest keep that fits is in [lo, hi)
	best, err := render(0)
	if err != nil {
		return "", err
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		b, err := render(mid)
		if err != nil {
			return "", err
		}
		if len(b) <= limit {
			lo, best = mid, b
		} else {
			hi = mid
		}
	}
	if len(best) > limit {
		return "", fmt.Errorf("the Argo CD diff comment of %s does not fit in %d bytes even without objects", comp.Path, limit)
	}
	return best, nil
}
