package events

import (
	"fmt"
	"sort"
)

// Durable consumer names of Telefonistka's services. Replicas of a service
// share its consumers. A consumer's dead letters are published on
// deadletter.<name>.<owner>.<repo>, so a service that follows another's
// failures names that consumer from here.
const (
	ConsumerPlanner            = "planner"
	ConsumerPlannerRuns        = "planner-runs"
	ConsumerPlannerDeadLetters = "planner-deadletters"
	ConsumerPromoter           = "promoter"
	ConsumerDrift              = "drift"
	ConsumerArgoDiff           = "argodiff"
	ConsumerFanout             = "fanout"
	ConsumerFanoutDeliver      = "fanout-deliver"
	ConsumerBumper             = "bumper"
)

// consumers is the one map of who consumes which subjects; the README's
// "Who consumes what" shows it (a test keeps the two equal). Services take
// their consumer from here (Consumer) and add their delivery settings.
var consumers = []ConsumerSpec{
	{Service: "planner", Durable: ConsumerPlanner, Stream: StreamGitHub,
		FilterSubjects: []string{GitHubFilter("pull_request", "closed"), GitHubFilter("pull_request", "labeled")}},
	{Service: "planner", Durable: ConsumerPlannerRuns, Stream: StreamPromotion,
		FilterSubjects: []string{FilterFor(TypePromotionRunStarted), FilterFor(TypePromotionEntryFinished)}},
	{Service: "planner", Durable: ConsumerPlannerDeadLetters, Stream: StreamDeadLetter,
		FilterSubjects: []string{DeadLetterFilter(ConsumerPromoter)}},
	{Service: "promoter", Durable: ConsumerPromoter, Stream: StreamPromotion,
		FilterSubjects: []string{FilterFor(TypePromotionPlanned)}},
	{Service: "drift", Durable: ConsumerDrift, Stream: StreamGitHub,
		FilterSubjects: []string{GitHubFilter("pull_request", "opened"), GitHubFilter("pull_request", "reopened"),
			GitHubFilter("pull_request", "synchronize"), GitHubFilter("issue_comment", "created")}},
	{Service: "argodiff", Durable: ConsumerArgoDiff, Stream: StreamGitHub,
		FilterSubjects: []string{GitHubFilter("pull_request", "opened"), GitHubFilter("pull_request", "reopened"),
			GitHubFilter("pull_request", "synchronize"), GitHubFilter("pull_request", "closed"),
			GitHubFilter("issue_comment", "created"), GitHubFilter("issue_comment", "edited")}},
	{Service: "fanout", Durable: ConsumerFanout, Stream: StreamGitHub,
		FilterSubjects: []string{GitHubFilter("push", "*")}},
	{Service: "fanout", Durable: ConsumerFanoutDeliver, Stream: StreamFanout,
		FilterSubjects: []string{FilterFor(TypeFanoutRequested)}},
	{Service: "bumper", Durable: ConsumerBumper, Stream: StreamBump,
		FilterSubjects: []string{FilterFor(TypeBumpRequested)}},
	{Service: "tracker", Durable: ConsumerTracker, Stream: StreamTracker, FilterSubjects: TrackerFilters()},
}

// Consumers returns every consumer of every service.
func Consumers() []ConsumerSpec {
	out := make([]ConsumerSpec, len(consumers))
	for i, c := range consumers {
		c.FilterSubjects = append([]string(nil), c.FilterSubjects...)
		out[i] = c
	}
	return out
}

// Consumer returns the consumer named durable (one of the Consumer*
// constants); the service sets MaxDeliver and AckWait. It panics on an
// unknown name: that is a programming error.
func Consumer(durable string) ConsumerSpec {
	for _, c := range Consumers() {
		if c.Durable == durable {
			return c
		}
	}
	panic(fmt.Sprintf("events: no consumer %q", durable))
}

// DeadLetterFilter selects the dead letters of one consumer in any
// repository.
func DeadLetterFilter(consumer string) string {
	return "deadletter." + EscapeToken(consumer) + ".>"
}

// publishes names the streams each service publishes to, besides the
// dead letters every consuming service may write.
var publishes = map[string][]string{
	"ingress":  {StreamGitHub},
	"planner":  {StreamPromotion},
	"promoter": {StreamPromotion},
	"drift":    {StreamDrift},
	"argodiff": {StreamArgoDiff},
	"fanout":   {StreamFanout},
	"bumper":   {StreamBump},
}

// StreamsOf returns the streams service needs, sorted: those it consumes
// from, those it publishes to, and DEADLETTER if it consumes at all. A
// service cannot run while one of them is missing or unusable.
func StreamsOf(service string) []string {
	need := map[string]bool{}
	for _, s := range publishes[service] {
		need[s] = true
	}
	for _, c := range consumers {
		if c.Service == service {
			need[c.Stream], need[StreamDeadLetter] = true, true
		}
	}
	out := make([]string, 0, len(need))
	for s := range need {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
