package emulator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/linediff"
)

// maxPullFiles is GitHub's cap on a pull request's file list.
const maxPullFiles = 3000

// maxPatchBytes bounds the files whose patch is rendered.
const maxPatchBytes = 1 << 20

type prFile struct {
	Filename, Previous, Status string
	SHA                        hash
	Mode                       filemode.FileMode
	Additions, Deletions       int
	Patch                      *string
}

type pullStats struct{ commits, additions, deletions, files int }

// pullRange returns the commits a PR's diff runs between: the merge base and the head.
func (e *Emulator) pullRange(r *repo, is *issue) (from, to hash, err error) {
	p := is.pr
	if !p.diffBase.IsZero() {
		return p.diffBase, p.headSHA, nil
	}
	baseHead, ok := r.git.Ref("refs/heads/" + p.baseRef)
	if !ok {
		baseHead = p.baseSHA
	}
	mb, found, err := r.git.MergeBase(baseHead, p.headSHA)
	if err != nil {
		return hash{}, hash{}, err
	}
	if !found {
		return baseHead, p.headSHA, nil
	}
	return mb, p.headSHA, nil
}

func (e *Emulator) pullStats(r *repo, is *issue) (pullStats, error) {
	from, to, err := e.pullRange(r, is)
	if err != nil {
		return pullStats{}, err
	}
	commits, err := r.git.Exclusive(to, []hash{from}, 0)
	if err != nil {
		return pullStats{}, err
	}
	files, total, err := e.commitRangeFiles(r, from, to)
	if err != nil {
		return pullStats{}, err
	}
	st := pullStats{commits: len(commits), files: total}
	for _, f := range files {
		st.additions += f.Additions
		st.deletions += f.Deletions
	}
	return st, nil
}

// commitRangeFiles lists the files changed between two commits (renames detected), capped
// at maxPullFiles, and the uncapped count.
func (e *Emulator) commitRangeFiles(r *repo, from, to hash) ([]prFile, int, error) {
	fc, err := r.git.Commit(from)
	if err != nil {
		return nil, 0, err
	}
	tc, err := r.git.Commit(to)
	if err != nil {
		return nil, 0, err
	}
	key := [2]hash{fc.Tree, tc.Tree}
	if files, ok := r.files.Get(key); ok {
		return capFiles(files)
	}
	changes, err := r.git.DiffTrees(fc.Tree, tc.Tree)
	if err != nil {
		return nil, 0, err
	}
	files, err := e.describeChanges(r, changes)
	if err != nil {
		return nil, 0, err
	}
	r.files.Put(key, files)
	return capFiles(files)
}

func capFiles(files []prFile) ([]prFile, int, error) {
	if len(files) > maxPullFiles {
		return files[:maxPullFiles], len(files), nil
	}
	return files, len(files), nil
}

// describeChanges turns tree changes into GitHub's file entries: exact renames pair a
// removed and an added file with the same blob, mode-only changes are "changed".
func (e *Emulator) describeChanges(r *repo, changes []gitstore.Change) ([]prFile, error) {
	removedByBlob := map[hash][]int{}
	for i, c := range changes {
		if c.Removed() {
			removedByBlob[c.From.Hash] = append(removedByBlob[c.From.Hash], i)
		}
	}
	renamedFrom := map[int]int{} // added index -> removed index
	usedRemoved := map[int]bool{}
	for i, c := range changes {
		if !c.Added() {
			continue
		}
		if cands := removedByBlob[c.To.Hash]; len(cands) > 0 {
			renamedFrom[i] = cands[0]
			usedRemoved[cands[0]] = true
			removedByBlob[c.To.Hash] = cands[1:]
		}
	}
	var out []prFile
	for i, c := range changes {
		if usedRemoved[i] {
			continue
		}
		f := prFile{Filename: c.Path, SHA: c.To.Hash, Mode: c.To.Mode}
		switch {
		case c.Added():
			f.Status = "added"
			if ri, ok := renamedFrom[i]; ok {
				f.Status, f.Previous = "renamed", changes[ri].Path
				empty := ""
				f.Patch = &empty
				out = append(out, f)
				continue
			}
		case c.Removed():
			f.Status, f.SHA, f.Mode = "removed", c.From.Hash, c.From.Mode
		case c.From.Hash == c.To.Hash:
			f.Status = "changed"
		default:
			f.Status = "modified"
		}
		if err := e.filePatch(r, c, &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Filename < out[j].Filename })
	return out, nil
}

func (e *Emulator) filePatch(r *repo, c gitstore.Change, f *prFile) error {
	read := func(en gitstore.Entry) ([]byte, bool, error) {
		if en.Hash.IsZero() || en.Type() != "blob" {
			return nil, true, nil
		}
		n, err := r.git.BlobSize(en.Hash)
		if err != nil {
			return nil, false, err
		}
		if n > maxPatchBytes {
			return nil, false, nil
		}
		data, err := r.git.Blob(en.Hash)
		return data, err == nil, err
	}
	oldData, okOld, err := read(c.From)
	if err != nil {
		return err
	}
	newData, okNew, err := read(c.To)
	if err != nil {
		return err
	}
	if !okOld || !okNew || linediff.IsBinary(oldData) || linediff.IsBinary(newData) {
		return nil
	}
	patch, adds, dels := linediff.Unified(string(oldData), string(newData), 3)
	f.Additions, f.Deletions, f.Patch = adds, dels, &patch
	return nil
}

// refreshMergeable computes whether the PR merges cleanly into its base's current head,
// unless that is already known for the current pair of SHAs.
func (e *Emulator) refreshMergeable(r *repo, is *issue) {
	p := is.pr
	if is.state != "open" {
		return
	}
	baseHead, ok := r.git.Ref("refs/heads/" + p.baseRef)
	if !ok {
		return
	}
	if m := p.mergeable; m.known && m.base == baseHead && m.head == p.headSHA {
		return
	}
	_, conflicts, err := e.mergeCommits(r, baseHead, p.headSHA)
	if err != nil {
		e.log.Error("computing mergeability", "repo", r.fullName(), "pr", is.number, "error", err)
		return
	}
	p.mergeable = mergeability{base: baseHead, head: p.headSHA, known: true, clean: len(conflicts) == 0}
}

// mergeCommits merges head into base and returns the merged tree, or the conflicts.
func (e *Emulator) mergeCommits(r *repo, base, head hash) (hash, []string, error) {
	bc, err := r.git.Commit(base)
	if err != nil {
		return hash{}, nil, err
	}
	hc, err := r.git.Commit(head)
	if err != nil {
		return hash{}, nil, err
	}
	var mbTree hash
	mb, found, err := r.git.MergeBase(base, head)
	if err != nil {
		return hash{}, nil, err
	}
	if found {
		mc, err := r.git.Commit(mb)
		if err != nil {
			return hash{}, nil, err
		}
		mbTree = mc.Tree
	}
	return r.git.MergeTrees(mbTree, bc.Tree, hc.Tree)
}

// openPullFor returns the open PR from head into base, if any.
func openPullFor(r *repo, head, base string) *issue {
	for _, is := range r.issues {
		if is.pr != nil && is.state == "open" && is.pr.headRef == head && is.pr.baseRef == base {
			return is
		}
	}
	return nil
}

func alreadyExists(r *repo, head string) *apiError {
	return errValidation("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", r.owner.Login, head))
}

// parseHead accepts "branch" or "owner:branch" for a branch of r itself.
func parseHead(r *repo, head string) (string, bool) {
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		return branch, strings.EqualFold(owner, r.owner.Login)
	}
	return head, true
}
