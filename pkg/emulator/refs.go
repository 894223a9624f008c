package emulator

import (
	"strings"
)

// updateRef points the full ref name at sha (the zero hash deletes it) and does what
// GitHub does after a push: send the push event, synchronize or close the PRs whose head
// is the branch, and close the PRs whose base branch was deleted. The caller holds r.mu.
func (e *Emulator) updateRef(r *repo, pusher *user, name string, sha hash) error {
	before, _ := r.git.Ref(name)
	if sha.IsZero() {
		if err := r.git.DeleteRef(name); err != nil {
			return err
		}
	} else if err := r.git.SetRef(name, sha); err != nil {
		return err
	}
	r.pushedAt = now()
	e.emitPush(r, pusher, name, before, sha)
	if branch, ok := strings.CutPrefix(name, "refs/heads/"); ok {
		e.branchMoved(r, pusher, branch, before, sha)
	}
	e.changed(r)
	return nil
}

func (e *Emulator) branchMoved(r *repo, pusher *user, branch string, before, after hash) {
	for _, is := range r.sortedIssues() {
		if is.pr == nil || is.state != "open" {
			continue
		}
		p := is.pr
		switch {
		case p.headRef == branch && after.IsZero():
			e.closePull(r, pusher, is)
		case p.headRef == branch:
			p.headSHA = after
			is.updatedAt = now()
			e.emitPull(r, is, "synchronize", pusher, map[string]any{"before": before.String(), "after": after.String()})
		case p.baseRef == branch && after.IsZero():
			e.closePull(r, pusher, is)
		}
	}
}

// sortedIssues returns the repository's issues and PRs by number.
func (r *repo) sortedIssues() []*issue {
	out := make([]*issue, 0, len(r.issues))
	for n := 1; n < r.nextNumber; n++ {
		if is, ok := r.issues[n]; ok {
			out = append(out, is)
		}
	}
	return out
}

// resolveCommit turns a commit SHA, branch, tag or full ref name into a commit.
func resolveCommit(r *repo, ref string) (hash, bool) {
	ref = strings.TrimPrefix(ref, "refs/")
	if len(ref) == 40 {
		if h, ok := parseHash(ref); ok {
			if _, err := r.git.Commit(h); err == nil {
				return h, true
			}
		}
	}
	for _, name := range []string{"refs/heads/" + ref, "refs/tags/" + ref, "refs/" + ref} {
		if h, ok := r.git.Ref(name); ok {
			return h, true
		}
	}
	return hash{}, false
}

func parseHash(s string) (hash, bool) {
	if len(s) != 40 {
		return hash{}, false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return hash{}, false
		}
	}
	var h hash
	copy(h[:], mustHex(s))
	return h, true
}
