package executor

import (
	"errors"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// AggFunc is an aggregate function.
type AggFunc uint8

const (
	AggCountStar AggFunc = iota
	AggCount
	AggSum
	AggAvg
	AggMin
	AggMax
	AggBoolAnd
	AggBoolOr
	AggStringAgg
	// AggAnyValue is some value of the group (the smallest non-NULL one;
	// NULL when there is none). The planner pairs it with count(*) to
	// evaluate a scalar subquery: with exactly one row it is that row's
	// value.
	AggAnyValue
)

var aggNames = [...]string{"count(*)", "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "string_agg", "any_value"}

func (f AggFunc) String() string { return aggNames[f] }

// AggSpec describes one aggregate over the Aggregate operator's input row.
// Arguments, the FILTER predicate and ORDER BY keys are input columns (the
// planner projects them first).
type AggSpec struct {
	Func AggFunc
	// Args are input columns: the value (none for count(*)), and for
	// string_agg the delimiter.
	Args     []int
	Distinct bool
	// Filter is the input column of the FILTER (WHERE) predicate, -1 for
	// none.
	Filter int
	// OrderBy orders string_agg's input.
	OrderBy []SortKey
	// ArgType is the value's type; Type the result's.
	ArgType, Type types.Type
}

func (s AggSpec) String() string {
	var sb strings.Builder
	if s.Func == AggCountStar {
		sb.WriteString("count(*)")
	} else {
		sb.WriteString(s.Func.String() + "(")
		if s.Distinct {
			sb.WriteString("DISTINCT ")
		}
		for i, a := range s.Args {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("#" + strconv.Itoa(a))
		}
		sb.WriteString(")")
	}
	if s.Filter >= 0 {
		sb.WriteString(" FILTER #" + strconv.Itoa(s.Filter))
	}
	return sb.String()
}

// accumulator is the retractable state of one aggregate in one group.
type accumulator interface {
	// add applies row with weight w (negative retracts).
	add(row types.Row, w int64) error
	result() (types.Datum, error)
	// appendState and restoreState save and load the accumulator's
	// state (accumstate.go).
	appendState(buf []byte) []byte
	restoreState(r *stateReader)
}

// newAccumulator returns the accumulator of s. appendOnly: it will only
// see insertions (weights > 0), so it may keep less state.
func newAccumulator(s *AggSpec, appendOnly bool) accumulator {
	var a accumulator
	col := -1
	if len(s.Args) > 0 {
		col = s.Args[0]
	}
	switch s.Func {
	case AggCountStar:
		return &countAcc{col: -1}
	case AggCount:
		a = &countAcc{col: col}
	case AggSum, AggAvg:
		avg := s.Func == AggAvg
		switch s.ArgType.Kind {
		case types.KindInt16, types.KindInt32, types.KindInt64:
			a = &intSumAcc{col: col, avg: avg, toNumeric: avg || s.ArgType.Kind == types.KindInt64}
		case types.KindFloat32, types.KindFloat64:
			a = &floatSumAcc{col: col, avg: avg, f32: s.Type.Kind == types.KindFloat32}
		case types.KindInterval:
			a = &intervalSumAcc{col: col, avg: avg}
		default:
			a = &numericSumAcc{col: col, avg: avg}
		}
	case AggMin, AggMax, AggAnyValue:
		a = &minMaxAcc{col: col, max: s.Func == AggMax, appendOnly: appendOnly}
	case AggBoolAnd, AggBoolOr:
		a = &boolAcc{col: col, or: s.Func == AggBoolOr}
	case AggStringAgg:
		a = &stringAggAcc{args: s.Args, order: s.OrderBy, bytea: s.ArgType.Kind == types.KindBytea}
	}
	if s.Distinct && col >= 0 {
		a = &distinctAcc{col: col, inner: a, vals: map[string]int64{}}
	}
	return a
}

// countAcc is COUNT(*) (col -1) or COUNT(x).
type countAcc struct {
	col int
	n   int64
}

func (a *countAcc) add(row types.Row, w int64) error {
	if a.col < 0 || !row[a.col].IsNull() {
		a.n += w
	}
	return nil
}
func (a *countAcc) result() (types.Datum, error) { return types.NewInt64(a.n), nil }

// intSumAcc sums integers exactly: in an int64 while it fits, spilling the
// overflow into a decimal. sum(int2/int4) is bigint, sum(int8) numeric,
// avg(int) numeric.
type intSumAcc struct {
	col       int
	avg       bool
	toNumeric bool
	s, n      int64
	big       *apd.Decimal
}

func (a *intSumAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	v := d.Int()
	hi, lo := bits.Mul64(uint64(abs64(v)), uint64(abs64(w)))
	neg := (v < 0) != (w < 0)
	if hi != 0 || lo > math.MaxInt64 {
		a.spill(apdMul(v, w))
	} else {
		p := int64(lo)
		if neg {
			p = -p
		}
		s := a.s + p
		if (p > 0 && s < a.s) || (p < 0 && s > a.s) {
			a.spill(apd.New(p, 0))
		} else {
			a.s = s
		}
	}
	a.n += w
	return nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func apdMul(v, w int64) *apd.Decimal {
	r := new(apd.Decimal)
	_, _ = types.NumericContext.Mul(r, apd.New(v, 0), apd.New(w, 0))
	return r
}

func (a *intSumAcc) spill(d *apd.Decimal) {
	if a.big == nil {
		a.big = new(apd.Decimal)
	}
	_, _ = types.NumericContext.Add(a.big, a.big, d)
}

func (a *intSumAcc) total() *apd.Decimal {
	t := apd.New(a.s, 0)
	if a.big != nil {
		_, _ = types.NumericContext.Add(t, t, a.big)
	}
	return t
}

func (a *intSumAcc) result() (types.Datum, error) {
	if a.n <= 0 {
		return types.Null, nil
	}
	if a.avg {
		q, err := types.DivNumeric(a.total(), apd.New(a.n, 0))
		if err != nil {
			return types.Null, err
		}
		return types.NewNumeric(q), nil
	}
	if a.toNumeric {
		return types.NewNumeric(a.total()), nil
	}
	if a.big != nil {
		return types.Null, sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
	}
	return types.NewInt64(a.s), nil
}

// floatSumAcc is sum/avg over real and double precision.
type floatSumAcc struct {
	col      int
	avg, f32 bool
	s        float64
	n        int64
}

func (a *floatSumAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	a.s += d.Float() * float64(w)
	a.n += w
	return nil
}

func (a *floatSumAcc) result() (types.Datum, error) {
	if a.n <= 0 {
		return types.Null, nil
	}
	if a.avg {
		return types.NewFloat64(a.s / float64(a.n)), nil
	}
	if a.f32 {
		return types.NewFloat32(float32(a.s)), nil
	}
	return types.NewFloat64(a.s), nil
}

// numericSumAcc is sum/avg over numeric, exact. PostgreSQL's sum has the
// largest display scale of the values summed; with retractions that is the
// largest scale among the values still present, so the accumulator counts
// values per scale (few distinct scales occur).
type numericSumAcc struct {
	col    int
	avg    bool
	s      apd.Decimal
	n      int64
	scales []scaleCount
}

// scaleCount is how many summed values have a display scale.
type scaleCount struct {
	scale int32
	n     int64
}

// addScale counts w more values of display scale sc.
func (a *numericSumAcc) addScale(sc int32, w int64) {
	for i := range a.scales {
		if a.scales[i].scale == sc {
			a.scales[i].n += w
			if a.scales[i].n == 0 {
				a.scales = append(a.scales[:i], a.scales[i+1:]...)
			}
			return
		}
	}
	a.scales = append(a.scales, scaleCount{scale: sc, n: w})
}

// maxScale is the largest display scale of the values present.
func (a *numericSumAcc) maxScale() int32 {
	m := int32(0)
	for _, sc := range a.scales {
		if sc.n > 0 && sc.scale > m {
			m = sc.scale
		}
	}
	return m
}

func (a *numericSumAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	x := d.Decimal()
	if w != 1 {
		m := new(apd.Decimal)
		if _, err := types.NumericContext.Mul(m, x, apd.New(w, 0)); err != nil {
			return err
		}
		x = m
	}
	if _, err := types.NumericContext.Add(&a.s, &a.s, x); err != nil {
		return err
	}
	if d.Decimal().Form == apd.Finite {
		a.addScale(max(0, -d.Decimal().Exponent), w)
	}
	a.n += w
	return nil
}

func (a *numericSumAcc) result() (types.Datum, error) {
	if a.n <= 0 {
		return types.Null, nil
	}
	r := new(apd.Decimal)
	r.Set(&a.s)
	if r.Form == apd.Finite && -r.Exponent != a.maxScale() {
		// Retracted values may have left digits of a larger scale (1.00
		// after 2.25 went away from 2.25 + 1): show the scale of what is
		// present, as a recompute would.
		q, err := types.RoundNumeric(r, a.maxScale())
		if err != nil {
			return types.Null, err
		}
		r = q
	}
	if a.avg {
		q, err := types.DivNumeric(r, apd.New(a.n, 0))
		if err != nil {
			return types.Null, err
		}
		return types.NewNumeric(q), nil
	}
	return types.NewNumeric(r), nil
}

// intervalSumAcc is sum/avg over intervals (months, days, micros apart).
type intervalSumAcc struct {
	col                  int
	avg                  bool
	months, days, micros int64
	n                    int64
}

func (a *intervalSumAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	m, dd, us := d.IntervalParts()
	a.months += int64(m) * w
	a.days += int64(dd) * w
	a.micros += us * w
	a.n += w
	return nil
}

func (a *intervalSumAcc) result() (types.Datum, error) {
	if a.n <= 0 {
		return types.Null, nil
	}
	if !a.avg {
		return types.NewInterval(int32(a.months), int32(a.days), a.micros), nil
	}
	// PostgreSQL's interval division cascades fractions down.
	n := float64(a.n)
	mf := float64(a.months) / n
	m := math.Trunc(mf)
	df := float64(a.days)/n + (mf-m)*30
	dd := math.Trunc(df)
	us := float64(a.micros)/n + (df-dd)*86400e6
	return types.NewInterval(int32(m), int32(dd), int64(math.Round(us))), nil
}

// minMaxAcc keeps the multiset of values in order (a sortedMultiset), so
// that retracting the current minimum (maximum) finds the next one in
// O(log n) instead of rescanning every value. In append-only mode (its
// input never retracts) it keeps only the current extreme.
type minMaxAcc struct {
	col        int
	max        bool
	appendOnly bool
	vals       sortedMultiset
	cur        types.Datum // append-only: the extreme so far (NULL: none)
}

func (a *minMaxAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	if a.appendOnly {
		if w <= 0 {
			return errors.New("executor: retraction reached an append-only min/max")
		}
		if a.cur.IsNull() {
			a.cur = d
		} else if c := types.Compare(d, a.cur); (a.max && c > 0) || (!a.max && c < 0) {
			a.cur = d
		}
		return nil
	}
	a.vals.add(d, w)
	return nil
}

func (a *minMaxAcc) result() (types.Datum, error) {
	if a.appendOnly {
		return a.cur, nil
	}
	var e *mmEntry
	if a.max {
		e = a.vals.last()
	} else {
		e = a.vals.first()
	}
	if e == nil {
		return types.Null, nil
	}
	return e.d, nil
}

// boolAcc is bool_and / bool_or: counts of true and false inputs.
type boolAcc struct {
	col         int
	or          bool
	nTrue, nFal int64
}

func (a *boolAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	if d.Bool() {
		a.nTrue += w
	} else {
		a.nFal += w
	}
	return nil
}

func (a *boolAcc) result() (types.Datum, error) {
	switch {
	case a.nTrue <= 0 && a.nFal <= 0:
		return types.Null, nil
	case a.or:
		return types.NewBool(a.nTrue > 0), nil
	}
	return types.NewBool(a.nFal <= 0), nil
}

// stringAggAcc keeps the multiset of (value, delimiter, order keys) rows and
// concatenates them at result time, in ORDER BY order, else arrival order.
type stringAggAcc struct {
	args  []int
	order []SortKey
	bytea bool
	rows  map[string]*saEntry
	seq   int64
}

type saEntry struct {
	row types.Row
	n   int64
	seq int64
}

func (a *stringAggAcc) add(row types.Row, w int64) error {
	if row[a.args[0]].IsNull() {
		return nil
	}
	if a.rows == nil {
		a.rows = map[string]*saEntry{}
	}
	k := string(appendRowKey(nil, row))
	e := a.rows[k]
	if e == nil {
		e = &saEntry{row: row, seq: a.seq}
		a.seq++
		a.rows[k] = e
	}
	e.n += w
	if e.n == 0 {
		delete(a.rows, k)
	}
	return nil
}

func (a *stringAggAcc) result() (types.Datum, error) {
	es := make([]*saEntry, 0, len(a.rows))
	for _, e := range a.rows {
		if e.n > 0 {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		return types.Null, nil
	}
	sortEntries(es, a.order)
	var sb strings.Builder
	first := true
	for _, e := range es {
		for range e.n {
			if !first && len(a.args) > 1 && !e.row[a.args[1]].IsNull() {
				sb.WriteString(e.row[a.args[1]].Str())
			}
			first = false
			sb.WriteString(e.row[a.args[0]].Str())
		}
	}
	if a.bytea {
		return types.NewBytea([]byte(sb.String())), nil
	}
	return types.NewText(sb.String()), nil
}

// distinctAcc feeds its inner accumulator each distinct value once: +1 when
// a value's count becomes positive, -1 when it drops to zero.
type distinctAcc struct {
	col   int
	inner accumulator
	vals  map[string]int64
	buf   []byte
}

func (a *distinctAcc) add(row types.Row, w int64) error {
	d := row[a.col]
	if d.IsNull() {
		return nil
	}
	a.buf = types.AppendKey(a.buf[:0], d)
	old := a.vals[string(a.buf)]
	n := old + w
	if n == 0 {
		delete(a.vals, string(a.buf))
	} else {
		a.vals[string(a.buf)] = n
	}
	switch {
	case old <= 0 && n > 0:
		return a.inner.add(row, 1)
	case old > 0 && n <= 0:
		return a.inner.add(row, -1)
	}
	return nil
}

func (a *distinctAcc) result() (types.Datum, error) { return a.inner.result() }

func sortEntries(es []*saEntry, order []SortKey) {
	slices.SortFunc(es, func(x, y *saEntry) int {
		if c := CompareRows(x.row, y.row, order); c != 0 {
			return c
		}
		switch {
		case x.seq < y.seq:
			return -1
		case x.seq > y.seq:
			return 1
		}
		return 0
	})
}
