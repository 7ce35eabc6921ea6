package coord

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// harness runs statements through the Session API, as the server would.
type harness struct {
	t   *testing.T
	dir string
	db  *storage.DB
	c   *Coordinator
}

func newHarness(t *testing.T, dir string) *harness {
	t.Helper()
	return newHarnessWith(t, dir, Options{})
}

// newHarnessWith is newHarness with coordinator options (DB and Logger
// are set by the harness).
func newHarnessWith(t *testing.T, dir string, opts Options) *harness {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts.DB = db
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, db: db, c: c}
	t.Cleanup(func() { h.close() })
	return h
}

func (h *harness) close() {
	if h.c != nil {
		h.c.Close()
	}
	if h.db != nil {
		_ = h.db.Close()
		h.db = nil
	}
}

func (h *harness) session() server.Session {
	s, err := h.c.NewSession(context.Background(), map[string]string{"user": "weir", "database": "weir"})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// run executes a query string and renders each statement's outcome as
// text: rows as "a|b" lines, then the tag.
func run(t *testing.T, s server.Session, query string, params ...types.Datum) (string, error) {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query, nil)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for _, st := range stmts {
		res, err := s.Execute(ctx, st, params)
		if err != nil {
			return out.String(), err
		}
		for {
			row, ok, err := res.Next(ctx)
			if err != nil {
				res.Close()
				return out.String(), err
			}
			if !ok {
				break
			}
			for i, d := range row {
				if i > 0 {
					out.WriteByte('|')
				}
				if d.IsNull() {
					out.WriteString("NULL")
				} else {
					out.Write(types.AppendText(nil, d, nil))
				}
			}
			out.WriteByte('\n')
		}
		out.WriteString(res.Tag())
		out.WriteByte('\n')
		res.Close()
	}
	return out.String(), nil
}

func mustRun(t *testing.T, s server.Session, query string) string {
	t.Helper()
	out, err := run(t, s, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func wantCode(t *testing.T, s server.Session, query string, code sqlerr.Code) {
	t.Helper()
	_, err := run(t, s, query)
	if got := sqlerr.CodeOf(err); got != code {
		t.Fatalf("%s: got %q (%v), want %s", query, got, err, code)
	}
}

func TestTablesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, "CREATE TABLE kv (k INT PRIMARY KEY, v TEXT NOT NULL DEFAULT 'none'); CREATE TABLE log (msg TEXT)")
	mustRun(t, s, "INSERT INTO kv VALUES (1, 'a'), (2, 'b'); INSERT INTO kv (k) VALUES (3); INSERT INTO log VALUES ('x'), ('x')")
	s.Close()
	h.close()

	h2 := newHarness(t, dir)
	s2 := h2.session()
	if got, want := mustRun(t, s2, "SELECT k, v FROM kv ORDER BY k"), "1|a\n2|b\n3|none\nSELECT 3\n"; got != want {
		t.Fatalf("after restart got\n%s want\n%s", got, want)
	}
	// Row ids are not reused after a restart.
	mustRun(t, s2, "INSERT INTO log VALUES ('y')")
	if got, want := mustRun(t, s2, "SELECT msg, count(*) FROM log GROUP BY msg ORDER BY msg"), "x|2\ny|1\nSELECT 2\n"; got != want {
		t.Fatalf("got\n%s want\n%s", got, want)
	}
	wantCode(t, s2, "CREATE TABLE kv (a INT)", sqlerr.DuplicateTable)
	mustRun(t, s2, "DROP TABLE kv")
	wantCode(t, s2, "SELECT * FROM kv", sqlerr.UndefinedTable)
}

func TestTransactions(t *testing.T) {
	h := newHarness(t, t.TempDir())
	a, b := h.session(), h.session()
	mustRun(t, a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	mustRun(t, a, "BEGIN; INSERT INTO t VALUES (1, 10), (2, 20)")
	if a.TxStatus() != 'T' {
		t.Fatalf("status %c, want T", a.TxStatus())
	}
	// The block sees its own writes; another session does not.
	if got := mustRun(t, a, "SELECT count(*) FROM t"); got != "2\nSELECT 1\n" {
		t.Fatalf("in block: %q", got)
	}
	if got := mustRun(t, b, "SELECT count(*) FROM t"); got != "0\nSELECT 1\n" {
		t.Fatalf("other session before commit: %q", got)
	}
	mustRun(t, a, "COMMIT")
	if got := mustRun(t, b, "SELECT count(*) FROM t"); got != "2\nSELECT 1\n" {
		t.Fatalf("other session after commit: %q", got)
	}
	// A failed statement fails the block until ROLLBACK.
	mustRun(t, a, "BEGIN; UPDATE t SET v = 11 WHERE id = 1")
	wantCode(t, a, "INSERT INTO t VALUES (2, 0)", sqlerr.UniqueViolation)
	if a.TxStatus() != 'E' {
		t.Fatalf("status %c, want E", a.TxStatus())
	}
	wantCode(t, a, "SELECT 1", sqlerr.InFailedSQLTransaction)
	if got := mustRun(t, a, "COMMIT"); got != "ROLLBACK\n" {
		t.Fatalf("commit of failed block: %q", got)
	}
	if got := mustRun(t, b, "SELECT v FROM t WHERE id = 1"); got != "10\nSELECT 1\n" {
		t.Fatalf("rolled back update visible: %q", got)
	}
}

func TestSetShow(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "SET extra_float_digits = 3; SET application_name = 'PostgreSQL JDBC Driver'; SET search_path TO public")
	if got := s.Changed()["application_name"]; got != "PostgreSQL JDBC Driver" {
		t.Fatalf("application_name change not reported: %q", got)
	}
	if got := mustRun(t, s, "SHOW extra_float_digits"); got != "3\nSHOW\n" {
		t.Fatalf("got %q", got)
	}
	mustRun(t, s, "SET TIME ZONE 'Europe/Amsterdam'")
	if got := mustRun(t, s, "SHOW TimeZone"); got != "Europe/Amsterdam\nSHOW\n" {
		t.Fatalf("got %q", got)
	}
	wantCode(t, s, "SET TimeZone = 'Mars/Olympus'", sqlerr.InvalidParameterValue)
	wantCode(t, s, "SHOW no_such_thing", sqlerr.UndefinedObject)
	if got := mustRun(t, s, "SELECT current_setting('server_version_num')"); got != serverVersionNum+"\nSELECT 1\n" {
		t.Fatalf("got %q", got)
	}
}

func TestUnsupportedStreamingDDL(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (a INT)")
	for _, q := range []string{
		"CREATE MATERIALIZED VIEW v AS SELECT a, now() FROM t",
		"CREATE SOURCE s (a INT) WITH (connector = 'kafka', topic = 't')",
		"CREATE SINK k FROM t WITH (connector = 'http', url = 'http://x')",
	} {
		wantCode(t, s, q, sqlerr.FeatureNotSupported)
	}
	if got := mustRun(t, s, "SHOW TABLES"); got != "t\nSHOW\n" {
		t.Fatalf("got %q", got)
	}
}

// copyIn feeds data to a COPY FROM STDIN in two arbitrary pieces.
func feedCopy(t *testing.T, s server.Session, query, data string) (string, error) {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		return "", err
	}
	defer res.Close()
	ci := res.CopyIn()
	if ci == nil {
		t.Fatalf("%s: no CopyIn", query)
	}
	half := len(data) / 2
	if err := ci.Write(ctx, []byte(data[:half])); err != nil {
		return "", err
	}
	if err := ci.Write(ctx, []byte(data[half:])); err != nil {
		return "", err
	}
	return ci.Done(ctx)
}

func TestCopy(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE c (id INT PRIMARY KEY, name TEXT, note TEXT)")
	tag, err := feedCopy(t, s, "COPY c FROM STDIN", "1\tada\t\\N\n2\ttab\\there\tx\\\\y\n")
	if err != nil || tag != "COPY 2" {
		t.Fatalf("text copy: %q %v", tag, err)
	}
	tag, err = feedCopy(t, s, "COPY c (id, name, note) FROM STDIN WITH (FORMAT csv, HEADER true)", "id,name,note\n3,\"multi\nline\",\n4,\"\",\"q\"\"uote\"\n")
	if err != nil || tag != "COPY 2" {
		t.Fatalf("csv copy: %q %v", tag, err)
	}
	want := "1|ada|NULL\n2|tab\there|x\\y\n3|multi\nline|NULL\n4||q\"uote\nSELECT 4\n"
	if got := mustRun(t, s, "SELECT * FROM c ORDER BY id"); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	// A bad value fails the whole COPY: nothing of it is applied.
	if _, err := feedCopy(t, s, "COPY c FROM STDIN WITH CSV", "5,a,b\nsix,b,c\n"); sqlerr.CodeOf(err) != sqlerr.InvalidTextRepresentation {
		t.Fatalf("bad copy: %v", err)
	}
	if got := mustRun(t, s, "SELECT count(*) FROM c"); got != "4\nSELECT 1\n" {
		t.Fatalf("partial copy applied: %q", got)
	}

	ctx := context.Background()
	stmts, _ := s.Parse(ctx, "COPY (SELECT id, name, note FROM c WHERE id IN (2, 3, 4) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", nil)
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		b, ok, err := res.CopyOut().Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		out.Write(b)
	}
	res.Close()
	if want := "id,name,note\n2,tab\there,x\\y\n3,\"multi\nline\",\n4,\"\",\"q\"\"uote\"\n"; out.String() != want {
		t.Fatalf("copy out got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestMaterializedViews(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, `CREATE TABLE o (id INT PRIMARY KEY, cust INT, amount INT);
		CREATE TABLE c (id INT PRIMARY KEY, region TEXT);
		INSERT INTO c VALUES (1, 'EU'), (2, 'US');
		INSERT INTO o VALUES (1, 1, 10), (2, 2, 20)`)
	mustRun(t, s, `CREATE MATERIALIZED VIEW rev AS SELECT c.region, count(*) AS n, sum(o.amount) AS total, min(o.amount) AS lo
		FROM o JOIN c ON o.cust = c.id GROUP BY c.region`)
	mustRun(t, s, "CREATE MATERIALIZED VIEW regions AS SELECT region FROM rev")
	check := func(s server.Session, want string) {
		t.Helper()
		if got := mustRun(t, s, "SELECT * FROM rev ORDER BY region"); got != want {
			t.Fatalf("got\n%s want\n%s", got, want)
		}
	}
	check(s, "EU|1|10|10\nUS|1|20|20\nSELECT 2\n")
	// Read-your-writes: the statement returns with the view updated.
	mustRun(t, s, "INSERT INTO o VALUES (3, 1, 5)")
	check(s, "EU|2|15|5\nUS|1|20|20\nSELECT 2\n")
	mustRun(t, s, "UPDATE o SET cust = 2 WHERE id = 3")
	check(s, "EU|1|10|10\nUS|2|25|5\nSELECT 2\n")
	mustRun(t, s, "DELETE FROM o WHERE cust = 1")
	check(s, "US|2|25|5\nSELECT 1\n")
	// A rolled-back block changes nothing; a committed one everything.
	mustRun(t, s, "BEGIN; INSERT INTO o VALUES (9, 1, 1); ROLLBACK")
	check(s, "US|2|25|5\nSELECT 1\n")
	mustRun(t, s, "BEGIN; INSERT INTO o VALUES (9, 1, 1); INSERT INTO c VALUES (3, 'APAC'); INSERT INTO o VALUES (10, 3, 7); COMMIT")
	check(s, "APAC|1|7|7\nEU|1|1|1\nUS|2|25|5\nSELECT 3\n")
	// A failed statement (duplicate key) leaves the views alone.
	wantCode(t, s, "INSERT INTO o VALUES (11, 1, 1), (9, 1, 1)", sqlerr.UniqueViolation)
	check(s, "APAC|1|7|7\nEU|1|1|1\nUS|2|25|5\nSELECT 3\n")
	if got := mustRun(t, s, "SELECT region FROM regions ORDER BY 1"); got != "APAC\nEU\nUS\nSELECT 3\n" {
		t.Fatalf("view on view: %q", got)
	}
	wantCode(t, s, "DROP TABLE o", sqlerr.DependentObjectsStillExist)
	wantCode(t, s, "INSERT INTO rev VALUES ('x', 1, 1, 1)", sqlerr.WrongObjectType)

	// After a restart, the views hold what they held and keep being maintained.
	s.Close()
	h.close()
	h2 := newHarness(t, dir)
	s2 := h2.session()
	check(s2, "APAC|1|7|7\nEU|1|1|1\nUS|2|25|5\nSELECT 3\n")
	mustRun(t, s2, "DELETE FROM o WHERE id = 10")
	check(s2, "EU|1|1|1\nUS|2|25|5\nSELECT 2\n")
	if got := mustRun(t, s2, "DROP TABLE o CASCADE; SHOW MATERIALIZED VIEWS"); got != "DROP TABLE\nSHOW\n" {
		t.Fatalf("cascade: %q", got)
	}
}

func TestPushQuery(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s, w := h.session(), h.session()
	mustRun(t, s, "CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 10)")
	mustRun(t, s, "CREATE MATERIALIZED VIEW big AS SELECT id, v FROM t WHERE v >= 10")
	ctx := context.Background()
	stmts, err := s.Parse(ctx, "SELECT * FROM big EMIT CHANGES", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cols := stmts[0].Columns(); len(cols) != 3 || cols[0].Name != "op" {
		t.Fatalf("columns %+v", cols)
	}
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	next := func() string {
		t.Helper()
		row, ok, err := res.Next(ctx)
		if err != nil || !ok {
			t.Fatalf("next: %v %v", ok, err)
		}
		var parts []string
		for _, d := range row {
			parts = append(parts, string(types.AppendText(nil, d, nil)))
		}
		return strings.Join(parts, "|")
	}
	if got := next(); got != "insert|1|10" {
		t.Fatalf("snapshot row %q", got)
	}
	mustRun(t, w, "INSERT INTO t VALUES (2, 5), (3, 30)")
	if got := next(); got != "insert|3|30" {
		t.Fatalf("change %q", got)
	}
	mustRun(t, w, "UPDATE t SET v = 11 WHERE id = 1")
	if a, b := next(), next(); a != "delete|1|10" || b != "insert|1|11" {
		t.Fatalf("update arrived as %q, %q", a, b)
	}
	// Cancel ends the query.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := res.Next(cctx); err == nil {
		t.Fatal("cancelled push query kept going")
	}
}

func TestSerial(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, "CREATE TABLE s (id SERIAL PRIMARY KEY, big BIGSERIAL, name TEXT)")
	if got := mustRun(t, s, "INSERT INTO s (name) VALUES ('a'), ('b') RETURNING id, big, name"); got != "1|1|a\n2|2|b\nINSERT 0 2\n" {
		t.Fatalf("got %q", got)
	}
	mustRun(t, s, "INSERT INTO s VALUES (100, 100, 'explicit')")
	s.Close()
	h.close()
	// After a restart the sequence goes on past what it handed out (it may
	// skip values, never repeat them).
	h2 := newHarness(t, dir)
	s2 := h2.session()
	got := mustRun(t, s2, "INSERT INTO s (name) VALUES ('c') RETURNING id > 2")
	if got != "t\nINSERT 0 1\n" {
		t.Fatalf("after restart: %q", got)
	}
	if got := mustRun(t, s2, "SELECT nextval('s_id_seq') > 2"); got != "t\nSELECT 1\n" {
		t.Fatalf("nextval: %q", got)
	}
	wantCode(t, s2, "SELECT nextval('nope_seq')", sqlerr.UndefinedTable)
}

// A view's numeric sum shows the scale of the values still summed, as a
// recompute would, after values of a larger scale are retracted.
func TestViewNumericSumScale(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE n (id INT PRIMARY KEY, v NUMERIC); INSERT INTO n VALUES (1, 2.25), (2, 1)")
	mustRun(t, s, "CREATE MATERIALIZED VIEW total AS SELECT sum(v) AS s, avg(v) AS a FROM n")
	if got := mustRun(t, s, "SELECT * FROM total"); got != "3.25|1.6250000000000000\nSELECT 1\n" {
		t.Fatalf("got %q", got)
	}
	mustRun(t, s, "DELETE FROM n WHERE id = 1")
	if got := mustRun(t, s, "SELECT * FROM total"); got != "1|1.00000000000000000000\nSELECT 1\n" {
		t.Fatalf("after retraction got %q", got)
	}
}

// A change between equal values of different scales (0 to 0.0) reaches a
// view: it shows what a recompute would.
func TestViewSeesScaleChange(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE n (id INT PRIMARY KEY, v NUMERIC); INSERT INTO n VALUES (1, 0)")
	mustRun(t, s, "CREATE MATERIALIZED VIEW copy AS SELECT id, v FROM n")
	mustRun(t, s, "UPDATE n SET v = v * 0.5")
	if got := mustRun(t, s, "SELECT * FROM copy"); got != "1|0.0\nSELECT 1\n" {
		t.Fatalf("got %q", got)
	}
}

// A key given as a narrower integer literal still reads by key, on tables
// and on views (a GROUP BY view is keyed by its groups).
func TestKeyLookupWithIntLiteral(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE ev (id BIGINT PRIMARY KEY, grp BIGINT); CREATE MATERIALIZED VIEW gv AS SELECT grp, count(*) FROM ev GROUP BY grp")
	if got := mustRun(t, s, "EXPLAIN SELECT * FROM ev WHERE id = 1"); !strings.Contains(got, "Point Lookup ev (id = 1)") {
		t.Fatalf("table: %s", got)
	}
	if got := mustRun(t, s, "EXPLAIN SELECT * FROM gv WHERE grp = 1"); !strings.Contains(got, "Point Lookup gv (grp = 1)") {
		t.Fatalf("view: %s", got)
	}
	// A wider value than the key cannot be used for the lookup (it could be
	// out of the key's range): the filter answers.
	mustRun(t, s, "CREATE TABLE small (k SMALLINT PRIMARY KEY); INSERT INTO small VALUES (1)")
	if got := mustRun(t, s, "SELECT * FROM small WHERE k = 100000"); got != "SELECT 0\n" {
		t.Fatalf("wide value: %q", got)
	}
}

// TestCheckpointAndSynchronousCommit: CHECKPOINT runs anywhere and answers
// its tag; synchronous_commit takes PostgreSQL's values, its default is the
// server's, and commits made with it off (autocommit, COMMIT, COPY) are
// atomic with their views and there after a restart.
func TestCheckpointAndSynchronousCommit(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (id BIGINT PRIMARY KEY, k BIGINT); CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t GROUP BY k")
	for _, tc := range []struct{ set, want string }{
		{"off", "off"}, {"TRUE", "on"}, {"'remote_apply'", "remote_apply"}, {"0", "off"},
	} {
		if got := mustRun(t, s, "SET synchronous_commit = "+tc.set+"; SHOW synchronous_commit"); got != "SET\n"+tc.want+"\nSHOW\n" {
			t.Fatalf("SET synchronous_commit = %s: got %q", tc.set, got)
		}
	}
	wantCode(t, s, "SET synchronous_commit = sometimes", sqlerr.InvalidParameterValue)
	mustRun(t, s, "INSERT INTO t VALUES (1, 1); BEGIN; INSERT INTO t VALUES (2, 1); COMMIT")
	if _, err := feedCopy(t, s, "COPY t FROM STDIN", "3\t2\n"); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, s, "CHECKPOINT"); got != "CHECKPOINT\n" {
		t.Fatalf("CHECKPOINT: got %q", got)
	}
	if got := mustRun(t, s, "BEGIN; CHECKPOINT; COMMIT"); got != "BEGIN\nCHECKPOINT\nCOMMIT\n" {
		t.Fatalf("CHECKPOINT in a block: got %q", got)
	}
	wantCode(t, s, "CHECKPOINT now", sqlerr.SyntaxError)
	mustRun(t, s, "INSERT INTO t VALUES (4, 2)") // after the checkpoint: only in the WAL
	s.Close()
	h.close()

	db, err := storage.Open(storage.Options{Dir: dir, AsynchronousCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := New(Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.NewSession(context.Background(), map[string]string{"user": "weir"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := mustRun(t, s2, "SELECT k, n FROM v ORDER BY k"); got != "1|2\n2|2\nSELECT 2\n" {
		t.Fatalf("after restart: got %q", got)
	}
	if got := mustRun(t, s2, "SET synchronous_commit = on; RESET synchronous_commit; SHOW synchronous_commit"); got != "SET\nRESET\noff\nSHOW\n" {
		t.Fatalf("server default off: got %q", got)
	}
	// SET ... TO DEFAULT resets, with PostgreSQL's tag SET.
	if got := mustRun(t, s2, "SET synchronous_commit = on; SET synchronous_commit TO DEFAULT; SHOW synchronous_commit"); got != "SET\nSET\noff\nSHOW\n" {
		t.Fatalf("SET TO DEFAULT: got %q", got)
	}
}
