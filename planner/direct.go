package planner

import (
	"context"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// directPlan is the fast path of a query that is one scan (often a point
// lookup or key range of a pull query) under filters and projections
// only: the rows go from the store through the compiled predicates and
// projections into the result, with no operator graph, batches or
// integration. The result is the one the graph would give: every row has
// weight +1, filter and project are stateless, and the sink keeps arrival
// order.
type directPlan struct {
	scan  *scanNode
	steps []node // *filterNode or *projectNode, innermost first
	// cols are, per step, the columns a projection of columns keeps (nil
	// for other steps).
	cols [][]int
}

// newDirectPlan returns the direct plan of root, or nil when root is not a
// chain of filters and projections over one scan.
func newDirectPlan(root node) *directPlan {
	var steps []node
	for n := root; ; {
		switch x := n.(type) {
		case *filterNode:
			steps = append(steps, x)
			n = x.in
			continue
		case *projectNode:
			steps = append(steps, x)
			n = x.in
			continue
		case *scanNode:
			for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
				steps[i], steps[j] = steps[j], steps[i]
			}
			d := &directPlan{scan: x, steps: steps, cols: make([][]int, len(steps))}
			for i, n := range steps {
				if p, ok := n.(*projectNode); ok {
					d.cols[i] = p.columns()
				}
			}
			return d
		}
		return nil
	}
}

// directStep is a compiled step of a directPlan.
type directStep struct {
	pred  executor.EvalFunc   // a filter
	cols  []int               // a projection of columns
	exprs []executor.EvalFunc // a projection of expressions
}

// run returns the result rows of the direct plan.
func (d *directPlan) run(ctx context.Context, rt *executor.Runtime, comp *executor.Compiler) ([]types.Row, error) {
	if rt == nil || rt.Store == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "planner: no table store to scan %q", d.scan.rel.Name)
	}
	key, ok, err := d.scan.key(comp)
	if err != nil || !ok {
		return nil, err
	}
	steps := make([]directStep, len(d.steps))
	for i, n := range d.steps {
		switch n := n.(type) {
		case *filterNode:
			if steps[i].pred, err = comp.Compile(n.pred); err != nil {
				return nil, err
			}
		case *projectNode:
			if cols := d.cols[i]; cols != nil {
				steps[i].cols = cols
			} else if steps[i].exprs, err = comp.CompileAll(n.exprs); err != nil {
				return nil, err
			}
		}
	}
	var out []types.Row
	// add runs one stored row through the steps and keeps it if it
	// passes, copied unless owned (a row Scan lends is not; one Get
	// returns is).
	add := func(row types.Row, owned bool) error {
		for i := range steps {
			s := &steps[i]
			switch {
			case s.pred != nil:
				v, err := s.pred(row)
				if err != nil {
					return err
				}
				if v.IsNull() || !v.Bool() {
					return nil
				}
			case s.cols != nil:
				r := make(types.Row, len(s.cols))
				for j, c := range s.cols {
					r[j] = row[c]
				}
				row, owned = r, true
			default:
				r := make(types.Row, len(s.exprs))
				for j, e := range s.exprs {
					v, err := e(row)
					if err != nil {
						return err
					}
					r[j] = v
				}
				row, owned = r, true
			}
		}
		if !owned {
			row = append(types.Row(nil), row...)
		}
		out = append(out, row)
		return nil
	}
	rel := d.scan.rel
	if d.scan.pointLookup(key) {
		row, ok, err := rt.Store.Get(ctx, rel, key)
		if err != nil || !ok {
			return nil, err
		}
		return out, add(row, true)
	}
	err = rt.Store.Scan(ctx, rel, key, func(rows []types.Row) error {
		for _, r := range rows {
			if err := add(r, false); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
