package coord

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/types"
)

// BenchmarkGroupByScan measures a GROUP BY over a stored table through the
// whole query path (storage scan, decode, aggregate), as the bench harness
// runs it over pgwire.
func BenchmarkGroupByScan(b *testing.B) {
	const rows = 200_000
	h := newHarness(&testing.T{}, b.TempDir())
	defer h.close()
	s := h.session()
	if _, err := run(&testing.T{}, s, "CREATE TABLE bench (id BIGINT PRIMARY KEY, grp INTEGER, name TEXT, amount DOUBLE PRECISION)"); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "%d\t%d\tname-%d\t%d.5\n", i, i%1000, i%977, i%100)
	}
	if _, err := feedCopy(&testing.T{}, s, "COPY bench FROM STDIN", sb.String()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stmts, err := s.Parse(ctx, "SELECT grp, count(*), sum(amount), max(name) FROM bench GROUP BY grp", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Execute(ctx, stmts[0], nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, ok, err := res.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
		res.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertValues measures multi-row INSERT statements of 1000 rows,
// each its own transaction, through parse, plan, execute and commit.
func BenchmarkInsertValues(b *testing.B) {
	h := newHarness(&testing.T{}, b.TempDir())
	defer h.close()
	s := h.session()
	if _, err := run(&testing.T{}, s, "CREATE TABLE bench (id BIGINT PRIMARY KEY, grp INTEGER, name TEXT, amount DOUBLE PRECISION)"); err != nil {
		b.Fatal(err)
	}
	next := 0
	stmt := func() string {
		var sb strings.Builder
		sb.WriteString("INSERT INTO bench VALUES ")
		for i := 0; i < 1000; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d, 'name-%d', %d.5)", next, next%1000, next%977, next%100)
			next++
		}
		return sb.String()
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		q := stmt()
		b.StartTimer()
		if _, err := run(&testing.T{}, s, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkViewMaintenance measures row changes per second through a
// count/sum GROUP BY view, fed by COPY FROM STDIN in 100k-row statements,
// with few and with many groups; with many groups also with a state cache
// (--state-cache-size) far below the state's size, so that most changes
// read their group back from storage.
func BenchmarkViewMaintenance(b *testing.B) {
	for _, c := range []struct {
		groups int
		cache  int64
	}{{1000, 0}, {1_000_000, 0}, {1_000_000, 32 << 20}} {
		name := fmt.Sprintf("groups=%d", c.groups)
		if c.cache > 0 {
			name += fmt.Sprintf("/cache=%dMiB", c.cache>>20)
		}
		groups := c.groups
		b.Run(name, func(b *testing.B) {
			const batch = 100_000
			h, s := groupByView(b, Options{StateCacheSize: c.cache})
			defer h.close()
			next := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				var sb strings.Builder
				for i := 0; i < batch; i++ {
					fmt.Fprintf(&sb, "%d\t%d\t%d\n", next, (next*7919)%groups, next%100)
					next++
				}
				data := sb.String()
				b.StartTimer()
				if _, err := feedCopy(&testing.T{}, s, "COPY ev FROM STDIN", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// groupByView starts a coordinator with opts and creates the table ev
// (id, grp, v) and the view per_grp: count and sum of v by grp.
func groupByView(b *testing.B, opts Options) (*harness, server.Session) {
	h := newHarnessWith(&testing.T{}, b.TempDir(), opts)
	s := h.session()
	if _, err := run(&testing.T{}, s, `CREATE TABLE ev (id BIGINT PRIMARY KEY, grp BIGINT, v INT);
		CREATE MATERIALIZED VIEW per_grp AS SELECT grp, count(*) AS n, sum(v) AS total FROM ev GROUP BY grp`); err != nil {
		b.Fatal(err)
	}
	return h, s
}

// BenchmarkPointSelect measures a prepared primary-key lookup through the
// session API: plan reuse, snapshot, lookup, result.
func BenchmarkPointSelect(b *testing.B) {
	h := newHarness(&testing.T{}, b.TempDir())
	defer h.close()
	s := h.session()
	if _, err := run(&testing.T{}, s, "CREATE TABLE bench (id BIGINT PRIMARY KEY, grp INTEGER, name TEXT)"); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&sb, "%d\t%d\tname-%d\n", i, i%1000, i)
	}
	if _, err := feedCopy(&testing.T{}, s, "COPY bench FROM STDIN", sb.String()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stmts, err := s.Parse(ctx, "SELECT * FROM bench WHERE id = $1", nil)
	if err != nil {
		b.Fatal(err)
	}
	i := int64(0)
	for b.Loop() {
		res, err := s.Execute(ctx, stmts[0], []types.Datum{types.NewInt64(i * 7919 % 100_000)})
		if err != nil {
			b.Fatal(err)
		}
		if _, ok, err := res.Next(ctx); !ok || err != nil {
			b.Fatal("no row", err)
		}
		res.Close()
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
