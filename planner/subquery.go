package planner

import (
	"fmt"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Subqueries are planned as dataflow, so that a plan is the same in both
// modes (a pull query and a view maintained incrementally):
//
//   - a correlated subquery is decorrelated: the equality conjuncts of its
//     WHERE that compare an inner expression with an outer one
//     (inner.x = outer.y) become correlation keys, which the subquery outputs
//     after its columns (and groups by, when it aggregates);
//   - [NOT] EXISTS, IN, NOT IN, op ANY/ALL as a WHERE conjunct become semi
//     and anti joins on the correlation keys (and the IN operand); NOT IN
//     keeps SQL's NULL rules with a count of the subquery's rows and non-NULL
//     values per key;
//   - a scalar subquery becomes a left join with a grouped aggregate on the
//     correlation keys: the aggregate itself when the subquery is an
//     aggregate without GROUP BY (with its value over no rows, count() = 0,
//     for keys without rows), else count(*) and any_value, checked for more
//     than one row where it is used (21000);
//   - EXISTS elsewhere is a left join with count(*) per key;
//   - a conjunct of the subquery's WHERE over outer columns only (p) is
//     lifted out: the subquery is planned without it and its result is
//     taken where p is true, elsewhere the result over no rows: EXISTS and
//     IN as WHERE conjuncts become p AND the semi join; otherwise the use's
//     value is CASE WHEN p THEN value ELSE (NULL, false for EXISTS, the
//     aggregate over no rows, count() = 0...) END.
//
// An uncorrelated subquery is the same with no keys: a join with a one-row
// aggregate. What cannot be planned so (an uncorrelated IN or ANY/ALL
// outside a WHERE conjunct, or any subquery in a JOIN ... ON, LIMIT or
// VALUES) is computed once per Run; Plan.Incremental reports it.

// corrCtx collects the correlation of one subquery body being bound.
type corrCtx struct {
	// outer is the scope outer references resolve into.
	outer *scope
	// core is the body whose WHERE may correlate (nil for a set operation).
	core *ast.SelectCore
	// refs counts outer references bound; used those consumed as
	// correlation keys.
	refs, used int
	// outerKeys are the outer sides of the correlation equalities, over the
	// enclosing query's row.
	outerKeys []executor.Expr
	// outerPreds are the conjuncts over outer columns only, over the
	// enclosing query's row.
	outerPreds []executor.Expr
}

// outerRef is a reference to column idx of the enclosing query's row from
// inside a correlated subquery; decorrelation replaces it.
type outerRef struct {
	idx  int
	typ  types.Type
	name string
}

func (o *outerRef) Type() types.Type { return o.typ }
func (o *outerRef) String() string   { return "outer." + o.name }

// subUse is one subquery used in an expression of the SELECT being bound.
type subUse struct {
	id        int
	kind      executor.SubqueryKind
	not       bool
	x         executor.Expr // ANY/ALL operand, over the enclosing row
	op        string
	qp        *queryPlan
	outerKeys []executor.Expr // over the enclosing row
	// outerPred is the AND of the conjuncts over outer columns only lifted
	// out of the subquery (nil if none), over the enclosing row.
	outerPred executor.Expr
	clause    string
	// result replaces the placeholder once the use is planned.
	result executor.Expr
}

// subRef is the placeholder of a subUse in a bound expression until the
// SELECT attaches the joins that compute it.
type subRef struct {
	u   *subUse
	typ types.Type
}

func (s *subRef) Type() types.Type { return s.typ }
func (s *subRef) String() string   { return fmt.Sprintf("$subplan%d", s.u.id) }

// applyCtx is where the subqueries of a SELECT's expressions are
// collected: expressions bound against sc may use them.
type applyCtx struct {
	sc   *scope
	uses []*subUse
}

func (a *applyCtx) take() []*subUse {
	u := a.uses
	a.uses = nil
	return u
}

func corrUnsupported(format string, args ...any) *sqlerr.Error {
	return sqlerr.Unsupported(format, args...).
		WithHint("A correlated subquery can be decorrelated when its WHERE clause compares inner and outer columns with = (inner.x = outer.y AND ...).")
}

// bindOuterRef binds a reference to a column of an enclosing query (found
// in scope fs).
func (b *binder) bindOuterRef(fs *scope, idx int, col scopeCol, name string) (executor.Expr, error) {
	if b.corr == nil || b.corr.outer != fs {
		return nil, corrUnsupported("correlated reference to column %q of a query more than one level out (or from a JOIN ... ON, LIMIT or VALUES) is not supported", name)
	}
	b.corr.refs++
	return &outerRef{idx: idx, typ: col.typ, name: name}, nil
}

func countOuter(e executor.Expr) int {
	n := 0
	walkAll(e, func(x executor.Expr) {
		if _, ok := x.(*outerRef); ok {
			n++
		}
	})
	return n
}

// walkAll walks e including the operands and keys of subquery placeholders.
func walkAll(e executor.Expr, f func(executor.Expr)) {
	executor.Walk(e, func(x executor.Expr) {
		f(x)
		if s, ok := x.(*subRef); ok {
			if s.u.x != nil {
				walkAll(s.u.x, f)
			}
			for _, k := range s.u.outerKeys {
				walkAll(k, f)
			}
		}
	})
}

// extractCorrelation removes from conjs the equalities inner = outer of a
// correlated subquery body and returns the inner sides (over the body's
// FROM row); the outer sides go to c.outerKeys.
//
// Another conjunct over inner and outer columns is kept in the subquery
// when each outer column in it is the outer side of one of those
// equalities: where the equality holds, the column's value is the inner
// side's (psql's \d has a.attcollation <> t.typcollation next to
// c.oid = a.attcollation).
func (b *binder) extractCorrelation(c *corrCtx, conjs []executor.Expr) (rest, inner []executor.Expr, err error) {
	var pending []executor.Expr
	keyed := map[int]executor.Expr{} // outer column -> the inner side equal to it
	for _, cj := range conjs {
		n := countOuter(cj)
		if n == 0 {
			rest = append(rest, cj)
			continue
		}
		if len(refs(cj)) == 0 && !hasSubRef(cj) && !hasVolatile(cj) {
			// over outer columns only: lifted out of the subquery
			c.used += n
			c.outerPreds = append(c.outerPreds, toOuterRow(cj))
			continue
		}
		call, ok := cj.(*executor.Call)
		if !ok || call.Name != "=" || len(call.Args) != 2 {
			pending = append(pending, cj)
			continue
		}
		in, out := call.Args[0], call.Args[1]
		if countOuter(in) > 0 {
			in, out = out, in
		}
		if countOuter(in) > 0 || len(refs(out)) > 0 || len(refs(in)) == 0 || hasVolatile(in) {
			pending = append(pending, cj)
			continue
		}
		if o, ok := out.(*outerRef); ok && in.Type().Kind == o.typ.Kind {
			keyed[o.idx] = in
		}
		if in.Type().Kind != out.Type().Kind {
			t, err := commonType([]types.Type{in.Type(), out.Type()}, "=")
			if err != nil {
				return nil, nil, err
			}
			if in, err = b.coerce(in, t, types.CastImplicit); err != nil {
				return nil, nil, err
			}
			if out, err = b.coerce(out, t, types.CastImplicit); err != nil {
				return nil, nil, err
			}
		}
		c.used += n
		c.outerKeys = append(c.outerKeys, toOuterRow(out))
		inner = append(inner, in)
	}
	for _, cj := range pending {
		n := countOuter(cj)
		sub, _ := executor.Map(cj, func(x executor.Expr) (executor.Expr, error) {
			if o, ok := x.(*outerRef); ok && keyed[o.idx] != nil {
				return keyed[o.idx], nil
			}
			return x, nil
		})
		if countOuter(sub) > 0 || hasSubRef(sub) {
			return nil, nil, corrUnsupported("correlated subquery condition %s is not supported: only equalities between an inner and an outer expression can be decorrelated", cj)
		}
		c.used += n
		rest = append(rest, sub)
	}
	return rest, inner, nil
}

// toOuterRow turns an expression over outer references into one over the
// enclosing query's row.
func toOuterRow(e executor.Expr) executor.Expr {
	out, _ := executor.Map(e, func(x executor.Expr) (executor.Expr, error) {
		if o, ok := x.(*outerRef); ok {
			return &executor.ColRef{Idx: o.idx, Typ: o.typ, Name: o.name}, nil
		}
		return x, nil
	})
	return out
}

// bindSubqueryUse binds a subquery in an expression: kind SubScalar,
// SubExists, or SubAny/SubAll of xe op (query).
func (b *binder) bindSubqueryUse(kind executor.SubqueryKind, q *ast.Query, xe ast.Expr, op string, not bool, sc *scope) (executor.Expr, error) {
	var x executor.Expr
	if xe != nil {
		var err error
		if x, err = b.bindExpr(xe, sc); err != nil {
			return nil, err
		}
	}
	c := &corrCtx{outer: sc}
	c.core, _ = q.Body.(*ast.SelectCore)
	saved := b.corr
	b.corr = c
	qp, err := b.bindSubqueryPlan(q, sc)
	b.corr = saved
	if err != nil {
		return nil, err
	}
	if c.refs != c.used {
		return nil, corrUnsupported("this correlated subquery is not supported: outer columns may only appear in equalities (inner.x = outer.y) of the subquery's WHERE clause")
	}
	switch kind {
	case executor.SubScalar:
		if len(qp.cols) != 1 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "subquery must return only one column")
		}
	case executor.SubAny, executor.SubAll:
		if len(qp.cols) != 1 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "subquery has too many columns")
		}
		if x.Type().Kind == types.KindUnknown {
			if x, err = b.coerce(x, qp.cols[0].Type, types.CastImplicit); err != nil {
				return nil, err
			}
		}
		if _, err := funcs.Resolve(op, []types.Type{x.Type(), qp.cols[0].Type}); err != nil {
			return nil, err
		}
	}
	u := &subUse{kind: kind, not: not, x: x, op: op, qp: qp, outerKeys: c.outerKeys, clause: b.clause}
	switch len(c.outerPreds) {
	case 0:
	case 1:
		u.outerPred = c.outerPreds[0]
	default:
		u.outerPred = &executor.BoolOp{Args: c.outerPreds}
	}
	typ := types.Bool
	if kind == executor.SubScalar {
		typ = qp.cols[0].Type
	}
	if b.apply != nil && b.apply.sc == sc {
		b.nsub++
		u.id = b.nsub
		b.apply.uses = append(b.apply.uses, u)
		return &subRef{u: u, typ: typ}, nil
	}
	if len(u.outerKeys) > 0 || u.outerPred != nil {
		clause := b.clause
		if clause == "" {
			clause = "this position"
		}
		return nil, corrUnsupported("a correlated subquery in %s is not supported", clause)
	}
	return b.runOnce(u)
}

// runOnce plans an uncorrelated subquery the pull-query way: computed once
// at the start of Run (not incremental; Plan.Incremental reports it).
func (b *binder) runOnce(u *subUse) (executor.Expr, error) {
	qp := u.qp
	slot := b.addSub(qp)
	switch u.kind {
	case executor.SubScalar:
		return &executor.SubqueryExpr{Kind: executor.SubScalar, Slot: slot, Typ: qp.cols[0].Type}, nil
	case executor.SubExists:
		return &executor.SubqueryExpr{Kind: executor.SubExists, Slot: slot, Not: u.not, Typ: types.Bool}, nil
	}
	colT := qp.cols[0].Type
	r, err := funcs.Resolve(u.op, []types.Type{u.x.Type(), colT})
	if err != nil {
		return nil, err
	}
	x, err := b.coerce(u.x, r.ArgTypes[0], types.CastImplicit)
	if err != nil {
		return nil, err
	}
	return &executor.SubqueryExpr{Kind: u.kind, Slot: slot, X: x, Cmp: r.Evaluator(), CmpName: u.op,
		ColType: r.ArgTypes[1], Not: u.not, Typ: types.Bool}, nil
}

// innerNode is the subquery's rows as its visible columns followed by its
// correlation keys.
func innerNode(qp *queryPlan) node {
	if qp.corrKeys == 0 {
		return qp.asNode()
	}
	ts := qp.root.colTypes()
	exprs := make([]executor.Expr, qp.visible+qp.corrKeys)
	for i := range exprs {
		exprs[i] = &executor.ColRef{Idx: i, Typ: ts[i], Name: fmt.Sprintf("#%d", i)}
	}
	return &projectNode{in: qp.root, exprs: exprs}
}

func colRefs(ts []types.Type, from, n, delta int) []executor.Expr {
	out := make([]executor.Expr, n)
	for i := range out {
		out[i] = &executor.ColRef{Idx: from + i + delta, Typ: ts[from+i], Name: fmt.Sprintf("#%d", from+i)}
	}
	return out
}

func mapAll(es []executor.Expr, f func(executor.Expr) (executor.Expr, error)) ([]executor.Expr, error) {
	out := make([]executor.Expr, len(es))
	for i, e := range es {
		var err error
		if out[i], err = f(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func identity(e executor.Expr) (executor.Expr, error) { return e, nil }

// substSubs replaces the subquery placeholders in e by their results.
func substSubs(e executor.Expr) (executor.Expr, error) {
	if e == nil {
		return nil, nil
	}
	return executor.Map(e, func(x executor.Expr) (executor.Expr, error) {
		if s, ok := x.(*subRef); ok {
			if s.u.result == nil {
				return nil, sqlerr.New(sqlerr.InternalError, "planner: subquery %d was not planned", s.u.id)
			}
			return s.u.result, nil
		}
		return x, nil
	})
}

func hasSubRef(e executor.Expr) bool {
	found := false
	executor.Walk(e, func(x executor.Expr) {
		if _, ok := x.(*subRef); ok {
			found = true
		}
	})
	return found
}

// asSubTest recognizes a WHERE conjunct that is a subquery test (EXISTS,
// IN, ANY, ALL), possibly negated.
func asSubTest(e executor.Expr) (*subUse, bool) {
	not := false
	if n, ok := e.(*executor.Not); ok {
		e, not = n.X, true
	}
	if s, ok := e.(*subRef); ok && s.u.kind != executor.SubScalar {
		return s.u, not
	}
	return nil, false
}

// applyWhere plans the subqueries of the WHERE conjuncts conjs over root
// (width columns): subquery tests become semi and anti joins, other uses
// joins that add columns. It returns the new root and width and the
// conjuncts left to filter on.
func (b *binder) applyWhere(root node, width int, conjs []executor.Expr, uses []*subUse) (node, int, []executor.Expr, error) {
	var rest []executor.Expr
	done := map[*subUse]bool{}
	for _, cj := range conjs {
		u, not := asSubTest(cj)
		if u == nil || u.qp.scalarAgg || (u.kind == executor.SubExists && len(u.outerKeys) == 0) || (u.x != nil && hasSubRef(u.x)) ||
			(u.outerPred != nil && (u.not != not || u.kind == executor.SubAll)) {
			rest = append(rest, cj)
			continue
		}
		if u.outerPred != nil {
			// EXISTS (... AND p) is p AND EXISTS (...); so are IN and ANY
			rest = append(rest, u.outerPred)
		}
		var conds []executor.Expr
		var err error
		root, width, conds, err = b.semiJoin(root, width, u, not)
		if err != nil {
			return nil, 0, nil, err
		}
		done[u] = true
		rest = append(rest, conds...)
	}
	var left []*subUse
	for _, u := range uses {
		if !done[u] {
			left = append(left, u)
		}
	}
	root, width, err := b.applySubs(root, width, left, identity)
	if err != nil {
		return nil, 0, nil, err
	}
	if rest, err = mapAll(rest, substSubs); err != nil {
		return nil, 0, nil, err
	}
	return root, width, rest, nil
}

// semiJoin plans a subquery test (negated when not) as a semi or anti join
// of root with the subquery. It may add columns (NOT IN's counts) and
// conditions on them.
func (b *binder) semiJoin(root node, width int, u *subUse, not bool) (node, int, []executor.Expr, error) {
	qp := u.qp
	neg := u.not != not
	in := innerNode(qp)
	its := in.colTypes()
	rkeys := colRefs(its, qp.visible, qp.corrKeys, 0)
	lkeys := append([]executor.Expr{}, u.outerKeys...)
	if u.kind == executor.SubExists {
		kind := executor.JoinSemi
		if neg {
			kind = executor.JoinAnti
		}
		return &joinNode{kind: kind, left: root, right: in, lkeys: lkeys, rkeys: rkeys}, width, nil, nil
	}
	colT := qp.cols[0].Type
	isIn := (u.kind == executor.SubAny && u.op == "=" && !neg) || (u.kind == executor.SubAll && u.op == "<>" && neg)
	notIn := (u.kind == executor.SubAny && u.op == "=" && neg) || (u.kind == executor.SubAll && u.op == "<>" && !neg)
	if isIn || notIn {
		t, err := commonType([]types.Type{u.x.Type(), colT}, "IN")
		if err != nil {
			return nil, 0, nil, err
		}
		lx, err := b.coerce(u.x, t, types.CastImplicit)
		if err != nil {
			return nil, 0, nil, err
		}
		rv, err := b.coerce(&executor.ColRef{Idx: 0, Typ: colT, Name: qp.cols[0].Name}, t, types.CastImplicit)
		if err != nil {
			return nil, 0, nil, err
		}
		if isIn {
			return &joinNode{kind: executor.JoinSemi, left: root, right: in,
				lkeys: append(lkeys, lx), rkeys: append(rkeys, rv)}, width, nil, nil
		}
		// NOT IN: no equal value, and (the subquery is empty, or neither
		// the operand nor any subquery value is NULL).
		root = &joinNode{kind: executor.JoinAnti, left: root, right: in,
			lkeys: append(append([]executor.Expr{}, lkeys...), lx), rkeys: append(append([]executor.Expr{}, rkeys...), rv)}
		cnt := &aggNode{in: in, groupBy: seq(qp.visible, qp.corrKeys), scalar: qp.corrKeys == 0,
			specs: []executor.AggSpec{
				{Func: executor.AggCountStar, Filter: -1, Type: types.Int64},
				{Func: executor.AggCount, Args: []int{0}, Filter: -1, ArgType: colT, Type: types.Int64},
			}, names: []string{"count(*)", "count(" + qp.cols[0].Name + ")"}}
		cts := cnt.colTypes()
		root = &joinNode{kind: executor.JoinLeft, left: root, right: cnt, lkeys: u.outerKeys, rkeys: colRefs(cts, 0, qp.corrKeys, 0)}
		n := &executor.ColRef{Idx: width + qp.corrKeys, Typ: types.Int64, Name: "count(*)"}
		nn := &executor.ColRef{Idx: width + qp.corrKeys + 1, Typ: types.Int64, Name: "count(" + qp.cols[0].Name + ")"}
		width += len(cts)
		empty, err := b.call("=", []executor.Expr{&executor.Coalesce{Args: []executor.Expr{n, zero64}, Typ: types.Int64}, zero64})
		if err != nil {
			return nil, 0, nil, err
		}
		noNull, err := b.call("=", []executor.Expr{nn, n})
		if err != nil {
			return nil, 0, nil, err
		}
		cond := &executor.BoolOp{Or: true, Args: []executor.Expr{empty,
			&executor.BoolOp{Args: []executor.Expr{&executor.IsNullExpr{X: u.x, Not: true}, noNull}}}}
		return root, width, []executor.Expr{cond}, nil
	}
	// Another comparison: a nested-loop (or correlation-key hash) semi or
	// anti join with the comparison as the residual.
	v := &executor.ColRef{Idx: width, Typ: colT, Name: qp.cols[0].Name}
	cmp, err := b.call(u.op, []executor.Expr{u.x, v})
	if err != nil {
		return nil, 0, nil, err
	}
	if cmp, err = b.coerceBool(cmp, u.op); err != nil {
		return nil, 0, nil, err
	}
	t, f := true, false
	kind := executor.JoinSemi
	var res executor.Expr
	switch {
	case u.kind == executor.SubAny && !neg: // some comparison is true
		res = cmp
	case u.kind == executor.SubAny && neg: // none is true or unknown
		kind, res = executor.JoinAnti, &executor.IsBoolExpr{X: cmp, Not: true, Value: &f}
	case !neg: // ALL: none is false or unknown
		kind, res = executor.JoinAnti, &executor.IsBoolExpr{X: cmp, Not: true, Value: &t}
	default: // NOT ALL: some is false
		res = &executor.IsBoolExpr{X: cmp, Value: &f}
	}
	return &joinNode{kind: kind, left: root, right: in, lkeys: lkeys, rkeys: rkeys, residual: res}, width, nil, nil
}

var zero64 = &executor.Const{Value: types.NewInt64(0), Typ: types.Int64}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// applySubs joins root (width columns) with what computes each use and
// sets the use's result, an expression over the widened row. rewrite maps
// an expression over the row the uses were bound against onto root's row.
func (b *binder) applySubs(root node, width int, uses []*subUse, rewrite func(executor.Expr) (executor.Expr, error)) (node, int, error) {
	for _, u := range uses {
		var err error
		if root, width, err = b.applySub(root, width, u, rewrite); err != nil {
			return nil, 0, err
		}
	}
	return root, width, nil
}

func (b *binder) applySub(root node, width int, u *subUse, rewrite func(executor.Expr) (executor.Expr, error)) (node, int, error) {
	qp := u.qp
	lkeys, err := mapAll(u.outerKeys, rewrite)
	if err != nil {
		return nil, 0, err
	}
	// when returns v where the lifted outer conjuncts hold, empty elsewhere.
	when := func(v, empty executor.Expr) executor.Expr { return v }
	if u.outerPred != nil {
		p, err := rewrite(u.outerPred)
		if err != nil {
			return nil, 0, err
		}
		when = func(v, empty executor.Expr) executor.Expr {
			return &executor.CaseExpr{Whens: []executor.When{{Cond: p, Result: v}}, Else: empty, Typ: v.Type()}
		}
	}
	nullOf := func(t types.Type) executor.Expr { return &executor.Const{Value: types.Null, Typ: t} }
	boolOf := func(v bool) executor.Expr { return &executor.Const{Value: types.NewBool(v), Typ: types.Bool} }
	var x executor.Expr
	if u.x != nil {
		if x, err = rewrite(u.x); err != nil {
			return nil, 0, err
		}
		if x, err = substSubs(x); err != nil {
			return nil, 0, err
		}
	}
	k := qp.corrKeys
	in := innerNode(qp)
	its := in.colTypes()
	switch {
	case u.kind == executor.SubExists && qp.scalarAgg:
		// An aggregate without GROUP BY always returns one row.
		u.result = &executor.Const{Value: types.NewBool(!u.not), Typ: types.Bool}
		return root, width, nil
	case u.kind == executor.SubExists:
		cnt := &aggNode{in: in, groupBy: seq(qp.visible, k), scalar: k == 0,
			specs: []executor.AggSpec{{Func: executor.AggCountStar, Filter: -1, Type: types.Int64}}, names: []string{"count(*)"}}
		cts := cnt.colTypes()
		root = &joinNode{kind: executor.JoinLeft, left: root, right: cnt, lkeys: lkeys, rkeys: colRefs(cts, 0, k, 0)}
		n := &executor.ColRef{Idx: width + k, Typ: types.Int64, Name: "count(*)"}
		op := ">"
		if u.not {
			op = "="
		}
		if u.result, err = b.call(op, []executor.Expr{&executor.Coalesce{Args: []executor.Expr{n, zero64}, Typ: types.Int64}, zero64}); err != nil {
			return nil, 0, err
		}
		u.result = when(u.result, boolOf(u.not))
		return root, width + len(cts), nil
	case u.kind == executor.SubScalar || qp.scalarAgg:
		var right node
		var rkeys []executor.Expr
		var val executor.Expr
		var res executor.Expr
		if qp.scalarAgg {
			right, rkeys = in, colRefs(its, 1, k, 0)
			val = &executor.ColRef{Idx: width, Typ: its[0], Name: qp.cols[0].Name}
			res = val
			if k > 0 && qp.empty != nil {
				if c, ok := qp.empty.(*executor.Const); !ok || !c.Value.IsNull() {
					res = &executor.CaseExpr{Whens: []executor.When{{
						Cond:   &executor.IsNullExpr{X: &executor.ColRef{Idx: width + 1, Typ: its[1]}, Not: true},
						Result: val}}, Else: qp.empty, Typ: its[0]}
				}
			}
		} else {
			agg := &aggNode{in: in, groupBy: seq(1, k), scalar: k == 0,
				specs: []executor.AggSpec{
					{Func: executor.AggCountStar, Filter: -1, Type: types.Int64},
					{Func: executor.AggAnyValue, Args: []int{0}, Filter: -1, ArgType: its[0], Type: its[0]},
				}, names: []string{"count(*)", "any_value(" + qp.cols[0].Name + ")"}}
			right, rkeys = agg, colRefs(agg.colTypes(), 0, k, 0)
			val = &executor.ColRef{Idx: width + k + 1, Typ: its[0], Name: qp.cols[0].Name}
			res = &executor.CardinalityCheck{N: &executor.ColRef{Idx: width + k, Typ: types.Int64, Name: "count(*)"}, X: val}
		}
		// the subquery over no rows: no row (NULL), or one row with its
		// aggregates over nothing
		empty := nullOf(its[0])
		if qp.scalarAgg && qp.empty != nil {
			empty = qp.empty
		}
		res = when(res, empty)
		root = &joinNode{kind: executor.JoinLeft, left: root, right: right, lkeys: lkeys, rkeys: rkeys}
		width += len(right.colTypes())
		if u.kind == executor.SubScalar {
			u.result = res
			return root, width, nil
		}
		// x op ANY|ALL (one row) is x op value.
		cmp, err := b.call(u.op, []executor.Expr{x, res})
		if err != nil {
			return nil, 0, err
		}
		if u.not {
			cmp = &executor.Not{X: cmp}
		}
		u.result = cmp
		return root, width, nil
	}
	if k > 0 {
		return nil, 0, corrUnsupported("IN, ANY or ALL with a correlated subquery is supported only as a condition of WHERE (ANDed with the others), not under OR or in the select list")
	}
	cp := *u
	cp.x = x
	if u.result, err = b.runOnce(&cp); err != nil {
		return nil, 0, err
	}
	u.result = when(u.result, boolOf(u.not != (u.kind == executor.SubAll)))
	return root, width, nil
}

// bindArrayQuantified binds x op ANY|ALL (ARRAY[...]): = ANY is IN,
// <> ALL is NOT IN, any other comparison an OR (ANY) or AND (ALL) of the
// comparisons, which has the same NULL rules. An array-typed parameter or
// value is refused: there is no array type yet.
func (b *binder) bindArrayQuantified(n *ast.Quantified, sc *scope) (executor.Expr, error) {
	op := n.Op
	if op == "!=" {
		op = "<>"
	}
	arr, ok := n.Array.(*ast.Func)
	if !ok || arr.Name != "array" {
		what := "an array value"
		if _, isParam := n.Array.(*ast.Param); isParam {
			what = "an array parameter"
		}
		quant := "ANY"
		if n.All {
			quant = "ALL"
		}
		return nil, sqlerr.Unsupported("%s %s with %s is not supported: Weir has no array type yet", op, quant, what).
			WithHint("Use x IN ($1, $2, ...) or x = ANY(ARRAY[$1, $2, ...]).")
	}
	if (op == "=" && !n.All) || (op == "<>" && n.All) {
		return b.bindExpr(&ast.InList{X: n.X, List: arr.Args, Not: n.All}, sc)
	}
	if len(arr.Args) == 0 {
		return &executor.Const{Value: types.NewBool(n.All), Typ: types.Bool}, nil
	}
	var parts []executor.Expr
	for _, a := range arr.Args {
		e, err := b.bindBinary(&ast.Binary{Op: op, L: n.X, R: a}, sc)
		if err != nil {
			return nil, err
		}
		if e, err = b.coerceBool(e, op+" ANY"); err != nil {
			return nil, err
		}
		parts = append(parts, e)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return &executor.BoolOp{Or: !n.All, Args: parts}, nil
}
