package funcs

import (
	"math"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Arithmetic operators on the numeric kinds, with PostgreSQL's result
// types: integer op integer -> the wider integer kind (int / int truncates
// toward zero), float4 op float4 -> float4, float op float8 -> float8,
// numeric op numeric -> numeric; other mixes resolve by implicit casts
// (int4 + numeric -> numeric, int8 + float4 -> float8).

func addArithmetic(t table) {
	for _, op := range []byte{'+', '-', '*', '/'} {
		name := string(op)
		for _, a := range intKinds {
			for _, b := range intKinds {
				t.fn(name, ts(a, b), types.Type{Kind: max(a, b)}, intArith(op, max(a, b)))
			}
		}
		t.fn(name, ts(types.KindFloat32, types.KindFloat32), types.Float32, float4Arith(op))
		for _, ab := range [][2]types.Kind{{types.KindFloat64, types.KindFloat64}, {types.KindFloat32, types.KindFloat64}, {types.KindFloat64, types.KindFloat32}} {
			t.fn(name, ts(ab[0], ab[1]), types.Float64, float8Arith(op))
		}
		t.fn(name, ts(types.KindNumeric, types.KindNumeric), types.Numeric, numericArith(op))
	}
	for _, k := range intKinds {
		t.fn("%", ts(k, k), types.Type{Kind: k}, intArith('%', k))
		t.fn("-", ts(k), types.Type{Kind: k}, intNeg(k))
		t.fn("+", ts(k), types.Type{Kind: k}, identity)
		t.fn("@", ts(k), types.Type{Kind: k}, intAbs(k))
		for _, op := range []byte{'&', '|', '#'} {
			t.fn(string(op), ts(k, k), types.Type{Kind: k}, intBitwise(op, k))
		}
		t.fn("~", ts(k), types.Type{Kind: k}, func(_ *Env, a []types.Datum) (types.Datum, error) { return wrapInt(k, ^a[0].Int()) })
		t.fn("<<", ts(k, types.KindInt32), types.Type{Kind: k}, intShift(true, k))
		t.fn(">>", ts(k, types.KindInt32), types.Type{Kind: k}, intShift(false, k))
	}
	t.fn("%", ts(types.KindNumeric, types.KindNumeric), types.Numeric, numericArith('%'))
	t.fn("-", ts(types.KindFloat32), types.Float32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewFloat32(-float32(a[0].Float())), nil
	})
	t.fn("-", ts(types.KindFloat64), types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewFloat64(-a[0].Float()), nil
	})
	t.fn("-", ts(types.KindNumeric), types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewNumeric(decNeg(a[0].Decimal())), nil
	})
	for _, k := range []types.Kind{types.KindFloat32, types.KindFloat64, types.KindNumeric} {
		t.fn("+", ts(k), types.Type{Kind: k}, identity)
	}
	t.fn("@", ts(types.KindFloat32), types.Float32, mathAbs)
	t.fn("@", ts(types.KindFloat64), types.Float64, mathAbs)
	t.fn("@", ts(types.KindNumeric), types.Numeric, mathAbs)
	t.fn("^", ts(types.KindFloat64, types.KindFloat64), types.Float64, floatPow)
	t.fn("^", ts(types.KindNumeric, types.KindNumeric), types.Numeric, numericPow)
	t.fn("|/", ts(types.KindFloat64), types.Float64, floatSqrt)
	t.fn("||/", ts(types.KindFloat64), types.Float64, floatCbrt)
}

func identity(_ *Env, a []types.Datum) (types.Datum, error) { return a[0], nil }

// wrapInt builds an integer of kind k, or the kind's out-of-range error.
func wrapInt(k types.Kind, v int64) (types.Datum, error) {
	switch k {
	case types.KindInt16:
		if v != int64(int16(v)) {
			return types.Null, errInt2Range
		}
		return types.NewInt16(int16(v)), nil
	case types.KindInt32:
		if v != int64(int32(v)) {
			return types.Null, errInt4Range
		}
		return types.NewInt32(int32(v)), nil
	}
	return types.NewInt64(v), nil
}

func rangeErr(k types.Kind) error {
	switch k {
	case types.KindInt16:
		return errInt2Range
	case types.KindInt32:
		return errInt4Range
	}
	return errInt8Range
}

// intArith returns the evaluator of op with an integer result of kind rk.
// Operands are integers no wider than rk; for int2/int4 results the int64
// arithmetic cannot overflow and wrapInt checks the range, for int8 the
// overflow is detected on the int64 operation itself.
func intArith(op byte, rk types.Kind) evalFn {
	if rk == types.KindInt32 {
		switch op {
		case '+':
			return func(_ *Env, a []types.Datum) (types.Datum, error) {
				s := a[0].Int() + a[1].Int()
				if s != int64(int32(s)) {
					return types.Null, errInt4Range
				}
				return types.NewInt32(int32(s)), nil
			}
		case '-':
			return func(_ *Env, a []types.Datum) (types.Datum, error) {
				s := a[0].Int() - a[1].Int()
				if s != int64(int32(s)) {
					return types.Null, errInt4Range
				}
				return types.NewInt32(int32(s)), nil
			}
		case '*':
			return func(_ *Env, a []types.Datum) (types.Datum, error) {
				s := a[0].Int() * a[1].Int()
				if s != int64(int32(s)) {
					return types.Null, errInt4Range
				}
				return types.NewInt32(int32(s)), nil
			}
		}
	}
	switch op {
	case '+':
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			x, y := a[0].Int(), a[1].Int()
			s := x + y
			if rk == types.KindInt64 && ((x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0)) {
				return types.Null, errInt8Range
			}
			return wrapInt(rk, s)
		}
	case '-':
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			x, y := a[0].Int(), a[1].Int()
			s := x - y
			if rk == types.KindInt64 && ((x >= 0 && y < 0 && s < 0) || (x < 0 && y > 0 && s >= 0)) {
				return types.Null, errInt8Range
			}
			return wrapInt(rk, s)
		}
	case '*':
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			x, y := a[0].Int(), a[1].Int()
			p := x * y
			if rk == types.KindInt64 && x != 0 && (p/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)) {
				return types.Null, errInt8Range
			}
			return wrapInt(rk, p)
		}
	case '/':
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			x, y := a[0].Int(), a[1].Int()
			if y == 0 {
				return types.Null, errDivZero
			}
			if y == -1 {
				if rk == types.KindInt64 && x == math.MinInt64 {
					return types.Null, errInt8Range
				}
				return wrapInt(rk, -x)
			}
			return wrapInt(rk, x/y)
		}
	}
	// '%': the sign follows the dividend, as in C and PostgreSQL.
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Int(), a[1].Int()
		if y == 0 {
			return types.Null, errDivZero
		}
		if y == -1 {
			return wrapInt(rk, 0)
		}
		return wrapInt(rk, x%y)
	}
}

func intNeg(k types.Kind) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Int()
		if k == types.KindInt64 && x == math.MinInt64 {
			return types.Null, errInt8Range
		}
		return wrapInt(k, -x)
	}
}

func intAbs(k types.Kind) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Int()
		if x >= 0 {
			return a[0], nil
		}
		if k == types.KindInt64 && x == math.MinInt64 {
			return types.Null, errInt8Range
		}
		return wrapInt(k, -x)
	}
}

func intBitwise(op byte, k types.Kind) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Int(), a[1].Int()
		switch op {
		case '&':
			return wrapInt(k, x&y)
		case '|':
			return wrapInt(k, x|y)
		}
		return wrapInt(k, x^y)
	}
}

// intShift shifts as PostgreSQL on x86-64 does: the count is taken modulo
// the operand width of the C int (32) or int64 (64); the result wraps.
func intShift(left bool, k types.Kind) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, n := a[0].Int(), a[1].Int()
		var r int64
		if k == types.KindInt64 {
			n &= 63
			if left {
				r = x << n
			} else {
				r = x >> n
			}
		} else {
			n &= 31
			if left {
				r = int64(int32(x) << n)
			} else {
				r = int64(int32(x) >> n)
			}
		}
		if k == types.KindInt16 {
			r = int64(int16(r))
		}
		return wrapInt(k, r)
	}
}

// checkFloat applies PostgreSQL's float overflow/underflow rules.
func checkFloat(r float64, infOK, zeroOK bool) error {
	if math.IsInf(r, 0) && !infOK {
		return errFloatOver
	}
	if r == 0 && !zeroOK {
		return errFloatUnder
	}
	return nil
}

func float8Arith(op byte) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Float(), a[1].Float()
		var r float64
		infIn := math.IsInf(x, 0) || math.IsInf(y, 0)
		zeroOK := true
		switch op {
		case '+':
			r = x + y
		case '-':
			r = x - y
		case '*':
			r = x * y
			zeroOK = x == 0 || y == 0
		case '/':
			if y == 0 && !math.IsNaN(x) {
				return types.Null, errDivZero
			}
			r = x / y
			infOK := math.IsInf(x, 0)
			if err := checkFloat(r, infOK, x == 0 || math.IsInf(y, 0)); err != nil {
				return types.Null, err
			}
			return types.NewFloat64(r), nil
		}
		if err := checkFloat(r, infIn, zeroOK); err != nil {
			return types.Null, err
		}
		return types.NewFloat64(r), nil
	}
}

func float4Arith(op byte) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := float32(a[0].Float()), float32(a[1].Float())
		var r float32
		infIn := math.IsInf(float64(x), 0) || math.IsInf(float64(y), 0)
		zeroOK := true
		switch op {
		case '+':
			r = x + y
		case '-':
			r = x - y
		case '*':
			r = x * y
			zeroOK = x == 0 || y == 0
		case '/':
			if y == 0 && x == x {
				return types.Null, errDivZero
			}
			r = x / y
			infIn = math.IsInf(float64(x), 0)
			zeroOK = x == 0 || math.IsInf(float64(y), 0)
		}
		if err := checkFloat(float64(r), infIn, zeroOK); err != nil {
			return types.Null, err
		}
		return types.NewFloat32(r), nil
	}
}

var errPowZeroNeg = sqlerr.New(sqlerr.Code("2201F"), "zero raised to a negative power is undefined")
var errPowComplex = sqlerr.New(sqlerr.Code("2201F"), "a negative number raised to a non-integer power yields a complex result")

func floatPow(_ *Env, a []types.Datum) (types.Datum, error) {
	x, y := a[0].Float(), a[1].Float()
	if x == 0 && y < 0 {
		return types.Null, errPowZeroNeg
	}
	if x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0) {
		return types.Null, errPowComplex
	}
	r := math.Pow(x, y)
	if err := checkFloat(r, math.IsInf(x, 0) || math.IsInf(y, 0), x == 0 || math.IsInf(y, 0) || math.IsInf(x, 0) || y < 0 || math.Abs(x) < 1); err != nil {
		return types.Null, err
	}
	return types.NewFloat64(r), nil
}

var errSqrtNeg = sqlerr.New(sqlerr.Code("2201F"), "cannot take square root of a negative number")

func floatSqrt(_ *Env, a []types.Datum) (types.Datum, error) {
	x := a[0].Float()
	if x < 0 {
		return types.Null, errSqrtNeg
	}
	return types.NewFloat64(math.Sqrt(x)), nil
}

func floatCbrt(_ *Env, a []types.Datum) (types.Datum, error) {
	return types.NewFloat64(math.Cbrt(a[0].Float())), nil
}
