package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
)

// intervalDB has sources clicks (user_id, ts) and orders (user_id,
// amount, ts) with event time ts, the same with timestamptz (tzclicks,
// tzorders), and a table plain (user_id, ts) without one.
func intervalDB(t *testing.T) *testDB {
	db := newTestDB(t)
	db.exec(`CREATE TABLE clicks (user_id BIGINT, ts TIMESTAMP); CREATE TABLE orders (user_id BIGINT, amount BIGINT, ts TIMESTAMP);
		CREATE TABLE plain (user_id BIGINT, ts TIMESTAMP);
		CREATE TABLE tzclicks (user_id BIGINT, ts TIMESTAMPTZ); CREATE TABLE tzorders (user_id BIGINT, amount BIGINT, ts TIMESTAMPTZ)`)
	for _, name := range []string{"clicks", "orders", "tzclicks", "tzorders"} {
		rel := db.cat.rels[name]
		rel.Kind = catalog.Source
		rel.Watermark = &catalog.Watermark{Column: len(rel.Columns) - 2, Expr: "ts - INTERVAL '5' SECOND"}
	}
	return db
}

// TestIntervalJoinPlan checks which conditions make an interval join and
// the bounds EXPLAIN shows (inclusive: a strict bound is a microsecond
// in).
func TestIntervalJoinPlan(t *testing.T) {
	db := intervalDB(t)
	for _, c := range []struct{ query, want string }{
		{`SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR`,
			"interval o.ts in [c.ts + 00:00:00, c.ts + 01:00:00]"},
		{`SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts >= c.ts - INTERVAL '1' HOUR AND o.ts < c.ts + INTERVAL '2' HOUR`,
			"interval o.ts in [c.ts - 01:00:00, c.ts + 01:59:59.999999]"},
		// the left time compared with the right one, strictly, and the
		// condition in WHERE
		{`SELECT * FROM clicks c, orders o WHERE c.user_id = o.user_id AND c.ts > o.ts - INTERVAL '10' MINUTE AND c.ts + INTERVAL '1' DAY <= o.ts + INTERVAL '1' DAY`,
			"interval o.ts in [c.ts + 00:00:00, c.ts + 00:09:59.999999]"},
		// the tightest of two bounds; one side only
		{`SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts <= c.ts + INTERVAL '1' HOUR AND o.ts <= c.ts + INTERVAL '1' MINUTE`,
			"interval o.ts in [unbounded, c.ts + 00:01:00]"},
		// ksqlDB's WITHIN, on the WATERMARK FOR columns
		{`SELECT * FROM clicks c JOIN orders o WITHIN 1 HOUR ON c.user_id = o.user_id`,
			"interval o.ts in [c.ts - 01:00:00, c.ts + 01:00:00]"},
		{`SELECT * FROM clicks c JOIN orders o WITHIN (10 MINUTES, 2 HOURS) ON c.user_id = o.user_id`,
			"interval o.ts in [c.ts - 00:10:00, c.ts + 02:00:00]"},
		// an outer join whose preserved side can expire
		{`SELECT * FROM clicks c LEFT JOIN orders o WITHIN 1 HOUR ON c.user_id = o.user_id`,
			"HashJoin Left on c.user_id = o.user_id filter ((o.ts >= (c.ts - '01:00:00')) AND (o.ts <= (c.ts + '01:00:00'))) interval o.ts in [c.ts - 01:00:00, c.ts + 01:00:00]"},
		{`SELECT * FROM clicks c RIGHT JOIN orders o ON c.user_id = o.user_id AND o.ts >= c.ts`,
			"interval o.ts in [c.ts + 00:00:00, unbounded]"},
		// ... and one whose preserved side could not: an ordinary join
		{`SELECT * FROM clicks c LEFT JOIN orders o ON c.user_id = o.user_id AND o.ts >= c.ts`, ""},
		{`SELECT * FROM clicks c FULL JOIN orders o ON c.user_id = o.user_id AND o.ts <= c.ts`, ""},
		// a month has no fixed length: that bound is not one
		{`SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' MONTH`,
			"interval o.ts in [c.ts + 00:00:00, unbounded]"},
		// a day added to a timestamptz is not always 24 hours
		{`SELECT * FROM tzclicks c JOIN tzorders o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' DAY`,
			"interval o.ts in [c.ts + 00:00:00, unbounded]"},
		{`SELECT * FROM tzclicks c JOIN tzorders o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '24' HOUR`,
			"interval o.ts in [c.ts + 00:00:00, c.ts + 24:00:00]"},
		// no bound, no key, no watermark: an ordinary join
		{`SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id`, ""},
		{`SELECT * FROM clicks c JOIN orders o ON o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR`, ""},
		{`SELECT * FROM clicks c JOIN plain o ON c.user_id = o.user_id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR`, ""},
	} {
		p, err := planQuery(t, db, c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		s := p.String()
		if c.want == "" && strings.Contains(s, "interval") || c.want != "" && !strings.Contains(s, c.want) {
			t.Errorf("%s:\n%swant %q", c.query, s, c.want)
		}
	}
}

// TestWithinNeedsEventTime checks that WITHIN over a relation without a
// WATERMARK is refused.
func TestWithinNeedsEventTime(t *testing.T) {
	db := intervalDB(t)
	_, err := planQuery(t, db, `SELECT * FROM clicks c JOIN plain p WITHIN 1 HOUR ON c.user_id = p.user_id`)
	var se *sqlerr.Error
	if !errors.As(err, &se) || se.Code != sqlerr.FeatureNotSupported || !strings.Contains(se.Message, "WITHIN") {
		t.Fatalf("WITHIN over a table without event time: %v, want 0A000", err)
	}
}

// TestIntervalJoinWatermarks checks which output columns of an interval
// join watermarks reach: the left time if the right time is bounded above,
// the right time if it is bounded below.
func TestIntervalJoinWatermarks(t *testing.T) {
	db := intervalDB(t)
	for _, c := range []struct {
		cond string
		want [5]bool // c.user_id, c.ts, o.user_id, o.amount, o.ts
	}{
		{"o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR", [5]bool{false, true, false, false, true}},
		{"o.ts <= c.ts + INTERVAL '1' HOUR", [5]bool{false, true, false, false, false}},
		{"o.ts > c.ts", [5]bool{false, false, false, false, true}},
	} {
		p, err := planQuery(t, db, "SELECT * FROM clicks c JOIN orders o ON c.user_id = o.user_id AND "+c.cond)
		if err != nil {
			t.Fatal(err)
		}
		n := p.query.root
		for {
			if pn, ok := n.(*projectNode); ok {
				n = pn.in
				continue
			}
			break
		}
		j, ok := n.(*joinNode)
		if !ok {
			t.Fatalf("%s: root %T", c.cond, n)
		}
		w := watermarked(j)
		// The sources' hidden row ids follow their columns.
		got := [5]bool{w[0], w[1], w[3], w[4], w[5]}
		if got != c.want {
			t.Errorf("%s: watermarked %v, want %v", c.cond, got, c.want)
		}
	}
}

// TestIntervalJoinOverRetractions checks that a join whose conditions bound
// the times of its sides, over an input that may retract (a windowed
// aggregate that updates its windows), is an interval join when inner
// (which follows retractions) and an ordinary join when outer (whose
// bounds are then a plain condition).
func TestIntervalJoinOverRetractions(t *testing.T) {
	db := intervalDB(t)
	const counts = `(SELECT user_id, window_start, COUNT(*) AS n FROM TUMBLE(clicks, ts, INTERVAL '1' MINUTE) GROUP BY user_id, window_start) a`
	for _, tc := range []struct {
		join     string
		interval bool
	}{{"JOIN", true}, {"LEFT JOIN", false}} {
		p, err := planQuery(t, db, `SELECT * FROM `+counts+` `+tc.join+` orders o ON a.user_id = o.user_id AND o.ts BETWEEN a.window_start AND a.window_start + INTERVAL '1' MINUTE`)
		if err != nil {
			t.Fatal(err)
		}
		n := p.query.root
		for {
			switch x := n.(type) {
			case *projectNode:
				n = x.in
				continue
			case *filterNode:
				n = x.in
				continue
			}
			break
		}
		if j, ok := n.(*joinNode); !ok || (j.interval != nil) != tc.interval {
			t.Fatalf("%s: planned %T %+v, want interval %v", tc.join, n, n, tc.interval)
		}
	}
}
