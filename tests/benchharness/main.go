// Command benchharness runs one pgx workload against bin/weir and, in the same
// run, against a private PostgreSQL 15 (durable defaults: fsync on), and
// prints each figure with the Weir/PostgreSQL ratio. `make bench` runs it.
//
// Figures: (a) batched INSERT rows/s (multi-row INSERTs of -batch rows),
// (b) point SELECT by primary key ops/s from 1 and from -conns connections,
// (c) a GROUP BY over all -rows rows, seconds per query; and with -figures
// views the figures of issue 3 (views.go): row changes/s through GROUP BY and
// join views fed by COPY against PostgreSQL's REFRESH MATERIALIZED VIEW after
// each batch, one small change at N rows, push-query latency, pull queries on
// a view under writes, the cost of durability (fsynced commits against
// synchronous_commit = off), the footprint of a COUNT(*) view on disk and in
// memory, restart time; and with -figures kafka those of issue 4 (kafka.go):
// records/s per core from a Kafka topic into a GROUP BY view, JSON and
// Avro, against a bare franz-go consumer, and kill -9 to consuming again.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	weirBin  = flag.String("weir-bin", "", "bin/weir to run (default: $WEIR_BIN or ./bin/weir)")
	rows     = flag.Int("rows", 1_000_000, "rows to insert (and to GROUP BY)")
	batch    = flag.Int("batch", 1000, "rows per multi-row INSERT")
	points   = flag.Int("points", 20_000, "point SELECTs per connection")
	conns    = flag.Int("conns", 8, "connections for the concurrent point SELECT")
	groupRep = flag.Int("group-reps", 3, "GROUP BY repetitions (the best is reported)")
	only     = flag.String("only", "", "run against one side only: weir or postgres")
	timeout  = flag.Duration("timeout", 20*time.Minute, "give up after")
	which    = flag.String("figures", "base,views,kafka,http,sse,nexmark", "figures to run, comma-separated: base (INSERT, point SELECT, GROUP BY), views (issue 3), kafka (issue 4), http (issue 5: HTTP sink), sse (issue 5: SSE fan-out), nexmark (issue 6)")
)

func mkTemp() (string, error) { return os.MkdirTemp("", "weirbench-") }
func removeAll(dir string)    { os.RemoveAll(dir) }

type figures struct {
	insertRowsPerSec float64
	point1OpsPerSec  float64
	pointNOpsPerSec  float64
	groupBySeconds   float64
	groupsSeen       int64
	err              error
}

func main() {
	flag.Parse()
	if *bareConsumer != "" {
		if err := bareConsume(*bareConsumer); err != nil {
			fmt.Fprintln(os.Stderr, "bare consumer:", err)
			os.Exit(1)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	base, views, kafka := strings.Contains(*which, "base"), strings.Contains(*which, "views"), strings.Contains(*which, "kafka")
	httpSink := strings.Contains(*which, "http")
	var httpFigs *httpFigures
	sse := strings.Contains(*which, "sse")
	var sseFigs *sseFigures
	nexmarkOn := strings.Contains(*which, "nexmark")
	var nexmarkFigs *nexmarkFigures
	var stateCurves []stateCurve
	var ingestWindow *ingestWindowFigure
	var latencies []latencyFigure
	results := map[string]*figures{}
	sides := map[string]*side{}
	var kafkaFigs *kafkaFigures // Weir only: the baseline is a bare consumer
	if *only == "" || *only == "weir" {
		bin, err := weirBinPath()
		if base {
			if err != nil {
				results["weir"] = &figures{err: err}
			} else {
				results["weir"] = runWeir(ctx, bin)
			}
		}
		if views {
			if err != nil {
				sides["weir"] = &side{name: "weir", errs: map[string]string{"*": err.Error()}}
			} else {
				sides["weir"] = runWeirViews(ctx, bin)
			}
		}
		if kafka {
			if err != nil {
				kafkaFigs = &kafkaFigures{errs: map[string]string{"*": err.Error()}}
			} else {
				kafkaFigs = runKafkaFigures(ctx, bin)
			}
		}
		if httpSink {
			f := httpFigures{err: err}
			if err == nil {
				f = runHTTPSinkFigure(ctx, bin)
			}
			httpFigs = &f
		}
		if sse {
			f := sseFigures{err: err}
			if err == nil {
				f = runSSEFanoutFigure(ctx, bin)
			}
			sseFigs = &f
		}
		if nexmarkOn {
			if err != nil {
				nexmarkFigs = &nexmarkFigures{results: map[string]nexmarkResult{"q0": {err: err}}}
			} else {
				nexmarkFigs = runNexmarkFigures(ctx, bin)
				stateCurves = runNexmarkStateFigure(ctx, bin)
				f := runIngestWindowFigure(ctx, bin)
				ingestWindow = &f
				latencies = runNexmarkLatencyFigure(ctx, bin)
			}
		}
	}
	if *only == "" || *only == "postgres" {
		pg, err := weirtest.StartPostgres(ctx, weirtest.PGOptions{Fsync: true})
		if err != nil {
			results["postgres"] = &figures{err: err}
			sides["postgres"] = &side{name: "postgres", errs: map[string]string{"*": err.Error()}}
		} else {
			if base {
				results["postgres"] = workload(ctx, "postgres", pg.DSN("weir"))
			}
			if views {
				sides["postgres"] = runPostgresViews(ctx, pg)
			}
			pg.Stop()
		}
	}
	failed := false
	if base {
		report(results)
		for _, f := range results {
			failed = failed || f.err != nil
		}
	}
	if views {
		failed = reportViews(sides) || failed
	}
	if kafkaFigs != nil {
		failed = reportKafka(kafkaFigs) || failed
	}
	if httpFigs != nil {
		failed = reportHTTPSink(*httpFigs) || failed
	}
	if sseFigs != nil {
		failed = reportSSEFanout(*sseFigs) || failed
	}
	if nexmarkFigs != nil {
		failed = reportNexmark(nexmarkFigs) || failed
	}
	if stateCurves != nil {
		failed = reportNexmarkState(stateCurves) || failed
	}
	if ingestWindow != nil {
		failed = reportIngestWindow(*ingestWindow) || failed
	}
	if latencies != nil {
		failed = reportNexmarkLatency(latencies) || failed
	}
	if failed {
		os.Exit(1)
	}
}

func weirBinPath() (string, error) {
	if *weirBin != "" {
		return *weirBin, nil
	}
	return weirtest.BinPath()
}

func runWeir(ctx context.Context, bin string) *figures {
	dir, err := os.MkdirTemp("", "weirbench-")
	if err != nil {
		return &figures{err: err}
	}
	defer os.RemoveAll(dir)
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), "--log-level=info")
	if err != nil {
		return &figures{err: err}
	}
	defer w.Stop()
	f := workload(ctx, "weir", w.DSN())
	if f.err != nil {
		fmt.Fprintf(os.Stderr, "weir log tail:\n%s\n", w.LogTail(3000))
	}
	return f
}

func logf(side, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s [%s] %s\n", time.Now().Format("15:04:05"), side, fmt.Sprintf(format, args...))
}

func workload(ctx context.Context, side, dsn string) (f *figures) {
	f = &figures{}
	fail := func(err error) *figures {
		f.err = err
		logf(side, "FAILED: %v", err)
		return f
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, `CREATE TABLE bench (id BIGINT PRIMARY KEY, grp INTEGER, name TEXT, amount DOUBLE PRECISION)`); err != nil {
		return fail(err)
	}

	// (a) batched INSERTs: multi-row INSERT statements with literal values
	logf(side, "inserting %d rows in INSERTs of %d", *rows, *batch)
	start := time.Now()
	var sb strings.Builder
	for lo := 0; lo < *rows; lo += *batch {
		sb.Reset()
		sb.WriteString("INSERT INTO bench VALUES ")
		for i := lo; i < lo+*batch && i < *rows; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,%d,'name-%d',%d.5)", i, i%100, i, i%1000)
		}
		if _, err := c.Exec(ctx, sb.String()); err != nil {
			return fail(fmt.Errorf("insert at %d: %w", lo, err))
		}
	}
	f.insertRowsPerSec = float64(*rows) / time.Since(start).Seconds()
	logf(side, "insert: %.0f rows/s", f.insertRowsPerSec)
	if side == "postgres" {
		c.Exec(ctx, `VACUUM ANALYZE bench`) // what any PostgreSQL user does after a bulk load
	}

	// (b) point SELECTs by primary key (extended protocol, prepared)
	point := func(c *pgx.Conn, seed uint64, n int) error {
		r := rand.New(rand.NewPCG(seed, 7))
		var name string
		for i := 0; i < n; i++ {
			id := r.Int64N(int64(*rows))
			if err := c.QueryRow(ctx, `SELECT name FROM bench WHERE id = $1`, id).Scan(&name); err != nil {
				return fmt.Errorf("point select id %d: %w", id, err)
			}
			if name != fmt.Sprint("name-", id) {
				return fmt.Errorf("point select id %d: got %q", id, name)
			}
		}
		return nil
	}
	start = time.Now()
	if err := point(c, 1, *points); err != nil {
		return fail(err)
	}
	f.point1OpsPerSec = float64(*points) / time.Since(start).Seconds()
	logf(side, "point select, 1 conn: %.0f ops/s", f.point1OpsPerSec)

	cs := make([]*pgx.Conn, *conns)
	for i := range cs {
		if cs[i], err = pgx.Connect(ctx, dsn); err != nil {
			return fail(err)
		}
		defer cs[i].Close(context.Background())
		if err := point(cs[i], uint64(100+i), 10); err != nil { // warm the statement cache
			return fail(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, *conns)
	start = time.Now()
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = point(cs[i], uint64(200+i), *points)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	f.pointNOpsPerSec = float64(*points**conns) / time.Since(start).Seconds()
	logf(side, "point select, %d conns: %.0f ops/s", *conns, f.pointNOpsPerSec)

	// (c) GROUP BY over every row
	for rep := 0; rep < *groupRep; rep++ {
		start = time.Now()
		rs, err := c.Query(ctx, `SELECT grp, count(*), sum(amount), max(name) FROM bench GROUP BY grp`)
		if err != nil {
			return fail(err)
		}
		var groups, total int64
		for rs.Next() {
			var g int32
			var n int64
			var sum float64
			var mx string
			if err := rs.Scan(&g, &n, &sum, &mx); err != nil {
				return fail(err)
			}
			groups++
			total += n
		}
		if err := rs.Err(); err != nil {
			return fail(err)
		}
		d := time.Since(start).Seconds()
		if total != int64(*rows) {
			return fail(fmt.Errorf("GROUP BY counted %d rows, want %d", total, *rows))
		}
		f.groupsSeen = groups
		if rep == 0 || d < f.groupBySeconds {
			f.groupBySeconds = d
		}
	}
	logf(side, "group by: %.3f s (%d groups)", f.groupBySeconds, f.groupsSeen)
	return f
}

func report(res map[string]*figures) {
	w, pg := res["weir"], res["postgres"]
	if w == nil {
		w = &figures{err: fmt.Errorf("not run")}
	}
	if pg == nil {
		pg = &figures{err: fmt.Errorf("not run")}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(os.Stdout, "\nrows=%d batch=%d points=%d conns=%d (PostgreSQL 15, fsync on, default settings)\n", *rows, *batch, *points, *conns)
	fmt.Fprintln(tw, "figure\tWeir\tPostgreSQL\tWeir/PostgreSQL\t")
	line := func(name string, a, b float64, unit string) {
		cell := func(v float64, err error) string {
			if err != nil || v == 0 {
				return "-"
			}
			if unit == "s" {
				return fmt.Sprintf("%.3f s", v)
			}
			return fmt.Sprintf("%.0f %s", v, unit)
		}
		ratio := "-"
		if w.err == nil && pg.err == nil && b != 0 {
			ratio = fmt.Sprintf("%.2f", a/b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, cell(a, w.err), cell(b, pg.err), ratio)
	}
	line(fmt.Sprintf("INSERT, %d-row statements", *batch), w.insertRowsPerSec, pg.insertRowsPerSec, "rows/s")
	line("point SELECT by PK, 1 conn", w.point1OpsPerSec, pg.point1OpsPerSec, "ops/s")
	line(fmt.Sprintf("point SELECT by PK, %d conns", *conns), w.pointNOpsPerSec, pg.pointNOpsPerSec, "ops/s")
	line(fmt.Sprintf("GROUP BY over %d rows (lower is better)", *rows), w.groupBySeconds, pg.groupBySeconds, "s")
	tw.Flush()
	for side, f := range map[string]*figures{"weir": w, "postgres": pg} {
		if f.err != nil {
			fmt.Printf("%s: %v\n", side, f.err)
		}
	}
}
