package coord

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/types"
)

// BenchmarkPullUnderWrites measures prepared pull queries by key on a
// GROUP BY view from 8 reader sessions while a writer session INSERTs into
// its table at 5,000 rows/s (100-row statements every 20 ms), as the bench
// harness's pull figure does over pgwire. It reports queries/s, p50 and p99.
func BenchmarkPullUnderWrites(b *testing.B) {
	const readers = 8
	groups, rows := 100_000, 300_000
	if os.Getenv("PULL_BIG") != "" {
		groups, rows = 200_000, 1_000_000
	}
	h, s := pullHarness(b, groups, rows)
	defer h.close()
	ctx := context.Background()
	stop := make(chan struct{})
	var wrote atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		next := rows
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var sb strings.Builder
			sb.WriteString("INSERT INTO ev VALUES ")
			for i := 0; i < 100; i++ {
				if i > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "(%d,%d,%d)", next, mix(next, groups), next%100)
				next++
			}
			if _, err := run(&testing.T{}, s, sb.String()); err != nil {
				panic(err)
			}
			wrote.Add(100)
		}
	}()
	var nextReader atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(max(1, readers/runtime.GOMAXPROCS(0)))
	if f := os.Getenv("PULL_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		_ = pprof.StartCPUProfile(out)
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		k := int(nextReader.Add(1))
		rs := h.session()
		stmts, err := rs.Parse(ctx, "SELECT * FROM gv WHERE grp = $1", nil)
		if err != nil {
			panic(err)
		}
		var lats []time.Duration
		for i := 0; pb.Next(); i++ {
			want := mix(k*7919+i*104729+1, groups)
			t := time.Now()
			res, err := rs.Execute(ctx, stmts[0], []types.Datum{types.NewInt64(want)})
			if err != nil {
				panic(err)
			}
			row, ok, err := res.Next(ctx)
			if !ok || err != nil || row[0].Int() != want {
				panic(fmt.Sprint("pull: ", row, ok, err))
			}
			if _, ok, _ := res.Next(ctx); ok {
				panic("two rows")
			}
			res.Close()
			lats = append(lats, time.Since(t))
		}
		mu.Lock()
		all = append(all, lats...)
		mu.Unlock()
	})
	el := time.Since(start)
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/el.Seconds(), "queries/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(wrote.Load())/el.Seconds(), "written-rows/s")
}

// pullHarness is a coordinator whose table ev of rows rows feeds the view
// gv, GROUP BY grp over groups groups; s is a session of it.
func pullHarness(b *testing.B, groups, rows int) (*harness, server.Session) {
	h := newHarness(&testing.T{}, b.TempDir())
	s := h.session()
	if _, err := run(&testing.T{}, s, `CREATE TABLE ev (id BIGINT PRIMARY KEY, grp BIGINT, v INT);
		CREATE MATERIALIZED VIEW gv AS SELECT grp, count(*) AS n, sum(v) AS total FROM ev GROUP BY grp`); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "%d\t%d\t%d\n", i, mix(i, groups), i%100)
	}
	if _, err := feedCopy(&testing.T{}, s, "COPY ev FROM STDIN", sb.String()); err != nil {
		b.Fatal(err)
	}
	return h, s
}

// BenchmarkPullQuery is the coordinator's part of one pull query by key on
// a GROUP BY view (100,000 groups), with nothing else running: Execute of
// the prepared statement, its row, Close. It reports queries/s and the
// allocations per query.
func BenchmarkPullQuery(b *testing.B) {
	const groups = 100_000
	h, s := pullHarness(b, groups, 3*groups)
	defer h.close()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, "SELECT * FROM gv WHERE grp = $1", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	i := 0
	for b.Loop() {
		want := mix(i*104729+1, groups)
		i++
		res, err := s.Execute(ctx, stmts[0], []types.Datum{types.NewInt64(want)})
		if err != nil {
			b.Fatal(err)
		}
		row, ok, err := res.Next(ctx)
		if !ok || err != nil || row[0].Int() != want {
			b.Fatal("pull: ", row, ok, err)
		}
		res.Close()
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "queries/s")
}

func mix(i, g int) int64 { return int64((uint64(i) * 1000003) % uint64(g)) }
