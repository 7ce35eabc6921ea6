package coord

import (
	"context"
	"testing"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func startIngest(t *testing.T, s server.Session, relation string) server.Ingest {
	t.Helper()
	in, err := s.(server.Ingester).Ingest(context.Background(), relation)
	if err != nil {
		t.Fatalf("Ingest(%q): %v", relation, err)
	}
	t.Cleanup(in.Close)
	return in
}

func TestIngest(t *testing.T) {
	log := newFakeLog()
	h := fakeHarness(t, t.TempDir(), log)
	s := h.session()
	ctx := context.Background()
	mustRun(t, s, `CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL DEFAULT 'none', n NUMERIC(6,2), "Mixed" INT);
		CREATE MATERIALIZED VIEW sums AS SELECT v, count(*) AS c, sum(n) AS s FROM t GROUP BY v;
		CREATE SOURCE src (id BIGINT) WITH (connector = 'fake', topic = 't')`)

	in := startIngest(t, s, "T") // as an unquoted identifier
	var names []string
	for _, c := range in.Columns() {
		names = append(names, c.Name+" "+c.Type.String())
	}
	if got, want := names, []string{"id bigint", "v text", "n numeric(6,2)", "Mixed integer"}; len(got) != len(want) || got[0] != want[0] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("columns %q, want %q", got, want)
	}
	num := func(s string) types.Datum {
		d, err := types.ParseText(types.Type{Kind: types.KindNumeric, Precision: 6, Scale: 2}, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Columns left out get their defaults (the serial id, 'none').
	if n, err := in.Insert(ctx, []int{1, 2}, []types.Row{{types.NewText("a"), num("1.5")}, {types.NewText("a"), num("2")}}); n != 2 || err != nil {
		t.Fatalf("Insert: %d, %v", n, err)
	}
	if n, err := in.Insert(ctx, []int{2}, []types.Row{{num("10")}}); n != 1 || err != nil {
		t.Fatalf("Insert: %d, %v", n, err)
	}
	// A failing row stops the batch after the rows before it; the
	// transaction goes on.
	rows := []types.Row{{types.NewInt64(100), types.NewText("b")}, {types.NewInt64(100), types.NewText("dup")}, {types.NewInt64(101), types.NewText("b")}}
	n, err := in.Insert(ctx, []int{0, 1}, rows)
	if n != 1 || sqlerr.CodeOf(err) != sqlerr.UniqueViolation {
		t.Fatalf("duplicate key: %d, %v", n, err)
	}
	if n, err := in.Insert(ctx, []int{0, 1}, rows[n+1:]); n != 1 || err != nil {
		t.Fatalf("after the duplicate: %d, %v", n, err)
	}
	if n, err := in.Insert(ctx, []int{1}, []types.Row{{types.NullOf(types.KindText)}}); n != 0 || sqlerr.CodeOf(err) != sqlerr.NotNullViolation {
		t.Fatalf("NULL into NOT NULL: %d, %v", n, err)
	}
	if n, err := in.Insert(ctx, []int{3}, []types.Row{{types.NewInt32(7)}}); n != 1 || err != nil {
		t.Fatalf("Insert: %d, %v", n, err)
	}
	if n, err := in.Insert(ctx, nil, []types.Row{{}, {}}); n != 2 || err != nil {
		t.Fatalf("Insert of defaults alone: %d, %v", n, err)
	}
	// Nothing is visible before Commit.
	if got := mustRun(t, h.session(), "SELECT count(*) FROM t"); got != "0\nSELECT 1\n" {
		t.Fatalf("before commit: %s", got)
	}
	if err := in.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := mustRun(t, s, `SELECT id, v, n, "Mixed" FROM t ORDER BY id`), "1|a|1.50|NULL\n2|a|2.00|NULL\n3|none|10.00|NULL\n5|none|NULL|7\n6|none|NULL|NULL\n7|none|NULL|NULL\n100|b|NULL|NULL\n101|b|NULL|NULL\nSELECT 8\n"; got != want {
		t.Errorf("rows:\n%s want\n%s", got, want)
	}
	if got, want := mustRun(t, s, "SELECT * FROM sums ORDER BY v"), "a|2|3.50\nb|2|NULL\nnone|4|10.00\nSELECT 3\n"; got != want {
		t.Errorf("view:\n%s want\n%s", got, want)
	}

	// Closed without Commit: nothing.
	in = startIngest(t, s, "public.t")
	if n, err := in.Insert(ctx, []int{1}, []types.Row{{types.NewText("gone")}}); n != 1 || err != nil {
		t.Fatalf("Insert: %d, %v", n, err)
	}
	in.Close()
	// In a transaction block, the block's COMMIT or ROLLBACK decides.
	mustRun(t, s, "BEGIN")
	in = startIngest(t, s, "t")
	if n, err := in.Insert(ctx, []int{1}, []types.Row{{types.NewText("rolled back")}}); n != 1 || err != nil {
		t.Fatalf("Insert: %d, %v", n, err)
	}
	if err := in.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	in.Close()
	if got := mustRun(t, s, "SELECT count(*) FROM t WHERE v = 'rolled back'"); got != "1\nSELECT 1\n" {
		t.Errorf("in the block: %s", got)
	}
	mustRun(t, s, "ROLLBACK")
	if got := mustRun(t, s, "SELECT count(*) FROM t"); got != "8\nSELECT 1\n" {
		t.Errorf("after close and rollback: %s", got)
	}

	// Relations that cannot be written fail as INSERT does.
	for _, c := range []struct {
		relation string
		code     sqlerr.Code
	}{
		{"sums", sqlerr.WrongObjectType},
		{"src", sqlerr.WrongObjectType},
		{"nope", sqlerr.UndefinedTable},
		{"other.t", sqlerr.UndefinedTable},
		{"pg_catalog.pg_class", sqlerr.InsufficientPrivilege},
	} {
		_, err := s.(server.Ingester).Ingest(ctx, c.relation)
		insertErr := sqlerr.CodeOf(func() error { _, err := run(t, s, "INSERT INTO "+c.relation+" VALUES (1)"); return err }())
		if sqlerr.CodeOf(err) != c.code || insertErr != c.code {
			t.Errorf("Ingest(%q) = %v; INSERT: %s; want %s", c.relation, err, insertErr, c.code)
		}
	}
}
