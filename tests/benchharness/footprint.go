package main

// Issue 3's footprint and restart figures: what a COUNT(*) GROUP BY bigint
// view costs per group on disk and in memory, and how long a server holding
// one takes from kill -9 to answering. On the Weir side they run on a server
// of their own, so that its data directory and its heap hold nothing but
// what they measure.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

var restartGroups = flag.Int("restart-groups", 0, "groups of the restart figure's COUNT(*) view (default: -groups; issue 3: 5000000)")

func figureOn(name string) bool { return slices.Contains(strings.Split(*viewFigs, ","), name) }

var footprintKeys = []string{"fp_disk", "fp_mem", "fp_table"}

// countNames names the table of G rows (id, k) and its COUNT(*) GROUP BY k
// view of G groups that the footprint and restart figures measure.
func countNames(groups int) (table, view string) {
	return fmt.Sprintf("fp_%d", groups), fmt.Sprintf("fpv_%d", groups)
}

// createCountTable creates the table of countNames(groups) and COPYs rows
// [0, groups) into it: one row per group.
func createCountTable(ctx context.Context, c *pgx.Conn, groups int) error {
	table, _ := countNames(groups)
	if err := execAll(ctx, c, fmt.Sprintf(`CREATE TABLE %s (id BIGINT PRIMARY KEY, k BIGINT)`, table)); err != nil {
		return err
	}
	return copyKeys(ctx, c, table, 0, groups, groups)
}

// copyKeys COPYs rows [lo, hi) into a countNames table, their keys
// scattered over groups values.
func copyKeys(ctx context.Context, c *pgx.Conn, table string, lo, hi, groups int) error {
	_, _, err := copyIn(ctx, c, table, []string{"id", "k"}, lo, hi,
		func(i int) []any { return []any{int64(i), mix(i, groups)} }, nil)
	return err
}

func createCountView(ctx context.Context, c *pgx.Conn, groups int) error {
	table, view := countNames(groups)
	return execAll(ctx, c, fmt.Sprintf(`CREATE MATERIALIZED VIEW %s AS SELECT k, count(*) AS n FROM %s GROUP BY k`, view, table))
}

// footprintServer runs the footprint and restart figures on a Weir server
// of their own. It starts it with --pprof: /debug/pprof/heap?gc=1 is how
// the harness makes the server collect its garbage before reading its heap.
func footprintServer(ctx context.Context, s *side, bin, dir string) {
	var keys []string
	if figureOn("footprint") {
		keys = append(keys, footprintKeys...)
	}
	if figureOn("restart") {
		keys = append(keys, "restart")
	}
	if len(keys) == 0 {
		return
	}
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data-footprint"), filepath.Join(dir, "weir-footprint.log"), "--log-level=info", "--pprof")
	if err != nil {
		s.fail(keys, err)
		return
	}
	defer w.Stop()
	s.dsn = w.DSN()
	failed := len(s.errs)
	footprint(ctx, s, w)
	restartFigure(ctx, s, w)
	if len(s.errs) > failed {
		logf("weir", "footprint server's log tail:\n%s", w.LogTail(3000))
	}
}

// footprint runs footprintFigure on its own connection; w is nil for
// PostgreSQL.
func footprint(ctx context.Context, s *side, w *weirtest.Weir) {
	if !figureOn("footprint") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, *stepTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		s.fail(footprintKeys, err)
		return
	}
	defer c.Close(context.Background())
	if err := footprintFigure(ctx, s, c, w); err != nil {
		s.fail(footprintKeys, err)
	}
}

// (7) footprint: bytes per group of a COUNT(*) GROUP BY bigint view of G
// (-groups) groups over a table of G rows.
//
// Weir, on disk: the growth of the data directory's sstables from before
// CREATE MATERIALIZED VIEW to after it (the view's rows and its operators'
// state), each reading taken after CHECKPOINT once the directory has
// settled; the table likewise, from the empty server to after its COPY.
// In memory: the growth of the Go heap in use (/metrics'
// go_memstats_heap_inuse_bytes, read after a forced GC) over the same step,
// read once the directory has settled (a compaction holds buffers).
//
// PostgreSQL: pg_total_relation_size of the materialized view (no index) and
// of the table (with its primary key's index), divided by G.
func footprintFigure(ctx context.Context, s *side, c *pgx.Conn, w *weirtest.Weir) error {
	groups := *groupsLarge
	table, view := countNames(groups)
	if s.pg {
		if err := createCountTable(ctx, c, groups); err != nil {
			return err
		}
		if err := createCountView(ctx, c, groups); err != nil {
			return err
		}
		var viewBytes, tableBytes int64
		if err := c.QueryRow(ctx, `SELECT pg_total_relation_size($1::regclass), pg_total_relation_size($2::regclass)`, view, table).Scan(&viewBytes, &tableBytes); err != nil {
			return err
		}
		s.set("fp_disk", float64(viewBytes)/float64(groups))
		s.set("fp_table", float64(tableBytes)/float64(groups))
		logf(s.name, "footprint: %s %d bytes (%.1f B/group), %s %d bytes (%.1f B/row)", view, viewBytes, s.vals["fp_disk"], table, tableBytes, s.vals["fp_table"])
		return checkAgg(ctx, c, view, groups, groups)
	}
	empty, err := checkpointedDisk(ctx, c, w.DataDir)
	if err != nil {
		return err
	}
	logf(s.name, "footprint: COPY %d rows into %s", groups, table)
	if err := createCountTable(ctx, c, groups); err != nil {
		return err
	}
	loaded, err := checkpointedDisk(ctx, c, w.DataDir)
	if err != nil {
		return err
	}
	heap0, err := heapInUse(ctx, w.HTTPAddr())
	if err != nil {
		return err
	}
	start := time.Now()
	if err := createCountView(ctx, c, groups); err != nil {
		return err
	}
	created := time.Since(start)
	withView, err := checkpointedDisk(ctx, c, w.DataDir)
	if err != nil {
		return err
	}
	heap1, err := heapInUse(ctx, w.HTTPAddr())
	if err != nil {
		return err
	}
	s.countGroups = groups
	g := float64(groups)
	s.set("fp_table", float64(loaded.data-empty.data)/g)
	s.set("fp_disk", float64(withView.data-loaded.data)/g)
	s.set("fp_mem", (heap1.inUse-heap0.inUse)/g)
	logf(s.name, "footprint: CREATE MATERIALIZED VIEW %s took %.1f s; on disk %.1f B/group (whole directory %+.1f B/group), table %.1f B/row (whole directory %+.1f B/row); Go heap in use %.1f B/group (allocated %.1f B/group; %.0f MiB in use with the view)",
		view, created.Seconds(), s.vals["fp_disk"], float64(withView.total-loaded.total)/g, s.vals["fp_table"], float64(loaded.total-empty.total)/g,
		s.vals["fp_mem"], (heap1.alloc-heap0.alloc)/g, heap1.inUse/(1<<20))
	return checkAgg(ctx, c, view, groups, groups)
}

// diskUsage is what a data directory holds: data files (sstables and blob
// files) and everything (also the write-ahead log, the manifest...).
type diskUsage struct{ data, total int64 }

func dirUsage(dir string) (diskUsage, error) {
	var u diskUsage
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // deleted while walking
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		u.total += info.Size()
		if ext := filepath.Ext(path); ext == ".sst" || ext == ".blob" {
			u.data += info.Size()
		}
		return nil
	})
	return u, err
}

// checkpointedDisk runs CHECKPOINT and returns the data directory's usage
// once it has settled: the same in three readings 250 ms apart (the
// compactions the flush set off have ended and deleted their inputs).
func checkpointedDisk(ctx context.Context, c *pgx.Conn, dir string) (diskUsage, error) {
	if _, err := c.Exec(ctx, "CHECKPOINT"); err != nil {
		return diskUsage{}, fmt.Errorf("CHECKPOINT: %w", err)
	}
	var last diskUsage
	same := 0
	for deadline := time.Now().Add(time.Minute); ; {
		u, err := dirUsage(dir)
		if err != nil {
			return u, err
		}
		if u == last {
			if same++; same == 2 {
				return u, nil
			}
		} else {
			last, same = u, 0
		}
		if time.Now().After(deadline) {
			return u, fmt.Errorf("%s still changing a minute after CHECKPOINT", dir)
		}
		select {
		case <-ctx.Done():
			return u, ctx.Err()
		case <-time.After(250 * time.Millisecond): // poll interval, bounded by the deadline above
		}
	}
}

type heapStats struct{ inUse, alloc float64 }

// heapInUse makes the server at httpAddr collect its garbage (its
// /debug/pprof/heap?gc=1, served with --pprof, runs a GC before it writes
// the profile) and then reads its Go heap from /metrics.
func heapInUse(ctx context.Context, httpAddr string) (heapStats, error) {
	var h heapStats
	if _, err := httpGet(ctx, "http://"+httpAddr+"/debug/pprof/heap?gc=1"); err != nil {
		return h, fmt.Errorf("forcing a GC (does bin/weir take --pprof?): %w", err)
	}
	body, err := httpGet(ctx, "http://"+httpAddr+"/metrics")
	if err != nil {
		return h, err
	}
	found := 0
	for _, line := range strings.Split(string(body), "\n") {
		name, val, ok := strings.Cut(line, " ")
		var dst *float64
		switch {
		case !ok:
			continue
		case name == "go_memstats_heap_inuse_bytes":
			dst = &h.inUse
		case name == "go_memstats_heap_alloc_bytes":
			dst = &h.alloc
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(strings.TrimSpace(val), 64); err != nil {
			return h, fmt.Errorf("/metrics: %s: %w", line, err)
		}
		found++
	}
	if found != 2 {
		return h, errors.New("/metrics has no go_memstats_heap_inuse_bytes or go_memstats_heap_alloc_bytes")
	}
	return h, nil
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func restartSize() int {
	if *restartGroups > 0 {
		return *restartGroups
	}
	return *groupsLarge
}

// (6) restart: kill -9 of bin/weir to answering a point query on a
// COUNT(*) GROUP BY bigint view of -restart-groups groups (the footprint
// figure's view when the sizes agree). The view takes one COPY batch after
// its last checkpoint first, so that the restart replays a write-ahead log,
// as that of a server in service would.
func restartFigure(ctx context.Context, s *side, w *weirtest.Weir) {
	keys := []string{"restart"}
	if !figureOn("restart") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, *stepTimeout)
	defer cancel()
	groups := restartSize()
	table, view := countNames(groups)
	c, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		s.fail(keys, err)
		return
	}
	if s.countGroups != groups {
		logf(s.name, "restart: COPY %d rows into %s and create %s", groups, table, view)
		if err = createCountTable(ctx, c, groups); err == nil {
			err = createCountView(ctx, c, groups)
		}
	}
	if err == nil {
		// The view was created a while ago on a server in service: its
		// creation is in the tables, not in the write-ahead log (replaying
		// the one batch of a just created 5M-group view alone takes
		// seconds).
		_, err = c.Exec(ctx, "CHECKPOINT")
	}
	if err == nil {
		err = copyKeys(ctx, c, table, groups, groups+min(*copyBatch, groups), groups)
	}
	var want int64
	var before time.Duration
	if err == nil {
		t0 := time.Now()
		err = c.QueryRow(ctx, `SELECT count(*) FROM `+view).Scan(&want)
		before = time.Since(t0)
	}
	c.Close(context.Background())
	if err != nil {
		s.fail(keys, err)
		return
	}
	if want != int64(groups) {
		s.fail(keys, fmt.Errorf("%s has %d groups, want %d", view, want, groups))
		return
	}
	// The figure runs from the start of the new process: the wait for the
	// killed one to be gone (the kernel freeing its memory, seconds for a
	// large heap on a loaded machine) is reported apart.
	t0 := time.Now()
	w.Kill()
	reaped := time.Since(t0)
	start := time.Now()
	if err := w.Start(ctx); err != nil {
		s.fail(keys, err)
		return
	}
	ready := time.Since(start)
	// Answering queries: a point query on the view (the issue's "answering
	// queries"; a full count is a scan whose time grows with the view and
	// is reported apart, untimed in the figure).
	var n int64
	var answer time.Duration
	key := groups / 2
	for {
		c, err := pgx.Connect(ctx, w.DSN())
		if err == nil {
			t0 := time.Now()
			err = c.QueryRow(ctx, `SELECT n FROM `+view+` WHERE k = $1`, key).Scan(&n)
			answer = time.Since(t0)
			c.Close(context.Background())
		}
		if err == nil {
			break
		}
		if time.Since(start) > time.Minute {
			s.fail(keys, fmt.Errorf("no answer 1 min after kill -9: %w", err))
			return
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the minute above
	}
	d := time.Since(start)
	var got int64
	var scan time.Duration
	if c, err = pgx.Connect(ctx, w.DSN()); err == nil {
		t0 := time.Now()
		err = c.QueryRow(ctx, `SELECT count(*) FROM `+view).Scan(&got)
		scan = time.Since(t0)
		c.Close(context.Background())
	}
	if err != nil {
		s.fail(keys, err)
		return
	}
	if n < 1 || got != want {
		s.fail(keys, fmt.Errorf("after restart the view has %d groups, had %d; group %d counts %d", got, want, key, n))
		return
	}
	s.set("restart", d.Seconds())
	logf(s.name, "restart: %.3f s from the start of the new process to the answer of a point query (/readyz after %.3f s; the query took %.3f s), %d groups; the killed process took %.3f s to be gone; then SELECT count(*) took %.3f s (%.3f s before the kill)",
		d.Seconds(), ready.Seconds(), answer.Seconds(), got, reaped.Seconds(), scan.Seconds(), before.Seconds())
	// where the time went, from Weir's log of the restart
	if b, err := os.ReadFile(w.LogPath); err == nil {
		log := string(b)
		log = log[strings.LastIndex(log, "==== weirtest: starting"):]
		for _, line := range strings.Split(log, "\n") {
			if line != "" {
				logf(s.name, "restart log: %s", line)
			}
			if strings.Contains(line, "weir is ready") {
				break
			}
		}
	}
}
