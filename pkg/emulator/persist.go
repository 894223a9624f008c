package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// persister keeps repositories under DataDir: git objects in git/<owner>/<name>.git and
// the rest of each repository's state in state/<owner>/<name>.json, written shortly after
// every change and on Close.
type persister struct {
	e     *Emulator
	dir   string
	mu    sync.Mutex
	dirty map[*repo]bool
	stop  chan struct{}
	done  chan struct{}
}

type globalState struct {
	NextID        int64               `json:"next_id"`
	Users         []userState         `json:"users"`
	Installations []installationState `json:"installations"`
}

type userState struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Type  string `json:"type"`
}

type installationState struct {
	ID    int64  `json:"id"`
	AppID int64  `json:"app_id"`
	Owner string `json:"owner"`
}

func (p *persister) globalSnapshot() globalState {
	g := globalState{NextID: p.e.ids.Load()}
	p.e.users.mu.Lock()
	for _, u := range p.e.users.byLogin {
		g.Users = append(g.Users, userState{u.ID, u.Login, u.Type})
	}
	p.e.users.mu.Unlock()
	p.e.auth.mu.RLock()
	for _, in := range p.e.auth.insts {
		g.Installations = append(g.Installations, installationState{in.ID, in.app.ID, in.account.Login})
	}
	p.e.auth.mu.RUnlock()
	return g
}

// restoreGlobal brings back users and installations with their ids.
func (p *persister) restoreGlobal(g globalState) {
	d := p.e.users
	d.mu.Lock()
	for _, u := range g.Users {
		d.byLogin[lowerKey(u.Login)] = &user{ID: u.ID, Login: u.Login, Type: u.Type}
		d.nextID = max(d.nextID, u.ID)
	}
	d.mu.Unlock()
	a := p.e.auth
	for _, is := range g.Installations {
		app, ok := a.apps[is.AppID]
		if !ok {
			continue
		}
		owner := p.e.users.get(is.Owner)
		in := &installation{ID: is.ID, app: app, account: owner, createdAt: now()}
		a.mu.Lock()
		a.insts[in.ID] = in
		a.byOwner[strconv.FormatInt(app.ID, 10)+"/"+lowerKey(owner.Login)] = in
		a.mu.Unlock()
	}
}

func lowerKey(s string) string { return strings.ToLower(s) }

func newPersister(e *Emulator, dir string) (*persister, error) {
	p := &persister{e: e, dir: dir, dirty: map[*repo]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	go p.loop()
	return p, nil
}

func (p *persister) gitDir(owner, name string) string {
	return filepath.Join(p.dir, "git", owner, name+".git")
}

func (p *persister) statePath(owner, name string) string {
	return filepath.Join(p.dir, "state", owner, name+".json")
}

func (p *persister) load() error {
	var g globalState
	if data, err := os.ReadFile(filepath.Join(p.dir, "emulator.json")); err == nil {
		if err := json.Unmarshal(data, &g); err != nil {
			return fmt.Errorf("reading %s: %w", filepath.Join(p.dir, "emulator.json"), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading emulator state: %w", err)
	}
	p.restoreGlobal(g)
	files, err := filepath.Glob(filepath.Join(p.dir, "state", "*", "*.json"))
	if err != nil {
		return fmt.Errorf("listing saved repositories: %w", err)
	}
	maxID := g.NextID
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		var st repoState
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding %s: %w", f, err)
		}
		store, err := gitstore.OpenDir(p.gitDir(st.Owner, st.Name), st.DefaultBranch)
		if err != nil {
			return fmt.Errorf("opening git repository of %s/%s: %w", st.Owner, st.Name, err)
		}
		r := p.e.restore(st, store)
		p.e.repos[lowerKey(r.fullName())] = r
		for _, app := range p.e.auth.appOrder {
			p.e.auth.installationFor(app, r.owner)
		}
		maxID = max(maxID, st.ID)
	}
	if maxID > p.e.ids.Load() {
		p.e.ids.Store(maxID)
	}
	return nil
}

func (p *persister) markDirty(r *repo) {
	p.mu.Lock()
	p.dirty[r] = true
	p.mu.Unlock()
}

func (p *persister) loop() {
	defer close(p.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			if err := p.flush(); err != nil {
				p.e.log.Error("saving emulator state", "error", err)
			}
		}
	}
}

func (p *persister) flush() error {
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[*repo]bool{}
	p.mu.Unlock()
	for r := range dirty {
		r.mu.RLock()
		st := snapshot(r)
		r.mu.RUnlock()
		if err := writeJSONFile(p.statePath(st.Owner, st.Name), st); err != nil {
			return err
		}
	}
	if len(dirty) > 0 {
		return writeJSONFile(filepath.Join(p.dir, "emulator.json"), p.globalSnapshot())
	}
	return nil
}

func (p *persister) saveAll() error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
		<-p.done
	}
	for _, r := range p.e.allRepos() {
		p.markDirty(r)
	}
	return p.flush()
}

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

// changed notes that r's state must be saved (with a data directory).
func (e *Emulator) changed(r *repo) {
	if e.persist != nil {
		e.persist.markDirty(r)
	}
}
