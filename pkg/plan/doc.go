// Package plan computes promotion plans: which promotion PRs a merged PR
// causes, with their components, sync pairs, skipped pairs and fan-in
// duplicates. It is pure: it reads a parsed configuration, the changed files,
// the PR's labels and component configurations through a lookup, and does no
// I/O of its own.
//
// Subpackages hold the other pure parts of a promotion: treesync (the tree
// entries a sync writes), metadata (the PR-body metadata block and chain
// history), prtext (branch names, titles, bodies, commit messages),
// comments (bot comments from overridable templates) and cli (the
// `telefonistka plan` and `telefonistka validate` commands).
package plan
