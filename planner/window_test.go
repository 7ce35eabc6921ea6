package planner

import (
	"strings"
	"testing"
)

// TestWindowTopNRewrite checks which filters over a window's ranking
// function make it keep only each partition's first rows, and that the
// result is the same either way.
func TestWindowTopNRewrite(t *testing.T) {
	db := newTestDB(t)
	db.exec(schema)
	tests := []struct {
		sql, top, want string // top: the window's cut in EXPLAIN, "" for none
	}{
		{"SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY g ORDER BY v DESC, id) AS rn FROM t) x WHERE rn <= 1 ORDER BY id",
			"top row_number() <= 1", "2\n3\n5"},
		{"SELECT id, rn FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t) x WHERE 3 > rn ORDER BY id",
			"top row_number() < 3", "1 1\n2 2"},
		{"SELECT id FROM (SELECT id, rank() OVER (ORDER BY g) AS r FROM t) x WHERE r <= 1 ORDER BY id",
			"top rank() <= 1", "1\n2"},
		{"SELECT id FROM (SELECT id, dense_rank() OVER (ORDER BY g) AS r FROM t) x WHERE r <= 2 ORDER BY id",
			"top dense_rank() <= 2", "1\n2\n3\n4"},
		// rn = 2 keeps the filter
		{"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t) x WHERE rn = 2",
			"top row_number() <= 2", "2"},
		// through a projection of the subquery's subquery
		{"SELECT id FROM (SELECT * FROM (SELECT id, row_number() OVER (ORDER BY id DESC) AS rn FROM t) a) b WHERE rn <= 2 ORDER BY id",
			"top row_number() <= 2", "4\n5"},
		// a running sum in the same window is not exact over the first rows
		{"SELECT id, s FROM (SELECT id, sum(v) OVER w AS s, row_number() OVER w AS rn FROM t WINDOW w AS (ORDER BY id)) x WHERE rn <= 2 ORDER BY id",
			"", "1 10\n2 30"},
		// a lower bound is not a cut
		{"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t) x WHERE rn > 3 ORDER BY id",
			"", "4\n5"},
		// NULL bounds hold for no row
		{"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t) x WHERE rn <= NULL::int",
			"top row_number() <= NULL", ""},
	}
	for _, tc := range tests {
		_, rows, _, err := db.query(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := rowsText(rows); got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
		_, plan, _, err := db.query("EXPLAIN " + tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		text := rowsText(plan)
		if tc.top == "" && strings.Contains(text, " top ") || tc.top != "" && !strings.Contains(text, tc.top) {
			t.Errorf("%s: plan\n%s\nwant %q", tc.sql, text, tc.top)
		}
	}
}
