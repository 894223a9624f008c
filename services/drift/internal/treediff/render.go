package treediff

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// ContextLines is how many unchanged lines surround each change.
const ContextLines = 3

// Text is the rendered difference of a pair.
type Text struct {
	// Lines are the output lines, in file order, without newlines.
	Lines []string
	// Blame are the source-side paths (source dir + "/" + file) of the
	// files present on both sides whose contents differ.
	Blame []string
}

// Render renders d. content returns a blob's contents by SHA; it is
// called only for the SHAs of d.Blobs(). Per file, in path order:
//
//   - changed text: a unified diff headed "--- <source>/<file>" and
//     "+++ <target>/<file>" (the source is the old side);
//   - changed, with either side binary or not UTF-8:
//     "Binary files <source>/<file> and <target>/<file> differ";
//   - only in source: "--- <source>/<file> (missing from target dir <target>)";
//   - only in target: "+++ <target>/<file> (missing from source dir <source>)".
func Render(d *PairDiff, content func(sha string) []byte) Text {
	var t Text
	for _, f := range d.Files {
		src, tgt := d.Source+"/"+f.Path, d.Target+"/"+f.Path
		switch f.Kind {
		case OnlyInSource:
			t.Lines = append(t.Lines, "--- "+src+" (missing from target dir "+d.Target+")")
		case OnlyInTarget:
			t.Lines = append(t.Lines, "+++ "+tgt+" (missing from source dir "+d.Source+")")
		case Changed:
			t.Blame = append(t.Blame, src)
			a, b := entryContent(f.Source, content), entryContent(f.Target, content)
			if !isText(a) || !isText(b) {
				t.Lines = append(t.Lines, "Binary files "+src+" and "+tgt+" differ")
				continue
			}
			t.Lines = append(t.Lines, "--- "+src, "+++ "+tgt)
			t.Lines = append(t.Lines, Unified(string(a), string(b), ContextLines)...)
		}
	}
	return t
}

// entryContent is a blob's contents, or for a submodule the line git
// shows for it.
func entryContent(e Entry, content func(string) []byte) []byte {
	if e.Type == TypeCommit {
		return []byte("Subproject commit " + e.SHA + "\n")
	}
	return content(e.SHA)
}

// isText reports whether b is valid UTF-8 without NUL bytes.
func isText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// splitLines splits s into lines without their "\n"; noEOL is true when
// the last line has no newline.
func splitLines(s string) (lines []string, noEOL bool) {
	if s == "" {
		return nil, false
	}
	noEOL = !strings.HasSuffix(s, "\n")
	lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines, noEOL
}
