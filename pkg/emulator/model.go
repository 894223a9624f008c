package emulator

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

type hash = gitstore.Hash

type user struct {
	ID    int64
	Login string
	Type  string // User, Bot or Organization
}

type userDir struct {
	mu      sync.Mutex
	byLogin map[string]*user
	nextID  int64
}

func newUserDir() *userDir { return &userDir{byLogin: map[string]*user{}, nextID: 100} }

// get returns the user called login, creating it on first use.
func (d *userDir) get(login string) *user { return d.getAs(login, "") }

// getAs is get with the type given to a user created now (default: User, or Bot for
// "[bot]" logins). A user's type never changes afterwards.
func (d *userDir) getAs(login, typ string) *user {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := strings.ToLower(login)
	if u, ok := d.byLogin[key]; ok {
		return u
	}
	d.nextID++
	switch {
	case typ != "":
	case strings.HasSuffix(login, "[bot]"):
		typ = "Bot"
	default:
		typ = "User"
	}
	u := &user{ID: d.nextID, Login: login, Type: typ}
	d.byLogin[key] = u
	return u
}

func (d *userDir) find(login string) (*user, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.byLogin[strings.ToLower(login)]
	return u, ok
}

// repo is one repository and everything GitHub keeps around it. mu guards all fields
// except the immutable ones (id, owner, name, git, createdAt).
type repo struct {
	mu        sync.RWMutex
	id        int64
	owner     *user
	name      string
	git       *gitstore.Store
	createdAt time.Time

	defaultBranch string
	pushedAt      time.Time
	nextNumber    int
	issues        map[int]*issue
	comments      map[int64]*comment
	labels        map[string]*label // by lower-case name
	statuses      map[hash][]*status
	verified      map[hash]bool // commits GitHub would show as verified
	seen          map[hash]bool // commits that have been on some ref
	files         *gitstore.LRU[[2]hash, []prFile]
	// permissions are the collaborators' roles set with SetPermission, by
	// lower-case login; anyone else has write access (admin for the owner).
	permissions map[string]string
}

func (r *repo) fullName() string { return r.owner.Login + "/" + r.name }

type issue struct {
	number    int
	id        int64
	title     string
	body      string
	user      *user
	state     string // open or closed
	labels    []*label
	assignees []*user
	comments  []*comment
	createdAt time.Time
	updatedAt time.Time
	closedAt  *time.Time
	closedBy  *user
	pr        *pull
}

type pull struct {
	id        int64
	headRef   string
	baseRef   string
	headSHA   hash
	baseSHA   hash // base branch head when the PR was last updated or closed
	draft     bool
	merged    bool
	mergedAt  *time.Time
	mergedBy  *user
	mergeSHA  hash
	diffBase  hash // merge base kept when the PR closes
	reviews   []*review
	mergeable mergeability
}

// mergeability caches whether head merges cleanly into base for one pair of SHAs.
type mergeability struct {
	base, head hash
	known      bool
	clean      bool
}

type comment struct {
	id        int64
	issue     int
	user      *user
	body      string
	createdAt time.Time
	updatedAt time.Time
	minimized string // GraphQL minimizedReason; empty when not minimized
}

type review struct {
	id          int64
	user        *user
	body        string
	state       string
	commitID    hash
	submittedAt time.Time
}

type label struct {
	id          int64
	name        string
	color       string
	description string
}

type status struct {
	id          int64
	state       string
	targetURL   string
	description string
	context     string
	creator     *user
	createdAt   time.Time
	updatedAt   time.Time
}

// Node IDs are opaque to clients; ours encode the object kind and ids so GraphQL can find
// the object again.
func nodeID(prefix string, ids ...int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return prefix + "_" + base64.RawURLEncoding.EncodeToString([]byte("emu:"+strings.Join(parts, ":")))
}

func parseNodeID(id string) (prefix string, ids []int64, err error) {
	prefix, enc, ok := strings.Cut(id, "_")
	if !ok {
		return "", nil, fmt.Errorf("malformed node id %q", id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !strings.HasPrefix(string(raw), "emu:") {
		return "", nil, fmt.Errorf("malformed node id %q", id)
	}
	for _, p := range strings.Split(strings.TrimPrefix(string(raw), "emu:"), ":") {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("malformed node id %q", id)
		}
		ids = append(ids, n)
	}
	return prefix, ids, nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
