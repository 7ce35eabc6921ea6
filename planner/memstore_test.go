package planner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// memStore is an in-memory TableStore for tests: rows kept sorted by
// primary key, 23505 on a duplicate key.
type memStore struct {
	tables map[catalog.ID]*memTable
}

type memTable struct {
	rows  []types.Row
	rowID int64
}

func newMemStore() *memStore { return &memStore{tables: map[catalog.ID]*memTable{}} }

func (s *memStore) table(rel *catalog.Relation) *memTable {
	t := s.tables[rel.ID]
	if t == nil {
		t = &memTable{}
		s.tables[rel.ID] = t
	}
	return t
}

func cmpKey(rel *catalog.Relation, a types.Row, key []types.Datum) int {
	for i, k := range rel.PrimaryKey {
		if i >= len(key) {
			return 0
		}
		if c := types.Compare(a[k], key[i]); c != 0 {
			return c
		}
	}
	return 0
}

func keyOf(rel *catalog.Relation, r types.Row) []types.Datum {
	k := make([]types.Datum, len(rel.PrimaryKey))
	for i, c := range rel.PrimaryKey {
		k[i] = r[c]
	}
	return k
}

func (t *memTable) find(rel *catalog.Relation, key []types.Datum) (int, bool) {
	return slices.BinarySearchFunc(t.rows, key, func(r types.Row, k []types.Datum) int { return cmpKey(rel, r, k) })
}

func (s *memStore) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	t := s.table(rel)
	var out []types.Row
	for _, r := range t.rows {
		if cmpKey(rel, r, prefix) == 0 {
			out = append(out, append(types.Row(nil), r...))
		}
	}
	for len(out) > 0 {
		n := min(len(out), 100)
		if err := yield(out[:n]); err != nil {
			return err
		}
		out = out[n:]
	}
	return nil
}

func (s *memStore) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	t := s.table(rel)
	i, ok := t.find(rel, key)
	if !ok {
		return nil, false, nil
	}
	return t.rows[i], true, nil
}

func (s *memStore) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	t := s.table(rel)
	if rel.HasRowID() {
		t.rowID++
		row[rel.PrimaryKey[0]] = types.NewInt64(t.rowID)
	}
	key := keyOf(rel, row)
	i, ok := t.find(rel, key)
	if ok {
		return sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", rel.Name)
	}
	t.rows = slices.Insert(t.rows, i, append(types.Row(nil), row...))
	return nil
}

func (s *memStore) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	if err := s.Delete(ctx, rel, old); err != nil {
		return err
	}
	if err := s.Insert(ctx, rel, append(types.Row(nil), new...)); err != nil {
		return err
	}
	return nil
}

func (s *memStore) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	t := s.table(rel)
	i, ok := t.find(rel, keyOf(rel, old))
	if ok {
		t.rows = slices.Delete(t.rows, i, i+1)
	}
	return nil
}

// memCatalog is a Catalog of tables created from CREATE TABLE text.
type memCatalog struct {
	rels map[string]*catalog.Relation
	next catalog.ID
}

func (c *memCatalog) Relation(schema, name string) (*catalog.Relation, error) {
	if r := c.rels[name]; r != nil && (schema == "" || schema == "public") {
		return r, nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
}

func (c *memCatalog) create(n *ast.CreateTable) {
	c.next++
	rel := &catalog.Relation{ID: 1000 + c.next, Name: n.Name.Name, Kind: catalog.Table}
	pk := map[string]bool{}
	for _, k := range n.PrimaryKey {
		pk[k] = true
	}
	for _, col := range n.Columns {
		def := col.DefaultText
		if lit, ok := col.Default.(*ast.Literal); ok && def == "" {
			def = string(types.AppendText(nil, lit.Value, nil)) // until the parser keeps the text
		}
		rel.Columns = append(rel.Columns, catalog.Column{Name: col.Name, Type: col.Type, NotNull: col.NotNull || pk[col.Name], Default: def})
	}
	for _, k := range n.PrimaryKey {
		rel.PrimaryKey = append(rel.PrimaryKey, rel.ColumnIndex(k))
	}
	if len(rel.PrimaryKey) == 0 {
		rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, Hidden: true})
		rel.PrimaryKey = []int{len(rel.Columns) - 1}
	}
	c.rels[rel.Name] = rel
}

// testDB runs SQL text against a memStore.
type testDB struct {
	t     testing.TB
	cat   *memCatalog
	store *memStore
}

func newTestDB(t testing.TB) *testDB {
	return &testDB{t: t, cat: &memCatalog{rels: map[string]*catalog.Relation{}}, store: newMemStore()}
}

// exec runs every statement of sql; it returns the last one's columns,
// rows as text, and tag.
func (db *testDB) query(sql string, params ...types.Datum) ([]Column, [][]string, string, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, nil, "", err
	}
	var cols []Column
	var out [][]string
	var tag string
	for _, st := range stmts {
		if ct, ok := st.AST.(*ast.CreateTable); ok {
			db.cat.create(ct)
			tag = "CREATE TABLE"
			continue
		}
		p, err := PlanStatement(&Context{Catalog: db.cat}, st.AST)
		if err != nil {
			return nil, nil, "", err
		}
		rt := &executor.Runtime{Store: db.store, Params: params}
		rows, err := p.Run(context.Background(), rt)
		if err != nil {
			return nil, nil, "", err
		}
		out = nil
		for {
			r, ok, err := rows.Next(context.Background())
			if err != nil {
				return nil, nil, "", err
			}
			if !ok {
				break
			}
			line := make([]string, len(r))
			for i, d := range r {
				if d.IsNull() {
					line[i] = "NULL"
				} else {
					line[i] = string(types.AppendText(nil, d, nil))
				}
			}
			out = append(out, line)
		}
		tag = p.Tag(rows.Count())
		cols = p.Columns
		rows.Close()
	}
	return cols, out, tag, nil
}

func (db *testDB) exec(sql string) {
	db.t.Helper()
	if _, _, _, err := db.query(sql); err != nil {
		db.t.Fatalf("%s: %v", sql, err)
	}
}

func rowsText(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, " ")
	}
	return strings.Join(lines, "\n")
}
