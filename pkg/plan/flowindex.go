package plan

import (
	"slices"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// flowIndex finds the flows a path may be under from their literal
// prefixes, so selecting a flow costs a few map lookups instead of one check
// per flow.
type flowIndex struct {
	lengths  []int            // distinct prefix lengths, ascending
	byPrefix map[string][]int // prefix -> flow indices, ascending
	scratch  []int
}

func newFlowIndex(flows []config.Flow) *flowIndex {
	ix := &flowIndex{byPrefix: map[string][]int{}}
	for i := range flows {
		p := flows[i].LiteralPrefix()
		if _, seen := ix.byPrefix[p]; !seen && !slices.Contains(ix.lengths, len(p)) {
			ix.lengths = append(ix.lengths, len(p))
		}
		ix.byPrefix[p] = append(ix.byPrefix[p], i)
	}
	slices.Sort(ix.lengths)
	return ix
}

// candidates returns, in flow order, the flows whose literal prefix starts
// path. The result is valid until the next call.
func (ix *flowIndex) candidates(path string) []int {
	ix.scratch = ix.scratch[:0]
	for _, l := range ix.lengths {
		if l > len(path) {
			break
		}
		ix.scratch = append(ix.scratch, ix.byPrefix[path[:l]]...)
	}
	slices.Sort(ix.scratch)
	return ix.scratch
}
