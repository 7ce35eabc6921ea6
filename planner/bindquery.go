package planner

import (
	"strconv"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func (b *binder) bindTopQuery(q *ast.Query) (*queryPlan, error) { return b.bindQuery(q, nil) }

// bindQuery binds a full query. Its ORDER BY / LIMIT are left in the plan
// for the caller: applied to the output at the top, or turned into a TopN by
// asNode below it.
func (b *binder) bindQuery(q *ast.Query, outer *scope) (*queryPlan, error) {
	if q.EmitChanges {
		return nil, sqlerr.Unsupported("EMIT CHANGES is not supported yet")
	}
	if len(q.With) > 0 {
		m := map[string]*ast.CTE{}
		for _, c := range q.With {
			if m[c.Name] != nil {
				return nil, sqlerr.New(sqlerr.Code("42712"), "WITH query name \"%s\" specified more than once", c.Name)
			}
			m[c.Name] = c
		}
		b.ctes = append(b.ctes, m)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
	}
	var qp *queryPlan
	if core, ok := q.Body.(*ast.SelectCore); ok {
		var err error
		if qp, err = b.bindSelect(core, q.OrderBy, outer); err != nil {
			return nil, err
		}
	} else {
		n, cols, err := b.bindSetBody(q.Body, outer)
		if err != nil {
			return nil, err
		}
		qp = &queryPlan{root: n, cols: cols, visible: len(cols)}
		if err := b.bindOutputOrder(qp, q.OrderBy, outer); err != nil {
			return nil, err
		}
	}
	if q.Limit != nil || q.Offset != nil {
		qp.scalarAgg = false
		if qp.corrKeys > 0 {
			return nil, corrUnsupported("LIMIT or OFFSET in a correlated subquery is not supported")
		}
	}
	var err error
	if q.Limit != nil {
		if qp.limit, err = b.bindLimit(q.Limit, "LIMIT", outer); err != nil {
			return nil, err
		}
	}
	if q.Offset != nil {
		if qp.offset, err = b.bindLimit(q.Offset, "OFFSET", outer); err != nil {
			return nil, err
		}
	}
	return qp, nil
}

func (b *binder) bindLimit(e ast.Expr, what string, outer *scope) (executor.Expr, error) {
	saveAgg, saveClause, saveWin := b.agg, b.clause, b.win
	b.agg, b.clause, b.win = nil, what, nil
	defer func() { b.agg, b.clause, b.win = saveAgg, saveClause, saveWin }()
	x, err := b.bindExpr(e, newScope(nil, outer))
	if err != nil {
		return nil, err
	}
	switch x.Type().Kind {
	case types.KindUnknown, types.KindInt16, types.KindInt32, types.KindInt64:
		return b.coerce(x, types.Int64, types.CastImplicit)
	case types.KindNumeric, types.KindFloat32, types.KindFloat64:
		return &executor.CastExpr{X: x, Typ: types.Int64, Ctx: types.CastAssignment}, nil
	}
	return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type bigint, not type %s", what, x.Type())
}

// bindOutputOrder binds ORDER BY over the output columns of a set
// operation or VALUES.
func (b *binder) bindOutputOrder(qp *queryPlan, order []*ast.OrderItem, outer *scope) error {
	if len(order) == 0 {
		return nil
	}
	sc := newScope(columnsScope(qp.cols, ""), outer)
	var extra []executor.Expr
	ts := qp.root.colTypes()
	for _, o := range order {
		col := -1
		if k, ok := positionOf(o.Expr); ok {
			if k < 1 || k > len(qp.cols) {
				return sqlerr.New(sqlerr.InvalidColumnReference, "ORDER BY position %d is not in select list", k)
			}
			col = k - 1
		} else {
			e, err := b.bindExpr(o.Expr, sc)
			if err != nil {
				return err
			}
			if c, ok := e.(*executor.ColRef); ok {
				col = c.Idx
			} else {
				col = len(ts) + len(extra)
				extra = append(extra, e)
			}
		}
		qp.order = append(qp.order, executor.SortKey{Col: col, Desc: o.Desc, NullsFirst: nullsFirst(o)})
	}
	if len(extra) > 0 {
		exprs := make([]executor.Expr, 0, len(ts)+len(extra))
		for i, t := range ts {
			exprs = append(exprs, &executor.ColRef{Idx: i, Typ: t, Name: qp.cols[i].Name})
		}
		qp.root = &projectNode{in: qp.root, exprs: append(exprs, extra...)}
	}
	return nil
}

func positionOf(e ast.Expr) (int, bool) {
	lit, ok := e.(*ast.Literal)
	if !ok || lit.Value.IsNull() {
		return 0, false
	}
	switch lit.Value.Kind() {
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return int(lit.Value.Int()), true
	}
	return 0, false
}

func columnsScope(cols []Column, table string) []scopeCol {
	out := make([]scopeCol, len(cols))
	for i, c := range cols {
		out[i] = scopeCol{table: table, name: c.Name, typ: c.Type}
	}
	return out
}

// bindSetBody binds a query body used as a relation (a member of a set
// operation, or a whole body that is not a SELECT).
func (b *binder) bindSetBody(body ast.QueryBody, outer *scope) (node, []Column, error) {
	switch n := body.(type) {
	case *ast.SelectCore:
		qp, err := b.bindSelect(n, nil, outer)
		if err != nil {
			return nil, nil, err
		}
		return qp.asNode(), qp.cols, nil
	case *ast.Query:
		qp, err := b.bindQuery(n, outer)
		if err != nil {
			return nil, nil, err
		}
		return qp.asNode(), qp.cols, nil
	case *ast.Values:
		return b.bindValues(n, outer)
	case *ast.SetOp:
		l, lc, err := b.bindSetBody(n.Left, outer)
		if err != nil {
			return nil, nil, err
		}
		r, rc, err := b.bindSetBody(n.Right, outer)
		if err != nil {
			return nil, nil, err
		}
		if len(lc) != len(rc) {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "each %s query must have the same number of columns", n.Op)
		}
		ts := make([]types.Type, len(lc))
		for i := range lc {
			if ts[i], err = commonType([]types.Type{lc[i].Type, rc[i].Type}, n.Op.String()); err != nil {
				return nil, nil, err
			}
		}
		if l, err = b.castNode(l, ts); err != nil {
			return nil, nil, err
		}
		if r, err = b.castNode(r, ts); err != nil {
			return nil, nil, err
		}
		cols := make([]Column, len(lc))
		for i := range lc {
			cols[i] = Column{Name: lc[i].Name, Type: ts[i]}
		}
		var out node
		switch n.Op {
		case ast.Union:
			out = &unionNode{inputs: []node{l, r}}
			if !n.All {
				out = &distinctNode{in: out}
			}
		case ast.Intersect:
			out = &setOpNode{kind: executor.SetIntersect, all: n.All, left: l, right: r}
		default:
			out = &setOpNode{kind: executor.SetExcept, all: n.All, left: l, right: r}
		}
		return out, cols, nil
	}
	return nil, nil, sqlerr.Unsupported("query body %T is not supported", body)
}

// castNode projects n's columns to ts where they differ.
func (b *binder) castNode(n node, ts []types.Type) (node, error) {
	in := n.colTypes()
	same := true
	exprs := make([]executor.Expr, len(ts))
	for i, t := range ts {
		var e executor.Expr = &executor.ColRef{Idx: i, Typ: in[i], Name: "#" + strconv.Itoa(i)}
		if in[i] != t {
			same = false
			var err error
			if e, err = b.coerce(e, t, types.CastImplicit); err != nil {
				return nil, err
			}
			if in[i].Kind == t.Kind {
				e = &executor.ColRef{Idx: i, Typ: t, Name: "#" + strconv.Itoa(i)}
			}
		}
		exprs[i] = e
	}
	if same {
		return n, nil
	}
	return &projectNode{in: n, exprs: exprs}, nil
}

func (b *binder) bindValues(v *ast.Values, outer *scope) (node, []Column, error) {
	sc := newScope(nil, outer)
	saveAgg, saveClause, saveWin := b.agg, b.clause, b.win
	b.agg, b.clause, b.win = nil, "VALUES", nil
	defer func() { b.agg, b.clause, b.win = saveAgg, saveClause, saveWin }()
	var rows [][]executor.Expr
	width := -1
	for _, r := range v.Rows {
		if width >= 0 && len(r) != width {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length")
		}
		width = len(r)
		row := make([]executor.Expr, len(r))
		for i, e := range r {
			if e == nil {
				return nil, nil, sqlerr.New(sqlerr.SyntaxError, "DEFAULT is not allowed in this context")
			}
			x, err := b.bindExpr(e, sc)
			if err != nil {
				return nil, nil, err
			}
			row[i] = x
		}
		rows = append(rows, row)
	}
	ts := make([]types.Type, max(width, 0))
	cols := make([]Column, len(ts))
	for c := range ts {
		col := make([]types.Type, len(rows))
		for i, r := range rows {
			col[i] = r[c].Type()
		}
		t, err := commonType(col, "VALUES")
		if err != nil {
			return nil, nil, err
		}
		ts[c] = t
		for _, r := range rows {
			if r[c], err = b.coerce(r[c], t, types.CastImplicit); err != nil {
				return nil, nil, err
			}
		}
		cols[c] = Column{Name: "column" + strconv.Itoa(c+1), Type: t}
	}
	return &valuesNode{rows: rows, types: ts}, cols, nil
}

// ---- FROM ----

func (b *binder) bindFrom(items []ast.TableExpr, outer *scope) (node, []scopeCol, error) {
	var root node
	var cols []scopeCol
	for _, it := range items {
		n, c, err := b.bindTableExpr(it, outer)
		if err != nil {
			return nil, nil, err
		}
		if root == nil {
			root, cols = n, c
			continue
		}
		root = &joinNode{kind: executor.JoinInner, left: root, right: n}
		cols = concatScopes(cols, c)
	}
	return root, cols, nil
}

// concatScopes is the scope of a join's row: l's columns then r's, with
// r's after l's in SELECT * order.
func concatScopes(l, r []scopeCol) []scopeCol {
	cols := append(append(make([]scopeCol, 0, len(l)+len(r)), l...), r...)
	for i := len(l); i < len(cols); i++ {
		cols[i].star += len(l)
	}
	return cols
}

func (b *binder) lookupCTE(name string) *ast.CTE {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c := b.ctes[i][name]; c != nil {
			return c
		}
	}
	return nil
}

func renameCols(cols []scopeCol, aliases []string, what string) error {
	if len(aliases) == 0 {
		return nil
	}
	vis := 0
	for i := range cols {
		if cols[i].hidden {
			continue
		}
		if vis < len(aliases) {
			cols[i].name = aliases[vis]
		}
		vis++
	}
	if len(aliases) > vis {
		return sqlerr.New(sqlerr.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", what, vis, len(aliases))
	}
	return nil
}

func (b *binder) bindTableExpr(t ast.TableExpr, outer *scope) (node, []scopeCol, error) {
	switch n := t.(type) {
	case *ast.TableName:
		if n.AsOfProcTime {
			return nil, nil, sqlerr.Unsupported("FOR SYSTEM_TIME AS OF PROCTIME() is supported only on the right side of a JOIN with an ON condition")
		}
		alias := n.Alias
		if alias == "" {
			alias = n.Name
		}
		if n.Schema == "" {
			if cte := b.lookupCTE(n.Name); cte != nil {
				// Bind the CTE with itself hidden: a non-recursive WITH
				// item that names itself means the table of that name.
				saved := b.ctes
				b.ctes = nil
				for _, m := range saved {
					cp := map[string]*ast.CTE{}
					for k, v := range m {
						if v != cte {
							cp[k] = v
						}
					}
					b.ctes = append(b.ctes, cp)
				}
				qp, err := b.bindQuery(cte.Query, nil)
				b.ctes = saved
				if err != nil {
					return nil, nil, err
				}
				cols := columnsScope(qp.cols, alias)
				if err := renameCols(cols, cte.Columns, cte.Name); err != nil {
					return nil, nil, err
				}
				if err := renameCols(cols, n.ColAliases, alias); err != nil {
					return nil, nil, err
				}
				return qp.asNode(), cols, nil
			}
		}
		if b.c.Catalog == nil {
			return nil, nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", n.QualifiedName())
		}
		rel, err := b.c.Catalog.Relation(n.Schema, n.Name)
		if err != nil {
			return nil, nil, err
		}
		cols := make([]scopeCol, len(rel.Columns))
		for i, c := range rel.Columns {
			cols[i] = scopeCol{table: alias, name: c.Name, typ: c.Type, hidden: c.Hidden, oid: uint32(rel.ID), attr: int16(i + 1)}
		}
		if err := renameCols(cols, n.ColAliases, alias); err != nil {
			return nil, nil, err
		}
		return &scanNode{rel: rel, alias: n.Alias}, cols, nil
	case *ast.DerivedTable:
		if n.Lateral {
			return nil, nil, sqlerr.Unsupported("LATERAL subqueries are not supported")
		}
		if n.Alias == "" {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "subquery in FROM must have an alias").
				WithHint("For example, FROM (SELECT ...) [AS] foo.")
		}
		saveAgg, saveClause, saveIn := b.agg, b.clause, b.inAgg
		b.agg, b.inAgg = nil, false
		qp, err := b.bindQuery(n.Query, nil)
		b.agg, b.clause, b.inAgg = saveAgg, saveClause, saveIn
		if err != nil {
			return nil, nil, err
		}
		cols := columnsScope(qp.cols, n.Alias)
		if err := renameCols(cols, n.ColAliases, n.Alias); err != nil {
			return nil, nil, err
		}
		return qp.asNode(), cols, nil
	case *ast.Join:
		return b.bindJoin(n, outer)
	case *ast.TableFunc:
		switch strings.ToLower(n.Name) {
		case "tumble", "hop":
			return b.bindWindowTVF(n, outer)
		case "session":
			return b.bindSession(n, outer)
		}
		return nil, nil, sqlerr.Unsupported("table function %s in FROM is not supported yet", n.Name)
	}
	return nil, nil, sqlerr.Unsupported("FROM item %T is not supported", t)
}

func (b *binder) bindJoin(j *ast.Join, outer *scope) (node, []scopeCol, error) {
	ln, lcols, err := b.bindTableExpr(j.Left, outer)
	if err != nil {
		return nil, nil, err
	}
	right := j.Right
	temporal := false
	if tn, ok := right.(*ast.TableName); ok && tn.AsOfProcTime {
		t := *tn
		t.AsOfProcTime = false
		right, temporal = &t, true
	}
	rn, rcols, err := b.bindTableExpr(right, outer)
	if err != nil {
		return nil, nil, err
	}
	L := len(lcols)
	cols := concatScopes(lcols, rcols)
	kind := executor.JoinInner
	switch j.Kind {
	case ast.LeftJoin:
		kind = executor.JoinLeft
	case ast.RightJoin:
		kind = executor.JoinRight
	case ast.FullJoin:
		kind = executor.JoinFull
	}
	var conds []executor.Expr
	using := j.Using
	if j.Natural {
		for _, lc := range lcols {
			if lc.hidden || lc.usingDup {
				continue
			}
			for _, rc := range rcols {
				if !rc.hidden && !rc.usingDup && rc.name == lc.name {
					using = append(using, lc.name)
					break
				}
			}
		}
	}
	findSide := func(cs []scopeCol, name, side string) (int, error) {
		found := -1
		for i, c := range cs {
			if c.name == name && !c.hidden && !c.usingDup {
				if found >= 0 {
					return -1, sqlerr.New(sqlerr.AmbiguousColumn, "common column name \"%s\" appears more than once in %s table", name, side)
				}
				found = i
			}
		}
		if found < 0 {
			return -1, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" specified in USING clause does not exist in %s table", name, side)
		}
		return found, nil
	}
	var merged []int             // the merged column of each USING column, in cols
	var coalesce []executor.Expr // FULL JOIN: COALESCE(left.c, right.c), appended
	for _, u := range using {
		li, err := findSide(lcols, u, "left")
		if err != nil {
			return nil, nil, err
		}
		ri, err := findSide(rcols, u, "right")
		if err != nil {
			return nil, nil, err
		}
		lref := &executor.ColRef{Idx: li, Typ: lcols[li].typ, Name: lcols[li].table + "." + u}
		rref := &executor.ColRef{Idx: L + ri, Typ: rcols[ri].typ, Name: rcols[ri].table + "." + u}
		eq, err := b.call("=", []executor.Expr{lref, rref})
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, eq)
		switch kind {
		case executor.JoinRight:
			cols[li].usingDup = true
			merged = append(merged, L+ri)
		case executor.JoinFull:
			// The unqualified column is COALESCE(left.c, right.c).
			cols[li].usingDup, cols[L+ri].usingDup = true, true
			xs, t, err := b.unifyExprs([]executor.Expr{lref, rref}, "JOIN/USING")
			if err != nil {
				return nil, nil, err
			}
			merged = append(merged, len(cols))
			cols = append(cols, scopeCol{name: u, typ: t})
			coalesce = append(coalesce, &executor.Coalesce{Args: xs, Typ: t})
		default:
			cols[L+ri].usingDup = true
			merged = append(merged, li)
		}
	}
	// SELECT * lists the merged columns first, then the rest of the left
	// and right columns (PostgreSQL's rule).
	if len(merged) > 0 {
		rank := map[int]int{}
		for k, m := range merged {
			rank[m] = k
		}
		next := len(merged)
		for _, part := range [][2]int{{0, L}, {L, L + len(rcols)}} {
			for _, i := range starOrder(cols[part[0]:part[1]]) {
				if _, ok := rank[part[0]+i]; !ok {
					rank[part[0]+i] = next
					next++
				}
			}
		}
		for i := range cols {
			cols[i].star = rank[i]
		}
	}
	if j.On != nil {
		saveAgg, saveClause := b.agg, b.clause
		b.agg, b.clause = nil, "JOIN conditions"
		e, err := b.bindExpr(j.On, newScope(cols, outer))
		b.agg, b.clause = saveAgg, saveClause
		if err != nil {
			return nil, nil, err
		}
		if e, err = b.coerceBool(e, "JOIN/ON"); err != nil {
			return nil, nil, err
		}
		conds = append(conds, splitAnd(e)...)
	}
	if j.Within != nil {
		w, err := b.withinConds(j.Within, ln, rn, cols, L)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, w...)
	}
	jn := &joinNode{kind: kind, left: ln, right: rn, temporal: temporal}
	if kind == executor.JoinInner {
		n := pushFilter(jn, conds)
		if temporal {
			if err := b.checkTemporalJoin(kind, jn.left, jn.rkeys); err != nil {
				return nil, nil, err
			}
		}
		return n, cols, nil
	}
	for _, c := range conds {
		if lk, rk, ok := equiKey(c, L); ok {
			jn.lkeys, jn.rkeys = append(jn.lkeys, lk), append(jn.rkeys, rk)
		} else {
			jn.residual = andExpr(jn.residual, c)
		}
	}
	if temporal {
		if err := b.checkTemporalJoin(kind, jn.left, jn.rkeys); err != nil {
			return nil, nil, err
		}
	}
	if len(coalesce) > 0 {
		ts := jn.colTypes()
		exprs := colRefs(ts, 0, len(ts), 0)
		for i := range exprs {
			exprs[i].(*executor.ColRef).Name = qualified(cols[i])
		}
		return &projectNode{in: jn, exprs: append(exprs, coalesce...)}, cols, nil
	}
	return jn, cols, nil
}
