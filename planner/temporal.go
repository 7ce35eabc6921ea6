package planner

import (
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
)

// A temporal join (`s JOIN t FOR SYSTEM_TIME AS OF PROCTIME() ON ...`)
// joins each change of the stream s with the rows t has when the change is
// processed, and keeps nothing of s (executor.NewTemporalJoin). A later
// change of t does not touch what was emitted, so a retraction on s could
// not be matched with what its insertion emitted: s must only insert.

// checkTemporalJoin refuses a temporal join the executor cannot run: kind
// is inner or left, the left input only inserts, and some conjunct is an
// equality of a left expression with a right column (the key the table
// side is indexed by).
func (b *binder) checkTemporalJoin(kind executor.JoinKind, left node, rkeys []executor.Expr) error {
	if kind != executor.JoinInner && kind != executor.JoinLeft {
		return sqlerr.Unsupported("FOR SYSTEM_TIME AS OF PROCTIME() is supported only in an inner or left join")
	}
	keyed := false
	for _, k := range rkeys {
		for {
			c, ok := k.(*executor.CastExpr)
			if !ok {
				break
			}
			k = c.X // an implicit cast to the left key's type
		}
		if _, ok := k.(*executor.ColRef); ok {
			keyed = true
		}
	}
	if !keyed {
		return sqlerr.Unsupported("a join with FOR SYSTEM_TIME AS OF PROCTIME() needs an equality between the left side and a column of the table in its ON condition")
	}
	ok, err := b.insertsOnly(left)
	if err != nil {
		return err
	}
	if !ok {
		return sqlerr.Unsupported("the left side of a join with FOR SYSTEM_TIME AS OF PROCTIME() must be append-only").
			WithDetail("A temporal join does not remember what it emitted for a row, so a deletion or update of the row could not retract it.").
			WithHint("Join a source without a primary key, or a stream or subquery that only filters and projects one.")
	}
	return nil
}

// insertsOnly reports whether n's changes are only insertions, whatever its
// inputs' rows: a source without a key (a stream), a table with a
// WATERMARK and, over such inputs,
// filters, projections, UNION ALL, inner, interval and temporal joins, and the
// materialized views (streams) defined by such queries.
func (b *binder) insertsOnly(n node) (bool, error) {
	switch x := n.(type) {
	case *scanNode:
		switch x.rel.Kind {
		case catalog.Source, catalog.Stream:
			return x.rel.HasRowID(), nil
		case catalog.MaterializedView:
			return b.viewInsertsOnly(x.rel)
		case catalog.Table:
			// A table with event time refuses UPDATE and DELETE.
			return x.rel.Watermark != nil, nil
		}
		return false, nil
	case *valuesNode:
		return true, nil
	case *filterNode:
		return b.insertsOnly(x.in)
	case *projectNode:
		return b.insertsOnly(x.in)
	case *unionNode:
		for _, in := range x.inputs {
			if ok, err := b.insertsOnly(in); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case *joinNode:
		switch {
		case x.temporal:
			return b.insertsOnly(x.left)
		case x.kind == executor.JoinInner || x.interval != nil:
			// (An outer interval join emits null-padded rows only when
			// they are final.)
			if ok, err := b.insertsOnly(x.left); !ok || err != nil {
				return false, err
			}
			return b.insertsOnly(x.right)
		}
	case *aggNode:
		// EMIT ON WINDOW CLOSE: each window once, final.
		return x.emitOnClose, nil
	case interface{ insertsOnlyOver() node }:
		// A node of another file that emits, for an insertion of its
		// input, only insertions.
		return b.insertsOnly(x.insertsOnlyOver())
	}
	return false, nil
}

// viewInsertsOnly binds the query of materialized view rel again, as it
// was created, and reports whether it only inserts.
func (b *binder) viewInsertsOnly(rel *catalog.Relation) (bool, error) {
	stmts, err := parser.Parse(rel.SQL)
	if err != nil || len(stmts) != 1 {
		return false, nil
	}
	var q *ast.Query
	switch s := stmts[0].AST.(type) {
	case *ast.CreateMaterializedView:
		q = s.Query
	case *ast.CreateStream:
		q = s.Query
	case *ast.CreateSink:
		q = s.Query // CREATE SINK ... AS SELECT: its view
	}
	if q == nil {
		return false, nil
	}
	vb := newBinder(&Context{Catalog: b.c.Catalog})
	qp, err := vb.bindTopQuery(q)
	if err != nil {
		// The catalog changed under the view (it cannot, while it
		// depends on its inputs): treat it as one that may retract.
		return false, nil
	}
	if q.EmitOnWindowClose && emitOnWindowClose(qp.root) != nil {
		return false, nil
	}
	return vb.insertsOnly(qp.asNode())
}

// RelationInsertsOnly reports whether rel only ever inserts rows: a
// keyless source or stream, a table with a WATERMARK, a view whose result
// only inserts (EMIT ON WINDOW CLOSE among them).
func RelationInsertsOnly(c *Context, rel *catalog.Relation) (bool, error) {
	return newBinder(c).insertsOnly(&scanNode{rel: rel})
}

// InsertsOnly reports whether the result of query plan p only ever
// inserts (a view of it then stores its rows without counting them).
func InsertsOnly(c *Context, p *Plan) (bool, error) {
	if p.kind != kindQuery {
		return false, nil
	}
	return newBinder(c).insertsOnly(p.query.asNode())
}
