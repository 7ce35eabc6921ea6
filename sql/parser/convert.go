package parser

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	tast "github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// converter turns TiDB's AST (of text produced by rw) into sql/ast.
type converter struct {
	rw     *rewriter
	starts []int // rendered token starts, to map TiDB offsets back
}

func (c *converter) unsupported(what string) error {
	return sqlerr.Unsupported("%s is not supported", what)
}

// ---- statements ----

func (c *converter) stmt(n tast.StmtNode) (ast.Statement, error) {
	switch n := n.(type) {
	case *tast.SelectStmt, *tast.SetOprStmt:
		return c.query(n.(tast.ResultSetNode))
	case *tast.InsertStmt:
		return c.insert(n)
	case *tast.UpdateStmt:
		return c.update(n)
	case *tast.DeleteStmt:
		return c.delete(n)
	}
	return nil, c.unsupported("this statement")
}

// query converts a SELECT, a set operation or a VALUES list.
func (c *converter) query(n tast.ResultSetNode) (*ast.Query, error) {
	switch n := n.(type) {
	case *tast.SelectStmt:
		q := &ast.Query{}
		var err error
		if q.With, err = c.with(n.With); err != nil {
			return nil, err
		}
		body, err := c.selectBody(n)
		if err != nil {
			return nil, err
		}
		q.Body = body
		if q.OrderBy, err = c.orderBy(n.OrderBy); err != nil {
			return nil, err
		}
		if q.Limit, q.Offset, err = c.limit(n.Limit); err != nil {
			return nil, err
		}
		return q, nil
	case *tast.SetOprStmt:
		q := &ast.Query{}
		var err error
		w := n.With
		if w == nil && n.SelectList != nil {
			w = n.SelectList.With
		}
		if q.With, err = c.with(w); err != nil {
			return nil, err
		}
		if q.Body, err = c.setOprList(n.SelectList.Selects); err != nil {
			return nil, err
		}
		if q.OrderBy, err = c.orderBy(n.OrderBy); err != nil {
			return nil, err
		}
		if q.Limit, q.Offset, err = c.limit(n.Limit); err != nil {
			return nil, err
		}
		return q, nil
	}
	return nil, c.unsupported("this query form")
}

// setOprSelectList converts a parenthesized set operation inside another.
func (c *converter) setOprSelectList(n *tast.SetOprSelectList) (*ast.Query, error) {
	body, err := c.setOprList(n.Selects)
	if err != nil {
		return nil, err
	}
	q := &ast.Query{Body: body}
	if q.With, err = c.with(n.With); err != nil {
		return nil, err
	}
	if q.OrderBy, err = c.orderBy(n.OrderBy); err != nil {
		return nil, err
	}
	if q.Limit, q.Offset, err = c.limit(n.Limit); err != nil {
		return nil, err
	}
	return q, nil
}

// queryBody is a query used as an operand of a set operation: a bare body
// when it has no clauses of its own, else the parenthesized query.
func (c *converter) queryBody(n tast.Node) (ast.QueryBody, tast.SetOprType, error) {
	var op tast.SetOprType
	var q *ast.Query
	var err error
	switch s := n.(type) {
	case *tast.SelectStmt:
		if s.AfterSetOperator != nil {
			op = *s.AfterSetOperator
		}
		q, err = c.query(s)
	case *tast.SetOprSelectList:
		if s.AfterSetOperator != nil {
			op = *s.AfterSetOperator
		}
		q, err = c.setOprSelectList(s)
	default:
		return nil, op, c.unsupported("this set operation operand")
	}
	if err != nil {
		return nil, op, err
	}
	if q.With == nil && q.OrderBy == nil && q.Limit == nil && q.Offset == nil {
		return q.Body, op, nil
	}
	return q, op, nil
}

func (c *converter) setOprList(sel []tast.Node) (ast.QueryBody, error) {
	if len(sel) == 0 {
		return nil, c.unsupported("an empty set operation")
	}
	type item struct {
		body ast.QueryBody
		op   tast.SetOprType
	}
	var items []item
	for _, s := range sel {
		b, op, err := c.queryBody(s)
		if err != nil {
			return nil, err
		}
		items = append(items, item{b, op})
	}
	mk := func(l ast.QueryBody, op tast.SetOprType, r ast.QueryBody) ast.QueryBody {
		so := &ast.SetOp{Left: l, Right: r}
		switch op {
		case tast.Union:
		case tast.UnionAll:
			so.All = true
		case tast.Except:
			so.Op = ast.Except
		case tast.ExceptAll:
			so.Op, so.All = ast.Except, true
		case tast.Intersect:
			so.Op = ast.Intersect
		case tast.IntersectAll:
			so.Op, so.All = ast.Intersect, true
		}
		return so
	}
	isIntersect := func(op tast.SetOprType) bool { return op == tast.Intersect || op == tast.IntersectAll }
	// INTERSECT binds tighter than UNION and EXCEPT.
	var reduced []item
	for i, it := range items {
		if i > 0 && isIntersect(it.op) {
			last := &reduced[len(reduced)-1]
			last.body = mk(last.body, it.op, it.body)
			continue
		}
		reduced = append(reduced, it)
	}
	body := reduced[0].body
	for _, it := range reduced[1:] {
		body = mk(body, it.op, it.body)
	}
	return body, nil
}

func (c *converter) with(w *tast.WithClause) ([]*ast.CTE, error) {
	if w == nil {
		return nil, nil
	}
	var out []*ast.CTE
	for _, cte := range w.CTEs {
		if cte.Query == nil {
			return nil, c.unsupported("this WITH item")
		}
		q, err := c.query(cte.Query.Query)
		if err != nil {
			return nil, err
		}
		item := &ast.CTE{Name: cte.Name.O, Query: q}
		for _, col := range cte.ColNameList {
			item.Columns = append(item.Columns, col.O)
		}
		out = append(out, item)
	}
	if w.IsRecursive {
		return nil, sqlerr.Unsupported("WITH RECURSIVE is not supported")
	}
	return out, nil
}

func (c *converter) selectBody(n *tast.SelectStmt) (ast.QueryBody, error) {
	switch n.Kind {
	case tast.SelectStmtKindValues:
		v := &ast.Values{}
		for _, row := range n.Lists {
			r, err := c.exprs(row.Values)
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, r)
		}
		if n.OrderBy != nil || n.Limit != nil {
			// handled by the caller through the Query
		}
		return v, nil
	case tast.SelectStmtKindTable:
		return nil, c.unsupported("TABLE name")
	}
	if n.IsInBraces && n.AfterSetOperator == nil && false {
		return nil, nil
	}
	sc := &ast.SelectCore{Distinct: n.Distinct}
	if n.SelectIntoOpt != nil {
		return nil, c.unsupported("SELECT INTO")
	}
	if n.Fields != nil {
		fields := n.Fields.Fields
		// DISTINCT ON arrives as a last marker item.
		if k := len(fields); k > 0 && fields[k-1].Expr != nil {
			if f, ok := fields[k-1].Expr.(*tast.FuncCallExpr); ok && f.FnName.L == mkDistOn {
				on, err := c.exprs(f.Args)
				if err != nil {
					return nil, err
				}
				sc.DistinctOn = on
				fields = fields[:k-1]
			}
		}
		for _, f := range fields {
			t, err := c.target(f)
			if err != nil {
				return nil, err
			}
			sc.Targets = append(sc.Targets, t)
		}
	}
	if n.From != nil && n.From.TableRefs != nil {
		from, err := c.fromList(n.From.TableRefs)
		if err != nil {
			return nil, err
		}
		sc.From = from
	}
	var err error
	if sc.Where, err = c.exprOpt(n.Where); err != nil {
		return nil, err
	}
	if n.GroupBy != nil {
		if n.GroupBy.Rollup {
			return nil, c.unsupported("WITH ROLLUP")
		}
		for _, it := range n.GroupBy.Items {
			e, err := c.expr(it.Expr)
			if err != nil {
				return nil, err
			}
			sc.GroupBy = append(sc.GroupBy, e)
		}
	}
	if n.Having != nil {
		if sc.Having, err = c.expr(n.Having.Expr); err != nil {
			return nil, err
		}
	}
	for i := range n.WindowSpecs {
		w, err := c.window(&n.WindowSpecs[i])
		if err != nil {
			return nil, err
		}
		sc.Windows = append(sc.Windows, w)
	}
	return sc, nil
}

// target converts one select item, taking its text from the user's query.
func (c *converter) target(f *tast.SelectField) (*ast.Target, error) {
	if f.WildCard != nil {
		t := &ast.Target{Star: true, Table: f.WildCard.Table.O}
		if f.WildCard.Schema.O != "" {
			t.Table = f.WildCard.Schema.O + "." + f.WildCard.Table.O
		}
		return t, nil
	}
	e, err := c.expr(f.Expr)
	if err != nil {
		return nil, err
	}
	t := &ast.Target{Expr: e, Alias: f.AsName.O}
	t.Text = c.itemText(f.Offset, f.AsName.O != "")
	return t, nil
}

// itemText is the user's text of the select item starting at rendered
// offset off, without its alias.
func (c *converter) itemText(off int, hasAlias bool) string {
	rw := c.rw
	orig := rw.origOffset(c.starts, off)
	lo := -1
	for i, t := range rw.toks {
		if t.pos == orig && t.kind != tEOF {
			lo = i
			break
		}
	}
	if lo < 0 {
		return ""
	}
	hi := lo
	for depth := 0; hi < len(rw.toks); hi++ {
		t := rw.toks[hi]
		if t.kind == tEOF {
			break
		}
		if t.isP("(") || t.isP("[") {
			depth++
		} else if t.isP(")") || t.isP("]") {
			depth--
			if depth < 0 {
				break
			}
		} else if depth == 0 && (t.isP(",") || t.kind == tIdent && clauseWords[t.val] && t.val != "on" &&
			!(t.val == "from" && hi > 0 && rw.toks[hi-1].is("distinct"))) {
			break
		}
	}
	if hasAlias && hi-1 > lo {
		hi--
		if hi-1 > lo && rw.toks[hi-1].is("as") {
			hi--
		}
	}
	if hi <= lo {
		return ""
	}
	return rw.src[rw.toks[lo].pos:rw.toks[hi-1].end]
}

func (c *converter) orderBy(o *tast.OrderByClause) ([]*ast.OrderItem, error) {
	if o == nil {
		return nil, nil
	}
	return c.byItems(o.Items)
}

func (c *converter) byItems(items []*tast.ByItem) ([]*ast.OrderItem, error) {
	var out []*ast.OrderItem
	for _, it := range items {
		if f, ok := it.Expr.(*tast.FuncCallExpr); ok && (f.FnName.L == mkNullsF || f.FnName.L == mkNullsL) {
			if len(out) == 0 {
				return nil, internalErr("syntax error at or near \"NULLS\"")
			}
			v := f.FnName.L == mkNullsF
			out[len(out)-1].NullsFirst = &v
			continue
		}
		e, err := c.expr(it.Expr)
		if err != nil {
			return nil, err
		}
		out = append(out, &ast.OrderItem{Expr: e, Desc: it.Desc})
	}
	return out, nil
}

func (c *converter) limit(l *tast.Limit) (ast.Expr, ast.Expr, error) {
	if l == nil {
		return nil, nil, nil
	}
	var count, off ast.Expr
	var err error
	if l.Count != nil {
		if v, ok := l.Count.(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindUint64 && v.GetUint64() == math.MaxUint64 {
			count = nil
		} else if count, err = c.expr(l.Count); err != nil {
			return nil, nil, err
		}
	}
	if l.Offset != nil {
		if off, err = c.expr(l.Offset); err != nil {
			return nil, nil, err
		}
	}
	return count, off, nil
}

// ---- FROM ----

func (c *converter) fromList(j *tast.Join) ([]ast.TableExpr, error) {
	// a comma list arrives as cross joins without ON; split them back
	if j.Right == nil {
		t, err := c.tableExpr(j.Left)
		if err != nil {
			return nil, err
		}
		return []ast.TableExpr{t}, nil
	}
	if j.Tp == tast.CrossJoin && j.On == nil && len(j.Using) == 0 && !j.NaturalJoin && !j.ExplicitParens {
		if lj, ok := j.Left.(*tast.Join); ok {
			left, err := c.fromList(lj)
			if err != nil {
				return nil, err
			}
			r, err := c.tableExpr(j.Right)
			if err != nil {
				return nil, err
			}
			return append(left, r), nil
		}
	}
	t, err := c.tableExpr(j)
	if err != nil {
		return nil, err
	}
	return []ast.TableExpr{t}, nil
}

func (c *converter) tableExpr(n tast.ResultSetNode) (ast.TableExpr, error) {
	switch n := n.(type) {
	case *tast.Join:
		if n.Right == nil {
			return c.tableExpr(n.Left)
		}
		l, err := c.tableExpr(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := c.tableExpr(n.Right)
		if err != nil {
			return nil, err
		}
		j := &ast.Join{Left: l, Right: r, Natural: n.NaturalJoin}
		switch n.Tp {
		case tast.LeftJoin:
			j.Kind = ast.LeftJoin
		case tast.RightJoin:
			j.Kind = ast.RightJoin
		default:
			j.Kind = ast.InnerJoin
			if n.On == nil && len(n.Using) == 0 && !n.NaturalJoin {
				j.Kind = ast.CrossJoin
			}
		}
		if n.On != nil {
			on := n.On.Expr
			if b, ok := on.(*tast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
				if f, ok := b.L.(*tast.FuncCallExpr); ok && f.FnName.L == mkFullJoin {
					j.Kind = ast.FullJoin
					on = b.R
				}
				if f, ok := b.L.(*tast.FuncCallExpr); ok && f.FnName.L == mkWithin {
					ivs, err := c.exprs(f.Args)
					if err != nil {
						return nil, err
					}
					if len(ivs) != 2 {
						return nil, c.unsupported("this WITHIN")
					}
					j.Within = &ast.JoinWithin{Before: ivs[0], After: ivs[1]}
					on = b.R
				}
			}
			if j.On, err = c.expr(on); err != nil {
				return nil, err
			}
		}
		for _, u := range n.Using {
			j.Using = append(j.Using, u.Name.O)
		}
		return j, nil
	case *tast.TableSource:
		alias, cols := splitAlias(n.AsName.O)
		for _, cn := range n.ColumnNames {
			cols = append(cols, cn.O)
		}
		switch s := n.Source.(type) {
		case *tast.TableName:
			tn := &ast.TableName{Schema: s.Schema.O, Name: s.Name.O, Alias: alias, ColAliases: cols}
			if s.AsOf != nil {
				f, ok := s.AsOf.TsExpr.(*tast.FuncCallExpr)
				if !ok || f.FnName.L != mkProcTime {
					return nil, c.unsupported("AS OF TIMESTAMP")
				}
				tn.AsOfProcTime = true
			}
			return tn, nil
		case *tast.SelectStmt:
			if tf := tableFuncMarker(s); tf != nil {
				args, err := c.exprs(tf.Args[1:])
				if err != nil {
					return nil, err
				}
				name := ""
				if v, ok := tf.Args[0].(*test_driver.ValueExpr); ok {
					name = v.GetString()
				}
				if alias == mkNoAlias {
					alias = ""
				}
				return &ast.TableFunc{Name: name, Args: args, Alias: alias, ColAliases: cols, WindowClause: tf.FnName.L == mkWindow}, nil
			}
			q, err := c.query(s)
			if err != nil {
				return nil, err
			}
			return &ast.DerivedTable{Query: q, Alias: alias, ColAliases: cols, Lateral: n.Lateral}, nil
		case *tast.SetOprStmt:
			q, err := c.query(s)
			if err != nil {
				return nil, err
			}
			return &ast.DerivedTable{Query: q, Alias: alias, ColAliases: cols, Lateral: n.Lateral}, nil
		case *tast.Join:
			return c.tableExpr(s)
		}
	case *tast.TableName:
		return &ast.TableName{Schema: n.Schema.O, Name: n.Name.O}, nil
	}
	return nil, c.unsupported("this FROM item")
}

func tableFuncMarker(s *tast.SelectStmt) *tast.FuncCallExpr {
	if s.From != nil || s.Fields == nil || len(s.Fields.Fields) != 1 {
		return nil
	}
	f, ok := s.Fields.Fields[0].Expr.(*tast.FuncCallExpr)
	if !ok || (f.FnName.L != mkTableFunc && f.FnName.L != mkWindow) || len(f.Args) == 0 {
		return nil
	}
	return f
}

func splitAlias(a string) (string, []string) {
	if !strings.Contains(a, aliasSep) {
		return a, nil
	}
	parts := strings.Split(a, aliasSep)
	return parts[0], parts[1:]
}

// ---- DML ----

func (c *converter) tableName(refs *tast.TableRefsClause) (*ast.TableName, error) {
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil, c.unsupported("more than one target table")
	}
	t, err := c.tableExpr(refs.TableRefs.Left)
	if err != nil {
		return nil, err
	}
	tn, ok := t.(*ast.TableName)
	if !ok {
		return nil, c.unsupported("this target table")
	}
	return tn, nil
}

func (c *converter) insert(n *tast.InsertStmt) (ast.Statement, error) {
	if n.IsReplace || n.IgnoreErr || n.Setlist || len(n.OnDuplicate) > 0 {
		return nil, c.unsupported("this INSERT form")
	}
	tn, err := c.tableName(n.Table)
	if err != nil {
		return nil, err
	}
	ins := &ast.Insert{Table: tn}
	for _, col := range n.Columns {
		ins.Columns = append(ins.Columns, col.Name.O)
	}
	switch {
	case n.Select != nil:
		if ins.Query, err = c.query(n.Select); err != nil {
			return nil, err
		}
	default:
		v := &ast.Values{}
		for _, row := range n.Lists {
			r, err := c.exprs(row)
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, r)
		}
		ins.Query = &ast.Query{Body: v}
	}
	return ins, nil
}

func (c *converter) assignments(list []*tast.Assignment) ([]*ast.Assignment, error) {
	var out []*ast.Assignment
	for _, a := range list {
		if a.Column.Table.O != "" {
			return nil, sqlerr.New(sqlerr.SyntaxError, "column %q of relation %q does not exist", a.Column.Table.O, a.Column.Name.O)
		}
		e, err := c.expr(a.Expr)
		if err != nil {
			return nil, err
		}
		out = append(out, &ast.Assignment{Column: a.Column.Name.O, Value: e})
	}
	return out, nil
}

func (c *converter) update(n *tast.UpdateStmt) (ast.Statement, error) {
	if n.Order != nil || n.Limit != nil || n.With != nil {
		return nil, c.unsupported("this UPDATE form")
	}
	tn, err := c.tableName(n.TableRefs)
	if err != nil {
		return nil, err
	}
	u := &ast.Update{Table: tn}
	if u.Set, err = c.assignments(n.List); err != nil {
		return nil, err
	}
	if u.Where, err = c.exprOpt(n.Where); err != nil {
		return nil, err
	}
	return u, nil
}

func (c *converter) delete(n *tast.DeleteStmt) (ast.Statement, error) {
	if n.IsMultiTable || n.Order != nil || n.Limit != nil || n.With != nil {
		return nil, c.unsupported("this DELETE form")
	}
	tn, err := c.tableName(n.TableRefs)
	if err != nil {
		return nil, err
	}
	d := &ast.Delete{Table: tn}
	if d.Where, err = c.exprOpt(n.Where); err != nil {
		return nil, err
	}
	return d, nil
}

// ---- expressions ----

func (c *converter) exprOpt(n tast.ExprNode) (ast.Expr, error) {
	if n == nil {
		return nil, nil
	}
	return c.expr(n)
}

func (c *converter) exprs(ns []tast.ExprNode) ([]ast.Expr, error) {
	var out []ast.Expr
	for _, n := range ns {
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

var binOps = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.Xor: "^", opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=",
	opcode.GT: ">", opcode.GE: ">=", opcode.LogicAnd: "AND", opcode.LogicOr: "OR",
}

// markerOp returns the operator of a __weir_op('x') call.
func markerOp(n tast.ExprNode) (string, bool) {
	f, ok := n.(*tast.FuncCallExpr)
	if !ok || f.FnName.L != mkOp || len(f.Args) != 1 {
		return "", false
	}
	v, ok := f.Args[0].(*test_driver.ValueExpr)
	if !ok {
		return "", false
	}
	return v.GetString(), true
}

func isMarker(n tast.ExprNode, name string) bool {
	f, ok := n.(*tast.FuncCallExpr)
	return ok && f.FnName.L == name
}

func (c *converter) expr(n tast.ExprNode) (ast.Expr, error) {
	switch n := n.(type) {
	case *test_driver.ParamMarkerExpr:
		for i, st := range c.starts {
			if st == n.Offset && c.rw.out[i].param > 0 {
				return &ast.Param{N: c.rw.out[i].param}, nil
			}
		}
		return nil, internalErr("syntax error at or near \"$\"")
	case *test_driver.ValueExpr:
		return c.value(n)
	case *tast.ColumnNameExpr:
		cn := n.Name
		if cn.Schema.O != "" {
			return nil, sqlerr.Unsupported("cross-schema column references (%s.%s.%s) are not supported", cn.Schema.O, cn.Table.O, cn.Name.O)
		}
		return &ast.ColumnRef{Table: cn.Table.O, Name: cn.Name.O}, nil
	case *tast.ParenthesesExpr:
		return c.expr(n.Expr)
	case *tast.BinaryOperationExpr:
		return c.binary(n)
	case *tast.UnaryOperationExpr:
		x, err := c.expr(n.V)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.Minus:
			return &ast.Unary{Op: "-", X: x}, nil
		case opcode.Plus:
			return &ast.Unary{Op: "+", X: x}, nil
		case opcode.BitNeg:
			return &ast.Unary{Op: "~", X: x}, nil
		case opcode.Not, opcode.Not2:
			return &ast.Unary{Op: "NOT", X: x}, nil
		}
		return nil, c.unsupported("operator " + n.Op.String())
	case *tast.PatternLikeOrIlikeExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		p, err := c.expr(n.Pattern)
		if err != nil {
			return nil, err
		}
		l := &ast.Like{X: x, Pattern: p, Not: n.Not, CaseInsensitive: !n.IsLike}
		if n.EscapeExplicit || n.Escape != '\\' {
			l.Escape = &ast.Literal{Value: types.NewUnknown(string([]byte{n.Escape}))}
		}
		return l, nil
	case *tast.IsNullExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		return &ast.IsNull{X: x, Not: n.Not}, nil
	case *tast.IsTruthExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		v := n.True != 0
		return &ast.IsBool{X: x, Not: n.Not, Value: &v}, nil
	case *tast.BetweenExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := c.expr(n.Left)
		if err != nil {
			return nil, err
		}
		hi, err := c.expr(n.Right)
		if err != nil {
			return nil, err
		}
		return &ast.Between{X: x, Lo: lo, Hi: hi, Not: n.Not}, nil
	case *tast.PatternInExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		if n.Sel != nil {
			sq, ok := n.Sel.(*tast.SubqueryExpr)
			if !ok {
				return nil, c.unsupported("this IN form")
			}
			q, err := c.query(sq.Query)
			if err != nil {
				return nil, err
			}
			return &ast.InSubquery{X: x, Query: q, Not: n.Not}, nil
		}
		list, err := c.exprs(n.List)
		if err != nil {
			return nil, err
		}
		return &ast.InList{X: x, List: list, Not: n.Not}, nil
	case *tast.ExistsSubqueryExpr:
		sq, ok := n.Sel.(*tast.SubqueryExpr)
		if !ok {
			return nil, c.unsupported("this EXISTS form")
		}
		q, err := c.query(sq.Query)
		if err != nil {
			return nil, err
		}
		return &ast.Exists{Query: q, Not: n.Not}, nil
	case *tast.SubqueryExpr:
		q, err := c.query(n.Query)
		if err != nil {
			return nil, err
		}
		if n.Exists {
			return &ast.Exists{Query: q}, nil
		}
		return &ast.Subquery{Query: q}, nil
	case *tast.CompareSubqueryExpr:
		x, err := c.expr(n.L)
		if err != nil {
			return nil, err
		}
		sq, ok := n.R.(*tast.SubqueryExpr)
		if !ok {
			return nil, c.unsupported("this ANY/ALL form")
		}
		q, err := c.query(sq.Query)
		if err != nil {
			return nil, err
		}
		op, ok := binOps[n.Op]
		if !ok {
			return nil, c.unsupported("operator " + n.Op.String())
		}
		return &ast.Quantified{Op: op, X: x, All: n.All, Query: q}, nil
	case *tast.CaseExpr:
		ce := &ast.Case{}
		var err error
		if ce.Operand, err = c.exprOpt(n.Value); err != nil {
			return nil, err
		}
		for _, w := range n.WhenClauses {
			cond, err := c.expr(w.Expr)
			if err != nil {
				return nil, err
			}
			res, err := c.expr(w.Result)
			if err != nil {
				return nil, err
			}
			ce.Whens = append(ce.Whens, &ast.When{Cond: cond, Result: res})
		}
		if ce.Else, err = c.exprOpt(n.ElseClause); err != nil {
			return nil, err
		}
		return ce, nil
	case *tast.RowExpr:
		items, err := c.exprs(n.Values)
		if err != nil {
			return nil, err
		}
		return &ast.RowExpr{Items: items}, nil
	case *tast.DefaultExpr:
		if n.Name != nil {
			return nil, c.unsupported("DEFAULT(column)")
		}
		return &ast.DefaultExpr{}, nil
	case *tast.FuncCallExpr:
		return c.funcCall(n)
	case *tast.AggregateFuncExpr:
		return c.aggregate(n.F, n.Args, n.Distinct, n.Order, nil)
	case *tast.WindowFuncExpr:
		if n.IgnoreNull || n.FromLast {
			return nil, c.unsupported("IGNORE NULLS / FROM LAST")
		}
		// The normalizer wraps every window call f(...) OVER as
		// max(__weir_over(f(...))) OVER, so that any call TiDB's grammar
		// parses (string_agg, FILTER, lag with an expression offset) may
		// take a window.
		if len(n.Args) == 1 && isMarker(n.Args[0], mkOver) {
			inner := n.Args[0].(*tast.FuncCallExpr)
			if len(inner.Args) != 1 {
				return nil, internalErr("syntax error at or near \"OVER\"")
			}
			e, err := c.expr(inner.Args[0])
			if err != nil {
				return nil, err
			}
			f, ok := e.(*ast.Func)
			if !ok {
				return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"OVER\"")
			}
			if f.Over, err = c.window(&n.Spec); err != nil {
				return nil, err
			}
			return f, nil
		}
		return c.aggregate(n.Name, n.Args, n.Distinct, nil, &n.Spec)
	case *tast.FuncCastExpr:
		return nil, c.unsupported("this CAST form")
	case *tast.SetCollationExpr:
		return c.expr(n.Expr)
	case *tast.PositionExpr:
		if n.P != nil {
			return c.expr(n.P)
		}
		return &ast.Literal{Value: types.NewInt32(int32(n.N))}, nil
	}
	return nil, c.unsupported(restoreText(n))
}

// restoreText prints a TiDB node, for messages.
func restoreText(n tast.Node) string {
	var b strings.Builder
	if n == nil {
		return "this expression"
	}
	if err := n.Restore(format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreKeyWordLowercase, &b)); err != nil {
		return "this expression"
	}
	return b.String()
}

func (c *converter) binary(n *tast.BinaryOperationExpr) (ast.Expr, error) {
	// a | __weir_op('~') | b
	if n.Op == opcode.Or {
		if l, ok := n.L.(*tast.BinaryOperationExpr); ok && l.Op == opcode.Or {
			if op, ok := markerOp(l.R); ok {
				x, err := c.expr(l.L)
				if err != nil {
					return nil, err
				}
				y, err := c.expr(n.R)
				if err != nil {
					return nil, err
				}
				return &ast.Binary{Op: op, L: x, R: y}, nil
			}
		}
	}
	// a <=> __weir_distinct() <=> b, and a <=> b
	if n.Op == opcode.NullEQ {
		if l, ok := n.L.(*tast.BinaryOperationExpr); ok && l.Op == opcode.NullEQ && isMarker(l.R, mkDistinct) {
			x, err := c.expr(l.L)
			if err != nil {
				return nil, err
			}
			y, err := c.expr(n.R)
			if err != nil {
				return nil, err
			}
			return &ast.IsDistinct{L: x, R: y}, nil
		}
		x, err := c.expr(n.L)
		if err != nil {
			return nil, err
		}
		y, err := c.expr(n.R)
		if err != nil {
			return nil, err
		}
		return &ast.IsDistinct{L: x, R: y, Not: true}, nil
	}
	op, ok := binOps[n.Op]
	if !ok {
		return nil, c.unsupported("operator " + n.Op.String())
	}
	x, err := c.expr(n.L)
	if err != nil {
		return nil, err
	}
	// x op ANY|ALL (array)
	if f, ok := n.R.(*tast.FuncCallExpr); ok && (f.FnName.L == mkAny || f.FnName.L == mkAll) && len(f.Args) == 1 {
		arr, err := c.expr(f.Args[0])
		if err != nil {
			return nil, err
		}
		return &ast.Quantified{Op: op, X: x, All: f.FnName.L == mkAll, Array: arr}, nil
	}
	y, err := c.expr(n.R)
	if err != nil {
		return nil, err
	}
	return &ast.Binary{Op: op, L: x, R: y}, nil
}

func (c *converter) value(v *test_driver.ValueExpr) (ast.Expr, error) {
	switch v.Kind() {
	case test_driver.KindNull:
		return &ast.Literal{Value: types.Null}, nil
	case test_driver.KindInt64:
		if v.Type.GetFlag()&mysql.IsBooleanFlag != 0 {
			return &ast.Literal{Value: types.NewBool(v.GetInt64() != 0)}, nil
		}
		return intLiteral(v.GetInt64()), nil
	case test_driver.KindUint64:
		if u := v.GetUint64(); u <= math.MaxInt64 {
			return intLiteral(int64(u)), nil
		}
		d, _, err := apd.NewFromString(strconv.FormatUint(v.GetUint64(), 10))
		if err != nil {
			return nil, err
		}
		return &ast.Literal{Value: types.NewNumeric(d)}, nil
	case test_driver.KindMysqlDecimal:
		return numericLiteral(v.GetMysqlDecimal().String())
	case test_driver.KindString:
		return &ast.Literal{Value: types.NewUnknown(v.GetString())}, nil
	case test_driver.KindFloat64, test_driver.KindFloat32:
		return numericLiteral(strconv.FormatFloat(v.GetFloat64(), 'g', -1, 64))
	}
	return nil, c.unsupported("this literal")
}

func intLiteral(i int64) ast.Expr {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		return &ast.Literal{Value: types.NewInt32(int32(i))}
	}
	return &ast.Literal{Value: types.NewInt64(i)}
}

func numericLiteral(s string) (ast.Expr, error) {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", s)
	}
	return &ast.Literal{Value: types.NewNumeric(d)}, nil
}

func stringArg(n tast.ExprNode) (string, bool) {
	v, ok := n.(*test_driver.ValueExpr)
	if !ok || v.Kind() != test_driver.KindString {
		return "", false
	}
	return v.GetString(), true
}

func (c *converter) funcCall(n *tast.FuncCallExpr) (ast.Expr, error) {
	name := n.FnName.L
	switch name {
	case mkCast:
		if len(n.Args) != 2 {
			break
		}
		v, ok := n.Args[1].(*test_driver.ValueExpr)
		if !ok || v.GetInt64() < 0 || int(v.GetInt64()) >= len(c.rw.casts) {
			break
		}
		x, err := c.expr(n.Args[0])
		if err != nil {
			return nil, err
		}
		if fn, ok := c.rw.regCasts[int(v.GetInt64())]; ok {
			return &ast.Func{Name: fn, Args: []ast.Expr{x}}, nil
		}
		return &ast.Cast{X: x, Type: c.rw.casts[v.GetInt64()]}, nil
	case mkNum:
		if len(n.Args) == 1 {
			if s, ok := stringArg(n.Args[0]); ok {
				return numericLiteral(s)
			}
		}
	case mkArray:
		args, err := c.exprs(n.Args)
		if err != nil {
			return nil, err
		}
		return &ast.Func{Name: "array", Args: args}, nil
	case mkSubscript:
		args, err := c.exprs(n.Args)
		if err != nil {
			return nil, err
		}
		return &ast.Func{Name: "array_subscript", Args: args}, nil
	case mkFilter:
		if len(n.Args) != 2 {
			break
		}
		agg, err := c.expr(n.Args[0])
		if err != nil {
			return nil, err
		}
		f, ok := agg.(*ast.Func)
		if !ok {
			return nil, sqlerr.New(sqlerr.SyntaxError, "FILTER specified, but it is not an aggregate function")
		}
		if f.Filter, err = c.expr(n.Args[1]); err != nil {
			return nil, err
		}
		return f, nil
	case mkAtTZ:
		if len(n.Args) != 2 {
			break
		}
		args, err := c.exprs([]tast.ExprNode{n.Args[1], n.Args[0]})
		if err != nil {
			return nil, err
		}
		return &ast.Func{Name: "timezone", Args: args}, nil
	case mkStar:
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"*\"")
	}
	if strings.HasPrefix(name, "__weir_") {
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", name)
	}
	if n.Schema.L != "" && n.Schema.L != "pg_catalog" {
		name = n.Schema.L + "." + name
	}
	return c.aggregate(name, n.Args, false, nil, nil)
}

// aggregate builds a Func from a call of any kind (plain, aggregate, window),
// peeling off the marker arguments for count(*) and ORDER BY.
func (c *converter) aggregate(name string, args []tast.ExprNode, distinct bool, order *tast.OrderByClause, spec *tast.WindowSpec) (ast.Expr, error) {
	if len(args) > 0 && isMarker(args[0], mkAggDist) {
		distinct, args = true, args[1:]
	}
	f := &ast.Func{Name: strings.ToLower(name), Distinct: distinct}
	if len(args) == 1 && isMarker(args[0], mkStar) {
		f.Star = true
		args = nil
	}
	var orderArgs []tast.ExprNode
	for len(args) > 0 && isMarker(args[len(args)-1], mkOrderBy) {
		orderArgs = append([]tast.ExprNode{args[len(args)-1]}, orderArgs...)
		args = args[:len(args)-1]
	}
	var err error
	if f.Args, err = c.exprs(args); err != nil {
		return nil, err
	}
	for _, oa := range orderArgs {
		m := oa.(*tast.FuncCallExpr)
		if len(m.Args) != 3 {
			return nil, internalErr("syntax error at or near \"ORDER\"")
		}
		e, err := c.expr(m.Args[0])
		if err != nil {
			return nil, err
		}
		dir, _ := stringArg(m.Args[1])
		nulls, _ := stringArg(m.Args[2])
		it := &ast.OrderItem{Expr: e, Desc: dir == "desc"}
		if nulls != "" {
			v := nulls == "first"
			it.NullsFirst = &v
		}
		f.OrderBy = append(f.OrderBy, it)
	}
	if order != nil {
		if f.OrderBy, err = c.orderBy(order); err != nil {
			return nil, err
		}
	}
	if spec != nil {
		if f.Over, err = c.window(spec); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (c *converter) window(s *tast.WindowSpec) (*ast.WindowSpec, error) {
	w := &ast.WindowSpec{Name: s.Name.O, Ref: s.Ref.O}
	if s.PartitionBy != nil {
		for _, it := range s.PartitionBy.Items {
			e, err := c.expr(it.Expr)
			if err != nil {
				return nil, err
			}
			w.PartitionBy = append(w.PartitionBy, e)
		}
	}
	var err error
	if w.OrderBy, err = c.orderBy(s.OrderBy); err != nil {
		return nil, err
	}
	if s.Frame != nil {
		f := &ast.WindowFrame{}
		switch s.Frame.Type {
		case tast.Rows:
			f.Mode = ast.FrameRows
		case tast.Ranges:
			f.Mode = ast.FrameRange
		default:
			f.Mode = ast.FrameGroups
		}
		if f.Start, err = c.frameBound(&s.Frame.Extent.Start); err != nil {
			return nil, err
		}
		if f.End, err = c.frameBound(&s.Frame.Extent.End); err != nil {
			return nil, err
		}
		w.Frame = f
	}
	return w, nil
}

func (c *converter) frameBound(b *tast.FrameBound) (ast.FrameBound, error) {
	if b.Unit != tast.TimeUnitInvalid && b.Unit != tast.TimeUnitMicrosecond {
		return ast.FrameBound{}, c.unsupported("INTERVAL ... PRECEDING|FOLLOWING in a window frame")
	}
	switch {
	case b.Type == tast.CurrentRow:
		return ast.FrameBound{Kind: ast.CurrentRow}, nil
	case b.UnBounded && b.Type == tast.Preceding:
		return ast.FrameBound{Kind: ast.UnboundedPreceding}, nil
	case b.UnBounded:
		return ast.FrameBound{Kind: ast.UnboundedFollowing}, nil
	}
	off, err := c.expr(b.Expr)
	if err != nil {
		return ast.FrameBound{}, err
	}
	kind := ast.OffsetFollowing
	if b.Type == tast.Preceding {
		kind = ast.OffsetPreceding
	}
	return ast.FrameBound{Kind: kind, Offset: off}, nil
}
