package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// pendingDocs are documents other work is adding; links to them are allowed
// before they land.
var pendingDocs = map[string]bool{}

var (
	mdLink  = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`^#{1,6}\s+(.*)$`)
	specRef = regexp.MustCompile(`SPEC(\.md)?\s*§|§\s*\d`)
)

// TestDocsLinks checks every Markdown file of the repository: relative links
// reach files that exist, anchors name a heading of the target, and no text
// cites sections of a specification the repository does not contain.
func TestDocsLinks(t *testing.T) {
	docs := map[string][]string{} // repo-relative path -> lines outside code fences
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".md") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		docs[filepath.ToSlash(rel)] = proseLines(string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 10 {
		t.Fatalf("found only %d Markdown files", len(docs))
	}
	anchors := map[string]map[string]bool{}
	for doc, lines := range docs {
		anchors[doc] = headingAnchors(lines)
	}
	links := 0
	for doc, lines := range docs {
		for i, line := range lines {
			if m := specRef.FindString(line); m != "" {
				t.Errorf("%s:%d: cites %q; SPEC.md is not part of the repository: say what happens, or link a document", doc, i+1, m)
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				file, anchor, _ := strings.Cut(target, "#")
				resolved := doc
				if file != "" {
					resolved = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(doc), file)))
				}
				if pendingDocs[resolved] {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, resolved)); err != nil {
					t.Errorf("%s:%d: link %s: %s does not exist", doc, i+1, target, resolved)
					continue
				}
				if anchor != "" && strings.HasSuffix(resolved, ".md") && !anchors[resolved][anchor] {
					t.Errorf("%s:%d: link %s: %s has no heading #%s", doc, i+1, target, resolved, anchor)
				}
			}
		}
	}
	t.Logf("%d Markdown files, %d relative links", len(docs), links)
}

// proseLines returns the lines of a Markdown document with fenced code blocks
// blanked (their line numbers kept).
func proseLines(text string) []string {
	lines := strings.Split(text, "\n")
	fence := ""
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
			lines[i] = ""
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
			lines[i] = ""
		case fence != "":
			lines[i] = ""
		}
	}
	return lines
}

// headingAnchors returns the anchors GitHub gives a document's headings:
// lower case, punctuation dropped, spaces as hyphens, -1, -2... on repeats.
func headingAnchors(lines []string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range lines {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}
