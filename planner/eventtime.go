package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Event time: a relation's WATERMARK FOR column, the window table
// functions TUMBLE and HOP over it, and aggregates grouped by their
// windows, which watermarks close (executor.WindowAssign and
// executor.Aggregate's window).

// WatermarkExpr binds a relation's watermark expression (SQL text over its
// columns) as an expression over its rows, of the column's type.
func WatermarkExpr(c *Context, rel *catalog.Relation, col int, text string) (executor.Expr, error) {
	e, err := parser.ParseExpr(text)
	if err != nil {
		return nil, err
	}
	ct := rel.Columns[col].Type
	if ct.Kind != types.KindTimestamp && ct.Kind != types.KindTimestampTZ {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "watermark column \"%s\" must be a timestamp, not %s", rel.Columns[col].Name, ct)
	}
	b := newBinder(c)
	cols := make([]scopeCol, len(rel.Columns))
	for i, rc := range rel.Columns {
		cols[i] = scopeCol{table: rel.Name, name: rc.Name, typ: rc.Type, hidden: rc.Hidden}
	}
	x, err := b.bindSettled(e, newScope(cols, nil))
	if err != nil {
		return nil, err
	}
	if len(b.paramTypes) > 0 || b.subs != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a watermark expression cannot have parameters or subqueries")
	}
	if x.Type().Kind != ct.Kind {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "watermark expression must be of type %s, like column \"%s\", not %s", ct, rel.Columns[col].Name, x.Type())
	}
	return x, nil
}

// timeWindowNode appends window_start and window_end to its input's rows, one
// row per window of the time column (TUMBLE: slide == size).
type timeWindowNode struct {
	in                  node
	fn                  string
	timeCol             int
	size, slide, offset int64
}

func (n *timeWindowNode) colTypes() []types.Type {
	in := n.in.colTypes()
	t := in[n.timeCol]
	return append(append([]types.Type{}, in...), t, t)
}

func (n *timeWindowNode) desc() string {
	iv := func(us int64) string { return string(types.AppendText(nil, types.NewInterval(0, 0, us), nil)) }
	s := fmt.Sprintf("%s #%d size %s", strings.ToUpper(n.fn), n.timeCol, iv(n.size))
	if n.slide != n.size {
		s += " slide " + iv(n.slide)
	}
	if n.offset != 0 {
		s += " offset " + iv(n.offset)
	}
	return s
}

// insertsOnlyOver: a window function emits insertions for insertions.
func (n *timeWindowNode) insertsOnlyOver() node { return n.in }

func (n *timeWindowNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "%s", n.desc())
	n.in.explain(sb, depth+1)
}

func (n *timeWindowNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	op, err := executor.NewWindowAssign(len(n.in.colTypes()), n.timeCol, n.size, n.slide, n.offset, n.desc())
	if err != nil {
		return nil, err
	}
	r.g.Add(op)
	executor.Connect(in, op, 0)
	return op, nil
}

// bindWindowTVF binds TUMBLE(relation, time_col, size [, offset]) and
// HOP(relation, time_col, slide, size [, offset]) in FROM, and ksqlDB's
// WINDOW TUMBLING and HOPPING clauses (f.WindowClause: no time column
// argument).
func (b *binder) bindWindowTVF(f *ast.TableFunc, outer *scope) (node, []scopeCol, error) {
	name := strings.ToLower(f.Name)
	min, max := 3, 4
	usage := "TUMBLE(relation, time_column, size [, offset])"
	if name == "hop" {
		min, max = 4, 5
		usage = "HOP(relation, time_column, slide, size [, offset])"
	}
	// the arguments before the intervals: the relation and the time column
	fixed := 2
	if f.WindowClause {
		min, max, fixed = min-1, max-1, 1
	}
	if len(f.Args) < min || len(f.Args) > max {
		return nil, nil, sqlerr.New(sqlerr.UndefinedFunction, "%s takes %d or %d arguments, not %d", strings.ToUpper(name), min, max, len(f.Args)).WithHint("Write %s.", usage)
	}
	in, cols, alias, timeCol, err := b.bindWindowInput(f, outer, usage)
	if err != nil {
		return nil, nil, err
	}
	ivs := make([]int64, len(f.Args)-fixed)
	for i, a := range f.Args[fixed:] {
		if ivs[i], err = b.windowInterval(a, name); err != nil {
			return nil, nil, err
		}
	}
	n := &timeWindowNode{in: in, fn: name, timeCol: timeCol}
	rest := ivs[1:]
	if name == "hop" {
		n.slide, n.size, rest = ivs[0], ivs[1], ivs[2:]
		if n.size%n.slide != 0 {
			return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "the window size of HOP must be a multiple of its slide")
		}
	} else {
		n.size, n.slide = ivs[0], ivs[0]
	}
	if len(rest) > 0 {
		n.offset = rest[0]
	}
	for _, iv := range []int64{n.size, n.slide} {
		if iv <= 0 {
			return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "the window size and slide of %s must be positive", strings.ToUpper(name))
		}
	}
	if cols, err = withWindowCols(cols, timeCol, alias, f.ColAliases); err != nil {
		return nil, nil, err
	}
	return n, cols, nil
}

// bindWindowInput binds the relation a window function f reads (its first
// argument) and finds its time column: the second argument, or for ksqlDB's
// WINDOW clause the relation's WATERMARK FOR column. alias names the
// relation's columns and the window columns.
func (b *binder) bindWindowInput(f *ast.TableFunc, outer *scope, usage string) (in node, cols []scopeCol, alias string, timeCol int, err error) {
	fn := strings.ToUpper(f.Name)
	ref, ok := f.Args[0].(*ast.ColumnRef)
	if !ok {
		return nil, nil, "", 0, sqlerr.New(sqlerr.FeatureNotSupported, "the first argument of %s must name a table, source or view", fn).WithHint("Write %s.", usage)
	}
	alias = f.Alias
	if alias == "" {
		alias = ref.Name
	}
	if in, cols, err = b.bindTableExpr(&ast.TableName{Schema: ref.Table, Name: ref.Name, Alias: alias}, outer); err != nil {
		return nil, nil, "", 0, err
	}
	if f.WindowClause {
		timeCol = slices.Index(watermarked(in), true)
		if timeCol < 0 {
			return nil, nil, "", 0, sqlerr.New(sqlerr.InvalidTableDefinition, "WINDOW %s needs event time, and \"%s\" has no WATERMARK FOR column", ksqlWindowKind(f.Name), ref.Name).
				WithHint("Declare one in its definition (WATERMARK FOR ts AS ts - INTERVAL '5' SECOND), or window by a column: FROM %s.", usage)
		}
		return in, cols, alias, timeCol, nil
	}
	tc, ok := f.Args[1].(*ast.ColumnRef)
	if !ok {
		return nil, nil, "", 0, sqlerr.New(sqlerr.FeatureNotSupported, "the second argument of %s must be a time column of %s", fn, ref.Name)
	}
	if timeCol, err = newScope(cols, nil).find("", tc.Name); err != nil {
		return nil, nil, "", 0, err
	}
	if timeCol < 0 {
		return nil, nil, "", 0, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist in %s", tc.Name, ref.Name)
	}
	if k := cols[timeCol].typ.Kind; k != types.KindTimestamp && k != types.KindTimestampTZ {
		return nil, nil, "", 0, sqlerr.New(sqlerr.DatatypeMismatch, "the time column of %s must be a timestamp, not %s", fn, cols[timeCol].typ)
	}
	return in, cols, alias, timeCol, nil
}

// ksqlWindowKind is the ksqlDB name of a window function: TUMBLING for
// tumble.
func ksqlWindowKind(fn string) string {
	switch strings.ToLower(fn) {
	case "tumble":
		return "TUMBLING"
	case "hop":
		return "HOPPING"
	}
	return strings.ToUpper(fn)
}

// windowColumnAliases are ksqlDB's names of the window columns, which a
// query may use wherever no column has that name.
var windowColumnAliases = map[string]string{"windowstart": "window_start", "windowend": "window_end"}

// windowClauseGroupBy is core's GROUP BY with the window columns that
// ksqlDB's WINDOW clause implies (it makes them part of the key):
// window_start and window_end of the windowed relation, unless the query
// groups by them already.
func windowClauseGroupBy(core *ast.SelectCore) ([]ast.Expr, error) {
	var f *ast.TableFunc
	for _, t := range core.From {
		if tf, ok := t.(*ast.TableFunc); ok && tf.WindowClause {
			f = tf
		}
	}
	if f == nil {
		return core.GroupBy, nil
	}
	if len(core.GroupBy) == 0 {
		return nil, sqlerr.New(sqlerr.GroupingError, "WINDOW %s needs GROUP BY", ksqlWindowKind(f.Name)).
			WithHint("Group by the key to aggregate per window; the window columns are added to it.")
	}
	alias := f.Alias
	if ref, ok := f.Args[0].(*ast.ColumnRef); ok && alias == "" {
		alias = ref.Name
	}
	out := slices.Clone(core.GroupBy)
	for _, wc := range []string{"window_start", "window_end"} {
		grouped := slices.ContainsFunc(core.GroupBy, func(g ast.Expr) bool {
			c, ok := g.(*ast.ColumnRef)
			return ok && (c.Name == wc || windowColumnAliases[c.Name] == wc)
		})
		if !grouped {
			out = append(out, &ast.ColumnRef{Table: alias, Name: wc})
		}
	}
	return out, nil
}

// withWindowCols appends window_start and window_end, of the time
// column's type, to a window function's columns, and applies the FROM
// item's column aliases.
func withWindowCols(cols []scopeCol, timeCol int, alias string, colAliases []string) ([]scopeCol, error) {
	star := len(cols)
	for _, wc := range []string{"window_start", "window_end"} {
		cols = append(cols, scopeCol{table: alias, name: wc, typ: cols[timeCol].typ, star: star})
		star++
	}
	if err := renameCols(cols, colAliases, alias); err != nil {
		return nil, err
	}
	return cols, nil
}

// windowInterval evaluates a constant interval argument of a window
// function, in microseconds (a day is 24 hours; months have no fixed
// length and are refused).
func (b *binder) windowInterval(a ast.Expr, fn string) (int64, error) {
	x, err := b.bindSettled(a, newScope(nil, nil))
	if err != nil {
		return 0, err
	}
	if x, err = b.coerce(x, types.Interval, types.CastAssignment); err != nil {
		return 0, err
	}
	d, err := executor.NewCompiler(nil).Eval(x)
	if err != nil {
		return 0, err
	}
	if d.IsNull() {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "the intervals of %s must not be NULL", strings.ToUpper(fn))
	}
	months, days, us := d.IntervalParts()
	if months != 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "the intervals of %s cannot be in months or years", strings.ToUpper(fn)).WithHint("Months have no fixed length; use days.")
	}
	return int64(days)*86_400_000_000 + us, nil
}

// watermarked reports which output columns of n watermarks reach: a
// relation's WATERMARK FOR column, passed through filters, projections
// that copy it, and window functions (which add window_start and
// window_end; SESSION only window_end), and the window column of a
// windowed aggregate.
func watermarked(n node) []bool {
	out := make([]bool, len(n.colTypes()))
	switch n := n.(type) {
	case *scanNode:
		if wm := n.rel.Watermark; wm != nil {
			out[wm.Column] = true
		}
	case *filterNode:
		copy(out, watermarked(n.in))
	case *projectNode:
		in := watermarked(n.in)
		for j, e := range n.exprs {
			if c, ok := e.(*executor.ColRef); ok && in[c.Idx] {
				out[j] = true
			}
		}
	case *timeWindowNode:
		in := watermarked(n.in)
		copy(out, in)
		if in[n.timeCol] {
			out[len(in)], out[len(in)+1] = true, true
		}
	case *sessionNode:
		// only window_end: a session that moves re-emits rows of any age
		out[len(out)-1] = watermarked(n.in)[n.timeCol]
	case *aggNode:
		if w := n.windowKey(); w >= 0 {
			out[w] = true
		}
	case *joinNode:
		watermarkedJoin(n, out)
	}
	return out
}

// windowKey is the index in groupBy of the first group column watermarks
// reach, or -1.
func (n *aggNode) windowKey() int {
	if n.scalar {
		return -1
	}
	in := watermarked(n.in)
	for i, c := range n.groupBy {
		if in[c] {
			return i
		}
	}
	return -1
}

// emitOnWindowClose marks the aggregate that makes the result of root
// (through filters and projections) to emit each window once, when it
// closes: EMIT ON WINDOW CLOSE.
func emitOnWindowClose(root node) error {
	for {
		switch n := root.(type) {
		case *filterNode:
			root = n.in
			continue
		case *projectNode:
			root = n.in
			continue
		case *aggNode:
			if n.windowKey() < 0 {
				break
			}
			n.emitOnClose = true
			return nil
		}
		return sqlerr.New(sqlerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a query that groups by a window").
			WithHint("GROUP BY window_start or window_end of TUMBLE or HOP (window_end of SESSION) over a relation with a WATERMARK, as the last step of the query.")
	}
}
