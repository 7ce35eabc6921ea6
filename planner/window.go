package planner

import (
	"fmt"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Window functions are bound like aggregates: a call in the select list
// or ORDER BY becomes a placeholder (winRef) while the SELECT is bound;
// after WHERE, GROUP BY and HAVING, each distinct window (PARTITION BY and
// ORDER BY) becomes a window operator (windowNode, an executor.TopN built
// by NewWindow) that appends its functions' values to the rows, and the
// placeholders become references to those columns. DISTINCT, ORDER BY and
// LIMIT then apply to the result, as in PostgreSQL.

// winCollector gathers the window function calls of one SELECT.
type winCollector struct {
	calls []*winCall
}

// frameBound is a bound of a window frame; offset, an expression without
// columns, is evaluated when the plan runs.
type frameBound struct {
	kind   ast.BoundKind
	offset executor.Expr
}

type winFrame struct {
	mode       ast.FrameMode
	start, end frameBound
}

// winCall is one bound window function call.
type winCall struct {
	kind executor.WindowKind
	agg  *aggCall // the aggregate of WinAggregate
	args []executor.Expr
	// partition, order: the window's PARTITION BY and ORDER BY
	partition []executor.Expr
	order     []orderExpr
	frame     winFrame
	typ       types.Type
	// text identifies the call (equal calls are computed once) and names
	// it in EXPLAIN.
	text string
	// col is the column of its value once the window operator is planned.
	col int
}

// winRef is the placeholder of a window function call in a bound
// expression until the window operators exist.
type winRef struct{ call *winCall }

func (w *winRef) Type() types.Type { return w.call.typ }
func (w *winRef) String() string   { return w.call.text }

var windowKinds = map[string]executor.WindowKind{
	"row_number": executor.WinRowNumber, "rank": executor.WinRank, "dense_rank": executor.WinDenseRank,
	"percent_rank": executor.WinPercentRank, "cume_dist": executor.WinCumeDist, "ntile": executor.WinNtile,
	"lag": executor.WinLag, "lead": executor.WinLead, "first_value": executor.WinFirstValue,
	"last_value": executor.WinLastValue, "nth_value": executor.WinNthValue,
}

func windowingError(format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.Code("42P20"), format, args...)
}

// bindWindowFunc binds f(...) OVER ....
func (b *binder) bindWindowFunc(n *ast.Func, sc *scope) (executor.Expr, error) {
	if b.win == nil {
		clause := b.clause
		if clause == "" {
			clause = "this context"
		}
		return nil, windowingError("window functions are not allowed in %s", clause)
	}
	if b.inAgg {
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot contain window function calls")
	}
	if b.inWin {
		return nil, windowingError("window function calls cannot be nested")
	}
	b.inWin = true
	defer func() { b.inWin = false }()
	spec, err := b.resolveWindow(n.Over)
	if err != nil {
		return nil, err
	}
	call := &winCall{}
	kind, isWindow := windowKinds[n.Name]
	switch {
	case isWindow:
		switch {
		case n.Distinct:
			return nil, sqlerr.New(sqlerr.WrongObjectType, "DISTINCT specified, but %s is not an aggregate function", n.Name)
		case len(n.OrderBy) > 0:
			return nil, sqlerr.New(sqlerr.WrongObjectType, "ORDER BY specified, but %s is not an aggregate function", n.Name)
		case n.Filter != nil:
			return nil, sqlerr.Unsupported("FILTER is not implemented for non-aggregate window functions")
		}
		call.kind = kind
		if err := b.bindWindowArgs(call, n, sc); err != nil {
			return nil, err
		}
	case isAggregate(n.Name):
		switch {
		case n.Distinct:
			return nil, sqlerr.Unsupported("DISTINCT is not implemented for window functions")
		case len(n.OrderBy) > 0:
			return nil, sqlerr.Unsupported("aggregate ORDER BY is not implemented for window functions")
		}
		agg, err := b.bindAggCall(n, sc)
		if err != nil {
			return nil, err
		}
		call.kind, call.agg, call.typ = executor.WinAggregate, agg, agg.typ
	default:
		return nil, sqlerr.New(sqlerr.WrongObjectType, "OVER specified, but %s is not a window function nor an aggregate function", n.Name)
	}
	for _, e := range spec.PartitionBy {
		x, err := b.bindSettled(e, sc)
		if err != nil {
			return nil, err
		}
		call.partition = append(call.partition, x)
	}
	for _, o := range spec.OrderBy {
		x, err := b.bindSettled(o.Expr, sc)
		if err != nil {
			return nil, err
		}
		call.order = append(call.order, orderExpr{e: x, desc: o.Desc, nullsFirst: nullsFirst(o)})
	}
	if call.frame, err = b.bindFrame(spec.Frame, len(call.order), sc); err != nil {
		return nil, err
	}
	call.text = windowText(n.Name, call)
	for _, c := range b.win.calls {
		if c.text == call.text {
			return &winRef{call: c}, nil
		}
	}
	b.win.calls = append(b.win.calls, call)
	return &winRef{call: call}, nil
}

// bindWindowArgs binds and types the arguments of a window function that
// is not an aggregate: PostgreSQL's signatures, integer offsets and
// counts, lag's and lead's default of the value's type.
func (b *binder) bindWindowArgs(call *winCall, n *ast.Func, sc *scope) error {
	args, err := b.bindExprs(n.Args, sc)
	if err != nil {
		return err
	}
	sig := func() error {
		ts := make([]string, len(args))
		for i, a := range args {
			ts[i] = a.Type().String()
		}
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", n.Name, strings.Join(ts, ", ")).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	toInt := func(i int) error {
		switch args[i].Type().Kind {
		case types.KindUnknown, types.KindInt16, types.KindInt32:
			var err error
			args[i], err = b.coerce(args[i], types.Int32, types.CastImplicit)
			return err
		}
		return sig()
	}
	value := func() error {
		var err error
		args[0], err = b.settleUnknown(args[0])
		call.typ = withoutTypmod(args[0].Type())
		return err
	}
	var ok bool
	switch call.kind {
	case executor.WinRowNumber, executor.WinRank, executor.WinDenseRank:
		ok, call.typ = len(args) == 0, types.Int64
	case executor.WinPercentRank, executor.WinCumeDist:
		ok, call.typ = len(args) == 0, types.Float64
	case executor.WinNtile:
		if ok, call.typ = len(args) == 1, types.Int32; ok {
			err = toInt(0)
		}
	case executor.WinFirstValue, executor.WinLastValue:
		if ok = len(args) == 1; ok {
			err = value()
		}
	case executor.WinNthValue:
		if ok = len(args) == 2; ok {
			if err = value(); err == nil {
				err = toInt(1)
			}
		}
	case executor.WinLag, executor.WinLead:
		if ok = len(args) >= 1 && len(args) <= 3; !ok {
			break
		}
		if len(args) == 3 {
			xs, t, uerr := b.unifyExprs([]executor.Expr{args[0], args[2]}, n.Name)
			if uerr != nil {
				return sig()
			}
			args[0], args[2] = xs[0], xs[1]
			call.typ = withoutTypmod(t)
		} else if err = value(); err != nil {
			return err
		}
		if len(args) > 1 {
			err = toInt(1)
		}
	}
	if !ok {
		return sig()
	}
	call.args = args
	return err
}

// resolveWindow returns the window an OVER clause means: its own, a named
// window of the WINDOW clause, or one built on a named window.
func (b *binder) resolveWindow(over *ast.WindowSpec) (*ast.WindowSpec, error) {
	if over.Name != "" {
		def := b.windows[over.Name]
		if def == nil {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "window \"%s\" does not exist", over.Name)
		}
		return def, nil
	}
	return b.copyWindow(over, true)
}

// copyWindow resolves spec's reference to a named window, as PostgreSQL:
// the copy takes the named window's PARTITION BY and ORDER BY, may add an
// ORDER BY and a frame, and cannot copy a frame.
func (b *binder) copyWindow(spec *ast.WindowSpec, inOver bool) (*ast.WindowSpec, error) {
	if spec.Ref == "" {
		return spec, nil
	}
	base := b.windows[spec.Ref]
	switch {
	case base == nil:
		return nil, sqlerr.New(sqlerr.UndefinedObject, "window \"%s\" does not exist", spec.Ref)
	case len(spec.PartitionBy) > 0:
		return nil, windowingError("cannot override PARTITION BY clause of window \"%s\"", spec.Ref)
	case len(spec.OrderBy) > 0 && len(base.OrderBy) > 0:
		return nil, windowingError("cannot override ORDER BY clause of window \"%s\"", spec.Ref)
	case base.Frame != nil:
		err := windowingError("cannot copy window \"%s\" because it has a frame clause", spec.Ref)
		if inOver && len(spec.OrderBy) == 0 && spec.Frame == nil {
			err = err.WithHint("Omit the parentheses in this OVER clause.")
		}
		return nil, err
	}
	out := &ast.WindowSpec{PartitionBy: base.PartitionBy, OrderBy: base.OrderBy, Frame: spec.Frame}
	if len(spec.OrderBy) > 0 {
		out.OrderBy = spec.OrderBy
	}
	return out, nil
}

// defineWindows binds the WINDOW clause: each definition may build on the
// ones before it.
func (b *binder) defineWindows(defs []*ast.WindowSpec) error {
	b.windows = nil
	for _, d := range defs {
		if b.windows[d.Name] != nil {
			return windowingError("window \"%s\" is already defined", d.Name)
		}
		w, err := b.copyWindow(d, false)
		if err != nil {
			return err
		}
		if b.windows == nil {
			b.windows = map[string]*ast.WindowSpec{}
		}
		b.windows[d.Name] = w
	}
	return nil
}

// bindFrame checks a frame as PostgreSQL's grammar and analysis do and
// binds its offsets (nil: the default frame).
func (b *binder) bindFrame(f *ast.WindowFrame, orderCols int, sc *scope) (winFrame, error) {
	if f == nil {
		return winFrame{mode: ast.FrameRange, start: frameBound{kind: ast.UnboundedPreceding}, end: frameBound{kind: ast.CurrentRow}}, nil
	}
	s, e := f.Start.Kind, f.End.Kind
	switch {
	case s == ast.UnboundedFollowing:
		return winFrame{}, windowingError("frame start cannot be UNBOUNDED FOLLOWING")
	case e == ast.UnboundedPreceding:
		return winFrame{}, windowingError("frame end cannot be UNBOUNDED PRECEDING")
	case s == ast.CurrentRow && e == ast.OffsetPreceding:
		return winFrame{}, windowingError("frame starting from current row cannot have preceding rows")
	case s == ast.OffsetFollowing && (e == ast.OffsetPreceding || e == ast.CurrentRow):
		return winFrame{}, windowingError("frame starting from following row cannot have preceding rows")
	}
	offsets := s == ast.OffsetPreceding || s == ast.OffsetFollowing || e == ast.OffsetPreceding || e == ast.OffsetFollowing
	mode := map[ast.FrameMode]string{ast.FrameRows: "ROWS", ast.FrameRange: "RANGE", ast.FrameGroups: "GROUPS"}[f.Mode]
	switch {
	case f.Mode == ast.FrameRange && offsets && orderCols != 1:
		return winFrame{}, windowingError("RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
	case f.Mode == ast.FrameRange && offsets:
		return winFrame{}, sqlerr.Unsupported("RANGE with offset PRECEDING/FOLLOWING is not supported").
			WithHint("Use ROWS or GROUPS, or RANGE with UNBOUNDED and CURRENT ROW bounds.")
	case f.Mode == ast.FrameGroups && orderCols == 0:
		return winFrame{}, windowingError("GROUPS mode requires an ORDER BY clause")
	}
	bound := func(fb ast.FrameBound) (frameBound, error) {
		out := frameBound{kind: fb.Kind}
		if fb.Offset == nil {
			return out, nil
		}
		saveAgg, saveClause := b.agg, b.clause
		b.agg, b.clause = nil, "window frame offsets"
		x, err := b.bindExpr(fb.Offset, sc)
		b.agg, b.clause = saveAgg, saveClause
		if err != nil {
			return out, err
		}
		if len(refs(x)) > 0 || countOuter(x) > 0 || hasSubRef(x) {
			return out, sqlerr.New(sqlerr.Code("42P10"), "argument of %s must not contain variables", mode)
		}
		switch x.Type().Kind {
		case types.KindInt16, types.KindInt32, types.KindInt64:
			if c, ok := x.(*executor.Const); ok && !c.Value.IsNull() {
				out.offset = &executor.Const{Value: types.NewInt64(c.Value.Int()), Typ: types.Int64}
				return out, nil
			}
			fallthrough
		case types.KindUnknown:
			out.offset, err = b.coerce(x, types.Int64, types.CastImplicit)
			return out, err
		}
		return out, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type bigint, not type %s", mode, x.Type())
	}
	start, err := bound(f.Start)
	if err != nil {
		return winFrame{}, err
	}
	end, err := bound(f.End)
	if err != nil {
		return winFrame{}, err
	}
	return winFrame{mode: f.Mode, start: start, end: end}, nil
}

func (f winFrame) String() string {
	bound := func(fb frameBound) string {
		switch fb.kind {
		case ast.UnboundedPreceding:
			return "unbounded preceding"
		case ast.OffsetPreceding:
			return fb.offset.String() + " preceding"
		case ast.CurrentRow:
			return "current row"
		case ast.OffsetFollowing:
			return fb.offset.String() + " following"
		}
		return "unbounded following"
	}
	return [...]string{"rows", "range", "groups"}[f.mode] + " between " + bound(f.start) + " and " + bound(f.end)
}

// windowText names a call with its window: equal texts compute the same
// values.
func windowText(name string, c *winCall) string {
	s := name + "(" + exprList(c.args) + ")"
	if c.agg != nil {
		s = c.agg.text
	}
	var spec []string
	if len(c.partition) > 0 {
		spec = append(spec, "PARTITION BY "+exprList(c.partition))
	}
	if len(c.order) > 0 {
		parts := make([]string, len(c.order))
		for i, o := range c.order {
			parts[i] = o.e.String()
			if o.desc {
				parts[i] += " DESC"
			}
			if o.nullsFirst != o.desc {
				parts[i] += map[bool]string{true: " NULLS FIRST", false: " NULLS LAST"}[o.nullsFirst]
			}
		}
		spec = append(spec, "ORDER BY "+strings.Join(parts, ", "))
	}
	if c.kind == executor.WinAggregate || c.kind == executor.WinFirstValue || c.kind == executor.WinLastValue || c.kind == executor.WinNthValue {
		spec = append(spec, strings.ToUpper(c.frame.String()))
	}
	return s + " OVER (" + strings.Join(spec, " ") + ")"
}

// mapWinCalls applies f to every expression of the calls.
func mapWinCalls(calls []*winCall, f func(executor.Expr) (executor.Expr, error)) error {
	var err error
	for _, c := range calls {
		if c.args, err = mapAll(c.args, f); err != nil {
			return err
		}
		if c.partition, err = mapAll(c.partition, f); err != nil {
			return err
		}
		for i := range c.order {
			if c.order[i].e, err = f(c.order[i].e); err != nil {
				return err
			}
		}
		if c.agg != nil {
			a := *c.agg
			if a.args, err = mapAll(a.args, f); err != nil {
				return err
			}
			if a.filter != nil {
				if a.filter, err = f(a.filter); err != nil {
					return err
				}
			}
			c.agg = &a
		}
	}
	return nil
}

// substWins replaces the window placeholders of e by their columns.
func substWins(e executor.Expr) (executor.Expr, error) {
	if e == nil {
		return nil, nil
	}
	return executor.Map(e, func(x executor.Expr) (executor.Expr, error) {
		if w, ok := x.(*winRef); ok {
			return &executor.ColRef{Idx: w.call.col, Typ: w.call.typ, Name: w.call.text}, nil
		}
		return x, nil
	})
}

func containsWin(e executor.Expr) bool {
	found := false
	executor.Walk(e, func(x executor.Expr) {
		if _, ok := x.(*winRef); ok {
			found = true
		}
	})
	return found
}

// planWindows puts a window operator per distinct window of calls over
// root (each over the last) and sets each call's column. corrKeys (over
// root's row) are the correlation keys of a decorrelated subquery body:
// every window is computed per key, as the subquery runs per outer row.
func planWindows(root node, calls []*winCall, corrKeys []executor.Expr) node {
	var specs []string
	bySpec := map[string][]*winCall{}
	for _, c := range calls {
		k := windowText("", &winCall{partition: c.partition, order: c.order})
		if bySpec[k] == nil {
			specs = append(specs, k)
		}
		bySpec[k] = append(bySpec[k], c)
	}
	for _, k := range specs {
		group := bySpec[k]
		in := root.colTypes()
		width := len(in)
		pre := colRefs(in, 0, width, 0)
		extra := map[string]int{}
		col := func(e executor.Expr) int {
			if c, ok := e.(*executor.ColRef); ok && c.Idx < width {
				return c.Idx
			}
			key := exprKey(e)
			if i, ok := extra[key]; ok {
				return i
			}
			pre = append(pre, e)
			extra[key] = len(pre) - 1
			return len(pre) - 1
		}
		cols := func(es []executor.Expr) []int {
			out := make([]int, len(es))
			for i, e := range es {
				out[i] = col(e)
			}
			return out
		}
		w := &windowNode{partition: cols(append(append([]executor.Expr{}, corrKeys...), group[0].partition...))}
		for _, o := range group[0].order {
			w.keys = append(w.keys, executor.SortKey{Col: col(o.e), Desc: o.desc, NullsFirst: o.nullsFirst})
		}
		for _, c := range group {
			f := executor.WindowFunc{Kind: c.kind, Args: cols(c.args), Type: c.typ}
			if a := c.agg; a != nil {
				f.Agg = executor.AggSpec{Func: a.fn, Args: cols(a.args), Filter: -1, ArgType: a.argType, Type: a.typ}
				if a.filter != nil {
					f.Agg.Filter = col(a.filter)
				}
			}
			w.funcs = append(w.funcs, f)
			w.frames = append(w.frames, c.frame)
			w.names = append(w.names, c.text)
		}
		if len(pre) > width {
			root = &projectNode{in: root, exprs: pre}
		}
		w.in = root
		for j, c := range group {
			c.col = len(pre) + j
		}
		root = w
	}
	return root
}

// ---- the plan node ----

// windowNode appends the values of window functions over one window to
// its input's rows. With a limit (set by cutWindow) it keeps only each
// partition's first rows by the ranking function the limit cuts by.
type windowNode struct {
	in        node
	partition []int
	keys      []executor.SortKey
	funcs     []executor.WindowFunc // frames' offsets are set when built
	frames    []winFrame
	names     []string
	// limit: keep the rows ranked limit or better by cut (below: ranked
	// better than limit); nil: every row.
	limit executor.Expr
	below bool
	cut   executor.TopCut
}

func (n *windowNode) colTypes() []types.Type {
	out := append([]types.Type{}, n.in.colTypes()...)
	for _, f := range n.funcs {
		out = append(out, f.Type)
	}
	return out
}

func (n *windowNode) desc() string {
	var parts []string
	if len(n.partition) > 0 {
		p := make([]string, len(n.partition))
		for i, c := range n.partition {
			p[i] = fmt.Sprintf("#%d", c)
		}
		parts = append(parts, "partition by "+strings.Join(p, ", "))
	}
	if len(n.keys) > 0 {
		parts = append(parts, "order by "+sortKeysString(n.keys))
	}
	if n.limit != nil {
		op := "<="
		if n.below {
			op = "<"
		}
		parts = append(parts, fmt.Sprintf("top %s %s %s", [...]string{"row_number()", "rank()", "dense_rank()"}[n.cut], op, n.limit))
	}
	spec := strings.Join(parts, " ")
	if spec != "" {
		spec += ": "
	}
	return spec + strings.Join(n.names, ", ")
}

func (n *windowNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "Window %s", n.desc())
	n.in.explain(sb, depth+1)
}

func (n *windowNode) build(r *runState) (executor.Operator, error) {
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	funcs := append([]executor.WindowFunc{}, n.funcs...)
	for i := range funcs {
		fr := n.frames[i]
		f := executor.WindowFrame{Mode: fr.mode}
		if f.Start, err = evalBound(r.comp, fr.start, "starting"); err != nil {
			return nil, err
		}
		if f.End, err = evalBound(r.comp, fr.end, "ending"); err != nil {
			return nil, err
		}
		funcs[i].Frame = f
	}
	limit := int64(-1)
	if n.limit != nil {
		d, err := r.comp.Eval(n.limit)
		if err != nil {
			return nil, err
		}
		limit = 0 // rn <= NULL holds for no row
		if !d.IsNull() {
			limit = max(0, d.Int())
			if n.below {
				limit = max(0, limit-1)
			}
		}
	}
	desc := n.desc()
	op, err := r.partitioned(func() (executor.Operator, error) {
		return executor.NewWindow(n.partition, n.keys, funcs, limit, n.cut, desc), nil
	})
	if err != nil {
		return nil, err
	}
	executor.Connect(in, op, 0)
	return op, nil
}

// evalBound evaluates a frame bound's offset: not NULL, not negative.
func evalBound(comp *executor.Compiler, b frameBound, which string) (executor.FrameBound, error) {
	out := executor.FrameBound{Kind: b.kind}
	if b.offset == nil {
		return out, nil
	}
	d, err := comp.Eval(b.offset)
	if err != nil {
		return out, err
	}
	if d.IsNull() {
		return out, sqlerr.New(sqlerr.Code("22004"), "frame %s offset must not be null", which)
	}
	if out.Offset = d.Int(); out.Offset < 0 {
		return out, sqlerr.New(sqlerr.Code("22013"), "frame %s offset must not be negative", which)
	}
	return out, nil
}

// cutWindow is the top-N rewrite: a conjunct rn <= N (rn < N, rn = N,
// N >= rn, ...) over the row_number(), rank() or dense_rank() of a window
// below p (through projections of columns) makes that window keep only
// each partition's first rows, so that a view of the top rows of each
// group holds and recomputes only those. It returns the conjuncts still
// to filter on (rn = N stays). The window's other functions must be exact
// over a partition's first rows.
func cutWindow(p *projectNode, conds []executor.Expr) []executor.Expr {
	// Follow the projections down to a window, mapping columns.
	var w *windowNode
	colMap := func(c int) int { return c }
	for n := node(p); w == nil; {
		switch x := n.(type) {
		case *projectNode:
			cols := x.columns()
			if cols == nil {
				return conds
			}
			prev := colMap
			colMap = func(c int) int {
				if c = prev(c); c < 0 || c >= len(cols) {
					return -1
				}
				return cols[c]
			}
			n = x.in
		case *windowNode:
			w = x
		default:
			return conds
		}
	}
	if w.limit != nil {
		return conds
	}
	for _, f := range w.funcs {
		if !f.PrefixExact() {
			return conds
		}
	}
	first := len(w.in.colTypes())
	for i, c := range conds {
		call, ok := c.(*executor.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		op := call.Name
		col, ok := call.Args[0].(*executor.ColRef)
		bound := call.Args[1]
		if !ok {
			// N >= rn is rn <= N
			if col, ok = call.Args[1].(*executor.ColRef); !ok {
				continue
			}
			bound = call.Args[0]
			op = map[string]string{">=": "<=", ">": "<", "=": "=", "<=": ">=", "<": ">"}[op]
		}
		if op != "<=" && op != "<" && op != "=" {
			continue
		}
		fi := colMap(col.Idx) - first
		if fi < 0 || fi >= len(w.funcs) || len(refs(bound)) > 0 || countOuter(bound) > 0 || hasSubRef(bound) || hasVolatile(bound) {
			continue
		}
		switch bound.Type().Kind {
		case types.KindInt16, types.KindInt32, types.KindInt64:
		default:
			continue
		}
		w.limit, w.below = bound, op == "<"
		w.cut = map[executor.WindowKind]executor.TopCut{executor.WinRowNumber: executor.CutRows,
			executor.WinRank: executor.CutRank, executor.WinDenseRank: executor.CutDenseRank}[w.funcs[fi].Kind]
		if op == "=" {
			return conds
		}
		return append(conds[:i:i], conds[i+1:]...)
	}
	return conds
}
