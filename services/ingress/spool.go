package ingress

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/wal"
)

// errSpoolFull is returned by spool.add when the entry would take the spool
// over its size limit.
var errSpoolFull = errors.New("spool full")

// spooledDelivery is what ingress keeps of a verified delivery it could not
// store on JetStream: enough to store it later exactly as it would have
// been (the headers it keeps, not those it drops, so no credential ever
// reaches the disk).
type spooledDelivery struct {
	DeliveryID string      `json:"delivery_id"`
	Event      string      `json:"event"`
	Headers    http.Header `json:"headers"`
	ReceivedAt time.Time   `json:"received_at"`
	// Head is what ingress read of the payload when it received the
	// delivery, so the drain need not read it again (absent from entries
	// spooled while JetStream was unavailable).
	Head *payloadHead `json:"head,omitempty"`
	Body []byte       `json:"-"`
}

// spoolLayout of one entry: CRC-32C of what follows (4 bytes), length of
// the metadata (4 bytes), the metadata as JSON, the body as sent.
const spoolHeaderLen = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (d *spooledDelivery) encode() ([]byte, error) {
	meta, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, spoolHeaderLen, spoolHeaderLen+len(meta)+len(d.Body))
	binary.BigEndian.PutUint32(buf[4:], uint32(len(meta)))
	buf = append(buf, meta...)
	buf = append(buf, d.Body...)
	binary.BigEndian.PutUint32(buf, crc32.Checksum(buf[4:], castagnoli))
	return buf, nil
}

func decodeSpooled(data []byte) (*spooledDelivery, error) {
	if len(data) < spoolHeaderLen {
		return nil, errors.New("entry shorter than its header")
	}
	if crc32.Checksum(data[4:], castagnoli) != binary.BigEndian.Uint32(data) {
		return nil, errors.New("entry does not match its checksum")
	}
	n := binary.BigEndian.Uint32(data[4:])
	if uint64(n) > uint64(len(data)-spoolHeaderLen) {
		return nil, errors.New("entry metadata longer than the entry")
	}
	var d spooledDelivery
	if err := json.Unmarshal(data[spoolHeaderLen:spoolHeaderLen+n], &d); err != nil {
		return nil, fmt.Errorf("entry metadata: %w", err)
	}
	d.Body = data[spoolHeaderLen+n:]
	return &d, nil
}

// spool is ingress's local, durable queue of deliveries, in its own
// directory. It is a series of generations, each a write-ahead log
// (github.com/tidwall/wal) in a directory of its own: appends go to the
// newest, which gives way to a new one once it holds genBytes; the drain
// stores entries on JetStream oldest first and marks them stored, and a
// generation whose entries are all stored is deleted whole. Nothing is ever
// rewritten, so removing stored entries never holds up an append (cutting
// the front of one log rewrote what remained of its file and fsynced it,
// 3 to 14 ms during which every webhook waited). A restart replays the
// entries of the oldest generation not marked stored; the delivery id lookup
// and the stream's duplicate window drop those stored before.
type spool struct {
	dir  string
	max  int64
	lock *os.File

	// wmu serialises what changes the generations' logs: appends, new
	// generations, reopening after a failed write. It is taken before mu.
	wmu sync.Mutex

	mu      sync.Mutex
	gens    []*generation // oldest first; appends go to the last
	done    uint64        // index in gens[0] of its oldest entry not yet stored
	bytes   int64         // held by every generation
	closed  bool
	full    bool // an add was refused for want of room, nothing removed since
	wake    chan struct{}
	queue   []*spoolWrite // appends waiting for the writer
	queued  int64         // their bytes
	writing bool          // an add is writing the queue
	// released is when a generation was last given up while idle.
	released time.Time

	// onChange, if set, is told the entries waiting to be stored and the
	// bytes held after each change.
	onChange func(entries int, bytes int64)
}

// generation is one write-ahead log of the spool.
type generation struct {
	seq    uint64 // order of the generations; 0 is a log in the spool directory itself
	dir    string
	log    *wal.Log
	first  uint64 // index of its oldest entry
	last   uint64 // index of its newest entry (first-1 when empty)
	bytes  int64
	sealed bool // takes no more appends (a write failed)
}

func (g *generation) entries() int { return int(g.last + 1 - g.first) }

// genBytes is the size at which the newest generation gives way to a new
// one: what stored entries may hold on disk before they are deleted.
const genBytes = 4 << 20

// spoolSegmentSize bounds a log file of a generation.
const spoolSegmentSize = 1 << 20

// spoolWrite is one append waiting for its group's write (and fsync).
type spoolWrite struct {
	data []byte
	sync bool
	err  error
	done chan struct{}
}

// openSpool opens (or creates) the spool in dir, holding dir's lock so that
// no other process uses it, and repairs the tail a crash in the middle of
// an append left torn (that append was never answered).
func openSpool(dir string, maxBytes int64) (*spool, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating spool directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &spool{dir: dir, max: maxBytes, lock: lock, wake: make(chan struct{}, 1)}
	notes, err := s.load()
	if err != nil {
		s.closeLogs()
		_ = lock.Close()
		return nil, nil, err
	}
	return s, notes, nil
}

// genPrefix names a generation's directory: genPrefix and its sequence
// number in 20 digits.
const genPrefix = "g"

// load opens every generation in s.dir, oldest first, with one to append to.
func (s *spool) load() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("reading spool %s: %w", s.dir, err)
	}
	var seqs []uint64
	legacy := false // a log in the directory itself, as the first spool kept it
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && len(name) == len(genPrefix)+20 && strings.HasPrefix(name, genPrefix) {
			if n, err := strconv.ParseUint(name[len(genPrefix):], 10, 64); err == nil && n > 0 {
				seqs = append(seqs, n)
			}
		} else if !e.IsDir() && isSegmentName(name) {
			legacy = true
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if legacy {
		seqs = append([]uint64{0}, seqs...)
	}
	var notes []string
	for _, seq := range seqs {
		g, note, err := s.openGeneration(seq)
		if note != "" {
			notes = append(notes, note)
		}
		if err != nil {
			return notes, err
		}
		s.gens = append(s.gens, g)
		s.bytes += g.bytes
	}
	if len(s.gens) == 0 || s.gens[len(s.gens)-1].seq == 0 {
		// Appends go to a generation of their own, so that the first
		// version's log goes once drained.
		g, _, err := s.openGeneration(1)
		if err != nil {
			return notes, err
		}
		s.gens = append(s.gens, g)
	}
	s.done = s.gens[0].first
	return notes, nil
}

func isSegmentName(name string) bool {
	if len(name) != 20 {
		return false
	}
	_, err := strconv.ParseUint(name, 10, 64)
	return err == nil
}

func (s *spool) genDir(seq uint64) string {
	if seq == 0 {
		return s.dir
	}
	return filepath.Join(s.dir, fmt.Sprintf("%s%020d", genPrefix, seq))
}

// openGeneration opens (or creates) generation seq, cutting a torn tail,
// and counts its entries and bytes.
func (s *spool) openGeneration(seq uint64) (*generation, string, error) {
	g := &generation{seq: seq, dir: s.genDir(seq)}
	// Appends are fsynced by writeQueue when they ask for it.
	opts := &wal.Options{SegmentSize: spoolSegmentSize, AllowEmpty: true, DirPerms: 0o700, FilePerms: 0o600, NoSync: true}
	note := ""
	l, err := wal.Open(g.dir, opts)
	if errors.Is(err, wal.ErrCorrupt) {
		if note, err = repairTail(g.dir); err == nil {
			l, err = wal.Open(g.dir, opts)
		}
	}
	if err != nil {
		return nil, note, fmt.Errorf("opening spool %s: %w", g.dir, err)
	}
	if err := g.count(l); err != nil {
		_ = l.Close()
		return nil, note, err
	}
	g.log = l
	return g, note, nil
}

// count reads the entries of l to know their number and size.
func (g *generation) count(l *wal.Log) error {
	first, err := l.FirstIndex()
	if err != nil {
		return err
	}
	last, err := l.LastIndex()
	if err != nil {
		return err
	}
	// With AllowEmpty an empty log has last = first-1.
	g.bytes = 0
	for i := first; i <= last; i++ {
		data, err := l.Read(i)
		if err != nil {
			return fmt.Errorf("reading spool entry %d of %s: %w", i, g.dir, err)
		}
		g.bytes += int64(len(data))
	}
	g.first, g.last = first, last
	return nil
}

// repairTail cuts the last log file after its last whole entry. The wal's
// binary format is a uvarint length before each entry.
func repairTail(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var segments []string
	for _, e := range entries {
		name := e.Name()
		if len(name) != 20 || e.IsDir() {
			continue
		}
		if _, err := strconv.ParseUint(name, 10, 64); err == nil {
			segments = append(segments, name)
		}
	}
	if len(segments) == 0 {
		return "", wal.ErrCorrupt
	}
	sort.Strings(segments)
	path := filepath.Join(dir, segments[len(segments)-1])
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	good := 0
	for good < len(data) {
		size, n := binary.Uvarint(data[good:])
		if n <= 0 || uint64(len(data)-good-n) < size {
			break
		}
		good += n + int(size)
	}
	if good == len(data) {
		return "", wal.ErrCorrupt // the damage is elsewhere: leave it to the operator
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.Truncate(int64(good)); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return fmt.Sprintf("cut %d bytes of an append a crash interrupted from %s", len(data)-good, path), nil
}

// add appends d and returns once it is written and fsynced;
// errSpoolFull when it would take the spool over its limit. Appends that
// arrive while one is being written wait for it and are then written
// together, with one fsync.
func (s *spool) add(d *spooledDelivery) error { return s.append(d, true) }

// addUnsynced is add without the fsync: the entry is in the operating
// system's hands when it returns, which survives the process (a kill -9)
// but not the machine. It is what the embedded JetStream promises for a
// message it acknowledged (it syncs its files every 2 minutes), so the
// all-in-one server answers after it; an fsync there would wait behind
// JetStream's own writes (up to 100 ms measured on a shared disk).
func (s *spool) addUnsynced(d *spooledDelivery) error { return s.append(d, false) }

func (s *spool) append(d *spooledDelivery, sync bool) error {
	data, err := d.encode()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return wal.ErrClosed
	}
	if s.bytes+s.queued+int64(len(data)) > s.max {
		s.full = true
		s.mu.Unlock()
		return errSpoolFull
	}
	w := &spoolWrite{data: data, sync: sync, done: make(chan struct{})}
	s.queue = append(s.queue, w)
	s.queued += int64(len(data))
	if s.writing {
		s.mu.Unlock()
		<-w.done
		return w.err
	}
	s.writing = true
	for len(s.queue) > 0 && !s.closed {
		s.writeQueue()
	}
	for _, w := range s.queue { // closed meanwhile
		w.err = wal.ErrClosed
		close(w.done)
	}
	s.queue, s.queued, s.writing = nil, 0, false
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return w.err
}

// writeQueue writes the queued appends as one batch to the newest
// generation (a new one first when it is full); s.mu is held on entry and
// on return, not while writing.
func (s *spool) writeQueue() {
	group := s.queue
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	s.wmu.Lock()
	err := s.writeGroup(group)
	s.wmu.Unlock()
	s.mu.Lock()
	for _, w := range group {
		w.err = err
		close(w.done)
	}
}

// writeGroup writes group with wmu held.
func (s *spool) writeGroup(group []*spoolWrite) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return wal.ErrClosed
	}
	g := s.gens[len(s.gens)-1]
	if g.sealed || g.bytes >= genBytes {
		s.mu.Unlock()
		ng, _, err := s.openGeneration(g.seq + 1)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.gens = append(s.gens, ng)
		g = ng
	}
	var b wal.Batch
	size, sync := int64(0), false
	for i, w := range group {
		b.Write(g.last+1+uint64(i), w.data)
		size += int64(len(w.data))
		sync = sync || w.sync
	}
	s.mu.Unlock()
	err := g.log.WriteBatch(&b)
	if err == nil && sync {
		err = g.log.Sync()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// The wal keeps a failed entry in memory: read the log again from
		// what reached the disk, and append to a new generation next.
		if rerr := s.reopen(g); rerr != nil {
			return fmt.Errorf("%w; reopening the spool: %w", err, rerr)
		}
		return err
	}
	g.last += uint64(len(group))
	g.bytes += size
	s.bytes += size
	s.changed()
	return nil
}

// reopen reads generation g again after a failed write, with wmu and mu
// held; g takes no more appends. If it cannot, the spool closes.
func (s *spool) reopen(g *generation) error {
	_ = g.log.Close()
	fresh, _, err := s.openGeneration(g.seq)
	if err != nil {
		s.closed = true
		s.closeLogs()
		_ = s.lock.Close()
		return err
	}
	s.bytes += fresh.bytes - g.bytes
	g.log, g.first, g.last, g.bytes, g.sealed = fresh.log, fresh.first, fresh.last, fresh.bytes, true
	if g == s.gens[0] {
		s.done = min(max(s.done, g.first), g.last+1)
	}
	s.changed()
	return nil
}

// spoolEntry is an entry waiting to be stored: its delivery, or the error
// that makes it unreadable.
type spoolEntry struct {
	gen   *generation
	index uint64
	d     *spooledDelivery
	err   error
}

// pending returns up to n entries not yet stored, oldest first. It reads
// them without holding the spool's lock, so appends go on meanwhile.
func (s *spool) pending(n int) []spoolEntry {
	type span struct {
		g        *generation
		l        *wal.Log
		from, to uint64
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	var spans []span
	from := s.done
	for _, g := range s.gens {
		if n == 0 {
			break
		}
		if g != s.gens[0] {
			from = g.first
		}
		if from > g.last {
			continue
		}
		to := min(g.last, from+uint64(n)-1)
		spans = append(spans, span{g, g.log, from, to})
		n -= int(to - from + 1)
	}
	s.mu.Unlock()
	var out []spoolEntry
	for _, sp := range spans {
		for i := sp.from; i <= sp.to; i++ {
			e := spoolEntry{gen: sp.g, index: i}
			var data []byte
			if data, e.err = sp.l.Read(i); e.err == nil {
				e.d, e.err = decodeSpooled(data)
			}
			out = append(out, e)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range spans {
		if s.closed || sp.g.log != sp.l {
			return nil // reopened meanwhile (a failed write): read again
		}
	}
	return out
}

// markStored records that every entry up to e is stored (or dropped), and
// deletes the generations that holds only such entries, but the newest.
func (s *spool) markStored(e spoolEntry) {
	s.mu.Lock()
	var gone []*generation
	for len(s.gens) > 1 && s.gens[0] != e.gen {
		gone = append(gone, s.gens[0])
		s.gens = s.gens[1:]
		s.done = s.gens[0].first
	}
	if s.gens[0] == e.gen && e.index+1 > s.done {
		s.done = min(e.index+1, e.gen.last+1)
	}
	if len(s.gens) > 1 && s.done == s.gens[0].last+1 {
		gone = append(gone, s.gens[0])
		s.gens = s.gens[1:]
		s.done = s.gens[0].first
	}
	s.forget(gone)
	s.changed()
	s.mu.Unlock()
	s.remove(gone)
}

// forget takes gone's bytes off the count, with mu held.
func (s *spool) forget(gone []*generation) {
	for _, g := range gone {
		s.bytes -= g.bytes
	}
	if len(gone) > 0 {
		s.full = false
	}
}

// remove deletes generations whose entries are all stored.
func (s *spool) remove(gone []*generation) {
	for _, g := range gone {
		_ = g.log.Close()
		if g.seq != 0 {
			_ = os.RemoveAll(g.dir)
			continue
		}
		// The log in the spool directory itself: its files only.
		entries, _ := os.ReadDir(g.dir)
		for _, e := range entries {
			if name := e.Name(); !e.IsDir() && len(name) >= 20 && isSegmentName(name[:20]) {
				_ = os.Remove(filepath.Join(g.dir, name))
			}
		}
	}
}

// releaseEvery bounds how often an idle spool gives up a generation whose
// entries are all stored to start an empty one.
const releaseEvery = 250 * time.Millisecond

// release deletes the stored entries of the newest generation when nothing
// waits to be stored (at most every releaseEvery, unless force): a new,
// empty generation takes the appends, and the old one goes.
func (s *spool) release(force bool) error {
	s.wmu.Lock()
	s.mu.Lock()
	// Older generations with nothing left to store (an empty one a restart
	// found) go first.
	var gone []*generation
	for !s.closed && len(s.gens) > 1 && s.done == s.gens[0].last+1 {
		gone = append(gone, s.gens[0])
		s.gens = s.gens[1:]
		s.done = s.gens[0].first
	}
	if len(gone) > 0 {
		s.forget(gone)
		s.changed()
		defer s.remove(gone)
	}
	g := s.gens[len(s.gens)-1]
	if s.closed || len(s.gens) > 1 || s.done != g.last+1 || g.entries() == 0 ||
		(!force && time.Since(s.released) < releaseEvery) {
		s.mu.Unlock()
		s.wmu.Unlock()
		return nil
	}
	s.mu.Unlock()
	ng, _, err := s.openGeneration(g.seq + 1)
	if err != nil {
		s.wmu.Unlock()
		return err
	}
	s.mu.Lock()
	s.gens = []*generation{ng}
	s.done = ng.first
	s.released = time.Now()
	s.forget([]*generation{g})
	s.changed()
	s.mu.Unlock()
	s.wmu.Unlock()
	s.remove([]*generation{g})
	return nil
}

// storedLeft reports whether entries already stored are still on disk.
func (s *spool) storedLeft() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && (len(s.gens) > 1 || s.done > s.gens[0].first)
}

// usage returns the entries waiting to be stored and the bytes held.
func (s *spool) usage() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting(), s.bytes
}

func (s *spool) waiting() int {
	if s.closed {
		return 0
	}
	n := -int(s.done - s.gens[0].first)
	for _, g := range s.gens {
		n += g.entries()
	}
	return n
}

// hasRoom reports whether the spool is open and has not refused a delivery
// for want of room since it last freed some.
func (s *spool) hasRoom() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && !s.full && s.bytes < s.max
}

func (s *spool) changed() {
	if s.onChange != nil {
		s.onChange(s.waiting(), s.bytes)
	}
}

func (s *spool) closeLogs() {
	for _, g := range s.gens {
		_ = g.log.Close()
	}
}

func (s *spool) close() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.closeLogs()
	_ = s.lock.Close()
}
