package tests

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/connectors/nexmark"
)

// The Nexmark queries as Weir SQL (RisingWave's versions of the Nexmark
// benchmark queries), maintained as views while the generator runs.
var nexmarkQueries = map[string]string{
	"q0": `SELECT auction, bidder, price, date_time FROM bid`,
	"q1": `SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid`,
	"q2": `SELECT auction, price FROM bid WHERE auction = 1007 OR auction = 1020 OR auction = 2001 OR auction = 2019 OR auction = 2087`,
	"q3": `SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
		WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')`,
	"q4": `SELECT Q.category, AVG(Q.final) AS avg FROM (
		SELECT MAX(B.price) AS final, A.category FROM auction A, bid B
		WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
		GROUP BY A.id, A.category) Q GROUP BY Q.category`,
	"q5": `SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.starttime FROM (
		SELECT bid.auction, count(*) AS num, window_start AS starttime
		FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
		GROUP BY window_start, bid.auction) AS AuctionBids
	JOIN (
		SELECT max(CountBids.num) AS maxn, CountBids.starttime_c FROM (
			SELECT count(*) AS num, window_start AS starttime_c
			FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
			GROUP BY bid.auction, window_start) AS CountBids
		GROUP BY CountBids.starttime_c) AS MaxBids
	ON AuctionBids.starttime = MaxBids.starttime_c AND AuctionBids.num >= MaxBids.maxn`,
	"q7": `SELECT B.auction, B.price, B.bidder, B.date_time FROM bid B JOIN (
		SELECT MAX(price) AS maxprice, window_end AS date_time
		FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) GROUP BY window_end) B1
	ON B.price = B1.maxprice
	WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND AND B1.date_time`,
	"q8": `SELECT P.id, P.name, P.starttime FROM (
		SELECT id, name, window_start AS starttime, window_end AS endtime
		FROM TUMBLE(person, date_time, INTERVAL '10' SECOND)
		GROUP BY id, name, window_start, window_end) P
	JOIN (
		SELECT seller, window_start AS starttime, window_end AS endtime
		FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND)
		GROUP BY seller, window_start, window_end) A
	ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime`,
}

// nexmarkTime renders a Nexmark timestamp as Weir and PostgreSQL do.
func nexmarkTime(us int64) string {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond).Format("2006-01-02 15:04:05.999999")
}

// nexmarkEvents is cfg's sequence, by kind.
type nexmarkEvents struct {
	persons  []nexmark.Person
	auctions []nexmark.Auction
	bids     []nexmark.Bid
}

func generateNexmark(cfg nexmark.Config) *nexmarkEvents {
	ev := &nexmarkEvents{}
	nexmark.Generate(cfg, 0, cfg.Events, func(e *nexmark.Event) bool {
		switch e.Kind {
		case nexmark.KindPerson:
			ev.persons = append(ev.persons, e.Person)
		case nexmark.KindAuction:
			ev.auctions = append(ev.auctions, e.Auction)
		default:
			ev.bids = append(ev.bids, e.Bid)
		}
		return true
	})
	return ev
}

// reference computes each query's rows from the events, in Go, as
// queryRows renders them (sorted).
func (ev *nexmarkEvents) reference(q string) []string {
	var rows []string
	add := func(format string, args ...any) { rows = append(rows, fmt.Sprintf(format, args...)) }
	const second = int64(time.Second / time.Microsecond)
	switch q {
	case "q0":
		for _, b := range ev.bids {
			add("%d %d %d %s", b.Auction, b.Bidder, b.Price, nexmarkTime(b.DateTime))
		}
	case "q1":
		for _, b := range ev.bids {
			p := b.Price * 908
			add("%d %d %d.%03d %s", b.Auction, b.Bidder, p/1000, p%1000, nexmarkTime(b.DateTime))
		}
	case "q2":
		for _, b := range ev.bids {
			switch b.Auction {
			case 1007, 1020, 2001, 2019, 2087:
				add("%d %d", b.Auction, b.Price)
			}
		}
	case "q3":
		persons := map[int64]nexmark.Person{}
		for _, p := range ev.persons {
			persons[p.ID] = p
		}
		for _, a := range ev.auctions {
			p, ok := persons[a.Seller]
			if ok && a.Category == 10 && (p.State == "OR" || p.State == "ID" || p.State == "CA") {
				add("%s %s %s %d", p.Name, p.City, p.State, a.ID)
			}
		}
	case "q4":
		final := map[int64]int64{} // auction: max price of its bids in time
		seen := map[int64]bool{}
		auctions := map[int64]nexmark.Auction{}
		for _, a := range ev.auctions {
			auctions[a.ID] = a
		}
		for _, b := range ev.bids {
			a, ok := auctions[b.Auction]
			if !ok || b.DateTime < a.DateTime || b.DateTime > a.Expires {
				continue
			}
			if !seen[a.ID] || b.Price > final[a.ID] {
				final[a.ID], seen[a.ID] = b.Price, true
			}
		}
		sum, n := map[int64]int64{}, map[int64]int64{}
		for id, f := range final {
			c := auctions[id].Category
			sum[c] += f
			n[c]++
		}
		for c := range sum {
			add("%d %s", c, big.NewRat(sum[c], n[c]).FloatString(6))
		}
	case "q5":
		counts := map[[2]int64]int64{} // (window start, auction)
		for _, b := range ev.bids {
			first := (b.DateTime - 10*second + 2*second) / (2 * second) * (2 * second)
			for s := first; s <= b.DateTime; s += 2 * second {
				counts[[2]int64{s, b.Auction}]++
			}
		}
		maxn := map[int64]int64{}
		for k, n := range counts {
			maxn[k[0]] = max(maxn[k[0]], n)
		}
		for k, n := range counts {
			if n >= maxn[k[0]] {
				add("%d %d %s", k[1], n, nexmarkTime(k[0]))
			}
		}
	case "q7":
		maxPrice := map[int64]int64{} // window end: max price
		for _, b := range ev.bids {
			end := b.DateTime/(10*second)*(10*second) + 10*second
			maxPrice[end] = max(maxPrice[end], b.Price)
		}
		for _, b := range ev.bids {
			for end, m := range maxPrice {
				if b.Price == m && b.DateTime >= end-10*second && b.DateTime <= end {
					add("%d %d %d %s", b.Auction, b.Price, b.Bidder, nexmarkTime(b.DateTime))
				}
			}
		}
	case "q8":
		type pw struct {
			id    int64
			name  string
			start int64
		}
		persons := map[pw]bool{}
		for _, p := range ev.persons {
			persons[pw{p.ID, p.Name, p.DateTime / (10 * second) * (10 * second)}] = true
		}
		sellers := map[[2]int64]bool{} // (seller, window start)
		for _, a := range ev.auctions {
			sellers[[2]int64{a.Seller, a.DateTime / (10 * second) * (10 * second)}] = true
		}
		for p := range persons {
			if sellers[[2]int64{p.id, p.start}] {
				add("%d %s %s", p.id, p.name, nexmarkTime(p.start))
			}
		}
	}
	slices.Sort(rows)
	return rows
}

// TestNexmarkQueries runs the Nexmark queries as views over the
// generator's sources while they generate, and checks every view
// against the answer computed in Go from the same events; q0-q3 and q5
// also against PostgreSQL over the same rows.
func TestNexmarkQueries(t *testing.T) {
	const events = 40_000
	cfg := nexmark.Config{Seed: 5, Events: events, Rate: 2000}
	ev := generateNexmark(cfg)
	w := startWeir(t)
	ctx := testCtx(t, 3*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	for _, table := range []string{"person", "auction", "bid"} {
		// Paced, so that most events arrive after the views exist:
		// 20 s of event time in about 1 s. The bids are not stored.
		mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table = '%s',
			nexmark.events = %d, nexmark.rate = 40000, nexmark.event_rate = %d, nexmark.seed = %d, on_error = 'skip', stored = '%t')`,
			table, table, events, cfg.Rate, cfg.Seed, table != "bid"))
	}
	// Some bids come before the views, which read them again from the
	// generator (the source keeps none).
	waitFor(t, 30*time.Second, "some bids", func() error {
		if st, err := getSourceStatus(ctx, c, "bid"); err != nil || st.records < 2000 {
			return fmt.Errorf("bid: %v %v", st, err)
		}
		return nil
	})
	names := []string{"q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8"}
	for _, q := range names {
		mustExec(t, ctx, c, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", q, nexmarkQueries[q]))
	}
	waitInt(t, c, time.Minute, "bid", `SELECT records FROM weir_catalog.sources WHERE name = 'bid'`, int64(len(ev.bids)))
	waitInt(t, c, time.Minute, "person", `SELECT count(*) FROM person`, int64(len(ev.persons)))
	waitInt(t, c, time.Minute, "auction", `SELECT count(*) FROM auction`, int64(len(ev.auctions)))
	for _, q := range names {
		sel := "SELECT * FROM " + q
		if q == "q4" {
			sel = "SELECT category, round(avg, 6) FROM q4"
		}
		got, want := queryRows(t, ctx, c, sel), ev.reference(q)
		if len(want) == 0 {
			t.Fatalf("%s: the reference is empty", q)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d rows, want %d\n%s\nwant\n%s", q, len(got), len(want), strings.Join(head(got), "\n"), strings.Join(head(want), "\n"))
		}
	}

	// PostgreSQL over the same rows, for the queries it can say as they
	// are (q0-q3), and q5 with its hopping windows spelled out.
	pg := postgres(t)
	if err := pg.CreateDB(ctx, "e2e_nexmark_queries"); err != nil {
		t.Fatal(err)
	}
	p := connect(t, pg.DSN("e2e_nexmark_queries"), pgx.QueryExecModeSimpleProtocol)
	ev.load(t, p)
	pgQueries := map[string]string{"q0": nexmarkQueries["q0"], "q1": nexmarkQueries["q1"], "q2": nexmarkQueries["q2"], "q3": nexmarkQueries["q3"],
		"q5": strings.ReplaceAll(nexmarkQueries["q5"], "HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)", pgHop)}
	for _, q := range []string{"q0", "q1", "q2", "q3", "q5"} {
		got, want := queryRows(t, ctx, c, "SELECT * FROM "+q), queryRows(t, ctx, p, pgQueries[q])
		if !slices.Equal(got, want) {
			t.Errorf("%s against PostgreSQL: %d rows, want %d\n%s\nwant\n%s", q, len(got), len(want), strings.Join(head(got), "\n"), strings.Join(head(want), "\n"))
		}
	}
}

// pgHop is HOP(bid, date_time, 2 s, 10 s) for PostgreSQL: each bid in the
// five windows that hold it.
const pgHop = `(SELECT bid.*, w.window_start FROM bid, LATERAL (
	SELECT date_bin('2 seconds', bid.date_time - INTERVAL '8 seconds', TIMESTAMP '2000-01-01') + k * INTERVAL '2 seconds' AS window_start
	FROM generate_series(0, 4) k) w) AS bid`

// load copies the events into tables of PostgreSQL.
func (ev *nexmarkEvents) load(t *testing.T, p *pgx.Conn) {
	ctx := testCtx(t, time.Minute)
	mustExec(t, ctx, p, `CREATE TABLE person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR, date_time TIMESTAMP, extra VARCHAR)`)
	mustExec(t, ctx, p, `CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)`)
	mustExec(t, ctx, p, `CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)`)
	ts := func(us int64) time.Time {
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond)
	}
	copyRows := func(table string, cols []string, n int, row func(i int) []any) {
		_, err := p.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		if err != nil {
			t.Fatalf("COPY %s: %v", table, err)
		}
	}
	copyRows("person", []string{"id", "name", "email_address", "credit_card", "city", "state", "date_time", "extra"}, len(ev.persons), func(i int) []any {
		x := ev.persons[i]
		return []any{x.ID, x.Name, x.EmailAddress, x.CreditCard, x.City, x.State, ts(x.DateTime), x.Extra}
	})
	copyRows("auction", []string{"id", "item_name", "description", "initial_bid", "reserve", "date_time", "expires", "seller", "category", "extra"}, len(ev.auctions), func(i int) []any {
		x := ev.auctions[i]
		return []any{x.ID, x.ItemName, x.Description, x.InitialBid, x.Reserve, ts(x.DateTime), ts(x.Expires), x.Seller, x.Category, x.Extra}
	})
	copyRows("bid", []string{"auction", "bidder", "price", "channel", "url", "date_time", "extra"}, len(ev.bids), func(i int) []any {
		x := ev.bids[i]
		return []any{x.Auction, x.Bidder, x.Price, x.Channel, x.URL, ts(x.DateTime), x.Extra}
	})
}

// TestNexmarkWindowsAcrossKill: the windowed and joined queries over
// paced sources, the server killed (kill -9) twice in the middle of their
// windows: the views end as the answers computed in Go, nothing lost or
// counted twice.
func TestNexmarkWindowsAcrossKill(t *testing.T) {
	const events = 40_000
	cfg := nexmark.Config{Seed: 9, Events: events, Rate: 2000}
	ev := generateNexmark(cfg)
	w := startWeir(t)
	ctx := testCtx(t, 3*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	for _, table := range []string{"person", "auction", "bid"} {
		mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table = '%s',
			nexmark.events = %d, nexmark.rate = 20000, nexmark.event_rate = %d, nexmark.seed = %d, on_error = 'skip')`,
			table, table, events, cfg.Rate, cfg.Seed))
	}
	names := []string{"q4", "q5", "q7", "q8"}
	for _, q := range names {
		mustExec(t, ctx, c, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", q, nexmarkQueries[q]))
	}
	for kill := range 2 {
		waitFor(t, 30*time.Second, "more bids", func() error {
			n, err := queryInt(ctx, c, `SELECT count(*) FROM bid`)
			if err == nil && n < int64((kill+1)*len(ev.bids)/3) {
				err = fmt.Errorf("%d bids", n)
			}
			return err
		})
		c.Close(ctx)
		w.Kill()
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	}
	waitInt(t, c, time.Minute, "bid", `SELECT count(*) FROM bid`, int64(len(ev.bids)))
	waitInt(t, c, time.Minute, "person", `SELECT count(*) FROM person`, int64(len(ev.persons)))
	waitInt(t, c, time.Minute, "auction", `SELECT count(*) FROM auction`, int64(len(ev.auctions)))
	for _, q := range names {
		sel := "SELECT * FROM " + q
		if q == "q4" {
			sel = "SELECT category, round(avg, 6) FROM q4"
		}
		if got, want := queryRows(t, ctx, c, sel), ev.reference(q); !slices.Equal(got, want) {
			t.Errorf("%s after kills: %d rows, want %d\n%s\nwant\n%s", q, len(got), len(want), strings.Join(head(got), "\n"), strings.Join(head(want), "\n"))
		}
	}
}
