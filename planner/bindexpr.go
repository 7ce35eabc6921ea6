package planner

import (
	"slices"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// binder binds one statement. It is used once and not concurrently.
type binder struct {
	c          *Context
	paramTypes []types.Type
	params     []*executor.ParamRef
	subs       []*queryPlan
	ctes       []map[string]*ast.CTE
	// agg collects the aggregate calls of the SELECT being bound; nil where
	// aggregates are not allowed (clause names the place for the error).
	agg    *aggCollector
	clause string
	inAgg  bool
	// win collects the window function calls of the SELECT being bound;
	// nil where they are not allowed. inWin: binding a window call's
	// arguments or window. windows are the SELECT's named windows.
	win     *winCollector
	inWin   bool
	windows map[string]*ast.WindowSpec
	// corr is the correlation context of the subquery body being bound;
	// apply collects the subqueries of the SELECT being bound.
	corr  *corrCtx
	apply *applyCtx
	nsub  int
	// subClauses names, per run-once subquery, where it is used.
	subClauses []string
}

func newBinder(c *Context) *binder {
	b := &binder{c: c}
	b.paramTypes = append([]types.Type(nil), c.ParamTypes...)
	return b
}

// finishParams gives every parameter whose type was not inferred the type
// text, and settles the type of every parameter reference.
func (b *binder) finishParams() {
	for i, t := range b.paramTypes {
		if t.Kind == types.KindUnknown {
			b.paramTypes[i] = types.Text
		}
	}
	for _, p := range b.params {
		p.Typ = b.paramTypes[p.N]
	}
}

// aggCollector gathers the aggregate calls of one SELECT.
type aggCollector struct {
	calls []*aggCall
}

type orderExpr struct {
	e          executor.Expr
	desc       bool
	nullsFirst bool
}

// aggCall is one bound aggregate call; aggRef refers to it until the
// aggregate node exists.
type aggCall struct {
	fn       executor.AggFunc
	args     []executor.Expr
	distinct bool
	filter   executor.Expr
	order    []orderExpr
	argType  types.Type
	typ      types.Type
	text     string
}

type aggRef struct {
	idx  int
	call *aggCall
}

func (a *aggRef) Type() types.Type { return a.call.typ }
func (a *aggRef) String() string   { return a.call.text }

func isAggregate(name string) bool {
	switch name {
	case "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg":
		return true
	}
	return false
}

func (b *binder) bindExprs(es []ast.Expr, sc *scope) ([]executor.Expr, error) {
	out := make([]executor.Expr, len(es))
	for i, e := range es {
		x, err := b.bindExpr(e, sc)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func literalType(d types.Datum) types.Type {
	switch d.Kind() {
	case types.KindUnknown:
		return types.Unknown
	case types.KindText:
		return types.Text
	}
	return types.Type{Kind: d.Kind()}
}

// bindExpr binds e against sc.
func (b *binder) bindExpr(e ast.Expr, sc *scope) (executor.Expr, error) {
	switch n := e.(type) {
	case *ast.ColumnRef:
		idx, depth, col, err := sc.resolve(n.Table, n.Name)
		if err != nil {
			if se, ok := err.(*sqlerr.Error); ok && n.Pos > 0 {
				return nil, se.WithPosition(n.Pos)
			}
			return nil, err
		}
		name := col.name
		if col.table != "" {
			name = col.table + "." + col.name
		}
		if depth > 0 {
			fs := sc
			for range depth {
				fs = fs.outer
			}
			return b.bindOuterRef(fs, idx, col, name)
		}
		return &executor.ColRef{Idx: idx, Typ: col.typ, Name: name}, nil
	case *ast.Literal:
		return &executor.Const{Value: n.Value, Typ: literalType(n.Value)}, nil
	case *ast.Param:
		if n.N < 1 {
			return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", n.N)
		}
		for len(b.paramTypes) < n.N {
			b.paramTypes = append(b.paramTypes, types.Unknown)
		}
		p := &executor.ParamRef{N: n.N - 1, Typ: b.paramTypes[n.N-1]}
		b.params = append(b.params, p)
		return p, nil
	case *ast.Unary:
		return b.bindUnary(n, sc)
	case *ast.Binary:
		if x, ok, err := expandRowCompare(n); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return b.bindExpr(x, sc)
		}
		return b.bindBinary(n, sc)
	case *ast.Like:
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		p, err := b.bindExpr(n.Pattern, sc)
		if err != nil {
			return nil, err
		}
		if n.Escape != nil {
			// x LIKE p ESCAPE e is x ~~ like_escape(p, e), as in
			// PostgreSQL; with constant p and e it folds at compile time
			// and the pattern is compiled once.
			esc, err := b.bindExpr(n.Escape, sc)
			if err != nil {
				return nil, err
			}
			if p, err = b.settleUnknown(p); err != nil {
				return nil, err
			}
			if esc, err = b.settleUnknown(esc); err != nil {
				return nil, err
			}
			if p, err = b.call("like_escape", []executor.Expr{p, esc}); err != nil {
				return nil, err
			}
		}
		op := "~~"
		if n.CaseInsensitive {
			op = "~~*"
		}
		if n.Not {
			if r, err := b.call("!"+op, []executor.Expr{x, p}); err == nil {
				return r, nil
			}
		}
		r, err := b.call(op, []executor.Expr{x, p})
		if err != nil {
			return nil, err
		}
		if n.Not {
			return &executor.Not{X: r}, nil
		}
		return r, nil
	case *ast.IsNull:
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		if x, err = b.settleUnknown(x); err != nil {
			return nil, err
		}
		return &executor.IsNullExpr{X: x, Not: n.Not}, nil
	case *ast.IsBool:
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		if x, err = b.coerceBool(x, "IS TRUE"); err != nil {
			return nil, err
		}
		return &executor.IsBoolExpr{X: x, Not: n.Not, Value: n.Value}, nil
	case *ast.IsDistinct:
		l, err := b.bindExpr(n.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(n.R, sc)
		if err != nil {
			return nil, err
		}
		eq, err := b.call("=", []executor.Expr{l, r})
		if err != nil {
			return nil, err
		}
		c := eq.(*executor.Call)
		return &executor.IsDistinctExpr{L: c.Args[0], R: c.Args[1], Eq: c.Eval, Not: n.Not}, nil
	case *ast.Between:
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		lo, err := b.bindExpr(n.Lo, sc)
		if err != nil {
			return nil, err
		}
		hi, err := b.bindExpr(n.Hi, sc)
		if err != nil {
			return nil, err
		}
		between := func(lo, hi executor.Expr) (executor.Expr, error) {
			ge, err := b.call(">=", []executor.Expr{x, lo})
			if err != nil {
				return nil, err
			}
			le, err := b.call("<=", []executor.Expr{x, hi})
			if err != nil {
				return nil, err
			}
			return &executor.BoolOp{Args: []executor.Expr{ge, le}}, nil
		}
		r, err := between(lo, hi)
		if err != nil {
			return nil, err
		}
		if n.Symmetric {
			r2, err := between(hi, lo)
			if err != nil {
				return nil, err
			}
			r = &executor.BoolOp{Or: true, Args: []executor.Expr{r, r2}}
		}
		if n.Not {
			return &executor.Not{X: r}, nil
		}
		return r, nil
	case *ast.InList:
		if x, ok, err := expandRowCompare(n); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return b.bindExpr(x, sc)
		}
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		list, err := b.bindExprs(n.List, sc)
		if err != nil {
			return nil, err
		}
		ts := []types.Type{x.Type()}
		for _, it := range list {
			ts = append(ts, it.Type())
		}
		t, err := commonType(ts, "IN")
		if err != nil {
			return nil, err
		}
		if x, err = b.coerce(x, t, types.CastImplicit); err != nil {
			return nil, err
		}
		for i := range list {
			if list[i], err = b.coerce(list[i], t, types.CastImplicit); err != nil {
				return nil, err
			}
		}
		eq, err := funcs.Resolve("=", []types.Type{t, t})
		if err != nil {
			return nil, err
		}
		return &executor.InListExpr{X: x, List: list, Eq: eq.Evaluator(), Not: n.Not}, nil
	case *ast.InSubquery:
		return b.bindSubqueryUse(executor.SubAny, n.Query, n.X, "=", n.Not, sc)
	case *ast.Quantified:
		if n.Array != nil {
			return b.bindArrayQuantified(n, sc)
		}
		kind := executor.SubAny
		if n.All {
			kind = executor.SubAll
		}
		op := n.Op
		if op == "!=" {
			op = "<>"
		}
		return b.bindSubqueryUse(kind, n.Query, n.X, op, false, sc)
	case *ast.Exists:
		return b.bindSubqueryUse(executor.SubExists, n.Query, nil, "", n.Not, sc)
	case *ast.Subquery:
		return b.bindSubqueryUse(executor.SubScalar, n.Query, nil, "", false, sc)
	case *ast.Func:
		return b.bindFunc(n, sc)
	case *ast.Cast:
		x, err := b.bindExpr(n.X, sc)
		if err != nil {
			return nil, err
		}
		return b.coerce(x, n.Type, types.CastExplicit)
	case *ast.Case:
		return b.bindCase(n, sc)
	case *ast.RowExpr:
		return nil, sqlerr.Unsupported("row constructors are not supported here")
	case *ast.DefaultExpr:
		return nil, sqlerr.New(sqlerr.SyntaxError, "DEFAULT is not allowed in this context")
	}
	return nil, sqlerr.Unsupported("expression %T is not supported", e)
}

func (b *binder) addSub(qp *queryPlan) int {
	b.subs = append(b.subs, qp)
	clause := b.clause
	if clause == "" {
		clause = "an expression"
	}
	b.subClauses = append(b.subClauses, clause)
	return len(b.subs) - 1
}

// bindSubqueryPlan binds a subquery used in an expression.
func (b *binder) bindSubqueryPlan(q *ast.Query, sc *scope) (*queryPlan, error) {
	saveAgg, saveClause, saveIn, saveApply := b.agg, b.clause, b.inAgg, b.apply
	saveWin, saveInWin := b.win, b.inWin
	defer func() {
		b.agg, b.clause, b.inAgg, b.apply = saveAgg, saveClause, saveIn, saveApply
		b.win, b.inWin = saveWin, saveInWin
	}()
	b.agg, b.inAgg, b.apply, b.win, b.inWin = nil, false, nil, nil, false
	return b.bindQuery(q, sc)
}

func (b *binder) bindUnary(n *ast.Unary, sc *scope) (executor.Expr, error) {
	if n.Op == "-" {
		if lit, ok := n.X.(*ast.Literal); ok && !lit.Value.IsNull() {
			switch lit.Value.Kind() {
			case types.KindInt32:
				return &executor.Const{Value: types.NewInt32(int32(-lit.Value.Int())), Typ: types.Int32}, nil
			case types.KindInt64:
				v := -lit.Value.Int()
				if v >= -2147483648 && v <= 2147483647 {
					return &executor.Const{Value: types.NewInt32(int32(v)), Typ: types.Int32}, nil
				}
				return &executor.Const{Value: types.NewInt64(v), Typ: types.Int64}, nil
			}
		}
	}
	x, err := b.bindExpr(n.X, sc)
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(n.Op) {
	case "NOT":
		if x, err = b.coerceBool(x, "NOT"); err != nil {
			return nil, err
		}
		return &executor.Not{X: x}, nil
	case "+":
		if x.Type().IsNumeric() {
			return x, nil
		}
	}
	return b.call(n.Op, []executor.Expr{x})
}

func (b *binder) bindBinary(n *ast.Binary, sc *scope) (executor.Expr, error) {
	op := strings.ToUpper(n.Op)
	if lr, ok := n.L.(*ast.RowExpr); ok {
		if rr, ok := n.R.(*ast.RowExpr); ok && (op == "=" || op == "<>" || op == "!=") {
			if len(lr.Items) != len(rr.Items) {
				return nil, sqlerr.New(sqlerr.SyntaxError, "unequal number of entries in row expressions")
			}
			var parts []executor.Expr
			for i := range lr.Items {
				p, err := b.bindBinary(&ast.Binary{Op: n.Op, L: lr.Items[i], R: rr.Items[i]}, sc)
				if err != nil {
					return nil, err
				}
				parts = append(parts, p)
			}
			return &executor.BoolOp{Or: op != "=", Args: parts}, nil
		}
	}
	l, err := b.bindExpr(n.L, sc)
	if err != nil {
		return nil, err
	}
	r, err := b.bindExpr(n.R, sc)
	if err != nil {
		return nil, err
	}
	switch op {
	case "AND", "OR":
		if l, err = b.coerceBool(l, op); err != nil {
			return nil, err
		}
		if r, err = b.coerceBool(r, op); err != nil {
			return nil, err
		}
		or := op == "OR"
		var args []executor.Expr
		for _, x := range []executor.Expr{l, r} {
			if bo, ok := x.(*executor.BoolOp); ok && bo.Or == or {
				args = append(args, bo.Args...)
			} else {
				args = append(args, x)
			}
		}
		return &executor.BoolOp{Or: or, Args: args}, nil
	case "!=":
		op = "<>"
	}
	return b.call(op, []executor.Expr{l, r})
}

// call resolves a function or operator and casts its arguments.
func (b *binder) call(name string, args []executor.Expr) (executor.Expr, error) {
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	r, err := funcs.Resolve(name, ts)
	if err != nil {
		return nil, err
	}
	out := make([]executor.Expr, len(args))
	for i, a := range args {
		t := a.Type()
		if i < len(r.ArgTypes) {
			t = r.ArgTypes[i]
		}
		if out[i], err = b.coerce(a, t, types.CastImplicit); err != nil {
			return nil, err
		}
	}
	return &executor.Call{Name: name, Fn: r.Overload, Eval: r.Evaluator(), Args: out, Typ: r.Ret}, nil
}

// settleUnknown gives an unknown-typed expression (string literal,
// untyped parameter) the type text.
func (b *binder) settleUnknown(e executor.Expr) (executor.Expr, error) {
	if e.Type().Kind == types.KindUnknown {
		return b.coerce(e, types.Text, types.CastImplicit)
	}
	return e, nil
}

// bindSettled binds e and gives it the type text if it is of unknown type.
func (b *binder) bindSettled(e ast.Expr, sc *scope) (executor.Expr, error) {
	x, err := b.bindExpr(e, sc)
	if err != nil {
		return nil, err
	}
	return b.settleUnknown(x)
}

// coerceBool makes e boolean for a clause (42804 when it is not).
func (b *binder) coerceBool(e executor.Expr, clause string) (executor.Expr, error) {
	switch e.Type().Kind {
	case types.KindBool:
		return e, nil
	case types.KindUnknown:
		return b.coerce(e, types.Bool, types.CastImplicit)
	}
	return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", clause, e.Type())
}

// foldAtPlan reports whether an unknown literal may be converted to t at
// plan time (its text does not depend on the session's time zone or
// clock).
func foldAtPlan(t types.Type) bool {
	switch t.Kind {
	case types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return false
	}
	return true
}

// coerce converts e to t in the given cast context, inferring the type of
// untyped parameters and converting string literals at plan time.
func (b *binder) coerce(e executor.Expr, t types.Type, ctx types.CastContext) (executor.Expr, error) {
	from := e.Type()
	if t.Kind == types.KindUnknown {
		return e, nil
	}
	if p, ok := e.(*executor.ParamRef); ok && from.Kind == types.KindUnknown {
		pt := types.Type{Kind: t.Kind, Fixed: t.Fixed}
		if t.Kind == types.KindText && t.Width != 0 && !t.Fixed {
			pt = types.Varchar // PostgreSQL infers varchar, without the length
		}
		b.paramTypes[p.N] = pt
		p.Typ = pt
		if ctx == types.CastImplicit || pt == t {
			return p, nil
		}
		return &executor.CastExpr{X: p, Typ: t, Ctx: ctx}, nil
	}
	if c, ok := e.(*executor.Const); ok && from.Kind == types.KindUnknown {
		if ctx == types.CastImplicit {
			// An operator or function argument has no length or precision:
			// v = 'abcdefgh' compares, it does not fail for a VARCHAR(3) v.
			t = withoutTypmod(t)
		}
		if c.Value.IsNull() {
			return &executor.Const{Value: types.Null, Typ: t}, nil
		}
		if foldAtPlan(t) {
			d, err := types.Cast(c.Value, t, ctx, nil)
			if err != nil {
				return nil, err
			}
			return &executor.Const{Value: d, Typ: t}, nil
		}
		return &executor.CastExpr{X: c, Typ: t, Ctx: ctx}, nil
	}
	if from.Kind == t.Kind {
		if from == t || ctx == types.CastImplicit {
			return e, nil
		}
		if t.Kind == types.KindText && t.Width == 0 && !t.Fixed {
			return e, nil
		}
		if t.Kind == types.KindNumeric && t.Precision == 0 {
			return e, nil
		}
		return &executor.CastExpr{X: e, Typ: t, Ctx: ctx}, nil
	}
	ok := false
	switch ctx {
	case types.CastImplicit:
		ok = implicitCast(from.Kind, t.Kind)
	case types.CastAssignment:
		ok = assignCast(from.Kind, t.Kind)
	default:
		ok = types.CanCast(from, t, types.CastExplicit)
	}
	if !ok {
		if ctx == types.CastExplicit {
			return nil, sqlerr.New(sqlerr.Code("42846"), "cannot cast type %s to %s", from, t)
		}
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "cannot convert type %s to %s", from, t)
	}
	return &executor.CastExpr{X: e, Typ: t, Ctx: ctx}, nil
}

func (b *binder) bindCase(n *ast.Case, sc *scope) (executor.Expr, error) {
	var operand executor.Expr
	var err error
	if n.Operand != nil {
		if operand, err = b.bindExpr(n.Operand, sc); err != nil {
			return nil, err
		}
	}
	c := &executor.CaseExpr{}
	var results []executor.Expr
	for _, w := range n.Whens {
		cond, err := b.bindExpr(w.Cond, sc)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if cond, err = b.call("=", []executor.Expr{operand, cond}); err != nil {
				return nil, err
			}
		}
		if cond, err = b.coerceBool(cond, "CASE/WHEN"); err != nil {
			return nil, err
		}
		res, err := b.bindExpr(w.Result, sc)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, executor.When{Cond: cond})
		results = append(results, res)
	}
	if n.Else != nil {
		e, err := b.bindExpr(n.Else, sc)
		if err != nil {
			return nil, err
		}
		results = append(results, e)
	}
	ts := make([]types.Type, len(results), len(results)+1)
	for i, r := range results {
		ts[i] = r.Type()
	}
	if n.Else == nil {
		ts = append(ts, types.Unknown) // the implicit ELSE NULL
	}
	t, err := commonType(ts, "CASE")
	if err != nil {
		return nil, err
	}
	for i := range results {
		if results[i], err = b.coerce(results[i], t, types.CastImplicit); err != nil {
			return nil, err
		}
	}
	for i := range c.Whens {
		c.Whens[i].Result = results[i]
	}
	if n.Else != nil {
		c.Else = results[len(results)-1]
	}
	c.Typ = t
	return c, nil
}

// unifyExprs coerces bound expressions to their common type.
func (b *binder) unifyExprs(xs []executor.Expr, what string) ([]executor.Expr, types.Type, error) {
	ts := make([]types.Type, len(xs))
	for i, x := range xs {
		ts[i] = x.Type()
	}
	t, err := commonType(ts, what)
	if err != nil {
		return nil, types.Unknown, err
	}
	out := make([]executor.Expr, len(xs))
	for i := range xs {
		if out[i], err = b.coerce(xs[i], t, types.CastImplicit); err != nil {
			return nil, types.Unknown, err
		}
	}
	return out, t, nil
}

// unify binds args and coerces them to their common type.
func (b *binder) unify(args []ast.Expr, sc *scope, what string) ([]executor.Expr, types.Type, error) {
	xs, err := b.bindExprs(args, sc)
	if err != nil {
		return nil, types.Unknown, err
	}
	ts := make([]types.Type, len(xs))
	for i, x := range xs {
		ts[i] = x.Type()
	}
	t, err := commonType(ts, what)
	if err != nil {
		return nil, types.Unknown, err
	}
	for i := range xs {
		if xs[i], err = b.coerce(xs[i], t, types.CastImplicit); err != nil {
			return nil, types.Unknown, err
		}
	}
	return xs, t, nil
}

func (b *binder) bindFunc(n *ast.Func, sc *scope) (executor.Expr, error) {
	if n.Over != nil {
		return b.bindWindowFunc(n, sc)
	}
	if _, ok := windowKinds[n.Name]; ok {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "window function %s requires an OVER clause", n.Name)
	}
	if isAggregate(n.Name) {
		return b.bindAggregate(n, sc)
	}
	if n.Distinct || n.Star || n.Filter != nil || len(n.OrderBy) > 0 {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "DISTINCT specified, but %s is not an aggregate function", n.Name)
	}
	switch n.Name {
	case "coalesce", "greatest", "least":
		if len(n.Args) == 0 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \")\"")
		}
		xs, t, err := b.unify(n.Args, sc, strings.ToUpper(n.Name))
		if err != nil {
			return nil, err
		}
		if n.Name == "coalesce" {
			return &executor.Coalesce{Args: xs, Typ: t}, nil
		}
		return &executor.MinMax{Args: xs, Least: n.Name == "least", Typ: t}, nil
	case "nullif":
		if len(n.Args) != 2 {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function nullif with %d arguments does not exist", len(n.Args))
		}
		a, err := b.bindExpr(n.Args[0], sc)
		if err != nil {
			return nil, err
		}
		bb, err := b.bindExpr(n.Args[1], sc)
		if err != nil {
			return nil, err
		}
		eq, err := b.call("=", []executor.Expr{a, bb})
		if err != nil {
			return nil, err
		}
		c := eq.(*executor.Call)
		return &executor.NullIf{A: c.Args[0], B: c.Args[1], Eq: c.Eval, Typ: c.Args[0].Type()}, nil
	}
	args, err := b.bindExprs(n.Args, sc)
	if err != nil {
		return nil, err
	}
	r, err := b.call(n.Name, args)
	if err != nil {
		if se, ok := err.(*sqlerr.Error); ok && n.Pos > 0 {
			return nil, se.WithPosition(n.Pos)
		}
	}
	return r, err
}

func (b *binder) bindAggregate(n *ast.Func, sc *scope) (executor.Expr, error) {
	if b.agg == nil {
		clause := b.clause
		if clause == "" {
			clause = "this context"
		}
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in %s", clause)
	}
	if b.inAgg {
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested")
	}
	b.inAgg = true
	defer func() { b.inAgg = false }()
	call, err := b.bindAggCall(n, sc)
	if err != nil {
		return nil, err
	}
	b.agg.calls = append(b.agg.calls, call)
	return &aggRef{idx: len(b.agg.calls) - 1, call: call}, nil
}

// bindAggCall binds and types an aggregate call (of GROUP BY or over a
// window).
func (b *binder) bindAggCall(n *ast.Func, sc *scope) (*aggCall, error) {
	call := &aggCall{distinct: n.Distinct}
	args, err := b.bindExprs(n.Args, sc)
	if err != nil {
		return nil, err
	}
	sig := func() error {
		ts := make([]string, len(args))
		for i, a := range args {
			ts[i] = a.Type().String()
		}
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", n.Name, strings.Join(ts, ", ")).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	name := n.Name
	switch {
	case n.Star:
		if name != "count" {
			return nil, sqlerr.New(sqlerr.SyntaxError, "%s(*) must be used to call a parameterless aggregate function", name)
		}
		call.fn, call.typ = executor.AggCountStar, types.Int64
	case name == "string_agg":
		if len(args) != 2 {
			return nil, sig()
		}
		for i := range args {
			if args[i], err = b.settleUnknown(args[i]); err != nil {
				return nil, err
			}
		}
		k := args[0].Type().Kind
		if (k != types.KindText && k != types.KindBytea) || args[1].Type().Kind != k {
			return nil, sig()
		}
		call.fn, call.typ = executor.AggStringAgg, types.Type{Kind: k}
	default:
		if len(args) != 1 {
			return nil, sig()
		}
		if args[0], err = b.settleUnknown(args[0]); err != nil {
			return nil, err
		}
		t := args[0].Type()
		switch name {
		case "count":
			call.fn, call.typ = executor.AggCount, types.Int64
		case "sum", "avg":
			call.fn = executor.AggSum
			if name == "avg" {
				call.fn = executor.AggAvg
			}
			switch t.Kind {
			case types.KindInt16, types.KindInt32:
				call.typ = types.Int64
			case types.KindInt64, types.KindNumeric:
				call.typ = types.Numeric
			case types.KindFloat32:
				call.typ = types.Float32
			case types.KindFloat64:
				call.typ = types.Float64
			case types.KindInterval:
				call.typ = types.Interval
			default:
				return nil, sig()
			}
			if name == "avg" {
				switch t.Kind {
				case types.KindInt16, types.KindInt32, types.KindInt64, types.KindNumeric:
					call.typ = types.Numeric
				case types.KindFloat32, types.KindFloat64:
					call.typ = types.Float64
				}
			}
		case "min", "max":
			call.fn = executor.AggMin
			if name == "max" {
				call.fn = executor.AggMax
			}
			if t.Kind == types.KindJSONB {
				return nil, sig()
			}
			call.typ = t
		case "bool_and", "every", "bool_or":
			if t.Kind != types.KindBool {
				return nil, sig()
			}
			call.fn, call.typ = executor.AggBoolAnd, types.Bool
			if name == "bool_or" {
				call.fn = executor.AggBoolOr
			}
		}
	}
	if len(args) > 0 {
		call.argType = args[0].Type()
	}
	call.args = args
	if n.Filter != nil {
		f, err := b.bindExpr(n.Filter, sc)
		if err != nil {
			return nil, err
		}
		if call.filter, err = b.coerceBool(f, "FILTER"); err != nil {
			return nil, err
		}
	}
	for _, o := range n.OrderBy {
		e, err := b.bindSettled(o.Expr, sc)
		if err != nil {
			return nil, err
		}
		if call.distinct && !slices.ContainsFunc(call.args, func(a executor.Expr) bool { return a.String() == e.String() }) {
			return nil, sqlerr.New(sqlerr.InvalidColumnReference, "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list")
		}
		call.order = append(call.order, orderExpr{e: e, desc: o.Desc, nullsFirst: nullsFirst(o)})
	}
	call.text = aggText(n.Name, call)
	return call, nil
}

func aggText(name string, c *aggCall) string {
	if c.fn == executor.AggCountStar {
		return "count(*)"
	}
	s := name + "("
	if c.distinct {
		s += "DISTINCT "
	}
	s += exprList(c.args) + ")"
	if c.filter != nil {
		s += " FILTER (WHERE " + c.filter.String() + ")"
	}
	return s
}

func nullsFirst(o *ast.OrderItem) bool {
	if o.NullsFirst != nil {
		return *o.NullsFirst
	}
	return o.Desc
}
