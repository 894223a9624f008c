package comments

import "testing"

// BenchmarkDriftCommentCut renders a pair whose diff is about 1 MB, which
// is cut to GitHub's limit.
func BenchmarkDriftCommentCut(b *testing.B) {
	r, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	secs := bigSections(1<<20, [2]string{"env/staging/nginx", "env/prod/nginx"})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := r.Drift(secs, blame, MaxBytes)
		if err != nil || len(out) != 1 || len(out[0]) > MaxBytes {
			b.Fatalf("%d comments, %v", len(out), err)
		}
	}
}
