package executor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// BenchmarkIntervalJoin runs 30 minutes of event time through an interval
// join, orders within a minute after a click of the same user: 250 clicks
// and 250 orders a second of 10k users, out of order by up to 2 s, in
// epochs of one second that end with each side's watermark at its latest
// time less 5 s, and whose state is saved. It reports the rate and the
// join's state (keys and bytes in memory) at 10 minutes, at its largest
// and at the end: flat, bounded by a minute and the watermark's delay of
// rows, however long the stream.
func BenchmarkIntervalJoin(b *testing.B) {
	const minutes, perSecond, users = 30, 250, 10_000
	const disorder, delay = 2 * secondUs, 5 * secondUs
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]types.Datum, users)
	for i := range keys {
		keys[i] = types.NewText(fmt.Sprintf("user%d", i))
	}
	type epoch struct {
		sides [2]*Batch
		wms   [2]int64
	}
	var epochs []epoch
	var latest [2]int64
	for sec := range int64(minutes * 60) {
		var ep epoch
		for side := range 2 {
			bt := &Batch{}
			for i := range int64(perSecond) {
				t := sec*secondUs + i*(secondUs/perSecond) - rng.Int64N(disorder)
				latest[side] = max(latest[side], t)
				bt.Append(types.Row{keys[rng.IntN(users)], types.NewTimestamp(t)}, 1)
			}
			ep.sides[side], ep.wms[side] = bt, latest[side]-delay
		}
		epochs = append(epochs, ep)
	}
	ctx := context.Background()
	var at10, maxKeys, maxBytes, finalKeys, finalBytes int64
	var matches int
	for b.Loop() {
		b.StopTimer()
		op, err := newIntervalJoin(1, JoinInner, 0, 60*secondUs)
		if err != nil {
			b.Fatal(err)
		}
		j := op.(*HashJoin)
		j.TrackState()
		sink := &nullSink{}
		j.SetOutput(Output{To: sink})
		maxKeys, maxBytes = 0, 0
		b.StartTimer()
		for i, ep := range epochs {
			for side := range 2 {
				if err := j.Push(ctx, side, ep.sides[side]); err != nil {
					b.Fatal(err)
				}
				if err := j.Watermark(ctx, side, 1, types.NewTimestamp(ep.wms[side])); err != nil {
					b.Fatal(err)
				}
			}
			if err := j.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := j.SaveDirty(func(_, _ []byte) error { return nil }); err != nil {
				b.Fatal(err)
			}
			maxKeys, maxBytes = max(maxKeys, j.CachedKeys()), max(maxBytes, j.CachedBytes())
			if i == 10*60-1 {
				at10 = j.CachedBytes()
			}
		}
		finalKeys, finalBytes, matches = j.CachedKeys(), j.CachedBytes(), sink.n
	}
	rows := len(epochs) * 2 * perSecond
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(matches), "matches")
	b.ReportMetric(float64(at10), "state-bytes-10min")
	b.ReportMetric(float64(maxBytes), "state-bytes-max")
	b.ReportMetric(float64(finalBytes), "state-bytes-final")
	b.ReportMetric(float64(maxKeys), "state-keys-max")
	b.ReportMetric(float64(finalKeys), "state-keys-final")
}
