package planner

import (
	"context"
	"fmt"
	"slices"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Dataflow is a query kept alive: the same operator graph a pull query
// runs once, receiving the changes of its input relations epoch after epoch
// and emitting the changes of its result. This is how materialized views
// and push queries are maintained incrementally.
//
// A Dataflow is not safe for concurrent use; its owner serializes epochs.
type Dataflow struct {
	g      *executor.Graph
	sink   *executor.Collect
	inputs []dataflowInput
	values []feed
	comp   *executor.Compiler
	cols   []Column
	// stIDs are the graph indexes of the stateful operators stOps.
	stIDs []int
	stOps []executor.Stateful
}

// dataflowInput is one read of a relation in the query. A relation read
// twice (a self-join) has two inputs.
type dataflowInput struct {
	rel *catalog.Relation
	to  executor.Operator
	// prefix restricts the input to rows whose leading key columns equal
	// these values (the planner turned `WHERE pk = const` into a key range).
	prefix []types.Datum
	empty  bool // a NULL prefix value: nothing matches
}

// Dataflow builds the live graph of a query plan. rt supplies the
// parameters and evaluation environment; its Store is not used (inputs
// arrive through Push). Plans with subqueries evaluated once per run are
// refused: their result would go stale.
func (p *Plan) Dataflow(ctx context.Context, rt *executor.Runtime) (*Dataflow, error) {
	if p.kind != kindQuery {
		return nil, sqlerr.Unsupported("only queries can be maintained incrementally")
	}
	if err := p.Incremental(); err != nil {
		return nil, err
	}
	comp, err := p.compiler(ctx, rt)
	if err != nil {
		return nil, err
	}
	r := &runState{ctx: ctx, rt: rt, comp: comp, g: &executor.Graph{}, live: true}
	top, err := p.query.asNode().build(r)
	if err != nil {
		return nil, err
	}
	d := &Dataflow{g: r.g, sink: executor.NewCollect(), comp: comp, cols: p.Columns}
	executor.Connect(top, d.sink, 0)
	d.stIDs, d.stOps = r.g.Stateful()
	for _, f := range r.feeds {
		if f.values != nil {
			d.values = append(d.values, f)
			continue
		}
		in := dataflowInput{rel: f.scan.rel, to: f.to}
		for i, e := range f.scan.prefix {
			v, err := comp.Eval(e)
			if err != nil {
				return nil, err
			}
			if v.IsNull() {
				in.empty = true
				break
			}
			kt := f.scan.rel.Columns[f.scan.rel.PrimaryKey[i]].Type
			if v.Kind() != kt.Kind {
				if v, err = types.Cast(v, kt, types.CastImplicit, comp.Env.Location); err != nil {
					return nil, err
				}
			}
			in.prefix = append(in.prefix, v)
		}
		d.inputs = append(d.inputs, in)
	}
	return d, nil
}

// Columns are the result columns.
func (d *Dataflow) Columns() []Column { return d.cols }

// Inputs are the relations the dataflow reads, each once, in first-read
// order.
func (d *Dataflow) Inputs() []*catalog.Relation {
	var out []*catalog.Relation
	seen := map[catalog.ID]bool{}
	for _, in := range d.inputs {
		if !seen[in.rel.ID] {
			seen[in.rel.ID] = true
			out = append(out, in.rel)
		}
	}
	return out
}

// Start pushes the constant inputs (VALUES, the one row of a SELECT
// without FROM). Call it once, before the first Flush.
func (d *Dataflow) Start(ctx context.Context) error {
	r := &runState{ctx: ctx, comp: d.comp, g: d.g}
	for _, f := range d.values {
		if err := f.values.feed(r, f.to); err != nil {
			return err
		}
	}
	return nil
}

// Push hands the dataflow changes of relation id: full rows of the
// relation (hidden columns included) with their weights. The dataflow may
// keep the rows but not the batch.
func (d *Dataflow) Push(ctx context.Context, id catalog.ID, b *executor.Batch) error {
	for i := range d.inputs {
		in := &d.inputs[i]
		if in.rel.ID != id || in.empty {
			continue
		}
		batch := b
		if len(in.prefix) > 0 {
			batch = &executor.Batch{}
			for j, row := range b.Rows {
				if matchesPrefix(in.rel, row, in.prefix) {
					batch.Append(row, b.Weights[j])
				}
			}
			if batch.Len() == 0 {
				continue
			}
		}
		if err := in.to.Push(ctx, 0, batch); err != nil {
			return err
		}
	}
	return nil
}

// Watermark hands the dataflow a watermark of relation id: no later
// change of it has a value below v in column col. Call it after the
// epoch's Push of that relation, before Flush.
func (d *Dataflow) Watermark(ctx context.Context, id catalog.ID, col int, v types.Datum) error {
	for i := range d.inputs {
		in := &d.inputs[i]
		if in.rel.ID != id || in.empty {
			continue
		}
		if w, ok := in.to.(executor.WatermarkTaker); ok {
			if err := w.Watermark(ctx, 0, col, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func matchesPrefix(rel *catalog.Relation, row []types.Datum, prefix []types.Datum) bool {
	for i, v := range prefix {
		d := row[rel.PrimaryKey[i]]
		if d.IsNull() || !types.Equal(d, v) {
			return false
		}
	}
	return true
}

// Flush ends the epoch and returns the changes of the result it produced,
// consolidated (no row appears twice; no zero weights).
func (d *Dataflow) Flush(ctx context.Context) (*executor.Batch, error) {
	if err := d.g.Flush(ctx); err != nil {
		return nil, err
	}
	return d.sink.Take(), nil
}

// TrackState makes the dataflow track the changes of its operator state
// for SaveState (a view does; a push query, which never saves, does not).
// Call it before Start or RestoreState.
func (d *Dataflow) TrackState() { d.g.TrackState() }

// SaveState calls put for every state entry of the dataflow's stateful
// operators changed since the last SaveState (since TrackState the first time),
// op being the operator's index in the graph: stable across restarts, since
// the graph is rebuilt deterministically from the same definition. value
// nil deletes the entry; key and value are valid only during put. Call it
// after Flush.
func (d *Dataflow) SaveState(put func(op uint32, key, value []byte) error) error {
	for i, s := range d.stOps {
		id := uint32(d.stIDs[i])
		if err := s.SaveDirty(func(k, v []byte) error { return put(id, k, v) }); err != nil {
			return err
		}
	}
	return nil
}

// RestoreState loads one entry written by SaveState into a freshly built
// dataflow (instead of Start and a backfill). After the last entry call
// FinishRestore. An error means the saved state does not fit this dataflow.
func (d *Dataflow) RestoreState(op uint32, key, value []byte) error {
	i, ok := slices.BinarySearch(d.stIDs, int(op))
	if !ok {
		return fmt.Errorf("dataflow: no stateful operator %d", op)
	}
	if err := d.stOps[i].Restore(key, value); err != nil {
		return fmt.Errorf("dataflow: operator %d (%s): %w", op, d.stOps[i], err)
	}
	return nil
}

// AttachState lets every stateful operator that can hold part of its state
// in memory (executor.CachedState) read the rest back on demand, through
// the reader readerFor returns for its operator id. complete reports that
// the operators hold their whole state now (the dataflow was just started
// and backfilled); otherwise they hold none yet and read as they go, which
// is how a view restarts without loading its state. It returns the ids of
// the other stateful operators: their state must be loaded whole with
// RestoreState (then FinishRestore) when complete is false.
func (d *Dataflow) AttachState(readerFor func(op uint32) executor.StateReader, complete bool) (eager []uint32) {
	for i, s := range d.stOps {
		id := uint32(d.stIDs[i])
		if c, ok := s.(executor.CachedState); ok && (complete || !executor.LoadsWhole(s)) {
			c.AttachState(readerFor(id), complete)
		} else {
			eager = append(eager, id)
		}
	}
	return eager
}

// CachedBytes estimates the memory the state of the dataflow's operators
// that can evict takes (executor.Evictor).
func (d *Dataflow) CachedBytes() int64 {
	var n int64
	for _, c := range d.cached() {
		n += c.CachedBytes()
	}
	return n
}

// CachedKeys counts the keys in memory of the dataflow's operators that
// can evict (executor.CachedState).
func (d *Dataflow) CachedKeys() int64 {
	var n int64
	for _, c := range d.cached() {
		n += c.CachedKeys()
	}
	return n
}

// Evict drops saved state from memory until about target bytes remain,
// taking from each operator in proportion to what it holds. Call it only
// after the epoch whose state was saved committed.
func (d *Dataflow) Evict(target int64) { executor.EvictShares(d.cached(), target) }

// cached returns the stateful operators that can evict.
func (d *Dataflow) cached() []executor.CachedState {
	var out []executor.CachedState
	for _, s := range d.stOps {
		if c, ok := s.(executor.CachedState); ok {
			out = append(out, c)
		}
	}
	return out
}

// FinishRestore completes RestoreState.
func (d *Dataflow) FinishRestore() error {
	for _, s := range d.stOps {
		if f, ok := s.(executor.RestoreFinisher); ok {
			if err := f.FinishRestore(); err != nil {
				return err
			}
		}
	}
	return nil
}

// String lists the dataflow's operators, for EXPLAIN.
// Stateless reports whether the dataflow keeps no state between epochs
// (filters and projections): its output for a change depends on that
// change alone, so replaying past changes reproduces past output.
func (d *Dataflow) Stateless() bool { return len(d.stOps) == 0 }

func (d *Dataflow) String() string { return d.g.String() }

// UniqueRows reports whether the query's result never holds the same row
// twice (its rows are unique by a key: the groups of an aggregate, the rows
// of a DISTINCT), so that a view over it can store rows without counting
// them.
func (p *Plan) UniqueRows() bool {
	if p.kind != kindQuery {
		return false
	}
	_, ok := uniqueKey(p.query.asNode())
	return ok
}

// EventTimeColumn is the first result column (a timestamp) that
// watermarks reach, or -1: a view's event time, which its own readers'
// windows and joins can use.
func (p *Plan) EventTimeColumn() int {
	if p.kind != kindQuery {
		return -1
	}
	ts := p.query.asNode().colTypes()
	for i, w := range watermarked(p.query.asNode()) {
		if i < len(p.Columns) && w && (ts[i].Kind == types.KindTimestamp || ts[i].Kind == types.KindTimestampTZ) {
			return i
		}
	}
	return -1
}

// AppendOnlyOutput makes Flush hand the result's changes over without
// consolidating them: for a result that only inserts (InsertsOnly), kept
// by a reader that stores each row apart.
func (d *Dataflow) AppendOnlyOutput() { d.sink.SetAppendOnly() }

// OutputWatermark is the latest watermark the dataflow's result got on
// col (NULL: none yet).
func (d *Dataflow) OutputWatermark(col int) types.Datum { return d.sink.OutputWatermark(col) }

// UniqueKey returns result columns that no two rows share, when the plan
// guarantees such a key (see UniqueRows). The key may be empty: a query
// with one row at most (an aggregate without GROUP BY).
func (p *Plan) UniqueKey() ([]int, bool) {
	if p.kind != kindQuery {
		return nil, false
	}
	return uniqueKey(p.query.asNode())
}

// uniqueKey returns columns of n's output that no two rows share, if n
// guarantees such a key.
func uniqueKey(n node) ([]int, bool) {
	switch x := n.(type) {
	case *aggNode:
		key := make([]int, len(x.groupBy))
		for i := range key {
			key[i] = i
		}
		return key, true
	case *distinctNode:
		key := make([]int, len(x.colTypes()))
		for i := range key {
			key[i] = i
		}
		return key, true
	case *filterNode:
		return uniqueKey(x.in)
	case *topNNode:
		return uniqueKey(x.in)
	case *windowNode:
		return uniqueKey(x.in)
	case *projectNode:
		in, ok := uniqueKey(x.in)
		if !ok {
			return nil, false
		}
		out := make([]int, 0, len(in))
		for _, k := range in {
			found := -1
			for j, e := range x.exprs {
				if c, isCol := e.(*executor.ColRef); isCol && c.Idx == k {
					found = j
					break
				}
			}
			if found < 0 {
				return nil, false
			}
			out = append(out, found)
		}
		return out, true
	}
	return nil, false
}
