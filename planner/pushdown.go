package planner

import (
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// splitAnd returns the conjuncts of e.
func splitAnd(e executor.Expr) []executor.Expr {
	if b, ok := e.(*executor.BoolOp); ok && !b.Or {
		var out []executor.Expr
		for _, a := range b.Args {
			out = append(out, splitAnd(a)...)
		}
		return out
	}
	return []executor.Expr{e}
}

// andExpr is a AND c (a may be nil).
func andExpr(a, c executor.Expr) executor.Expr {
	if a == nil {
		return c
	}
	return &executor.BoolOp{Args: append(splitAnd(a), splitAnd(c)...)}
}

func andAll(es []executor.Expr) executor.Expr {
	var out executor.Expr
	for _, e := range es {
		out = andExpr(out, e)
	}
	return out
}

// refs returns the input columns e reads.
func refs(e executor.Expr) []int {
	var out []int
	executor.Walk(e, func(x executor.Expr) {
		if c, ok := x.(*executor.ColRef); ok {
			out = append(out, c.Idx)
		}
	})
	return out
}

func allIn(rs []int, lo, hi int) bool {
	for _, r := range rs {
		if r < lo || r >= hi {
			return false
		}
	}
	return true
}

// shift moves every column reference of e by delta.
func shift(e executor.Expr, delta int) executor.Expr {
	if delta == 0 {
		return e
	}
	out, _ := executor.Map(e, func(x executor.Expr) (executor.Expr, error) {
		if c, ok := x.(*executor.ColRef); ok {
			return &executor.ColRef{Idx: c.Idx + delta, Typ: c.Typ, Name: c.Name}, nil
		}
		return x, nil
	})
	return out
}

// equiKey recognizes left_expr = right_expr over a join's concatenated row
// (left columns < L): it returns the left key and the right key (over the
// right input's columns).
func equiKey(c executor.Expr, L int) (executor.Expr, executor.Expr, bool) {
	call, ok := c.(*executor.Call)
	if !ok || call.Name != "=" || len(call.Args) != 2 {
		return nil, nil, false
	}
	a, b := call.Args[0], call.Args[1]
	if ka, kb := a.Type().Kind, b.Type().Kind; ka != kb {
		// Integers of different widths compare as the wider one: widen
		// the other key so that equal values hash alike.
		switch ra, rb := intRank(ka), intRank(kb); {
		case ra == 0 || rb == 0:
			return nil, nil, false
		case ra < rb:
			a = &executor.CastExpr{X: a, Typ: b.Type(), Ctx: types.CastImplicit}
		default:
			b = &executor.CastExpr{X: b, Typ: a.Type(), Ctx: types.CastImplicit}
		}
	}
	ra, rb := refs(a), refs(b)
	if len(ra) == 0 || len(rb) == 0 {
		return nil, nil, false
	}
	const big = 1 << 30
	switch {
	case allIn(ra, 0, L) && allIn(rb, L, big):
		return a, shift(b, -L), true
	case allIn(rb, 0, L) && allIn(ra, L, big):
		return b, shift(a, -L), true
	}
	return nil, nil, false
}

// pushFilter places the conjuncts conds as deep in n as they can go: into
// the inputs of inner joins (and the preserved side of outer joins), as
// equi-join keys where they compare the two sides of an inner join, and as
// key prefixes of base-table scans (point lookups).
func pushFilter(n node, conds []executor.Expr) node {
	switch x := n.(type) {
	case *joinNode:
		L := len(x.left.colTypes())
		var lc, rc, keep []executor.Expr
		semiAnti := x.kind == executor.JoinSemi || x.kind == executor.JoinAnti
		for _, c := range conds {
			rs := refs(c)
			switch {
			case len(rs) == 0:
				keep = append(keep, c)
			case allIn(rs, 0, L) && (x.kind == executor.JoinInner || x.kind == executor.JoinLeft || semiAnti):
				lc = append(lc, c)
			case !semiAnti && allIn(rs, L, 1<<30) && (x.kind == executor.JoinInner || x.kind == executor.JoinRight):
				rc = append(rc, shift(c, -L))
			case x.kind == executor.JoinInner:
				if lk, rk, ok := equiKey(c, L); ok {
					x.lkeys, x.rkeys = append(x.lkeys, lk), append(x.rkeys, rk)
				} else {
					x.residual = andExpr(x.residual, c)
				}
			default:
				keep = append(keep, c)
			}
		}
		x.left = pushFilter(x.left, lc)
		x.right = pushFilter(x.right, rc)
		if len(keep) > 0 {
			return &filterNode{in: x, pred: andAll(keep)}
		}
		return x
	case *filterNode:
		return pushFilter(x.in, append(splitAnd(x.pred), conds...))
	case *projectNode:
		conds = cutWindow(x, conds)
	case *scanNode:
		if len(conds) == 0 {
			return x
		}
		if len(x.prefix) == 0 {
			x.prefix = keyPrefix(x, conds)
		}
		return &filterNode{in: x, pred: andAll(conds)}
	}
	if len(conds) == 0 {
		return n
	}
	return &filterNode{in: n, pred: andAll(conds)}
}

// keyPrefix finds col = value conjuncts (value independent of the row) for
// a prefix of the table's primary key. The filter stays above the scan, so
// the prefix only narrows what is read.
func keyPrefix(s *scanNode, conds []executor.Expr) []executor.Expr {
	var prefix []executor.Expr
	for _, pk := range s.rel.PrimaryKey {
		kind := s.rel.Columns[pk].Type.Kind
		switch kind {
		case types.KindFloat32, types.KindFloat64, types.KindNumeric, types.KindUnknown:
			return prefix
		}
		var val executor.Expr
		for _, c := range conds {
			call, ok := c.(*executor.Call)
			if !ok || call.Name != "=" || len(call.Args) != 2 {
				continue
			}
			for i := 0; i < 2 && val == nil; i++ {
				col, ok := call.Args[i].(*executor.ColRef)
				other := call.Args[1-i]
				if ok && col.Idx == pk && len(refs(other)) == 0 && keyValueFits(other.Type(), kind) && !hasVolatile(other) {
					val = other
				}
			}
			if val != nil {
				break
			}
		}
		if val == nil {
			break
		}
		prefix = append(prefix, val)
	}
	return prefix
}

// keyValueFits reports whether a value of type t can name a key column of
// kind key: the same kind, or a narrower integer (widened when the scan
// casts it; a wider one could be out of the key's range, which must match
// nothing rather than fail).
func keyValueFits(t types.Type, key types.Kind) bool {
	if t.Kind == key {
		return true
	}
	return intRank(t.Kind) > 0 && intRank(key) > 0 && intRank(t.Kind) < intRank(key)
}

// intRank orders the integer kinds by width; 0 for other kinds.
func intRank(k types.Kind) int {
	switch k {
	case types.KindInt16:
		return 1
	case types.KindInt32:
		return 2
	case types.KindInt64:
		return 3
	}
	return 0
}

func hasVolatile(e executor.Expr) bool {
	v := false
	executor.Walk(e, func(x executor.Expr) {
		if c, ok := x.(*executor.Call); ok && c.Fn != nil && c.Fn.Volatile {
			v = true
		}
	})
	return v
}
