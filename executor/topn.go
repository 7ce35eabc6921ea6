package executor

import (
	"context"
	"slices"

	"github.com/weirdb/weir/sql/types"
)

// TopN keeps, per partition (DISTINCT ON keys; none for a plain
// ORDER BY ... LIMIT), the rows ranked Offset+1 .. Offset+Limit by Keys
// (Limit < 0: no limit). It holds the multiset of every partition's rows so
// that a retraction of a top row brings the next one in. At Flush each
// changed partition re-ranks its rows and emits the difference from what
// it emitted before. Ties are broken by the whole row, so the choice is
// deterministic.
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
}

type topPart struct {
	key   string
	rows  map[string]*topEntry
	out   map[string]*topEntry // emitted rows with their multiplicity
	dirty bool
}

type topEntry struct {
	row types.Row
	n   int64
}

// NewTopN returns a top-N operator; desc is for String.
func NewTopN(partition []int, keys []SortKey, offset, limit int64, desc string) *TopN {
	return &TopN{partition: partition, keys: keys, offset: offset, limit: limit, parts: map[string]*topPart{}, desc: desc}
}

// Push implements Operator.
func (t *TopN) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		t.buf = appendColsKey(t.buf[:0], r, t.partition)
		p := t.parts[string(t.buf)]
		if p == nil {
			p = &topPart{key: string(t.buf), rows: map[string]*topEntry{}, out: map[string]*topEntry{}}
			t.parts[p.key] = p
		}
		t.buf = appendRowKey(t.buf[:0], r)
		e := p.rows[string(t.buf)]
		if e == nil {
			e = &topEntry{row: r}
			p.rows[string(t.buf)] = e
		}
		e.n += b.Weights[i]
		if e.n == 0 {
			delete(p.rows, string(t.buf))
		}
		if !p.dirty {
			p.dirty = true
			t.dirty = append(t.dirty, p)
		}
	}
	return nil
}

// Flush implements Operator.
func (t *TopN) Flush(ctx context.Context) error {
	type ranked struct {
		key string
		e   *topEntry
	}
	for _, p := range t.dirty {
		p.dirty = false
		rs := make([]ranked, 0, len(p.rows))
		for k, e := range p.rows {
			if e.n > 0 {
				rs = append(rs, ranked{k, e})
			}
		}
		slices.SortFunc(rs, func(a, b ranked) int {
			if c := CompareRows(a.e.row, b.e.row, t.keys); c != 0 {
				return c
			}
			switch {
			case a.key < b.key:
				return -1
			case a.key > b.key:
				return 1
			}
			return 0
		})
		// New output multiplicities.
		want := map[string]*topEntry{}
		skip, take := t.offset, t.limit
		for _, r := range rs {
			n := r.e.n
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
				want[r.key] = &topEntry{row: r.e.row, n: n}
			}
			if take == 0 {
				break
			}
		}
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

func (t *TopN) String() string { return "TopN " + t.desc }
