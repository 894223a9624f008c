// Package dockerfile reads the instructions and stages of a Dockerfile, enough
// for tests to check what an image is built from and what it declares. It
// understands comments, parser directives, line continuations and JSON-form
// arguments; it does not expand variables.
package dockerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Instruction is one instruction: its upper-case keyword, the raw argument
// text (continuations joined with a space) and the line it starts on.
type Instruction struct {
	Cmd  string
	Args string
	Line int
}

// Flags returns the instruction's leading --name=value flags (as in
// COPY --from=build --chown=1:1) and the rest of the arguments.
func (in Instruction) Flags() (map[string]string, string) {
	flags := map[string]string{}
	rest := in.Args
	for strings.HasPrefix(rest, "--") {
		word, after, _ := strings.Cut(rest, " ")
		name, value, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
		flags[name] = value
		rest = strings.TrimSpace(after)
	}
	return flags, rest
}

// Words returns the arguments after the flags: the elements of a JSON array
// form, or the whitespace-separated words of the shell form.
func (in Instruction) Words() []string {
	_, rest := in.Flags()
	if strings.HasPrefix(rest, "[") {
		var words []string
		if err := json.Unmarshal([]byte(rest), &words); err == nil {
			return words
		}
	}
	return strings.Fields(rest)
}

// Stage is a build stage: the FROM image, its name (AS ...) and its
// instructions after FROM.
type Stage struct {
	From         string
	Platform     string
	Name         string
	Line         int
	Instructions []Instruction
}

// Find returns the stage's instructions with keyword cmd.
func (s Stage) Find(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// File is a parsed Dockerfile: the global ARGs before the first FROM, and the
// stages in order (the last one is what a plain `docker build` produces).
type File struct {
	GlobalArgs []Instruction
	Stages     []Stage
}

// Stage returns the stage named name.
func (f File) Stage(name string) (Stage, bool) {
	for _, s := range f.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// Parse reads a Dockerfile.
func Parse(r io.Reader) (File, error) {
	var f File
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var (
		cur    strings.Builder
		start  int
		lineNo int
	)
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		return f.add(in)
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		// Comments (parser directives such as # syntax= included) and empty
		// lines are skipped, also inside a continued instruction.
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = lineNo
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return f, err
		}
	}
	if err := sc.Err(); err != nil {
		return f, fmt.Errorf("reading Dockerfile: %w", err)
	}
	if cur.Len() > 0 {
		return f, fmt.Errorf("line %d: the last instruction ends with a line continuation", start)
	}
	if len(f.Stages) == 0 {
		return f, fmt.Errorf("no FROM instruction")
	}
	return f, nil
}

func (f *File) add(in Instruction) error {
	if in.Cmd == "FROM" {
		flags, _ := in.Flags()
		words := in.Words()
		s := Stage{Platform: flags["platform"], Line: in.Line}
		switch {
		case len(words) == 1:
			s.From = words[0]
		case len(words) == 3 && strings.EqualFold(words[1], "AS"):
			s.From, s.Name = words[0], words[2]
		default:
			return fmt.Errorf("line %d: FROM wants IMAGE [AS NAME], got %q", in.Line, in.Args)
		}
		f.Stages = append(f.Stages, s)
		return nil
	}
	if len(f.Stages) == 0 {
		if in.Cmd != "ARG" {
			return fmt.Errorf("line %d: %s before the first FROM", in.Line, in.Cmd)
		}
		f.GlobalArgs = append(f.GlobalArgs, in)
		return nil
	}
	last := &f.Stages[len(f.Stages)-1]
	last.Instructions = append(last.Instructions, in)
	return nil
}
