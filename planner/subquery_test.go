package planner

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/types"

	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
)

// subSchema has NULLs on both sides of every comparison. Expected answers
// are PostgreSQL 15's.
const subSchema = `
CREATE TABLE a (id INT PRIMARY KEY, k INT, x INT);
INSERT INTO a VALUES (1, 1, 10), (2, 1, NULL), (3, 2, 20), (4, 3, 30), (5, NULL, 10), (6, 4, 40);
CREATE TABLE b (id INT PRIMARY KEY, k INT, v INT);
INSERT INTO b VALUES (10, 1, 10), (11, 1, 15), (12, 2, NULL), (13, 2, 20), (14, 3, 5), (15, NULL, 10);
CREATE TABLE e (id INT PRIMARY KEY, v INT);
`

func TestSubqueries(t *testing.T) {
	tests := []struct{ sql, want string }{
		// correlated EXISTS / NOT EXISTS
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k) ORDER BY id", "1\n2\n3\n4"},
		{"SELECT id FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.k = a.k) ORDER BY id", "5\n6"},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.v > 12) ORDER BY id", "1\n2\n3"},
		{"SELECT id, EXISTS (SELECT 1 FROM b WHERE b.k = a.k) FROM a ORDER BY id", "1 t\n2 t\n3 t\n4 t\n5 f\n6 f"},
		{"SELECT id FROM a WHERE x = 40 OR EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.v = 5) ORDER BY id", "4\n6"},
		// correlated IN / NOT IN with NULLs
		{"SELECT id FROM a WHERE x IN (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "1\n3"},
		{"SELECT id FROM a WHERE x = ANY (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "1\n3"},
		// k=1: {10,15}: id 1 (10) in, id 2 (NULL) unknown; k=2: {NULL,20}: id 3 (20) in;
		// k=3: {5}: id 4 (30) not in -> true; k NULL / k=4: empty -> true.
		{"SELECT id FROM a WHERE x NOT IN (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "4\n5\n6"},
		{"SELECT id FROM a WHERE x <> ALL (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "4\n5\n6"},
		{"SELECT id FROM a WHERE NOT (x IN (SELECT v FROM b WHERE b.k = a.k)) ORDER BY id", "4\n5\n6"},
		// uncorrelated IN / NOT IN: b.v has a NULL, so NOT IN is never true
		{"SELECT id FROM a WHERE x IN (SELECT v FROM b) ORDER BY id", "1\n3\n5"},
		{"SELECT id FROM a WHERE x NOT IN (SELECT v FROM b)", ""},
		{"SELECT id FROM a WHERE x NOT IN (SELECT v FROM b WHERE v IS NOT NULL) ORDER BY id", "4\n6"},
		{"SELECT id FROM a WHERE x NOT IN (SELECT v FROM e) ORDER BY id", "1\n2\n3\n4\n5\n6"},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM e)", ""},
		{"SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM e)", "6"},
		// other comparisons
		{"SELECT id FROM a WHERE x > ANY (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "4"},
		{"SELECT id FROM a WHERE x >= ALL (SELECT v FROM b WHERE b.k = a.k) ORDER BY id", "4\n5\n6"},
		{"SELECT id FROM a WHERE x < ALL (SELECT v FROM b WHERE v IS NOT NULL) ORDER BY id", ""},
		{"SELECT id FROM a WHERE NOT (x > ALL (SELECT v FROM b WHERE b.k = a.k)) ORDER BY id", "1\n3"},
		// correlated scalar subqueries
		{"SELECT id, (SELECT max(b.v) FROM b WHERE b.k = a.k) FROM a ORDER BY id", "1 15\n2 15\n3 20\n4 5\n5 NULL\n6 NULL"},
		{"SELECT id, (SELECT count(*) FROM b WHERE b.k = a.k) FROM a ORDER BY id", "1 2\n2 2\n3 2\n4 1\n5 0\n6 0"},
		{"SELECT id, (SELECT count(v) + 1 FROM b WHERE b.k = a.k) AS c FROM a ORDER BY id", "1 3\n2 3\n3 2\n4 2\n5 1\n6 1"},
		{"SELECT id FROM a WHERE x > (SELECT avg(v) FROM b WHERE b.k = a.k) ORDER BY id", "4"},
		{"SELECT id FROM a WHERE (SELECT count(*) FROM b WHERE b.k = a.k) = 0 ORDER BY id", "5\n6"},
		{"SELECT id, (SELECT b.v FROM b WHERE b.k = a.k AND b.v < 12) FROM a ORDER BY id", "1 10\n2 10\n3 NULL\n4 5\n5 NULL\n6 NULL"},
		{"SELECT id, (SELECT b.v FROM b WHERE b.k = a.k) FROM a ORDER BY id", "ERROR 21000"},
		{"SELECT id, (SELECT b.v FROM b WHERE b.k = a.k) FROM a WHERE id >= 4 ORDER BY id", "4 5\n5 NULL\n6 NULL"},
		{"SELECT k, (SELECT max(v) FROM b WHERE b.k = a.k) FROM a GROUP BY k ORDER BY k", "1 15\n2 20\n3 5\n4 NULL\nNULL NULL"},
		{"SELECT x, (SELECT max(v) FROM b WHERE b.k = a.k) FROM a GROUP BY x", "ERROR 42803"},
		{"SELECT id FROM a WHERE x IN (SELECT max(v) FROM b WHERE b.k = a.k) ORDER BY id", "3"},
		{"SELECT id FROM a WHERE EXISTS (SELECT count(*) FROM b WHERE b.k = a.k) ORDER BY id", "1\n2\n3\n4\n5\n6"},
		// uncorrelated scalar subqueries as dataflow
		{"SELECT id FROM a WHERE x > (SELECT max(v) FROM b WHERE k = 1) ORDER BY id", "3\n4\n6"},
		{"SELECT id, (SELECT min(v) FROM b) FROM a WHERE id < 3 ORDER BY id", "1 5\n2 5"},
		{"SELECT id FROM a WHERE x = (SELECT v FROM b WHERE id = 13)", "3"},
		{"SELECT id FROM a WHERE x = (SELECT v FROM b WHERE id = 99)", ""},
		{"SELECT id FROM a WHERE x = (SELECT v FROM b)", "ERROR 21000"},
		{"SELECT count(*), (SELECT count(*) FROM e) FROM a", "6 0"},
		{"SELECT k, count(*) FROM a GROUP BY k HAVING count(*) > (SELECT count(*) FROM e) + 1 ORDER BY k", "1 2"},
		// nested and multi-key correlation
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.v = a.x) ORDER BY id", "1\n3"},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND EXISTS (SELECT 1 FROM e WHERE e.v = b.v)) ORDER BY id", ""},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k + 1 = a.k + 1) ORDER BY id", "1\n2\n3\n4"},
		// refused with 0A000
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k < a.k)", "ERROR 0A000"},
		{"SELECT id FROM a WHERE EXISTS (SELECT a.x FROM b WHERE b.k = a.k OR b.v = 1)", "ERROR 0A000"},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k LIMIT 1)", "ERROR 0A000"},
		{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE EXISTS (SELECT 1 FROM e WHERE e.v = a.x))", "ERROR 0A000"},
		{"SELECT id, x IN (SELECT v FROM b WHERE b.k = a.k) FROM a", "ERROR 0A000"},
		// arrays
		{"SELECT id FROM a WHERE x = ANY(ARRAY[10, 30]) ORDER BY id", "1\n4\n5"},
		{"SELECT id FROM a WHERE x <> ALL(ARRAY[10, 30]) ORDER BY id", "3\n6"},
		{"SELECT id FROM a WHERE x > ANY(ARRAY[25, 35]) ORDER BY id", "4\n6"},
		{"SELECT id FROM a WHERE x < ALL(ARRAY[25, NULL])", ""},
		{"SELECT id FROM a WHERE x = ANY($1)", "ERROR 0A000"},
		// LIKE ... ESCAPE
		{"SELECT 'a%b' LIKE 'a#%b' ESCAPE '#', 'axb' LIKE 'a#%b' ESCAPE '#', 'a_b' NOT LIKE 'a!_b' ESCAPE '!'", "t f f"},
		{"SELECT 'A%' ILIKE 'a$%' ESCAPE '$', 'A%' ILIKE 'a$_' ESCAPE '$'", "t f"},
	}
	db := newTestDB(t)
	db.exec(subSchema)
	for _, tc := range tests {
		_, rows, _, err := db.query(tc.sql)
		var got string
		if err != nil {
			got = "ERROR " + string(sqlerr.CodeOf(err))
			if !strings.HasPrefix(tc.want, "ERROR") {
				t.Errorf("%s: %v", tc.sql, err)
				continue
			}
		} else {
			got = rowsText(rows)
		}
		if got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
}

// TestSubqueriesAreDataflow: these forms must plan without run-once
// subqueries, so that a view over them is maintained incrementally.
func TestSubqueriesAreDataflow(t *testing.T) {
	db := newTestDB(t)
	db.exec(subSchema)
	for _, q := range []string{
		"SELECT id FROM a WHERE x > (SELECT max(v) FROM b)",
		"SELECT id FROM a WHERE x IN (SELECT v FROM b)",
		"SELECT id FROM a WHERE x NOT IN (SELECT v FROM b)",
		"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b)",
		"SELECT id, (SELECT max(b.v) FROM b WHERE b.k = a.k) FROM a",
		"SELECT id FROM a WHERE x > (SELECT avg(v) FROM b WHERE b.k = a.k)",
	} {
		stmts, err := parser.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		p, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if err := p.Incremental(); err != nil {
			t.Errorf("%s: %v\n%s", q, err, p)
		}
	}
	stmts, _ := parser.Parse("SELECT id, x IN (SELECT v FROM b) FROM a")
	p, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil {
		t.Fatal(err)
	}
	if sqlerr.CodeOf(p.Incremental()) != sqlerr.FeatureNotSupported {
		t.Errorf("IN in the select list should be reported as run-once")
	}
}

func TestJoinUsing(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT * FROM l FULL JOIN r USING (k) ORDER BY k", "1 a x\n2 b NULL\n3 NULL y\nNULL c NULL\nNULL NULL z"},
		{"SELECT k, l.k, r.k FROM l FULL JOIN r USING (k) ORDER BY 1, 2, 3", "1 1 1\n2 2 NULL\n3 NULL 3\nNULL NULL NULL\nNULL NULL NULL"},
		{"SELECT * FROM l JOIN r USING (k)", "1 a x"},
		{"SELECT * FROM l RIGHT JOIN r USING (k) ORDER BY 3", "1 a x\n3 NULL y\nNULL NULL z"},
		{"SELECT * FROM l NATURAL LEFT JOIN r ORDER BY 2", "1 a x\n2 b NULL\nNULL c NULL"},
		{"SELECT * FROM r2 JOIN l USING (k) JOIN r USING (k)", "1 9 a x"},
		{"SELECT * FROM (l JOIN r USING (k)) CROSS JOIN r2", "1 a x 1 9"},
		{"SELECT count(*) FROM l FULL JOIN r USING (k) WHERE k IS NULL", "2"},
		{"SELECT l.*, r.* FROM l FULL JOIN r USING (k) WHERE k = 1", "a 1 1 x"},
	}
	db := newTestDB(t)
	db.exec(usingSchema)
	for _, tc := range tests {
		rows, err := db.queryFullUsing(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := rowsText(rows); got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
}

const usingSchema = `
CREATE TABLE l (s TEXT, k INT);
INSERT INTO l VALUES ('a', 1), ('b', 2), ('c', NULL);
CREATE TABLE r (k INT, w TEXT);
INSERT INTO r VALUES (1, 'x'), (3, 'y'), (NULL, 'z');
CREATE TABLE r2 (k INT, q INT);
INSERT INTO r2 VALUES (1, 9);
`

// queryFullUsing runs one query; the parser still refuses FULL JOIN ...
// USING, so the query is parsed with FULL replaced by LEFT and the join
// kind set back in the AST.
func (db *testDB) queryFullUsing(sql string) ([][]string, error) {
	full := strings.Contains(sql, "FULL JOIN")
	stmts, err := parser.Parse(strings.ReplaceAll(sql, "FULL JOIN", "LEFT JOIN"))
	if err != nil {
		return nil, err
	}
	q := stmts[0].AST.(*ast.Query)
	if full {
		for _, f := range q.Body.(*ast.SelectCore).From {
			if j, ok := f.(*ast.Join); ok && j.Kind == ast.LeftJoin {
				j.Kind = ast.FullJoin
			}
		}
	}
	p, err := PlanStatement(&Context{Catalog: db.cat}, q)
	if err != nil {
		return nil, err
	}
	rows, err := p.Run(context.Background(), &executor.Runtime{Store: db.store})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for {
		r, ok, err := rows.Next(context.Background())
		if err != nil || !ok {
			return out, err
		}
		line := make([]string, len(r))
		for i, d := range r {
			line[i] = "NULL"
			if !d.IsNull() {
				line[i] = string(types.AppendText(nil, d, nil))
			}
		}
		out = append(out, line)
	}
}

const dmlFromSchema = `
CREATE TABLE a (id INT PRIMARY KEY, k INT, x INT);
INSERT INTO a VALUES (1, 1, 10), (2, 1, NULL), (3, 2, 20), (4, 3, 30), (5, NULL, 10), (6, 4, 40);
CREATE TABLE b (id INT PRIMARY KEY, k INT, v INT);
INSERT INTO b VALUES (10, 1, 10), (11, 1, 15), (12, 2, NULL), (13, 2, 20), (14, 3, 5), (15, NULL, 10);
`

// TestDMLFromUsing runs each statement on fresh tables, then reads a.
func TestDMLFromUsing(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"UPDATE a SET x = b.v FROM b WHERE b.id = a.id + 9", "1 1 10\n2 1 15\n3 2 NULL\n4 3 20\n5 NULL 5\n6 4 10"},
		{"UPDATE a SET x = 0 FROM b WHERE b.k = a.k AND b.v IS NULL", "1 1 10\n2 1 NULL\n3 2 0\n4 3 30\n5 NULL 10\n6 4 40"},
		{"UPDATE a SET x = (SELECT max(v) FROM b WHERE b.k = a.k)", "1 1 15\n2 1 15\n3 2 20\n4 3 5\n5 NULL NULL\n6 4 NULL"},
		{"UPDATE a SET x = (SELECT count(*) FROM b WHERE b.k = a.k) WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.v = a.x)", "1 1 10\n2 1 2\n3 2 20\n4 3 1\n5 NULL 10\n6 4 0"},
		{"DELETE FROM a USING b WHERE b.k = a.k", "5 NULL 10\n6 4 40"},
		{"DELETE FROM a WHERE x IN (SELECT v FROM b WHERE b.k = a.k)", "2 1 NULL\n4 3 30\n5 NULL 10\n6 4 40"},
		{"DELETE FROM a WHERE x NOT IN (SELECT v FROM b WHERE b.k = a.k)", "1 1 10\n2 1 NULL\n3 2 20"},
	}
	for _, tc := range tests {
		db := newTestDB(t)
		db.exec(dmlFromSchema)
		if _, _, _, err := db.query(tc.sql); err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		_, rows, _, err := db.query("SELECT id, k, x FROM a ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsText(rows); got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
	db := newTestDB(t)
	db.exec(dmlFromSchema)
	_, rows, tag, err := db.query("UPDATE a SET x = b.v FROM b WHERE b.k = a.k RETURNING a.id")
	if err != nil || tag != "UPDATE 4" || len(rows) != 4 {
		t.Errorf("UPDATE FROM with several matches per row: %v %q %v", err, tag, rows)
	}
}
