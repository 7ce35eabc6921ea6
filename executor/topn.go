package executor

import (
	"context"
	"encoding/binary"

	"github.com/weirdb/weir/sql/types"
)

// TopN keeps, per partition (DISTINCT ON keys, a window's PARTITION BY;
// none for a plain ORDER BY ... LIMIT), the rows ranked Offset+1 ..
// Offset+Limit by Keys (Limit < 0: no limit). It holds the multiset of
// every partition's rows, in rank order, so that a retraction of a top row
// brings the next one in. At Flush each changed partition takes its first
// Offset+Limit rows (not a sort of the partition: what an epoch costs
// depends on the change and on Offset+Limit, not on the partition's size)
// and emits the difference from what it emitted before. Ties are broken by
// the whole row's key bytes, so the choice is deterministic.
//
// Built by NewWindow, it computes window functions: each row it emits is
// extended with their values over its partition. With a limit (the
// top-N per group of WHERE row_number() <= N, only functions exact over a
// partition's first rows), it keeps only the first rows as above. Without
// one it emits every row, and each changed partition recomputes every
// row's values at Flush, emitting only the rows whose values changed:
// O(partition) per changed partition per epoch, which is what a rank that
// shifts every later row needs.
type TopN struct {
	emitter
	partition []int
	keys      []SortKey
	offset    int64
	limit     int64
	cut       TopCut
	parts     map[string]*topPart
	dirty     []*topPart
	buf       []byte
	desc      string
	unsaved   []*topEntry
	saveBuf   []byte
	track     bool
	cmp       func(a, b *topEntry) int // rank order
	// win computes the window functions (NewWindow), nil for a plain
	// top-N. whole: every row is emitted (no limit), each entry keeping
	// the values it was emitted with. appendOnly: the graph runs once,
	// so nothing emitted needs remembering.
	win        *windowEval
	whole      bool
	appendOnly bool
	// scratch of a window's Flush; slab: room for the rows it emits
	rows []types.Row
	slab []types.Datum
	ents []*topEntry
	gone []*topEntry
}

// TopCut is what a top-N's limit counts.
type TopCut uint8

const (
	// CutRows: the first Limit rows (ORDER BY ... LIMIT, row_number() <= N).
	CutRows TopCut = iota
	// CutRank: the rows ranked Limit or better, ties included (rank() <= N).
	CutRank
	// CutDenseRank: the rows of the first Limit peer groups
	// (dense_rank() <= N).
	CutDenseRank
)

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
	// vals are a window's values of the emitted copies, k per copy: in
	// out entries, and in rows entries of a whole-partition window.
	vals []types.Datum
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

// NewWindow returns a TopN that computes funcs over the partitions of
// partition, in the order of keys: every input row is emitted extended by
// the functions' values. With limit >= 0 (every function PrefixExact)
// only the rows within limit by cut are kept and emitted. desc is for
// String.
func NewWindow(partition []int, keys []SortKey, funcs []WindowFunc, limit int64, cut TopCut, desc string) *TopN {
	t := NewTopN(partition, keys, 0, limit, desc)
	t.cut = cut
	if len(funcs) > 0 {
		t.win = newWindowEval(funcs, keys)
		t.whole = limit < 0
	}
	return t
}

func (t *TopN) setAppendOnly() { t.appendOnly = true }

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
		if e.n == 0 && len(e.vals) == 0 {
			// (a whole window keeps an emitted row until Flush retracts
			// what it emitted)
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
// multiplicities (and a window's values).
func (t *TopN) rank(p *topPart) (map[string]*topEntry, error) {
	want := map[string]*topEntry{}
	skip, take := t.offset, t.limit
	var last *topEntry                  // the last row taken
	count, groups := int64(0), int64(0) // rows and peer groups taken
	rows := t.rows[:0]
	var taken []*topEntry
walk:
	for _, c := range p.order.chunks {
		for _, e := range c {
			n := e.n
			if n <= 0 {
				continue // retracted before it was inserted
			}
			peer := t.cut != CutRows && last != nil && CompareRows(last.row, e.row, t.keys) == 0
			switch t.cut {
			case CutRows:
				if take == 0 {
					break walk
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
			case CutRank:
				// e's rank is that of the last row taken, or one past
				// every row taken
				if take >= 0 && !peer && count >= take {
					break walk
				}
			case CutDenseRank:
				if !peer {
					groups++
				}
				if take >= 0 && groups > take {
					break walk
				}
			}
			if n > 0 {
				w := &topEntry{row: e.row, n: n}
				want[e.key] = w
				last = e
				count += n
				if t.win != nil {
					taken = append(taken, w)
					for range n {
						rows = append(rows, e.row)
					}
				}
			}
		}
	}
	t.rows = rows
	if t.win == nil || len(rows) == 0 {
		return want, nil
	}
	k := len(t.win.funcs)
	vals := make([]types.Datum, len(rows)*k)
	err := t.win.eval(rows, vals)
	clear(rows)
	if err != nil {
		return nil, err
	}
	for _, w := range taken {
		w.vals, vals = vals[:w.n*int64(k):w.n*int64(k)], vals[w.n*int64(k):]
	}
	return want, nil
}

// emit sends copies of e (sign 1) or their retraction (-1): the row with
// its multiplicity, or, for a window, each copy with its values.
func (t *TopN) emit(ctx context.Context, e *topEntry, sign int64) error {
	if t.win == nil {
		return t.send(ctx, e.row, sign*e.n)
	}
	k := len(t.win.funcs)
	w := len(e.row) + k
	for c := 0; c+k <= len(e.vals); c += k {
		if len(t.slab) < w {
			t.slab = make([]types.Datum, max(w, 512))
		}
		out := types.Row(t.slab[:w:w])
		t.slab = t.slab[w:]
		copy(out, e.row)
		copy(out[len(e.row):], e.vals[c:c+k])
		if err := t.send(ctx, out, sign); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements Operator.
func (t *TopN) Flush(ctx context.Context) error {
	for _, p := range t.dirty {
		p.dirty = false
		if t.whole {
			if err := t.windowPart(ctx, p, true); err != nil {
				return err
			}
		} else {
			want, err := t.rank(p)
			if err != nil {
				return err
			}
			for k, o := range p.out {
				if w := want[k]; w == nil || w.n != o.n || !sameShown(w.vals, o.vals) {
					if err := t.emit(ctx, o, -1); err != nil {
						return err
					}
				}
			}
			for k, w := range want {
				if o := p.out[k]; o == nil || o.n != w.n || !sameShown(w.vals, o.vals) {
					if err := t.emit(ctx, w, 1); err != nil {
						return err
					}
				}
			}
			p.out = want
		}
		if len(p.rows) == 0 {
			delete(t.parts, p.key)
		}
	}
	clear(t.dirty)
	t.dirty = t.dirty[:0]
	return t.drain(ctx)
}

// windowPart computes the window values of every row of p and, if emit,
// emits the rows whose values changed: the retraction of each copy as it
// was emitted, then each copy with its new values. Each entry keeps its
// values (unless the graph runs once); entries whose count dropped to zero
// leave.
func (t *TopN) windowPart(ctx context.Context, p *topPart, emit bool) error {
	rows, ents, gone := t.rows[:0], t.ents[:0], t.gone[:0]
	for _, c := range p.order.chunks {
		for _, e := range c {
			if e.n <= 0 {
				if e.n == 0 {
					gone = append(gone, e)
				}
				if emit {
					if err := t.emit(ctx, e, -1); err != nil {
						return err
					}
				}
				e.vals = nil
				continue
			}
			ents = append(ents, e)
			for range e.n {
				rows = append(rows, e.row)
			}
		}
	}
	t.rows, t.ents, t.gone = rows, ents, gone
	for _, e := range gone {
		t.unindex(p, e)
	}
	clear(gone)
	k := len(t.win.funcs)
	vals := make([]types.Datum, len(rows)*k)
	if err := t.win.eval(rows, vals); err != nil {
		return err
	}
	for _, e := range ents {
		nv := vals[: e.n*int64(k) : e.n*int64(k)]
		vals = vals[e.n*int64(k):]
		if emit && !sameShown(e.vals, nv) {
			if err := t.emit(ctx, e, -1); err != nil {
				return err
			}
			e.vals = nv
			if err := t.emit(ctx, e, 1); err != nil {
				return err
			}
		}
		e.vals = nv
		if t.appendOnly {
			e.vals = nil
		}
	}
	clear(ents)
	clear(rows)
	return nil
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
// are its current ranking (a window's, with their current values).
func (t *TopN) FinishRestore() error {
	for _, p := range t.parts {
		if t.whole {
			if err := t.windowPart(context.Background(), p, false); err != nil {
				return err
			}
			continue
		}
		var err error
		if p.out, err = t.rank(p); err != nil {
			return err
		}
	}
	return nil
}

func (t *TopN) String() string {
	if t.win != nil {
		return "Window " + t.desc
	}
	return "TopN " + t.desc
}
