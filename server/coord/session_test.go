package coord

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

func TestSessionGrowsMergesAndCloses(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, `CREATE TABLE clicks (user_id BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' MINUTE)`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW sessions AS
		SELECT user_id, window_start, window_end, COUNT(*) AS clicks
		FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id, window_start, window_end`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW closed AS
		SELECT user_id, window_start, window_end, COUNT(*) AS clicks
		FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE`)
	// ksqlDB's spelling: the WATERMARK FOR column, the window implied in
	// GROUP BY, EMIT FINAL for EMIT ON WINDOW CLOSE
	mustRun(t, s, `CREATE TABLE ksessions AS SELECT user_id, WINDOWSTART, WINDOWEND, COUNT(*) AS clicks
		FROM clicks WINDOW SESSION (30 MINUTES) GROUP BY user_id EMIT CHANGES`)
	mustRun(t, s, `CREATE TABLE kclosed AS SELECT user_id, WINDOWSTART, WINDOWEND, COUNT(*) AS clicks
		FROM clicks c WINDOW SESSION (30 MINUTES) GROUP BY user_id EMIT FINAL`)
	ins := func(q string) {
		mustRun(t, s, "INSERT INTO clicks VALUES "+q)
		for _, v := range [][2]string{{"sessions", "ksessions"}, {"closed", "kclosed"}} {
			if a, b := mustRun(t, s, "SELECT * FROM "+v[0]+" ORDER BY 1, 2"), mustRun(t, s, "SELECT * FROM "+v[1]+" ORDER BY 1, 2"); a != b {
				t.Fatalf("%s:\n%s\n%s:\n%s", v[0], a, v[1], b)
			}
		}
	}
	q := "SELECT * FROM sessions ORDER BY 1, 2"
	ins("(1, '2026-01-01 10:00'), (2, '2026-01-01 10:10')")
	ins("(1, '2026-01-01 10:20')") // grows 1's session
	if got := mustRun(t, s, q); got != "1|2026-01-01 10:00:00|2026-01-01 10:50:00|2\n2|2026-01-01 10:10:00|2026-01-01 10:40:00|1\nSELECT 2\n" {
		t.Fatalf("grown: got\n%s", got)
	}
	ins("(1, '2026-01-01 10:52')") // 32 minutes later: a second session; the watermark (10:47) closes 2's
	if got := mustRun(t, s, "SELECT * FROM closed"); got != "2|2026-01-01 10:10:00|2026-01-01 10:40:00|1\nSELECT 1\n" {
		t.Fatalf("closed at 10:47: got %s", got)
	}
	// out of order (within the 5 minutes), less than 30 minutes from both
	// of 1's sessions: they merge
	ins("(1, '2026-01-01 10:48'), (2, '2026-01-01 10:50')")
	if got := mustRun(t, s, q); got != "1|2026-01-01 10:00:00|2026-01-01 11:22:00|4\n2|2026-01-01 10:10:00|2026-01-01 10:40:00|1\n2|2026-01-01 10:50:00|2026-01-01 11:20:00|1\nSELECT 3\n" {
		t.Fatalf("merged: got\n%s", got)
	}
	ins("(3, '2026-01-01 11:27')") // watermark 11:22: both open sessions close
	if got := mustRun(t, s, "SELECT * FROM closed ORDER BY 1, 2"); got != "1|2026-01-01 10:00:00|2026-01-01 11:22:00|4\n2|2026-01-01 10:10:00|2026-01-01 10:40:00|1\n2|2026-01-01 10:50:00|2026-01-01 11:20:00|1\nSELECT 3\n" {
		t.Fatalf("closed: got\n%s", got)
	}
	ins("(1, '2026-01-01 11:21')") // late: dropped
	if got := mustRun(t, s, "SELECT count(*) FROM sessions WHERE user_id = 1"); got != "1\nSELECT 1\n" {
		t.Fatalf("a late click changed a closed session: %s", got)
	}
	if got := mustRun(t, s, "EXPLAIN SELECT user_id, window_end, count(*) FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id, window_end"); !strings.Contains(got, "SESSION #1 gap 00:30:00 key (#0)") || !strings.Contains(got, "window #1 closed by watermark") {
		t.Fatalf("EXPLAIN:\n%s", got)
	}
	for _, bad := range []string{
		`SELECT * FROM SESSION(clicks, ts, INTERVAL '30' MINUTE)`,
		`SELECT user_id, count(*) FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id`,
		`SELECT user_id + 1, window_end, count(*) FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id + 1, window_end`,
		`CREATE MATERIALIZED VIEW bad AS SELECT user_id, window_start, count(*) FROM SESSION(clicks, ts, INTERVAL '30' MINUTE) GROUP BY user_id, window_start EMIT ON WINDOW CLOSE`,
	} {
		wantCode(t, s, bad, sqlerr.FeatureNotSupported)
	}
	wantCode(t, s, `SELECT 1 FROM SESSION(clicks, ts, INTERVAL '0' MINUTE) GROUP BY window_end`, sqlerr.InvalidParameterValue)
	wantCode(t, s, `SELECT 1 FROM SESSION(clicks, ts) GROUP BY window_end`, sqlerr.UndefinedFunction)
	wantCode(t, s, `SELECT 1 FROM SESSION(clicks, user_id, INTERVAL '1' MINUTE) GROUP BY window_end`, sqlerr.DatatypeMismatch)
}

// A pull query and a view over a table that retracts rows: no watermark,
// sessions never close, and a deleted row splits its session.
func TestSessionOverRetractions(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, `CREATE TABLE visits (id BIGINT PRIMARY KEY, who TEXT, at TIMESTAMP)`)
	mustRun(t, s, `INSERT INTO visits VALUES (1, 'a', '2026-01-01 10:00'), (2, 'a', '2026-01-01 10:08'), (3, 'a', '2026-01-01 10:16'), (4, 'b', '2026-01-01 10:00')`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW v AS SELECT who, window_start, window_end, count(*) AS n
		FROM SESSION(visits, at, INTERVAL '10' MINUTE) GROUP BY who, window_start, window_end`)
	pull := `SELECT who, window_start, window_end, count(*) FROM SESSION(visits, at, INTERVAL '10' MINUTE) GROUP BY 1, 2, 3 ORDER BY 1, 2`
	want := "a|2026-01-01 10:00:00|2026-01-01 10:26:00|3\nb|2026-01-01 10:00:00|2026-01-01 10:10:00|1\nSELECT 2\n"
	if got := mustRun(t, s, pull); got != want {
		t.Fatalf("pull: got\n%s", got)
	}
	mustRun(t, s, `DELETE FROM visits WHERE id = 2`)
	want = "a|2026-01-01 10:00:00|2026-01-01 10:10:00|1\na|2026-01-01 10:16:00|2026-01-01 10:26:00|1\nb|2026-01-01 10:00:00|2026-01-01 10:10:00|1\nSELECT 3\n"
	if got := mustRun(t, s, "SELECT * FROM v ORDER BY 1, 2"); got != want {
		t.Fatalf("view after a split: got\n%s", got)
	}
	if got := mustRun(t, s, pull); got != want {
		t.Fatalf("pull after a split: got\n%s", got)
	}
}

// sessionViews are session windows over bids, by auction, updated and
// emitted on close.
var sessionViews = []string{
	`CREATE MATERIALIZED VIEW sess AS
		SELECT auction, window_start, window_end, COUNT(*) AS n, SUM(price) AS total
		FROM SESSION(bids, date_time, INTERVAL '2' SECOND) GROUP BY auction, window_start, window_end`,
	`CREATE MATERIALIZED VIEW sess_final AS
		SELECT auction, window_start, window_end, COUNT(*) AS n, MAX(price) AS top
		FROM SESSION(bids, date_time, INTERVAL '2' SECOND) GROUP BY auction, window_start, window_end EMIT ON WINDOW CLOSE`,
}

func dumpSessionViews(t *testing.T, h *harness) string {
	s := h.session()
	return mustRun(t, s, "SELECT * FROM sess ORDER BY 1, 2") + mustRun(t, s, "SELECT * FROM sess_final ORDER BY 1, 2")
}

// referenceSessionViews computes dumpSessionViews' answer from the bids:
// per auction, bids less than 2 s apart form a session; the closed view
// holds those that end at or before the last watermark.
func referenceSessionViews(batches [][]bid) string {
	kept, wm := keptBids(batches)
	byAuction := map[int64][]bid{}
	for _, b := range kept {
		byAuction[b.auction] = append(byAuction[b.auction], b)
	}
	var all, closed strings.Builder
	var nAll, nClosed int
	for a := range int64(3) {
		bs := byAuction[a]
		slices.SortStableFunc(bs, func(x, y bid) int { return int(x.ms - y.ms) })
		for i := 0; i < len(bs); {
			j := i + 1
			for j < len(bs) && bs[j].ms-bs[j-1].ms < 2000 {
				j++
			}
			var total, top int64
			for _, b := range bs[i:j] {
				total, top = total+b.price, max(top, b.price)
			}
			start, end := bs[i].ms, bs[j-1].ms+2000
			fmt.Fprintf(&all, "%d|%s|%s|%d|%d\n", a, bidTime(start), bidTime(end), j-i, total)
			nAll++
			if end <= wm {
				fmt.Fprintf(&closed, "%d|%s|%s|%d|%d\n", a, bidTime(start), bidTime(end), j-i, top)
				nClosed++
			}
			i = j
		}
	}
	return fmt.Sprintf("%sSELECT %d\n%sSELECT %d\n", all.String(), nAll, closed.String(), nClosed)
}

// Session views over out-of-order and late bids end as the reference
// computes them, with or without restarts in the middle of sessions.
func TestSessionsAcrossRestarts(t *testing.T) {
	bids, batches := bidBatches(11)
	setup := func(h *harness) {
		s := h.session()
		mustRun(t, s, bidsTable)
		for _, v := range sessionViews {
			mustRun(t, s, v)
		}
	}
	plain := newHarness(t, t.TempDir())
	setup(plain)
	for _, b := range batches {
		mustRun(t, plain.session(), b)
	}
	want := dumpSessionViews(t, plain)
	// views created over the rows and the watermark so far agree
	for _, v := range sessionViews {
		mustRun(t, plain.session(), strings.Replace(v, " AS\n", "_later AS\n", 1))
	}
	ps := plain.session()
	if later := mustRun(t, ps, "SELECT * FROM sess_later ORDER BY 1, 2") + mustRun(t, ps, "SELECT * FROM sess_final_later ORDER BY 1, 2"); later != want {
		t.Fatalf("created later:\n%s\nfrom the start:\n%s", later, want)
	}
	plain.close()
	if ref := referenceSessionViews(bids); want != ref {
		t.Fatalf("views:\n%s\nreference:\n%s", want, ref)
	}

	if got := runRestarting(t, setup, batches, dumpSessionViews); got != want {
		t.Fatalf("with restarts:\n%s\nwithout:\n%s", got, want)
	}
}
