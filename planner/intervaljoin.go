package planner

import (
	"fmt"
	"slices"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// An interval join is a join with an equi-key whose conditions bound one
// side's event time by the other's plus or minus constant intervals:
//
//	clicks c JOIN orders o ON c.user_id = o.user_id
//	  AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR
//
// (ksqlDB's WITHIN is rewritten to such conditions). Both time columns are
// ones watermarks reach. The conditions stay the join's residual, which
// decides the matches; the bounds let the executor drop each stored row
// once the other side's watermark passes the last time that could match
// it (executor.Interval), so the join's state is bounded by the bounds and
// the watermarks' delay. Dropping a row emits nothing, so both inputs
// must only insert. An outer interval join emits a row's null-padded row
// when the row expires unmatched, never before, so that its output only
// inserts too; it is one only in a live dataflow (a query run once gets
// no watermarks, and runs the ordinary outer join).

// intervalJoin is an interval join's bounds, with its time columns'
// names for EXPLAIN.
type intervalJoin struct {
	executor.Interval
	leftName, rightName string
}

// intervalJoins finds the interval joins among the joins of n, the FROM
// clause of one SELECT after its WHERE conditions were pushed in, and
// refuses those over inputs that may retract.
func (b *binder) intervalJoins(n node) error {
	switch x := n.(type) {
	case *filterNode:
		return b.intervalJoins(x.in)
	case *joinNode:
		if err := b.intervalJoins(x.left); err != nil {
			return err
		}
		if err := b.intervalJoins(x.right); err != nil {
			return err
		}
		if x.kind > executor.JoinFull || x.temporal || len(x.lkeys) == 0 {
			return nil
		}
		x.interval = findInterval(x)
		if iv := x.interval; iv == nil || !iv.expiresPreserved(x.kind) {
			x.interval = nil
			return nil
		}
		// An inner interval join follows retractions too (see
		// executor.Interval); an outer one, which emits a row's
		// null-padded row when it expires, needs inputs that only insert:
		// over others its bounds stay a plain condition of an ordinary
		// join, whose state is not bounded.
		for _, in := range []node{x.left, x.right} {
			if x.kind == executor.JoinInner {
				break
			}
			ok, err := b.insertsOnly(in)
			if err != nil {
				return err
			}
			if !ok {
				x.interval = nil
				return nil
			}
		}
	}
	return nil
}

// expiresPreserved reports whether the bounds let every row of the
// preserved sides of a join of kind expire: an outer interval join emits
// a row's null-padded row when it expires, so one that never did would
// never appear.
func (iv *intervalJoin) expiresPreserved(kind executor.JoinKind) bool {
	left := kind == executor.JoinLeft || kind == executor.JoinFull
	right := kind == executor.JoinRight || kind == executor.JoinFull
	return (!left || iv.HasHi) && (!right || iv.HasLo)
}

// findInterval returns the bounds the residual of join x puts on
// right.t - left.t for a watermarked time column of each side, or nil. Of
// several pairs of columns it takes the first bounded on both sides, else
// the first bounded at all; of several bounds on one side, the tightest.
func findInterval(x *joinNode) *intervalJoin {
	lw, rw := watermarked(x.left), watermarked(x.right)
	if x.kind == executor.JoinInner {
		// Equal times of both sides in the key (two windowed aggregates
		// joined on their window) bound the join both ways.
		for i, lk := range x.lkeys {
			l, lok := lk.(*executor.ColRef)
			r, rok := x.rkeys[i].(*executor.ColRef)
			if !lok || !rok || !lw[l.Idx] || !rw[r.Idx] {
				continue
			}
			if k := l.Typ.Kind; k != types.KindTimestamp && k != types.KindTimestampTZ || r.Typ.Kind != k {
				continue
			}
			return &intervalJoin{Interval: executor.Interval{LeftTime: l.Idx, RightTime: r.Idx, HasLo: true, HasHi: true, OnKey: true}, leftName: l.Name, rightName: r.Name}
		}
	}
	if x.residual == nil {
		return nil
	}
	L := len(x.left.colTypes())
	var found []*intervalJoin
	for _, c := range splitAnd(x.residual) {
		call, ok := c.(*executor.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		op := call.Name
		if op != "<" && op != "<=" && op != ">" && op != ">=" {
			continue
		}
		a, oa := timeTerm(call.Args[0])
		b, ob := timeTerm(call.Args[1])
		if a == nil || b == nil {
			continue
		}
		ca, cb := a.Idx, b.Idx
		// Make it right.t - left.t op c.
		var lt, rt int
		var d int64
		switch {
		case ca < L && cb >= L: // left + oa op right + ob
			lt, rt, d, op = ca, cb-L, oa-ob, flipComparison(op)
		case ca >= L && cb < L: // right + oa op left + ob
			lt, rt, d = cb, ca-L, ob-oa
			a, b = b, a
		default:
			continue
		}
		if !lw[lt] || !rw[rt] {
			continue
		}
		var iv *intervalJoin
		for _, f := range found {
			if f.LeftTime == lt && f.RightTime == rt {
				iv = f
			}
		}
		if iv == nil {
			iv = &intervalJoin{Interval: executor.Interval{LeftTime: lt, RightTime: rt}, leftName: a.Name, rightName: b.Name}
			found = append(found, iv)
		}
		// Timestamps count whole microseconds: a strict bound is an
		// inclusive one a microsecond in.
		switch op {
		case ">":
			d++
			fallthrough
		case ">=":
			if !iv.HasLo || d > iv.Lo {
				iv.Lo, iv.HasLo = d, true
			}
		case "<":
			d--
			fallthrough
		case "<=":
			if !iv.HasHi || d < iv.Hi {
				iv.Hi, iv.HasHi = d, true
			}
		}
	}
	for _, iv := range found {
		if iv.HasLo && iv.HasHi {
			return iv
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return nil
}

func flipComparison(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	}
	return "<="
}

// timeTerm recognizes a timestamp column plus or minus constant intervals
// of fixed length: it returns the column (nil if e is not one) and the
// offset in microseconds. Months have no fixed length; nor do days added
// to a timestamptz, whose wall clock may skip or repeat an hour that day.
func timeTerm(e executor.Expr) (*executor.ColRef, int64) {
	switch x := e.(type) {
	case *executor.ColRef:
		if k := x.Typ.Kind; k == types.KindTimestamp || k == types.KindTimestampTZ {
			return x, 0
		}
	case *executor.Call:
		if len(x.Args) != 2 || (x.Name != "+" && x.Name != "-") {
			return nil, 0
		}
		t, iv := x.Args[0], x.Args[1]
		sign := int64(1)
		if x.Name == "-" {
			sign = -1
		} else if t.Type().Kind == types.KindInterval {
			t, iv = iv, t // interval + timestamp
		}
		days, us, isIv := constInterval(iv)
		if !isIv {
			return nil, 0
		}
		col, offset := timeTerm(t)
		if col == nil || days != 0 && col.Typ.Kind == types.KindTimestampTZ {
			return nil, 0
		}
		return col, offset + sign*(days*86_400_000_000+us)
	}
	return nil, 0
}

// constInterval evaluates e if it is a constant interval without months.
func constInterval(e executor.Expr) (days, us int64, ok bool) {
	if e.Type().Kind != types.KindInterval || len(refs(e)) > 0 || hasVolatile(e) {
		return 0, 0, false
	}
	params := false
	executor.Walk(e, func(x executor.Expr) {
		if _, ok := x.(*executor.ParamRef); ok {
			params = true
		}
	})
	if params {
		return 0, 0, false
	}
	d, err := executor.NewCompiler(nil).Eval(e)
	if err != nil || d.IsNull() {
		return 0, 0, false
	}
	months, dd, us := d.IntervalParts()
	return int64(dd), us, months == 0
}

// intervalDesc is the join's bounds as EXPLAIN shows them: the right time
// between the left time plus the bounds, inclusive.
func (n *joinNode) intervalDesc() string {
	iv := n.interval
	lname, rname := iv.leftName, iv.rightName
	bound := func(has bool, us int64) string {
		if !has {
			return "unbounded"
		}
		sign := "+"
		if us < 0 {
			sign, us = "-", -us
		}
		return fmt.Sprintf("%s %s %s", lname, sign, types.AppendText(nil, types.NewInterval(0, 0, us), nil))
	}
	return fmt.Sprintf("interval %s in [%s, %s]", rname, bound(iv.HasLo, iv.Lo), bound(iv.HasHi, iv.Hi))
}

// watermarkedJoin reports which output columns of interval join n
// watermarks reach (see executor.intervalState): the left time column if
// the right time is bounded above, the right one if it is bounded below.
func watermarkedJoin(n *joinNode, out []bool) {
	if n.temporal {
		copy(out, watermarked(n.left))
	}
	if iv := n.interval; iv != nil {
		out[iv.LeftTime] = iv.HasHi
		out[len(n.left.colTypes())+iv.RightTime] = iv.HasLo
	}
}

// withinConds turns ksqlDB's WITHIN (before, after) of a join of ln and rn
// (cols their columns, the first L the left's) into the conditions
// right.t >= left.t - before AND right.t <= left.t + after, where a side's
// event time t is the first of its columns watermarks reach: a relation's
// WATERMARK FOR column, and of a join the left-most relation's, as ksqlDB
// joins a third stream by the first one's time.
func (b *binder) withinConds(w *ast.JoinWithin, ln, rn node, cols []scopeCol, L int) ([]executor.Expr, error) {
	lt, rt := slices.Index(watermarked(ln), true), slices.Index(watermarked(rn), true)
	if lt < 0 || rt < 0 {
		return nil, sqlerr.Unsupported("WITHIN needs an event time on both sides of the join").
			WithHint("Declare WATERMARK FOR a timestamp column of each relation, or write the bound in ON: o.ts BETWEEN c.ts - INTERVAL '1' HOUR AND c.ts + INTERVAL '1' HOUR.")
	}
	ref := func(i int) *executor.ColRef {
		return &executor.ColRef{Idx: i, Typ: cols[i].typ, Name: qualified(cols[i])}
	}
	var out []executor.Expr
	for _, bound := range []struct {
		iv         ast.Expr
		shift, cmp string
	}{{w.Before, "-", ">="}, {w.After, "+", "<="}} {
		us, err := b.windowInterval(bound.iv, "WITHIN")
		if err != nil {
			return nil, err
		}
		if us < 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "the durations of WITHIN must not be negative")
		}
		edge, err := b.call(bound.shift, []executor.Expr{ref(lt), &executor.Const{Value: types.NewInterval(0, 0, us), Typ: types.Interval}})
		if err != nil {
			return nil, err
		}
		c, err := b.call(bound.cmp, []executor.Expr{ref(L + rt), edge})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
