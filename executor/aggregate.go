package executor

import (
	"context"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// Aggregate groups its input by the GroupBy columns and maintains the
// aggregates of each group under insertions and retractions. Output rows are
// the group columns followed by one column per aggregate. At Flush each
// changed group emits the retraction of the row it emitted before (if any)
// and its new row (if the group still has rows). Without GROUP BY (Scalar)
// there is always exactly one output row, also over no input at all.
type Aggregate struct {
	emitter
	groupBy []int
	specs   []AggSpec
	scalar  bool
	groups  map[string]*aggGroup
	dirty   []*aggGroup
	keyBuf  []byte
	started bool
	// appendOnly: the input only inserts (see Graph.SetAppendOnly), so
	// accumulators keep only what insertions need.
	appendOnly bool
	// unsaved are the groups changed since the last SaveDirty (a group
	// deleted and created again appears twice: SaveDirty writes the live
	// one).
	unsaved []*aggGroup
	saveBuf []byte
	saveKey []byte
	track   bool
}

type aggGroup struct {
	keyRow  types.Row
	count   int64
	accs    []accumulator
	out     types.Row // last emitted row, nil if none
	dirty   bool
	unsaved bool
	key     string
}

// NewAggregate returns an aggregate operator. scalar is true for an
// aggregate query without GROUP BY (groupBy must then be empty).
func NewAggregate(groupBy []int, specs []AggSpec, scalar bool) *Aggregate {
	return &Aggregate{groupBy: groupBy, specs: specs, scalar: scalar, groups: map[string]*aggGroup{}}
}

func (a *Aggregate) newGroup(key string, r types.Row) *aggGroup {
	g := &aggGroup{key: key, keyRow: make(types.Row, len(a.groupBy)), accs: make([]accumulator, len(a.specs))}
	for i, c := range a.groupBy {
		g.keyRow[i] = r[c]
	}
	for i := range a.specs {
		g.accs[i] = newAccumulator(&a.specs[i], a.appendOnly)
	}
	a.groups[key] = g
	return g
}

func (a *Aggregate) setAppendOnly() { a.appendOnly = true }

// Push implements Operator.
func (a *Aggregate) Push(ctx context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		w := b.Weights[i]
		a.keyBuf = appendColsKey(a.keyBuf[:0], r, a.groupBy)
		g := a.groups[string(a.keyBuf)]
		if g == nil {
			g = a.newGroup(string(a.keyBuf), r)
		}
		g.count += w
		for j := range a.specs {
			s := &a.specs[j]
			if s.Filter >= 0 && !truthy(r[s.Filter]) {
				continue
			}
			if err := g.accs[j].add(r, w); err != nil {
				return err
			}
		}
		if !g.dirty {
			g.dirty = true
			a.dirty = append(a.dirty, g)
		}
	}
	return nil
}

// Flush implements Operator.
func (a *Aggregate) Flush(ctx context.Context) error {
	if a.scalar && !a.started {
		g := a.groups[""]
		if g == nil {
			g = a.newGroup("", nil)
		}
		if !g.dirty {
			g.dirty = true
			a.dirty = append(a.dirty, g)
		}
	}
	a.started = true
	for _, g := range a.dirty {
		g.dirty = false
		if a.track && !g.unsaved {
			g.unsaved = true
			a.unsaved = append(a.unsaved, g)
		}
		var row types.Row
		if g.count > 0 || a.scalar {
			row = make(types.Row, len(g.keyRow)+len(g.accs))
			copy(row, g.keyRow)
			for j, acc := range g.accs {
				d, err := acc.result()
				if err != nil {
					return err
				}
				row[len(g.keyRow)+j] = d
			}
		}
		if g.out != nil && row != nil && rowsEqual(g.out, row) {
			continue
		}
		if g.out != nil {
			if err := a.send(ctx, g.out, -1); err != nil {
				return err
			}
		}
		if row != nil {
			if err := a.send(ctx, row, 1); err != nil {
				return err
			}
		}
		g.out = row
		if g.count == 0 && !a.scalar {
			delete(a.groups, g.key)
		}
	}
	clear(a.dirty)
	a.dirty = a.dirty[:0]
	return a.drain(ctx)
}

// SaveDirty implements Stateful. Key: the group key bytes. Value: a flag
// (1: the group has an emitted row), that row (else the group columns),
// the group's row count, then each accumulator's state.
func (a *Aggregate) SaveDirty(put func(key, value []byte) error) error {
	for _, g := range a.unsaved {
		g.unsaved = false
		cur := a.groups[g.key]
		if cur != nil && cur != g {
			continue // replaced: the live group is in the list too
		}
		var v []byte
		if cur != nil {
			v = a.saveBuf[:0]
			if g.out != nil {
				v = appendStateRow(append(v, 1), g.out)
			} else {
				v = appendStateRow(append(v, 0), g.keyRow)
			}
			v = appendStateInt(v, g.count)
			for _, acc := range g.accs {
				v = acc.appendState(v)
			}
			a.saveBuf = v
		}
		a.saveKey = append(a.saveKey[:0], g.key...)
		if err := put(a.saveKey, v); err != nil {
			return err
		}
	}
	clear(a.unsaved)
	a.unsaved = a.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (a *Aggregate) Restore(key, value []byte) error {
	r := stateReader{b: value}
	hasOut := r.byte() == 1
	row := r.row()
	if r.err != nil || len(row) < len(a.groupBy) || (hasOut && len(row) != len(a.groupBy)+len(a.specs)) {
		return errStateCorrupt
	}
	g := &aggGroup{key: string(key), keyRow: row[:len(a.groupBy):len(a.groupBy)], accs: make([]accumulator, len(a.specs))}
	if hasOut {
		g.out = row
	}
	g.count = r.int()
	for i := range a.specs {
		g.accs[i] = newAccumulator(&a.specs[i], a.appendOnly)
		g.accs[i].restoreState(&r)
	}
	if err := r.done(); err != nil {
		return err
	}
	a.groups[g.key] = g
	a.started = true
	return nil
}

func (a *Aggregate) String() string {
	parts := make([]string, len(a.specs))
	for i, s := range a.specs {
		parts[i] = s.String()
	}
	return "Aggregate " + strings.Join(parts, ", ")
}
