package executor

import (
	"context"
	"encoding/binary"

	"github.com/weirdb/weir/sql/types"
)

// TopN keeps, per partition (DISTINCT ON keys; none for a plain
// ORDER BY ... LIMIT), the rows ranked Offset+1 .. Offset+Limit by Keys
// (Limit < 0: no limit). It holds the multiset of every partition's rows,
// in rank order, so that a retraction of a top row brings the next one in.
// At Flush each changed partition takes its first Offset+Limit rows (not
// a sort of the partition: what an epoch costs depends on the change and
// on Offset+Limit, not on the partition's size) and emits the difference
// from what it emitted before. Ties are broken by the whole row's key
// bytes, so the choice is deterministic.
type TopN struct {
	emitter
	partition []int
	keys      []SortKey
	offset    int64
	limit     int64
	parts     map[string]*topPart
	dirty     []*topPart
	buf       []byte
	desc      string
	unsaved   []*topEntry
	saveBuf   []byte
	track     bool
	cmp       func(a, b *topEntry) int // rank order
}

type topPart struct {
	key   string
	rows  map[string]*topEntry
	order orderedChunks[*topEntry] // rows in rank order
	out   map[string]*topEntry     // emitted rows with their multiplicity
	dirty bool
}

type topEntry struct {
	row types.Row
	n   int64
	key string // the row's key bytes (rows map entries only)
	// unsaved: changed since the last SaveDirty; part is its partition
	// then.
	unsaved bool
	part    *topPart
}

// NewTopN returns a top-N operator; desc is for String.
func NewTopN(partition []int, keys []SortKey, offset, limit int64, desc string) *TopN {
	t := &TopN{partition: partition, keys: keys, offset: offset, limit: limit, parts: map[string]*topPart{}, desc: desc}
	t.cmp = func(a, b *topEntry) int {
		if c := CompareRows(a.row, b.row, t.keys); c != 0 {
			return c
		}
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	}
	return t
}

// index adds e to p's rows.
func (t *TopN) index(p *topPart, e *topEntry) {
	p.rows[e.key] = e
	ci, i, _ := p.order.locate(e, t.cmp)
	p.order.insertAt(ci, i, e)
}

// unindex removes e from p's rows.
func (t *TopN) unindex(p *topPart, e *topEntry) {
	delete(p.rows, e.key)
	if ci, i, found := p.order.locate(e, t.cmp); found {
		p.order.deleteAt(ci, i)
	}
}

// Push implements Operator.
func (t *TopN) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		t.buf = appendColsKey(t.buf[:0], r, t.partition)
		p := t.parts[string(t.buf)]
		if p == nil {
			p = t.newPart(string(t.buf))
		}
		t.buf = appendRowKey(t.buf[:0], r)
		e := p.rows[string(t.buf)]
		if e == nil {
			e = &topEntry{row: r, key: string(t.buf)}
			t.index(p, e)
		}
		e.n += b.Weights[i]
		if e.n == 0 {
			t.unindex(p, e)
		}
		if t.track && !e.unsaved {
			e.unsaved, e.part = true, p
			t.unsaved = append(t.unsaved, e)
		}
		if !p.dirty {
			p.dirty = true
			t.dirty = append(t.dirty, p)
		}
	}
	return nil
}

func (t *TopN) newPart(key string) *topPart {
	p := &topPart{key: key, rows: map[string]*topEntry{}, out: map[string]*topEntry{}}
	t.parts[key] = p
	return p
}

// rank returns the rows p should emit, by row key, with their
// multiplicities.
func (t *TopN) rank(p *topPart) map[string]*topEntry {
	want := map[string]*topEntry{}
	skip, take := t.offset, t.limit
	for _, c := range p.order.chunks {
		for _, e := range c {
			if take == 0 {
				return want
			}
			n := e.n
			if n <= 0 {
				continue // retracted before it was inserted
			}
			if skip > 0 {
				d := min(skip, n)
				skip -= d
				n -= d
			}
			if take >= 0 {
				n = min(n, take)
				take -= n
			}
			if n > 0 {
				want[e.key] = &topEntry{row: e.row, n: n}
			}
		}
	}
	return want
}

// Flush implements Operator.
func (t *TopN) Flush(ctx context.Context) error {
	for _, p := range t.dirty {
		p.dirty = false
		want := t.rank(p)
		for k, o := range p.out {
			if w := want[k]; w == nil || w.n != o.n {
				if err := t.send(ctx, o.row, -o.n); err != nil {
					return err
				}
			}
		}
		for k, w := range want {
			if o := p.out[k]; o == nil || o.n != w.n {
				if err := t.send(ctx, w.row, w.n); err != nil {
					return err
				}
			}
		}
		p.out = want
		if len(p.rows) == 0 {
			delete(t.parts, p.key)
		}
	}
	clear(t.dirty)
	t.dirty = t.dirty[:0]
	return t.drain(ctx)
}

// SaveDirty implements Stateful. One entry per distinct row: key the
// partition key's length (uvarint), the partition key and the row's key
// bytes; value the row and its count. What a partition emits is derived
// from its rows (FinishRestore).
func (t *TopN) SaveDirty(put func(key, value []byte) error) error {
	for _, e := range t.unsaved {
		e.unsaved = false
		var cur *topEntry
		if p := t.parts[e.part.key]; p != nil {
			cur = p.rows[e.key]
		}
		if cur != nil && cur != e {
			continue
		}
		var v []byte
		if cur != nil {
			v = appendStateInt(appendStateRow(t.saveBuf[:0], e.row), e.n)
			t.saveBuf = v
		}
		t.buf = binary.AppendUvarint(t.buf[:0], uint64(len(e.part.key)))
		t.buf = append(append(t.buf, e.part.key...), e.key...)
		e.part = nil
		if err := put(t.buf, v); err != nil {
			return err
		}
	}
	clear(t.unsaved)
	t.unsaved = t.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (t *TopN) Restore(key, value []byte) error {
	pl, k := binary.Uvarint(key)
	if k <= 0 || pl > uint64(len(key)-k) {
		return errStateCorrupt
	}
	pk, rk := key[k:k+int(pl)], key[k+int(pl):]
	r := stateReader{b: value}
	e := &topEntry{row: r.row(), n: r.int(), key: string(rk)}
	if err := r.done(); err != nil {
		return err
	}
	p := t.parts[string(pk)]
	if p == nil {
		p = t.newPart(string(pk))
	}
	t.index(p, e)
	return nil
}

// FinishRestore implements RestoreFinisher: each partition's emitted rows
// are its current ranking.
func (t *TopN) FinishRestore() error {
	for _, p := range t.parts {
		p.out = t.rank(p)
	}
	return nil
}

func (t *TopN) String() string { return "TopN " + t.desc }
