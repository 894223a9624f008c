package dockerfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `# syntax=docker/dockerfile:1
ARG BASE=golang:1.26

FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN --mount=type=cache,target=/x \
    # a comment inside the continuation
    make image-binary \

    OUT=/out/bin
FROM scratch
COPY --from=build --chown=65532:65532 /out/bin /bin
CMD ["server", "--only", "a b"]
`
	f, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.GlobalArgs) != 1 || f.GlobalArgs[0].Args != "BASE=golang:1.26" {
		t.Fatalf("global args: %+v", f.GlobalArgs)
	}
	if len(f.Stages) != 2 {
		t.Fatalf("stages: %+v", f.Stages)
	}
	build, ok := f.Stage("build")
	if !ok || build.From != "${BASE}" || build.Platform != "$BUILDPLATFORM" || build.Line != 4 {
		t.Fatalf("build stage: %+v", build)
	}
	run := build.Find("RUN")
	if len(run) != 1 || run[0].Line != 5 {
		t.Fatalf("RUN: %+v", run)
	}
	if got := run[0].Words(); !reflect.DeepEqual(got, []string{"make", "image-binary", "OUT=/out/bin"}) {
		t.Errorf("RUN words = %q", got)
	}
	final := f.Stages[1]
	if final.Name != "" || final.From != "scratch" {
		t.Errorf("final stage: %+v", final)
	}
	flags, rest := final.Find("COPY")[0].Flags()
	if flags["from"] != "build" || flags["chown"] != "65532:65532" || rest != "/out/bin /bin" {
		t.Errorf("COPY flags %v rest %q", flags, rest)
	}
	if got := final.Find("CMD")[0].Words(); !reflect.DeepEqual(got, []string{"server", "--only", "a b"}) {
		t.Errorf("CMD words = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no FROM":               "RUN true\n",
		"nothing":               "# only a comment\n",
		"dangling continuation": "FROM scratch\nRUN a \\\n",
		"bad FROM":              "FROM a b\n",
	} {
		if _, err := Parse(strings.NewReader(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
