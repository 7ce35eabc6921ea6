package coord

import (
	"context"
	"fmt"
	"testing"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/sqlerr"
)

// TestParseReusesStatements: a statement text parsed again in a session
// is the same statement, planned again only when the catalog changed; its
// declared parameter types are part of what is reused; the cache is
// bounded.
func TestParseReusesStatements(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	ctx := context.Background()
	parse := func(q string, oids ...uint32) server.Statement {
		t.Helper()
		st, err := s.Parse(ctx, q, oids)
		if err != nil {
			t.Fatal(err)
		}
		return st[0]
	}
	if _, err := run(t, s, `CREATE TABLE t (a INT PRIMARY KEY); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	q := "SELECT * FROM t WHERE a = $1"
	first := parse(q)
	if again := parse(q); again != first {
		t.Error("the same text parsed again is a new statement")
	}
	if typed := parse(q, 20); typed == first || typed.ParamTypes()[0].OID() != 20 {
		t.Errorf("declared int8: same statement %v, $1 type %v", typed == first, typed.ParamTypes()[0])
	}

	// The catalog changes: the reused statement is planned again.
	if _, err := run(t, s, `DROP TABLE t`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Parse(ctx, q, nil); sqlerr.From(err).Code != sqlerr.UndefinedTable {
		t.Fatalf("parse after DROP TABLE: %v", err)
	}
	if _, err := run(t, s, `CREATE TABLE t (a INT PRIMARY KEY, b TEXT); INSERT INTO t VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	if cols := parse(q).Columns(); len(cols) != 2 || cols[1].Name != "b" {
		t.Fatalf("columns after re-creating t: %v", cols)
	}
	if out, err := run(t, s, "SELECT * FROM t WHERE a = 1"); err != nil || out != "1|one\nSELECT 1\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	if out, err := run(t, s, "SELECT * FROM t WHERE a = 1"); err != nil || out != "1|one\nSELECT 1\n" {
		t.Fatalf("again: got %q, %v", out, err)
	}

	for i := 0; i < 3*stmtCacheSize; i++ {
		parse(fmt.Sprintf("SELECT a FROM t WHERE a = %d", i))
	}
	if n := len(s.(*session).stmtCache); n > stmtCacheSize {
		t.Errorf("%d statements kept, at most %d", n, stmtCacheSize)
	}
	if _, err := run(t, s, `DISCARD ALL`); err != nil || len(s.(*session).stmtCache) != 0 {
		t.Errorf("DISCARD ALL: %v, %d statements kept", err, len(s.(*session).stmtCache))
	}
}
