package tests

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestKsqlWindowSpellings: ksqlDB's windowed aggregations, pasted as a
// ksqlDB user writes them, over pgx against bin/weir. Their views equal
// the TUMBLE/HOP spelling's over the same out-of-order bids; a push query
// with EMIT CHANGES sees a window's count change; one with EMIT FINAL gets
// each window once, when the watermark closes it; GRACE PERIOD and a
// relation without event time are refused.
func TestKsqlWindowSpellings(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE bids (auction BIGINT, bidder BIGINT, price BIGINT, date_time TIMESTAMP,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)`)
	for _, q := range []string{
		// ksqlDB, verbatim
		`CREATE TABLE bids_per_minute AS
  SELECT auction, WINDOWSTART, WINDOWEND, COUNT(*) AS n
  FROM bids
  WINDOW TUMBLING (SIZE 1 MINUTE)
  GROUP BY auction
  EMIT CHANGES;`,
		`CREATE TABLE hot AS
  SELECT b.auction, WINDOWEND, COUNT(*) AS n
  FROM bids b
  WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS, RETENTION 1 DAYS)
  GROUP BY b.auction
  EMIT FINAL;`,
		// Weir
		`CREATE MATERIALIZED VIEW w_per_minute AS SELECT auction, window_start, window_end, COUNT(*) AS n
  FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_start, window_end`,
		`CREATE MATERIALIZED VIEW w_hot AS SELECT auction, window_end, COUNT(*) AS n
  FROM HOP(bids, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY auction, window_start, window_end
  EMIT ON WINDOW CLOSE`,
	} {
		mustExec(t, ctx, c, q)
	}
	ins := func(rows string) { mustExec(t, ctx, c, "INSERT INTO bids VALUES "+rows) }
	ins(`(1, 7, 10, '2026-01-01 10:00:05'), (1, 8, 30, '2026-01-01 10:00:50')`)
	ins(`(1, 9, 20, '2026-01-01 10:00:47')`) // out of order, within the watermark's 4 s

	// Push queries over the extended protocol, as pgx sends them.
	changes := startPush(ctx, connect(t, w.DSN(), pgx.QueryExecModeExec).PgConn(),
		`SELECT auction, window_start, window_end, COUNT(*) FROM TUMBLE(bids, date_time, INTERVAL '1' MINUTE) GROUP BY auction, window_start, window_end EMIT CHANGES;`)
	final := startPush(ctx, connect(t, w.DSN(), pgx.QueryExecModeExec).PgConn(),
		`SELECT auction, WINDOWSTART, COUNT(*) AS n FROM bids WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction EMIT FINAL;`)
	row := func(p *pushReader, what string) string { return strings.Join(p.next(t, 10*time.Second, what), " ") }
	if got := row(changes, "the current window"); got != "insert 1 2026-01-01 10:00:00 2026-01-01 10:01:00 3" {
		t.Fatalf("EMIT CHANGES, current rows: %s", got)
	}
	ins(`(1, 7, 11, '2026-01-01 10:00:48')`) // not late: the watermark is 10:00:46
	if got := row(changes, "the old count") + "; " + row(changes, "the new count"); got != "delete 1 2026-01-01 10:00:00 2026-01-01 10:01:00 3; insert 1 2026-01-01 10:00:00 2026-01-01 10:01:00 4" {
		t.Fatalf("EMIT CHANGES, a bid: %s", got)
	}
	// 10:01:10 - 4 s passes 10:01: the first minute closes, once.
	ins(`(2, 7, 12, '2026-01-01 10:01:10')`)
	if got := row(final, "the closed window"); got != "insert 1 2026-01-01 10:00:00 4" {
		t.Fatalf("EMIT FINAL: %s", got)
	}
	ins(`(1, 7, 99, '2026-01-01 10:00:59')`) // late: dropped
	ins(`(2, 7, 13, '2026-01-01 10:02:30')`)
	if got := row(final, "the next closed window"); got != "insert 2 2026-01-01 10:01:00 1" {
		t.Fatalf("EMIT FINAL, after a late bid: %s", got)
	}

	for _, pair := range [][2]string{
		{`SELECT * FROM bids_per_minute`, `SELECT * FROM w_per_minute`},
		{`SELECT * FROM hot`, `SELECT * FROM w_hot`},
	} {
		got, err := viewRows(ctx, c.PgConn(), pair[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := viewRows(ctx, c.PgConn(), pair[1])
		if err != nil || len(want) < 3 || !slices.Equal(got, want) {
			t.Errorf("%s:\n%s\n%s:\n%s (%v)", pair[0], strings.Join(got, "\n"), pair[1], strings.Join(want, "\n"), err)
		}
	}
	// WINDOWSTART names the window column of a windowed view too.
	if got, err := viewRows(ctx, c.PgConn(), `SELECT WINDOWSTART, n FROM w_per_minute WHERE auction = 1`); err != nil || !slices.Equal(got, []string{"2026-01-01 10:00:00 4"}) {
		t.Errorf("WINDOWSTART of w_per_minute: %v %v", got, err)
	}

	mustExec(t, ctx, c, `CREATE TABLE plain (auction BIGINT, date_time TIMESTAMP)`)
	for _, q := range []struct{ sql, code string }{
		{`CREATE TABLE g AS SELECT auction, COUNT(*) FROM bids WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 10 SECONDS) GROUP BY auction EMIT CHANGES;`, "0A000"},
		{`CREATE TABLE g AS SELECT auction, COUNT(*) FROM plain WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction EMIT CHANGES;`, "42P16"},
		{`SELECT auction, COUNT(*) FROM bids WINDOW TUMBLING (SIZE 1 WEEK) GROUP BY auction EMIT CHANGES;`, "42601"},
	} {
		_, err := c.Exec(ctx, q.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != q.code || (q.code != "42601" && pe.Hint == "") {
			t.Errorf("%s: got %v, want %s with a hint", q.sql, err, q.code)
		}
	}
}
