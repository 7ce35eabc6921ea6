package main

// The Nexmark figures of issue 6: each query maintained as a view over the
// built-in generator's sources, unpaced; events of the sequence per second
// of Weir's CPU (events/s per core) and of wall clock, and the p99 of the
// epoch commit (an event's time from its source's poll to its view's
// change), beside the published per-core figures of Flink and RisingWave
// and the targets.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/connectors/nexmark"
	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	nexmarkEvents  = flag.Int64("nexmark-events", 1_000_000, "events of the Nexmark sequence each query reads")
	nexmarkQueryed = flag.String("nexmark-queries", "q0,q1,q2,q3,q4,q5,q7,q8", "Nexmark queries to run")
)

// nexmarkBench is one query: its SQL, the tables it reads, and the
// published per-core figures (events/s) it is compared with.
type nexmarkBench struct {
	name, sql     string
	tables        []string
	flink, rw     float64
	target        float64
	targetComment string
}

var nexmarkBenches = []nexmarkBench{
	{"q0", `SELECT auction, bidder, price, date_time FROM bid`, []string{"bid"}, 155e3, 118e3, 1e6, ""},
	{"q1", `SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid`, []string{"bid"}, 158e3, 119e3, 1e6, ""},
	{"q2", `SELECT auction, price FROM bid WHERE auction = 1007 OR auction = 1020 OR auction = 2001 OR auction = 2019 OR auction = 2087`, []string{"bid"}, 175e3, 127e3, 1e6, ""},
	{"q3", `SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
		WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')`, []string{"person", "auction"}, 152e3, 97e3, 500e3, ""},
	{"q4", `SELECT Q.category, AVG(Q.final) AS avg FROM (
		SELECT MAX(B.price) AS final, A.category FROM auction A, bid B
		WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
		GROUP BY A.id, A.category) Q GROUP BY Q.category`, []string{"auction", "bid"}, 34e3, 14e3, 100e3, ""},
	{"q5", `SELECT AuctionBids.auction, AuctionBids.num FROM (
		SELECT bid.auction, count(*) AS num, window_start AS starttime
		FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY window_start, bid.auction) AS AuctionBids
	JOIN (
		SELECT max(CountBids.num) AS maxn, CountBids.starttime_c FROM (
			SELECT count(*) AS num, window_start AS starttime_c
			FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY bid.auction, window_start) AS CountBids
		GROUP BY CountBids.starttime_c) AS MaxBids
	ON AuctionBids.starttime = MaxBids.starttime_c AND AuctionBids.num >= MaxBids.maxn`, []string{"bid"}, 22e3, 5e3, 100e3, ""},
	{"q7", `SELECT B.auction, B.price, B.bidder, B.date_time FROM bid B JOIN (
		SELECT MAX(price) AS maxprice, window_end AS date_time
		FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) GROUP BY window_end) B1
	ON B.price = B1.maxprice WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND AND B1.date_time`, []string{"bid"}, 12e3, 20e3, 200e3, ""},
	{"q8", `SELECT P.id, P.name, P.starttime FROM (
		SELECT id, name, window_start AS starttime, window_end AS endtime
		FROM TUMBLE(person, date_time, INTERVAL '10' SECOND) GROUP BY id, name, window_start, window_end) P
	JOIN (
		SELECT seller, window_start AS starttime, window_end AS endtime
		FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND) GROUP BY seller, window_start, window_end) A
	ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime`, []string{"person", "auction"}, 146e3, 61e3, 300e3, ""},
}

type nexmarkResult struct {
	perCore, wall, p99 float64
	err                error
}

type nexmarkFigures struct {
	events  int64
	results map[string]nexmarkResult
}

func runNexmarkFigures(ctx context.Context, bin string) *nexmarkFigures {
	f := &nexmarkFigures{events: *nexmarkEvents, results: map[string]nexmarkResult{}}
	want := map[string]bool{}
	for _, q := range strings.Split(*nexmarkQueryed, ",") {
		want[strings.TrimSpace(q)] = true
	}
	for _, q := range nexmarkBenches {
		if !want[q.name] {
			continue
		}
		r := runNexmarkQuery(ctx, bin, q, f.events)
		if r.err != nil {
			logf("nexmark", "%s: %v", q.name, r.err)
		} else {
			logf("nexmark", "%s: %.0f events/s per core, %.0f events/s, epoch p99 %.0f ms", q.name, r.perCore, r.wall, r.p99*1000)
		}
		f.results[q.name] = r
	}
	return f
}

// runNexmarkQuery runs one query on a fresh Weir: the sources and the view
// in one query string (the view reads the events as they come), until the
// sources have yielded the sequence.
func runNexmarkQuery(ctx context.Context, bin string, q nexmarkBench, events int64) nexmarkResult {
	w, c, stop, err := freshWeir(ctx, bin)
	if err != nil {
		return nexmarkResult{err: err}
	}
	defer stop()
	counts := map[nexmark.Kind]int64{}
	nexmark.Generate(nexmark.Config{Seed: 1, Events: events}, 0, events, func(e *nexmark.Event) bool {
		counts[e.Kind]++
		return true
	})
	kinds := map[string]nexmark.Kind{"person": nexmark.KindPerson, "auction": nexmark.KindAuction, "bid": nexmark.KindBid}
	var stmts []string
	for _, t := range q.tables {
		stmts = append(stmts, fmt.Sprintf(`CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table = '%s', nexmark.events = %d, nexmark.seed = 1, on_error = 'skip', stored = 'false')`, t, t, events))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", q.name, q.sql))
	cpu0, err := w.CPUTime()
	if err != nil {
		return nexmarkResult{err: err}
	}
	start := time.Now()
	if _, err := c.Exec(ctx, strings.Join(stmts, ";\n")); err != nil {
		return nexmarkResult{err: err}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for _, t := range q.tables {
		for {
			var n int64
			err := c.QueryRow(ctx, `SELECT records FROM weir_catalog.sources WHERE name = $1`, t).Scan(&n)
			if err == nil && n >= counts[kinds[t]] {
				break
			}
			if time.Now().After(deadline) {
				return nexmarkResult{err: fmt.Errorf("source %s: %d of %d rows after 10 minutes (%v)", t, n, counts[kinds[t]], err)}
			}
			time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
		}
	}
	wall := time.Since(start)
	cpu1, err := w.CPUTime()
	if err != nil {
		return nexmarkResult{err: err}
	}
	p99, err := commitP99(ctx, w)
	if err != nil {
		return nexmarkResult{err: err}
	}
	return nexmarkResult{perCore: float64(events) / (cpu1 - cpu0).Seconds(), wall: float64(events) / wall.Seconds(), p99: p99}
}

// commitP99 reads the 99th percentile of the epoch commit durations from
// Weir's /metrics histogram (the upper bound of its bucket).
func commitP99(ctx context.Context, w *weirtest.Weir) (float64, error) {
	lines, err := metricLines(ctx, w)
	if err != nil {
		return 0, err
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, line := range lines {
		if !strings.HasPrefix(line, "weir_epoch_commit_duration_seconds_bucket{") {
			continue
		}
		i := strings.Index(line, `le="`)
		j := strings.Index(line[i+4:], `"`)
		le, err := strconv.ParseFloat(line[i+4:i+4+j], 64)
		if err != nil {
			le = 1e9 // +Inf
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndex(line, " "):]), 64)
		if err != nil {
			return 0, err
		}
		bs = append(bs, bucket{le, n})
	}
	if len(bs) == 0 {
		return 0, fmt.Errorf("no weir_epoch_commit_duration_seconds in /metrics")
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= 0.99*total {
			return b.le, nil
		}
	}
	return bs[len(bs)-1].le, nil
}

// reportNexmark prints the figures; it reports whether any failed.
func reportNexmark(f *nexmarkFigures) bool {
	fmt.Printf("\nnexmark (issue 6): %d events of the sequence per query (seed 1), unpaced; each query a materialized view on a fresh Weir; events/s per Weir CPU second\n", f.events)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tWeir events/s per core\ttarget\tFlink 1.13\tRisingWave\twall events/s\tepoch p99\t")
	failed := false
	for _, q := range nexmarkBenches {
		r, ok := f.results[q.name]
		if !ok {
			continue
		}
		if r.err != nil {
			failed = true
			fmt.Fprintf(tw, "%s\tFAILED\t%.0fk\t%.0fk\t%.0fk\t-\t-\t\n", q.name, q.target/1e3, q.flink/1e3, q.rw/1e3)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0fk\t%.0fk\t%.0fk\t%.0fk\t%.0fk\t%.0f ms\t\n", q.name, r.perCore/1e3, q.target/1e3, q.flink/1e3, q.rw/1e3, r.wall/1e3, r.p99*1000)
	}
	tw.Flush()
	for _, q := range nexmarkBenches {
		if r, ok := f.results[q.name]; ok && r.err != nil {
			fmt.Printf("nexmark FAILED %s: %v\n", q.name, r.err)
		}
	}
	return failed
}

// metricLines reads Weir's /metrics, a line each.
func metricLines(ctx context.Context, w *weirtest.Weir) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.HTTPAddr()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// freshWeir starts Weir on a new data directory and connects to it;
// stop stops both and removes the directory.
func freshWeir(ctx context.Context, bin string) (w *weirtest.Weir, c *pgx.Conn, stop func(), err error) {
	dir, err := mkTemp()
	if err != nil {
		return nil, nil, nil, err
	}
	if w, err = weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), "--log-level=info"); err != nil {
		removeAll(dir)
		return nil, nil, nil, err
	}
	if c, err = pgx.Connect(ctx, w.DSN()); err != nil {
		w.Stop()
		removeAll(dir)
		return nil, nil, nil, err
	}
	return w, c, func() {
		c.Close(context.Background())
		w.Stop()
		removeAll(dir)
	}, nil
}
