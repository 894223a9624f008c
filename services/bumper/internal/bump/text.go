package bump

// The texts of a bump (SPEC §9), byte for byte.

// BranchName is the branch a bump is committed on.
func BranchName(triggeringRepo, sha string) string {
	return "artifact_version_bump/" + triggeringRepo + "/" + sha
}

// CommitMessage is the message of the bump commit.
func CommitMessage(file string) string { return "Bumping version @ " + file }

// PRTitle is the title of the bump PR (no space before the emoji).
func PRTitle(triggeringRepo, file string) string {
	return triggeringRepo + "🚠 Bumping version @ " + file
}

// PRBody is the body of the bump PR.
func PRBody(triggeringRepo, sha string) string {
	return "Bumping version triggered by " + triggeringRepo + "@" + sha
}

// NoChangeMessage is printed when the new content equals the old.
func NoChangeMessage(file string) string {
	return "No change to " + file + "; not opening a PR."
}

// Label is put on every bump PR.
const Label = "promotion"

// MergeTitle is the commit title of an auto-merge.
const MergeTitle = "Auto-merge"
