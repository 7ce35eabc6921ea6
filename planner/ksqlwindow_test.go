package planner

import (
	"errors"
	"testing"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
)

// eventTimeDB has a source bids (auction, price, ts) whose event time is
// ts, and a table plain (auction, ts) without one.
func eventTimeDB(t *testing.T) *testDB {
	db := newTestDB(t)
	db.exec(`CREATE TABLE bids (auction BIGINT, price BIGINT, ts TIMESTAMP); CREATE TABLE plain (auction BIGINT, ts TIMESTAMP)`)
	bids := db.cat.rels["bids"]
	bids.Kind = catalog.Source
	bids.Watermark = &catalog.Watermark{Column: 2, Expr: "ts - INTERVAL '4' SECOND"}
	return db
}

// TestKsqlWindowClause checks that ksqlDB's WINDOW clause plans exactly as
// the window table function over the relation's watermark column grouped
// by the window columns.
func TestKsqlWindowClause(t *testing.T) {
	db := eventTimeDB(t)
	for _, c := range []struct{ ksql, weir string }{
		{`SELECT auction, WINDOWSTART, WindowEnd, COUNT(*) AS n FROM bids WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction`,
			`SELECT auction, window_start AS windowstart, window_end AS windowend, COUNT(*) AS n FROM TUMBLE(bids, ts, INTERVAL '1' MINUTE) GROUP BY auction, window_start, window_end`},
		{`SELECT b.auction, MAX(b.price) AS top FROM bids b WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) WHERE b.price > 1 GROUP BY b.auction EMIT FINAL`,
			`SELECT b.auction, MAX(b.price) AS top FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) b WHERE b.price > 1 GROUP BY b.auction, b.window_start, b.window_end EMIT ON WINDOW CLOSE`},
		// the window columns named in GROUP BY are not added twice
		{`SELECT auction, COUNT(*) AS n FROM bids AS b WINDOW TUMBLING (SIZE 1000 MILLISECONDS, RETENTION 1 DAY) GROUP BY windowstart, auction`,
			`SELECT auction, COUNT(*) AS n FROM TUMBLE(bids, ts, INTERVAL '1' SECOND) AS b GROUP BY window_start, auction, b.window_end`},
	} {
		kp, err := planViewQuery(t, db, c.ksql)
		if err != nil {
			t.Fatalf("%s: %v", c.ksql, err)
		}
		wp, err := planViewQuery(t, db, c.weir)
		if err != nil {
			t.Fatalf("%s: %v", c.weir, err)
		}
		if kp.String() != wp.String() {
			t.Errorf("%s plans as\n%s\nnot as %s\n%s", c.ksql, kp, c.weir, wp)
		}
		if got, want := columnNames(kp.Columns), columnNames(wp.Columns); got != want {
			t.Errorf("%s: columns %s, want %s", c.ksql, got, want)
		}
	}
}

// planViewQuery plans the query of CREATE MATERIALIZED VIEW v AS query.
func planViewQuery(t *testing.T, db *testDB, query string) (*Plan, error) {
	t.Helper()
	stmts, err := parser.Parse("CREATE MATERIALIZED VIEW v AS " + query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST.(*ast.CreateMaterializedView).Query)
}

func columnNames(cols []Column) string {
	s := ""
	for _, c := range cols {
		s += c.Name + " " + c.Type.String() + ", "
	}
	return s
}

func TestKsqlWindowClauseRefused(t *testing.T) {
	db := eventTimeDB(t)
	for _, c := range []struct {
		sql  string
		code sqlerr.Code
	}{
		// no event time
		{`SELECT auction, COUNT(*) FROM plain WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY auction`, sqlerr.InvalidTableDefinition},
		// nothing to group
		{`SELECT COUNT(*) FROM bids WINDOW TUMBLING (SIZE 1 MINUTE)`, sqlerr.GroupingError},
		{`SELECT auction, COUNT(*) FROM bids WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS) GROUP BY auction`, sqlerr.InvalidParameterValue},
		{`SELECT auction, COUNT(*) FROM bids WINDOW TUMBLING (SIZE 0 SECONDS) GROUP BY auction`, sqlerr.InvalidParameterValue},
	} {
		_, err := planQuery(t, db, c.sql)
		var e *sqlerr.Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: got %v, want %s", c.sql, err, c.code)
		} else if e.Hint == "" && c.code != sqlerr.InvalidParameterValue {
			t.Errorf("%s: no hint: %v", c.sql, err)
		}
	}
}
