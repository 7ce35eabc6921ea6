package coord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// ksqlViews are hopViews written in ksqlDB's spelling: the WINDOW clause
// over the relation's event time, WINDOWSTART/WINDOWEND, EMIT FINAL for EMIT
// ON WINDOW CLOSE, and CREATE TABLE|STREAM ... AS.
var ksqlViews = []string{
	`CREATE TABLE k_hot AS
		SELECT auction, WINDOWEND, COUNT(*) AS n, SUM(price) AS total
		FROM bids WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
		GROUP BY auction EMIT FINAL`,
	`CREATE TABLE k_live AS
		SELECT b.auction, WindowStart, COUNT(*) AS n, MIN(b.price) AS low
		FROM bids b WINDOW HOPPING (SIZE 10000 MILLISECONDS, ADVANCE BY 2 SECONDS, RETENTION 7 DAYS)
		GROUP BY b.auction EMIT CHANGES`,
	`CREATE STREAM k_tumbled AS
		SELECT auction, WINDOWSTART, WINDOWEND, COUNT(*) AS n
		FROM bids AS b WINDOW TUMBLING (SIZE 5 SECONDS) GROUP BY auction EMIT FINAL`,
}

// The ksqlDB spelling gives exactly the rows of the TUMBLE/HOP spelling
// over the same out-of-order and late bids, across restarts, also when
// created in the middle of the bids.
func TestKsqlWindowClauseEqualsTableFunctions(t *testing.T) {
	bids, batches := bidBatches(11)
	dir := t.TempDir()
	h := newHarness(t, dir)
	s := h.session()
	mustRun(t, s, bidsTable)
	for _, v := range hopViews {
		mustRun(t, s, v)
	}
	for i, b := range batches {
		if i == len(batches)/2 {
			// the ksqlDB views start from the rows and watermark so far
			for _, v := range ksqlViews {
				mustRun(t, h.session(), v)
			}
		}
		mustRun(t, h.session(), b)
		if i%11 == 5 {
			h.close()
			h = newHarness(t, dir)
		}
	}
	defer h.close()
	s = h.session()
	if got, ref := dumpViews(t, h), referenceViews(bids); got != ref {
		t.Fatalf("views:\n%s\nreference:\n%s", got, ref)
	}
	for _, pair := range [][2]string{{"hot", "k_hot"}, {"live", "k_live"}, {"tumbled", "k_tumbled"}} {
		want := mustRun(t, s, "SELECT * FROM "+pair[0]+" ORDER BY 1, 2")
		if strings.Count(want, "\n") < 5 {
			t.Fatalf("%s has too few rows to compare: %s", pair[0], want)
		}
		if got := mustRun(t, s, "SELECT * FROM "+pair[1]+" ORDER BY 1, 2"); got != want {
			t.Errorf("%s:\n%s\n%s:\n%s", pair[1], got, pair[0], want)
		}
	}
	if got := mustRun(t, s, "SELECT windowstart, window_end FROM tumbled ORDER BY 1 LIMIT 1"); got != "2026-01-01 10:00:00|2026-01-01 10:00:05\nSELECT 1\n" {
		t.Errorf("WINDOWSTART of a windowed view: %s", got)
	}
	mustRun(t, s, `CREATE TABLE plain (auction BIGINT, ts TIMESTAMP)`)
	wantCode(t, s, `CREATE TABLE w AS SELECT auction, COUNT(*) FROM plain WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction`, sqlerr.InvalidTableDefinition)
	wantCode(t, s, `CREATE TABLE w AS SELECT auction, COUNT(*) FROM bids WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 1 MINUTE) GROUP BY auction`, sqlerr.FeatureNotSupported)
	wantCode(t, s, `CREATE TABLE w AS SELECT COUNT(*) FROM bids WINDOW TUMBLING (SIZE 1 MINUTE)`, sqlerr.GroupingError)
}

// A push query with EMIT FINAL gets each window once, when the watermark
// closes it: push queries get the watermarks of every epoch, as views do.
func TestKsqlPushQueryEmitFinal(t *testing.T) {
	h := newHarness(t, t.TempDir())
	defer h.close()
	s := h.session()
	mustRun(t, s, bidsTable)
	ins := func(q string) { mustRun(t, s, "INSERT INTO bids VALUES "+q) }
	ins("(1, 10, '2026-01-01 10:00:05'), (1, 30, '2026-01-01 10:00:50')")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	push := h.session()
	stmts, err := push.Parse(ctx, `SELECT auction, WINDOWSTART, COUNT(*) AS n, MAX(price) AS top
		FROM bids WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction EMIT FINAL;`, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	next := func() string {
		row, ok, err := res.Next(ctx)
		if err != nil || !ok {
			t.Fatalf("push query: %v %v", ok, err)
		}
		var parts []string
		for _, d := range row {
			parts = append(parts, string(types.AppendText(nil, d, nil)))
		}
		return strings.Join(parts, " ")
	}
	ins("(1, 20, '2026-01-01 10:00:47')") // out of order: the window grows
	ins("(2, 5, '2026-01-01 10:01:04')")  // the watermark reaches 10:01: it closes
	ins("(1, 99, '2026-01-01 10:00:59')") // late: dropped
	ins("(2, 6, '2026-01-01 10:02:10')")  // closes 10:01
	for _, want := range []string{"insert 1 2026-01-01 10:00:00 3 30", "insert 2 2026-01-01 10:01:00 1 5"} {
		if got := next(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
