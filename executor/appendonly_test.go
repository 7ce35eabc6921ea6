package executor

import (
	"context"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// TestAppendOnlyModes checks that Graph.SetAppendOnly puts an aggregate fed
// by insertions into its append-only mode, keeps one fed through a left
// join (which retracts null-padded rows) retractable, and that both modes
// give the same answer.
func TestAppendOnlyModes(t *testing.T) {
	ctx := context.Background()
	specs := []AggSpec{
		{Func: AggMin, Args: []int{1}, Filter: -1, ArgType: types.Int64, Type: types.Int64},
		{Func: AggMax, Args: []int{1}, Filter: -1, ArgType: types.Int64, Type: types.Int64},
	}
	rows := []types.Row{
		{types.NewInt64(1), types.NewInt64(5)}, {types.NewInt64(1), types.NewInt64(2)},
		{types.NewInt64(2), types.Null}, {types.NewInt64(1), types.NewInt64(9)},
	}
	run := func(appendOnly bool) ([]string, *Aggregate) {
		var g Graph
		agg := g.Add(NewAggregate([]int{0}, specs, false)).(*Aggregate)
		sink := &collector{}
		Connect(agg, sink, 0)
		if appendOnly {
			g.SetAppendOnly()
		}
		b := &Batch{}
		for _, r := range rows {
			b.Append(r, 1)
		}
		if err := agg.Push(ctx, 0, b); err != nil {
			t.Fatal(err)
		}
		if err := g.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return sink.lines, agg
	}
	want, inc := run(false)
	got, ao := run(true)
	if inc.appendOnly || !ao.appendOnly {
		t.Fatalf("modes: incremental %v, append-only %v", inc.appendOnly, ao.appendOnly)
	}
	if len(got) != len(want) {
		t.Fatalf("append-only %v, incremental %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("append-only %v, incremental %v", got, want)
		}
	}

	// Behind a left join the aggregate sees retractions: it stays retractable.
	var g Graph
	key := func(r types.Row) (types.Datum, error) { return r[0], nil }
	j := g.Add(NewHashJoin(JoinLeft, []EvalFunc{key}, []EvalFunc{key}, 2, 2, nil, ""))
	agg := g.Add(NewAggregate([]int{0}, specs, false)).(*Aggregate)
	Connect(j, agg, 0)
	Connect(agg, &collector{}, 0)
	g.SetAppendOnly()
	if agg.appendOnly {
		t.Fatal("aggregate behind a left join must stay retractable")
	}

	// A temporal left join never retracts its null-padded rows.
	g = Graph{}
	j = g.Add(NewTemporalJoin(JoinLeft, []EvalFunc{key}, []EvalFunc{key}, 2, 2, nil, ""))
	agg = g.Add(NewAggregate([]int{0}, specs, false)).(*Aggregate)
	Connect(j, agg, 0)
	Connect(agg, &collector{}, 0)
	g.SetAppendOnly()
	if !agg.appendOnly {
		t.Fatal("aggregate behind a temporal left join can be append-only")
	}
}
