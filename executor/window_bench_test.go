package executor

import (
	"context"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// benchmarkWindowEpoch maintains row_number() OVER (PARTITION BY k ORDER
// BY v) over 1M rows (id, k, v) in 1,000 partitions under epochs of 100
// changes (50 inserts, 50 deletes of the oldest rows), each landing at a
// random place of its partition.
func benchmarkWindowEpoch(b *testing.B, limit int64) {
	ctx := context.Background()
	funcs := []WindowFunc{{Kind: WinRowNumber, Type: types.Int64}}
	op := NewWindow([]int{1}, []SortKey{{Col: 2}}, funcs, limit, CutRows, "")
	op.SetOutput(Output{To: discard{}})
	op.TrackState()
	row := func(i int64) types.Row {
		return types.Row{types.NewInt64(i), types.NewInt64(i % 1000), types.NewInt64((i * 7919) % 1_000_003)}
	}
	save := func() {
		if err := op.SaveDirty(func(_, _ []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	const rows = 1_000_000
	batch := &Batch{}
	for i := range int64(rows) {
		batch.Append(row(i), 1)
		if batch.Len() == BatchSize {
			if err := op.Push(ctx, 0, batch); err != nil {
				b.Fatal(err)
			}
			batch = &Batch{}
		}
	}
	if err := op.Push(ctx, 0, batch); err != nil {
		b.Fatal(err)
	}
	if err := op.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	save()
	next, changes := int64(rows), 0
	for b.Loop() {
		batch := &Batch{}
		for range 50 {
			batch.Append(row(next), 1)
			batch.Append(row(next-rows), -1)
			next++
		}
		if err := op.Push(ctx, 0, batch); err != nil {
			b.Fatal(err)
		}
		if err := op.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		save()
		changes += batch.Len()
	}
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
}

// BenchmarkWindowEpoch: every row of a changed partition is renumbered
// (O(partition) per changed partition), and the rows whose number moved
// are emitted again.
func BenchmarkWindowEpoch(b *testing.B) { benchmarkWindowEpoch(b, -1) }

// BenchmarkWindowTopNEpoch is the top-N per group rewrite of WHERE rn <= 3:
// a changed partition takes its first 3 rows.
func BenchmarkWindowTopNEpoch(b *testing.B) { benchmarkWindowEpoch(b, 3) }
