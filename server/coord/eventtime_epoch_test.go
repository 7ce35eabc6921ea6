package coord

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// An epoch that fails (here: a view refuses a row) leaves the clock as the
// last committed epoch left it: its rows neither move the watermark nor
// count as late, so the rows that come after are judged as if it never
// happened.
func TestClockOfFailedEpoch(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW per_price AS SELECT auction, 100 / price AS q, date_time FROM bids`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05')`)
	wantCode(t, s, `INSERT INTO bids VALUES (1, 0, '2026-01-01 10:05:00')`, sqlerr.DivisionByZero)
	// 10:00:02 is within the 4 s of the committed rows: not late.
	mustRun(t, s, `INSERT INTO bids VALUES (1, 20, '2026-01-01 10:00:02')`)
	if got := mustRun(t, s, "SELECT count(*) FROM per_price"); got != "2\nSELECT 1\n" {
		t.Fatalf("rows after a failed epoch: %s", got)
	}
	et := h.c.EngineStats().EventTime
	if len(et) != 1 || et[0].LateDropped != 0 {
		t.Fatalf("event time stats: %+v", et)
	}
}

// The clock saved with an epoch is all of it, also when the watermark did
// not move: a restart resumes each partition's maximum, and a partition
// first seen in an epoch that did not move the watermark still holds it
// back after the restart.
func TestClockSavedWhenWatermarkStays(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	mustRun(t, h.session(), `CREATE TABLE clicks (user_id INT, ts TIMESTAMP, WATERMARK FOR ts AS ts)`)
	epoch := func(h *harness, parts []int32, secs ...int) { tickEpoch(t, h, "clicks", parts, secs...) }
	wmIs := func(h *harness, sec int) { watermarkIs(t, h, "clicks", sec) }
	epoch(h, []int32{0, 1}, 20, 10)
	wmIs(h, 10)
	epoch(h, []int32{0, 2}, 30, 12) // partition 1 holds the watermark at 10
	wmIs(h, 10)
	h.close()
	h = newHarness(t, dir)
	defer h.close()
	wmIs(h, 10)
	epoch(h, []int32{1}, 40)
	wmIs(h, 12) // partition 2, at 12, holds it now; partition 0 is at 30
	epoch(h, []int32{2}, 50)
	wmIs(h, 30)
}

// lockClock takes the epoch lock (the caller releases it) and returns the
// clock of the relation named.
func lockClock(t *testing.T, h *harness, name string) *eventClock {
	t.Helper()
	rel, err := h.c.lookup("", name)
	if err != nil {
		t.Fatal(err)
	}
	h.c.views.mu.Lock()
	k, err := h.c.clock(rel)
	if err != nil {
		h.c.views.mu.Unlock()
		t.Fatal(err)
	}
	return k
}

// atPartitions are source positions in the partitions given, one a change.
func atPartitions(parts ...int32) []executor.SourceOffset {
	offs := make([]executor.SourceOffset, len(parts))
	for i, p := range parts {
		offs[i] = executor.SourceOffset{Topic: "t", Partition: p, Next: int64(i + 1)}
	}
	return offs
}

// TRUNCATE of a table with a watermark that views read is refused, as
// DELETE is: its deletions come below the watermark, which a closed
// window ignores, so the view would keep rows its table no longer has.
func TestTruncateWithWatermark(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, "INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05'), (1, 30, '2026-01-01 10:03:50')")
	mustRun(t, s, `CREATE MATERIALIZED VIEW per_min AS
		SELECT auction, window_start, COUNT(*) AS n FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_start`)
	wantCode(t, s, "TRUNCATE bids", sqlerr.FeatureNotSupported)
	if got := mustRun(t, s, "SELECT count(*) FROM per_min"); got != "2\nSELECT 1\n" {
		t.Fatalf("per_min: %s", got)
	}
	mustRun(t, s, "DROP MATERIALIZED VIEW per_min")
	mustRun(t, s, "TRUNCATE bids") // nothing reads it
	if got := mustRun(t, s, "SELECT count(*) FROM bids"); got != "0\nSELECT 1\n" {
		t.Fatalf("bids: %s", got)
	}
}

// A view's watermark outlives a restart: a view created over it right
// after one closes the windows its watermark passed, as it would have
// before.
func TestViewWatermarkAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW cheap AS SELECT auction, date_time FROM bids WHERE price < 100`)
	mustRun(t, s, `INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05'), (2, 30, '2026-01-01 10:00:50'), (2, 7, '2026-01-01 10:01:04')`)
	const perMinute = `AS SELECT auction, window_end, COUNT(*) AS n
		FROM TUMBLE(cheap, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_end EMIT ON WINDOW CLOSE`
	mustRun(t, s, "CREATE MATERIALIZED VIEW before "+perMinute)
	want := "1|2026-01-01 10:01:00|1\n2|2026-01-01 10:01:00|1\nSELECT 2\n"
	if got := mustRun(t, s, "SELECT * FROM before ORDER BY 1"); got != want {
		t.Fatalf("before: %s", got)
	}
	h.close()
	h = newHarness(t, dir)
	defer h.close()
	s = h.session()
	mustRun(t, s, "CREATE MATERIALIZED VIEW after "+perMinute)
	if got := mustRun(t, s, "SELECT * FROM after ORDER BY 1"); got != want {
		t.Fatalf("a view created after a restart: %s", got)
	}
	// And one over a view just created, before any epoch.
	mustRun(t, s, `CREATE MATERIALIZED VIEW cheap2 AS SELECT auction, date_time FROM bids WHERE price < 100`)
	mustRun(t, s, "CREATE MATERIALIZED VIEW after2 "+strings.Replace(perMinute, "cheap", "cheap2", 1))
	if got := mustRun(t, s, "SELECT * FROM after2 ORDER BY 1"); got != want {
		t.Fatalf("a view over a view just created: %s", got)
	}
}

// tickEpoch commits an epoch of rows (user_id, ts) of the relation named,
// at times secs, from source partitions parts, through tickClocks alone.
func tickEpoch(t *testing.T, h *harness, name string, parts []int32, secs ...int) {
	t.Helper()
	rel := lockClock(t, h, name).rel
	defer h.c.views.mu.Unlock()
	txn := h.db.Begin()
	defer txn.Rollback()
	tc := storage.TableChanges{Rel: rel}
	for _, sec := range secs {
		tc.Changes = append(tc.Changes, storage.Change{New: types.Row{types.NewInt32(1), types.NewTimestamp(int64(sec) * 1_000_000), types.NewInt64(int64(sec))}})
	}
	if _, err := h.c.tickClocks(context.Background(), txn, []storage.TableChanges{tc}, map[catalog.ID][]executor.SourceOffset{rel.ID: atPartitions(parts...)}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// watermarkIs checks the watermark of the relation named, in seconds (-1:
// none yet).
func watermarkIs(t *testing.T, h *harness, name string, sec int) {
	t.Helper()
	k := lockClock(t, h, name)
	defer h.c.views.mu.Unlock()
	if sec < 0 && k.set || sec >= 0 && (!k.set || k.wm != int64(sec)*1_000_000) {
		t.Fatalf("watermark %d (set %v), want %d s", k.wm, k.set, sec)
	}
}

// A partition of a source that has sent nothing yet holds the watermark
// back (until it is idle): a source catching up on a backlog reads its
// partitions one after the other, and the first must not move the
// watermark past the rows of the others.
func TestClockWaitsForSilentPartitions(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	h := fakeHarness(t, dir, log)
	mustRun(t, h.session(), `CREATE SOURCE clicks (user_id INT, ts TIMESTAMP, WATERMARK FOR ts AS ts) WITH (connector = 'fake', topic = 't')`)
	rel, err := h.c.lookup("", "clicks")
	if err != nil {
		t.Fatal(err)
	}
	// The topic has three partitions, as a Kafka source's start offsets
	// say.
	txn := h.db.Begin()
	for p := range int32(3) {
		if err := txn.PutSourceOffset(rel.ID, "t", p, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	tickEpoch(t, h, "clicks", []int32{0, 0}, 10, 20)
	watermarkIs(t, h, "clicks", -1)
	tickEpoch(t, h, "clicks", []int32{1}, 15)
	watermarkIs(t, h, "clicks", -1)
	h.close()
	h = fakeHarness(t, dir, log)
	defer h.close()
	tickEpoch(t, h, "clicks", []int32{2}, 30)
	watermarkIs(t, h, "clicks", 15)
}

// A push query over a view with event time gets the view's watermark in
// the epoch that moves it, also when the view's result did not change (its
// filter dropped the epoch's rows): EMIT FINAL then closes the window as a
// materialized view over it does, not when a later row passes the filter.
func TestPushQueryGetsViewWatermark(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s, w := h.session(), h.session()
	mustRun(t, s, bidsTable)
	mustRun(t, s, `CREATE MATERIALIZED VIEW cheap AS SELECT auction, date_time FROM bids WHERE price < 100`)
	ctx := context.Background()
	stmts, err := s.Parse(ctx, `SELECT auction, window_end, COUNT(*) AS n
		FROM TUMBLE(cheap, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_end EMIT FINAL`, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	mustRun(t, w, `INSERT INTO bids VALUES (1, 10, '2026-01-01 10:00:05')`)
	mustRun(t, w, `INSERT INTO bids VALUES (1, 500, '2026-01-01 10:01:30')`) // filtered out; moves the watermark
	if n := res.(interface{ Buffered() int }).Buffered(); n != 1 {
		t.Fatalf("%d rows for the push query, want the closed window", n)
	}
	row, ok, err := res.Next(ctx)
	if err != nil || !ok || row[len(row)-1].Int() != 1 {
		t.Fatalf("closed window: %v %v %v", row, ok, err)
	}
}

// The partitions of a source's topics count apart, also those with the
// same number: partition 0 of a quiet topic holds the watermark back.
func TestClockPartitionsOfTopics(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	mustRun(t, h.session(), `CREATE TABLE clicks (user_id INT, ts TIMESTAMP, WATERMARK FOR ts AS ts)`)
	tick := func(topic string, sec int) {
		t.Helper()
		rel := lockClock(t, h, "clicks").rel
		defer h.c.views.mu.Unlock()
		txn := h.db.Begin()
		defer txn.Rollback()
		tc := storage.TableChanges{Rel: rel, Changes: []storage.Change{{New: types.Row{types.NewInt32(1), types.NewTimestamp(int64(sec) * 1_000_000), types.NewInt64(int64(sec))}}}}
		offs := map[catalog.ID][]executor.SourceOffset{rel.ID: {{Topic: topic, Partition: 0, Next: int64(sec)}}}
		if _, err := h.c.tickClocks(context.Background(), txn, []storage.TableChanges{tc}, offs); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tick("a", 10)
	tick("b", 30)
	tick("a", 20)
	watermarkIs(t, h, "clicks", 20) // b's partition 0 is at 30, a's at 20
}
