package executor

import (
	"context"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// BenchmarkTopNEpoch maintains `ORDER BY v DESC LIMIT 10` over 1M rows
// under epochs of 100 changes (inserts, and deletes of top rows so that
// rows from below move up): the cost of an epoch must not grow with the
// rows held.
func BenchmarkTopNEpoch(b *testing.B) {
	ctx := context.Background()
	t := NewTopN(nil, []SortKey{{Col: 1, Desc: true}}, 0, 10, "")
	t.SetOutput(Output{To: discard{}})
	row := func(i int64) types.Row { return types.Row{types.NewInt64(i), types.NewInt64((i * 7919) % 1_000_003)} }
	const rows = 1_000_000
	batch := &Batch{}
	for i := range int64(rows) {
		batch.Append(row(i), 1)
		if batch.Len() == BatchSize {
			if err := t.Push(ctx, 0, batch); err != nil {
				b.Fatal(err)
			}
			batch = &Batch{}
		}
	}
	if err := t.Push(ctx, 0, batch); err != nil {
		b.Fatal(err)
	}
	if err := t.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	next, changes := int64(rows), 0
	for b.Loop() {
		batch := &Batch{}
		for j := range int64(50) {
			batch.Append(row(next), 1)
			next++
			batch.Append(row(next-rows+j), -1) // an old row goes
		}
		if err := t.Push(ctx, 0, batch); err != nil {
			b.Fatal(err)
		}
		if err := t.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		changes += batch.Len()
	}
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
}
