package tests

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weirdb/weir/tests/internal/weirtest"
)

// TestTemporalJoinEnrichment: bids from Kafka enriched with a table's rows
// as of processing time (FOR SYSTEM_TIME AS OF PROCTIME()), over pgx: an
// UPDATE of the table changes the bids that follow it, not those before,
// also after a restart of the server.
func TestTemporalJoinEnrichment(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "bids", 1)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	bid := func(auction, price int) weirtest.Record {
		return weirtest.Record{Value: fmt.Appendf(nil, `{"auction":%d,"price":%d}`, auction, price)}
	}
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE bids (auction BIGINT, price BIGINT)
  WITH (connector='kafka', topic='bids', brokers='%s', format='json', scan.startup='earliest')`, k.Brokers()))
	mustExec(t, ctx, c, `CREATE TABLE auctions (id BIGINT PRIMARY KEY, category TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO auctions VALUES (1, 'books'), (2, 'toys')`)
	mustExec(t, ctx, c, `CREATE STREAM enriched AS SELECT b.*, a.category FROM bids b
  JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id`)
	mustExec(t, ctx, c, `CREATE STREAM enriched_all AS SELECT b.price, a.category FROM bids b
  LEFT JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() AS a ON b.auction = a.id`)

	want := func(c *pgx.Conn, rows ...string) {
		t.Helper()
		waitFor(t, 20*time.Second, "enriched", func() error {
			got, err := viewRows(ctx, c.PgConn(), `SELECT * FROM enriched`)
			if err == nil && !slices.Equal(got, rows) {
				err = fmt.Errorf("enriched:\n%s", strings.Join(got, "\n"))
			}
			return err
		})
	}
	mustProduce(t, k, "bids", 0, bid(1, 10), bid(2, 20), bid(3, 30))
	waitInt(t, c, 20*time.Second, "bids", `SELECT count(*) FROM bids`, 3)
	want(c, "1 10 books", "2 20 toys")

	mustExec(t, ctx, c, `UPDATE auctions SET category = 'music' WHERE id = 1`)
	mustExec(t, ctx, c, `INSERT INTO auctions VALUES (3, 'games')`)
	mustProduce(t, k, "bids", 0, bid(1, 11), bid(3, 31))
	waitInt(t, c, 20*time.Second, "bids", `SELECT count(*) FROM bids`, 5)
	want(c, "1 10 books", "1 11 music", "2 20 toys", "3 31 games")

	c.Close(ctx)
	if code, err := w.Restart(ctx); err != nil || code != 0 {
		t.Fatalf("restart: exit %d, %v", code, err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `UPDATE auctions SET category = 'vinyl' WHERE id = 1`)
	mustProduce(t, k, "bids", 0, bid(1, 12), bid(4, 40))
	waitInt(t, c, 20*time.Second, "bids", `SELECT count(*) FROM bids`, 7)
	want(c, "1 10 books", "1 11 music", "1 12 vinyl", "2 20 toys", "3 31 games")
	got, err := viewRows(ctx, c.PgConn(), `SELECT * FROM enriched_all`)
	if err != nil || !slices.Equal(got, []string{"10 books", "11 music", "12 vinyl", "20 toys", "30 NULL", "31 games", "40 NULL"}) {
		t.Fatalf("enriched_all: %v %v", got, err)
	}
	if got, err := viewRows(ctx, c.PgConn(), `EXPLAIN SELECT * FROM bids JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id`); err != nil || !strings.Contains(strings.Join(got, "\n"), "TemporalJoin Inner on bids.auction = auctions.id") {
		t.Fatalf("EXPLAIN: %v %v", got, err)
	}

	// What a temporal join cannot do is refused with 0A000.
	for _, q := range []string{
		`CREATE STREAM x AS SELECT * FROM auctions a JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() b ON a.id = b.id`,
		`SELECT * FROM bids JOIN auctions FOR SYSTEM_TIME AS OF now() ON auction = id`,
		`SELECT * FROM auctions FOR SYSTEM_TIME AS OF PROCTIME() JOIN bids ON auction = id`,
	} {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Errorf("%s: got %v, want SQLSTATE 0A000", q, err)
		}
	}
}
