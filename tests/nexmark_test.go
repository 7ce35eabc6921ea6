package tests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weirdb/weir/connectors/nexmark"
)

// nexmarkCounts is how many persons, auctions and bids cfg's sequence
// holds, by Go's generator.
func nexmarkCounts(cfg nexmark.Config) map[nexmark.Kind]int64 {
	counts := map[nexmark.Kind]int64{}
	nexmark.Generate(cfg, 0, cfg.Events, func(e *nexmark.Event) bool {
		counts[e.Kind]++
		return true
	})
	return counts
}

// bidsPerAuction is `SELECT auction, count(*), sum(price), max(price)
// FROM bid GROUP BY auction` over cfg's sequence, computed in Go, as
// sorted rows.
func bidsPerAuction(cfg nexmark.Config) []string {
	type agg struct{ n, sum, max int64 }
	by := map[int64]*agg{}
	nexmark.Generate(cfg, 0, cfg.Events, func(e *nexmark.Event) bool {
		if e.Kind != nexmark.KindBid {
			return true
		}
		a := by[e.Bid.Auction]
		if a == nil {
			a = &agg{}
			by[e.Bid.Auction] = a
		}
		a.n++
		a.sum += e.Bid.Price
		a.max = max(a.max, e.Bid.Price)
		return true
	})
	var rows []string
	for id, a := range by {
		rows = append(rows, fmt.Sprintf("%d %d %d %d", id, a.n, a.sum, a.max))
	}
	slices.Sort(rows)
	return rows
}

// bidsJoinedAuctions is `SELECT a.category, count(*) FROM bid b JOIN
// auction a ON b.auction = a.id GROUP BY a.category` over cfg's
// sequence, computed in Go.
func bidsJoinedAuctions(cfg nexmark.Config) []string {
	category := map[int64]int64{}
	nexmark.Generate(cfg, 0, cfg.Events, func(e *nexmark.Event) bool {
		if e.Kind == nexmark.KindAuction {
			category[e.Auction.ID] = e.Auction.Category
		}
		return true
	})
	counts := map[int64]int64{}
	nexmark.Generate(cfg, 0, cfg.Events, func(e *nexmark.Event) bool {
		if c, ok := category[e.Bid.Auction]; ok && e.Kind == nexmark.KindBid {
			counts[c]++
		}
		return true
	})
	var rows []string
	for c, n := range counts {
		rows = append(rows, fmt.Sprintf("%d %d", c, n))
	}
	slices.Sort(rows)
	return rows
}

// TestNexmarkSources: three sources of one sequence hold what Go's
// generator makes: the counts, the bids per auction, and the bids that
// find their auction; the columns come from the connector.
func TestNexmarkSources(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	cfg := nexmark.Config{Seed: 11, Events: 10000}
	for _, table := range []string{"person", "auction", "bid"} {
		mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table = '%s', nexmark.events = 10000, nexmark.rate = 0, nexmark.seed = 11)`, table, table))
	}
	counts := nexmarkCounts(cfg)
	waitInt(t, c, 30*time.Second, "person", `SELECT count(*) FROM person`, counts[nexmark.KindPerson])
	waitInt(t, c, 30*time.Second, "auction", `SELECT count(*) FROM auction`, counts[nexmark.KindAuction])
	waitInt(t, c, 30*time.Second, "bid", `SELECT count(*) FROM bid`, counts[nexmark.KindBid])

	if got, want := queryRows(t, ctx, c, `SELECT auction, count(*), sum(price), max(price) FROM bid GROUP BY auction`), bidsPerAuction(cfg); !slices.Equal(got, want) {
		t.Fatalf("bids per auction: %d rows, want %d\n%v\nwant\n%v", len(got), len(want), head(got), head(want))
	}
	if got, want := queryRows(t, ctx, c, `SELECT a.category, count(*) FROM bid b JOIN auction a ON b.auction = a.id GROUP BY a.category`), bidsJoinedAuctions(cfg); !slices.Equal(got, want) {
		t.Fatalf("bids per category: %v, want %v", got, want)
	}
	// The columns and their types are the Nexmark schema's; event 0 is
	// the first person, at BaseTime.
	got := queryRows(t, ctx, c, `SELECT id, date_time, length(credit_card) FROM person WHERE id = 1000`)
	if want := []string{"1000 2024-01-01 00:00:00 19"}; !slices.Equal(got, want) {
		t.Fatalf("person 1000: %v, want %v", got, want)
	}
	got = queryRows(t, ctx, c, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'bid' ORDER BY ordinal_position`)
	want := []string{"auction bigint", "bidder bigint", "channel character varying", "date_time timestamp without time zone", "extra character varying", "price bigint", "url character varying"}
	if !slices.Equal(got, want) {
		t.Fatalf("bid's columns: %v, want %v", got, want)
	}
}

// TestNexmarkRestart: a paced source stopped in the middle of its
// sequence resumes where its last epoch ended: after the restart the
// bids are exactly the sequence's, none lost or repeated.
func TestNexmarkRestart(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	cfg := nexmark.Config{Seed: 3, Events: 30000, Rate: 15000}
	mustExec(t, ctx, c, `CREATE SOURCE bid WITH (connector = 'nexmark', nexmark.table = 'bid', nexmark.events = 30000, nexmark.rate = 15000, nexmark.seed = 3)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW per_auction AS SELECT auction, count(*), sum(price), max(price) FROM bid GROUP BY auction`)
	total := nexmarkCounts(cfg)[nexmark.KindBid]
	var before int64
	waitFor(t, 20*time.Second, "some bids", func() error {
		var err error
		before, err = queryInt(ctx, c, `SELECT count(*) FROM bid`)
		if err == nil && before == 0 {
			err = errors.New("none yet")
		}
		return err
	})
	if _, err := w.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if before >= total {
		t.Fatalf("all %d bids were in before the restart: nothing resumed", total)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	waitInt(t, c, 30*time.Second, "bid", `SELECT count(*) FROM bid`, total)
	if got, want := queryRows(t, ctx, c, `SELECT * FROM per_auction`), bidsPerAuction(cfg); !slices.Equal(got, want) {
		t.Fatalf("bids per auction after a restart: %d rows, want %d\n%v\nwant\n%v", len(got), len(want), head(got), head(want))
	}
}

// TestNexmarkErrors: bad options and columns fail the CREATE with their
// SQLSTATE, and create nothing.
func TestNexmarkErrors(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	for _, tc := range []struct{ sql, code string }{
		{`CREATE SOURCE s WITH (connector = 'nexmark', nexmark.table = 'bid', nexmark.speed = 5)`, "22023"},
		{`CREATE SOURCE s WITH (connector = 'nexmark', nexmark.table = 'bids')`, "22023"},
		{`CREATE SOURCE s WITH (connector = 'nexmark')`, "22023"},
		{`CREATE SOURCE s WITH (connector = 'nexmark', nexmark.table = 'bid', nexmark.events = -5)`, "22023"},
		{`CREATE SOURCE s (auction BIGINT, cost BIGINT) WITH (connector = 'nexmark', nexmark.table = 'bid')`, "42P16"},
		{`CREATE SOURCE s (auction BIGINT, price INT) WITH (connector = 'nexmark', nexmark.table = 'bid')`, "42P16"},
	} {
		_, err := c.Exec(ctx, tc.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code {
			t.Fatalf("%s: %v, want SQLSTATE %s", tc.sql, err, tc.code)
		}
	}
	// Declared columns may be some of the table's.
	mustExec(t, ctx, c, `CREATE SOURCE s (auction BIGINT, price BIGINT) WITH (connector = 'nexmark', nexmark.table = 'bid', nexmark.events = 100)`)
	waitInt(t, c, 20*time.Second, "s", `SELECT count(*) FROM s`, 92)
	if _, err := queryInt(context.Background(), c, `SELECT count(*) FROM s_errors`); err != nil {
		t.Fatal(err)
	}
}

// head is the first rows of a long result, for a failure message.
func head(rows []string) []string { return rows[:min(len(rows), 10)] }
