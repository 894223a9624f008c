package plan

import (
	"cmp"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// Input is what a plan is computed from.
type Input struct {
	Config *config.RepoConfig
	// ChangedFiles are the PR's changed files; for renames, both names.
	ChangedFiles []string
	// Labels are the origin PR's labels.
	Labels []string
	// Components looks up component configurations; nil means none exist.
	Components ComponentConfigs
}

// selection is the flow a directory's files select, and their component.
type selection struct {
	flow  int // -1: no flow
	match config.Match
	ok    bool
}

type found struct {
	flow int
	comp Component
}

// Compute computes the promotion plan (SPEC §5.2–§5.4): flow selection per
// changed file, components, allow and block lists, grouping into entries by
// plan key, and fan-in resolution. The same function serves drift detection
// and show-plan ("plan the PR as if merged").
func Compute(in Input) *Plan {
	p := &Plan{}
	if in.Config == nil {
		return p
	}
	flows := in.Config.PromotionPaths
	index := newFlowIndex(flows)
	byDir := make(map[string]selection, len(in.ChangedFiles)/2)
	comps := make([]found, 0, len(in.ChangedFiles))
	for _, file := range in.ChangedFiles {
		if !config.SafeRepoPath(file) {
			p.IgnoredFiles = append(p.IgnoredFiles, file)
			continue
		}
		slash := strings.LastIndexByte(file, '/')
		if slash < 0 {
			continue // a file at the root is under no flow
		}
		dir := file[:slash+1]
		sel, cached := byDir[dir]
		if !cached {
			sel = selectFlow(flows, index.candidates(file), file, in.Labels)
			byDir[dir] = sel
		}
		if !sel.ok {
			continue
		}
		comps = append(comps, found{flow: sel.flow, comp: Component{SourceDir: sel.match.SourceDir, Name: sel.match.Component}})
	}
	slices.SortFunc(comps, func(a, b found) int {
		return cmp.Or(compareJoined(a.comp.SourceDir, a.comp.Name, b.comp.SourceDir, b.comp.Name),
			strings.Compare(a.comp.Name, b.comp.Name), cmp.Compare(a.flow, b.flow))
	})
	comps = slices.Compact(comps)
	slices.Sort(p.IgnoredFiles)
	p.IgnoredFiles = slices.Compact(p.IgnoredFiles)

	b := newBuilder(in.Config.PromotionLabels, in.Components)
	b.perFlow = make([]int, len(flows))
	for _, f := range comps {
		b.perFlow[f.flow]++
	}
	groups := make([][]Group, len(flows))
	for _, f := range comps {
		if groups[f.flow] == nil {
			fl := &flows[f.flow]
			for _, pr := range fl.PromotionPrs {
				groups[f.flow] = append(groups[f.flow], groupOf(fl, pr))
			}
		}
		for i := range groups[f.flow] {
			b.add(&groups[f.flow][i], f.comp)
		}
	}
	p.Entries, p.ComponentErrors = b.finish()
	return p
}

// selectFlow walks the candidate flows in order and picks the first one the
// file is under whose label condition the PR meets.
func selectFlow(flows []config.Flow, candidates []int, file string, labels []string) selection {
	for _, i := range candidates {
		fl := &flows[i]
		// A component match implies the file is under the flow.
		m, ok := fl.Component(file)
		if !ok && !fl.Under(file) || !fl.Eligible(labels) {
			continue
		}
		return selection{flow: i, match: m, ok: ok}
	}
	return selection{flow: -1}
}

func groupOf(fl *config.Flow, pr config.PromotionPR) Group {
	return Group{
		SourcePath:        fl.SourcePath,
		FlowIndex:         fl.Index,
		Targets:           pr.TargetPaths,
		RawTargets:        pr.RawTargetPaths,
		TargetDescription: pr.TargetDescription,
		AutoMerge:         fl.AutoMerge,
		key:               fl.SourcePath + ">" + strings.Join(pr.TargetPaths, "|"),
	}
}

// EntryFor computes one entry for a fixed group and component set, with the
// allow and block lists evaluated through lookup. The promoter uses it to
// rebuild a superseding PR from the components it carries.
func EntryFor(g Group, components []Component, labels []string, lookup ComponentConfigs) (Entry, []ComponentError) {
	b := newBuilder(labels, lookup)
	g.key = g.Key()
	for _, c := range components {
		b.add(&g, c)
	}
	entries, errs := b.finish()
	if len(entries) == 0 {
		return Entry{Group: g, Key: g.Key(), Labels: entryLabels(labels)}, errs
	}
	return entries[0], errs
}

// builder groups components into entries.
type builder struct {
	labels  []string
	lookup  ComponentConfigs
	configs map[string]*config.ComponentConfig
	failed  map[string]error
	entries map[string]*Entry
	perFlow []int // components per flow, to size slices; may be nil
}

func newBuilder(labels []string, lookup ComponentConfigs) *builder {
	return &builder{
		labels:  labels,
		lookup:  lookup,
		configs: map[string]*config.ComponentConfig{},
		failed:  map[string]error{},
		entries: map[string]*Entry{},
	}
}

// componentConfig returns the component's configuration, looked up once.
func (b *builder) componentConfig(c Component) (*config.ComponentConfig, bool) {
	path := c.Path()
	if cfg, ok := b.configs[path]; ok {
		return cfg, true
	}
	if _, bad := b.failed[path]; bad {
		return nil, false
	}
	var cfg *config.ComponentConfig
	if b.lookup != nil {
		var err error
		if cfg, err = b.lookup.ComponentConfig(path); err != nil {
			b.failed[path] = err
			return nil, false
		}
	}
	b.configs[path] = cfg
	return cfg, true
}

func (b *builder) add(g *Group, c Component) {
	cfg, ok := b.componentConfig(c)
	if !ok {
		return
	}
	e := b.entries[g.key]
	if e == nil {
		e = &Entry{Group: *g, Key: g.key, Labels: entryLabels(b.labels), byTarget: make([][]SyncPair, len(g.Targets))}
		if b.perFlow != nil {
			n := b.perFlow[g.FlowIndex]
			e.Components = make([]Component, 0, n)
			for i := range e.byTarget {
				e.byTarget[i] = make([]SyncPair, 0, n)
			}
		}
		b.entries[g.key] = e
	} else {
		e.AutoMerge = e.AutoMerge && g.AutoMerge
		e.FlowIndex = min(e.FlowIndex, g.FlowIndex)
	}
	e.Components = append(e.Components, c)
	for i, t := range g.Targets {
		pair := SyncPair{SourceDir: c.SourceDir, TargetDir: t, Component: c.Name}
		if cfg.Allows(t) {
			e.byTarget[i] = append(e.byTarget[i], pair)
		} else {
			e.Skipped = append(e.Skipped, pair)
		}
	}
}

func (b *builder) finish() ([]Entry, []ComponentError) {
	keys := make([]string, 0, len(b.entries))
	for k := range b.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	entries := make([]Entry, 0, len(keys))
	for _, k := range keys {
		e := b.entries[k]
		finishEntry(e)
		entries = append(entries, *e)
	}
	var errs []ComponentError
	for path, err := range b.failed {
		errs = append(errs, ComponentError{ComponentPath: path, Err: err})
	}
	slices.SortFunc(errs, func(a, b ComponentError) int { return strings.Compare(a.ComponentPath, b.ComponentPath) })
	return entries, errs
}

func finishEntry(e *Entry) {
	if !slices.IsSortedFunc(e.Components, compareComponents) {
		slices.SortFunc(e.Components, compareComponents)
	}
	e.Components = slices.Compact(e.Components)
	cmpSkipped := func(a, b SyncPair) int {
		return cmp.Or(compareJoined(a.SourceDir, a.Component, b.SourceDir, b.Component),
			compareJoined(a.TargetDir, a.Component, b.TargetDir, b.Component))
	}
	if !slices.IsSortedFunc(e.Skipped, cmpSkipped) {
		slices.SortFunc(e.Skipped, cmpSkipped)
	}
	e.Skipped = slices.Compact(e.Skipped)
	// Targets are sorted and end in "/", so sorting within each target
	// directory by component sorts the pairs by target path... except when
	// one target directory is a prefix of another's component path; a final
	// check catches that.
	n := 0
	for _, pairs := range e.byTarget {
		n += len(pairs)
	}
	sync := make([]SyncPair, 0, n)
	cmpSync := func(a, b SyncPair) int {
		return cmp.Or(compareJoined(a.TargetDir, a.Component, b.TargetDir, b.Component),
			strings.Compare(a.SourceDir, b.SourceDir))
	}
	for _, pairs := range e.byTarget {
		if !slices.IsSortedFunc(pairs, cmpSync) {
			slices.SortFunc(pairs, cmpSync)
		}
		sync = append(sync, pairs...)
	}
	e.byTarget = nil
	if !slices.IsSortedFunc(sync, cmpSync) {
		slices.SortFunc(sync, cmpSync)
	}
	sync = slices.Compact(sync)
	// Fan-in: among pairs with one target, the first source directory wins.
	kept := sync[:0]
	for i, p := range sync {
		if i > 0 {
			w := kept[len(kept)-1]
			if compareJoined(w.TargetDir, w.Component, p.TargetDir, p.Component) == 0 {
				e.Duplicates = append(e.Duplicates, DuplicateTarget{Winner: w, Loser: p})
				continue
			}
		}
		kept = append(kept, p)
	}
	e.Sync = kept
}

func compareComponents(a, b Component) int {
	return cmp.Or(compareJoined(a.SourceDir, a.Name, b.SourceDir, b.Name), strings.Compare(a.Name, b.Name))
}

// compareJoined compares a1+a2 with b1+b2 by bytes without building them.
func compareJoined(a1, a2, b1, b2 string) int {
	for {
		if a1 == "" {
			a1, a2 = a2, ""
		}
		if b1 == "" {
			b1, b2 = b2, ""
		}
		switch {
		case a1 == "" && b1 == "":
			return 0
		case a1 == "":
			return -1
		case b1 == "":
			return 1
		}
		n := min(len(a1), len(b1))
		if c := strings.Compare(a1[:n], b1[:n]); c != 0 {
			return c
		}
		a1, b1 = a1[n:], b1[n:]
	}
}

func entryLabels(configured []string) []string {
	labels := []string{PromotionLabel}
	for _, l := range configured {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	return labels
}
