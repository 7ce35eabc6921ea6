package funcs

import (
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// Comparison operators: = <> != < <= > >= for every kind. Integer kinds
// compare with each other directly (as PostgreSQL's int24eq, int48lt...),
// float4 with float8; other mixes resolve through implicit casts
// (int4 = numeric -> numeric = numeric, date < timestamp -> timestamp).

var cmpOps = [...]string{"=", "<>", "!=", "<", "<=", ">", ">="}

// cmpResult turns a three-way comparison into the operator's truth.
func cmpResult(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<>", "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func addComparisons(t table) {
	for _, op := range cmpOps {
		for _, a := range intKinds {
			for _, b := range intKinds {
				t.fn(op, ts(a, b), types.Bool, intCmp(op))
			}
		}
		t.fn(op, ts(types.KindText, types.KindText), types.Bool, textCmp(op))
		for _, a := range []types.Kind{types.KindFloat32, types.KindFloat64} {
			for _, b := range []types.Kind{types.KindFloat32, types.KindFloat64} {
				t.fn(op, ts(a, b), types.Bool, genericCmp(op, cmpFloat))
			}
		}
		t.fn(op, ts(types.KindNumeric, types.KindNumeric), types.Bool, genericCmp(op, cmpNumeric))
		t.fn(op, ts(types.KindBool, types.KindBool), types.Bool, genericCmp(op, cmpInt))
		t.fn(op, ts(types.KindBytea, types.KindBytea), types.Bool, genericCmp(op, cmpStr))
		for _, k := range []types.Kind{types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ} {
			t.fn(op, ts(k, k), types.Bool, intCmp(op))
		}
		t.fn(op, ts(types.KindInterval, types.KindInterval), types.Bool, genericCmp(op, cmpInterval))
		t.fn(op, ts(types.KindJSONB, types.KindJSONB), types.Bool, genericCmp(op, cmpJSONB))
	}
}

// intCmp compares the int64 payloads: every integer kind, bool, date,
// time and timestamps.
func intCmp(op string) evalFn {
	switch op {
	case "=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Int() == a[1].Int()), nil
		}
	case "<>", "!=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Int() != a[1].Int()), nil
		}
	case "<":
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewBool(a[0].Int() < a[1].Int()), nil }
	case "<=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Int() <= a[1].Int()), nil
		}
	case ">":
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewBool(a[0].Int() > a[1].Int()), nil }
	}
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBool(a[0].Int() >= a[1].Int()), nil
	}
}

// textCmp compares text by bytes (the C collation).
func textCmp(op string) evalFn {
	switch op {
	case "=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Str() == a[1].Str()), nil
		}
	case "<>", "!=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Str() != a[1].Str()), nil
		}
	case "<":
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewBool(a[0].Str() < a[1].Str()), nil }
	case "<=":
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(a[0].Str() <= a[1].Str()), nil
		}
	case ">":
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewBool(a[0].Str() > a[1].Str()), nil }
	}
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBool(a[0].Str() >= a[1].Str()), nil
	}
}

func genericCmp(op string, cmp func(a, b types.Datum) int) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBool(cmpResult(op, cmp(a[0], a[1]))), nil
	}
}

func cmpInt(a, b types.Datum) int {
	x, y := a.Int(), b.Int()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpStr(a, b types.Datum) int { return strings.Compare(a.Str(), b.Str()) }

// cmpFloat orders floats as PostgreSQL does: NaN equals NaN and sorts
// above every other value.
func cmpFloat(a, b types.Datum) int { return cmpF64(a.Float(), b.Float()) }

func cmpF64(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpNumeric orders numerics by value (1.0 = 1), NaN above everything.
func cmpNumeric(a, b types.Datum) int { return cmpDec(a.Decimal(), b.Decimal()) }

func cmpDec(x, y *apd.Decimal) int {
	xn, yn := x.Form == apd.NaN || x.Form == apd.NaNSignaling, y.Form == apd.NaN || y.Form == apd.NaNSignaling
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	return x.Cmp(y)
}

// cmpInterval compares intervals by their span with a month of 30 days
// and a day of 24 hours, as PostgreSQL's interval_cmp does ('1 mon' =
// '30 days').
func cmpInterval(a, b types.Datum) int {
	ad, au := intervalSpan(a)
	bd, bu := intervalSpan(b)
	switch {
	case ad < bd:
		return -1
	case ad > bd:
		return 1
	case au < bu:
		return -1
	case au > bu:
		return 1
	}
	return 0
}

// intervalSpan is the interval as whole days and a micro remainder in
// [0, usPerDay).
func intervalSpan(d types.Datum) (days, micros int64) {
	m, dd, us := d.IntervalParts()
	days = int64(m)*30 + int64(dd) + floorDiv(us, usPerDay)
	return days, floorMod(us, usPerDay)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// compareDatums compares two non-NULL datums of the same kind, or of two
// numeric kinds, for greatest/least and friends.
func compareDatums(a, b types.Datum) int {
	ak, bk := a.Kind(), b.Kind()
	if ak != bk {
		if isIntKind(ak) && isIntKind(bk) {
			return cmpInt(a, b)
		}
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		return cmpF64(x, y)
	}
	switch ak {
	case types.KindFloat32, types.KindFloat64:
		return cmpFloat(a, b)
	case types.KindNumeric:
		return cmpNumeric(a, b)
	case types.KindText, types.KindBytea, types.KindUnknown:
		return cmpStr(a, b)
	case types.KindInterval:
		return cmpInterval(a, b)
	case types.KindJSONB:
		return cmpJSONB(a, b)
	}
	return cmpInt(a, b)
}

func isIntKind(k types.Kind) bool {
	return k == types.KindInt16 || k == types.KindInt32 || k == types.KindInt64
}

// toFloat converts a numeric-kind datum to float64.
func toFloat(d types.Datum) (float64, bool) {
	switch d.Kind() {
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return float64(d.Int()), true
	case types.KindFloat32, types.KindFloat64:
		return d.Float(), true
	case types.KindNumeric:
		f, err := d.Decimal().Float64()
		return f, err == nil
	}
	return 0, false
}
