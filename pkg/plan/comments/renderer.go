// Package comments renders the comments the bot posts about promotions,
// from Go templates that users may override (TEMPLATES_PATH). Every comment
// starts with the marker `<!-- telefonistka_tag -->` and a newline, which
// the renderer adds itself so overrides cannot lose it.
//
// Each template lives in its own file and defines one named template:
//
//	file                                 name                data
//	dry-run-pr-comment.gotmpl            dryRunMsg           map[plan key]DryRunEntry
//	auto-merge-comment.gotmpl            autoMerge           map{"prNumber": int}
//	promotion-failed-comment.gotmpl      promotionFailed     PromotionFailedData
//	cycle-guard-comment.gotmpl           cycleGuard          CycleGuardData
//	too-large-pr-comment.gotmpl          tooLargePr          TooLargeData
//	config-error-comment.gotmpl          configError         ConfigErrorData
//	superseded-pr-comment.gotmpl         supersededPr        SupersededData
//	superseded-original-pr-comment.gotmpl supersededOriginalPr SupersededData
//	in-sync-pr-comment.gotmpl            inSyncPr            struct{}
//	auto-approve-failed-comment.gotmpl   autoApproveFailed   AutoApproveFailedData
//	auto-merge-failed-comment.gotmpl     autoMergeFailed     AutoMergeFailedData
//	foreign-push-pr-comment.gotmpl       foreignPushPr       ForeignPushData
//
// Overrides are parsed on top of the built-in set, so they may reuse the
// built-in sub-template "dryRunBlock". A missing override file falls back to
// the built-in template. Templates get one function, join (strings.Join).
package comments

import (
	"embed"
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// Marker starts every bot comment.
const Marker = config.CommentMarker

//go:embed templates/*.gotmpl
var builtins embed.FS

// Files maps each template file name to the template it defines.
var Files = map[string]string{
	"dry-run-pr-comment.gotmpl":             "dryRunMsg",
	"auto-merge-comment.gotmpl":             "autoMerge",
	"promotion-failed-comment.gotmpl":       "promotionFailed",
	"cycle-guard-comment.gotmpl":            "cycleGuard",
	"too-large-pr-comment.gotmpl":           "tooLargePr",
	"config-error-comment.gotmpl":           "configError",
	"superseded-pr-comment.gotmpl":          "supersededPr",
	"superseded-original-pr-comment.gotmpl": "supersededOriginalPr",
	"in-sync-pr-comment.gotmpl":             "inSyncPr",
	"auto-approve-failed-comment.gotmpl":    "autoApproveFailed",
	"auto-merge-failed-comment.gotmpl":      "autoMergeFailed",
	"foreign-push-pr-comment.gotmpl":        "foreignPushPr",
}

// Renderer renders comments. It is safe for concurrent use.
type Renderer struct {
	*TemplateSet
}

// Builtin returns a renderer with the built-in templates only.
func Builtin() *Renderer {
	r, err := New("")
	if err != nil {
		panic(fmt.Sprintf("built-in comment templates do not parse: %v", err))
	}
	return r
}

// New loads the built-in templates and the overrides found in dir (the
// TEMPLATES_PATH directory; "" for none). A missing directory or file falls
// back to the built-ins; an override that does not parse is an error.
func New(dir string) (*Renderer, error) {
	t, err := LoadTemplates(builtins, "templates/*.gotmpl", Files, dir)
	if err != nil {
		return nil, err
	}
	return &Renderer{TemplateSet: t}, nil
}
