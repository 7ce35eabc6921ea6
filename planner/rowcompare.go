package planner

import (
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

// expandRowCompare rewrites a comparison of row constructors into one of
// their fields, as PostgreSQL defines it: (a, b) = (x, y) is a = x AND
// b = y, <> is a <> x OR b <> y, and < <= > >= compare lexicographically,
// the first pair that is unequal or NULL deciding; (a, b) [NOT] IN ((x, y),
// ...) is [NOT] the OR of the equalities. The second result is false when
// e is no row comparison. A row compared with a subquery is left alone.
func expandRowCompare(e ast.Expr) (ast.Expr, bool, error) {
	switch n := e.(type) {
	case *ast.Binary:
		l, lok := n.L.(*ast.RowExpr)
		r, rok := n.R.(*ast.RowExpr)
		if !lok || !rok || !compareOp(n.Op) {
			return nil, false, nil
		}
		x, err := rowCompare(n.Op, l, r)
		return x, err == nil, err
	case *ast.InList:
		l, ok := n.X.(*ast.RowExpr)
		if !ok {
			return nil, false, nil
		}
		var or ast.Expr
		for _, it := range n.List {
			r, ok := it.(*ast.RowExpr)
			if !ok {
				return nil, false, rowSizeErr()
			}
			eq, err := rowCompare("=", l, r)
			if err != nil {
				return nil, false, err
			}
			if or == nil {
				or = eq
			} else {
				or = &ast.Binary{Op: "OR", L: or, R: eq}
			}
		}
		if or == nil {
			return nil, false, nil
		}
		if n.Not {
			or = &ast.Unary{Op: "NOT", X: or}
		}
		return or, true, nil
	}
	return nil, false, nil
}

func compareOp(op string) bool {
	switch op {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func rowSizeErr() error {
	return sqlerr.New(sqlerr.SyntaxError, "unequal number of entries in row expressions")
}

func rowCompare(op string, l, r *ast.RowExpr) (ast.Expr, error) {
	if len(l.Items) != len(r.Items) || len(l.Items) == 0 {
		return nil, rowSizeErr()
	}
	if op == "!=" {
		op = "<>"
	}
	n := len(l.Items)
	switch op {
	case "=", "<>":
		join := "AND"
		if op == "<>" {
			join = "OR"
		}
		var x ast.Expr
		for i := range n {
			c := &ast.Binary{Op: op, L: l.Items[i], R: r.Items[i]}
			if x == nil {
				x = c
			} else {
				x = &ast.Binary{Op: join, L: x, R: c}
			}
		}
		return x, nil
	}
	// (a, b, c) < (x, y, z) is a < x OR (a = x AND (b < y OR (b = y AND c < z)));
	// the strict operator decides every pair but the last.
	strict := op[:1]
	x := ast.Expr(&ast.Binary{Op: op, L: l.Items[n-1], R: r.Items[n-1]})
	for i := n - 2; i >= 0; i-- {
		eq := &ast.Binary{Op: "=", L: l.Items[i], R: r.Items[i]}
		x = &ast.Binary{Op: "OR", L: &ast.Binary{Op: strict, L: l.Items[i], R: r.Items[i]},
			R: &ast.Binary{Op: "AND", L: eq, R: x}}
	}
	return x, nil
}
