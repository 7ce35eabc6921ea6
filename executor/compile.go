package executor

import (
	"time"

	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// EvalFunc is a compiled expression: it computes the value for one input
// row. It may keep scratch space between calls and is not safe for
// concurrent use.
type EvalFunc func(row types.Row) (types.Datum, error)

// Compiler turns bound expressions into closures for one run of a plan. It
// captures the run's parameter values, environment and subquery results,
// and folds every call on constants that is not volatile.
type Compiler struct {
	Env    *funcs.Env
	Params []types.Datum
	// Subqueries[i] holds the rows of uncorrelated subquery i, computed
	// before compiling.
	Subqueries [][]types.Row
}

// NewCompiler returns a compiler for rt.
func NewCompiler(rt *Runtime) *Compiler {
	c := &Compiler{}
	if rt != nil {
		c.Env, c.Params = rt.Env, rt.Params
	}
	if c.Env == nil {
		c.Env = &funcs.Env{Location: time.UTC, StatementTime: time.Now()}
	}
	return c
}

func (c *Compiler) loc() *time.Location {
	if c.Env != nil && c.Env.Location != nil {
		return c.Env.Location
	}
	return time.UTC
}

// Compile compiles e.
func (c *Compiler) Compile(e Expr) (EvalFunc, error) {
	f, _, err := c.compile(e)
	return f, err
}

// CompileAll compiles each of es.
func (c *Compiler) CompileAll(es []Expr) ([]EvalFunc, error) {
	out := make([]EvalFunc, len(es))
	for i, e := range es {
		f, err := c.Compile(e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// Eval compiles and evaluates a row-independent expression once.
func (c *Compiler) Eval(e Expr) (types.Datum, error) {
	f, err := c.Compile(e)
	if err != nil {
		return types.Null, err
	}
	return f(nil)
}

func constFn(d types.Datum) EvalFunc {
	return func(types.Row) (types.Datum, error) { return d, nil }
}

// fold evaluates f once when all its inputs are constant; an error is kept
// for run time (the expression may never be reached, as in a CASE arm).
func fold(f EvalFunc, allConst bool) (EvalFunc, bool, error) {
	if !allConst {
		return f, false, nil
	}
	d, err := f(nil)
	if err != nil {
		return f, false, nil
	}
	return constFn(d), true, nil
}

func (c *Compiler) compileList(es []Expr) ([]EvalFunc, bool, error) {
	out := make([]EvalFunc, len(es))
	all := true
	for i, e := range es {
		f, k, err := c.compile(e)
		if err != nil {
			return nil, false, err
		}
		out[i] = f
		all = all && k
	}
	return out, all, nil
}

func boolOf(d types.Datum) (v, null bool) {
	if d.IsNull() {
		return false, true
	}
	return d.Bool(), false
}

// compile returns the closure and whether it is a constant.
func (c *Compiler) compile(e Expr) (EvalFunc, bool, error) {
	switch e := e.(type) {
	case *ColRef:
		idx := e.Idx
		return func(row types.Row) (types.Datum, error) { return row[idx], nil }, false, nil
	case *Const:
		return constFn(e.Value), true, nil
	case *ParamRef:
		if e.N >= len(c.Params) {
			return nil, false, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", e.N+1)
		}
		return constFn(c.Params[e.N]), true, nil
	case *Call:
		return c.compileCall(e)
	case *CastExpr:
		x, k, err := c.compile(e.X)
		if err != nil {
			return nil, false, err
		}
		t, ctx, loc := e.Typ, e.Ctx, c.loc()
		return fold(func(row types.Row) (types.Datum, error) {
			v, err := x(row)
			if err != nil || v.IsNull() {
				return types.Null, err
			}
			return types.Cast(v, t, ctx, loc)
		}, k)
	case *BoolOp:
		args, k, err := c.compileList(e.Args)
		if err != nil {
			return nil, false, err
		}
		or := e.Or
		return fold(func(row types.Row) (types.Datum, error) {
			sawNull := false
			for _, a := range args {
				d, err := a(row)
				if err != nil {
					return types.Null, err
				}
				v, null := boolOf(d)
				switch {
				case null:
					sawNull = true
				case v == or: // true in OR, false in AND decides
					return types.NewBool(or), nil
				}
			}
			if sawNull {
				return types.Null, nil
			}
			return types.NewBool(!or), nil
		}, k)
	case *Not:
		x, k, err := c.compile(e.X)
		if err != nil {
			return nil, false, err
		}
		return fold(func(row types.Row) (types.Datum, error) {
			d, err := x(row)
			if err != nil || d.IsNull() {
				return types.Null, err
			}
			return types.NewBool(!d.Bool()), nil
		}, k)
	case *IsNullExpr:
		x, k, err := c.compile(e.X)
		if err != nil {
			return nil, false, err
		}
		not := e.Not
		return fold(func(row types.Row) (types.Datum, error) {
			d, err := x(row)
			if err != nil {
				return types.Null, err
			}
			return types.NewBool(d.IsNull() != not), nil
		}, k)
	case *IsBoolExpr:
		x, k, err := c.compile(e.X)
		if err != nil {
			return nil, false, err
		}
		not, want := e.Not, e.Value
		return fold(func(row types.Row) (types.Datum, error) {
			d, err := x(row)
			if err != nil {
				return types.Null, err
			}
			var r bool
			if want == nil {
				r = d.IsNull()
			} else {
				r = !d.IsNull() && d.Bool() == *want
			}
			return types.NewBool(r != not), nil
		}, k)
	case *IsDistinctExpr:
		l, k1, err := c.compile(e.L)
		if err != nil {
			return nil, false, err
		}
		r, k2, err := c.compile(e.R)
		if err != nil {
			return nil, false, err
		}
		eq, env, not := e.Eq, c.Env, e.Not
		args := make([]types.Datum, 2)
		return fold(func(row types.Row) (types.Datum, error) {
			a, err := l(row)
			if err != nil {
				return types.Null, err
			}
			b, err := r(row)
			if err != nil {
				return types.Null, err
			}
			var distinct bool
			switch {
			case a.IsNull() && b.IsNull():
				distinct = false
			case a.IsNull() || b.IsNull():
				distinct = true
			default:
				args[0], args[1] = a, b
				v, err := eq(env, args)
				if err != nil {
					return types.Null, err
				}
				distinct = v.IsNull() || !v.Bool()
			}
			return types.NewBool(distinct != not), nil
		}, k1 && k2)
	case *CaseExpr:
		conds := make([]EvalFunc, len(e.Whens))
		results := make([]EvalFunc, len(e.Whens))
		all := true
		for i, w := range e.Whens {
			f, k, err := c.compile(w.Cond)
			if err != nil {
				return nil, false, err
			}
			conds[i], all = f, all && k
			f, k, err = c.compile(w.Result)
			if err != nil {
				return nil, false, err
			}
			results[i], all = f, all && k
		}
		var els EvalFunc
		if e.Else != nil {
			f, k, err := c.compile(e.Else)
			if err != nil {
				return nil, false, err
			}
			els, all = f, all && k
		}
		return fold(func(row types.Row) (types.Datum, error) {
			for i, cond := range conds {
				d, err := cond(row)
				if err != nil {
					return types.Null, err
				}
				if !d.IsNull() && d.Bool() {
					return results[i](row)
				}
			}
			if els == nil {
				return types.Null, nil
			}
			return els(row)
		}, all)
	case *Coalesce:
		args, k, err := c.compileList(e.Args)
		if err != nil {
			return nil, false, err
		}
		return fold(func(row types.Row) (types.Datum, error) {
			for _, a := range args {
				d, err := a(row)
				if err != nil || !d.IsNull() {
					return d, err
				}
			}
			return types.Null, nil
		}, k)
	case *NullIf:
		a, k1, err := c.compile(e.A)
		if err != nil {
			return nil, false, err
		}
		b, k2, err := c.compile(e.B)
		if err != nil {
			return nil, false, err
		}
		eq, env := e.Eq, c.Env
		args := make([]types.Datum, 2)
		return fold(func(row types.Row) (types.Datum, error) {
			x, err := a(row)
			if err != nil || x.IsNull() {
				return x, err
			}
			y, err := b(row)
			if err != nil || y.IsNull() {
				return x, err
			}
			args[0], args[1] = x, y
			v, err := eq(env, args)
			if err != nil {
				return types.Null, err
			}
			if !v.IsNull() && v.Bool() {
				return types.Null, nil
			}
			return x, nil
		}, k1 && k2)
	case *MinMax:
		args, k, err := c.compileList(e.Args)
		if err != nil {
			return nil, false, err
		}
		least := e.Least
		return fold(func(row types.Row) (types.Datum, error) {
			var best types.Datum
			for _, a := range args {
				d, err := a(row)
				if err != nil {
					return types.Null, err
				}
				if d.IsNull() {
					continue
				}
				if best.IsNull() {
					best = d
					continue
				}
				cmp := types.Compare(d, best)
				if (least && cmp < 0) || (!least && cmp > 0) {
					best = d
				}
			}
			return best, nil
		}, k)
	case *InListExpr:
		return c.compileInList(e)
	case *SubqueryExpr:
		return c.compileSubquery(e)
	case *CardinalityCheck:
		n, _, err := c.compile(e.N)
		if err != nil {
			return nil, false, err
		}
		x, _, err := c.compile(e.X)
		if err != nil {
			return nil, false, err
		}
		return func(row types.Row) (types.Datum, error) {
			d, err := n(row)
			if err != nil {
				return types.Null, err
			}
			if !d.IsNull() && d.Int() > 1 {
				return types.Null, errMoreThanOneRow
			}
			return x(row)
		}, false, nil
	}
	return nil, false, sqlerr.New(sqlerr.InternalError, "executor: cannot compile expression %T", e)
}

type argSrc struct {
	idx int // column index when fn is nil
	fn  EvalFunc
}

func (c *Compiler) compileCall(e *Call) (EvalFunc, bool, error) {
	srcs := make([]argSrc, len(e.Args))
	all := true
	for i, a := range e.Args {
		if cr, ok := a.(*ColRef); ok {
			srcs[i] = argSrc{idx: cr.Idx}
			all = false
			continue
		}
		f, k, err := c.compile(a)
		if err != nil {
			return nil, false, err
		}
		srcs[i] = argSrc{fn: f}
		all = all && k
	}
	fn, env, eval := e.Fn, c.Env, e.Eval
	if eval == nil {
		eval = fn.Eval
	}
	strict := !fn.NullIn
	args := make([]types.Datum, len(srcs))
	f := func(row types.Row) (types.Datum, error) {
		for i := range srcs {
			s := &srcs[i]
			var d types.Datum
			if s.fn == nil {
				d = row[s.idx]
			} else {
				var err error
				if d, err = s.fn(row); err != nil {
					return types.Null, err
				}
			}
			if strict && d.IsNull() {
				return types.Null, nil
			}
			args[i] = d
		}
		return eval(env, args)
	}
	return fold(f, all && !fn.Volatile)
}

// valueSet is a hash set of non-NULL datums of one type.
type valueSet struct {
	m       map[string]struct{}
	hasNull bool
	buf     []byte
}

func (s *valueSet) add(d types.Datum) {
	if d.IsNull() {
		s.hasNull = true
		return
	}
	s.m[string(types.AppendKey(nil, d))] = struct{}{}
}

func (s *valueSet) has(d types.Datum) bool {
	s.buf = types.AppendKey(s.buf[:0], d)
	_, ok := s.m[string(s.buf)]
	return ok
}

// inResult applies IN's NULL rules: found -> true; else NULL if x is NULL
// or the set has a NULL (and is non-empty); else false. not negates.
func inResult(found, xNull, setNull, empty, not bool) types.Datum {
	switch {
	case empty:
		return types.NewBool(not)
	case found:
		return types.NewBool(!not)
	case xNull || setNull:
		return types.Null
	}
	return types.NewBool(not)
}

func (c *Compiler) compileInList(e *InListExpr) (EvalFunc, bool, error) {
	x, kx, err := c.compile(e.X)
	if err != nil {
		return nil, false, err
	}
	items, kl, err := c.compileList(e.List)
	if err != nil {
		return nil, false, err
	}
	not := e.Not
	if kl && sameKinds(e.X, e.List) {
		set := &valueSet{m: make(map[string]struct{}, len(items))}
		for _, it := range items {
			d, err := it(nil)
			if err != nil {
				return nil, false, err
			}
			set.add(d)
		}
		return fold(setMember(x, set, len(items) == 0, not), kx)
	}
	eq, env := e.Eq, c.Env
	args := make([]types.Datum, 2)
	return fold(func(row types.Row) (types.Datum, error) {
		v, err := x(row)
		if err != nil {
			return types.Null, err
		}
		sawNull := false
		for _, it := range items {
			d, err := it(row)
			if err != nil {
				return types.Null, err
			}
			if d.IsNull() || v.IsNull() {
				sawNull = true
				continue
			}
			args[0], args[1] = v, d
			r, err := eq(env, args)
			if err != nil {
				return types.Null, err
			}
			if r.IsNull() {
				sawNull = true
			} else if r.Bool() {
				return types.NewBool(!not), nil
			}
		}
		if sawNull {
			return types.Null, nil
		}
		return types.NewBool(not), nil
	}, kx && kl)
}

func sameKinds(x Expr, list []Expr) bool {
	k := x.Type().Kind
	for _, it := range list {
		if it.Type().Kind != k {
			return false
		}
	}
	return true
}

var errMoreThanOneRow = sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")

func (c *Compiler) compileSubquery(e *SubqueryExpr) (EvalFunc, bool, error) {
	if e.Slot >= len(c.Subqueries) {
		return nil, false, sqlerr.New(sqlerr.InternalError, "executor: subquery %d was not computed", e.Slot+1)
	}
	rows := c.Subqueries[e.Slot]
	switch e.Kind {
	case SubScalar:
		if len(rows) > 1 {
			err := sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
			return func(types.Row) (types.Datum, error) { return types.Null, err }, false, nil
		}
		if len(rows) == 0 {
			return constFn(types.Null), true, nil
		}
		return constFn(rows[0][0]), true, nil
	case SubExists:
		return constFn(types.NewBool((len(rows) > 0) != e.Not)), true, nil
	}
	x, kx, err := c.compile(e.X)
	if err != nil {
		return nil, false, err
	}
	vals := make([]types.Datum, len(rows))
	loc := c.loc()
	for i, r := range rows {
		d := r[0]
		if !d.IsNull() && d.Kind() != e.ColType.Kind {
			if d, err = types.Cast(d, e.ColType, types.CastImplicit, loc); err != nil {
				return nil, false, err
			}
		}
		vals[i] = d
	}
	all, not := e.Kind == SubAll, e.Not
	if !all && e.CmpName == "=" && e.X.Type().Kind == e.ColType.Kind {
		set := &valueSet{m: make(map[string]struct{}, len(vals))}
		for _, d := range vals {
			set.add(d)
		}
		return fold(setMember(x, set, len(vals) == 0, not), kx)
	}
	cmp, env := e.Cmp, c.Env
	args := make([]types.Datum, 2)
	return fold(func(row types.Row) (types.Datum, error) {
		v, err := x(row)
		if err != nil {
			return types.Null, err
		}
		sawNull := false
		for _, d := range vals {
			if d.IsNull() || v.IsNull() {
				sawNull = true
				continue
			}
			args[0], args[1] = v, d
			r, err := cmp(env, args)
			if err != nil {
				return types.Null, err
			}
			switch {
			case r.IsNull():
				sawNull = true
			case r.Bool() && !all:
				return types.NewBool(!not), nil
			case !r.Bool() && all:
				return types.NewBool(not), nil
			}
		}
		if sawNull {
			return types.Null, nil
		}
		return types.NewBool(all != not), nil
	}, kx)
}

// setMember evaluates x [NOT] IN a hashed set of constant values, with
// SQL's NULL rules (empty: the set has no values at all).
func setMember(x EvalFunc, set *valueSet, empty, not bool) EvalFunc {
	return func(row types.Row) (types.Datum, error) {
		v, err := x(row)
		if err != nil {
			return types.Null, err
		}
		if v.IsNull() {
			return inResult(false, true, set.hasNull, empty, not), nil
		}
		return inResult(set.has(v), false, set.hasNull, empty, not), nil
	}
}
