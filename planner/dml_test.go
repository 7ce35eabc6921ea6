package planner

import (
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func TestDML(t *testing.T) {
	db := newTestDB(t)
	db.exec(`CREATE TABLE k (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, qty INT DEFAULT 7, note TEXT)`)
	steps := []struct{ sql, want string }{
		{"INSERT INTO k VALUES (1, 'a', 1, 'x'), (2, 'b', 2, NULL)", "INSERT 0 2|"},
		{"INSERT INTO k (id, name) VALUES (3, 'c') RETURNING *", "INSERT 0 1|3 c 7 NULL"},
		{"INSERT INTO k VALUES (4, 'd', DEFAULT, 'n') RETURNING qty, id * 2 AS twice", "INSERT 0 1|7 8"},
		{"INSERT INTO k VALUES (1, 'dup', 0, NULL)", "ERROR 23505"},
		{"INSERT INTO k (id) VALUES (9)", "ERROR 23502"},
		{"INSERT INTO k VALUES (9, 'toolong')", "ERROR 22001"},
		{"INSERT INTO k VALUES (9, 'x', 'notanint')", "ERROR 22P02"},
		{"INSERT INTO k VALUES (9, 'x', 99999999999)", "ERROR 22003"},
		{"INSERT INTO k (nosuch) VALUES (1)", "ERROR 42703"},
		{"INSERT INTO k VALUES (1, 'z', 0, NULL) ON CONFLICT (id) DO NOTHING", "INSERT 0 0|"},
		{"INSERT INTO k VALUES (1, 'z', 5, NULL), (5, 'e', 5, NULL) ON CONFLICT (id) DO UPDATE SET qty = k.qty + excluded.qty RETURNING id, qty", "INSERT 0 2|1 6\n5 5"},
		{"INSERT INTO k VALUES (1, 'z', 5, NULL) ON CONFLICT (id) DO UPDATE SET qty = 0 WHERE k.qty > 100", "INSERT 0 0|"},
		{"INSERT INTO k VALUES (6, 'f'), (6, 'g') ON CONFLICT (id) DO UPDATE SET name = excluded.name", "ERROR 21000"},
		{"INSERT INTO k VALUES (1, 'z') ON CONFLICT (name) DO NOTHING", "ERROR 42P10"},
		{"UPDATE k SET qty = qty * 10 WHERE id <= 2 RETURNING id, qty", "UPDATE 2|1 60\n2 20"},
		{"UPDATE k SET id = id + 100 WHERE id = 5", "UPDATE 1|"},
		{"UPDATE k SET name = NULL WHERE id = 1", "ERROR 23502"},
		{"DELETE FROM k WHERE note IS NULL RETURNING id", "DELETE 4|2\n3\n6\n105"},
		{"SELECT * FROM k ORDER BY id", "SELECT 2|1 a 60 x\n4 d 7 n"},
		{"INSERT INTO k SELECT id + 10, name, qty, note FROM k", "INSERT 0 2|"},
		{"SELECT count(*), sum(qty) FROM k", "SELECT 1|4 134"},
		{"DELETE FROM k", "DELETE 4|"},
		{"INSERT INTO k DEFAULT VALUES", "ERROR 23502"},
	}
	for _, s := range steps {
		_, rows, tag, err := db.query(s.sql)
		got := tag + "|" + rowsText(rows)
		if err != nil {
			got = "ERROR " + string(sqlerr.CodeOf(err))
		}
		if got != s.want {
			t.Errorf("%s:\ngot  %q\nwant %q (err %v)", s.sql, got, s.want, err)
		}
	}
}

func TestRowIDTable(t *testing.T) {
	db := newTestDB(t)
	db.exec(`CREATE TABLE r (a INT, b TEXT)`)
	_, rows, tag, err := db.query(`INSERT INTO r VALUES (1, 'x'), (1, 'x') RETURNING *`)
	if err != nil || tag != "INSERT 0 2" || rowsText(rows) != "1 x\n1 x" {
		t.Fatalf("insert: %v %q %q", err, tag, rowsText(rows))
	}
	cols, rows, _, err := db.query(`SELECT * FROM r`)
	if err != nil || len(cols) != 2 || rowsText(rows) != "1 x\n1 x" {
		t.Fatalf("select: %v %v %q", err, cols, rowsText(rows))
	}
	if _, _, _, err := db.query(`INSERT INTO r (_weir_rowid) VALUES (5)`); sqlerr.CodeOf(err) != sqlerr.UndefinedColumn {
		t.Fatalf("writing the row id: %v", err)
	}
	_, rows, tag, _ = db.query(`UPDATE r SET b = 'y'`)
	if tag != "UPDATE 2" {
		t.Fatalf("update: %q", tag)
	}
}

func TestParamsAndColumns(t *testing.T) {
	db := newTestDB(t)
	db.exec(schema)
	stmts, err := parser.Parse(`SELECT id, g AS grp, count(*) OVER () FROM t WHERE id = $1`)
	if err != nil {
		t.Fatal(err)
	}
	w, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil || len(w.Columns) != 3 || w.Columns[2].Name != "count" || w.Columns[2].Type != types.Int64 || w.ParamTypes[0].Kind != types.KindInt32 {
		t.Errorf("window function: %v %v %v", err, w.Columns, w.ParamTypes)
	}
	stmts, _ = parser.Parse(`SELECT id, g AS grp, v + $2, $3 FROM t WHERE id = $1`)
	p, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil {
		t.Fatal(err)
	}
	want := []types.Kind{types.KindInt32, types.KindInt32, types.KindText}
	for i, k := range want {
		if p.ParamTypes[i].Kind != k {
			t.Errorf("param $%d: %v, want kind %v", i+1, p.ParamTypes[i], k)
		}
	}
	if c := p.Columns; c[0].Name != "id" || c[0].TableOID == 0 || c[0].Attr != 1 || c[1].Name != "grp" || c[2].Name != "?column?" {
		t.Errorf("columns %+v", c)
	}
	if !strings.Contains(p.String(), "Point Lookup t (id = $1)") {
		t.Errorf("no point lookup:\n%s", p)
	}
	_, rows, _, err := db.query(`SELECT id, v + $2, $3 FROM t WHERE id = $1`, types.NewInt32(2), types.NewInt32(1), types.NewText("p"))
	if err != nil || rowsText(rows) != "2 21 p" {
		t.Errorf("run: %v %q", err, rowsText(rows))
	}
	_, rows, _, err = db.query(`SELECT id FROM t ORDER BY id LIMIT $1`, types.NewInt64(2))
	if err != nil || rowsText(rows) != "1\n2" {
		t.Errorf("limit param: %v %q", err, rowsText(rows))
	}
	stmts, _ = parser.Parse(`INSERT INTO t (id, g) VALUES ($1, $2)`)
	p, err = PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil || p.ParamTypes[0].Kind != types.KindInt32 || p.ParamTypes[1].Kind != types.KindText {
		t.Errorf("insert params: %v %v", err, p)
	}
}

func TestExplain(t *testing.T) {
	db := newTestDB(t)
	db.exec(schema)
	_, rows, _, err := db.query(`EXPLAIN SELECT g, count(*) FROM t JOIN u ON t.id = u.tid WHERE v > 1 GROUP BY g ORDER BY 2 DESC LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	got := rowsText(rows)
	for _, want := range []string{"Limit 3", "Sort #1 DESC", "Aggregate group by #0: count(*)", "HashJoin Inner on t.id = u.tid", "Filter (t.v > 1)", "Scan u"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN lacks %q:\n%s", want, got)
		}
	}
}

func TestInsertRows(t *testing.T) {
	db := newTestDB(t)
	db.exec(`CREATE TABLE c (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT DEFAULT 3)`)
	tn := &struct{}{}
	_ = tn
	stmts, _ := parser.Parse(`SELECT 1 FROM c`)
	_ = stmts
}
