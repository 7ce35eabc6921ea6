package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// TestKafkaSourceBackpressure gives a source a topic far ahead of what the
// engine can commit: more bytes than the memory bound, all there before
// the source starts, and a view that makes each epoch cost. The source
// must read only a bounded amount ahead of its commits, so Weir's peak
// resident memory (VmHWM) stays under the bound while it catches up, and
// weir_source_records_total climbs to the number of records.
//
// WEIR_KAFKA_BACKPRESSURE_RECORDS (default 450000) and
// WEIR_KAFKA_BACKPRESSURE_VALUE_BYTES (default 1000) size the backlog:
// by default 429 MiB of values against a bound of 400 MiB
// (WEIR_KAFKA_BACKPRESSURE_BOUND_MIB). Weir peaks at about 250 MiB on it;
// a reader that took the whole backlog peaks at over 1 GiB. Larger
// values pin more of the reader's 16 MiB fetch responses per batch (and
// the Go heap grows to twice what is live): 2000-byte values peak at
// 320-410 MiB.
func TestKafkaSourceBackpressure(t *testing.T) {
	t.Parallel() // alongside the outage test, which mostly waits
	records := envInt(t, "WEIR_KAFKA_BACKPRESSURE_RECORDS", 450_000)
	valueBytes := envInt(t, "WEIR_KAFKA_BACKPRESSURE_VALUE_BYTES", 1000)
	bound := int64(envInt(t, "WEIR_KAFKA_BACKPRESSURE_BOUND_MIB", 400)) << 20
	backlog := int64(records) * int64(valueBytes)
	if backlog <= bound {
		t.Logf("a backlog of %d MiB is under the bound of %d MiB: this run cannot tell a bounded source from one that reads it all", backlog>>20, bound>>20)
	}
	catchUp := time.Minute + time.Duration(records/2000)*time.Second
	ctx := testCtx(t, 2*catchUp+time.Minute)

	k := startKafka(t)
	mustTopic(t, k, "backlog", 4)
	start := time.Now()
	p, err := k.StartProducer("backlog", -1)
	if err != nil {
		t.Fatal(err)
	}
	pad := bytes.Repeat([]byte("x"), valueBytes)
	for i := range records {
		// The padding is a field the source has no column for: read,
		// decoded and dropped, so that the store holds little of it.
		v := fmt.Appendf(nil, `{"id":%d,"k":%d,"v":%d,"pad":"`, i, i%1000, i%97)
		v = append(v, pad[:max(valueBytes-len(v)-2, 1)]...)
		v = append(v, `"}`...)
		if err := p.Send(weirtest.Record{Key: strconv.AppendInt(nil, int64(i), 10), Value: v}); err != nil {
			p.Close()
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("produced %d records of %d bytes (%d MiB) in %v", records, valueBytes, backlog>>20, time.Since(start).Round(time.Millisecond))

	// The state cache is kept small, so that what the bound measures is
	// how far the source reads ahead, not the views' state.
	w := startWeirKafka(t, k, "--state-cache-size=32MiB")
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	_, base, err := w.Memory()
	if err != nil {
		t.Fatal(err)
	}

	// Samples of the resident memory and of weir_source_records_total
	// while the source catches up.
	var (
		mu          sync.Mutex
		maxRSS      int64
		maxHeap     float64 // go_memstats_heap_inuse_bytes: what the heap holds live
		counts      []float64
		sampleErr   error
		stopSamples = make(chan struct{})
		sampled     = make(chan struct{})
	)
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, _, err := w.Memory()
			var m map[string]float64
			if err == nil {
				m, err = scrapeMetrics(ctx, w)
			}
			mu.Lock()
			if err != nil {
				sampleErr = err
				mu.Unlock()
				return
			}
			maxRSS = max(maxRSS, rss)
			maxHeap = max(maxHeap, m["go_memstats_heap_inuse_bytes"])
			if v, ok := m[`weir_source_records_total{source="backlog"}`]; ok {
				counts = append(counts, v)
			}
			mu.Unlock()
			select {
			case <-stopSamples:
				return
			case <-tick.C:
			}
		}
	}()
	stopSampling := func() {
		select {
		case <-stopSamples:
		default:
			close(stopSamples)
		}
		<-sampled
	}
	defer stopSampling()

	start = time.Now()
	mustExec(t, ctx, c, `CREATE SOURCE backlog (id BIGINT, k INT, v INT) WITH (connector='kafka', topic='backlog', format='json')`)
	// Costly per change, but of a state bounded by the groups (a view
	// that keeps rows, like a join, grows with the records however the
	// source reads).
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW backlog_by_k AS
  SELECT k, count(*) AS n, sum(v) AS s, avg(v) AS a, min(v) AS lo, max(v) AS hi, count(DISTINCT v) AS dv, bool_and(v < 96) AS small
  FROM backlog GROUP BY k`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW backlog_by_v AS
  SELECT v, count(*) AS n, sum(id) AS s, max(k) AS hi FROM backlog WHERE id % 10 = 0 GROUP BY v`)
	waitInt(t, c, catchUp, "backlog", `SELECT sum(n) FROM backlog_by_k`, int64(records))
	took := time.Since(start)
	stopSampling()

	_, peak, err := w.Memory()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if sampleErr != nil {
		t.Fatalf("sampling: %v", sampleErr)
	}
	t.Logf("caught up with %d records in %v; resident memory: %d MiB at start, %d MiB at most in %d samples (heap in use at most %d MiB), peak (VmHWM) %d MiB",
		records, took.Round(time.Millisecond), base>>20, maxRSS>>20, len(counts), int64(maxHeap)>>20, peak>>20)
	if peak > bound {
		t.Errorf("Weir's peak resident memory %d MiB is over the bound of %d MiB reading a backlog of %d MiB", peak>>20, bound>>20, backlog>>20)
	}
	for i := 1; i < len(counts); i++ {
		if counts[i] < counts[i-1] {
			t.Errorf("weir_source_records_total went from %v down to %v", counts[i-1], counts[i])
			break
		}
	}
	// The counter moves just after the epoch commits: it may lag the rows
	// by a moment.
	waitFor(t, 5*time.Second, "weir_source_records_total after catching up", func() error {
		m, err := scrapeMetrics(ctx, w)
		if err != nil {
			return err
		}
		if v := m[`weir_source_records_total{source="backlog"}`]; v != float64(records) {
			return fmt.Errorf("weir_source_records_total{source=\"backlog\"} = %v; want %d", v, records)
		}
		return nil
	})
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM backlog`); err != nil || n != int64(records) {
		t.Errorf("backlog holds %d rows (%v); want %d", n, err, records)
	}
	if n, err := queryInt(ctx, c, `SELECT sum(n) FROM backlog_by_v`); err != nil || n != int64((records+9)/10) {
		t.Errorf("backlog_by_v counts %d rows (%v); want %d", n, err, (records+9)/10)
	}
}

// liveHeap returns the bytes the Go heap of Weir (started with --pprof)
// holds right after a garbage collection: runtime.MemStats.HeapAlloc as
// /debug/pprof/heap?debug=1&gc=1 reports it.
func liveHeap(ctx context.Context, w *weirtest.Weir) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.HTTPAddr()+"/debug/pprof/heap?debug=1&gc=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/debug/pprof/heap: no HeapAlloc (%s)", resp.Status)
}

// TestKafkaJoinStateMemory feeds a join that keeps one row of a stream in
// 32: the rows it keeps are all the state it has, so the heap that stays
// live after the stream was read is the state cache's bound at most, plus
// the reader's buffers, however many records went by. (About 21 MiB;
// 140 MiB when each kept row pinned the 32-row chunk it was decoded in.)
func TestKafkaJoinStateMemory(t *testing.T) {
	const records = 600_000
	k := startKafka(t)
	mustTopic(t, k, "js", 1)
	w := startWeirKafka(t, k, "--state-cache-size=32MiB", "--pprof")
	ctx := testCtx(t, 3*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE js_groups (k INT PRIMARY KEY, name TEXT)`)
	var groups []string
	for i := range 1000 {
		groups = append(groups, fmt.Sprintf("(%d, 'g%d')", i, i))
	}
	mustExec(t, ctx, c, `INSERT INTO js_groups VALUES `+strings.Join(groups, ", "))
	mustExec(t, ctx, c, `CREATE SOURCE js (id BIGINT, k INT, v INT) WITH (connector='kafka', topic='js', format='json')`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW js_named AS SELECT js.id, js.v, g.name FROM js JOIN js_groups g ON js.k = g.k WHERE js.id % 32 = 0`)
	p, err := k.StartProducer("js", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if err := p.Send(weirtest.Record{Value: fmt.Appendf(nil, `{"id":%d,"k":%d,"v":%d}`, i, i%1000, i%97)}); err != nil {
			p.Close()
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	waitInt(t, c, 2*time.Minute, "js", `SELECT count(*) FROM js_named`, (records+31)/32)
	live, err := liveHeap(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d MiB live after %d records", live>>20, records)
	if bound := int64(64 << 20); live > bound {
		t.Errorf("after %d records through js_named (%d rows kept), Weir's heap holds %d MiB live; want at most %d MiB (state cache 32 MiB)",
			records, (records+31)/32, live>>20, bound>>20)
	}
}
