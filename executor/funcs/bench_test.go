package funcs

import (
	"testing"

	"github.com/weirdb/weir/sql/types"
)

func benchEval(b *testing.B, name string, args []types.Datum) {
	ats := make([]types.Type, len(args))
	for i, a := range args {
		ats[i] = types.Type{Kind: a.Kind()}
	}
	r, err := Resolve(name, ats)
	if err != nil {
		b.Fatal(err)
	}
	eval := r.Evaluator()
	env := testEnv()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := eval(env, args); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkInt4Plus(b *testing.B) { benchEval(b, "+", []types.Datum{i4(12345), i4(678)}) }
func BenchmarkTextEq(b *testing.B) {
	benchEval(b, "=", []types.Datum{tx("customer-000123"), tx("customer-000124")})
}
func BenchmarkLike(b *testing.B) {
	benchEval(b, "~~", []types.Datum{tx("the quick brown fox jumps"), tx("%brown%jumps")})
}
func BenchmarkDateTrunc(b *testing.B) {
	benchEval(b, "date_trunc", []types.Datum{tx("hour"), tsv("2024-02-15 10:11:12.5")})
}
func BenchmarkNumericPlus(b *testing.B) { benchEval(b, "+", []types.Datum{num("123.45"), num("0.55")}) }
