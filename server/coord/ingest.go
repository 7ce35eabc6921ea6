package coord

import (
	"context"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// Ingest implements server.Ingester: the insert of POST /v1/ingest, which
// plans and writes like COPY FROM (planner.InsertRows: defaults, NOT NULL,
// key conflicts) and commits like any write.
func (s *session) Ingest(ctx context.Context, relation string) (server.Ingest, error) {
	if s.txState == txFailed {
		return nil, sqlerr.New(sqlerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	table := ingestTable(relation)
	all, err := planner.PlanInsertRows(&planner.Context{Catalog: s}, table, nil)
	if sqlerr.CodeOf(err) == sqlerr.UndefinedTable && strings.ToLower(table.Name) != table.Name {
		table.Name = strings.ToLower(table.Name)
		all, err = planner.PlanInsertRows(&planner.Context{Catalog: s}, table, nil)
	}
	if err != nil {
		return nil, err
	}
	rel, err := s.Relation(table.Schema, table.Name)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(rel); err != nil {
		return nil, err
	}
	in := &ingest{s: s, table: table, plans: map[string]*planner.InsertRows{}, rt: &executor.Runtime{Env: s.env()}}
	for _, i := range rel.Visible() {
		in.cols = append(in.cols, server.Column{Name: rel.Columns[i].Name, Type: rel.Columns[i].Type, TableOID: uint32(rel.ID), Attr: int16(i + 1)})
	}
	in.plans[ingestKey(in.allCols())] = all
	in.txn, in.own = s.insertTxn(in.rt)
	return in, nil
}

// ingestTable reads a relation named in a URL: "name" or "schema.name".
func ingestTable(relation string) *ast.TableName {
	if schema, name, ok := strings.Cut(relation, "."); ok {
		return &ast.TableName{Schema: schema, Name: name}
	}
	return &ast.TableName{Name: relation}
}

// ingest is a server.Ingest: rows inserted into txn, planned once per set
// of columns given.
type ingest struct {
	s     *session
	table *ast.TableName
	cols  []server.Column
	plans map[string]*planner.InsertRows // by ingestKey of the columns given
	// defaults inserts a row of defaults alone, once planned.
	defaults *planner.Plan
	rt       *executor.Runtime
	txn      *storage.Txn
	own      bool // the rows commit in a transaction of their own
}

func (in *ingest) Columns() []server.Column { return in.cols }

func (in *ingest) allCols() []int {
	all := make([]int, len(in.cols))
	for i := range all {
		all[i] = i
	}
	return all
}

func ingestKey(cols []int) string {
	b := make([]byte, 0, 2*len(cols))
	for _, c := range cols {
		b = append(b, byte(c>>8), byte(c))
	}
	return string(b)
}

func (in *ingest) Insert(ctx context.Context, cols []int, rows []types.Row) (int, error) {
	if in.txn == nil {
		return 0, sqlerr.New(sqlerr.InternalError, "insert after the ingest ended")
	}
	if len(cols) == 0 {
		return in.insertDefaults(ctx, len(rows))
	}
	key := ingestKey(cols)
	plan := in.plans[key]
	if plan == nil {
		names := make([]string, len(cols))
		for i, c := range cols {
			if c < 0 || c >= len(in.cols) {
				return 0, sqlerr.New(sqlerr.InternalError, "ingest column %d out of range", c)
			}
			names[i] = in.cols[c].Name
		}
		var err error
		if plan, err = planner.PlanInsertRows(&planner.Context{Catalog: in.s}, in.table, names); err != nil {
			return 0, err
		}
		in.plans[key] = plan
	}
	n, err := plan.Insert(ctx, in.rt, rows)
	return int(n), contextError(ctx, err)
}

// insertDefaults inserts n rows of nothing but defaults, as INSERT ...
// DEFAULT VALUES does (InsertRows takes no columns for all of them).
func (in *ingest) insertDefaults(ctx context.Context, n int) (int, error) {
	if in.defaults == nil {
		plan, err := planner.PlanStatement(&planner.Context{Catalog: in.s}, &ast.Insert{Table: in.table, DefaultValues: true})
		if err != nil {
			return 0, err
		}
		in.defaults = plan
	}
	for i := range n {
		rows, err := in.defaults.Run(ctx, in.rt)
		if err == nil {
			_, err = drain(ctx, rows)
			rows.Close()
		}
		if err != nil {
			return i, contextError(ctx, err)
		}
	}
	return n, nil
}

func (in *ingest) Commit(ctx context.Context) error {
	if !in.own || in.txn == nil {
		return nil
	}
	txn := in.txn
	in.txn = nil
	defer txn.Rollback()
	return in.s.commit(ctx, txn)
}

func (in *ingest) Close() {
	if in.own && in.txn != nil {
		in.txn.Rollback()
	}
	in.txn = nil
}

var _ server.Ingester = (*session)(nil)
