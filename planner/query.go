package planner

import (
	"context"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// queryPlan is a planned query: a node tree whose first visible columns
// are the result, followed by hidden sort columns; order, limit and offset
// apply to the integrated output.
type queryPlan struct {
	root          node
	cols          []Column
	order         []executor.SortKey
	limit, offset executor.Expr
	visible       int
	// corrKeys is the number of correlation-key columns a decorrelated
	// subquery body outputs after its visible columns.
	corrKeys int
	// scalarAgg: the query is an aggregate without GROUP BY, HAVING,
	// DISTINCT ON, LIMIT or OFFSET, so it returns exactly one row (per
	// correlation key); empty is its first column's value over no rows.
	scalarAgg bool
	empty     executor.Expr
	// direct is set when the query is filters and projections over one
	// scan: it then runs without building an operator graph.
	direct *directPlan
}

func (q *queryPlan) columns() []Column { return q.cols }

// run runs the query in snapshot mode: build the graph, push the scanned
// rows in, flush once, integrate, then sort and cut.
func (q *queryPlan) run(ctx context.Context, rt *executor.Runtime, comp *executor.Compiler) ([]types.Row, error) {
	var rows []types.Row
	var err error
	if q.direct != nil {
		rows, err = q.direct.run(ctx, rt, comp)
	} else {
		rows, err = q.runGraph(ctx, rt, comp)
	}
	if err != nil {
		return nil, err
	}
	executor.SortRows(rows, q.order)
	limit, offset, err := evalLimit(comp, q.limit, q.offset)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		rows = rows[min(int64(len(rows)), offset):]
	}
	if limit >= 0 && int64(len(rows)) > limit {
		rows = rows[:limit]
	}
	if len(rows) > 0 && len(rows[0]) > q.visible {
		for i, row := range rows {
			rows[i] = row[:q.visible:q.visible]
		}
	}
	return rows, nil
}

// runGraph builds the operator graph, pushes the scanned rows in, flushes
// once and returns the integrated output.
func (q *queryPlan) runGraph(ctx context.Context, rt *executor.Runtime, comp *executor.Compiler) ([]types.Row, error) {
	r := &runState{ctx: ctx, rt: rt, comp: comp, g: &executor.Graph{}}
	top, err := q.root.build(r)
	if err != nil {
		return nil, err
	}
	sink := executor.NewIntegrate()
	executor.Connect(top, sink, 0)
	// Run once over insertions: operators take their append-only mode.
	r.g.SetAppendOnly()
	for _, f := range r.feeds {
		if f.scan != nil {
			err = f.scan.feed(r, f.to)
		} else {
			err = f.values.feed(r, f.to)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.g.Flush(ctx); err != nil {
		return nil, err
	}
	return sink.Rows(), nil
}

func (q *queryPlan) explain(sb *strings.Builder, depth int) {
	if q.limit != nil || q.offset != nil {
		s := "Limit"
		if q.limit != nil {
			s += " " + q.limit.String()
		}
		if q.offset != nil {
			s += " offset " + q.offset.String()
		}
		indent(sb, depth, "%s", s)
		depth++
	}
	if len(q.order) > 0 {
		indent(sb, depth, "Sort %s", sortKeysString(q.order))
		depth++
	}
	q.root.explain(sb, depth)
}

// asNode turns a query plan into a node usable inside another plan: a
// LIMIT/OFFSET becomes a TopN, hidden sort columns are projected away.
func (q *queryPlan) asNode() node {
	n := q.root
	if q.limit != nil || q.offset != nil {
		n = &topNNode{in: n, keys: q.order, limit: q.limit, offset: q.offset}
	}
	if w := len(n.colTypes()); w > q.visible {
		exprs := make([]executor.Expr, q.visible)
		ts := n.colTypes()
		for i := range exprs {
			exprs[i] = &executor.ColRef{Idx: i, Typ: ts[i], Name: q.cols[i].Name}
		}
		n = &projectNode{in: n, exprs: exprs}
	}
	return n
}
