package planner

import (
	"context"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/types"
)

// incrementalQueries are run both ways by TestIncrementalEqualsSnapshot.
var incrementalQueries = []string{
	`SELECT g, count(*), sum(v), min(v), max(v), count(DISTINCT v), avg(v) FROM r GROUP BY g`,
	`SELECT count(*), sum(v), min(v) FROM r WHERE v > 3`,
	`SELECT DISTINCT g FROM r`,
	`SELECT a.id, b.id FROM r a JOIN s b ON a.g = b.g WHERE a.v < b.w`,
	`SELECT a.id, b.w FROM r a LEFT JOIN s b ON a.g = b.g`,
	`SELECT a.id, b.w FROM r a FULL JOIN s b ON a.g = b.g AND a.v > 2`,
	`SELECT b.w, count(a.id) FROM s b LEFT JOIN r a ON a.g = b.g GROUP BY b.w`,
	`SELECT g FROM r EXCEPT SELECT g FROM s`,
	`SELECT g FROM r INTERSECT ALL SELECT g FROM s`,
	`SELECT g, v FROM r UNION SELECT g, w FROM s`,
	`SELECT x.id FROM (SELECT id FROM r ORDER BY v DESC, id LIMIT 3) x`,
	`SELECT DISTINCT ON (g) g, id FROM r ORDER BY g, v, id`,
	`SELECT g, string_agg(id::text, ',' ORDER BY id) FROM r GROUP BY g HAVING count(*) > 1`,
	`SELECT v % 3, bool_or(v > 5), count(*) FILTER (WHERE g IS NULL) FROM r GROUP BY 1`,
	// subqueries, decorrelated into joins
	`SELECT id FROM r WHERE EXISTS (SELECT 1 FROM s WHERE s.g = r.g AND s.w > 2)`,
	`SELECT id FROM r WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.g = r.g)`,
	`SELECT id FROM r WHERE v IN (SELECT w FROM s WHERE s.g = r.g)`,
	`SELECT id FROM r WHERE v NOT IN (SELECT w FROM s WHERE s.g = r.g)`,
	`SELECT id FROM r WHERE v NOT IN (SELECT w FROM s)`,
	`SELECT id FROM r WHERE v IN (SELECT w FROM s)`,
	`SELECT id FROM r WHERE v > ALL (SELECT w FROM s WHERE s.g = r.g)`,
	`SELECT id FROM r WHERE v > (SELECT max(w) FROM s)`,
	`SELECT id FROM r WHERE v > (SELECT avg(w) FROM s WHERE s.g = r.g)`,
	`SELECT id, (SELECT max(s.w) FROM s WHERE s.g = r.g), (SELECT count(*) FROM s WHERE s.g = r.g) FROM r`,
	`SELECT id, (SELECT s.w FROM s WHERE s.id = r.v) FROM r`,
	`SELECT id, EXISTS (SELECT 1 FROM s WHERE s.g = r.g) FROM r WHERE v = 1 OR EXISTS (SELECT 1 FROM s WHERE s.w = r.v)`,
	`SELECT g, count(*), (SELECT count(*) FROM s WHERE s.g = r.g) FROM r GROUP BY g`,
	`SELECT id FROM r WHERE EXISTS (SELECT 1 FROM s)`,
	// window functions; a top-N per group; a window over an aggregate
	`SELECT id, row_number() OVER (PARTITION BY g ORDER BY v, id), rank() OVER (PARTITION BY g ORDER BY v), sum(v) OVER (PARTITION BY g ORDER BY id ROWS 1 PRECEDING), lag(id) OVER (ORDER BY id) FROM r`,
	`SELECT id, g FROM (SELECT id, g, row_number() OVER (PARTITION BY g ORDER BY v DESC, id) AS rn FROM r) x WHERE rn <= 2`,
	`SELECT g, count(*), dense_rank() OVER (ORDER BY count(*)) FROM r GROUP BY g`,
	`SELECT id FROM r WHERE v IN (SELECT row_number() OVER (ORDER BY w, id) FROM s WHERE s.g = r.g)`,
	`SELECT id, (SELECT count(*) OVER () FROM s WHERE s.id = r.v) FROM r`,
}

// TestIncrementalEqualsSnapshot runs each query over random tables twice:
// as a pull query over the final contents, and incrementally, pushing the
// random inserts, updates and deletes into the same graph epoch by epoch and
// integrating its output. Both must agree, also with the live graph's
// stateful operators partitioned into shards.
func TestIncrementalEqualsSnapshot(t *testing.T) {
	for _, workers := range []int{1, 3} {
		for seed := int64(1); seed <= 8; seed++ {
			for _, q := range incrementalQueries {
				checkIncremental(t, seed, workers, q)
			}
		}
	}
}

func checkIncremental(t *testing.T, seed int64, workers int, query string) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	db := newTestDB(t)
	db.exec(`CREATE TABLE r (id INT PRIMARY KEY, g INT, v INT); CREATE TABLE s (id INT PRIMARY KEY, g INT, w INT)`)
	stmts, err := parser.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if err := p.Incremental(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	ctx := context.Background()
	rt := &executor.Runtime{Store: db.store}
	comp, err := p.compiler(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	// The live graph.
	rs := &runState{ctx: ctx, rt: &executor.Runtime{Store: db.store, Workers: workers}, comp: comp, g: &executor.Graph{}}
	top, err := p.query.root.build(rs)
	if err != nil {
		t.Fatal(err)
	}
	sink := executor.NewIntegrate()
	executor.Connect(top, sink, 0)
	for _, f := range rs.feeds {
		if f.values != nil {
			if err := f.values.feed(rs, f.to); err != nil {
				t.Fatal(err)
			}
		}
	}
	push := func(rel *catalog.Relation, b *executor.Batch) {
		for _, f := range rs.feeds {
			if f.scan != nil && f.scan.rel == rel {
				if err := f.to.Push(ctx, 0, b); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	val := func() types.Datum {
		if rng.Intn(8) == 0 {
			return types.Null
		}
		return types.NewInt32(int32(rng.Intn(8)))
	}
	for epoch := 0; epoch < 12; epoch++ {
		for _, name := range []string{"r", "s"} {
			rel := db.cat.rels[name]
			tbl := db.store.table(rel)
			var b executor.Batch
			for n := rng.Intn(6); n > 0; n-- {
				switch op := rng.Intn(4); {
				case op <= 1 || len(tbl.rows) == 0: // insert
					row := types.Row{types.NewInt32(int32(rng.Intn(40))), val(), val()}
					if _, exists := tbl.find(rel, row[:1]); exists {
						continue
					}
					if err := db.store.Insert(ctx, rel, row); err != nil {
						t.Fatal(err)
					}
					b.Append(row, 1)
				case op == 2: // delete
					old := tbl.rows[rng.Intn(len(tbl.rows))]
					if err := db.store.Delete(ctx, rel, old); err != nil {
						t.Fatal(err)
					}
					b.Append(old, -1)
				default: // update a non-key column
					old := tbl.rows[rng.Intn(len(tbl.rows))]
					nr := types.Row{old[0], val(), val()}
					if err := db.store.Update(ctx, rel, old, nr); err != nil {
						t.Fatal(err)
					}
					b.Append(old, -1)
					b.Append(nr, 1)
				}
			}
			push(rel, &b)
		}
		if err := rs.g.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		incr := sink.Rows()
		if w := p.query.visible; len(incr) > 0 && len(incr[0]) > w {
			for i := range incr {
				incr[i] = incr[i][:w]
			}
		}
		snap, err := p.query.run(ctx, rt, comp)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := canon(incr), canon(snap); a != b {
			t.Fatalf("seed %d, %d workers, epoch %d: %s\nincremental:\n%s\nsnapshot:\n%s", seed, workers, epoch, query, a, b)
		}
	}
}

func canon(rows []types.Row) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		var sb strings.Builder
		for _, d := range r {
			if d.IsNull() {
				sb.WriteString("NULL ")
			} else {
				sb.Write(types.AppendText(nil, d, nil))
				sb.WriteByte(' ')
			}
		}
		lines[i] = sb.String()
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
