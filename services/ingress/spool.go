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
	Body       []byte      `json:"-"`
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

// spool is ingress's local, durable queue of deliveries accepted while
// JetStream could not store them: a write-ahead log (github.com/tidwall/wal)
// in its own directory, every append written and fsynced before ingress
// answers. An entry leaves the log only once JetStream has acknowledged it.
type spool struct {
	dir  string
	max  int64
	lock *os.File

	mu     sync.Mutex
	log    *wal.Log
	first  uint64  // index of sizes[0]
	sizes  []int64 // size of each entry in the log, oldest first
	bytes  int64
	closed bool
	full   bool // an add was refused for want of room, nothing removed since
	wake   chan struct{}

	// onChange, if set, is told the entries and bytes after each change.
	onChange func(entries int, bytes int64)
}

// spoolSegmentSize bounds a log file. Removing the oldest entry rewrites
// the rest of its file, so files are kept small; a larger delivery gets a
// file of its own.
const spoolSegmentSize = 1 << 20

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
		_ = lock.Close()
		return nil, nil, err
	}
	return s, notes, nil
}

// load opens the log in s.dir, cutting a torn tail, and counts its entries.
func (s *spool) load() ([]string, error) {
	var notes []string
	opts := &wal.Options{SegmentSize: spoolSegmentSize, AllowEmpty: true, DirPerms: 0o700, FilePerms: 0o600}
	l, err := wal.Open(s.dir, opts)
	if errors.Is(err, wal.ErrCorrupt) {
		var note string
		if note, err = repairTail(s.dir); err == nil {
			notes = append(notes, note)
			l, err = wal.Open(s.dir, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", s.dir, err)
	}
	first, err := l.FirstIndex()
	if err == nil {
		var last uint64
		last, err = l.LastIndex()
		s.sizes, s.bytes = nil, 0
		for i := first; err == nil && i <= last; i++ {
			var data []byte
			if data, err = l.Read(i); err != nil {
				err = fmt.Errorf("reading spool entry %d: %w", i, err)
				break
			}
			s.sizes = append(s.sizes, int64(len(data)))
			s.bytes += int64(len(data))
		}
	}
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	s.log, s.first = l, first
	return notes, nil
}

// reload reopens the log after a failed write (a full disk): the wal keeps
// a failed entry in memory, so it is read again from what reached the disk.
func (s *spool) reload() error {
	_ = s.log.Close()
	_, err := s.load()
	if err != nil {
		s.closed = true
		_ = s.lock.Close()
		return err
	}
	s.changed()
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

// add appends d, fsynced, and returns the entry's index; errSpoolFull when
// it would take the spool over its limit.
func (s *spool) add(d *spooledDelivery) error {
	data, err := d.encode()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return wal.ErrClosed
	}
	if s.bytes+int64(len(data)) > s.max {
		s.full = true
		return errSpoolFull
	}
	index := s.first + uint64(len(s.sizes))
	if err := s.log.Write(index, data); err != nil {
		if rerr := s.reload(); rerr != nil {
			return fmt.Errorf("%w; reopening the spool: %w", err, rerr)
		}
		return err
	}
	s.sizes = append(s.sizes, int64(len(data)))
	s.bytes += int64(len(data))
	s.changed()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// oldest returns the oldest entry and its index; ok is false when the spool
// is empty. A damaged entry comes back as err with its index, to be removed.
func (s *spool) oldest() (index uint64, d *spooledDelivery, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.sizes) == 0 {
		return 0, nil, false, nil
	}
	data, err := s.log.Read(s.first)
	if err != nil {
		return s.first, nil, true, err
	}
	d, err = decodeSpooled(data)
	return s.first, d, true, err
}

// remove drops the entry at index, which must be the oldest.
func (s *spool) remove(index uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return wal.ErrClosed
	}
	if index < s.first {
		return nil // gone already (a reload found it removed)
	}
	if len(s.sizes) == 0 || index != s.first {
		return fmt.Errorf("spool entry %d is not the oldest", index)
	}
	if err := s.log.TruncateFront(index + 1); err != nil {
		if rerr := s.reload(); rerr != nil {
			return fmt.Errorf("%w; reopening the spool: %w", err, rerr)
		}
		return err
	}
	s.bytes -= s.sizes[0]
	s.sizes = s.sizes[1:]
	s.full = false
	s.first++
	s.changed()
	return nil
}

// usage returns the entries and bytes held.
func (s *spool) usage() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sizes), s.bytes
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
		s.onChange(len(s.sizes), s.bytes)
	}
}

func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	_ = s.log.Close()
	_ = s.lock.Close()
}
