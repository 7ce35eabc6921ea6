package planner

import (
	"slices"
	"strconv"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

type target struct {
	e    executor.Expr
	name string
	oid  uint32
	attr int16
}

// sortItem is an ORDER BY or DISTINCT ON item: an output column (col >= 0)
// or an expression to add as a hidden column.
type sortItem struct {
	col        int
	e          executor.Expr
	desc       bool
	nullsFirst bool
}

// bindSelect binds SELECT ... FROM ... WHERE ... GROUP BY ... HAVING with
// its ORDER BY (which may use input columns and aggregates).
func (b *binder) bindSelect(core *ast.SelectCore, order []*ast.OrderItem, outer *scope) (*queryPlan, error) {
	saveAgg, saveClause, saveIn := b.agg, b.clause, b.inAgg
	saveWin, saveInWin, saveWindows := b.win, b.inWin, b.windows
	defer func() {
		b.agg, b.clause, b.inAgg = saveAgg, saveClause, saveIn
		b.win, b.inWin, b.windows = saveWin, saveInWin, saveWindows
	}()
	b.inAgg, b.win, b.inWin = false, nil, false
	if err := b.defineWindows(core.Windows); err != nil {
		return nil, err
	}

	var root node
	var cols []scopeCol
	if len(core.From) == 0 {
		root = &valuesNode{rows: [][]executor.Expr{{}}}
	} else {
		var err error
		if root, cols, err = b.bindFrom(core.From, outer); err != nil {
			return nil, err
		}
	}
	sc := newScope(cols, outer)
	ap := &applyCtx{sc: sc}
	saveApply := b.apply
	b.apply = ap
	defer func() { b.apply = saveApply }()
	width := len(cols)
	body := b.corr != nil && b.corr.core == core
	var corrInner []executor.Expr

	if core.Where != nil {
		b.agg, b.clause = nil, "WHERE"
		pred, err := b.bindExpr(core.Where, sc)
		if err != nil {
			return nil, err
		}
		if pred, err = b.coerceBool(pred, "WHERE"); err != nil {
			return nil, err
		}
		conjs := splitAnd(pred)
		if body {
			if conjs, corrInner, err = b.extractCorrelation(b.corr, conjs); err != nil {
				return nil, err
			}
		}
		if root, width, conjs, err = b.applyWhere(root, width, conjs, ap.take()); err != nil {
			return nil, err
		}
		root = pushFilter(root, conjs)
	}
	if err := b.intervalJoins(root); err != nil {
		return nil, err
	}
	if len(corrInner) > 0 && len(core.DistinctOn) > 0 {
		return nil, corrUnsupported("DISTINCT ON in a correlated subquery is not supported")
	}

	coll := &aggCollector{}
	wins := &winCollector{}
	b.agg, b.clause, b.win = coll, "", wins
	var targets []target
	for _, t := range core.Targets {
		if t.Star {
			if t.Table == "" && len(cols) == 0 {
				return nil, sqlerr.New(sqlerr.SyntaxError, "SELECT * with no tables specified is not valid")
			}
			if t.Table != "" && !sc.tables[t.Table] {
				return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table \"%s\"", t.Table)
			}
			for _, i := range starOrder(cols) {
				c := cols[i]
				if c.hidden || (t.Table == "" && c.usingDup) || (t.Table != "" && c.table != t.Table) {
					continue
				}
				targets = append(targets, target{
					e:    &executor.ColRef{Idx: i, Typ: c.typ, Name: qualified(c)},
					name: c.name, oid: c.oid, attr: c.attr,
				})
			}
			continue
		}
		e, err := b.bindExpr(t.Expr, sc)
		if err != nil {
			return nil, err
		}
		if e, err = b.settleUnknown(e); err != nil {
			return nil, err
		}
		tg := target{e: e, name: t.Alias}
		if tg.name == "" {
			tg.name = figureName(t.Expr)
		}
		if c, ok := e.(*executor.ColRef); ok && c.Idx < len(cols) {
			tg.oid, tg.attr = cols[c.Idx].oid, cols[c.Idx].attr
		}
		targets = append(targets, tg)
	}

	// GROUP BY: by input expression, output position or output alias.
	b.agg, b.clause, b.apply, b.win = nil, "GROUP BY", nil, nil
	var groups []executor.Expr
	groupBy, err := windowClauseGroupBy(core)
	if err != nil {
		return nil, err
	}
	for _, g := range groupBy {
		var e executor.Expr
		if k, ok := positionOf(g); ok {
			if k < 1 || k > len(targets) {
				return nil, sqlerr.New(sqlerr.InvalidColumnReference, "GROUP BY position %d is not in select list", k)
			}
			e = targets[k-1].e
		} else if cr, ok := g.(*ast.ColumnRef); ok && cr.Table == "" {
			if i, _ := sc.find("", cr.Name); i < 0 {
				for _, t := range targets {
					if t.name == cr.Name {
						e = t.e
						break
					}
				}
			}
		}
		if e == nil {
			var err error
			if e, err = b.bindExpr(g, sc); err != nil {
				return nil, err
			}
			if e, err = b.settleUnknown(e); err != nil {
				return nil, err
			}
		}
		if containsAgg(e) {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in GROUP BY")
		}
		if containsWin(e) {
			return nil, windowingError("window functions are not allowed in GROUP BY")
		}
		if hasSubRef(e) {
			return nil, sqlerr.Unsupported("a subquery in GROUP BY is not supported")
		}
		groups = append(groups, e)
	}
	if err := keySession(root, groups); err != nil {
		return nil, err
	}

	b.agg, b.clause, b.apply = coll, "", ap
	var having executor.Expr
	if core.Having != nil {
		e, err := b.bindExpr(core.Having, sc)
		if err != nil {
			return nil, err
		}
		if having, err = b.coerceBool(e, "HAVING"); err != nil {
			return nil, err
		}
	}

	bindItem := func(e ast.Expr, desc, nf bool, what string) (sortItem, error) {
		it := sortItem{col: -1, desc: desc, nullsFirst: nf}
		if k, ok := positionOf(e); ok {
			if k < 1 || k > len(targets) {
				return it, sqlerr.New(sqlerr.InvalidColumnReference, "%s position %d is not in select list", what, k)
			}
			it.col = k - 1
			return it, nil
		}
		if cr, ok := e.(*ast.ColumnRef); ok && cr.Table == "" {
			match := -1
			for i, t := range targets {
				if t.name == cr.Name {
					if match >= 0 && exprKey(targets[match].e) != exprKey(t.e) {
						return it, sqlerr.New(sqlerr.AmbiguousColumn, "%s \"%s\" is ambiguous", what, cr.Name)
					}
					if match < 0 {
						match = i
					}
				}
			}
			if match >= 0 {
				it.col = match
				return it, nil
			}
		}
		x, err := b.bindExpr(e, sc)
		if err != nil {
			return it, err
		}
		if x, err = b.settleUnknown(x); err != nil {
			return it, err
		}
		it.e = x
		return it, nil
	}
	var sorts, ons []sortItem
	b.win = wins
	for _, o := range order {
		it, err := bindItem(o.Expr, o.Desc, nullsFirst(o), "ORDER BY")
		if err != nil {
			return nil, err
		}
		sorts = append(sorts, it)
	}
	for _, e := range core.DistinctOn {
		it, err := bindItem(e, false, false, "SELECT DISTINCT ON")
		if err != nil {
			return nil, err
		}
		ons = append(ons, it)
	}
	b.agg, b.win = nil, nil
	uses := ap.take()

	var keyOut []executor.Expr // correlation keys over the output row
	scalarAgg := false
	var empty executor.Expr
	if len(groups) > 0 || len(coll.calls) > 0 || having != nil {
		if having != nil && len(groups) == 0 && len(corrInner) > 0 {
			return nil, corrUnsupported("HAVING in a correlated subquery without GROUP BY is not supported")
		}
		allGroups := append(append([]executor.Expr{}, groups...), corrInner...)
		pre := append([]executor.Expr{}, allGroups...)
		specs := make([]executor.AggSpec, len(coll.calls))
		names := make([]string, len(coll.calls))
		for i, c := range coll.calls {
			s := executor.AggSpec{Func: c.fn, Distinct: c.distinct, Filter: -1, ArgType: c.argType, Type: c.typ}
			for _, a := range c.args {
				s.Args = append(s.Args, len(pre))
				pre = append(pre, a)
			}
			if c.filter != nil {
				s.Filter = len(pre)
				pre = append(pre, c.filter)
			}
			for _, o := range c.order {
				s.OrderBy = append(s.OrderBy, executor.SortKey{Col: len(pre), Desc: o.desc, NullsFirst: o.nullsFirst})
				pre = append(pre, o.e)
			}
			specs[i], names[i] = s, c.text
		}
		groupBy := make([]int, len(allGroups))
		for i := range groupBy {
			groupBy[i] = i
		}
		agg := &aggNode{in: &projectNode{in: root, exprs: pre}, groupBy: groupBy, specs: specs, scalar: len(allGroups) == 0, names: names}
		root, width = agg, len(agg.colTypes())
		for i, k := range corrInner {
			keyOut = append(keyOut, &executor.ColRef{Idx: len(groups) + i, Typ: k.Type(), Name: k.String()})
		}
		rw := &aggRewriter{groups: map[string]int{}, n: len(allGroups)}
		for i, g := range groups {
			if _, dup := rw.groups[exprKey(g)]; !dup {
				rw.groups[exprKey(g)] = i
			}
		}
		var err error
		for i := range targets {
			if targets[i].e, err = rw.rewrite(targets[i].e); err != nil {
				return nil, err
			}
		}
		if err := mapWinCalls(wins.calls, rw.rewrite); err != nil {
			return nil, err
		}
		if len(groups) == 0 && having == nil && len(targets) > 0 && len(wins.calls) == 0 {
			scalarAgg = true
			empty, err = executor.Map(targets[0].e, func(x executor.Expr) (executor.Expr, error) {
				if c, ok := x.(*executor.ColRef); ok {
					if c.Idx < rw.n || c.Idx >= rw.n+len(specs) {
						scalarAgg = false
						return x, nil
					}
					s := specs[c.Idx-rw.n]
					if s.Func == executor.AggCount || s.Func == executor.AggCountStar {
						return zero64, nil
					}
					return &executor.Const{Value: types.Null, Typ: s.Type}, nil
				}
				if _, ok := x.(*subRef); ok {
					scalarAgg = false
				}
				return x, nil
			})
			if err != nil {
				return nil, err
			}
		}
		if having != nil {
			if having, err = rw.rewrite(having); err != nil {
				return nil, err
			}
		}
		if root, width, err = b.applySubs(root, width, uses, rw.rewrite); err != nil {
			return nil, err
		}
		if having != nil {
			if having, err = substSubs(having); err != nil {
				return nil, err
			}
			root = &filterNode{in: root, pred: having}
		}
		for _, items := range [][]sortItem{sorts, ons} {
			for i := range items {
				if items[i].e != nil {
					if items[i].e, err = rw.rewrite(items[i].e); err != nil {
						return nil, err
					}
				}
			}
		}
	} else {
		keyOut = corrInner
		var err error
		if root, width, err = b.applySubs(root, width, uses, identity); err != nil {
			return nil, err
		}
	}
	// Window functions, over the rows WHERE, GROUP BY and HAVING left.
	if len(wins.calls) > 0 {
		if err := mapWinCalls(wins.calls, substSubs); err != nil {
			return nil, err
		}
		root = planWindows(root, wins.calls, keyOut)
	}
	subst := func(e executor.Expr) (executor.Expr, error) {
		e, err := substSubs(e)
		if err != nil {
			return nil, err
		}
		return substWins(e)
	}
	for i := range targets {
		var err error
		if targets[i].e, err = subst(targets[i].e); err != nil {
			return nil, err
		}
	}
	for _, items := range [][]sortItem{sorts, ons} {
		for i := range items {
			var err error
			if items[i].e, err = subst(items[i].e); err != nil {
				return nil, err
			}
		}
	}
	_ = width

	// The output projection: targets, correlation keys, then hidden sort /
	// DISTINCT ON columns.
	proj := make([]executor.Expr, len(targets))
	keys := make([]string, len(targets))
	for i, t := range targets {
		proj[i] = t.e
		keys[i] = exprKey(t.e)
	}
	proj = append(proj, keyOut...)
	place := func(items []sortItem, what string) error {
		for i := range items {
			if items[i].col >= 0 {
				continue
			}
			k := exprKey(items[i].e)
			for j := range targets {
				if keys[j] == k {
					items[i].col = j
					break
				}
			}
			if items[i].col >= 0 {
				continue
			}
			if core.Distinct && len(core.DistinctOn) == 0 {
				return sqlerr.New(sqlerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
			items[i].col = len(proj)
			proj = append(proj, items[i].e)
		}
		return nil
	}
	if err := place(sorts, "ORDER BY"); err != nil {
		return nil, err
	}
	if err := place(ons, "DISTINCT ON"); err != nil {
		return nil, err
	}
	root = &projectNode{in: root, exprs: proj}
	sortKeys := make([]executor.SortKey, len(sorts))
	for i, s := range sorts {
		sortKeys[i] = executor.SortKey{Col: s.col, Desc: s.desc, NullsFirst: s.nullsFirst}
	}
	switch {
	case len(core.DistinctOn) > 0:
		part := make([]int, len(ons))
		for i, o := range ons {
			part[i] = o.col
		}
		root = &topNNode{in: root, partition: part, keys: sortKeys, limit: &executor.Const{Value: types.NewInt64(1), Typ: types.Int64}}
	case core.Distinct:
		root = &distinctNode{in: root}
	}
	out := make([]Column, len(targets))
	for i, t := range targets {
		out[i] = Column{Name: t.name, Type: t.e.Type(), TableOID: t.oid, Attr: t.attr}
	}
	return &queryPlan{root: root, cols: out, order: sortKeys, visible: len(targets), corrKeys: len(keyOut),
		scalarAgg: scalarAgg && len(core.DistinctOn) == 0, empty: empty}, nil
}

// starOrder is the order of cols in SELECT *.
func starOrder(cols []scopeCol) []int {
	idx := make([]int, len(cols))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cols[a].star - cols[b].star })
	return idx
}

func qualified(c scopeCol) string {
	if c.table != "" {
		return c.table + "." + c.name
	}
	return c.name
}

func containsAgg(e executor.Expr) bool {
	found := false
	var walk func(executor.Expr)
	walk = func(x executor.Expr) {
		if _, ok := x.(*aggRef); ok {
			found = true
			return
		}
		for _, c := range executor.Children(x) {
			walk(c)
		}
	}
	walk(e)
	return found
}

// exprKey identifies an expression for matching GROUP BY and ORDER BY
// items against select-list expressions.
func exprKey(e executor.Expr) string {
	m, err := executor.Map(e, func(x executor.Expr) (executor.Expr, error) {
		if c, ok := x.(*executor.ColRef); ok {
			return &executor.ColRef{Idx: c.Idx, Typ: c.Typ, Name: "#" + strconv.Itoa(c.Idx)}, nil
		}
		return x, nil
	})
	if err != nil {
		return e.String()
	}
	return m.String()
}

// aggRewriter maps an expression over the FROM row onto the aggregate's
// output row: GROUP BY expressions become their group column, aggregate
// calls their result column; any other column reference is an error.
type aggRewriter struct {
	groups map[string]int
	n      int
}

func (rw *aggRewriter) rewrite(e executor.Expr) (executor.Expr, error) {
	if i, ok := rw.groups[exprKey(e)]; ok {
		if _, isConst := e.(*executor.Const); !isConst {
			return &executor.ColRef{Idx: i, Typ: e.Type(), Name: e.String()}, nil
		}
	}
	switch x := e.(type) {
	case *aggRef:
		return &executor.ColRef{Idx: rw.n + x.idx, Typ: x.call.typ, Name: x.call.text}, nil
	case *executor.ColRef:
		return nil, sqlerr.New(sqlerr.GroupingError, "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", x.Name)
	}
	return executor.MapChildren(e, rw.rewrite)
}

// figureName names an unaliased select-list column as PostgreSQL does.
func figureName(e ast.Expr) string {
	name, _ := figureNameStrength(e)
	return name
}

// figureNameStrength is PostgreSQL's FigureColnameInternal: strength 2 is
// a real name (column, function), 1 a cast's type name, which an outer
// cast overrides, 0 none.
func figureNameStrength(e ast.Expr) (string, int) {
	switch x := e.(type) {
	case *ast.ColumnRef:
		return x.Name, 2
	case *ast.Func:
		return x.Name, 2
	case *ast.Cast:
		if n, s := figureNameStrength(x.X); s > 1 {
			return n, s
		}
		return typeName(x.Type), 1
	case *ast.Case:
		return "case", 1
	case *ast.Exists:
		return "exists", 2
	case *ast.Literal:
		if x.Value.Kind() == types.KindBool {
			return "bool", 1
		}
	case *ast.Subquery:
		if core, ok := x.Query.Body.(*ast.SelectCore); ok && len(core.Targets) == 1 && !core.Targets[0].Star {
			if core.Targets[0].Alias != "" {
				return core.Targets[0].Alias, 2
			}
			return figureNameStrength(core.Targets[0].Expr)
		}
	}
	return "?column?", 0
}
