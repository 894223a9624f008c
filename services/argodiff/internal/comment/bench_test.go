package comment

import (
	"fmt"
	"testing"
)

// BenchmarkRender500Objects renders the comments of one component with 500
// changed objects (about 0.5 MB of diff text: split, concise, cut).
func BenchmarkRender500Objects(b *testing.B) {
	r, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	c := bigComponent("clusters/prod/app", 500)
	b.ResetTimer()
	for range b.N {
		bodies, err := r.Bodies([]Component{c}, true, "br", MaxBytes)
		if err != nil || len(bodies) != 1 {
			b.Fatal(len(bodies), err)
		}
	}
}

// BenchmarkRender500ObjectsFits renders 500 small changed objects that fit
// in one comment in full.
func BenchmarkRender500ObjectsFits(b *testing.B) {
	r, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	c := app("clusters/prod/app")
	c.Objects = nil
	for i := range 500 {
		c.Objects = append(c.Objects, NewObject(fmt.Sprintf("web/ConfigMap/c%03d", i), "@@ data.a @@\n! ± value change\n- 1\n+ 2\n", false))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := r.Bodies([]Component{c}, false, "", MaxBytes); err != nil {
			b.Fatal(err)
		}
	}
}
