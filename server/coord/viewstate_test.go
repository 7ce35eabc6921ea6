package coord

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// TestViewStateRestart restarts with views over every stateful operator (a
// window and a top-N per group among them) and
// checks that they restore their operator state (no backfill), hold what
// they held, and keep being maintained equal to their defining queries. A
// view without saved state (as created before state was saved) is
// backfilled once, then restored.
//
// With a state cache of one byte, every epoch drops all operator state from
// memory, and a restart loads none: every group, row and join key the views
// use is read back from storage.
//
// Each start runs another number of workers (shards per keyed operator),
// which the saved state must not depend on; one statement per round
// changes enough rows for the shards to run in parallel.
func TestViewStateRestart(t *testing.T) {
	t.Run("in memory", func(t *testing.T) { testViewStateRestart(t, 0) })
	t.Run("read back", func(t *testing.T) { testViewStateRestart(t, 1) })
}

func testViewStateRestart(t *testing.T, stateCache int64) {
	dir := t.TempDir()
	opts := Options{StateCacheSize: stateCache, Workers: 3}
	h := newHarnessWith(t, dir, opts)
	s := h.session()
	mustRun(t, s, `CREATE TABLE o (id INT PRIMARY KEY, cust INT, amount INT, note TEXT, ok BOOLEAN);
		CREATE TABLE c (id INT PRIMARY KEY, region TEXT)`)
	views := map[string]string{
		"agg": `SELECT cust, count(*) AS n, count(DISTINCT amount) AS d, sum(amount) AS s, avg(amount) AS a,
			min(note) AS lo, max(amount) AS hi, string_agg(note, ',' ORDER BY note, id) AS notes, bool_and(ok) AS alltrue, bool_or(ok) AS anytrue
			FROM o GROUP BY cust`,
		"total":  `SELECT count(*) AS n, max(amount) AS hi FROM o`,
		"joined": `SELECT c.region, count(o.id) AS n, sum(o.amount) AS s FROM c LEFT JOIN o ON o.cust = c.id GROUP BY c.region`,
		"full":   `SELECT c.region || coalesce(o.id::text, '-') AS k, c.id FROM o FULL JOIN c ON o.cust = c.id`,
		"semi":   `SELECT id, region FROM c WHERE EXISTS (SELECT 1 FROM o WHERE o.cust = c.id)`,
		"anti":   `SELECT id, region FROM c WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.cust = c.id)`,
		"dist":   `SELECT DISTINCT cust FROM o`,
		"top":    `SELECT id, amount FROM o ORDER BY amount DESC, id LIMIT 3`,
		"firsts": `SELECT DISTINCT ON (cust) cust, id, amount FROM o ORDER BY cust, amount DESC, id`,
		"exc":    `SELECT cust FROM o EXCEPT SELECT id FROM c`,
		"onview": `SELECT cust, n FROM agg WHERE n > 1`,
		"win": `SELECT id, cust, row_number() OVER (PARTITION BY cust ORDER BY amount DESC, id) AS rn,
			sum(amount) OVER (PARTITION BY cust ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3,
			lag(note) OVER (PARTITION BY cust ORDER BY id) AS prev FROM o`,
		"topwin": `SELECT cust, id, rn FROM (SELECT cust, id, row_number() OVER (PARTITION BY cust ORDER BY amount, id) AS rn FROM o) x WHERE rn <= 2`,
	}
	names := []string{"agg", "total", "joined", "full", "semi", "anti", "dist", "top", "firsts", "exc", "onview", "win", "topwin"}
	for _, n := range names {
		mustRun(t, s, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", n, views[n]))
	}
	order := func(n string) string {
		if n == "dist" || n == "exc" {
			return "1"
		}
		return "1, 2"
	}
	id := 0
	write := func(round int) {
		t.Helper()
		row := func() string {
			id++
			return fmt.Sprintf("(%d, %d, %d, 'n%d', %v)", id, (id*7)%6, (id*13)%9, id%4, id%3 != 0)
		}
		for i := 0; i < 20; i++ {
			mustRun(t, s, "INSERT INTO o VALUES "+row())
		}
		bulk := make([]string, 300)
		for i := range bulk {
			bulk[i] = row()
		}
		mustRun(t, s, "INSERT INTO o VALUES "+strings.Join(bulk, ", "))
		mustRun(t, s, fmt.Sprintf("INSERT INTO c VALUES (%d, 'r%d') ON CONFLICT DO NOTHING", round, round%3))
		mustRun(t, s, fmt.Sprintf("UPDATE o SET amount = amount + 1, cust = cust + 1 WHERE id %% 5 = %d", round%5))
		mustRun(t, s, fmt.Sprintf("DELETE FROM o WHERE id %% 7 = %d", round%7))
		mustRun(t, s, fmt.Sprintf("DELETE FROM c WHERE id = %d", round-2))
	}
	contents := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, n := range names {
			out[n] = mustRun(t, s, "SELECT * FROM "+n+" ORDER BY "+order(n))
		}
		return out
	}
	// Each view must equal its defining query run as a pull query.
	checkRecompute := func() {
		t.Helper()
		for _, n := range names {
			got := mustRun(t, s, "SELECT * FROM "+n+" ORDER BY "+order(n))
			want := mustRun(t, s, "SELECT * FROM ("+views[n]+") q ORDER BY "+order(n))
			if got != want {
				t.Fatalf("view %s:\n%s\nits query:\n%s", n, got, want)
			}
		}
	}
	for round := 0; round < 4; round++ {
		write(round)
	}
	checkRecompute()
	if stateCache > 0 {
		for _, v := range h.c.views.order {
			if n := v.df.CachedBytes(); n > 0 {
				t.Fatalf("view %s keeps %d bytes of state in memory with a cache of %d", v.rel.Name, n, stateCache)
			}
		}
	}
	before := contents()

	restart := func() {
		t.Helper()
		s.Close()
		h.close()
		opts.Workers = opts.Workers%3 + 1
		h = newHarnessWith(t, dir, opts)
		s = h.session()
	}
	restart()
	if r, b := h.c.views.restored.Load(), h.c.views.backfilled.Load(); r != int64(len(names)) || b != 0 {
		t.Fatalf("after restart: %d views restored, %d backfilled; want %d, 0", r, b, len(names))
	}
	after := contents()
	for _, n := range names {
		if before[n] != after[n] {
			t.Fatalf("view %s before restart:\n%s\nafter:\n%s", n, before[n], after[n])
		}
	}
	for round := 4; round < 8; round++ {
		write(round)
		checkRecompute()
	}

	// A view without saved state (created before state was saved) is
	// backfilled, and saves its state for the next start.
	agg, err := h.c.lookup("", "agg")
	if err != nil {
		t.Fatal(err)
	}
	txn := h.db.Begin()
	if err := txn.DropState(agg.ID); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	restart()
	if r, b := h.c.views.restored.Load(), h.c.views.backfilled.Load(); r != int64(len(names)-1) || b != 1 {
		t.Fatalf("after dropping agg's state: %d views restored, %d backfilled; want %d, 1", r, b, len(names)-1)
	}
	write(8)
	checkRecompute()
	restart()
	if r, b := h.c.views.restored.Load(), h.c.views.backfilled.Load(); r != int64(len(names)) || b != 0 {
		t.Fatalf("second restart: %d views restored, %d backfilled", r, b)
	}
	write(9)
	checkRecompute()

	// State saved by a dataflow of another shape (its marker differs) is
	// not used.
	top, err := h.c.lookup("", "top")
	if err != nil {
		t.Fatal(err)
	}
	txn = h.db.Begin()
	if err := txn.PutState(top.ID, stateMarkerOp, stateFormatKey, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	restart()
	if r, b := h.c.views.restored.Load(), h.c.views.backfilled.Load(); r != int64(len(names)-1) || b != 1 {
		t.Fatalf("after changing top's marker: %d views restored, %d backfilled", r, b)
	}
	write(10)
	checkRecompute()
}

// TestCreateViewWhileWriting writes, updates and deletes rows of a view's
// inputs after CREATE MATERIALIZED VIEW took its snapshot and before its
// backfill: the writes commit without waiting for the view, and the view
// ends up with them, none twice. A TRUNCATE or DROP of an input meanwhile
// fails the CREATE with 40001, leaving nothing behind.
func TestCreateViewWhileWriting(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s, w := h.session(), h.session()
	mustRun(t, s, `CREATE TABLE o (id INT PRIMARY KEY, cust INT, amount INT);
		CREATE TABLE c (id INT PRIMARY KEY, region TEXT);
		INSERT INTO c VALUES (1, 'eu'), (2, 'us'), (3, 'eu');
		CREATE MATERIALIZED VIEW per_cust AS SELECT cust, count(*) AS n, sum(amount) AS s FROM o GROUP BY cust`)
	for i := 0; i < 300; i++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO o VALUES (%d, %d, %d)", i, i%4, i%10))
	}
	const q = `SELECT c.region, count(*) AS n, sum(o.amount) AS s, max(p.n) AS most FROM o JOIN c ON o.cust = c.id JOIN per_cust p ON p.cust = o.cust GROUP BY c.region`
	h.c.testHookBackfill = func() {
		mustRun(t, w, `INSERT INTO o SELECT id + 1000, cust, amount FROM o WHERE id < 50;
			UPDATE o SET amount = amount + 5 WHERE id % 3 = 0;
			DELETE FROM o WHERE id % 7 = 0;
			UPDATE c SET region = 'apac' WHERE id = 3;
			INSERT INTO c VALUES (0, 'none')`)
	}
	mustRun(t, s, "CREATE MATERIALIZED VIEW regions AS "+q)
	h.c.testHookBackfill = nil
	mustRun(t, w, "UPDATE o SET cust = 0 WHERE id % 5 = 0")
	got := mustRun(t, s, "SELECT * FROM regions ORDER BY 1")
	want := mustRun(t, s, "SELECT * FROM ("+q+") q ORDER BY 1")
	if got != want {
		t.Fatalf("view:\n%s\nits query:\n%s", got, want)
	}

	// A TRUNCATE of an input nothing else reads yet is done row by row
	// too, since the view being created needs the rows that go.
	mustRun(t, s, "CREATE TABLE solo (k INT PRIMARY KEY, v INT); INSERT INTO solo VALUES (1, 1), (2, 2)")
	h.c.testHookBackfill = func() { mustRun(t, w, "TRUNCATE solo; INSERT INTO solo VALUES (3, 30)") }
	mustRun(t, s, "CREATE MATERIALIZED VIEW solo_sum AS SELECT count(*) AS n, sum(v) AS s FROM solo")
	h.c.testHookBackfill = nil
	if got := mustRun(t, s, "SELECT * FROM solo_sum"); got != mustRun(t, s, "SELECT count(*) AS n, sum(v) AS s FROM solo") {
		t.Fatalf("after a TRUNCATE during the backfill: %s", got)
	}

	h.c.testHookBackfill = func() { mustRun(t, w, "DROP TABLE solo CASCADE") }
	_, err := run(t, s, "CREATE MATERIALIZED VIEW late AS SELECT k, v FROM solo WHERE v > 1")
	h.c.testHookBackfill = nil
	if err == nil || !strings.Contains(err.Error(), "was dropped while it was being filled") {
		t.Fatalf("DROP TABLE during the backfill: err %v, want a 40001", err)
	}
	if rel, _ := h.c.lookup("", "late"); rel != nil {
		t.Fatal("DROP TABLE during the backfill left the view behind")
	}
	if len(h.c.views.pending) != 0 {
		t.Fatal("a failed CREATE left a pending view")
	}
}

// TestOrphanedViewDataDropped: a CREATE MATERIALIZED VIEW writes its rows
// and state in several batches before its catalog entry; if the server
// dies in between, the next start drops what has no catalog entry and
// keeps everything else.
func TestOrphanedViewDataDropped(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, `CREATE TABLE o (id INT PRIMARY KEY, cust INT);
		INSERT INTO o VALUES (1, 1), (2, 1), (3, 2);
		CREATE MATERIALIZED VIEW per_cust AS SELECT cust, count(*) AS n FROM o GROUP BY cust`)
	before := mustRun(t, s, "SELECT * FROM per_cust ORDER BY 1")
	// What a view being created had written when the server died.
	orphan := &catalog.Relation{ID: 99_999, Name: "gone", Kind: catalog.MaterializedView,
		Columns:    []catalog.Column{{Name: "x", Type: types.Int64}, {Name: catalog.CountColumn, Type: types.Int64, Hidden: true}},
		PrimaryKey: []int{0}}
	txn := h.db.Begin()
	if err := txn.ApplyView(orphan, []types.Row{{types.NewInt64(7)}}, []int64{1}, false); err != nil {
		t.Fatal(err)
	}
	if err := txn.PutState(orphan.ID, 1, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	h.close()
	h = newHarness(t, dir)
	s = h.session()
	snap := h.db.Snapshot()
	defer snap.Close()
	if err := snap.ScanState(orphan.ID, func(uint32, []byte, []byte) error { return fmt.Errorf("state left") }); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := snap.Get(context.Background(), orphan, []types.Datum{types.NewInt64(7)}); ok || err != nil {
		t.Fatalf("orphaned view row: found %v, err %v", ok, err)
	}
	if got := mustRun(t, s, "SELECT * FROM per_cust ORDER BY 1"); got != before {
		t.Fatalf("view after the start that dropped orphans:\n%s\nbefore:\n%s", got, before)
	}
	if r := h.c.views.restored.Load(); r != 1 {
		t.Fatalf("%d views restored, want 1", r)
	}
}
