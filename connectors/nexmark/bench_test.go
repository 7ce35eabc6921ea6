package nexmark

import (
	"context"
	"testing"

	"github.com/weirdb/weir/executor"
)

// BenchmarkGenerate measures the generator alone: events of all kinds
// per second, as Generate yields them.
func BenchmarkGenerate(b *testing.B) {
	const batch = 100_000
	cfg := Config{Seed: 1}
	var from, sum int64
	for b.Loop() {
		Generate(cfg, from, from+batch, func(e *Event) bool {
			sum += e.Bid.Price
			return true
		})
		from += batch
	}
	b.ReportMetric(float64(from)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSourcePoll measures a bid source unpaced: rows per second as
// Poll makes them, allocation of the rows included.
func BenchmarkSourcePoll(b *testing.B) {
	rel := stream(b, map[string]string{"connector": "nexmark", "nexmark.table": "bid"})
	src := open(b, rel)
	var batch executor.SourceBatch
	var rows int
	for b.Loop() {
		batch.Reset()
		if err := src.Poll(context.Background(), &batch); err != nil {
			b.Fatal(err)
		}
		rows += len(batch.Changes)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
