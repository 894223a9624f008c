package events

import "time"

// The tracker projects the promotion events (and the pull_request
// deliveries, and argodiff's events) into the state of each change and
// each environment. It reads them from a stream of its own, TRACKER, that
// sources them from GITHUB, PROMOTION and ARGODIFF: one stream in one
// order, kept as long as the tracker's state must be rebuildable
// (TRACKER_RETENTION), independently of how long GITHUB keeps webhook
// bodies.
const (
	StreamTracker = "TRACKER"
	// ConsumerTracker is the tracker's durable consumer of TRACKER.
	ConsumerTracker = "tracker"
	// BucketTracker holds the tracker's projection: pr.*, run.*, entry.*,
	// journey.* and target.* records (see services/tracker). Deleting it
	// makes the tracker rebuild it from TRACKER at its next start.
	BucketTracker = "tracker"
	// BucketTrackerComments remembers, per change, the tracker's comment on
	// its original PR (not part of the projection: it records a side
	// effect).
	BucketTrackerComments = "tracker_comments"
	// TrackerCommentsTTL forgets a comment record unused this long; the
	// comment is then found again among the PR's comments.
	TrackerCommentsTTL = 400 * 24 * time.Hour
)

// TrackerFilters are the subjects the tracker follows.
func TrackerFilters() []string {
	return []string{GitHubFilter("pull_request", "*"), "promotion.>", "argodiff.>"}
}

// TrackerStream is the TRACKER stream, keeping its copies for retention.
func TrackerStream(retention, dup time.Duration) StreamSpec {
	if dup <= 0 {
		dup = DefaultDuplicateWindow
	}
	return StreamSpec{
		Name:        StreamTracker,
		Description: "The events the tracker projects, sourced from GITHUB (pull_request), PROMOTION and ARGODIFF",
		MaxAge:      retention,
		Duplicates:  dup,
		Sources: []StreamSource{
			{Name: StreamGitHub, FilterSubject: GitHubFilter("pull_request", "*")},
			{Name: StreamPromotion},
			{Name: StreamArgoDiff},
		},
	}
}
