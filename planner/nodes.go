package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// node is a relational plan node. Its output is a relation (a changelog)
// with the column types colTypes.
type node interface {
	colTypes() []types.Type
	// explain writes the node and its children, one per line.
	explain(sb *strings.Builder, depth int)
	// build adds the node's operators to the run's graph and returns the
	// operator whose output is the node's output.
	build(r *runState) (executor.Operator, error)
}

// runState is one run of a query plan.
type runState struct {
	ctx   context.Context
	rt    *executor.Runtime
	comp  *executor.Compiler
	g     *executor.Graph
	feeds []feed
	// live: the graph is a Dataflow, kept and given watermarks, not run
	// once.
	live bool
}

// partitioned adds to the graph the stateful operator newOp builds,
// partitioned by key across the run's workers (executor.Partition calls
// newOp once per shard).
func (r *runState) partitioned(newOp func() (executor.Operator, error)) (executor.Operator, error) {
	workers := 1
	if r.rt != nil {
		workers = r.rt.Workers
	}
	op, err := executor.Partition(workers, newOp)
	if err != nil {
		return nil, err
	}
	return r.g.Add(op), nil
}

// feed is an input of the graph: a base-table scan or a VALUES list pushed
// into an operator as insertions.
type feed struct {
	scan   *scanNode
	values *valuesNode
	to     executor.Operator
}

func indent(sb *strings.Builder, depth int, format string, args ...any) {
	sb.WriteString(strings.Repeat("  ", depth))
	if depth > 0 {
		sb.WriteString("-> ")
	}
	fmt.Fprintf(sb, format, args...)
	sb.WriteByte('\n')
}

// ---- scan ----

// scanNode reads a base table: every column, hidden ones included, in
// column order. With a key prefix it reads only the rows whose primary key
// starts with those values (a point lookup when the whole key is given).
type scanNode struct {
	rel    *catalog.Relation
	alias  string
	prefix []executor.Expr // values of the first len(prefix) key columns
}

func (n *scanNode) colTypes() []types.Type {
	out := make([]types.Type, len(n.rel.Columns))
	for i, c := range n.rel.Columns {
		out[i] = c.Type
	}
	return out
}

func (n *scanNode) explain(sb *strings.Builder, depth int) {
	name := n.rel.Name
	if n.alias != "" && n.alias != n.rel.Name {
		name += " " + n.alias
	}
	if len(n.prefix) == 0 {
		indent(sb, depth, "Scan %s", name)
		return
	}
	parts := make([]string, len(n.prefix))
	for i, e := range n.prefix {
		parts[i] = n.rel.Columns[n.rel.PrimaryKey[i]].Name + " = " + e.String()
	}
	kind := "Key Range Scan"
	if len(n.prefix) == len(n.rel.PrimaryKey) {
		kind = "Point Lookup"
	}
	indent(sb, depth, "%s %s (%s)", kind, name, strings.Join(parts, ", "))
}

func (n *scanNode) build(r *runState) (executor.Operator, error) {
	op := r.g.Add(executor.NewInput())
	r.feeds = append(r.feeds, feed{scan: n, to: op})
	return op, nil
}

// ones is a shared slice of +1 weights.
var ones = func() []int64 {
	w := make([]int64, executor.BatchSize)
	for i := range w {
		w[i] = 1
	}
	return w
}()

func insertBatch(rows []types.Row) *executor.Batch {
	b := &executor.Batch{Rows: rows}
	if len(rows) <= len(ones) {
		b.Weights = ones[:len(rows):len(rows)]
	} else {
		b.Weights = make([]int64, len(rows))
		for i := range b.Weights {
			b.Weights[i] = 1
		}
	}
	return b
}

// copyRows copies rows the store lends into one allocation.
func copyRows(rows []types.Row) []types.Row {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	slab := make([]types.Datum, n)
	out := make([]types.Row, len(rows))
	for i, r := range rows {
		c := slab[:len(r):len(r)]
		copy(c, r)
		slab = slab[len(r):]
		out[i] = c
	}
	return out
}

// key evaluates the scan's key prefix; ok is false when a key value is
// NULL, which matches nothing.
func (n *scanNode) key(comp *executor.Compiler) (key []types.Datum, ok bool, err error) {
	if len(n.prefix) > 0 {
		key = make([]types.Datum, 0, len(n.prefix))
	}
	for i, e := range n.prefix {
		d, err := comp.Eval(e)
		if err != nil {
			return nil, false, err
		}
		if d.IsNull() {
			return nil, false, nil
		}
		kt := n.rel.Columns[n.rel.PrimaryKey[i]].Type
		if d.Kind() != kt.Kind {
			if d, err = types.Cast(d, kt, types.CastImplicit, comp.Env.Location); err != nil {
				return nil, false, err
			}
		}
		key = append(key, d)
	}
	return key, true, nil
}

// pointLookup reports whether key, the scan's evaluated prefix, names at
// most one row, to be read with Get: a whole key of a table or of a unique
// view (a row of a view that is not Unique may occur several times).
func (n *scanNode) pointLookup(key []types.Datum) bool {
	return len(key) > 0 && len(key) == len(n.rel.PrimaryKey) && (n.rel.Kind == catalog.Table || n.rel.Kind == catalog.Source || n.rel.Unique)
}

func (n *scanNode) feed(r *runState, to executor.Operator) error {
	if r.rt == nil || r.rt.Store == nil {
		return sqlerr.New(sqlerr.InternalError, "planner: no table store to scan %q", n.rel.Name)
	}
	key, ok, err := n.key(r.comp)
	if err != nil || !ok {
		return err
	}
	if n.pointLookup(key) {
		row, ok, err := r.rt.Store.Get(r.ctx, n.rel, key)
		if err != nil || !ok {
			return err
		}
		return to.Push(r.ctx, 0, insertBatch(copyRows([]types.Row{row})))
	}
	return r.rt.Store.Scan(r.ctx, n.rel, key, func(rows []types.Row) error {
		for len(rows) > 0 {
			k := min(len(rows), executor.BatchSize)
			if err := to.Push(r.ctx, 0, insertBatch(copyRows(rows[:k]))); err != nil {
				return err
			}
			rows = rows[k:]
		}
		return r.ctx.Err()
	})
}

// ---- values ----

// valuesNode is a constant relation (VALUES, or the one empty row of a
// SELECT without FROM).
type valuesNode struct {
	rows  [][]executor.Expr
	types []types.Type
}

func (n *valuesNode) colTypes() []types.Type { return n.types }

func (n *valuesNode) explain(sb *strings.Builder, depth int) {
	if len(n.types) == 0 {
		indent(sb, depth, "Result")
		return
	}
	indent(sb, depth, "Values (%d rows)", len(n.rows))
}

func (n *valuesNode) build(r *runState) (executor.Operator, error) {
	op := r.g.Add(executor.NewUnion())
	r.feeds = append(r.feeds, feed{values: n, to: op})
	return op, nil
}

func (n *valuesNode) feed(r *runState, to executor.Operator) error {
	rows := make([]types.Row, len(n.rows))
	for i, exprs := range n.rows {
		row := make(types.Row, len(exprs))
		for j, e := range exprs {
			f, err := r.comp.Compile(e)
			if err != nil {
				return err
			}
			if row[j], err = f(nil); err != nil {
				return err
			}
		}
		rows[i] = row
	}
	for len(rows) > 0 {
		k := min(len(rows), executor.BatchSize)
		if err := to.Push(r.ctx, 0, insertBatch(rows[:k])); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

// ---- filter ----

type filterNode struct {
	in   node
	pred executor.Expr
}

func (n *filterNode) colTypes() []types.Type { return n.in.colTypes() }

func (n *filterNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "Filter %s", n.pred)
	n.in.explain(sb, depth+1)
}

func (n *filterNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	f, err := r.comp.Compile(n.pred)
	if err != nil {
		return nil, err
	}
	op := r.g.Add(executor.NewFilter(f, n.pred.String()))
	executor.Connect(in, op, 0)
	return op, nil
}

// ---- project ----

type projectNode struct {
	in    node
	exprs []executor.Expr
}

func (n *projectNode) colTypes() []types.Type {
	out := make([]types.Type, len(n.exprs))
	for i, e := range n.exprs {
		out[i] = e.Type()
	}
	return out
}

func (n *projectNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "Project %s", exprList(n.exprs))
	n.in.explain(sb, depth+1)
}

func exprList(es []executor.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// columns returns the input columns the projection picks, or nil when an
// expression is more than a column reference.
func (n *projectNode) columns() []int {
	cols := make([]int, len(n.exprs))
	for i, e := range n.exprs {
		c, ok := e.(*executor.ColRef)
		if !ok {
			return nil
		}
		cols[i] = c.Idx
	}
	return cols
}

func (n *projectNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	var op executor.Operator
	if cols := n.columns(); cols != nil {
		op = executor.NewColumnProject(cols, exprList(n.exprs))
	} else {
		fs, err := r.comp.CompileAll(n.exprs)
		if err != nil {
			return nil, err
		}
		p := executor.NewProject(fs, exprList(n.exprs))
		pass := make([]int, len(n.exprs))
		for i, e := range n.exprs {
			pass[i] = -1
			if c, ok := e.(*executor.ColRef); ok {
				pass[i] = c.Idx
			}
		}
		p.SetPassThrough(pass)
		op = p
	}
	r.g.Add(op)
	executor.Connect(in, op, 0)
	return op, nil
}

// ---- join ----

// joinNode joins left and right; lkeys/rkeys are equi-join keys over each
// side's columns; residual is over the concatenated row. Semi and anti
// joins output the left columns only.
type joinNode struct {
	kind        executor.JoinKind
	left, right node
	lkeys       []executor.Expr
	rkeys       []executor.Expr
	residual    executor.Expr
	// temporal: the right side is FOR SYSTEM_TIME AS OF PROCTIME() (see
	// temporal.go).
	temporal bool
	// interval: the bounds of an interval join (see intervaljoin.go).
	interval *intervalJoin
}

func (n *joinNode) colTypes() []types.Type {
	if n.kind == executor.JoinSemi || n.kind == executor.JoinAnti {
		return n.left.colTypes()
	}
	return append(append([]types.Type{}, n.left.colTypes()...), n.right.colTypes()...)
}

func (n *joinNode) desc() string {
	var parts []string
	for i := range n.lkeys {
		parts = append(parts, n.lkeys[i].String()+" = "+n.rkeys[i].String())
	}
	s := ""
	if len(parts) > 0 {
		s = "on " + strings.Join(parts, " AND ")
	}
	if n.residual != nil {
		if s != "" {
			s += " "
		}
		s += "filter " + n.residual.String()
	}
	if n.interval != nil {
		s += " " + n.intervalDesc()
	}
	return s
}

func (n *joinNode) explain(sb *strings.Builder, depth int) {
	name := "HashJoin"
	switch {
	case n.temporal:
		name = "TemporalJoin"
	case len(n.lkeys) == 0:
		name = "NestedLoopJoin"
	}
	indent(sb, depth, "%s %s %s", name, n.kind, n.desc())
	n.left.explain(sb, depth+1)
	n.right.explain(sb, depth+1)
}

func (n *joinNode) build(r *runState) (executor.Operator, error) {
	l, err := n.left.build(r)
	if err != nil {
		return nil, err
	}
	rt, err := n.right.build(r)
	if err != nil {
		return nil, err
	}
	// Each shard compiles its own expressions: they keep scratch space.
	op, err := r.partitioned(func() (executor.Operator, error) {
		lk, err := r.comp.CompileAll(n.lkeys)
		if err != nil {
			return nil, err
		}
		rk, err := r.comp.CompileAll(n.rkeys)
		if err != nil {
			return nil, err
		}
		var res executor.EvalFunc
		if n.residual != nil {
			if res, err = r.comp.Compile(n.residual); err != nil {
				return nil, err
			}
		}
		if n.temporal {
			return executor.NewTemporalJoin(n.kind, lk, rk, len(n.left.colTypes()), len(n.right.colTypes()), res, n.desc()), nil
		}
		j := executor.NewHashJoin(n.kind, lk, rk, len(n.left.colTypes()), len(n.right.colTypes()), res, n.desc())
		if n.interval != nil && (n.kind == executor.JoinInner || r.live) {
			j.SetInterval(n.interval.Interval)
		}
		return j, nil
	})
	if err != nil {
		return nil, err
	}
	executor.Connect(l, op, 0)
	executor.Connect(rt, op, 1)
	return op, nil
}

// ---- aggregate ----

type aggNode struct {
	in      node
	groupBy []int
	specs   []executor.AggSpec
	scalar  bool
	// names are the aggregates as written, for EXPLAIN.
	names []string
	// emitOnClose: EMIT ON WINDOW CLOSE (see emitOnWindowClose).
	emitOnClose bool
}

func (n *aggNode) colTypes() []types.Type {
	in := n.in.colTypes()
	var out []types.Type
	for _, g := range n.groupBy {
		out = append(out, in[g])
	}
	for _, s := range n.specs {
		out = append(out, s.Type)
	}
	return out
}

func (n *aggNode) explain(sb *strings.Builder, depth int) {
	var g []string
	for _, c := range n.groupBy {
		g = append(g, fmt.Sprintf("#%d", c))
	}
	s := "Aggregate"
	if len(g) > 0 {
		s += " group by " + strings.Join(g, ", ")
	}
	if len(n.names) > 0 {
		s += ": " + strings.Join(n.names, ", ")
	}
	if w := n.windowKey(); w >= 0 {
		s += fmt.Sprintf(" (window #%d closed by watermark", n.groupBy[w])
		if n.emitOnClose {
			s += ", emit on close"
		}
		s += ")"
	}
	indent(sb, depth, "%s", s)
	n.in.explain(sb, depth+1)
}

func (n *aggNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	window := n.windowKey()
	op, err := r.partitioned(func() (executor.Operator, error) {
		a := executor.NewAggregate(n.groupBy, n.specs, n.scalar)
		if window >= 0 {
			a.SetWindow(window, n.emitOnClose)
		}
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	executor.Connect(in, op, 0)
	return op, nil
}

// ---- distinct ----

type distinctNode struct{ in node }

func (n *distinctNode) colTypes() []types.Type { return n.in.colTypes() }

func (n *distinctNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "Distinct")
	n.in.explain(sb, depth+1)
}

func (n *distinctNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	op, err := r.partitioned(func() (executor.Operator, error) { return executor.NewDistinct(), nil })
	if err != nil {
		return nil, err
	}
	executor.Connect(in, op, 0)
	return op, nil
}

// ---- top-N ----

// topNNode keeps the rows ranked offset+1..offset+limit by keys within
// each partition (limit nil: all).
type topNNode struct {
	in            node
	partition     []int
	keys          []executor.SortKey
	limit, offset executor.Expr
}

func (n *topNNode) colTypes() []types.Type { return n.in.colTypes() }

func sortKeysString(keys []executor.SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		s := fmt.Sprintf("#%d", k.Col)
		if k.Desc {
			s += " DESC"
		}
		if k.NullsFirst != k.Desc {
			if k.NullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

func (n *topNNode) desc() string {
	s := ""
	if len(n.partition) > 0 {
		var p []string
		for _, c := range n.partition {
			p = append(p, fmt.Sprintf("#%d", c))
		}
		s += "partition by " + strings.Join(p, ", ") + " "
	}
	s += "order by " + sortKeysString(n.keys)
	if n.limit != nil {
		s += " limit " + n.limit.String()
	}
	if n.offset != nil {
		s += " offset " + n.offset.String()
	}
	return s
}

func (n *topNNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "TopN %s", n.desc())
	n.in.explain(sb, depth+1)
}

func (n *topNNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	limit, offset, err := evalLimit(r.comp, n.limit, n.offset)
	if err != nil {
		return nil, err
	}
	op, err := r.partitioned(func() (executor.Operator, error) {
		return executor.NewTopN(n.partition, n.keys, offset, limit, n.desc()), nil
	})
	if err != nil {
		return nil, err
	}
	executor.Connect(in, op, 0)
	return op, nil
}

// evalLimit evaluates LIMIT and OFFSET (limit -1: none).
func evalLimit(comp *executor.Compiler, limit, offset executor.Expr) (int64, int64, error) {
	l, o := int64(-1), int64(0)
	if limit != nil {
		d, err := comp.Eval(limit)
		if err != nil {
			return 0, 0, err
		}
		if !d.IsNull() {
			if l = d.Int(); l < 0 {
				return 0, 0, sqlerr.New(sqlerr.Code("2201W"), "LIMIT must not be negative")
			}
		}
	}
	if offset != nil {
		d, err := comp.Eval(offset)
		if err != nil {
			return 0, 0, err
		}
		if !d.IsNull() {
			if o = d.Int(); o < 0 {
				return 0, 0, sqlerr.New(sqlerr.Code("2201X"), "OFFSET must not be negative")
			}
		}
	}
	return l, o, nil
}

// ---- set operations ----

// unionNode is UNION ALL of its inputs (same column types).
type unionNode struct{ inputs []node }

func (n *unionNode) colTypes() []types.Type { return n.inputs[0].colTypes() }

func (n *unionNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "Union All")
	for _, in := range n.inputs {
		in.explain(sb, depth+1)
	}
}

func (n *unionNode) build(r *runState) (executor.Operator, error) {
	op := executor.NewUnion()
	var ins []executor.Operator
	for _, in := range n.inputs {
		o, err := in.build(r)
		if err != nil {
			return nil, err
		}
		ins = append(ins, o)
	}
	r.g.Add(op)
	for _, o := range ins {
		executor.Connect(o, op, 0)
	}
	return op, nil
}

type setOpNode struct {
	kind        executor.SetOpKind
	all         bool
	left, right node
}

func (n *setOpNode) colTypes() []types.Type { return n.left.colTypes() }

func (n *setOpNode) explain(sb *strings.Builder, depth int) {
	name := "Intersect"
	if n.kind == executor.SetExcept {
		name = "Except"
	}
	if n.all {
		name += " All"
	}
	indent(sb, depth, "%s", name)
	n.left.explain(sb, depth+1)
	n.right.explain(sb, depth+1)
}

func (n *setOpNode) build(r *runState) (executor.Operator, error) {
	l, err := n.left.build(r)
	if err != nil {
		return nil, err
	}
	rt, err := n.right.build(r)
	if err != nil {
		return nil, err
	}
	op, err := r.partitioned(func() (executor.Operator, error) { return executor.NewSetOp(n.kind, n.all), nil })
	if err != nil {
		return nil, err
	}
	executor.Connect(l, op, 0)
	executor.Connect(rt, op, 1)
	return op, nil
}
