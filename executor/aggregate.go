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
}

type aggGroup struct {
	keyRow types.Row
	count  int64
	accs   []accumulator
	out    types.Row // last emitted row, nil if none
	dirty  bool
	key    string
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
		g.accs[i] = newAccumulator(&a.specs[i])
	}
	a.groups[key] = g
	return g
}

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

func (a *Aggregate) String() string {
	parts := make([]string, len(a.specs))
	for i, s := range a.specs {
		parts[i] = s.String()
	}
	return "Aggregate " + strings.Join(parts, ", ")
}
