package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	flowKeys       = []string{"sourcePath", "componentPathExtraDepth", "conditions", "promotionPrs", "targetPaths"}
	conditionKeys  = []string{"prHasLabels", "autoMerge"}
	promotionPrKey = []string{"targetPaths", "targetDescription"}
)

type targetRef struct {
	node *yaml.Node
	path string
}

// flowNodes remembers node positions for cross-flow checks.
type flowNodes struct {
	source  *yaml.Node
	targets map[string]targetRef // canonical target -> first place it is written
	hasCond bool
}

func (d *decoder) flows(n *yaml.Node, path string) []Flow {
	items, _, ok := d.sequence(n, path)
	if !ok {
		return nil
	}
	var out []Flow
	for i, it := range items {
		if f, ok := d.flow(it, index(path, i), i); ok {
			out = append(out, f)
		}
	}
	return out
}

func (d *decoder) flow(n *yaml.Node, path string, idx int) (Flow, bool) {
	f := Flow{Index: idx}
	entries, ok := d.mapping(n, path)
	if !ok {
		return f, false
	}
	d.checkUnknown(entries, path, flowKeys)
	var (
		written, pattern       string
		sourceNode, depthNode  *yaml.Node
		sourceOK               = false
		modernNode, legacyNode *yaml.Node
		modern, legacy         []PromotionPR
		nodes                  = flowNodes{targets: map[string]targetRef{}}
	)
	for _, e := range entries {
		p := join(path, e.key)
		switch e.key {
		case "sourcePath":
			s, _, ok := d.scalarString(e.val, p)
			sourceNode = d.visit(e.val)
			if !ok {
				break
			}
			written, pattern = s, strings.TrimRight(s, "/")
			if msg := checkSourcePattern(pattern); msg != "" {
				d.errorf(sourceNode, p, "sourcePath %s", msg)
				break
			}
			sourceOK = true
		case "componentPathExtraDepth":
			v, _, ok := d.integer(e.val, p)
			depthNode = d.visit(e.val)
			switch {
			case !ok:
			case v < 0:
				d.errorf(depthNode, p, "componentPathExtraDepth must not be negative, got %d", v)
			case v > MaxComponentPathExtraDepth:
				d.errorf(depthNode, p, "componentPathExtraDepth must be at most %d, got %d", MaxComponentPathExtraDepth, v)
			default:
				f.ComponentPathExtraDepth = v
			}
		case "conditions":
			d.conditions(e.val, p, &f)
		case "promotionPrs":
			modernNode = e.keyNode
			modern = d.promotionPrs(e.val, p, nodes.targets)
		case "targetPaths":
			legacyNode = e.keyNode
			legacy = d.legacyTargets(e.val, p, nodes.targets)
		}
	}
	nodes.hasCond = len(f.PrHasLabels) > 0
	nodes.source = sourceNode
	if sourceNode == nil {
		d.errorf(d.visit(n), join(path, "sourcePath"), "required key is missing")
	}
	if modernNode != nil && legacyNode != nil {
		d.warnf(legacyNode, join(path, "targetPaths"), "this flow uses both `promotionPrs` and the legacy `targetPaths` list; the `promotionPrs` PRs come first")
	}
	f.PromotionPrs = append(modern, legacy...)
	if len(f.PromotionPrs) == 0 {
		at, key := modernNode, join(path, "promotionPrs")
		if at == nil {
			at, key = legacyNode, join(path, "targetPaths")
		}
		if at == nil {
			at, key = d.visit(n), path
		}
		d.warnf(at, key, "this flow has no promotion PRs and promotes nothing")
	}
	if !sourceOK {
		return f, false
	}
	f.SourcePath = pattern + "/"
	if err := f.compile(pattern, f.ComponentPathExtraDepth); err != nil {
		d.errorf(sourceNode, join(path, "sourcePath"), "%s", sourcePatternError(written, err))
		return f, false
	}
	d.flowMeta = append(d.flowMeta, nodes)
	d.flowPaths = append(d.flowPaths, path)
	return f, true
}

func (d *decoder) conditions(n *yaml.Node, path string, f *Flow) {
	entries, ok := d.mapping(n, path)
	if !ok {
		return
	}
	d.checkUnknown(entries, path, conditionKeys)
	for _, e := range entries {
		p := join(path, e.key)
		switch e.key {
		case "prHasLabels":
			vals, _, isNil, ok := d.stringList(e.val, p)
			if ok && len(vals) == 0 {
				what := "an empty list"
				if isNil {
					what = "null"
				}
				d.warnf(d.visit(e.val), p, "prHasLabels is %s, which means no label condition", what)
			}
			f.PrHasLabels = vals
		case "autoMerge":
			f.AutoMerge, _ = d.boolean(e.val, p)
		}
	}
}

func (d *decoder) promotionPrs(n *yaml.Node, path string, seen map[string]targetRef) []PromotionPR {
	items, _, ok := d.sequence(n, path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.warnf(d.visit(n), path, "promotionPrs is empty")
	}
	var out []PromotionPR
	for i, it := range items {
		p := index(path, i)
		entries, ok := d.mapping(it, p)
		if !ok {
			continue
		}
		d.checkUnknown(entries, p, promotionPrKey)
		var pr PromotionPR
		var targetsSeen bool
		for _, e := range entries {
			switch e.key {
			case "targetPaths":
				targetsSeen = true
				pr = d.targetGroup(e.val, join(p, e.key), seen, pr.TargetDescription)
			case "targetDescription":
				s, _, _ := d.scalarString(e.val, join(p, e.key))
				pr.TargetDescription = s
			}
		}
		if !targetsSeen {
			d.warnf(d.visit(it), join(p, "targetPaths"), "targetPaths is empty; this PR promotes nothing")
		}
		if len(pr.TargetPaths) == 0 {
			continue
		}
		if pr.TargetDescription == "" {
			pr.TargetDescription = strings.Join(pr.TargetPaths, " ")
		}
		out = append(out, pr)
	}
	return out
}

func (d *decoder) legacyTargets(n *yaml.Node, path string, seen map[string]targetRef) []PromotionPR {
	items, _, ok := d.sequence(n, path)
	if !ok {
		return nil
	}
	var out []PromotionPR
	for i, it := range items {
		pr := d.targetGroup(it, index(path, i), seen, "")
		if len(pr.TargetPaths) == 0 {
			continue
		}
		pr.Legacy = true
		pr.TargetDescription = strings.Join(pr.TargetPaths, " ")
		out = append(out, pr)
	}
	return out
}

// targetGroup reads one list of target directories.
func (d *decoder) targetGroup(n *yaml.Node, path string, seen map[string]targetRef, desc string) PromotionPR {
	pr := PromotionPR{TargetDescription: desc}
	vals, nodes, _, ok := d.stringList(n, path)
	if ok && len(vals) == 0 {
		d.warnf(d.visit(n), path, "targetPaths is empty; this PR promotes nothing")
	}
	raw := map[string]string{}
	for i, v := range vals {
		if msg := CheckRelativePath(v); msg != "" {
			d.errorf(nodes[i], index(path, i), "target path %q %s", v, msg)
			continue
		}
		c := CanonicalDir(v)
		if _, dup := raw[c]; dup {
			d.warnf(nodes[i], index(path, i), "target %q is listed twice", c)
			continue
		}
		raw[c] = v
		if _, ok := seen[c]; !ok {
			seen[c] = targetRef{node: nodes[i], path: index(path, i)}
		}
	}
	for c, r := range raw {
		pr.TargetPaths = append(pr.TargetPaths, c)
		pr.RawTargetPaths = append(pr.RawTargetPaths, r)
	}
	sort.Strings(pr.TargetPaths)
	sort.Strings(pr.RawTargetPaths)
	return pr
}

// crossFlowChecks warns about unreachable flows and self-targeting flows,
// and refuses a target inside a component of its own source.
func (d *decoder) crossFlowChecks(flows []Flow) {
	for i := range flows {
		f := &flows[i]
		meta, path := d.flowMeta[i], d.flowPaths[i]
		for j := 0; j < i; j++ {
			if flows[j].SourcePath == f.SourcePath && !d.flowMeta[j].hasCond {
				d.warnf(meta.source, join(path, "sourcePath"), "this flow is unreachable: %s has the same sourcePath and no label condition", d.flowPaths[j])
				break
			}
		}
		var targets []string
		for t := range meta.targets {
			targets = append(targets, t)
		}
		sort.Strings(targets)
		for _, t := range targets {
			if !f.Under(t) {
				continue
			}
			// A file directly inside the target belonging to a component
			// means the target is inside that component.
			if m, inside := f.Component(t + "f"); inside {
				// a/ -> a/b/: the promoted copy is itself a component of
				// the source, so every merge nests one level deeper.
				d.errorf(meta.targets[t].node, meta.targets[t].path, "target %q lies inside component %q of this flow's own sourcePath; each promotion would be promoted again, one level deeper, without end", t, m.ComponentPath())
				continue
			}
			d.warnf(meta.targets[t].node, meta.targets[t].path, "target %q lies under this flow's own sourcePath; merging its promotion PRs promotes again (a cycle)", t)
		}
	}
}

// sourcePatternError explains why a sourcePath did not compile, quoting
// what the user wrote rather than the anchored expression built from it.
func sourcePatternError(written string, err error) string {
	if _, rawErr := regexp.Compile(written); rawErr != nil {
		return fmt.Sprintf("invalid regular expression: %v", rawErr)
	}
	reason := err.Error()
	var se *syntax.Error
	if errors.As(err, &se) {
		reason = se.Code.String()
	}
	return fmt.Sprintf("invalid regular expression: %q does not compile once its trailing \"/\" is removed: %s", written, reason)
}
