package edit

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestChooseQuoting(t *testing.T) {
	cases := []struct {
		value  string
		old    yaml.Style
		inFlow bool
		want   string
	}{
		{"1.2.3", 0, false, `1.2.3`},
		{"v1.5.0", 0, false, `v1.5.0`},
		{"16.2", 0, false, `"16.2"`},
		{"42", 0, false, `"42"`},
		{"0x1F", 0, false, `"0x1F"`},
		{"1e3", 0, false, `"1e3"`},
		{"1_000", 0, false, `"1_000"`},
		{"true", 0, false, `"true"`},
		{"False", 0, false, `"False"`},
		{"yes", 0, false, `"yes"`},
		{"off", 0, false, `"off"`},
		{"null", 0, false, `"null"`},
		{"~", 0, false, `"~"`},
		{"", 0, false, `""`},
		{"2026-11-21", 0, false, `"2026-11-21"`},
		{".inf", 0, false, `".inf"`},
		{"a: b", 0, false, `"a: b"`},
		{"a #b", 0, false, `"a #b"`},
		{"a#b", 0, false, `a#b`},
		{"- x", 0, false, `"- x"`},
		{"*alias", 0, false, `"*alias"`},
		{"&anchor", 0, false, `"&anchor"`},
		{"!tag", 0, false, `"!tag"`},
		{"@at", 0, false, `"@at"`},
		{"{a}", 0, false, `"{a}"`},
		{"a,b", 0, false, `a,b`},
		{"a,b", 0, true, `"a,b"`},
		{" lead", 0, false, `" lead"`},
		{"trail ", 0, false, `"trail "`},
		{"line\nbreak", 0, false, `"line\nbreak"`},
		{"tab\there", 0, false, "tab\there"},
		{`back\slash`, 0, false, `back\slash`},
		{`"quoted"`, 0, false, `"\"quoted\""`},
		{"ünïcödé", 0, false, `ünïcödé`},
		{"bell\a", 0, false, `"bell\x07"`},
		{"bom\ufeff", 0, false, `"bom\uFEFF"`},
		{"ls\u2028", 0, false, `"ls\L"`},
		{"v2", yaml.SingleQuotedStyle, false, `'v2'`},
		{"it's", yaml.SingleQuotedStyle, false, `'it''s'`},
		{"16.2", yaml.SingleQuotedStyle, false, `'16.2'`},
		{"a\nb", yaml.SingleQuotedStyle, false, `"a\nb"`},
		{"v2", yaml.DoubleQuotedStyle, false, `"v2"`},
		{"v2", yaml.LiteralStyle, false, `v2`},
	}
	for _, c := range cases {
		got := renderScalar(c.value, chooseQuoting(c.value, c.old, c.inFlow))
		if got != c.want {
			t.Errorf("%q over style %v (flow %v): got %s, want %s", c.value, c.old, c.inFlow, got, c.want)
		}
		// Whatever is chosen reads back as the same string.
		var n yaml.Node
		doc := "k: " + got + "\n"
		if c.inFlow {
			doc = "k: [" + got + "]\n"
		}
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Errorf("%q: %s does not parse: %v", c.value, got, err)
			continue
		}
		v := n.Content[0].Content[1]
		if c.inFlow {
			v = v.Content[0]
		}
		if v.Value != c.value || v.ShortTag() != "!!str" {
			t.Errorf("%q: %s reads back as %s %q", c.value, got, v.ShortTag(), v.Value)
		}
	}
}

func FuzzDoubleQuote(f *testing.F) {
	for _, s := range []string{"", "a", "\"", "\\", "\n\t\r\x00", "\u0085\u2028\u2029\ufeff", "\x7f", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkValue(s) != nil {
			return
		}
		var got string
		if err := yaml.Unmarshal([]byte(doubleQuote(s)), &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, doubleQuote(s), err)
		}
		if got != s {
			t.Fatalf("%q -> %s -> %q", s, doubleQuote(s), got)
		}
	})
}
