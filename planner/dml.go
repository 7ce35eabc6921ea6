package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// dmlPlan is INSERT, UPDATE or DELETE. source yields full rows of the
// table: for INSERT the new rows (defaults applied, assignment-cast), for
// UPDATE and DELETE the old rows to change. The whole source is computed
// before the first write, so a statement never sees its own writes.
type dmlPlan struct {
	kind      stmtKind
	rel       *catalog.Relation
	source    *queryPlan
	set       []setItem // UPDATE: over the old row
	conflict  *conflictPlan
	returning []executor.Expr // over the final row
	// dedupe: source rows are the target's columns followed by others
	// (UPDATE ... FROM, DELETE ... USING) and a target row may come more
	// than once; it is changed once.
	dedupe bool
}

type setItem struct {
	col int
	e   executor.Expr
}

// conflictPlan is ON CONFLICT on the primary key. set and where are over
// the existing row followed by the proposed ("excluded") row.
type conflictPlan struct {
	doNothing bool
	set       []setItem
	where     executor.Expr
}

func (b *binder) relation(t *ast.TableName) (*catalog.Relation, error) {
	if b.c.Catalog == nil {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", t.QualifiedName())
	}
	rel, err := b.c.Catalog.Relation(t.Schema, t.Name)
	if err != nil {
		return nil, err
	}
	if rel.Kind != catalog.Table {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "cannot change %s \"%s\"", rel.Kind, rel.Name)
	}
	return rel, nil
}

func tableScope(rel *catalog.Relation, alias string) []scopeCol {
	cols := make([]scopeCol, len(rel.Columns))
	for i, c := range rel.Columns {
		cols[i] = scopeCol{table: alias, name: c.Name, typ: c.Type, hidden: c.Hidden, oid: uint32(rel.ID), attr: int16(i + 1)}
	}
	return cols
}

func aliasOf(t *ast.TableName) string {
	if t.Alias != "" {
		return t.Alias
	}
	return t.Name
}

// targetColumn resolves a column named by INSERT or SET.
func targetColumn(rel *catalog.Relation, name string) (int, error) {
	i := rel.ColumnIndex(name)
	if i < 0 || rel.Columns[i].Hidden {
		return -1, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, rel.Name)
	}
	return i, nil
}

// assign converts e for storing into column col (42804 when impossible).
func (b *binder) assign(e executor.Expr, rel *catalog.Relation, col int) (executor.Expr, error) {
	c := rel.Columns[col]
	x, err := b.coerce(e, c.Type, types.CastAssignment)
	if err != nil {
		if sqlerr.CodeOf(err) == sqlerr.DatatypeMismatch {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "column \"%s\" is of type %s but expression is of type %s", c.Name, c.Type, e.Type()).
				WithHint("You will need to rewrite or cast the expression.")
		}
		return nil, err
	}
	return x, nil
}

// defaultExpr is column col's DEFAULT (NULL when none).
func (b *binder) defaultExpr(rel *catalog.Relation, col int) (executor.Expr, error) {
	c := rel.Columns[col]
	if c.Default == "" {
		return &executor.Const{Value: types.Null, Typ: c.Type}, nil
	}
	ae, err := parser.ParseExpr(c.Default)
	if err != nil {
		return nil, fmt.Errorf("default of column %q: %w", c.Name, err)
	}
	saveAgg, saveClause := b.agg, b.clause
	b.agg, b.clause = nil, "DEFAULT expressions"
	defer func() { b.agg, b.clause = saveAgg, saveClause }()
	e, err := b.bindExpr(ae, newScope(nil, nil))
	if err != nil {
		return nil, err
	}
	return b.assign(e, rel, col)
}

// bindReturning binds RETURNING over the table's row.
func (b *binder) bindReturning(targets []*ast.Target, rel *catalog.Relation, alias string) ([]executor.Expr, []Column, error) {
	if len(targets) == 0 {
		return nil, nil, nil
	}
	saveAgg, saveClause := b.agg, b.clause
	b.agg, b.clause = nil, "RETURNING"
	defer func() { b.agg, b.clause = saveAgg, saveClause }()
	cols := tableScope(rel, alias)
	sc := newScope(cols, nil)
	var exprs []executor.Expr
	var out []Column
	for _, t := range targets {
		if t.Star {
			for i, c := range cols {
				if !c.hidden {
					exprs = append(exprs, &executor.ColRef{Idx: i, Typ: c.typ, Name: c.name})
					out = append(out, Column{Name: c.name, Type: c.typ, TableOID: c.oid, Attr: c.attr})
				}
			}
			continue
		}
		e, err := b.bindExpr(t.Expr, sc)
		if err != nil {
			return nil, nil, err
		}
		if e, err = b.settleUnknown(e); err != nil {
			return nil, nil, err
		}
		name := t.Alias
		if name == "" {
			name = figureName(t.Expr)
		}
		col := Column{Name: name, Type: e.Type()}
		if c, ok := e.(*executor.ColRef); ok {
			col.TableOID, col.Attr = cols[c.Idx].oid, cols[c.Idx].attr
		}
		exprs = append(exprs, e)
		out = append(out, col)
	}
	return exprs, out, nil
}

func (b *binder) planInsert(n *ast.Insert) (*Plan, error) {
	rel, err := b.relation(n.Table)
	if err != nil {
		return nil, err
	}
	var cols []int
	if len(n.Columns) == 0 {
		// Without a column list, the values fill the leading columns.
		cols = rel.Visible()
		w := len(cols)
		if n.Query != nil {
			if v, ok := n.Query.Body.(*ast.Values); ok && len(v.Rows) > 0 {
				w = len(v.Rows[0])
			} else if core, ok := n.Query.Body.(*ast.SelectCore); ok {
				w = 0
				for _, t := range core.Targets {
					if t.Star {
						w = len(cols)
						break
					}
					w++
				}
			}
		}
		if w < len(cols) {
			cols = cols[:w]
		}
	} else {
		seen := map[int]bool{}
		for _, name := range n.Columns {
			i, err := targetColumn(rel, name)
			if err != nil {
				return nil, err
			}
			if seen[i] {
				return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", name)
			}
			seen[i] = true
			cols = append(cols, i)
		}
	}
	pos := make([]int, len(rel.Columns)) // table column -> source position, -1
	for i := range pos {
		pos[i] = -1
	}
	for p, c := range cols {
		pos[c] = p
	}
	defaults := make([]executor.Expr, len(rel.Columns))
	for i := range rel.Columns {
		if pos[i] < 0 || n.DefaultValues {
			if defaults[i], err = b.defaultExpr(rel, i); err != nil {
				return nil, err
			}
		}
	}
	width := len(rel.Columns)
	colTypes := make([]types.Type, width)
	for i, c := range rel.Columns {
		colTypes[i] = c.Type
	}
	var source node
	values, simple := (*ast.Values)(nil), false
	if n.Query != nil && len(n.Query.With) == 0 && n.Query.Limit == nil && n.Query.Offset == nil && len(n.Query.OrderBy) == 0 {
		values, simple = n.Query.Body.(*ast.Values)
	}
	switch {
	case n.DefaultValues:
		source = &valuesNode{rows: [][]executor.Expr{defaults}, types: colTypes}
	case simple:
		b.agg, b.clause = nil, "VALUES"
		vn := &valuesNode{types: colTypes}
		for _, row := range values.Rows {
			if len(row) > len(cols) {
				return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more expressions than target columns")
			}
			if len(row) < len(cols) {
				return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more target columns than expressions")
			}
			full := make([]executor.Expr, width)
			for i := range rel.Columns {
				p := pos[i]
				if p < 0 {
					full[i] = defaults[i]
					continue
				}
				item := row[p]
				if _, isDef := item.(*ast.DefaultExpr); item == nil || isDef {
					if full[i], err = b.defaultExpr(rel, i); err != nil {
						return nil, err
					}
					continue
				}
				e, err := b.bindExpr(item, newScope(nil, nil))
				if err != nil {
					return nil, err
				}
				if full[i], err = b.assign(e, rel, i); err != nil {
					return nil, err
				}
			}
			vn.rows = append(vn.rows, full)
		}
		source = vn
	default:
		qp, err := b.bindQuery(n.Query, nil)
		if err != nil {
			return nil, err
		}
		if len(qp.cols) > len(cols) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more expressions than target columns")
		}
		if len(qp.cols) < len(cols) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more target columns than expressions")
		}
		in := qp.asNode()
		full := make([]executor.Expr, width)
		for i := range rel.Columns {
			p := pos[i]
			if p < 0 {
				full[i] = defaults[i]
				continue
			}
			if full[i], err = b.assign(&executor.ColRef{Idx: p, Typ: qp.cols[p].Type, Name: qp.cols[p].Name}, rel, i); err != nil {
				return nil, err
			}
		}
		source = &projectNode{in: in, exprs: full}
	}
	d := &dmlPlan{kind: kindInsert, rel: rel, source: &queryPlan{root: source, visible: width}}
	alias := aliasOf(n.Table)
	if oc := n.OnConflict; oc != nil {
		if len(oc.Columns) > 0 {
			match := len(oc.Columns) == len(rel.PrimaryKey) && !rel.HasRowID()
			for _, c := range oc.Columns {
				i := rel.ColumnIndex(c)
				found := false
				for _, k := range rel.PrimaryKey {
					found = found || k == i
				}
				match = match && found
			}
			if !match {
				return nil, sqlerr.New(sqlerr.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
			}
		} else if !oc.DoNothing {
			return nil, sqlerr.New(sqlerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
				WithHint("For example, ON CONFLICT (column_name).")
		}
		cp := &conflictPlan{doNothing: oc.DoNothing}
		if !oc.DoNothing {
			sc := newScope(append(tableScope(rel, alias), tableScope(rel, "excluded")...), nil)
			b.agg, b.clause = nil, "ON CONFLICT"
			if cp.set, err = b.bindSet(oc.Set, rel, sc); err != nil {
				return nil, err
			}
			if oc.Where != nil {
				w, err := b.bindExpr(oc.Where, sc)
				if err != nil {
					return nil, err
				}
				if cp.where, err = b.coerceBool(w, "WHERE"); err != nil {
					return nil, err
				}
			}
		}
		d.conflict = cp
	}
	ret, retCols, err := b.bindReturning(n.Returning, rel, alias)
	if err != nil {
		return nil, err
	}
	d.returning = ret
	return &Plan{kind: kindInsert, dml: d, Columns: retCols}, nil
}

func (b *binder) bindSet(set []*ast.Assignment, rel *catalog.Relation, sc *scope) ([]setItem, error) {
	seen := map[int]bool{}
	var out []setItem
	for _, a := range set {
		i, err := targetColumn(rel, a.Column)
		if err != nil {
			return nil, err
		}
		if seen[i] {
			return nil, sqlerr.New(sqlerr.SyntaxError, "multiple assignments to same column \"%s\"", a.Column)
		}
		seen[i] = true
		var e executor.Expr
		if _, isDef := a.Value.(*ast.DefaultExpr); isDef || a.Value == nil {
			if e, err = b.defaultExpr(rel, i); err != nil {
				return nil, err
			}
		} else {
			x, err := b.bindExpr(a.Value, sc)
			if err != nil {
				return nil, err
			}
			if e, err = b.assign(x, rel, i); err != nil {
				return nil, err
			}
		}
		out = append(out, setItem{col: i, e: e})
	}
	return out, nil
}

// dmlTarget is the binding of the rows an UPDATE or DELETE changes: the
// target table's columns, then those of the FROM (USING) items, then those
// the statement's subqueries add.
type dmlTarget struct {
	rel   *catalog.Relation
	sc    *scope
	ap    *applyCtx
	root  node
	width int
}

// bindTarget plans the scan of the rows an UPDATE or DELETE changes: the
// target joined with the FROM / USING items, filtered by WHERE.
func (b *binder) bindTarget(t *ast.TableName, from []ast.TableExpr, where ast.Expr) (*dmlTarget, error) {
	rel, err := b.relation(t)
	if err != nil {
		return nil, err
	}
	cols := tableScope(rel, aliasOf(t))
	var root node = &scanNode{rel: rel, alias: t.Alias}
	if len(from) > 0 {
		fn, fcols, err := b.bindFrom(from, nil)
		if err != nil {
			return nil, err
		}
		for _, c := range fcols {
			if c.table != "" && c.table == aliasOf(t) {
				return nil, sqlerr.New(sqlerr.Code("42712"), "table name \"%s\" specified more than once", c.table)
			}
		}
		root = &joinNode{kind: executor.JoinInner, left: root, right: fn}
		cols = concatScopes(cols, fcols)
	}
	tg := &dmlTarget{rel: rel, sc: newScope(cols, nil), root: root, width: len(cols)}
	tg.ap = &applyCtx{sc: tg.sc}
	b.apply = tg.ap
	if where != nil {
		b.agg, b.clause = nil, "WHERE"
		pred, err := b.bindExpr(where, tg.sc)
		if err != nil {
			return nil, err
		}
		if pred, err = b.coerceBool(pred, "WHERE"); err != nil {
			return nil, err
		}
		conjs := splitAnd(pred)
		if tg.root, tg.width, conjs, err = b.applyWhere(tg.root, tg.width, conjs, tg.ap.take()); err != nil {
			return nil, err
		}
		tg.root = pushFilter(tg.root, conjs)
	}
	return tg, nil
}

// source finishes the target's plan once the statement's other
// expressions (SET) are bound: their subqueries are joined in.
func (b *binder) targetSource(tg *dmlTarget) (*queryPlan, error) {
	var err error
	if tg.root, tg.width, err = b.applySubs(tg.root, tg.width, tg.ap.take(), identity); err != nil {
		return nil, err
	}
	return &queryPlan{root: tg.root, visible: tg.width}, nil
}

// planUpdate plans UPDATE [FROM]. With FROM, a target row that several
// source rows match is updated once, with one of them (which one is not
// defined), as in PostgreSQL.
func (b *binder) planUpdate(n *ast.Update) (*Plan, error) {
	saveApply := b.apply
	defer func() { b.apply = saveApply }()
	tg, err := b.bindTarget(n.Table, n.From, n.Where)
	if err != nil {
		return nil, err
	}
	b.agg, b.clause = nil, "UPDATE"
	set, err := b.bindSet(n.Set, tg.rel, tg.sc)
	if err != nil {
		return nil, err
	}
	src, err := b.targetSource(tg)
	if err != nil {
		return nil, err
	}
	for i := range set {
		if set[i].e, err = substSubs(set[i].e); err != nil {
			return nil, err
		}
	}
	b.apply = nil
	ret, retCols, err := b.bindReturning(n.Returning, tg.rel, aliasOf(n.Table))
	if err != nil {
		return nil, err
	}
	return &Plan{kind: kindUpdate, Columns: retCols, dml: &dmlPlan{kind: kindUpdate, rel: tg.rel, source: src, set: set,
		returning: ret, dedupe: len(n.From) > 0}}, nil
}

// planDelete plans DELETE [USING]; a target row that several USING rows
// match is deleted once.
func (b *binder) planDelete(n *ast.Delete) (*Plan, error) {
	saveApply := b.apply
	defer func() { b.apply = saveApply }()
	tg, err := b.bindTarget(n.Table, n.Using, n.Where)
	if err != nil {
		return nil, err
	}
	src, err := b.targetSource(tg)
	if err != nil {
		return nil, err
	}
	b.apply = nil
	ret, retCols, err := b.bindReturning(n.Returning, tg.rel, aliasOf(n.Table))
	if err != nil {
		return nil, err
	}
	return &Plan{kind: kindDelete, Columns: retCols, dml: &dmlPlan{kind: kindDelete, rel: tg.rel, source: src,
		returning: ret, dedupe: len(n.Using) > 0}}, nil
}

func (d *dmlPlan) explain(sb *strings.Builder) {
	op := map[stmtKind]string{kindInsert: "Insert", kindUpdate: "Update", kindDelete: "Delete"}[d.kind]
	s := op + " on " + d.rel.Name
	if d.conflict != nil {
		if d.conflict.doNothing {
			s += " (on conflict do nothing)"
		} else {
			s += " (on conflict do update)"
		}
	}
	indent(sb, 0, "%s", s)
	d.source.explain(sb, 1)
}

// checkNotNull enforces NOT NULL (23502).
func checkNotNull(rel *catalog.Relation, row types.Row) error {
	for i, c := range rel.Columns {
		if c.NotNull && !c.Hidden && row[i].IsNull() {
			return sqlerr.New(sqlerr.NotNullViolation, "null value in column \"%s\" of relation \"%s\" violates not-null constraint", c.Name, rel.Name).
				WithDetail("Failing row contains %s.", failingRow(rel, row))
		}
	}
	return nil
}

func failingRow(rel *catalog.Relation, row types.Row) string {
	var sb strings.Builder
	sb.WriteByte('(')
	first := true
	for i, c := range rel.Columns {
		if c.Hidden {
			continue
		}
		if !first {
			sb.WriteString(", ")
		}
		first = false
		if row[i].IsNull() {
			sb.WriteString("null")
		} else {
			sb.Write(types.AppendText(nil, row[i], nil))
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

func (d *dmlPlan) run(ctx context.Context, rt *executor.Runtime, comp *executor.Compiler) (executor.Rows, error) {
	if rt == nil || rt.Store == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "planner: no table store")
	}
	rows, err := d.source.run(ctx, rt, comp)
	if err != nil {
		return nil, err
	}
	ret, err := comp.CompileAll(d.returning)
	if err != nil {
		return nil, err
	}
	set := make([]executor.EvalFunc, len(d.set))
	for i, s := range d.set {
		if set[i], err = comp.Compile(s.e); err != nil {
			return nil, err
		}
	}
	out := &executor.SliceRows{DML: true}
	emit := func(row types.Row) error {
		out.Affected++
		if len(ret) == 0 {
			return nil
		}
		r := make(types.Row, len(ret))
		for i, f := range ret {
			v, err := f(row)
			if err != nil {
				return err
			}
			r[i] = v
		}
		out.Rows = append(out.Rows, r)
		return nil
	}
	store, rel := rt.Store, d.rel
	switch d.kind {
	case kindInsert:
		ins := &inserter{rel: rel, conflict: d.conflict}
		if d.conflict != nil && !d.conflict.doNothing {
			if ins.set, err = compileSet(comp, d.conflict.set); err != nil {
				return nil, err
			}
			if d.conflict.where != nil {
				if ins.where, err = comp.Compile(d.conflict.where); err != nil {
					return nil, err
				}
			}
		}
		for i, row := range rows {
			if i&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if err := ins.insert(ctx, store, append(types.Row(nil), row...), emit); err != nil {
				return nil, err
			}
		}
	case kindUpdate, kindDelete:
		w := len(rel.Columns)
		var seen map[string]bool
		var kb []byte
		if d.dedupe {
			seen = map[string]bool{}
		}
		for _, row := range rows {
			old := row[:w:w]
			if seen != nil {
				kb = kb[:0]
				for _, v := range old {
					kb = types.AppendKey(kb, v)
				}
				if seen[string(kb)] {
					continue
				}
				seen[string(kb)] = true
			}
			if d.kind == kindDelete {
				if err := store.Delete(ctx, rel, old); err != nil {
					return nil, err
				}
				if err := emit(old); err != nil {
					return nil, err
				}
				continue
			}
			nr := append(types.Row(nil), old...)
			for i, s := range d.set {
				v, err := set[i](row)
				if err != nil {
					return nil, err
				}
				nr[s.col] = v
			}
			if err := checkNotNull(rel, nr); err != nil {
				return nil, err
			}
			if err := store.Update(ctx, rel, old, nr); err != nil {
				return nil, err
			}
			if err := emit(nr); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

type compiledSet struct {
	col int
	f   executor.EvalFunc
}

func compileSet(comp *executor.Compiler, set []setItem) ([]compiledSet, error) {
	out := make([]compiledSet, len(set))
	for i, s := range set {
		f, err := comp.Compile(s.e)
		if err != nil {
			return nil, err
		}
		out[i] = compiledSet{s.col, f}
	}
	return out, nil
}

// inserter writes new rows, handling ON CONFLICT on the primary key.
type inserter struct {
	rel      *catalog.Relation
	conflict *conflictPlan
	set      []compiledSet
	where    executor.EvalFunc
	touched  map[string]bool // keys inserted or updated by this statement (DO UPDATE)
}

func (ins *inserter) insert(ctx context.Context, store executor.TableStore, row types.Row, emit func(types.Row) error) error {
	rel := ins.rel
	if err := checkNotNull(rel, row); err != nil {
		return err
	}
	if ins.conflict == nil || rel.HasRowID() {
		if err := store.Insert(ctx, rel, row); err != nil {
			return err
		}
		return emit(row)
	}
	key := make([]types.Datum, len(rel.PrimaryKey))
	var kb []byte
	for i, k := range rel.PrimaryKey {
		key[i] = row[k]
		kb = types.AppendKey(kb, row[k])
	}
	old, found, err := store.Get(ctx, rel, key)
	if err != nil {
		return err
	}
	if !found {
		if err := store.Insert(ctx, rel, row); err != nil {
			return err
		}
		if !ins.conflict.doNothing {
			if ins.touched == nil {
				ins.touched = map[string]bool{}
			}
			ins.touched[string(kb)] = true
		}
		return emit(row)
	}
	if ins.conflict.doNothing {
		return nil
	}
	if ins.touched[string(kb)] {
		return sqlerr.New(sqlerr.CardinalityViolation, "ON CONFLICT DO UPDATE command cannot affect row a second time").
			WithHint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
	}
	old = append(types.Row(nil), old...)
	both := append(append(types.Row{}, old...), row...)
	if ins.where != nil {
		v, err := ins.where(both)
		if err != nil {
			return err
		}
		if v.IsNull() || !v.Bool() {
			return nil
		}
	}
	nr := append(types.Row(nil), old...)
	for _, s := range ins.set {
		v, err := s.f(both)
		if err != nil {
			return err
		}
		nr[s.col] = v
	}
	if err := checkNotNull(rel, nr); err != nil {
		return err
	}
	if err := store.Update(ctx, rel, old, nr); err != nil {
		return err
	}
	if ins.touched == nil {
		ins.touched = map[string]bool{}
	}
	ins.touched[string(kb)] = true
	return emit(nr)
}

// InsertRows is a prepared bulk insert into a table (the COPY FROM path).
type InsertRows struct {
	// Types gives each input column's type.
	Types    []types.Type
	rel      *catalog.Relation
	cols     []int
	defaults []executor.Expr // per table column; nil where the input provides it
}

// PlanInsertRows prepares a bulk insert of already-typed rows into a
// table's named columns (all visible columns when cols is empty).
func PlanInsertRows(c *Context, table *ast.TableName, cols []string) (*InsertRows, error) {
	b := newBinder(c)
	rel, err := b.relation(table)
	if err != nil {
		return nil, err
	}
	p := &InsertRows{rel: rel}
	if len(cols) == 0 {
		p.cols = rel.Visible()
	} else {
		seen := map[int]bool{}
		for _, name := range cols {
			i, err := targetColumn(rel, name)
			if err != nil {
				return nil, err
			}
			if seen[i] {
				return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", name)
			}
			seen[i] = true
			p.cols = append(p.cols, i)
		}
	}
	given := map[int]bool{}
	for _, i := range p.cols {
		p.Types = append(p.Types, rel.Columns[i].Type)
		given[i] = true
	}
	p.defaults = make([]executor.Expr, len(rel.Columns))
	for i := range rel.Columns {
		if !given[i] {
			if p.defaults[i], err = b.defaultExpr(rel, i); err != nil {
				return nil, err
			}
		}
	}
	b.finishParams()
	return p, nil
}

// Insert inserts rows (each of len(Types) values of those types), applying
// defaults, NOT NULL and primary-key conflicts (23505); it returns the
// number of rows inserted. rows are not retained.
func (p *InsertRows) Insert(ctx context.Context, rt *executor.Runtime, rows []types.Row) (int64, error) {
	if rt == nil || rt.Store == nil {
		return 0, sqlerr.New(sqlerr.InternalError, "planner: no table store")
	}
	comp := executor.NewCompiler(rt)
	defs := make([]executor.EvalFunc, len(p.defaults))
	for i, e := range p.defaults {
		if e != nil {
			f, err := comp.Compile(e)
			if err != nil {
				return 0, err
			}
			defs[i] = f
		}
	}
	var n int64
	for _, in := range rows {
		if len(in) != len(p.cols) {
			return n, sqlerr.New(sqlerr.BadCopyFileFormat, "expected %d columns, got %d", len(p.cols), len(in))
		}
		row := make(types.Row, len(p.rel.Columns))
		for i, c := range p.cols {
			row[c] = in[i]
		}
		for i, f := range defs {
			if f != nil {
				v, err := f(nil)
				if err != nil {
					return n, err
				}
				row[i] = v
			}
		}
		if err := checkNotNull(p.rel, row); err != nil {
			return n, err
		}
		if err := rt.Store.Insert(ctx, p.rel, row); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
