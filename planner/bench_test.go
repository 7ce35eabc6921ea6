package planner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/types"
)

func benchPlan(b *testing.B, db *testDB, sql string) *Plan {
	stmts, err := parser.Parse(sql)
	if err != nil {
		b.Fatal(err)
	}
	p, err := PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPointSelect: a prepared SELECT by primary key ($1), run many
// times (plan once, Run per query).
func BenchmarkPointSelect(b *testing.B) {
	db := newTestDB(b)
	db.exec(`CREATE TABLE p (id INT PRIMARY KEY, name TEXT, v INT)`)
	var sb strings.Builder
	sb.WriteString("INSERT INTO p VALUES ")
	for i := range 10000 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, 'n%d', %d)", i, i, i%100)
	}
	db.exec(sb.String())
	p := benchPlan(b, db, `SELECT id, name, v FROM p WHERE id = $1`)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		rt := &executor.Runtime{Store: db.store, Params: []types.Datum{types.NewInt32(int32(i % 10000))}}
		rows, err := p.Run(ctx, rt)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok, _ := rows.Next(ctx); !ok {
			b.Fatal("no row")
		}
		rows.Close()
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
