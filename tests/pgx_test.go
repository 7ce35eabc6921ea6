package tests

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

var execModes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"simple", pgx.QueryExecModeSimpleProtocol},
	{"extended", pgx.QueryExecModeCacheStatement}, // pgx's default: Parse/Describe/Bind/Execute, binary formats
}

// wantPgError asserts err is a *pgconn.PgError with code.
func wantPgError(t *testing.T, err error, code, what string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: want SQLSTATE %s, got %v", what, code, err)
	}
	if pe.Code != code {
		t.Fatalf("%s: SQLSTATE %s (%s), want %s", what, pe.Code, pe.Message, code)
	}
	return pe
}

func TestPgxTypesAndParams(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		for _, m := range execModes {
			t.Run(m.name, func(t *testing.T) {
				ctx := testCtx(t, time.Minute)
				c := connect(t, s.dsn, m.mode)
				tbl := "typed_" + m.name
				mustExec(t, ctx, c, `CREATE TABLE `+tbl+` (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INTEGER,
					r REAL, d DOUBLE PRECISION, n NUMERIC(12,3), v VARCHAR(20), tx TEXT, by BYTEA, dt DATE,
					ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL, j JSONB)`)
				ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
				num := pgtype.Numeric{Int: big.NewInt(1234567), Exp: -3, Valid: true}
				tag := mustExec(t, ctx, c, `INSERT INTO `+tbl+` VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
					int64(1), true, int16(-7), int32(1<<30), float32(1.5), 2.25, num, "varchar é", "text\nline",
					[]byte{0, 1, 0xff}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ts, ts,
					pgtype.Interval{Days: 1, Microseconds: 3600e6, Valid: true}, `{"k": "v", "n": 1}`)
				if tag.String() != "INSERT 0 1" {
					t.Fatalf("tag %q", tag)
				}
				// a row of NULLs, through params
				mustExec(t, ctx, c, `INSERT INTO `+tbl+` VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
					int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)

				var (
					b   bool
					sm  int16
					i   int32
					r   float32
					d   float64
					n   pgtype.Numeric
					v   string
					tx  string
					by  []byte
					dt  time.Time
					gts time.Time
					gtz time.Time
					iv  pgtype.Interval
					j   map[string]any
				)
				err := c.QueryRow(ctx, `SELECT b, s, i, r, d, n, v, tx, by, dt, ts, tz, iv, j FROM `+tbl+` WHERE id = $1`, int64(1)).
					Scan(&b, &sm, &i, &r, &d, &n, &v, &tx, &by, &dt, &gts, &gtz, &iv, &j)
				if err != nil {
					t.Fatalf("select: %v", err)
				}
				nf, _ := n.Float64Value()
				got := fmt.Sprintf("%v %v %v %v %v %v %q %q %x %s %s %s %dd%dus %v", b, sm, i, r, d, nf.Float64, v, tx, by,
					dt.Format("2006-01-02"), gts.Format(time.RFC3339Nano), gtz.UTC().Format(time.RFC3339Nano), iv.Days, iv.Microseconds, j)
				want := `true -7 1073741824 1.5 2.25 1234.567 "varchar é" "text\nline" 0001ff 2024-02-29 2024-02-29T13:14:15.123456Z 2024-02-29T13:14:15.123456Z 1d3600000000us map[k:v n:1]`
				if got != want {
					t.Errorf("row 1:\n got %s\nwant %s", got, want)
				}

				// NULLs come back as NULLs
				var nb *bool
				var ni *int32
				var nt *string
				var nj map[string]any
				if err := c.QueryRow(ctx, `SELECT b, i, tx, j FROM `+tbl+` WHERE id = $1`, 2).Scan(&nb, &ni, &nt, &nj); err != nil {
					t.Fatal(err)
				}
				if nb != nil || ni != nil || nt != nil || nj != nil {
					t.Errorf("NULLs: got %v %v %v %v", nb, ni, nt, nj)
				}

				// parameters in expressions and comparisons
				var cnt int64
				if err := c.QueryRow(ctx, `SELECT count(*) FROM `+tbl+` WHERE i > $1 AND v LIKE $2`, 5, "var%").Scan(&cnt); err != nil || cnt != 1 {
					t.Errorf("count with params: %d, %v", cnt, err)
				}
				var sum int64
				var concat string
				if err := c.QueryRow(ctx, `SELECT $1::bigint + $2::bigint, $3::text || 'x'`, 40, 2, "a").Scan(&sum, &concat); err != nil || sum != 42 || concat != "ax" {
					t.Errorf("param arithmetic: %d %q %v", sum, concat, err)
				}

				// a multi-row result, in order
				rows, err := c.Query(ctx, `SELECT id, tx FROM `+tbl+` ORDER BY id`)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for rows.Next() {
					var id int64
					var tx *string
					if err := rows.Scan(&id, &tx); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
				if err := rows.Err(); err != nil || fmt.Sprint(ids) != "[1 2]" {
					t.Errorf("ids %v err %v", ids, err)
				}
			})
		}
	})
}

func TestPgxCopyFrom(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		ctx := testCtx(t, 2*time.Minute)
		c := connect(t, s.dsn, pgx.QueryExecModeCacheStatement)
		mustExec(t, ctx, c, `CREATE TABLE bulk (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, at TIMESTAMP)`)
		const n = 10000
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		src := pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			var name any = fmt.Sprintf("row %d, \"quoted\"\ttab", i)
			if i%100 == 0 {
				name = nil
			}
			return []any{int64(i), name, float64(i) / 4, base.Add(time.Duration(i) * time.Second)}, nil
		})
		copied, err := c.CopyFrom(ctx, pgx.Identifier{"bulk"}, []string{"id", "name", "score", "at"}, src)
		if err != nil {
			t.Fatalf("CopyFrom: %v", err)
		}
		if copied != n {
			t.Fatalf("copied %d, want %d", copied, n)
		}
		var count, nulls int64
		var sum float64
		var name string
		if err := c.QueryRow(ctx, `SELECT count(*), count(*) - count(name), sum(score) FROM bulk`).Scan(&count, &nulls, &sum); err != nil {
			t.Fatal(err)
		}
		if count != n || nulls != n/100 || sum != float64(n*(n-1)/2)/4 {
			t.Errorf("count %d nulls %d sum %v", count, nulls, sum)
		}
		if err := c.QueryRow(ctx, `SELECT name FROM bulk WHERE id = 4321`).Scan(&name); err != nil || name != "row 4321, \"quoted\"\ttab" {
			t.Errorf("name %q %v", name, err)
		}
		// a duplicate key in a COPY fails the whole COPY
		_, err = c.CopyFrom(ctx, pgx.Identifier{"bulk"}, []string{"id", "name", "score", "at"},
			pgx.CopyFromRows([][]any{{int64(n + 1), "new", 1.0, base}, {int64(5), "dup", 1.0, base}}))
		wantPgError(t, err, "23505", "COPY with duplicate key")
		if err := c.QueryRow(ctx, `SELECT count(*) FROM bulk`).Scan(&count); err != nil || count != n {
			t.Errorf("after failed COPY: count %d %v", count, err)
		}
	})
}

func TestPgxErrors(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		for _, m := range execModes {
			t.Run(m.name, func(t *testing.T) {
				ctx := testCtx(t, time.Minute)
				c := connect(t, s.dsn, m.mode)
				tbl := "errs_" + m.name
				mustExec(t, ctx, c, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, v TEXT)`)
				mustExec(t, ctx, c, `INSERT INTO `+tbl+` VALUES (1, 'a')`)
				alive := func() {
					t.Helper()
					var one int
					if err := c.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
						t.Fatalf("session unusable after error: %v", err)
					}
				}
				_, err := c.Exec(ctx, `SELECT * FROM `+tbl+` WHERE id = = 1`)
				pe := wantPgError(t, err, "42601", "syntax error")
				// position is 1-based in the original text: at the second '='
				if want := int32(strings.Index(`SELECT * FROM `+tbl+` WHERE id = = 1`, "= 1") + 1); pe.Position != want {
					t.Errorf("42601 position %d, want %d", pe.Position, want)
				}
				alive()
				_, err = c.Exec(ctx, `SELECT * FROM nope_`+m.name)
				wantPgError(t, err, "42P01", "unknown table")
				alive()
				_, err = c.Exec(ctx, `SELECT nope FROM `+tbl)
				wantPgError(t, err, "42703", "unknown column")
				alive()
				_, err = c.Exec(ctx, `INSERT INTO `+tbl+` VALUES (1, 'dup')`)
				wantPgError(t, err, "23505", "duplicate key")
				alive()
				_, err = c.Exec(ctx, `SELECT 'abc'::integer`)
				wantPgError(t, err, "22P02", "invalid integer")
				alive()
				_, err = c.Exec(ctx, `INSERT INTO `+tbl+` VALUES ($1, $2)`, "x", "y")
				if m.mode == pgx.QueryExecModeSimpleProtocol {
					wantPgError(t, err, "22P02", "text param for integer")
				} else if err == nil {
					t.Errorf("non-integer param for an integer column succeeded")
				}
				alive()
				var v string
				if err := c.QueryRow(ctx, `SELECT v FROM `+tbl+` WHERE id = 1`).Scan(&v); err != nil || v != "a" {
					t.Errorf("row after errors: %q %v", v, err)
				}
			})
		}
	})
}

// TestStreamingDDLErrors: a streaming statement that cannot be carried out
// answers a clear SQLSTATE (not success, not a syntax error), and the
// session stays usable. PostgreSQL has no such statements: Weir only.
func TestStreamingDDLErrors(t *testing.T) {
	w := startWeir(t) // without --kafka-brokers
	ctx := testCtx(t, time.Minute)
	for _, m := range execModes {
		c := connect(t, w.DSN(), m.mode)
		mustExec(t, ctx, c, `CREATE TABLE IF NOT EXISTS base (id BIGINT PRIMARY KEY, country TEXT)`)
		for _, tc := range []struct{ sql, code string }{
			{`CREATE STREAM pageviews (id BIGINT, url VARCHAR) WITH (KAFKA_TOPIC = 'pageviews', VALUE_FORMAT = 'JSON')`, "22023"}, // no brokers
			{`CREATE SOURCE rates (id BIGINT) WITH (connector = 'kinesis', stream = 'rates')`, "0A000"},
			{`CREATE SOURCE rates (id BIGINT) WITH (connector = 'kafka', topic = 'rates', brokers = '127.0.0.1:9', on_error = 'retry')`, "22023"},
			{`CREATE SINK out FROM base WITH (connector = 'http', url = 'ftp://127.0.0.1:1/', format = 'json')`, "22023"},
			{`CREATE SINK out FROM base WITH (connector = 'smtp', to = 'ops@example.com')`, "0A000"},
			{`CREATE SINK out FROM nowhere WITH (connector = 'kafka', topic = 't')`, "42P01"},
		} {
			_, err := c.Exec(ctx, tc.sql)
			wantPgError(t, err, tc.code, m.name+": "+tc.sql)
			var one int
			if err := c.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
				t.Fatalf("session unusable after %q: %v", tc.sql, err)
			}
		}
	}
}

func TestTransactions(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		ctx := testCtx(t, time.Minute)
		a := connect(t, s.dsn, pgx.QueryExecModeCacheStatement)
		b := connect(t, s.dsn, pgx.QueryExecModeCacheStatement)
		mustExec(t, ctx, a, `CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)`)
		mustExec(t, ctx, a, `INSERT INTO acct VALUES (1, 100), (2, 0)`)
		count := func(c *pgx.Conn) (n, sum int64) {
			t.Helper()
			if err := c.QueryRow(ctx, `SELECT count(*), coalesce(sum(bal), 0) FROM acct`).Scan(&n, &sum); err != nil {
				t.Fatal(err)
			}
			return
		}
		status := func(c *pgx.Conn) byte { return c.PgConn().TxStatus() }

		// ROLLBACK discards
		mustExec(t, ctx, a, `BEGIN`)
		if st := status(a); st != 'T' {
			t.Errorf("TxStatus in block %q, want T", st)
		}
		mustExec(t, ctx, a, `INSERT INTO acct VALUES (3, 5)`)
		mustExec(t, ctx, a, `UPDATE acct SET bal = bal - 50 WHERE id = 1`)
		mustExec(t, ctx, a, `DELETE FROM acct WHERE id = 2`)
		mustExec(t, ctx, a, `ROLLBACK`)
		if st := status(a); st != 'I' {
			t.Errorf("TxStatus after ROLLBACK %q, want I", st)
		}
		if n, sum := count(a); n != 2 || sum != 100 {
			t.Errorf("after ROLLBACK: %d rows sum %d, want 2, 100", n, sum)
		}

		// COMMIT applies atomically: b sees nothing before, everything after
		mustExec(t, ctx, a, `BEGIN`)
		mustExec(t, ctx, a, `UPDATE acct SET bal = bal - 30 WHERE id = 1`)
		mustExec(t, ctx, a, `UPDATE acct SET bal = bal + 30 WHERE id = 2`)
		mustExec(t, ctx, a, `INSERT INTO acct VALUES (3, 7), (4, 8)`)
		if n, sum := count(a); n != 4 || sum != 115 {
			t.Errorf("own writes inside block: %d rows sum %d, want 4, 115", n, sum)
		}
		if n, sum := count(b); n != 2 || sum != 100 {
			t.Errorf("other session before COMMIT: %d rows sum %d, want 2, 100", n, sum)
		}
		var bal1 int
		if err := b.QueryRow(ctx, `SELECT bal FROM acct WHERE id = 1`).Scan(&bal1); err != nil || bal1 != 100 {
			t.Errorf("other session point read before COMMIT: %d %v", bal1, err)
		}
		mustExec(t, ctx, a, `COMMIT`)
		if n, sum := count(b); n != 4 || sum != 115 {
			t.Errorf("other session after COMMIT: %d rows sum %d, want 4, 115", n, sum)
		}

		// an error inside a block fails it ('E'); COMMIT then rolls back
		mustExec(t, ctx, a, `BEGIN`)
		mustExec(t, ctx, a, `INSERT INTO acct VALUES (5, 1)`)
		_, err := a.Exec(ctx, `INSERT INTO acct VALUES (1, 1)`)
		wantPgError(t, err, "23505", "duplicate in block")
		if st := status(a); st != 'E' {
			t.Errorf("TxStatus after error in block %q, want E", st)
		}
		_, err = a.Exec(ctx, `SELECT 1`)
		wantPgError(t, err, "25P02", "statement in failed block")
		tag, err := a.Exec(ctx, `COMMIT`)
		if err != nil || tag.String() != "ROLLBACK" {
			t.Errorf("COMMIT of failed block: tag %q err %v, want ROLLBACK", tag, err)
		}
		if n, _ := count(b); n != 4 {
			t.Errorf("failed block leaked rows: %d, want 4", n)
		}

		// pgx's own Begin/Commit (extended protocol)
		tx, err := a.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO acct VALUES ($1, $2)`, 6, 6); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := count(b); n != 5 {
			t.Errorf("after tx.Commit: %d rows, want 5", n)
		}
	})
}

func TestCancelRequest(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		ctx := testCtx(t, 2*time.Minute)
		c := connect(t, s.dsn, pgx.QueryExecModeSimpleProtocol)
		mustExec(t, ctx, c, `CREATE TABLE cj (id INTEGER PRIMARY KEY)`)
		mustExec(t, ctx, c, `INSERT INTO cj SELECT g FROM (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) v(g)`)
		// 10 -> 1000 rows, so the triple cross join below is 10^9 rows
		for i := 1; i <= 99; i++ {
			mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO cj SELECT id + %d FROM cj WHERE id <= 10`, i*10))
		}
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM cj`).Scan(&n); err != nil || n != 1000 {
			t.Fatalf("setup: %d rows %v", n, err)
		}
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := c.Exec(context.Background(), `SELECT count(*) FROM cj a, cj b, cj c`)
			done <- err
		}()
		// send CancelRequest (over a new connection) once the statement has had
		// time to start; repeat until it takes effect, with a deadline.
		var err error
		deadline := time.After(60 * time.Second)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
	loop:
		for {
			select {
			case err = <-done:
				break loop
			case <-tick.C:
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if cerr := c.PgConn().CancelRequest(cctx); cerr != nil {
					t.Logf("CancelRequest: %v", cerr)
				}
				cancel()
			case <-deadline:
				t.Fatal("statement not cancelled within 60s")
			}
		}
		wantPgError(t, err, "57014", "cancelled statement")
		t.Logf("cancelled after %v", time.Since(start))
		if err := c.QueryRow(ctx, `SELECT count(*) FROM cj`).Scan(&n); err != nil || n != 1000 {
			t.Errorf("session after cancel: %d %v", n, err)
		}
	})
}

func TestDriverStartupStatements(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		for _, m := range execModes {
			t.Run(m.name, func(t *testing.T) {
				ctx := testCtx(t, time.Minute)
				c := connect(t, s.dsn, m.mode)
				for _, sql := range []string{
					`SET extra_float_digits = 3`,
					`SET application_name = 'weir-e2e'`,
					`SET DateStyle = 'ISO, MDY'`,
					`SET client_encoding = 'UTF8'`,
					`SET search_path = public`,
					`SET TIME ZONE 'UTC'`,
					`SET SESSION statement_timeout = 0`,
				} {
					mustExec(t, ctx, c, sql)
				}
				var ver, ver2, db, schema, num, app string
				if err := c.QueryRow(ctx, `SHOW server_version`).Scan(&ver); err != nil || !strings.HasPrefix(ver, "15.") {
					t.Errorf("SHOW server_version = %q, %v", ver, err)
				}
				if err := c.QueryRow(ctx, `SELECT version()`).Scan(&ver2); err != nil || !strings.HasPrefix(ver2, "PostgreSQL 15.") {
					t.Errorf("version() = %q, %v", ver2, err)
				}
				if err := c.QueryRow(ctx, `SELECT current_database(), current_schema()`).Scan(&db, &schema); err != nil || db == "" || schema != "public" {
					t.Errorf("current_database() %q current_schema() %q %v", db, schema, err)
				}
				if err := c.QueryRow(ctx, `SELECT current_setting('server_version_num')`).Scan(&num); err != nil || !strings.HasPrefix(num, "150") {
					t.Errorf("server_version_num = %q, %v", num, err)
				}
				if err := c.QueryRow(ctx, `SHOW application_name`).Scan(&app); err != nil || app != "weir-e2e" {
					t.Errorf("application_name = %q, %v", app, err)
				}
				ps := c.PgConn().ParameterStatus
				for k, want := range map[string]string{"server_encoding": "UTF8", "client_encoding": "UTF8",
					"integer_datetimes": "on", "standard_conforming_strings": "on", "application_name": "weir-e2e"} {
					if got := ps(k); got != want {
						t.Errorf("ParameterStatus %s = %q, want %q", k, got, want)
					}
				}
				if ps("TimeZone") == "" || !strings.HasPrefix(ps("DateStyle"), "ISO") || !strings.HasPrefix(ps("server_version"), "15.") {
					t.Errorf("ParameterStatus TimeZone %q DateStyle %q server_version %q", ps("TimeZone"), ps("DateStyle"), ps("server_version"))
				}
				if c.PgConn().PID() == 0 && len(c.PgConn().SecretKey()) == 0 {
					t.Errorf("no BackendKeyData")
				}
				// extra_float_digits = 3 gives the shortest exact float text
				var f string
				if err := c.QueryRow(ctx, `SELECT (0.1::double precision + 0.2::double precision)::text`).Scan(&f); err != nil || f != "0.30000000000000004" {
					t.Errorf("float text %q %v", f, err)
				}
			})
		}
	})
}

// TestManySessions: concurrent sessions each inserting and reading their own rows.
func TestManySessions(t *testing.T) {
	onBoth(t, func(t *testing.T, s server) {
		ctx := testCtx(t, time.Minute)
		c := connect(t, s.dsn, pgx.QueryExecModeCacheStatement)
		mustExec(t, ctx, c, `CREATE TABLE conc (id INTEGER PRIMARY KEY, worker INTEGER)`)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cc, err := pgx.Connect(ctx, s.dsn)
				if err != nil {
					errs <- err
					return
				}
				defer cc.Close(context.Background())
				for i := 0; i < 50; i++ {
					if _, err := cc.Exec(ctx, `INSERT INTO conc VALUES ($1, $2)`, w*1000+i, w); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM conc`).Scan(&n); err != nil || n != 400 {
			t.Errorf("count %d %v", n, err)
		}
	})
}
