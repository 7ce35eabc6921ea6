package planner

import (
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

const schema = `
CREATE TABLE t (id INT PRIMARY KEY, g TEXT, v INT, f DOUBLE PRECISION, n NUMERIC(10,2));
INSERT INTO t VALUES (1, 'a', 10, 1.5, 1.25), (2, 'a', 20, 2.5, 2.50), (3, 'b', NULL, NULL, NULL), (4, 'b', 40, 4.0, 4.00), (5, NULL, 50, 5.0, 5.55);
CREATE TABLE u (id INT PRIMARY KEY, tid INT, w TEXT);
INSERT INTO u VALUES (10, 1, 'x'), (11, 1, 'y'), (12, 2, 'z'), (13, 9, 'orphan');
CREATE TABLE nk (a INT, b TEXT);
INSERT INTO nk VALUES (1, 'one'), (1, 'one'), (NULL, 'null');
`

func TestSQL(t *testing.T) {
	tests := []struct {
		sql  string
		want string // rows, one per line, values space-separated; or "ERROR <code>"
		sort bool   // compare ignoring row order
	}{
		{"SELECT 1, 'x', 2+3", "1 x 5", false},
		{"SELECT id, v FROM t WHERE v > 15 ORDER BY id", "2 20\n4 40\n5 50", false},
		{"SELECT id FROM t WHERE id = 3", "3", false},
		{"SELECT id FROM t WHERE v IS NULL", "3", false},
		{"SELECT count(*), count(v), sum(v), avg(v), min(v), max(v) FROM t", "5 4 120 30.0000000000000000 10 50", false},
		{"SELECT g, count(*), sum(v) FROM t GROUP BY g ORDER BY g", "a 2 30\nb 2 40\nNULL 1 50", false},
		{"SELECT g, count(*) FROM t GROUP BY 1 HAVING count(*) > 1 ORDER BY 1", "a 2\nb 2", false},
		{"SELECT count(*), sum(v) FROM t WHERE false", "0 NULL", false},
		{"SELECT g FROM t WHERE false GROUP BY g", "", false},
		{"SELECT sum(n), avg(f) FROM t", "13.30 3.25", false},
		{"SELECT count(DISTINCT g) FROM t", "2", false},
		{"SELECT DISTINCT g FROM t ORDER BY g NULLS FIRST", "NULL\na\nb", false},
		{"SELECT id FROM t ORDER BY v DESC LIMIT 2", "3\n5", false},
		{"SELECT id FROM t ORDER BY v DESC NULLS LAST", "5\n4\n2\n1\n3", false},
		{"SELECT id FROM t ORDER BY v DESC LIMIT 2", "3\n5", false},
		{"SELECT t.id, u.w FROM t JOIN u ON t.id = u.tid ORDER BY u.w", "1 x\n1 y\n2 z", false},
		{"SELECT t.id, u.w FROM t, u WHERE t.id = u.tid AND u.w <> 'x' ORDER BY 2", "1 y\n2 z", false},
		{"SELECT t.id, u.w FROM t LEFT JOIN u ON t.id = u.tid ORDER BY 1, 2", "1 x\n1 y\n2 z\n3 NULL\n4 NULL\n5 NULL", false},
		{"SELECT t.id, u.id FROM t RIGHT JOIN u ON t.id = u.tid ORDER BY 2", "1 10\n1 11\n2 12\nNULL 13", false},
		{"SELECT t.id, u.id FROM t FULL JOIN u ON t.id = u.tid AND u.w = 'x' ORDER BY 1, 2", "1 10\n2 NULL\n3 NULL\n4 NULL\n5 NULL\nNULL 11\nNULL 12\nNULL 13", false},
		{"SELECT count(*) FROM t CROSS JOIN u", "20", false},
		{"SELECT id FROM t WHERE id IN (1, 3, 7) ORDER BY id", "1\n3", false},
		{"SELECT id FROM t WHERE id NOT IN (1, NULL)", "", false},
		{"SELECT id FROM t WHERE v BETWEEN 15 AND 45 ORDER BY id", "2\n4", false},
		{"SELECT id FROM t WHERE g LIKE 'a%' ORDER BY id", "1\n2", false},
		{"SELECT id, CASE WHEN v < 20 THEN 'lo' WHEN v >= 20 THEN 'hi' ELSE 'none' END FROM t ORDER BY id", "1 lo\n2 hi\n3 none\n4 hi\n5 hi", false},
		{"SELECT id, COALESCE(v, -1), NULLIF(v, 10) FROM t WHERE id < 4 ORDER BY id", "1 10 NULL\n2 20 20\n3 -1 NULL", false},
		{"SELECT GREATEST(1, 5, NULL), LEAST(3, 2)", "5 2", false},
		{"SELECT NULL AND false, NULL OR true, NOT NULL::bool", "f t NULL", false},
		{"SELECT id FROM t WHERE v > (SELECT avg(v) FROM t) ORDER BY id", "4\n5", false},
		{"SELECT id FROM t WHERE id IN (SELECT tid FROM u) ORDER BY id", "1\n2", false},
		{"SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE w = 'z') AND id = 1", "1", false},
		{"SELECT (SELECT id FROM t)", "ERROR 21000", false},
		{"SELECT x.a FROM (SELECT id AS a FROM t ORDER BY id DESC LIMIT 2) x ORDER BY 1", "4\n5", false},
		{"WITH c AS (SELECT g, count(*) AS n FROM t GROUP BY g) SELECT n, count(*) FROM c GROUP BY n ORDER BY n", "1 1\n2 2", false},
		{"SELECT id FROM t WHERE id < 3 UNION ALL SELECT id FROM t WHERE id < 2 ORDER BY 1", "1\n1\n2", false},
		{"SELECT g FROM t UNION SELECT w FROM u ORDER BY 1", "a\nb\norphan\nx\ny\nz\nNULL", false},
		{"SELECT tid FROM u INTERSECT SELECT id FROM t ORDER BY 1", "1\n2", false},
		{"SELECT id FROM t EXCEPT SELECT tid FROM u ORDER BY 1", "3\n4\n5", false},
		{"SELECT a FROM nk INTERSECT ALL SELECT 1 UNION ALL SELECT 1", "1\n1", true},
		{"VALUES (1, 'a'), (2, 'b') ORDER BY 1 DESC", "2 b\n1 a", false},
		{"SELECT * FROM nk ORDER BY a", "1 one\n1 one\nNULL null", false},
		{"SELECT DISTINCT ON (g) g, id FROM t ORDER BY g, id DESC", "a 2\nb 4\nNULL 5", false},
		{"SELECT g, string_agg(id::text, ',' ORDER BY id DESC) FROM t GROUP BY g ORDER BY g", "a 2,1\nb 4,3\nNULL 5", false},
		{"SELECT count(*) FILTER (WHERE v > 15), bool_and(v > 5), bool_or(v > 45) FROM t", "3 t t", false},
		{"SELECT g AS k, count(*) FROM t GROUP BY k ORDER BY k", "a 2\nb 2\nNULL 1", false},
		{"SELECT v + 1 FROM t GROUP BY v + 1 ORDER BY 1", "11\n21\n41\n51\nNULL", false},
		{"SELECT a.id, b.id FROM t a JOIN t b USING (id) WHERE a.id = 2", "2 2", false},
		{"SELECT id, tid FROM t NATURAL JOIN u", "", false},
		{"SELECT x, y FROM (VALUES (1, 2)) AS v(x, y)", "1 2", false},
		{"SELECT nosuch FROM t", "ERROR 42703", false},
		{"SELECT * FROM nosuch", "ERROR 42P01", false},
		{"SELECT id FROM t, u", "ERROR 42702", false},
		{"SELECT g, v FROM t GROUP BY g", "ERROR 42803", false},
		{"SELECT id FROM t WHERE v", "ERROR 42804", false},
		{"SELECT id FROM t WHERE count(*) > 1", "ERROR 42803", false},
		{"SELECT id FROM t WHERE id = 'abc'", "ERROR 22P02", false},
		{"SELECT id FROM t WHERE id = '3'", "3", false},
		{"SELECT t.id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.tid = t.id) ORDER BY 1", "1\n2", false},
	}
	db := newTestDB(t)
	db.exec(schema)
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
		if tc.sort {
			g, w := strings.Split(got, "\n"), strings.Split(tc.want, "\n")
			sortStrings(g)
			sortStrings(w)
			got, tc.want = strings.Join(g, "\n"), strings.Join(w, "\n")
		}
		if got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
