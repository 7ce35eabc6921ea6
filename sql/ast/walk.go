package ast

// Walk calls f for every expression and query reachable from n (n
// itself included), depth first, parents before children. If f returns
// false, Walk does not descend into that node's children.
func Walk(n any, f func(any) bool) {
	if n == nil || !f(n) {
		return
	}
	w := func(x any) { Walk(x, f) }
	exprs := func(es []Expr) {
		for _, e := range es {
			if e != nil {
				w(e)
			}
		}
	}
	order := func(os []*OrderItem) {
		for _, o := range os {
			w(o.Expr)
		}
	}
	window := func(ws *WindowSpec) {
		exprs(ws.PartitionBy)
		order(ws.OrderBy)
		if ws.Frame != nil {
			exprs([]Expr{ws.Frame.Start.Offset, ws.Frame.End.Offset})
		}
	}
	switch x := n.(type) {
	case *Query:
		for _, c := range x.With {
			w(c.Query)
		}
		w(x.Body)
		order(x.OrderBy)
		if x.Limit != nil {
			w(x.Limit)
		}
		if x.Offset != nil {
			w(x.Offset)
		}
	case *SelectCore:
		exprs(x.DistinctOn)
		for _, t := range x.Targets {
			if t.Expr != nil {
				w(t.Expr)
			}
		}
		for _, t := range x.From {
			w(t)
		}
		if x.Where != nil {
			w(x.Where)
		}
		exprs(x.GroupBy)
		if x.Having != nil {
			w(x.Having)
		}
		for _, ws := range x.Windows {
			window(ws)
		}
	case *SetOp:
		w(x.Left)
		w(x.Right)
	case *Values:
		for _, r := range x.Rows {
			exprs(r)
		}
	case *DerivedTable:
		w(x.Query)
	case *Join:
		w(x.Left)
		w(x.Right)
		if x.On != nil {
			w(x.On)
		}
	case *TableFunc:
		exprs(x.Args)
	case *Unary:
		w(x.X)
	case *Binary:
		w(x.L)
		w(x.R)
	case *Like:
		w(x.X)
		w(x.Pattern)
		if x.Escape != nil {
			w(x.Escape)
		}
	case *IsNull:
		w(x.X)
	case *IsBool:
		w(x.X)
	case *IsDistinct:
		w(x.L)
		w(x.R)
	case *Between:
		w(x.X)
		w(x.Lo)
		w(x.Hi)
	case *InList:
		w(x.X)
		exprs(x.List)
	case *InSubquery:
		w(x.X)
		w(x.Query)
	case *Exists:
		w(x.Query)
	case *Subquery:
		w(x.Query)
	case *Quantified:
		w(x.X)
		if x.Query != nil {
			w(x.Query)
		}
		if x.Array != nil {
			w(x.Array)
		}
	case *Func:
		exprs(x.Args)
		if x.Filter != nil {
			w(x.Filter)
		}
		order(x.OrderBy)
		if x.Over != nil {
			window(x.Over)
		}
	case *Cast:
		w(x.X)
	case *Case:
		if x.Operand != nil {
			w(x.Operand)
		}
		for _, wh := range x.Whens {
			w(wh.Cond)
			w(wh.Result)
		}
		if x.Else != nil {
			w(x.Else)
		}
	case *RowExpr:
		exprs(x.Items)
	}
}
