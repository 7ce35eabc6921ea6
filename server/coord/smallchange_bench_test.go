package coord

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSmallChange measures a 100-row INSERT into the input of a
// count/sum GROUP BY view that already holds 1M groups: an epoch's cost
// must depend on the change, not on the view's size.
func BenchmarkSmallChange(b *testing.B) {
	const groups = 1_000_000
	h, s := groupByView(b, Options{})
	defer h.close()
	for lo := 0; lo < groups; lo += 100_000 {
		var sb strings.Builder
		for i := lo; i < lo+100_000; i++ {
			fmt.Fprintf(&sb, "%d\t%d\t%d\n", i, i, i%100)
		}
		if _, err := feedCopy(&testing.T{}, s, "COPY ev FROM STDIN", sb.String()); err != nil {
			b.Fatal(err)
		}
	}
	next, n := groups, 0
	for b.Loop() {
		n++
		var sb strings.Builder
		sb.WriteString("INSERT INTO ev VALUES ")
		for i := range 100 {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d, 1)", next, (next*7919)%groups)
			next++
		}
		if _, err := run(&testing.T{}, s, sb.String()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(n), "ms/insert")
}
