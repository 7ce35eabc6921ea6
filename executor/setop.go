package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// SetOpKind is INTERSECT or EXCEPT.
type SetOpKind uint8

const (
	SetIntersect SetOpKind = iota
	SetExcept
)

// SetOp is INTERSECT [ALL] / EXCEPT [ALL] of port 0 (left) and port 1
// (right). It keeps the multiplicity of each row on each side and, at
// Flush, emits the change of each touched row's output multiplicity:
// INTERSECT ALL min(l, r), INTERSECT min(l, r) > 0 ? 1 : 0, EXCEPT ALL
// max(l - r, 0), EXCEPT l > 0 && r == 0 ? 1 : 0.
type SetOp struct {
	emitter
	kind  SetOpKind
	all   bool
	rows  map[string]*setEntry
	dirty []*setEntry
	buf   []byte
	// unsaved: entries changed since the last SaveDirty.
	unsaved []*setEntry
	saveBuf []byte
	track   bool
	stateCache
}

type setEntry struct {
	key     string
	row     types.Row
	n       [2]int64
	emitted int64
	size    int32 // bytes accounted in the state cache
	dirty   bool
	unsaved bool
	hot     bool
}

func (e *setEntry) clean() bool { return !e.dirty && !e.unsaved }

func (e *setEntry) takeHot() bool {
	h := e.hot
	e.hot = false
	return h
}

// NewSetOp returns an INTERSECT or EXCEPT operator.
func NewSetOp(kind SetOpKind, all bool) *SetOp {
	return &SetOp{kind: kind, all: all, rows: map[string]*setEntry{}}
}

// Push implements Operator.
func (s *SetOp) Push(_ context.Context, port int, b *Batch) error {
	for i, r := range b.Rows {
		s.buf = appendRowKey(s.buf[:0], r)
		e, err := s.entry(s.buf, r)
		if err != nil {
			return err
		}
		e.hot = true
		e.n[port] += b.Weights[i]
		if !e.dirty {
			e.dirty = true
			s.dirty = append(s.dirty, e)
		}
	}
	return nil
}

// entry returns the entry of key (r is its row), reading it back from
// storage if it is not in memory, creating it if it does not exist.
func (s *SetOp) entry(key []byte, r types.Row) (*setEntry, error) {
	if e := s.rows[string(key)]; e != nil {
		return e, nil
	}
	if s.mustRead() {
		var e *setEntry
		found, err := s.reader.GetState(key, func(v []byte) error {
			var err error
			e, err = decodeSetEntry(key, v)
			return err
		})
		if err != nil {
			return nil, err
		}
		if found {
			s.cache(e)
			return e, nil
		}
	}
	e := &setEntry{key: string(key), row: r}
	s.cache(e)
	return e, nil
}

func (s *SetOp) cache(e *setEntry) {
	e.size = int32(entryOverhead + int64(len(e.key)) + approxRowBytes(e.row))
	s.cached += int64(e.size)
	s.rows[e.key] = e
}

func (s *SetOp) target(e *setEntry) int64 {
	l, r := max(e.n[0], 0), max(e.n[1], 0)
	var t int64
	if s.kind == SetIntersect {
		t = min(l, r)
	} else {
		t = max(l-r, 0)
		if !s.all && r > 0 {
			t = 0
		}
	}
	if !s.all && t > 0 {
		t = 1
	}
	return t
}

// Flush implements Operator.
func (s *SetOp) Flush(ctx context.Context) error {
	for _, e := range s.dirty {
		e.dirty = false
		if s.track && !e.unsaved {
			e.unsaved = true
			s.unsaved = append(s.unsaved, e)
		}
		t := s.target(e)
		if t != e.emitted {
			if err := s.send(ctx, e.row, t-e.emitted); err != nil {
				return err
			}
			e.emitted = t
		}
		if e.n[0] == 0 && e.n[1] == 0 {
			s.cached -= int64(e.size)
			delete(s.rows, e.key)
		}
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return s.drain(ctx)
}

// SaveDirty implements Stateful. Key: the row's key bytes. Value: the row,
// its count on each side, its emitted multiplicity.
func (s *SetOp) SaveDirty(put func(key, value []byte) error) error {
	for _, e := range s.unsaved {
		e.unsaved = false
		cur := s.rows[e.key]
		if cur != nil && cur != e {
			continue
		}
		var v []byte
		if cur != nil {
			v = appendStateRow(s.saveBuf[:0], e.row)
			v = appendStateInt(appendStateInt(appendStateInt(v, e.n[0]), e.n[1]), e.emitted)
			s.saveBuf = v
		}
		s.buf = append(s.buf[:0], e.key...)
		if err := put(s.buf, v); err != nil {
			return err
		}
	}
	clear(s.unsaved)
	s.unsaved = s.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (s *SetOp) Restore(key, value []byte) error {
	e, err := decodeSetEntry(key, value)
	if err != nil {
		return err
	}
	s.cache(e)
	return nil
}

func decodeSetEntry(key, value []byte) (*setEntry, error) {
	r := stateReader{b: value}
	e := &setEntry{key: string(key), row: r.row()}
	e.n[0], e.n[1], e.emitted = r.int(), r.int(), r.int()
	return e, r.done()
}

// AttachState implements CachedState.
func (s *SetOp) AttachState(r StateReader, complete bool) { s.attach(r, complete) }

// Evict implements CachedState.
func (s *SetOp) Evict(target int64) {
	sweep(&s.stateCache, s.rows, target, func(e *setEntry) int64 { return int64(e.size) })
}

func (s *SetOp) String() string {
	n := "Intersect"
	if s.kind == SetExcept {
		n = "Except"
	}
	if s.all {
		n += " All"
	}
	return n
}
