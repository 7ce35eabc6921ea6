package executor

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// partitionRun is one operator under test, with its sink and saved state.
type partitionRun struct {
	name  string
	op    Operator
	sink  *collector
	state mapState
}

func newPartitionRun(t *testing.T, name string, workers int, mk func() Operator) *partitionRun {
	t.Helper()
	op, err := Partition(workers, func() (Operator, error) { return mk(), nil })
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := asPartitioned(op); workers > 1 && (!ok || len(p.shards) != workers) {
		t.Fatalf("%s: %T is not partitioned into %d shards", name, op, workers)
	}
	if op.String() != mk().String() {
		t.Fatalf("%s: String %q, want the inner operator's %q", name, op.String(), mk().String())
	}
	if _, ok := mk().(CachedState); ok {
		if _, ok := op.(CachedState); !ok {
			t.Fatalf("%s: %T does not forward CachedState", name, op)
		}
	}
	r := &partitionRun{name: name, op: op, sink: &collector{}, state: mapState{}}
	op.SetOutput(Output{To: r.sink})
	op.(Stateful).TrackState()
	return r
}

func (r *partitionRun) save(t *testing.T) {
	t.Helper()
	err := r.op.(Stateful).SaveDirty(func(k, v []byte) error {
		if v == nil {
			delete(r.state, string(k))
		} else {
			r.state[string(k)] = slices.Clone(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkPartitioned drives the single operator and the same operator
// partitioned into 2, 3 and 4 shards through epochs of random changes on
// their ports, some large enough for the shards to run in parallel, and
// checks after each flush that all emit the same changes and save state
// under the same keys. Then it restores the state saved with 3 shards
// into 1, 2 and 5 shards and checks that they go on alike.
//
// For operators that read their state back on demand (CachedState) it
// runs twice more: restoring by attaching the saved state instead of
// loading it, and with every run evicting state (all of it, or part) after
// every epoch, so that every entry used is read back through the shards.
func checkPartitioned(t *testing.T, ports, width int, mk func() Operator) {
	t.Helper()
	checkPartitionedStreams(t, ports, 0, width, mk)
}

// checkPartitionedStreams is checkPartitioned where the first streams
// ports only insert.
func checkPartitionedStreams(t *testing.T, ports, streams, width int, mk func() Operator) {
	t.Helper()
	modes := []string{"restore"}
	if _, ok := mk().(CachedState); ok {
		modes = append(modes, "attach", "evict")
	}
	for _, mode := range modes {
		for seed := range uint64(6) {
			checkPartitionedSeed(t, ports, streams, width, mk, mode, seed)
		}
	}
}

func checkPartitionedSeed(t *testing.T, ports, streams, width int, mk func() Operator, mode string, seed uint64) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 11))
	live := make([][]types.Row, ports)
	epoch := func(runs []*partitionRun) {
		t.Helper()
		batches := make([]*Batch, ports)
		for p := range batches {
			n := rng.IntN(12)
			if rng.IntN(5) == 0 {
				n = parallelMin + rng.IntN(parallelMin/4)
			}
			batches[p] = stateChanges(rng, &live[p], n, width, p >= streams)
		}
		for _, r := range runs {
			r.sink.lines = nil
			for p, b := range batches {
				if err := r.op.Push(ctx, p, b); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.op.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			r.save(t)
			if mode == "evict" {
				c := r.op.(CachedState)
				c.Evict(rng.Int64N(2) * c.CachedBytes() / 2)
			}
			slices.Sort(r.sink.lines)
		}
		for _, r := range runs[1:] {
			if !slices.Equal(r.sink.lines, runs[0].sink.lines) {
				t.Fatalf("%s, seed %d: %s emits\n%v\n%s emits\n%v", mode, seed, runs[0].name, runs[0].sink.lines, r.name, r.sink.lines)
			}
			// Values may differ in bytes: a DISTINCT aggregate's set is
			// written in map order, an inner join does not save match
			// counts (it never reads them).
			if !slices.Equal(slices.Sorted(maps.Keys(r.state)), slices.Sorted(maps.Keys(runs[0].state))) {
				t.Fatalf("%s, seed %d: %s saves %d entries, %s %d (or other keys)", mode, seed, runs[0].name, len(runs[0].state), r.name, len(r.state))
			}
		}
	}
	runs := []*partitionRun{newPartitionRun(t, "single", 1, mk)}
	for _, n := range []int{2, 3, 4} {
		runs = append(runs, newPartitionRun(t, fmt.Sprintf("%d shards", n), n, mk))
	}
	// Dispatch within an epoch too, as large epochs do.
	held, _ := asPartitioned(runs[1].op)
	held.hold = 5
	if mode == "evict" {
		for _, r := range runs {
			r.op.(CachedState).AttachState(r.state, true)
		}
	}
	for range 2 + rng.IntN(5) {
		epoch(runs)
	}
	from := runs[2].state
	runs = runs[:1]
	for _, n := range []int{1, 2, 5} {
		r := newPartitionRun(t, fmt.Sprintf("restored into %d shards", n), n, mk)
		r.state = maps.Clone(from)
		if mode == "restore" {
			for k, v := range r.state {
				if err := r.op.(Stateful).Restore([]byte(k), v); err != nil {
					t.Fatalf("%s: restore: %v", r.name, err)
				}
			}
			if f, ok := r.op.(RestoreFinisher); ok {
				if err := f.FinishRestore(); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			r.op.(CachedState).AttachState(r.state, false)
		}
		runs = append(runs, r)
	}
	for range 4 {
		epoch(runs)
	}
}

func TestPartitionedAggregate(t *testing.T) {
	specs := []AggSpec{
		{Func: AggCountStar, Filter: -1, Type: types.Int64},
		{Func: AggSum, Args: []int{4}, Filter: -1, ArgType: types.Float64, Type: types.Float64},
		{Func: AggMin, Args: []int{2}, Filter: -1, ArgType: types.Text, Type: types.Text},
		{Func: AggCount, Args: []int{5}, Distinct: true, Filter: -1, ArgType: types.Numeric, Type: types.Int64},
		{Func: AggMax, Args: []int{4}, Filter: 3, ArgType: types.Float64, Type: types.Float64},
	}
	checkPartitioned(t, 1, 7, func() Operator { return NewAggregate([]int{0, 1}, specs, false) })
}

func TestPartitionedHashJoin(t *testing.T) {
	keys := func() []EvalFunc {
		var buf []byte // scratch, as compiled expressions keep: one per shard
		key := func(c int) EvalFunc {
			return func(r types.Row) (types.Datum, error) {
				buf = types.AppendKey(buf[:0], r[c])
				return r[c], nil
			}
		}
		return []EvalFunc{key(0), key(1)}
	}
	residual := func(r types.Row) (types.Datum, error) {
		return types.NewBool(r[2].IsNull() || r[5].IsNull() || types.Compare(r[2], r[5]) <= 0), nil
	}
	for kind := JoinInner; kind <= JoinAnti; kind++ {
		t.Run(kind.String(), func(t *testing.T) {
			checkPartitioned(t, 2, 3, func() Operator {
				return NewHashJoin(kind, keys(), keys(), 3, 3, residual, "")
			})
		})
	}
	for _, kind := range []JoinKind{JoinInner, JoinLeft} {
		t.Run("temporal "+kind.String(), func(t *testing.T) {
			checkPartitionedStreams(t, 2, 1, 3, func() Operator {
				return NewTemporalJoin(kind, keys(), keys(), 3, 3, residual, "")
			})
		})
	}
}

func TestPartitionedDistinct(t *testing.T) {
	checkPartitioned(t, 1, 3, func() Operator { return NewDistinct() })
}

func TestPartitionedSetOp(t *testing.T) {
	for _, kind := range []SetOpKind{SetIntersect, SetExcept} {
		for _, all := range []bool{false, true} {
			t.Run(NewSetOp(kind, all).String(), func(t *testing.T) {
				checkPartitioned(t, 2, 2, func() Operator { return NewSetOp(kind, all) })
			})
		}
	}
}

func TestPartitionedTopN(t *testing.T) {
	keys := []SortKey{{Col: 1, Desc: true}, {Col: 2}}
	checkPartitioned(t, 1, 3, func() Operator { return NewTopN([]int{0}, keys, 1, 2, "") })
}

// TestPartitionUnkeyed checks that operators without a key to partition
// by stay single.
func TestPartitionUnkeyed(t *testing.T) {
	for _, mk := range []func() Operator{
		func() Operator {
			return NewAggregate(nil, []AggSpec{{Func: AggCountStar, Filter: -1, Type: types.Int64}}, true)
		},
		func() Operator { return NewHashJoin(JoinLeft, nil, nil, 1, 1, nil, "") },
		func() Operator { return NewTopN(nil, []SortKey{{Col: 0}}, 0, 3, "") },
		func() Operator { return NewFilter(nil, "") },
	} {
		op, err := Partition(4, func() (Operator, error) { return mk(), nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := asPartitioned(op); ok {
			t.Errorf("%s is partitioned", op)
		}
	}
}

// TestPartitionedAppendOnly checks that Graph.SetAppendOnly reaches the
// shards, and that a partitioned join keeps what it feeds retractable.
func TestPartitionedAppendOnly(t *testing.T) {
	spec := []AggSpec{{Func: AggMin, Args: []int{1}, Filter: -1, ArgType: types.Int64, Type: types.Int64}}
	part := func(mk func() Operator) Operator {
		op, err := Partition(2, func() (Operator, error) { return mk(), nil })
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	var g Graph
	join := g.Add(part(func() Operator {
		return NewHashJoin(JoinLeft, []EvalFunc{col(0)}, []EvalFunc{col(0)}, 1, 1, nil, "")
	}))
	afterJoin := g.Add(part(func() Operator { return NewAggregate([]int{0}, spec, false) }))
	direct := g.Add(part(func() Operator { return NewAggregate([]int{0}, spec, false) }))
	Connect(join, afterJoin, 0)
	Connect(afterJoin, &collector{}, 0)
	Connect(direct, &collector{}, 0)
	g.SetAppendOnly()
	for _, c := range []struct {
		op   Operator
		want bool
	}{{afterJoin, false}, {direct, true}} {
		p, _ := asPartitioned(c.op)
		for _, s := range p.shards {
			if got := s.(*Aggregate).appendOnly; got != c.want {
				t.Errorf("aggregate shard append-only %v, want %v", got, c.want)
			}
		}
	}
}

// TestPartitionedPanic checks that a panic in a shard's goroutine, while
// routing changes or while a shard runs, is raised on the caller's.
func TestPartitionedPanic(t *testing.T) {
	key := func(r types.Row) (types.Datum, error) { return r[0], nil }
	boom := func(r types.Row) (types.Datum, error) {
		if r[0].Int() == 7 {
			panic("boom")
		}
		return r[0], nil
	}
	for _, c := range []struct {
		name     string
		key, res EvalFunc
	}{{"key", boom, nil}, {"residual", key, boom}} {
		t.Run(c.name, func(t *testing.T) {
			op, err := Partition(2, func() (Operator, error) {
				return NewHashJoin(JoinInner, []EvalFunc{key}, []EvalFunc{c.key}, 1, 1, c.res, ""), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			op.SetOutput(Output{To: &collector{}})
			b := &Batch{}
			for i := range 2 * parallelMin {
				b.Append(types.Row{types.NewInt64(int64(i % 16))}, 1)
			}
			ctx := context.Background()
			if err := op.Push(ctx, 0, b); err != nil {
				t.Fatal(err)
			}
			if err := op.Push(ctx, 1, b); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			_ = op.Flush(ctx)
		})
	}
}

// TestShardReaderScan checks that a shard's scan of its saved state yields
// exactly the entries it owns, so that no entry is read by two shards.
func TestShardReaderScan(t *testing.T) {
	st := mapState{}
	for g := range 100 {
		st[string(appendRowKey(nil, types.Row{types.NewInt64(int64(g))}))] = []byte{1}
	}
	op, err := Partition(3, func() (Operator, error) {
		return NewAggregate([]int{0}, []AggSpec{{Func: AggCountStar, Filter: -1, Type: types.Int64}}, false), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	op.(CachedState).AttachState(st, false)
	p, _ := asPartitioned(op)
	seen := map[string]int{}
	for s, sh := range p.shards {
		err := sh.(*Aggregate).reader.ScanState(nil, func(k, _ []byte) error {
			if o := p.owner(k); o != s {
				t.Errorf("shard %d reads a key of shard %d", s, o)
			}
			seen[string(k)]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(st) {
		t.Fatalf("the shards read %d of %d entries", len(seen), len(st))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("entry %q read %d times", k, n)
		}
	}
}

// TestPartitionedAbandonedEpoch checks that the methods called between
// epochs wait for a round still running when an epoch was abandoned after
// the round started (run with -race).
func TestPartitionedAbandonedEpoch(t *testing.T) {
	op, err := Partition(2, func() (Operator, error) {
		return NewAggregate([]int{0}, []AggSpec{{Func: AggCountStar, Filter: -1, Type: types.Int64}}, false), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := asPartitioned(op)
	p.hold = parallelMin
	op.SetOutput(Output{To: &collector{}})
	op.(Stateful).TrackState()
	op.(CachedState).AttachState(mapState{}, true)
	b := &Batch{}
	for i := range parallelMin {
		b.Append(types.Row{types.NewInt64(int64(i))}, 1)
	}
	if err := op.Push(context.Background(), 0, b); err != nil {
		t.Fatal(err)
	}
	if !p.busy {
		t.Fatal("no round running")
	}
	op.(CachedState).CachedBytes()
	if err := op.(Stateful).SaveDirty(func(k, v []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if p.busy {
		t.Fatal("a round still runs")
	}
}
