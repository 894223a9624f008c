package edit

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkYAML edits one tag in a values file of about 2,000 lines (200
// services), the shape of a large umbrella chart.
func BenchmarkYAML(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# umbrella values\nservices:\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&sb, "  - name: svc%d # owner team-%d\n    image:\n      repository: registry.example.com/svc%d\n      tag: \"1.%d.0\"\n    resources:\n      limits: {cpu: 500m, memory: 1Gi}\n    env:\n      - name: A\n        value: b\n\n", i, i%7, i, i)
	}
	content := []byte(sb.String())
	address := `.services[] | select(.name == "svc150").image.tag`
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := YAML(content, address, "2.0.0"); err != nil {
			b.Fatal(err)
		}
	}
}
