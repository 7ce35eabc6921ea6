package planner

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// temporalDB has a table auctions (id, category) and a keyless source bids
// (auction, price): a stream.
func temporalDB(t *testing.T) *testDB {
	db := newTestDB(t)
	db.exec(`CREATE TABLE auctions (id BIGINT PRIMARY KEY, category TEXT); CREATE TABLE bids (auction BIGINT, price BIGINT);
		CREATE TABLE kbids (auction BIGINT PRIMARY KEY, price BIGINT)`)
	db.cat.rels["bids"].Kind = catalog.Source
	db.cat.rels["kbids"].Kind = catalog.Source
	return db
}

func planQuery(t *testing.T, db *testDB, sql string) (*Plan, error) {
	t.Helper()
	stmts, err := parser.Parse(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return PlanStatement(&Context{Catalog: db.cat}, stmts[0].AST)
}

func changeLines(b *executor.Batch) string {
	var lines []string
	for i, r := range b.Rows {
		var sb strings.Builder
		if b.Weights[i] > 0 {
			sb.WriteString("+")
		} else {
			sb.WriteString("-")
		}
		for _, d := range r {
			sb.WriteString(" ")
			if d.IsNull() {
				sb.WriteString("NULL")
			} else {
				sb.Write(types.AppendText(nil, d, nil))
			}
		}
		lines = append(lines, sb.String())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func rowOf(vals ...any) types.Row {
	r := make(types.Row, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case int:
			r[i] = types.NewInt64(int64(x))
		case string:
			r[i] = types.NewText(x)
		default:
			r[i] = types.Null
		}
	}
	return r
}

func TestTemporalJoinDataflow(t *testing.T) {
	ctx := context.Background()
	db := temporalDB(t)
	auctions, bids := db.cat.rels["auctions"], db.cat.rels["bids"]
	const q = `SELECT b.auction, b.price, a.category FROM bids b LEFT JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id AND a.category <> 'hidden'`
	p, err := planQuery(t, db, q)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.String(); !strings.Contains(s, "TemporalJoin Left on b.auction = a.id filter") {
		t.Fatalf("plan:\n%s", s)
	}
	newFlow := func() *Dataflow {
		d, err := p.Dataflow(ctx, &executor.Runtime{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		d.TrackState()
		return d
	}
	state := map[uint32]map[string][]byte{}
	epoch := func(d *Dataflow, tbl, stream []types.Row, tw []int64) string {
		t.Helper()
		// The stream's rows are pushed first: they still see the
		// table's changes of the same epoch.
		var sb, tb executor.Batch
		for _, r := range stream {
			sb.Append(append(r, types.NewInt64(0)), 1) // the hidden row id
		}
		for i, r := range tbl {
			tb.Append(r, tw[i])
		}
		if err := d.Push(ctx, bids.ID, &sb); err != nil {
			t.Fatal(err)
		}
		if err := d.Push(ctx, auctions.ID, &tb); err != nil {
			t.Fatal(err)
		}
		out, err := d.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = d.SaveState(func(op uint32, k, v []byte) error {
			if state[op] == nil {
				state[op] = map[string][]byte{}
			}
			if v == nil {
				delete(state[op], string(k))
			} else {
				state[op][string(k)] = slices.Clone(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return changeLines(out)
	}
	check := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	}
	d := newFlow()
	check(epoch(d, []types.Row{rowOf(1, "books"), rowOf(2, "toys")}, []types.Row{rowOf(1, 10), rowOf(3, 30)}, []int64{1, 1}),
		"+ 1 10 books\n+ 3 30 NULL")
	// A change of the table emits nothing: the bid on 1 keeps "books".
	check(epoch(d, []types.Row{rowOf(1, "books"), rowOf(1, "music"), rowOf(3, "hidden")}, nil, []int64{-1, 1, 1}), "")
	check(epoch(d, nil, []types.Row{rowOf(1, 11), rowOf(3, 31)}, nil), "+ 1 11 music\n+ 3 31 NULL")

	// A restarted dataflow restores the table side and goes on alike.
	d = newFlow()
	n := 0
	for op, m := range state {
		for k, v := range m {
			if err := d.RestoreState(op, []byte(k), v); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if err := d.FinishRestore(); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("saved %d entries, want the table's 3 rows only", n)
	}
	check(epoch(d, []types.Row{rowOf(2, "toys")}, []types.Row{rowOf(1, 12), rowOf(2, 20)}, []int64{-1}), "+ 1 12 music\n+ 2 20 NULL")
}

func TestTemporalJoinPull(t *testing.T) {
	db := temporalDB(t)
	db.cat.rels["bids"].Kind = catalog.Table // to insert into it
	db.exec(`INSERT INTO auctions VALUES (1, 'books'), (2, 'toys'); INSERT INTO bids VALUES (1, 10), (2, 20), (3, 30)`)
	db.cat.rels["bids"].Kind = catalog.Source
	_, rows, _, err := db.query(`SELECT b.price, a.category FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() AS a ON b.auction = a.id ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(rows); got != "10 books\n20 toys" {
		t.Fatalf("got %q", got)
	}
	_, rows, _, err = db.query(`SELECT price, proctime() > now() - INTERVAL '1' HOUR FROM bids LEFT JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(rows); got != "10 t\n20 t\n30 t" {
		t.Fatalf("got %q", got)
	}
	// A narrower integer key is widened to the stream's: still a key.
	db.exec(`CREATE TABLE a4 (id INT PRIMARY KEY, category TEXT); INSERT INTO a4 VALUES (2, 'toys'), (3, 'games')`)
	for _, join := range []string{"JOIN a4", "JOIN a4 FOR SYSTEM_TIME AS OF PROCTIME()"} {
		q := `SELECT price, category FROM bids ` + join + ` ON id = auction ORDER BY 1`
		p, err := planQuery(t, db, q)
		if err != nil || !strings.Contains(p.String(), "Join Inner on bids.auction = a4.id::bigint") {
			t.Fatalf("%s: %v\n%s", q, err, p)
		}
		_, rows, _, err := db.query(q)
		if got := rowsText(rows); err != nil || got != "20 toys\n30 games" {
			t.Fatalf("%s: %q %v", q, got, err)
		}
	}
}

func TestTemporalJoinRefused(t *testing.T) {
	db := temporalDB(t)
	for _, q := range []string{
		// the left side may retract
		`SELECT * FROM auctions a JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() b ON a.id = b.id`,
		`SELECT * FROM kbids JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id`,
		`SELECT * FROM (SELECT auction, count(*) FROM bids GROUP BY auction) b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id`,
		`SELECT * FROM bids LEFT JOIN auctions ON auction = id JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a2 ON auction = a2.id`,
		// no equality with a column of the table
		`SELECT * FROM bids JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction > id`,
		`SELECT * FROM bids JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id + 1`,
		`SELECT * FROM bids, auctions FOR SYSTEM_TIME AS OF PROCTIME() WHERE auction = id`,
		// the wrong side or kind
		`SELECT * FROM auctions FOR SYSTEM_TIME AS OF PROCTIME() JOIN bids ON auction = id`,
		`SELECT * FROM bids RIGHT JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id`,
		`SELECT * FROM bids FULL JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON auction = id`,
	} {
		_, err := planQuery(t, db, q)
		var e *sqlerr.Error
		if !errors.As(err, &e) || e.Code != sqlerr.FeatureNotSupported {
			t.Errorf("%s: got %v, want 0A000", q, err)
		}
	}
	// Filters, projections and inner joins of streams only insert.
	for _, q := range []string{
		`SELECT * FROM (SELECT auction * 2 AS x FROM bids WHERE price > 1) b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() ON x = id`,
		`SELECT * FROM bids b1 JOIN bids b2 ON b1.price = b2.price JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b1.auction = a.id`,
		`SELECT * FROM bids JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON auction = a.id JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a2 ON auction = a2.id`,
	} {
		if _, err := planQuery(t, db, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}
