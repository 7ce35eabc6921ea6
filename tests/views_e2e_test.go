package tests

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// viewRows returns SELECT * FROM name as sorted rendered rows.
func viewRows(ctx context.Context, c *pgconn.PgConn, sql string) ([]string, error) {
	rows, _, err := execText(ctx, c, sql)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = renderRow(r)
	}
	sort.Strings(out)
	return out, nil
}

// TestViewsSurviveKill9: views equal before and after `kill -9` and a
// restart, with a writer running across the crash. Only acknowledged writes
// are replayed into a reference table on PostgreSQL; after the restart every
// Weir view must equal its query on PostgreSQL over the acknowledged rows
// (plus, at most, the one write in flight at the kill).
func TestViewsSurviveKill9(t *testing.T) {
	w := startWeir(t)
	pg := postgres(t)
	ctx := testCtx(t, 3*time.Minute)
	if err := pg.CreateDB(ctx, "views_kill9"); err != nil {
		t.Fatal(err)
	}
	pc := connect(t, pg.DSN("views_kill9"), pgx.QueryExecModeSimpleProtocol).PgConn()
	schema := []string{
		`CREATE TABLE ev (id BIGINT PRIMARY KEY, g INT, amount NUMERIC(10,2), tag TEXT)`,
		`CREATE TABLE grp (g INT PRIMARY KEY, name TEXT)`,
		`INSERT INTO grp VALUES (0, 'zero'), (1, 'one'), (2, 'two'), (3, 'three')`,
	}
	views := map[string]string{
		"kv_sum":  `SELECT g, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi FROM ev GROUP BY g`,
		"kv_join": `SELECT grp.name, ev.tag, count(*) AS n FROM ev JOIN grp ON ev.g = grp.g GROUP BY grp.name, ev.tag`,
		"kv_top":  `SELECT id, amount FROM ev ORDER BY amount DESC, id LIMIT 5`,
		"kv_dist": `SELECT DISTINCT tag FROM ev`,
	}
	names := []string{"kv_dist", "kv_join", "kv_sum", "kv_top"}
	wc := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	for _, s := range schema {
		mustExec(t, ctx, wc, s)
		if _, _, err := execText(ctx, pc, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		mustExec(t, ctx, wc, "CREATE MATERIALIZED VIEW "+n+" AS "+views[n])
		if _, _, err := execText(ctx, pc, "CREATE VIEW "+n+" AS "+views[n]); err != nil {
			t.Fatal(err)
		}
	}

	// The writer: each statement is applied to PostgreSQL only once Weir
	// acknowledged it; the one in flight at the kill is remembered.
	var (
		mu       sync.Mutex
		inFlight string
	)
	stmt := func(i int) string {
		switch {
		case i%7 == 3:
			return fmt.Sprintf(`DELETE FROM ev WHERE id = %d`, i-2)
		case i%5 == 4:
			return fmt.Sprintf(`UPDATE ev SET g = %d, amount = amount + 1 WHERE id = %d`, i%4, i-3)
		}
		return fmt.Sprintf(`INSERT INTO ev VALUES (%d, %d, %d.%02d, 't%d')`, i, i%4, i%50, i%100, i%3)
	}
	write := func(c *pgx.Conn, from, to int, acked *atomic.Int64) error {
		for i := from; i < to; i++ {
			s := stmt(i)
			mu.Lock()
			inFlight = s
			mu.Unlock()
			if _, err := c.Exec(context.Background(), s); err != nil {
				return err
			}
			if _, _, err := execText(ctx, pc, s); err != nil {
				t.Errorf("postgres: %s: %v", s, err)
			}
			mu.Lock()
			inFlight = ""
			mu.Unlock()
			acked.Store(int64(i))
		}
		return nil
	}
	var acked atomic.Int64
	if err := write(wc, 1, 200, &acked); err != nil {
		t.Fatal(err)
	}
	compare := func(c *pgconn.PgConn, when string) {
		t.Helper()
		for _, n := range names {
			got, err := viewRows(ctx, c, "SELECT * FROM "+n)
			if err != nil {
				t.Errorf("%s: weir SELECT * FROM %s: %v", when, n, err)
				continue
			}
			want, err := viewRows(ctx, pc, "SELECT * FROM "+n)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: view %s differs from PostgreSQL\n%s", when, n, rowDiff(got, want))
			}
		}
	}
	compare(wc.PgConn(), "before the crash")
	before := map[string][]string{}
	for _, n := range names {
		before[n], _ = viewRows(ctx, wc.PgConn(), "SELECT * FROM "+n)
	}

	// A plain restart first: SIGTERM, the same views.
	if _, err := w.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	rc := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	for _, n := range names {
		got, err := viewRows(ctx, rc.PgConn(), "SELECT * FROM "+n)
		if err != nil || strings.Join(got, "\n") != strings.Join(before[n], "\n") {
			t.Errorf("after a clean restart, view %s: %v\n%s", n, err, rowDiff(got, before[n]))
		}
	}

	// Now writes running while the server is killed.
	done := make(chan error, 1)
	go func() { done <- write(rc, 200, 100000, &acked) }()
	waitFor(t, 30*time.Second, "100 more acknowledged writes", func() error {
		if n := acked.Load(); n < 300 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	w.Kill()
	if err := <-done; err == nil {
		t.Fatal("the writer finished before the kill")
	}
	mu.Lock()
	pending := inFlight
	mu.Unlock()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	// The write in flight may or may not have committed: find out from the
	// base table and apply it to the reference if it did.
	if pending != "" {
		last := acked.Load() + 1
		rowsW, _ := viewRows(ctx, c2.PgConn(), "SELECT * FROM ev ORDER BY id")
		rowsP, _ := viewRows(ctx, pc, "SELECT * FROM ev ORDER BY id")
		if strings.Join(rowsW, "\n") != strings.Join(rowsP, "\n") {
			if _, _, err := execText(ctx, pc, pending); err != nil {
				t.Fatal(err)
			}
			t.Logf("the write in flight (%d) had committed: %s", last, pending)
		}
	}
	baseW, _ := viewRows(ctx, c2.PgConn(), "SELECT * FROM ev")
	baseP, _ := viewRows(ctx, pc, "SELECT * FROM ev")
	if strings.Join(baseW, "\n") != strings.Join(baseP, "\n") {
		t.Errorf("after kill -9 the base table differs from the acknowledged writes\n%s", rowDiff(baseW, baseP))
	}
	compare(c2.PgConn(), "after kill -9")

	// and writes continue after the restart, views still maintained
	if err := write(c2, int(acked.Load())+2, int(acked.Load())+120, &acked); err != nil {
		t.Fatal(err)
	}
	compare(c2.PgConn(), "writes after the restart")
}

// pushReader reads an EMIT CHANGES query row by row in a goroutine so that
// the test can see rows arrive while the query is still running.
type pushReader struct {
	rows chan []string
	done chan error
}

func startPush(ctx context.Context, c *pgconn.PgConn, sql string) *pushReader {
	p := &pushReader{rows: make(chan []string, 1000), done: make(chan error, 1)}
	go func() {
		rr := c.ExecParams(ctx, sql, nil, nil, nil, nil)
		for rr.NextRow() {
			vals := rr.Values()
			row := make([]string, len(vals))
			for i, v := range vals {
				if v == nil {
					row[i] = "NULL"
				} else {
					row[i] = string(v)
				}
			}
			p.rows <- row
		}
		_, err := rr.Close()
		p.done <- err
	}()
	return p
}

// next waits for one row.
func (p *pushReader) next(t *testing.T, d time.Duration, what string) []string {
	t.Helper()
	select {
	case r := <-p.rows:
		return r
	case err := <-p.done:
		p.done <- err // for the caller that waits for the end
		select {      // rows sent before the end come first
		case r := <-p.rows:
			return r
		default:
		}
		t.Fatalf("%s: the push query ended (%v) before a row arrived", what, err)
	case <-time.After(d):
		t.Fatalf("%s: no row within %v", what, d)
	}
	return nil
}

func TestPushQueryPgx(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE orders (id BIGINT PRIMARY KEY, region TEXT, amount INT)`)
	mustExec(t, ctx, c, `INSERT INTO orders VALUES (1, 'EU', 10), (2, 'US', 20), (3, 'EU', 5)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW by_region AS SELECT region, count(*) AS n, sum(amount) AS total FROM orders GROUP BY region`)

	for _, mode := range execModes {
		t.Run(mode.name, func(t *testing.T) {
			sub := connect(t, w.DSN(), mode.mode)
			subCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			var p *pushReader
			if mode.mode == pgx.QueryExecModeSimpleProtocol {
				p = startPushSimple(subCtx, sub.PgConn(), `SELECT * FROM by_region EMIT CHANGES`)
			} else {
				p = startPush(subCtx, sub.PgConn(), `SELECT * FROM by_region EMIT CHANGES`)
			}
			// the current rows first: the same as a pull query
			cur, err := viewRows(ctx, c.PgConn(), `SELECT 'insert', * FROM by_region`)
			if err != nil {
				t.Fatal(err)
			}
			first := []string{
				strings.Join(p.next(t, 10*time.Second, "current row 1"), " "),
				strings.Join(p.next(t, 10*time.Second, "current row 2"), " "),
			}
			sort.Strings(first)
			if strings.Join(first, "\n") != strings.Join(cur, "\n") {
				t.Errorf("current rows:\n%s\nwant:\n%s", strings.Join(first, "\n"), strings.Join(cur, "\n"))
			}
			// a change made elsewhere arrives while the query runs
			id := 100
			if mode.mode != pgx.QueryExecModeSimpleProtocol {
				id = 200
			}
			mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO orders VALUES (%d, 'US', 1)`, id))
			got := []string{
				strings.Join(p.next(t, 5*time.Second, "the delete of the old US row"), " "),
				strings.Join(p.next(t, 5*time.Second, "the insert of the new US row"), " "),
			}
			wantN, wantT := 2, 21
			if id == 200 {
				wantN, wantT = 3, 22
			}
			want := []string{fmt.Sprintf("delete US %d %d", wantN-1, wantT-1), fmt.Sprintf("insert US %d %d", wantN, wantT)}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("change:\n%s\nwant (an update is a delete then an insert):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// a change in an unrelated region then a removed group
			mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO orders VALUES (%d, 'APAC', 7)`, id+1))
			if r := strings.Join(p.next(t, 5*time.Second, "new group"), " "); r != "insert APAC 1 7" {
				t.Errorf("new group: %q", r)
			}
			mustExec(t, ctx, c, fmt.Sprintf(`DELETE FROM orders WHERE id = %d`, id+1))
			if r := strings.Join(p.next(t, 5*time.Second, "vanished group"), " "); r != "delete APAC 1 7" {
				t.Errorf("vanished group: %q", r)
			}
			// a CancelRequest ends it with 57014; the connection stays usable
			cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
			defer ccancel()
			if err := sub.PgConn().CancelRequest(cctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-p.done:
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "57014" {
					t.Errorf("after CancelRequest: %v, want SQLSTATE 57014", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("CancelRequest did not end the push query within 10s")
			}
			if sub.PgConn().IsClosed() {
				t.Fatal("connection closed by the cancel")
			}
			var n int
			if err := sub.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
				t.Fatalf("connection unusable after cancel: %v", err)
			}
		})
	}

	t.Run("client_goes_away", func(t *testing.T) {
		sub := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
		p := startPushSimple(ctx, sub.PgConn(), `SELECT * FROM by_region EMIT CHANGES`)
		p.next(t, 10*time.Second, "a current row")
		sub.PgConn().Conn().Close() // the socket closes under the running query
		<-p.done
		for i := 0; i < 20; i++ { // the server keeps committing and serving
			mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO orders VALUES (%d, 'EU', 1)`, 400+i))
		}
		var n int
		if err := c.QueryRow(ctx, `SELECT n FROM by_region WHERE region = 'EU'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("limit", func(t *testing.T) {
		sub := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
		// 2 current rows, then the query waits for 2 more changes
		p := startPushSimple(ctx, sub.PgConn(), `SELECT region, n FROM by_region WHERE region <> 'nowhere' EMIT CHANGES LIMIT 4`)
		p.next(t, 10*time.Second, "row 1")
		p.next(t, 10*time.Second, "row 2")
		select {
		case err := <-p.done:
			t.Fatalf("LIMIT 4 ended after 2 rows: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		mustExec(t, ctx, c, `INSERT INTO orders VALUES (300, 'EU', 1)`)
		p.next(t, 5*time.Second, "row 3")
		p.next(t, 5*time.Second, "row 4")
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("LIMIT 4: ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("LIMIT 4 did not end the query after 4 rows")
		}
		var n int
		if err := sub.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			t.Fatalf("connection after LIMIT: %v", err)
		}
	})
}

// startPushSimple is startPush over the simple query protocol.
func startPushSimple(ctx context.Context, c *pgconn.PgConn, sql string) *pushReader {
	p := &pushReader{rows: make(chan []string, 1000), done: make(chan error, 1)}
	go func() {
		mrr := c.Exec(ctx, sql)
		var firstErr error
		for mrr.NextResult() {
			rr := mrr.ResultReader()
			for rr.NextRow() {
				vals := rr.Values()
				row := make([]string, len(vals))
				for i, v := range vals {
					if v == nil {
						row[i] = "NULL"
					} else {
						row[i] = string(v)
					}
				}
				p.rows <- row
			}
			if _, err := rr.Close(); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if err := mrr.Close(); err != nil && firstErr == nil {
			firstErr = err
		}
		p.done <- firstErr
	}()
	return p
}

// TestPushQueryPsqlCopy: psql's COPY (SELECT ... EMIT CHANGES) TO STDOUT
// prints changes live, read from psql's stdout while it runs.
func TestPushQueryPsqlCopy(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not installed: run `make deps`")
	}
	if _, err := exec.LookPath("stdbuf"); err != nil {
		t.Fatal("stdbuf (coreutils) not installed")
	}
	w := startWeir(t)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE ticks (id INT PRIMARY KEY, sym TEXT, px NUMERIC)`)
	mustExec(t, ctx, c, `INSERT INTO ticks VALUES (1, 'A', 1.5)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW last_px AS SELECT sym, max(px) AS px FROM ticks GROUP BY sym`)

	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	cmd := exec.CommandContext(pctx, "stdbuf", "-o0", "psql", "-X", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(w.PGPort),
		"-U", "weir", "-d", "weir", "-c", `COPY (SELECT * FROM last_px EMIT CHANGES) TO STDOUT`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s: psql output ended (stderr: %s)", what, stderr.String())
			}
			return l
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no line from psql within 5s (stderr: %s)", what, stderr.String())
		}
		return ""
	}
	if l := next("current row"); l != "insert\tA\t1.5" {
		t.Errorf("current row: %q", l)
	}
	mustExec(t, ctx, c, `INSERT INTO ticks VALUES (2, 'A', 2.5), (3, 'B', NULL)`)
	got := []string{next("change 1"), next("change 2"), next("change 3")}
	sort.Strings(got)
	want := []string{"delete\tA\t1.5", "insert\tA\t2.5", "insert\tB\t\\N"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("changes: %q, want %q", got, want)
	}
	pcancel() // psql is killed; the server must keep serving
	_ = cmd.Wait()
	_, _ = io.Copy(io.Discard, stdout)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM last_px`).Scan(&n); err != nil || n != 2 {
		t.Errorf("after psql went away: %d %v", n, err)
	}
}

// TestViewsConcurrentWriters: several sessions write the same tables at once
// (inserts, updates moving rows between groups, deletes, transactions);
// afterwards every view equals its defining query run as a batch on Weir
// over the same rows, and PostgreSQL agrees once given those rows.
func TestViewsConcurrentWriters(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE cw (id INT PRIMARY KEY, g INT, v INT, s TEXT)`)
	mustExec(t, ctx, c, `CREATE TABLE cg (g INT PRIMARY KEY, name TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO cg VALUES (0, 'a'), (1, 'b'), (2, 'c'), (3, NULL)`)
	views := map[string]string{
		"cw_agg":  `SELECT g, count(*) AS n, sum(v) AS sv, min(v) AS lo, max(s) AS hs, count(DISTINCT v) AS dv FROM cw GROUP BY g`,
		"cw_join": `SELECT cg.name, count(cw.id) AS n, sum(cw.v) AS sv FROM cg LEFT JOIN cw ON cw.g = cg.g GROUP BY cg.name`,
		"cw_top":  `SELECT id, v FROM cw ORDER BY v DESC, id LIMIT 4`,
		"cw_nest": `SELECT n, count(*) AS ngroups FROM cw_agg GROUP BY n`,
	}
	for _, n := range []string{"cw_agg", "cw_join", "cw_top", "cw_nest"} {
		mustExec(t, ctx, c, "CREATE MATERIALIZED VIEW "+n+" AS "+views[n])
	}
	var wg sync.WaitGroup
	var writes atomic.Int64
	deadline := time.Now().Add(4 * time.Second)
	for wkr := 0; wkr < 4; wkr++ {
		wg.Add(1)
		go func(wkr int) {
			defer wg.Done()
			cc, err := pgx.Connect(ctx, w.DSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer cc.Close(context.Background())
			for i := 0; time.Now().Before(deadline); i++ {
				id := wkr*100000 + i
				var stmts []string
				switch i % 6 {
				case 0, 1, 2:
					stmts = []string{fmt.Sprintf(`INSERT INTO cw VALUES (%d, %d, %d, 's%d')`, id, i%4, (i*7)%13, i%5)}
				case 3:
					stmts = []string{fmt.Sprintf(`UPDATE cw SET g = (g + 1) %% 4, v = v + 1 WHERE id = %d`, id-2)}
				case 4:
					stmts = []string{fmt.Sprintf(`DELETE FROM cw WHERE id = %d`, id-4)}
				case 5:
					stmts = []string{"BEGIN", fmt.Sprintf(`UPDATE cw SET v = NULL WHERE id = %d`, id-1),
						fmt.Sprintf(`INSERT INTO cw VALUES (%d, NULL, 1, NULL)`, id), "COMMIT"}
				}
				for _, s := range stmts {
					if _, err := cc.Exec(ctx, s); err != nil {
						var pe *pgconn.PgError
						if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "25P02") {
							continue // a serialization conflict is a fair answer to concurrent writers
						}
						t.Errorf("writer %d: %s: %v", wkr, s, err)
						return
					}
				}
				writes.Add(1)
			}
		}(wkr)
	}
	wg.Wait()
	t.Logf("%d writes from 4 sessions", writes.Load())
	for name, q := range views {
		got, err := viewRows(ctx, c.PgConn(), "SELECT * FROM "+name)
		if err != nil {
			t.Fatal(err)
		}
		// cw_nest reads cw_agg: its batch query must read the base table
		batch := strings.ReplaceAll(q, "FROM cw_agg", "FROM ("+views["cw_agg"]+") x")
		want, err := viewRows(ctx, c.PgConn(), batch)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("view %s differs from its query run as a batch\n%s", name, rowDiff(got, want))
		}
	}
	// and PostgreSQL over the same rows agrees with the batch answers
	pg := postgres(t)
	if err := pg.CreateDB(ctx, "views_concurrent"); err != nil {
		t.Fatal(err)
	}
	pc := connect(t, pg.DSN("views_concurrent"), pgx.QueryExecModeSimpleProtocol).PgConn()
	for _, s := range []string{`CREATE TABLE cw (id INT PRIMARY KEY, g INT, v INT, s TEXT)`, `CREATE TABLE cg (g INT PRIMARY KEY, name TEXT)`} {
		if _, _, err := execText(ctx, pc, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, tbl := range []string{"cw", "cg"} {
		rows, _, err := execText(ctx, c.PgConn(), "SELECT * FROM "+tbl)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			vals := make([]string, len(r))
			for i, v := range r {
				if v == nil {
					vals[i] = "NULL"
				} else {
					vals[i] = "'" + strings.ReplaceAll(*v, "'", "''") + "'"
				}
			}
			if _, _, err := execText(ctx, pc, "INSERT INTO "+tbl+" VALUES ("+strings.Join(vals, ", ")+")"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, q := range views {
		got, _ := viewRows(ctx, c.PgConn(), "SELECT * FROM "+name)
		want, err := viewRows(ctx, pc, strings.ReplaceAll(q, "FROM cw_agg", "FROM ("+views["cw_agg"]+") x"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("view %s differs from PostgreSQL over the same rows\n%s", name, rowDiff(got, want))
		}
	}
}

// TestPushQuerySlowClient: a push-query client that never reads must not
// slow the writers or other subscribers; it is dropped with a clear error
// once it falls too far behind (bounded buffer per subscriber).
func TestPushQuerySlowClient(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE firehose (id INT PRIMARY KEY, v TEXT)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW firehose_v AS SELECT id, v FROM firehose`)

	// the slow client: a raw socket that sends the query and stops reading
	conn, err := net.Dial("tcp", w.PGAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	params := []byte("user\x00weir\x00database\x00weir\x00\x00")
	startup := binary.BigEndian.AppendUint32(nil, uint32(8+len(params)))
	startup = binary.BigEndian.AppendUint32(startup, 196608)
	if _, err := conn.Write(append(startup, params...)); err != nil {
		t.Fatal(err)
	}
	// read up to ReadyForQuery ('Z')
	br := bufio.NewReader(conn)
	for {
		typ, body := readMsg(t, br)
		if typ == 'E' {
			t.Fatalf("startup: %q", body)
		}
		if typ == 'Z' {
			break
		}
	}
	q := []byte("SELECT * FROM firehose_v EMIT CHANGES\x00")
	msg := append([]byte{'Q'}, binary.BigEndian.AppendUint32(nil, uint32(4+len(q)))...)
	if _, err := conn.Write(append(msg, q...)); err != nil {
		t.Fatal(err)
	}

	// a well-behaved subscriber alongside
	good := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	gctx, gcancel := context.WithCancel(ctx)
	defer gcancel()
	p := startPushSimple(gctx, good.PgConn(), `SELECT id FROM firehose_v WHERE id = 150000 EMIT CHANGES`)

	start := time.Now()
	const n = 150000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int32(i + 1), strings.Repeat("x", 100)}
	}
	for off := 0; off < n; off += 10000 {
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"firehose"}, []string{"id", "v"}, pgx.CopyFromRows(rows[off:off+10000])); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	t.Logf("%d rows written in %v with a stalled subscriber", n, took)
	if took > 60*time.Second {
		t.Errorf("writes took %v: the stalled subscriber slows the pipeline", took)
	}
	if r := strings.Join(p.next(t, 10*time.Second, "the other subscriber's row"), " "); r != "insert 150000" {
		t.Errorf("other subscriber got %q", r)
	}
	// the stalled client, when it reads at last, finds an ErrorResponse
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var code string
	counts := map[byte]int{}
	defer func() { t.Logf("stalled client read: %v", counts) }()
	for code == "" {
		typ, body := readMsgCounting(t, br, counts)
		if typ == 'E' {
			for _, f := range strings.Split(string(body), "\x00") {
				if strings.HasPrefix(f, "C") {
					code = f[1:]
				}
			}
			t.Logf("stalled client: %q", body)
		}
	}
	if code == "" || code == "XX000" {
		t.Errorf("stalled client ended with SQLSTATE %q, want a clear error", code)
	}
}

// readMsg reads one backend message (type, body), failing t on error.
func readMsg(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var hdr [5]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("read: %v", err)
	}
	return hdr[0], body
}

func readMsgCounting(t *testing.T, br *bufio.Reader, counts map[byte]int) (byte, []byte) {
	t.Helper()
	var hdr [5]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatalf("read after %v messages: %v", counts, err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("read: %v", err)
	}
	counts[hdr[0]]++
	return hdr[0], body
}
