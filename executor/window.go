package executor

import (
	"fmt"
	"strings"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Window functions are computed by the TopN operator (NewWindow): it
// already keeps each partition's rows in window order (ORDER BY keys, ties
// broken by the row's key bytes), which is all a window function needs.
// What the evaluation here adds is the values of the functions over one
// partition's rows, in that order, each row once per copy.

// WindowKind is a window function.
type WindowKind uint8

const (
	WinRowNumber WindowKind = iota
	WinRank
	WinDenseRank
	WinPercentRank
	WinCumeDist
	WinNtile
	WinLag
	WinLead
	WinFirstValue
	WinLastValue
	WinNthValue
	// WinAggregate is an aggregate over the frame (WindowFunc.Agg).
	WinAggregate
)

// FrameBound is one bound of a frame; Offset (>= 0) is the number of
// rows or peer groups of ast.OffsetPreceding and ast.OffsetFollowing.
type FrameBound struct {
	Kind   ast.BoundKind
	Offset int64
}

// WindowFrame is the frame of a window function: the rows of the
// partition an aggregate, first_value, last_value or nth_value sees from
// each row. RANGE takes no offsets here, so its bounds are those of GROUPS
// without them.
type WindowFrame struct {
	Mode       ast.FrameMode
	Start, End FrameBound
}

// DefaultFrame is RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW: the
// rows up to the current row's last peer, or the whole partition when the
// window has no ORDER BY (every row is then a peer of every other).
var DefaultFrame = WindowFrame{Mode: ast.FrameRange, End: FrameBound{Kind: ast.CurrentRow}}

// WindowFunc is one window function over the operator's input rows.
type WindowFunc struct {
	Kind WindowKind
	// Args are input columns: the value (lag, lead, first_value,
	// last_value, nth_value), then lag's and lead's offset and default,
	// nth_value's n; ntile's bucket count.
	Args []int
	// Agg is the aggregate of WinAggregate, over input columns (no
	// DISTINCT, no ORDER BY).
	Agg   AggSpec
	Frame WindowFrame
	Type  types.Type
}

func (b FrameBound) String() string {
	switch b.Kind {
	case ast.UnboundedPreceding:
		return "unbounded preceding"
	case ast.OffsetPreceding:
		return fmt.Sprintf("%d preceding", b.Offset)
	case ast.CurrentRow:
		return "current row"
	case ast.OffsetFollowing:
		return fmt.Sprintf("%d following", b.Offset)
	}
	return "unbounded following"
}

func (f WindowFrame) String() string {
	mode := [...]string{"rows", "range", "groups"}[f.Mode]
	return mode + " between " + f.Start.String() + " and " + f.End.String()
}

// usesFrame reports whether the function's value depends on its frame.
func (f *WindowFunc) usesFrame() bool {
	switch f.Kind {
	case WinAggregate, WinFirstValue, WinLastValue, WinNthValue:
		return true
	}
	return false
}

// PrefixExact reports whether the function's value at a row depends only
// on the rows up to it in window order, so that it is computed exactly
// over any first rows of a partition: what a top-N per partition keeps.
func (f *WindowFunc) PrefixExact() bool {
	switch f.Kind {
	case WinRowNumber, WinRank, WinDenseRank:
		return true
	}
	return false
}

func (f *WindowFunc) String() string {
	var sb strings.Builder
	if f.Kind == WinAggregate {
		sb.WriteString(f.Agg.String())
	} else {
		sb.WriteString([...]string{"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
			"lag", "lead", "first_value", "last_value", "nth_value"}[f.Kind])
		sb.WriteString("(")
		for i, a := range f.Args {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "#%d", a)
		}
		sb.WriteString(")")
	}
	if f.usesFrame() {
		sb.WriteString(" " + f.Frame.String())
	}
	return sb.String()
}

// windowEval computes window functions over one partition at a time. It
// keeps scratch space between partitions and is not safe for concurrent
// use.
type windowEval struct {
	funcs []WindowFunc
	keys  []SortKey
	// group[i] is the peer group of row i; groupStart[g] the first row of
	// group g, then the number of rows (computed only when peers matter:
	// peers).
	group      []int32
	groupStart []int
	peers      bool
}

func newWindowEval(funcs []WindowFunc, keys []SortKey) *windowEval {
	w := &windowEval{funcs: funcs, keys: keys}
	for _, f := range funcs {
		switch {
		case f.Kind == WinRank || f.Kind == WinDenseRank || f.Kind == WinPercentRank || f.Kind == WinCumeDist:
			w.peers = true
		case f.usesFrame() && f.Frame.Mode != ast.FrameRows:
			w.peers = true
		}
	}
	return w
}

// eval computes the values of the functions for rows, a partition in
// window order: out[i*k+f] is function f's value at row i (k functions).
func (w *windowEval) eval(rows []types.Row, out []types.Datum) error {
	w.group, w.groupStart = w.group[:0], w.groupStart[:0]
	if w.peers {
		for i, r := range rows {
			if i == 0 || !sameRow(rows[i-1], r) && CompareRows(rows[i-1], r, w.keys) != 0 {
				w.groupStart = append(w.groupStart, i)
			}
			w.group = append(w.group, int32(len(w.groupStart)-1))
		}
		w.groupStart = append(w.groupStart, len(rows))
	}
	k := len(w.funcs)
	n := len(rows)
	for fi := range w.funcs {
		f := &w.funcs[fi]
		set := func(i int, d types.Datum) { out[i*k+fi] = d }
		switch f.Kind {
		case WinRowNumber:
			for i := range rows {
				set(i, types.NewInt64(int64(i+1)))
			}
		case WinRank:
			for i := range rows {
				set(i, types.NewInt64(int64(w.groupStart[w.group[i]]+1)))
			}
		case WinDenseRank:
			for i := range rows {
				set(i, types.NewInt64(int64(w.group[i])+1))
			}
		case WinPercentRank:
			for i := range rows {
				v := 0.0
				if n > 1 {
					v = float64(w.groupStart[w.group[i]]) / float64(n-1)
				}
				set(i, types.NewFloat64(v))
			}
		case WinCumeDist:
			for i := range rows {
				set(i, types.NewFloat64(float64(w.groupStart[w.group[i]+1])/float64(n)))
			}
		case WinNtile:
			if err := ntile(f, rows, set); err != nil {
				return err
			}
		case WinLag, WinLead:
			for i, r := range rows {
				off := int64(1)
				if len(f.Args) > 1 {
					d := r[f.Args[1]]
					if d.IsNull() {
						set(i, types.Null)
						continue
					}
					off = d.Int()
				}
				if f.Kind == WinLag {
					off = -off
				}
				switch j := int64(i) + off; {
				case j >= 0 && j < int64(n):
					set(i, rows[j][f.Args[0]])
				case len(f.Args) > 2:
					set(i, r[f.Args[2]])
				default:
					set(i, types.Null)
				}
			}
		case WinFirstValue, WinLastValue, WinNthValue:
			for i, r := range rows {
				s, e := w.frame(&f.Frame, i, n)
				pick := s
				switch f.Kind {
				case WinLastValue:
					pick = e - 1
				case WinNthValue:
					d := r[f.Args[1]]
					if d.IsNull() {
						set(i, types.Null)
						continue
					}
					nth := d.Int()
					if nth <= 0 {
						return sqlerr.New(sqlerr.Code("22016"), "argument of nth_value must be greater than zero")
					}
					pick = e
					if nth <= int64(e-s) {
						pick = s + int(nth) - 1
					}
				}
				if s < e && pick >= s && pick < e {
					set(i, rows[pick][f.Args[0]])
				} else {
					set(i, types.Null)
				}
			}
		case WinAggregate:
			if err := w.aggregate(f, rows, set); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameRow reports whether a and b are one slice: copies of one row, peers
// without comparing.
func sameRow(a, b types.Row) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// ntile is PostgreSQL's: the bucket count is read at the partition's
// first row (a NULL there gives NULL and is read again at the next), and
// the first total % buckets buckets get one row more.
func ntile(f *WindowFunc, rows []types.Row, set func(int, types.Datum)) error {
	var bucket, inBucket, boundary, remainder int64
	total := int64(len(rows))
	for i, r := range rows {
		if bucket == 0 {
			d := r[f.Args[0]]
			if d.IsNull() {
				set(i, types.Null)
				continue
			}
			buckets := d.Int()
			if buckets <= 0 {
				return sqlerr.New(sqlerr.Code("22014"), "argument of ntile must be greater than zero")
			}
			bucket, inBucket = 1, 0
			boundary = total / buckets
			if boundary <= 0 {
				boundary = 1
			} else if remainder = total % buckets; remainder != 0 {
				boundary++
			}
		}
		inBucket++
		if boundary < inBucket {
			if remainder != 0 && bucket == remainder {
				remainder = 0
				boundary--
			}
			bucket++
			inBucket = 1
		}
		set(i, types.NewInt32(int32(bucket)))
	}
	return nil
}

// frame returns the frame of row i of n: rows [s, e), empty when e <= s.
func (w *windowEval) frame(f *WindowFrame, i, n int) (s, e int) {
	return w.bound(f.Mode, f.Start, i, n, true), w.bound(f.Mode, f.End, i, n, false)
}

// bound is where a frame bound puts the start (or the end, exclusive) of
// row i's frame.
func (w *windowEval) bound(mode ast.FrameMode, b FrameBound, i, n int, start bool) int {
	next := 0 // an end bound is exclusive: one past the row or group
	if !start {
		next = 1
	}
	switch b.Kind {
	case ast.UnboundedPreceding:
		return 0
	case ast.UnboundedFollowing:
		return n
	case ast.CurrentRow:
		if mode == ast.FrameRows {
			return i + next
		}
		return w.groupStart[int(w.group[i])+next]
	}
	off := min(b.Offset, int64(n)+1) // no overflow; beyond n is all the same
	if b.Kind == ast.OffsetPreceding {
		off = -off
	}
	if mode == ast.FrameRows {
		return int(max(0, min(int64(n), int64(i)+off+int64(next))))
	}
	groups := len(w.groupStart) - 1
	return w.groupStart[max(0, min(int64(groups), int64(w.group[i])+off+int64(next)))]
}

// frameAcc is what an aggregate over a frame needs of its state: an
// accumulator, or frameStringAgg.
type frameAcc interface {
	add(row types.Row, w int64) error
	result() (types.Datum, error)
}

// retractsExactly reports whether removing a row from the aggregate's
// state leaves what adding the remaining rows would: not so for float
// sums (rounding), which PostgreSQL recomputes when the frame's start
// moves, and for string_agg, whose order is the frame's.
func retractsExactly(s *AggSpec) bool {
	switch s.Func {
	case AggSum, AggAvg:
		k := s.ArgType.Kind
		return k != types.KindFloat32 && k != types.KindFloat64
	case AggStringAgg:
		return false
	}
	return true
}

// aggregate computes an aggregate over each row's frame. Frames move
// forward only (a bound's position never decreases from one row to the
// next), so the state slides: rows entering the frame are added, rows
// leaving it retracted, or, for an aggregate that cannot retract exactly,
// the state restarts from the frame's new start, as PostgreSQL does.
func (w *windowEval) aggregate(f *WindowFunc, rows []types.Row, set func(int, types.Datum)) error {
	grows := f.Frame.Start.Kind == ast.UnboundedPreceding
	exact := retractsExactly(&f.Agg)
	var acc frameAcc
	lo, hi := 0, 0 // the rows in acc
	lastS, lastE := -1, -1
	var res types.Datum
	apply := func(r types.Row, wt int64) error {
		if f.Agg.Filter >= 0 && !truthy(r[f.Agg.Filter]) {
			return nil
		}
		return acc.add(r, wt)
	}
	for i := range rows {
		s, e := w.frame(&f.Frame, i, len(rows))
		e = max(e, s)
		if s == lastS && e == lastE {
			set(i, res)
			continue
		}
		if acc == nil || s < lo || e < hi || (s > lo && !exact) {
			if f.Agg.Func == AggStringAgg {
				acc = &frameStringAgg{args: f.Agg.Args, bytea: f.Agg.ArgType.Kind == types.KindBytea}
			} else {
				acc = newAccumulator(&f.Agg, grows)
			}
			lo, hi = s, s
		}
		for ; lo < s && lo < hi; lo++ {
			if err := apply(rows[lo], -1); err != nil {
				return err
			}
		}
		if lo < s { // the frame moved past all it held
			lo, hi = s, s
		}
		for ; hi < e; hi++ {
			if err := apply(rows[hi], 1); err != nil {
				return err
			}
		}
		var err error
		if res, err = acc.result(); err != nil {
			return err
		}
		set(i, res)
		lastS, lastE = s, e
	}
	return nil
}

// frameStringAgg is string_agg over a frame: values appended in window
// order (only ever added: a frame whose start moves restarts it).
type frameStringAgg struct {
	args  []int // value, delimiter
	bytea bool
	buf   []byte
	any   bool
}

func (a *frameStringAgg) add(row types.Row, _ int64) error {
	v := row[a.args[0]]
	if v.IsNull() {
		return nil
	}
	if a.any && !row[a.args[1]].IsNull() {
		a.buf = append(a.buf, row[a.args[1]].Str()...)
	}
	a.any = true
	a.buf = append(a.buf, v.Str()...)
	return nil
}

func (a *frameStringAgg) result() (types.Datum, error) {
	switch {
	case !a.any:
		return types.Null, nil
	case a.bytea:
		return types.NewBytea(a.buf), nil
	}
	return types.NewText(string(a.buf)), nil
}

// sameShown reports whether a and b hold the same values as they would be
// shown (numerics of equal value and different scales differ, as in
// appendRowIdentity).
func sameShown(a, b []types.Datum) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.IsNull() || y.IsNull() {
			if x.IsNull() != y.IsNull() {
				return false
			}
			continue
		}
		if x.Kind() != y.Kind() || !types.Equal(x, y) {
			return false
		}
		if x.Kind() == types.KindNumeric && x.Decimal().Exponent != y.Decimal().Exponent {
			return false
		}
	}
	return true
}
