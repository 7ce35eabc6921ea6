package coord

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// The bids of the example, one auction, in and out of order.
const bidsTable = `CREATE TABLE bids (auction BIGINT, price BIGINT, date_time TIMESTAMP,
	WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)`

func TestTumbleUpdatesAndCloses(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW per_min AS
		SELECT auction, window_start, window_end, COUNT(*) AS n, MAX(price) AS top
		FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_start, window_end`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW closed AS
		SELECT auction, window_end, COUNT(*) AS n
		FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_end EMIT ON WINDOW CLOSE`)
	ins := func(q string) { mustRun(t, s, "INSERT INTO bids VALUES "+q) }
	ins("(1, 10, '2026-01-01 10:00:05'), (1, 30, '2026-01-01 10:00:50')")
	ins("(1, 20, '2026-01-01 10:00:47')") // out of order, within the 4 s
	q := "SELECT auction, window_start, window_end, n, top FROM per_min ORDER BY window_start"
	want := "1|2026-01-01 10:00:00|2026-01-01 10:01:00|3|30\nSELECT 1\n"
	if got := mustRun(t, s, q); got != want {
		t.Fatalf("updated as events arrive: got\n%s", got)
	}
	if got := mustRun(t, s, "SELECT count(*) FROM closed"); got != "0\nSELECT 1\n" {
		t.Fatalf("nothing closed yet: got %s", got)
	}
	// 10:01:03 - 4 s is before the window's end: it stays open.
	ins("(1, 5, '2026-01-01 10:01:03')")
	if got := mustRun(t, s, "SELECT count(*) FROM closed"); got != "0\nSELECT 1\n" {
		t.Fatalf("window closed early: got %s", got)
	}
	// 10:01:04 - 4 s reaches the end: the window closes, once, final.
	ins("(1, 7, '2026-01-01 10:01:04')")
	if got := mustRun(t, s, "SELECT * FROM closed"); got != "1|2026-01-01 10:01:00|3\nSELECT 1\n" {
		t.Fatalf("closed: got %s", got)
	}
	// A late bid for the closed window is dropped, in every view.
	ins("(1, 99, '2026-01-01 10:00:59')")
	if got := mustRun(t, s, q); got != "1|2026-01-01 10:00:00|2026-01-01 10:01:00|3|30\n1|2026-01-01 10:01:00|2026-01-01 10:02:00|2|7\nSELECT 2\n" {
		t.Fatalf("late bid applied: got\n%s", got)
	}
	if got := mustRun(t, s, "SELECT count(*) FROM bids"); got != "5\nSELECT 1\n" {
		t.Fatalf("the late row is not stored either: got %s", got)
	}
	// Never silently: it is counted, beside the watermark, also in SQL.
	if got := mustRun(t, s, "SELECT * FROM weir_catalog.watermarks ORDER BY name"); got != "bids|table|date_time|2026-01-01 10:01:00|00:00:00|1|0\n"+
		"closed|materialized view|window_end|2026-01-01 10:02:00|00:00:00|0|0\nper_min|materialized view|window_start|2026-01-01 10:01:00|00:00:00|0|0\nSELECT 3\n" {
		t.Fatalf("weir_catalog.watermarks:\n%s", got)
	}
	et := h.c.EngineStats().EventTime
	wm := time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC).UnixNano()
	if len(et) != 1 || et[0].Relation != "bids" || et[0].LateDropped != 1 || et[0].LateApplied != 0 || !et[0].HasWatermark || et[0].Watermark != wm {
		t.Fatalf("event time stats: %+v", et)
	}
	wantCode(t, s, "DELETE FROM bids", sqlerr.FeatureNotSupported)
	wantCode(t, s, `CREATE MATERIALIZED VIEW bad AS SELECT auction, count(*) FROM bids GROUP BY auction EMIT ON WINDOW CLOSE`, sqlerr.FeatureNotSupported)
}

// hopViews are windowed views of every kind over bids.
var hopViews = []string{
	`CREATE MATERIALIZED VIEW hot AS
		SELECT auction, window_end, COUNT(*) AS n, SUM(price) AS total
		FROM HOP(bids, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
		GROUP BY auction, window_end EMIT ON WINDOW CLOSE`,
	`CREATE MATERIALIZED VIEW live AS
		SELECT auction, window_start, COUNT(*) AS n, MIN(price) AS low
		FROM HOP(bids, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
		GROUP BY auction, window_start`,
	`CREATE MATERIALIZED VIEW tumbled AS
		SELECT auction, window_start, window_end, COUNT(*) AS n
		FROM TUMBLE(bids, date_time, INTERVAL '5' SECOND) GROUP BY 1, 2, 3 EMIT ON WINDOW CLOSE`,
}

type bid struct{ auction, price, ms int64 }

// bidBatches are batches of bids over a few minutes, out of order within
// 6 s (some late: the watermark allows 4 s), and their INSERTs.
func bidBatches(seed uint64) ([][]bid, []string) {
	r := rand.New(rand.NewPCG(seed, 1))
	var batches [][]bid
	var stmts []string
	base := int64(0)
	for range 60 {
		var rows []string
		var bs []bid
		for range 1 + r.IntN(8) {
			b := bid{int64(r.IntN(3)), int64(r.IntN(100)), max(base+int64(r.IntN(6000))-3000, 0)}
			bs = append(bs, b)
			rows = append(rows, fmt.Sprintf("(%d, %d, TIMESTAMP '2026-01-01 10:00:00' + INTERVAL '%d milliseconds')", b.auction, b.price, b.ms))
		}
		batches = append(batches, bs)
		stmts = append(stmts, "INSERT INTO bids VALUES "+strings.Join(rows, ", "))
		base += int64(r.IntN(3000))
	}
	return batches, stmts
}

// keptBids returns the bids that are not late, and the watermark after
// the last batch: the largest time less 4 s, as of the batch before; a
// bid below it is dropped.
func keptBids(batches [][]bid) (kept []bid, wm int64) {
	set := false
	for _, bs := range batches {
		next := wm
		for _, b := range bs {
			if set && b.ms < wm {
				continue
			}
			kept = append(kept, b)
			next = max(next, b.ms-4000)
		}
		wm, set = max(wm, next), true
	}
	return kept, wm
}

// bidTime is how a bid's time (ms after 2026-01-01 10:00) reads.
func bidTime(ms int64) string {
	return time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02 15:04:05.999999")
}

// referenceViews computes dumpViews' answer from the bids directly: the
// watermark is the largest time less 4 s, as of the batch before; a bid
// below it is dropped.
func referenceViews(batches [][]bid) string {
	kept, wm := keptBids(batches)
	ts := bidTime
	type key struct{ auction, w int64 }
	type agg struct{ n, sum, low int64 }
	hop := map[key]*agg{}     // by window end
	live := map[key]*agg{}    // by window start
	tumble := map[key]int64{} // by window start
	for _, b := range kept {
		first := (b.ms - 10000 + 2000) / 2000 * 2000
		if b.ms-10000+2000 < 0 {
			first = -((-(b.ms - 10000 + 2000) + 1999) / 2000 * 2000)
		}
		for s := first; s <= b.ms; s += 2000 {
			for _, m := range []struct {
				m map[key]*agg
				k key
			}{{hop, key{b.auction, s + 10000}}, {live, key{b.auction, s}}} {
				a := m.m[m.k]
				if a == nil {
					a = &agg{low: b.price}
					m.m[m.k] = a
				}
				a.n, a.sum, a.low = a.n+1, a.sum+b.price, min(a.low, b.price)
			}
		}
		tumble[key{b.auction, b.ms / 5000 * 5000}]++
	}
	var out strings.Builder
	sorted := func(keys []key) []key {
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].auction != keys[j].auction {
				return keys[i].auction < keys[j].auction
			}
			return keys[i].w < keys[j].w
		})
		return keys
	}
	var ks []key
	for k := range hop {
		if k.w <= wm {
			ks = append(ks, k)
		}
	}
	for _, k := range sorted(ks) {
		fmt.Fprintf(&out, "%d|%s|%d|%d\n", k.auction, ts(k.w), hop[k].n, hop[k].sum)
	}
	fmt.Fprintf(&out, "SELECT %d\n", len(ks))
	ks = ks[:0]
	for k := range live {
		ks = append(ks, k)
	}
	for _, k := range sorted(ks) {
		fmt.Fprintf(&out, "%d|%s|%d|%d\n", k.auction, ts(k.w), live[k].n, live[k].low)
	}
	fmt.Fprintf(&out, "SELECT %d\n", len(ks))
	ks = ks[:0]
	for k := range tumble {
		if k.w+5000 <= wm {
			ks = append(ks, k)
		}
	}
	for _, k := range sorted(ks) {
		fmt.Fprintf(&out, "%d|%s|%s|%d\n", k.auction, ts(k.w), ts(k.w+5000), tumble[k])
	}
	fmt.Fprintf(&out, "SELECT %d\n", len(ks))
	fmt.Fprintf(&out, "%d\nSELECT 1\n", len(kept))
	return out.String()
}

// runRestarting creates what setup does in a fresh server, runs the
// batches with a restart after every seventh (from the fourth), and
// returns dump of the result: what a run without restarts must equal.
func runRestarting(t *testing.T, setup func(*harness), batches []string, dump func(*testing.T, *harness) string) string {
	t.Helper()
	dir := t.TempDir()
	h := newHarness(t, dir)
	setup(h)
	for i, b := range batches {
		mustRun(t, h.session(), b)
		if i%7 == 3 {
			h.close()
			h = newHarness(t, dir)
		}
	}
	got := dump(t, h)
	h.close()
	return got
}

func dumpViews(t *testing.T, h *harness) string {
	s := h.session()
	return mustRun(t, s, "SELECT * FROM hot ORDER BY 1, 2") + mustRun(t, s, "SELECT * FROM live ORDER BY 1, 2") +
		mustRun(t, s, "SELECT * FROM tumbled ORDER BY 1, 2") + mustRun(t, s, "SELECT count(*) FROM bids")
}

// A restart in the middle of windows changes nothing: the views end as
// in a run without one.
func TestWindowsAcrossRestarts(t *testing.T) {
	bids, batches := bidBatches(7)
	setup := func(h *harness) {
		s := h.session()
		mustRun(t, s, bidsTable)
		for _, v := range hopViews {
			mustRun(t, s, v)
		}
	}
	plain := newHarness(t, t.TempDir())
	setup(plain)
	for _, b := range batches {
		mustRun(t, plain.session(), b)
	}
	want := dumpViews(t, plain)
	plain.close()
	if ref := referenceViews(bids); want != ref {
		t.Fatalf("views:\n%s\nreference:\n%s", want, ref)
	}

	if got := runRestarting(t, setup, batches, dumpViews); got != want {
		t.Fatalf("with restarts:\n%s\nwithout:\n%s", got, want)
	}
}

// A partition without rows holds the watermark back only for the idle
// timeout; then the others move it, and when it speaks again it counts
// again (its rows below the watermark are late).
func TestWatermarkIdlePartition(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, `CREATE TABLE clicks (user_id INT, ts TIMESTAMP, WATERMARK FOR ts AS ts) WITH (watermark.idle_timeout = '5 seconds')`)
	rel, err := h.c.lookup("", "clicks")
	if err != nil {
		t.Fatal(err)
	}
	h.c.views.mu.Lock()
	defer h.c.views.mu.Unlock()
	k, err := h.c.clock(rel)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rowid := int64(0)
	at := func(sec int) types.Row {
		rowid++
		return types.Row{types.NewInt32(1), types.NewTimestamp(int64(sec) * 1_000_000), types.NewInt64(rowid)}
	}
	now := time.Unix(1_000_000, 0)
	admit := func(parts []int32, secs ...int) int {
		txn := h.db.Begin()
		defer txn.Rollback()
		var chs []storage.Change
		for _, sec := range secs {
			chs = append(chs, storage.Change{New: at(sec)})
		}
		kept, _, _, err := k.admit(ctx, txn, chs, atPartitions(parts...), now)
		if err != nil {
			t.Fatal(err)
		}
		return len(kept)
	}
	wmIs := func(sec int) {
		t.Helper()
		if !k.set || k.wm != int64(sec)*1_000_000 {
			t.Fatalf("watermark %d (set %v), want %d s", k.wm, k.set, sec)
		}
	}
	admit([]int32{0, 1}, 10, 20)
	wmIs(10) // the smallest partition
	now = now.Add(3 * time.Second)
	admit([]int32{0}, 30)
	wmIs(20) // partition 1 is quiet, not yet idle: it holds the watermark
	now = now.Add(3 * time.Second)
	admit([]int32{0}, 40)
	wmIs(40) // partition 1 idle for 6 s: partition 0 alone
	if n := admit([]int32{1, 1}, 35, 45); n != 1 {
		t.Fatalf("kept %d rows of partition 1, want 1 (35 s is late)", n)
	}
	wmIs(40) // partition 1 is back, at 45: the watermark never goes back
	if k.lateDropped.Load() != 1 {
		t.Fatalf("late dropped %d", k.lateDropped.Load())
	}
}

// Rows within the allowed lateness are applied as corrections (and
// counted); windows close that much later.
func TestAllowedLateness(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, `CREATE TABLE bids (auction BIGINT, price BIGINT, date_time TIMESTAMP,
		WATERMARK FOR date_time AS date_time) WITH (allowed_lateness = '10 seconds')`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW closed AS SELECT window_end, COUNT(*) AS n
		FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY window_end EMIT ON WINDOW CLOSE`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 1, '2026-01-01 10:00:30'), (1, 1, '2026-01-01 10:01:05')`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 1, '2026-01-01 10:00:59')`) // late, within 10 s
	if got := mustRun(t, s, "SELECT * FROM closed"); got != "SELECT 0\n" {
		t.Fatalf("closed before the lateness: %s", got)
	}
	mustRun(t, s, `INSERT INTO bids VALUES (1, 1, '2026-01-01 10:01:10'), (1, 1, '2026-01-01 10:00:40')`) // the second is too late
	if got := mustRun(t, s, "SELECT * FROM closed"); got != "2026-01-01 10:01:00|2\nSELECT 1\n" {
		t.Fatalf("closed: %s", got)
	}
	et := h.c.EngineStats().EventTime
	if len(et) != 1 || et[0].LateApplied != 1 || et[0].LateDropped != 1 {
		t.Fatalf("event time stats: %+v", et)
	}
}

// A view over a relation with event time has it too: its readers window
// it and close their windows with the watermarks its result carries, also
// through a temporal join (enrich, then window).
func TestEventTimeThroughViews(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE TABLE auctions (id BIGINT PRIMARY KEY, category TEXT)`)
	mustRun(t, s, `INSERT INTO auctions VALUES (1, 'books'), (2, 'games')`)
	mustRun(t, s, `CREATE STREAM enriched AS SELECT b.auction, b.price, b.date_time, a.category
		FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW per_category AS SELECT category, window_end, COUNT(*) AS n
		FROM TUMBLE(enriched, date_time, INTERVAL '1' MINUTE) GROUP BY category, window_end EMIT ON WINDOW CLOSE`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05'), (2, 30, '2026-01-01 10:00:50'), (1, 5, '2026-01-01 10:00:51')`)
	if got := mustRun(t, s, "SELECT * FROM per_category"); got != "SELECT 0\n" {
		t.Fatalf("closed early: %s", got)
	}
	mustRun(t, s, `INSERT INTO bids VALUES (2, 7, '2026-01-01 10:01:04')`)
	want := "books|2026-01-01 10:01:00|2\ngames|2026-01-01 10:01:00|1\nSELECT 2\n"
	if got := mustRun(t, s, "SELECT * FROM per_category ORDER BY 1"); got != want {
		t.Fatalf("closed windows: %s", got)
	}
	// The same, created after the rows: its backfill gets the view's
	// watermark as of its snapshot.
	mustRun(t, s, `CREATE MATERIALIZED VIEW later AS SELECT category, window_end, COUNT(*) AS n
		FROM TUMBLE(enriched, date_time, INTERVAL '1' MINUTE) GROUP BY category, window_end EMIT ON WINDOW CLOSE`)
	if got := mustRun(t, s, "SELECT * FROM later ORDER BY 1"); got != want {
		t.Fatalf("closed windows of a view created later: %s", got)
	}
}

// A view whose result only inserts keeps each row apart (under a row id,
// not a count): equal rows stay two rows, across a restart, and views and
// windows over it see them.
func TestAppendOnlyView(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW cheap AS SELECT auction, price, date_time FROM bids WHERE price < 50`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05'), (1, 10, '2026-01-01 10:00:05'), (2, 70, '2026-01-01 10:00:06')`)
	rel, err := h.c.lookup("", "cheap")
	if err != nil || !rel.HasRowID() {
		t.Fatalf("cheap is not stored by row id: %+v %v", rel, err)
	}
	mustRun(t, s, `CREATE MATERIALIZED VIEW per_auction AS SELECT auction, count(*) AS n FROM cheap GROUP BY auction`)
	h.close()
	h = newHarness(t, dir)
	s = h.session()
	mustRun(t, s, `INSERT INTO bids VALUES (1, 20, '2026-01-01 10:00:07')`)
	if got := mustRun(t, s, "SELECT * FROM cheap ORDER BY price"); got != "1|10|2026-01-01 10:00:05\n1|10|2026-01-01 10:00:05\n1|20|2026-01-01 10:00:07\nSELECT 3\n" {
		t.Fatalf("cheap: %s", got)
	}
	if got := mustRun(t, s, "SELECT * FROM per_auction"); got != "1|3\nSELECT 1\n" {
		t.Fatalf("per_auction: %s", got)
	}
}

// An EMIT ON WINDOW CLOSE result only inserts: an append sink takes it
// as it is (no force_append_only); a windowed view that updates does not.
func TestWindowCloseIsAppendOnly(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW closed AS SELECT auction, window_end, COUNT(*) AS n
		FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_end EMIT ON WINDOW CLOSE`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW live AS SELECT auction, window_end, COUNT(*) AS n
		FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_end`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW cheap AS SELECT * FROM bids WHERE price < 10`)
	for name, want := range map[string]bool{"closed": true, "live": false, "cheap": true, "bids": true} {
		rel, err := h.c.lookup("", name)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.c.appendOnly(rel); got != want {
			t.Errorf("%s: append-only %v, want %v", name, got, want)
		}
	}
}
