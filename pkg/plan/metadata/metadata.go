// Package metadata reads and writes the machine-readable block at the end of
// a promotion PR's body, and carries the chain history (authors, origin PRs,
// previous promotion levels) from one promotion to the next.
//
// The block is `<!--|Telefonistka data, do not delete|<base64>|-->`, the
// base64 (standard, padded) of a JSON object. Readers use the last such
// block; unknown JSON fields survive a rewrite.
package metadata

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
)

// Field names of the JSON object.
const (
	fieldOriginalPrAuthor       = "originalPrAuthor"
	fieldOriginalPrNumber       = "originalPrNumber"
	fieldPromotedPaths          = "promotedPaths"
	fieldPreviousPromotionPaths = "previousPromotionPaths"
	fieldOriginalPrAuthors      = "originalPrAuthors"
	fieldOriginPrs              = "originPrs"
	fieldPromotionKey           = "promotionKey"
	fieldComponents             = "components"
	fieldSourceCommit           = "sourceCommit"
	fieldBranchCommit           = "branchCommit"
	fieldPolicy                 = "policy"
	fieldHistoryParents         = "historyParents"
)

// PromotionPath is one level of a chain's history.
type PromotionPath struct {
	SourcePath  string   `json:"sourcePath"`
	TargetPaths []string `json:"targetPaths"`
}

// ComponentRef is a component a promotion PR carries.
type ComponentRef struct {
	SourcePath string `json:"sourcePath"` // the source directory, ending in "/"
	Name       string `json:"name"`
}

// Metadata is the content of the block.
type Metadata struct {
	OriginalPrAuthor string
	OriginalPrNumber int
	// PromotedPaths are the sorted target component paths.
	PromotedPaths []string
	// PreviousPromotionPaths maps a PR number (as a string) to its level.
	PreviousPromotionPaths map[string]PromotionPath
	// HistoryParents maps a history key to the keys its PR came out of (the
	// origin PRs of that promotion PR; a root, a person's merge, has none),
	// so unrelated chains one supersede PR carries render as siblings.
	// Levels written by the original have no entry.
	HistoryParents    map[string][]string
	OriginalPrAuthors []string
	OriginPrs         []int
	PromotionKey      string
	Components        []ComponentRef
	SourceCommit      string
	BranchCommit      string
	Policy            string
	// Extra holds fields this version does not know, kept on rewrite.
	Extra map[string]json.RawMessage
}

// MarshalJSON writes every known field (empty lists as []) and the extra
// fields, keys sorted.
func (m Metadata) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range m.Extra {
		out[k] = v
	}
	out[fieldOriginalPrAuthor] = m.OriginalPrAuthor
	out[fieldOriginalPrNumber] = m.OriginalPrNumber
	out[fieldPromotedPaths] = nonNil(m.PromotedPaths)
	history := make(map[string]PromotionPath, len(m.PreviousPromotionPaths))
	for k, v := range m.PreviousPromotionPaths {
		v.TargetPaths = nonNil(v.TargetPaths)
		history[k] = v
	}
	out[fieldPreviousPromotionPaths] = history
	out[fieldOriginalPrAuthors] = nonNil(m.OriginalPrAuthors)
	out[fieldOriginPrs] = nonNil(m.OriginPrs)
	out[fieldPromotionKey] = m.PromotionKey
	out[fieldComponents] = nonNil(m.Components)
	out[fieldSourceCommit] = m.SourceCommit
	out[fieldBranchCommit] = m.BranchCommit
	out[fieldPolicy] = m.Policy
	parents := make(map[string][]string, len(m.HistoryParents))
	for k, v := range m.HistoryParents {
		parents[k] = nonNil(v)
	}
	out[fieldHistoryParents] = parents
	return marshalPlain(out)
}

// marshalPlain is json.Marshal without HTML escaping (plan keys hold ">").
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UnmarshalJSON reads known fields and keeps the others in Extra.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*m = Metadata{}
	fields := map[string]any{
		fieldOriginalPrAuthor:       &m.OriginalPrAuthor,
		fieldOriginalPrNumber:       &m.OriginalPrNumber,
		fieldPromotedPaths:          &m.PromotedPaths,
		fieldPreviousPromotionPaths: &m.PreviousPromotionPaths,
		fieldOriginalPrAuthors:      &m.OriginalPrAuthors,
		fieldOriginPrs:              &m.OriginPrs,
		fieldPromotionKey:           &m.PromotionKey,
		fieldComponents:             &m.Components,
		fieldSourceCommit:           &m.SourceCommit,
		fieldBranchCommit:           &m.BranchCommit,
		fieldPolicy:                 &m.Policy,
		fieldHistoryParents:         &m.HistoryParents,
	}
	for k, v := range raw {
		dst, known := fields[k]
		if !known {
			if m.Extra == nil {
				m.Extra = map[string]json.RawMessage{}
			}
			m.Extra[k] = v
			continue
		}
		if string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("reading field %s: %w", k, err)
		}
	}
	return nil
}

const blockLabel = "Telefonistka data, do not delete"

// blockRE matches any <!--|label|payload|--> block.
var blockRE = regexp.MustCompile(`<!--\|([^|\n]*)\|([^|\n]*)\|-->`)

// ErrNoMetadata means the body has no metadata block: not a promotion PR.
var ErrNoMetadata = errors.New("no promotion metadata block in the PR body")

// Block renders the metadata block.
func Block(m Metadata) (string, error) {
	data, err := marshalPlain(m)
	if err != nil {
		return "", fmt.Errorf("encoding promotion metadata: %w", err)
	}
	return "<!--|" + blockLabel + "|" + base64.StdEncoding.EncodeToString(data) + "|-->", nil
}

// Extract reads the last metadata block of a PR body. It returns
// ErrNoMetadata when there is none, and a decoding error when the last block
// is unreadable; either means "not a promotion PR".
func Extract(body string) (*Metadata, error) {
	all := blockRE.FindAllStringSubmatch(body, -1)
	if len(all) == 0 {
		return nil, ErrNoMetadata
	}
	payload := all[len(all)-1][2]
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
			return nil, fmt.Errorf("decoding promotion metadata base64: %w", err)
		}
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding promotion metadata JSON: %w", err)
	}
	return &m, nil
}

// HistoryKeys returns the keys of PreviousPromotionPaths in ascending order:
// numerically for numbers, then the others by bytes.
func (m *Metadata) HistoryKeys() []string {
	keys := make([]string, 0, len(m.PreviousPromotionPaths))
	for k := range m.PreviousPromotionPaths {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		switch {
		case errA == nil && errB == nil:
			if a != b {
				return a < b
			}
			return keys[i] < keys[j]
		case errA == nil:
			return true
		case errB == nil:
			return false
		}
		return keys[i] < keys[j]
	})
	return keys
}
