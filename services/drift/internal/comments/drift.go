package comments

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// MaxBytes is the largest comment posted, in UTF-8 bytes: GitHub's limit
// is 65,536 characters, so counting bytes stays safe.
const MaxBytes = 65536

// Section is one drifted pair.
type Section struct {
	// Source and Target are component paths.
	Source, Target string
	// Lines are the rendered differences (treediff.Text.Lines).
	Lines []string
	// Blame are the source-side paths of files whose contents differ.
	Blame []string
}

// Title is the section title: `<source>` ↔️  `<target>`.
func (s Section) Title() string { return "`" + s.Source + "` ↔️  `" + s.Target + "`" }

// Blame says where the blame links point: the repository's html_url and
// the compared default-branch commit.
type Blame struct {
	RepoURL string
	SHA     string
}

func (b Blame) link(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "[" + path + "](" + strings.TrimRight(b.RepoURL, "/") + "/blame/" + b.SHA + "/" + strings.Join(segs, "/") + ")"
}

// fence is the code fence of the section's diff: ``` unless the diff holds
// a run of backticks as long.
func (s Section) fence() string { return config.Fence(strings.Join(s.Lines, "\n")) }

// text is a section's diff text keeping the first keepLines lines and
// keepBlame blame links; what is left out is announced.
func (s Section) text(b Blame, fence string, keepLines, keepBlame int) string {
	var w strings.Builder
	w.WriteString(fence + "diff\n")
	for _, l := range s.Lines[:keepLines] {
		w.WriteString(l + "\n")
	}
	if n := len(s.Lines) - keepLines; n > 0 {
		w.WriteString("… diff truncated (" + strconv.Itoa(n) + " more lines)\n")
	}
	w.WriteString(fence)
	if len(s.Blame) > 0 {
		w.WriteString("\n### Blame Links:")
		for _, p := range s.Blame[:keepBlame] {
			w.WriteString("\n" + b.link(p))
		}
		if n := len(s.Blame) - keepBlame; n > 0 {
			w.WriteString("\n… and " + strconv.Itoa(n) + " more files")
		}
	}
	return w.String()
}

// Drift renders the drift comments for sections (at least one): one
// comment holding every section when it fits in limit bytes, otherwise as
// few comments as the size allows: sections in title order, each comment
// filled up to limit, a section too long alone cut at a line boundary in a
// comment of its own. A flow with hundreds of targets gets a few comments,
// never one per target.
func (r *Renderer) Drift(sections []Section, b Blame, limit int) ([]string, error) {
	all := make(map[string]string, len(sections))
	for _, s := range sections {
		all[s.Title()] = s.text(b, s.fence(), len(s.Lines), len(s.Blame))
	}
	whole, err := r.Render("driftMsg", all)
	if err != nil {
		return nil, err
	}
	if len(whole) <= limit {
		return []string{whole}, nil
	}
	ordered := append([]Section(nil), sections...)
	sortSections(ordered)
	var (
		out      []string
		batch    = map[string]string{}
		rendered string // batch rendered
	)
	for _, s := range ordered {
		batch[s.Title()] = all[s.Title()]
		c, err := r.Render("driftMsg", batch)
		if err != nil {
			return nil, err
		}
		if len(c) <= limit {
			rendered = c
			continue
		}
		delete(batch, s.Title())
		if len(batch) > 0 {
			out = append(out, rendered)
		}
		batch = map[string]string{s.Title(): all[s.Title()]}
		if rendered, err = r.Render("driftMsg", batch); err != nil {
			return nil, err
		}
		if len(rendered) > limit {
			cut, err := r.fitSection(s, b, limit)
			if err != nil {
				return nil, err
			}
			out = append(out, cut)
			batch = map[string]string{}
		}
	}
	if len(batch) > 0 {
		out = append(out, rendered)
	}
	return out, nil
}

// fitSection renders one section alone, keeping as many diff lines (then
// blame links) as fit in limit.
func (r *Renderer) fitSection(s Section, b Blame, limit int) (string, error) {
	fence := s.fence()
	render := func(lines, blame int) (string, error) {
		return r.Render("driftMsg", map[string]string{s.Title(): s.text(b, fence, lines, blame)})
	}
	fits := func(lines, blame int) (bool, error) {
		c, err := render(lines, blame)
		return err == nil && len(c) <= limit, err
	}
	lines, blame := len(s.Lines), len(s.Blame)
	ok, err := fits(lines, blame)
	if err != nil {
		return "", err
	}
	if !ok {
		if ok, err = fits(0, blame); err != nil {
			return "", err
		}
		if ok {
			lines, err = most(0, len(s.Lines), func(n int) (bool, error) { return fits(n, blame) })
		} else {
			lines = 0
			blame, err = most(-1, len(s.Blame), func(n int) (bool, error) { return fits(0, n) })
			if err == nil && blame < 0 {
				err = fmt.Errorf("the drift comment for %s does not fit in %d bytes even without its diff", s.Title(), limit)
			}
		}
		if err != nil {
			return "", err
		}
	}
	return render(lines, blame)
}

// most returns the largest n in [lo, hi) for which fits holds, given that
// it holds for lo (or lo is -1, meaning none) and not for hi, and that the
// rendered size grows with n.
func most(lo, hi int, fits func(int) (bool, error)) (int, error) {
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := fits(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

func sortSections(s []Section) {
	slices.SortFunc(s, func(a, b Section) int { return strings.Compare(a.Title(), b.Title()) })
}
