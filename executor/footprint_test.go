package executor

import (
	"context"
	"runtime"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// BenchmarkAggregateFootprint reports the memory one group of
// `SELECT k, count(*) ... GROUP BY k` over a BIGINT k takes in a live
// aggregate (state tracked for saving, as a view's is): the heap in use
// after the groups exist and were saved, less the heap before, per group.
func BenchmarkAggregateFootprint(b *testing.B) {
	const groups = 1_000_000
	ctx := context.Background()
	specs := []AggSpec{{Func: AggCountStar, Filter: -1, Type: types.Int64}}
	var perGroup float64
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		a := NewAggregate([]int{0}, specs, false)
		a.TrackState()
		a.SetOutput(Output{To: discard{}})
		batch := &Batch{}
		for k := range groups {
			batch.Append(types.Row{types.NewInt64(int64(k) * 7919)}, 1)
			if batch.Len() == BatchSize || k == groups-1 {
				if err := a.Push(ctx, 0, batch); err != nil {
					b.Fatal(err)
				}
				batch = &Batch{}
			}
		}
		if err := a.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := a.SaveDirty(func(k, v []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perGroup = float64(after.HeapAlloc-before.HeapAlloc) / groups
		runtime.KeepAlive(a)
		b.StartTimer()
	}
	b.ReportMetric(perGroup, "heap-bytes/group")
	b.ReportMetric(float64(accountedBytes(specs, groups))/groups, "accounted-bytes/group")
}

// accountedBytes is what the state cache accounts for the same groups, to
// compare its estimate with the heap.
func accountedBytes(specs []AggSpec, groups int) int64 {
	a := NewAggregate([]int{0}, specs, false)
	a.TrackState()
	b := &Batch{}
	for k := range groups {
		b.Append(types.Row{types.NewInt64(int64(k))}, 1)
	}
	_ = a.Push(context.Background(), 0, b)
	a.SetOutput(Output{To: discard{}})
	_ = a.Flush(context.Background())
	_ = a.SaveDirty(func(k, v []byte) error { return nil })
	return a.CachedBytes()
}

type discard struct{}

func (discard) Push(context.Context, int, *Batch) error { return nil }
func (discard) Flush(context.Context) error             { return nil }
func (discard) SetOutput(Output)                        {}
func (discard) String() string                          { return "discard" }
