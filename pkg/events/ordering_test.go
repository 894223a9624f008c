package events

import "testing"

func TestOrderingKey(t *testing.T) {
	repo := &Repo{Owner: "acme", Name: "gitops"}
	mk := func(pr int, p Payload) *Envelope {
		env, err := New(Meta{Repo: repo, PR: pr}, p)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	lab := mk(7, &PromotionPlanned{RunID: "r1", Branch: "promotions/lab"})
	prod := mk(7, &PromotionPlanned{RunID: "r1", Branch: "promotions/prod"})
	labAgain := mk(8, &PromotionPlanned{RunID: "r2", Branch: "promotions/lab"})
	if OrderingKey(lab) == OrderingKey(prod) {
		t.Error("entries of one merge for different branches share a key: one slow entry would hold up the others")
	}
	if OrderingKey(lab) != OrderingKey(labAgain) {
		t.Error("two merges updating the same branch are not ordered")
	}
	finished := mk(7, &PromotionEntryFinished{RunID: "r1", Key: "k"})
	if got := OrderingKey(finished); got != "acme/gitops#7" {
		t.Errorf("entry_finished key = %q, want the origin PR", got)
	}
	other := &Envelope{ID: "x", Type: TypePromotionPlanned, Repo: &Repo{Owner: "acme", Name: "other"}, Data: lab.Data}
	if OrderingKey(other) == OrderingKey(lab) {
		t.Error("the same branch name in two repositories shares a key")
	}
	if got := OrderingKey(&Envelope{ID: "y", Type: "custom.thing.v1"}); got != "" {
		t.Errorf("event of no repository: key %q, want empty", got)
	}
}
