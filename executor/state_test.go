package executor

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// stateRow is a test row: k, v, s, b, f, n, iv (int, int, text, bool,
// float, numeric, interval), its first width columns; values are few so
// that rows meet.
func stateRow(rng *rand.Rand, width int) types.Row {
	r := types.Row{
		types.NewInt64(rng.Int64N(4)), types.NewInt64(rng.Int64N(6)),
		types.NewText(fmt.Sprintf("s%d", rng.IntN(5))), types.NewBool(rng.IntN(2) == 0),
		types.NewFloat64(float64(rng.IntN(8)) / 4), types.NewNumeric(apd.New(rng.Int64N(1000), -2)),
		types.NewInterval(int32(rng.IntN(3)), int32(rng.IntN(3)), rng.Int64N(1e6)),
	}[:width]
	for i := 1; i < len(r); i++ {
		if rng.IntN(10) == 0 {
			r[i] = types.Null
		}
	}
	return r
}

// stateChanges returns n random changes over live (the rows currently
// inserted on this input, updated): insertions, and retractions of live
// rows.
func stateChanges(rng *rand.Rand, live *[]types.Row, n, width int, retract bool) *Batch {
	b := &Batch{}
	for range n {
		if retract && len(*live) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(*live))
			b.Append((*live)[i], -1)
			*live = slices.Delete(*live, i, i+1)
			continue
		}
		r := stateRow(rng, width)
		*live = append(*live, r)
		b.Append(r, 1)
	}
	return b
}

// mapState is operator state saved into a map; it reads it back as a
// StateReader.
type mapState map[string][]byte

func (m mapState) GetState(key []byte, fn func(value []byte) error) (bool, error) {
	v, ok := m[string(key)]
	if !ok {
		return false, nil
	}
	return true, fn(v)
}

func (m mapState) GetStates(keys [][]byte, fn func(i int, value []byte) error) error {
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		return fmt.Errorf("GetStates: keys out of order")
	}
	for i, k := range keys {
		if v, ok := m[string(k)]; ok {
			if err := fn(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m mapState) ScanState(prefix []byte, fn func(key, value []byte) error) error {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

// roundTrip drives an operator made by mk through epochs of random
// changes on its ports, saving its dirty state into a map after each, then
// restores a fresh operator from the map and checks that both emit the
// same changes for the epochs that follow.
//
// For operators that read their state back on demand (CachedState) it
// runs twice more: once restoring by attaching the saved state instead of
// loading it, and once with both operators evicting state (all of it, or
// part) after every epoch, so that every entry used is read back.
func roundTrip(t *testing.T, ports, width int, mk func() Operator) {
	t.Helper()
	roundTripStreams(t, ports, 0, width, mk)
}

// roundTripStreams is roundTrip where the first streams ports only insert.
func roundTripStreams(t *testing.T, ports, streams, width int, mk func() Operator) {
	t.Helper()
	modes := []string{"restore"}
	if _, ok := mk().(CachedState); ok {
		modes = append(modes, "attach", "evict")
	}
	for _, mode := range modes {
		for seed := range uint64(20) {
			roundTripSeed(t, ports, streams, width, mk, mode, seed)
		}
	}
}

func roundTripSeed(t *testing.T, ports, streams, width int, mk func() Operator, mode string, seed uint64) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	live := make([][]types.Row, ports)
	save := func(op Operator, state mapState) {
		t.Helper()
		err := op.(Stateful).SaveDirty(func(k, v []byte) error {
			if v == nil {
				delete(state, string(k))
			} else {
				state[string(k)] = slices.Clone(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := op.(CachedState); ok && mode == "evict" {
			c.Evict(rng.Int64N(2) * c.CachedBytes() / 2)
		}
	}
	epoch := func(ops []Operator, sinks []*collector) {
		t.Helper()
		batches := make([]*Batch, ports)
		for p := range batches {
			batches[p] = stateChanges(rng, &live[p], rng.IntN(12), width, p >= streams)
		}
		for i, op := range ops {
			sinks[i].lines = nil
			for p, b := range batches {
				if err := op.Push(ctx, p, b); err != nil {
					t.Fatal(err)
				}
			}
			if err := op.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	stateA := mapState{}
	a, sa := mk(), &collector{}
	a.(Stateful).TrackState()
	if mode == "evict" {
		a.(CachedState).AttachState(stateA, true)
	}
	a.SetOutput(Output{To: sa})
	for range 1 + rng.IntN(6) {
		epoch([]Operator{a}, []*collector{sa})
		save(a, stateA)
	}
	stateB := maps.Clone(stateA)
	b, sb := mk(), &collector{}
	b.(Stateful).TrackState()
	b.SetOutput(Output{To: sb})
	if mode == "restore" {
		for k, v := range stateB {
			if err := b.(Stateful).Restore([]byte(k), v); err != nil {
				t.Fatalf("seed %d: restore: %v", seed, err)
			}
		}
		if f, ok := b.(RestoreFinisher); ok {
			if err := f.FinishRestore(); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		b.(CachedState).AttachState(stateB, false)
	}
	for e := range 5 {
		epoch([]Operator{a, b}, []*collector{sa, sb})
		slices.Sort(sa.lines)
		slices.Sort(sb.lines)
		if !slices.Equal(sa.lines, sb.lines) {
			t.Fatalf("%s, seed %d, epoch %d after restore: original emits\n%v\nrestored\n%v", mode, seed, e, sa.lines, sb.lines)
		}
		save(a, stateA)
		save(b, stateB)
	}
}

func TestStateRoundTripAggregate(t *testing.T) {
	spec := func(f AggFunc, col int, arg, res types.Type) AggSpec {
		return AggSpec{Func: f, Args: []int{col}, Filter: -1, ArgType: arg, Type: res}
	}
	specs := []AggSpec{
		{Func: AggCountStar, Filter: -1, Type: types.Int64},
		spec(AggCount, 2, types.Text, types.Int64),
		spec(AggSum, 1, types.Int64, types.Numeric),
		spec(AggSum, 4, types.Float64, types.Float64),
		spec(AggSum, 5, types.Numeric, types.Numeric),
		spec(AggAvg, 1, types.Int64, types.Numeric),
		spec(AggAvg, 6, types.Interval, types.Interval),
		spec(AggMin, 2, types.Text, types.Text),
		spec(AggMax, 5, types.Numeric, types.Numeric),
		spec(AggBoolAnd, 3, types.Bool, types.Bool),
		spec(AggBoolOr, 3, types.Bool, types.Bool),
		{Func: AggStringAgg, Args: []int{2, 2}, Filter: -1, OrderBy: []SortKey{{Col: 1}}, ArgType: types.Text, Type: types.Text},
		{Func: AggCount, Args: []int{1}, Distinct: true, Filter: -1, ArgType: types.Int64, Type: types.Int64},
		{Func: AggMax, Args: []int{4}, Filter: 3, ArgType: types.Float64, Type: types.Float64},
	}
	t.Run("grouped", func(t *testing.T) {
		roundTrip(t, 1, 7, func() Operator { return NewAggregate([]int{0}, specs, false) })
	})
	t.Run("scalar", func(t *testing.T) { roundTrip(t, 1, 7, func() Operator { return NewAggregate(nil, specs, true) }) })
}

func TestStateRoundTripHashJoin(t *testing.T) {
	key := func(r types.Row) (types.Datum, error) { return r[0], nil }
	residual := func(r types.Row) (types.Datum, error) {
		return types.NewBool(r[1].IsNull() || r[8].IsNull() || r[1].Int() <= r[8].Int()+2), nil
	}
	for kind := JoinInner; kind <= JoinAnti; kind++ {
		t.Run(kind.String(), func(t *testing.T) {
			roundTrip(t, 2, 7, func() Operator {
				return NewHashJoin(kind, []EvalFunc{key}, []EvalFunc{key}, 7, 7, residual, "")
			})
		})
	}
	t.Run("nested-loop", func(t *testing.T) {
		roundTrip(t, 2, 7, func() Operator { return NewHashJoin(JoinFull, nil, nil, 7, 7, residual, "") })
	})
	for _, kind := range []JoinKind{JoinInner, JoinLeft} {
		t.Run("temporal "+kind.String(), func(t *testing.T) {
			roundTripStreams(t, 2, 1, 7, func() Operator {
				return NewTemporalJoin(kind, []EvalFunc{key}, []EvalFunc{key}, 7, 7, residual, "")
			})
		})
	}
}

func TestStateRoundTripDistinct(t *testing.T) {
	roundTrip(t, 1, 2, func() Operator { return NewDistinct() })
}

func TestStateRoundTripTopN(t *testing.T) {
	keys := []SortKey{{Col: 1, Desc: true}, {Col: 2}}
	t.Run("partitioned", func(t *testing.T) {
		roundTrip(t, 1, 3, func() Operator { return NewTopN([]int{0}, keys, 1, 2, "") })
	})
	t.Run("global", func(t *testing.T) {
		roundTrip(t, 1, 3, func() Operator { return NewTopN(nil, keys, 0, 3, "") })
	})
}

func TestStateRoundTripSetOp(t *testing.T) {
	for _, kind := range []SetOpKind{SetIntersect, SetExcept} {
		for _, all := range []bool{false, true} {
			t.Run(NewSetOp(kind, all).String(), func(t *testing.T) {
				roundTrip(t, 2, 2, func() Operator { return NewSetOp(kind, all) })
			})
		}
	}
}
