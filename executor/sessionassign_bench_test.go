package executor

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// BenchmarkSessionWindow runs SESSION (gap 5 s) alone, and with a count
// per session (EMIT ON WINDOW CLOSE) after it, over 1M clicks of 10k users, 1 ms of event time
// apart, out of order by up to 2 s; each epoch of 10k rows ends with the
// watermark at the latest time less 2 s. It reports the rate and the
// state (rows the session operator holds, groups the aggregate holds) at
// the middle and at the end of the run: both stay flat, bounded by the
// open sessions, however long the run.
func BenchmarkSessionWindow(b *testing.B) {
	const rows, users, epochRows = 1_000_000, 10_000, 10_000
	const gap, disorder = 5_000_000, 2_000_000 // microseconds
	rng := rand.New(rand.NewPCG(1, 2))
	var batches []*Batch
	var wms []int64 // the watermark after batches[i], or 0
	var latest int64
	for i := 0; i < rows; i += BatchSize {
		bt := &Batch{}
		for j := i; j < min(rows, i+BatchSize); j++ {
			t := int64(j)*1000 + disorder - rng.Int64N(disorder)
			latest = max(latest, t)
			bt.Append(types.Row{types.NewInt64(rng.Int64N(users)), types.NewTimestamp(t)}, 1)
		}
		batches = append(batches, bt)
		wms = append(wms, 0)
		if (i/BatchSize+1)%(epochRows/BatchSize) == 0 {
			wms[len(wms)-1] = latest - disorder
		}
	}
	for _, mode := range []string{"assign", "assign+count"} {
		b.Run(mode, func(b *testing.B) { benchSessions(b, batches, wms, gap, mode == "assign+count") })
	}
}

// benchSessions runs the batches through SESSION, and through a count
// per session emitted on close when count is set.
func benchSessions(b *testing.B, batches []*Batch, wms []int64, gap int64, count bool) {
	ctx := context.Background()
	var s *SessionAssign
	var a *Aggregate
	var midRows, midGroups int64
	rows := 0
	for _, bt := range batches {
		rows += bt.Len()
	}
	for b.Loop() {
		b.StopTimer()
		var err error
		if s, err = NewSessionAssign(2, []int{0}, 1, gap, "Session"); err != nil {
			b.Fatal(err)
		}
		a = NewAggregate([]int{0, 2, 3}, []AggSpec{{Func: AggCountStar, Filter: -1, Type: types.Int64}}, false)
		a.SetWindow(2, true)
		sink := &nullSink{}
		s.SetOutput(Output{To: sink})
		if count {
			s.SetOutput(Output{To: a})
			a.SetOutput(Output{To: sink})
		}
		s.TrackState()
		a.TrackState()
		discard := func(k, v []byte) error { return nil }
		midRows = -1
		b.StartTimer()
		for i, bt := range batches {
			if err := s.Push(ctx, 0, bt); err != nil {
				b.Fatal(err)
			}
			if wms[i] == 0 {
				continue
			}
			if err := s.Watermark(ctx, 0, 1, types.NewTimestamp(wms[i])); err != nil {
				b.Fatal(err)
			}
			if err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := a.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := s.SaveDirty(discard); err != nil {
				b.Fatal(err)
			}
			if err := a.SaveDirty(discard); err != nil {
				b.Fatal(err)
			}
			if midRows < 0 && i >= len(batches)/2 {
				midRows, midGroups = s.StateRows(), int64(len(a.groups))
			}
		}
		if sink.n == 0 {
			b.Fatal("nothing emitted")
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(midRows), "state-rows-mid")
	b.ReportMetric(float64(s.StateRows()), "state-rows-end")
	if count {
		b.ReportMetric(float64(midGroups), "groups-mid")
		b.ReportMetric(float64(len(a.groups)), "groups-end")
	}
}
