package coord

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Two append-only tables with event time, 5 s of delay.
var intervalTables = []string{
	`CREATE TABLE clicks (user_id BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)`,
	`CREATE TABLE orders (user_id BIGINT, amount BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)`,
}

// intervalViews join them within bounds: written as conditions and as
// ksqlDB's WITHIN, a left join, and a count per click closed by the
// join's watermark.
var intervalViews = []string{
	`CREATE MATERIALIZED VIEW matched AS SELECT c.user_id, c.ts AS click_ts, o.amount, o.ts AS order_ts
		FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '10' SECOND`,
	`CREATE STREAM near AS SELECT c.user_id, c.ts AS click_ts, o.amount, o.ts AS order_ts
		FROM clicks c JOIN orders o WITHIN (2 SECONDS, 3 SECONDS) ON c.user_id = o.user_id`,
	`CREATE STREAM near_left AS SELECT c.user_id, c.ts AS click_ts, o.amount, o.ts AS order_ts
		FROM clicks c LEFT JOIN orders o WITHIN (2 SECONDS, 3 SECONDS) ON c.user_id = o.user_id`,
	`CREATE MATERIALIZED VIEW per_click AS SELECT c.user_id, c.ts, COUNT(*) AS n
		FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts >= c.ts AND o.ts < c.ts + INTERVAL '10' SECOND
		GROUP BY c.user_id, c.ts EMIT ON WINDOW CLOSE`,
}

// timedRow is a click (amount unused) or an order, ms after 10:00.
type timedRow struct{ user, amount, ms int64 }

// intervalBatches makes one INSERT per table per step: rows of 4 users in
// about time order, up to 7 s early or late (some late beyond the 5 s of
// the watermark).
func intervalBatches(seed uint64) (clicks, orders [][]timedRow, stmts []string) {
	r := rand.New(rand.NewPCG(seed, 3))
	base := int64(0)
	for range 50 {
		for table := range 2 {
			var rows []string
			var bs []timedRow
			for range 1 + r.IntN(6) {
				b := timedRow{int64(r.IntN(4)), int64(r.IntN(100)), max(base+int64(r.IntN(14000))-7000, 0)}
				bs = append(bs, b)
				if table == 0 {
					rows = append(rows, fmt.Sprintf("(%d, TIMESTAMP '2026-01-01 10:00:00' + INTERVAL '%d milliseconds')", b.user, b.ms))
				} else {
					rows = append(rows, fmt.Sprintf("(%d, %d, TIMESTAMP '2026-01-01 10:00:00' + INTERVAL '%d milliseconds')", b.user, b.amount, b.ms))
				}
			}
			if table == 0 {
				clicks = append(clicks, bs)
				stmts = append(stmts, "INSERT INTO clicks VALUES "+strings.Join(rows, ", "))
			} else {
				orders = append(orders, bs)
				stmts = append(stmts, "INSERT INTO orders VALUES "+strings.Join(rows, ", "))
			}
		}
		base += int64(r.IntN(2500))
	}
	return clicks, orders, stmts
}

// keptRows returns the rows of one table that are not late, and its
// watermark after the last batch: the largest time less 5 s, as of the
// batch before.
func keptRows(batches [][]timedRow) (kept []timedRow, wm int64) {
	set := false
	for _, bs := range batches {
		next := wm
		for _, b := range bs {
			if set && b.ms < wm {
				continue
			}
			kept = append(kept, b)
			next = max(next, b.ms-5000)
		}
		wm, set = max(wm, next), true
	}
	return kept, wm
}

// referenceIntervalViews computes dumpIntervalViews' answer in Go: every
// pair of rows that are not late and satisfy the bounds matches, however
// late in its bound it arrives; a click's count is final once the join's
// watermark on the click time, min(clicks' watermark, orders' less 10 s),
// passed it; a click that matches no order within its bounds appears
// null-padded in the left join once the orders' watermark passed its upper
// bound.
func referenceIntervalViews(clickBatches, orderBatches [][]timedRow) string {
	clicks, wmC := keptRows(clickBatches)
	orders, wmO := keptRows(orderBatches)
	var matched, near, nearLeft []string
	type click struct{ user, ms int64 }
	perClick := map[click]int{}
	for _, c := range clicks {
		if c.ms < wmO-3000 {
			nearLeft = append(nearLeft, fmt.Sprintf("%d|%s|NULL|NULL", c.user, intervalTime(c.ms)))
		}
		for _, o := range orders {
			if c.user != o.user {
				continue
			}
			row := fmt.Sprintf("%d|%s|%d|%s", c.user, intervalTime(c.ms), o.amount, intervalTime(o.ms))
			if d := o.ms - c.ms; d >= 0 && d <= 10000 {
				matched = append(matched, row)
				if d < 10000 {
					perClick[click{c.user, c.ms}]++
				}
			}
			if d := o.ms - c.ms; d >= -2000 && d <= 3000 {
				near = append(near, row)
				if n := len(nearLeft); n > 0 && strings.HasPrefix(nearLeft[n-1], fmt.Sprintf("%d|%s|NULL", c.user, intervalTime(c.ms))) {
					nearLeft = nearLeft[:n-1] // it matched
				}
				nearLeft = append(nearLeft, row)
			}
		}
	}
	var closed []string
	line := min(wmC, wmO-10000)
	for k, n := range perClick {
		if k.ms < line {
			closed = append(closed, fmt.Sprintf("%d|%s|%d", k.user, intervalTime(k.ms), n))
		}
	}
	var out strings.Builder
	for _, rows := range [][]string{matched, near, nearLeft, closed} {
		sort.Strings(rows)
		for _, r := range rows {
			out.WriteString(r + "\n")
		}
		fmt.Fprintf(&out, "SELECT %d\n", len(rows))
	}
	return out.String()
}

func intervalTime(ms int64) string { return bidTime(ms) }

func dumpIntervalViews(t *testing.T, h *harness) string {
	s := h.session()
	defer s.Close()
	var out strings.Builder
	for _, q := range []string{
		"SELECT user_id::text || '|' || click_ts::text || '|' || amount::text || '|' || order_ts::text AS r FROM matched ORDER BY r",
		"SELECT user_id::text || '|' || click_ts::text || '|' || amount::text || '|' || order_ts::text AS r FROM near ORDER BY r",
		"SELECT user_id::text || '|' || click_ts::text || '|' || coalesce(amount::text, 'NULL') || '|' || coalesce(order_ts::text, 'NULL') AS r FROM near_left ORDER BY r",
		"SELECT user_id::text || '|' || ts::text || '|' || n::text AS r FROM per_click ORDER BY r",
	} {
		out.WriteString(mustRun(t, s, q))
	}
	return out.String()
}

// joinStateKeys is the number of join keys the view name holds in memory:
// after a restart, what its saved state loaded.
func joinStateKeys(h *harness, name string) int64 {
	for _, v := range h.c.views.order {
		if v.rel.Name == name {
			return v.df.CachedKeys()
		}
	}
	h.t.Fatalf("no view %s", name)
	return 0
}

// TestIntervalJoinViews runs out-of-order clicks and orders through
// interval joins, restarting in the middle with 1, 2 and 3 shards, against
// a reference computed in Go, then checks that the joins' saved state is
// gone once the watermarks passed every row.
func TestIntervalJoinViews(t *testing.T) {
	clicks, orders, stmts := intervalBatches(11)
	want := referenceIntervalViews(clicks, orders)
	dir := t.TempDir()
	// Each restart changes the number of shards the joins run as.
	opts := Options{Workers: 1}
	h := newHarnessWith(t, dir, opts)
	s := h.session()
	for _, q := range append(append([]string{}, intervalTables...), intervalViews...) {
		mustRun(t, s, q)
	}
	explain := mustRun(t, s, "EXPLAIN SELECT * FROM clicks c JOIN orders o WITHIN (2 SECONDS, 3 SECONDS) ON c.user_id = o.user_id")
	if !strings.Contains(explain, "interval o.ts in [c.ts - 00:00:02, c.ts + 00:00:03]") {
		t.Fatalf("EXPLAIN:\n%s", explain)
	}
	s.Close()
	for i, q := range stmts {
		s := h.session()
		mustRun(t, s, q)
		s.Close()
		if i%9 == 4 {
			h.close()
			opts.Workers = opts.Workers%3 + 1
			h = newHarnessWith(t, dir, opts)
		}
	}
	if got := dumpIntervalViews(t, h); got != want {
		t.Fatalf("views:\n%s\nreference:\n%s", got, want)
	}
	if n := joinStateKeys(h, "matched"); n < 4 {
		t.Fatalf("matched holds %d keys before the watermarks pass its rows", n)
	}

	// An hour later, rows of another user move both watermarks past
	// every row: the joins keep the new rows only, also in storage.
	s = h.session()
	mustRun(t, s, "INSERT INTO clicks VALUES (99, TIMESTAMP '2026-01-01 11:00:00')")
	mustRun(t, s, "INSERT INTO orders VALUES (99, 1, TIMESTAMP '2026-01-01 11:00:00')")
	mustRun(t, s, "INSERT INTO clicks VALUES (98, TIMESTAMP '2026-01-01 11:00:30')")
	mustRun(t, s, "INSERT INTO orders VALUES (98, 1, TIMESTAMP '2026-01-01 11:00:30')")
	s.Close()
	h.close()
	h = newHarness(t, dir)
	for _, name := range []string{"matched", "near", "near_left"} {
		if n := joinStateKeys(h, name); n > 4 {
			t.Errorf("%s holds %d keys after the watermarks passed its rows, want those of users 98 and 99 at most", name, n)
		}
	}
	s = h.session()
	defer s.Close()
	if got := mustRun(t, s, "SELECT count(*) FROM matched WHERE user_id >= 98"); got != "2\nSELECT 1\n" {
		t.Fatalf("the new rows match: %s", got)
	}
	// Expiry deleted no row of a view.
	firstCount := want[strings.Index(want, "SELECT ")+len("SELECT "):]
	firstCount = firstCount[:strings.Index(firstCount, "\n")]
	if got := mustRun(t, s, "SELECT count(*) FROM matched WHERE user_id < 98"); got != firstCount+"\nSELECT 1\n" {
		t.Fatalf("matched rows after expiry: %s", got)
	}
	// Updates and deletions of the inputs cannot reach an interval join.
	wantCode(t, s, "DELETE FROM orders", sqlerr.FeatureNotSupported)
	mustRun(t, s, "CREATE TABLE plain (user_id BIGINT, ts TIMESTAMP)")
	wantCode(t, s, `CREATE MATERIALIZED VIEW bad AS SELECT * FROM clicks c JOIN plain p WITHIN 1 HOUR ON c.user_id = p.user_id`, sqlerr.FeatureNotSupported)
}

// TestIntervalJoinViewBoundary checks the last moment a click can match:
// an order exactly at the bound that arrives while the orders' watermark
// is at it matches, and the click goes once the watermark passes it.
func TestIntervalJoinViewBoundary(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	defer s.Close()
	for _, q := range append(append([]string{}, intervalTables...), intervalViews[0]) {
		mustRun(t, s, q)
	}
	mustRun(t, s, "INSERT INTO clicks VALUES (7, TIMESTAMP '2026-01-01 10:00:00')")
	mustRun(t, s, "INSERT INTO orders VALUES (8, 1, TIMESTAMP '2026-01-01 10:00:15')") // watermark 10:00:10
	mustRun(t, s, "INSERT INTO orders VALUES (7, 2, TIMESTAMP '2026-01-01 10:00:10')") // not late, at the bound
	if got := mustRun(t, s, "SELECT amount FROM matched"); got != "2\nSELECT 1\n" {
		t.Fatalf("the order at the bound: %s", got)
	}
	if n := joinStateKeys(h, "matched"); n != 3 {
		t.Fatalf("%d join keys, want the click's and two of orders", n)
	}
	mustRun(t, s, "INSERT INTO orders VALUES (8, 1, TIMESTAMP '2026-01-01 10:00:15.000001')")
	if n := joinStateKeys(h, "matched"); n != 2 {
		t.Fatalf("%d join keys once the orders' watermark passed the click's bound, want 2", n)
	}
	if got := mustRun(t, s, "SELECT count(*) FROM matched"); got != "1\nSELECT 1\n" {
		t.Fatalf("expiry changed the view: %s", got)
	}
	// A query run once gets no watermarks: its outer interval join is the
	// ordinary one.
	if got := mustRun(t, s, "SELECT c.user_id, o.amount FROM clicks c LEFT JOIN orders o WITHIN 1 SECOND ON c.user_id = o.user_id"); got != "7|NULL\nSELECT 1\n" {
		t.Fatalf("left interval join run once: %q", got)
	}
}
