package events

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Envelope wraps every event. The payload of the event lives in Data and its
// shape is given by Type, an explicit wire name such as "promotion.planned.v1".
type Envelope struct {
	// ID identifies the event. Events that must be idempotent derive it from
	// their inputs (see DeriveID), so a replay publishes the same ID and
	// JetStream's duplicate window drops it.
	ID string `json:"id"`
	// Type is the wire name of the payload, e.g. "promotion.planned.v1".
	Type string `json:"type"`
	// Time is when the event was created, in UTC.
	Time time.Time `json:"time"`
	// Source is the service that emitted the event, e.g. "planner".
	Source string `json:"source"`
	// CorrelationID is the GitHub delivery id (or request id) that started
	// the chain this event belongs to.
	CorrelationID string `json:"correlationId"`
	// CausationID is the ID of the event that caused this one; empty for the
	// first event of a chain.
	CausationID string `json:"causationId,omitempty"`
	// Repo is the repository the event is about, if any.
	Repo *Repo `json:"repo,omitempty"`
	// PR is the pull request number the event is about, if any.
	PR int `json:"pr,omitempty"`
	// Data is the type-specific payload.
	Data json.RawMessage `json:"data"`
}

// Repo names a GitHub repository.
type Repo struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
}

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ParseRepo splits "owner/name".
func ParseRepo(s string) (Repo, error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return Repo{}, fmt.Errorf("repository %q is not of the form owner/name", s)
	}
	return Repo{Owner: owner, Name: name}, nil
}

// Meta carries the envelope fields a publisher sets; New fills in the rest.
type Meta struct {
	ID            string // empty: a random ID
	Source        string
	CorrelationID string
	CausationID   string
	Repo          *Repo
	PR            int
	Time          time.Time // zero: now
}

// Follow returns Meta for an event caused by env: same correlation, repo and
// PR, with env as the cause.
func Follow(env *Envelope, source string) Meta {
	return Meta{
		Source:        source,
		CorrelationID: env.CorrelationID,
		CausationID:   env.ID,
		Repo:          env.Repo,
		PR:            env.PR,
	}
}

// New builds an envelope for payload, which must be one of the registered
// event types.
func New(meta Meta, payload Payload) (*Envelope, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", payload.EventType(), err)
	}
	id := meta.ID
	if id == "" {
		id = RandomID()
	}
	t := meta.Time
	if t.IsZero() {
		t = time.Now()
	}
	return &Envelope{
		ID:            id,
		Type:          payload.EventType(),
		Time:          t.UTC(),
		Source:        meta.Source,
		CorrelationID: meta.CorrelationID,
		CausationID:   meta.CausationID,
		Repo:          meta.Repo,
		PR:            meta.PR,
		Data:          data,
	}, nil
}

// Payload is implemented by every event payload type.
type Payload interface {
	EventType() string
}

// ErrUnknownType is returned when decoding an envelope of an unregistered type.
var ErrUnknownType = errors.New("unknown event type")

// Decode parses an envelope. Fields this version does not know are ignored,
// so a reader keeps working while writers of a newer version add fields
// (a change that old readers cannot ignore is a new type, "….v2"); trailing
// data after the envelope is an error.
func Decode(b []byte) (*Envelope, error) {
	var env Envelope
	if err := unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding envelope: %w", err)
	}
	if env.ID == "" || env.Type == "" {
		return nil, errors.New("decoding envelope: id and type are required")
	}
	return &env, nil
}

// Payload decodes the envelope's data into a new value of its registered
// type, ignoring fields this version does not know.
func (e *Envelope) Payload() (Payload, error) {
	mk, ok := registry[e.Type]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, e.Type)
	}
	p := mk()
	if err := unmarshal(e.Data, p); err != nil {
		return nil, fmt.Errorf("decoding %s payload: %w", e.Type, err)
	}
	return p, nil
}

// DecodeData decodes the envelope's data into p, checking that the type
// matches; fields this version does not know are ignored.
func (e *Envelope) DecodeData(p Payload) error {
	if e.Type != p.EventType() {
		return fmt.Errorf("event is %s, not %s", e.Type, p.EventType())
	}
	if err := unmarshal(e.Data, p); err != nil {
		return fmt.Errorf("decoding %s payload: %w", e.Type, err)
	}
	return nil
}

// Encode returns the envelope's JSON, the same bytes as json.Marshal(e).
// Data is JSON already (New encoded it, Decode checked it) and goes in as it
// is: json.Marshal would scan and compact it once more, which for a
// webhook's delivery costs more than encoding everything else.
func (e *Envelope) Encode() ([]byte, error) {
	head := *e
	head.Data = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, err
	}
	// Data is the last field: b ends with "data":null}.
	const null = "null}"
	if !bytes.HasSuffix(b, []byte(null)) || len(e.Data) == 0 {
		return b, nil
	}
	out := make([]byte, 0, len(b)-len(null)+len(e.Data)+1)
	out = append(out, b[:len(b)-len(null)]...)
	out = append(out, e.Data...)
	return append(out, '}'), nil
}

// unmarshal decodes one JSON value, tolerating unknown fields; anything but
// white space after the value is an error. json.Unmarshal checks the whole
// input before decoding, so a json.Decoder (which copies the input into its
// own buffer and scans it once more) would only add work: every consumer
// decodes every message it reads.
func unmarshal(b []byte, v any) error {
	return json.Unmarshal(b, v)
}

// RandomID returns a random 128-bit identifier in UUID text form.
func RandomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DeriveID returns a deterministic identifier for the given parts, so that the
// same inputs always produce the same event ID (used for idempotency).
func DeriveID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefix each part so ("ab","c") and ("a","bc") differ.
		_, _ = fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
