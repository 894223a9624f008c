package events

import "strconv"

// OrderingKey is the one place that says which messages a consumer must
// handle one after the other: messages with the same key are handled in
// stream order, one at a time, by one process; messages with different keys
// run in parallel.
//
// A payload type may name its own key (promotion.planned: its promotion
// branch, so the entries of one merge run in parallel while two merges that
// update the same branch stay in order). Every other event is ordered per
// repository and pull request ("owner/name#pr"; #0 for events of no PR). An
// event of no repository has the empty key; the runtime then orders by
// subject.
func OrderingKey(env *Envelope) string {
	if p, ok := NewPayload(env.Type); ok {
		if k, ok := p.(orderedPayload); ok && unmarshal(env.Data, p) == nil {
			if key := k.orderingKey(); key != "" {
				return repoKey(env.Repo) + "|" + key
			}
		}
	}
	if env.Repo == nil {
		return ""
	}
	return repoKey(env.Repo) + "#" + strconv.Itoa(env.PR)
}

// orderedPayload is implemented by payloads that choose their ordering key.
type orderedPayload interface {
	orderingKey() string
}

func repoKey(r *Repo) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// orderingKey orders planned entries by the branch they write.
func (p *PromotionPlanned) orderingKey() string { return "branch:" + p.Branch }
