package funcs

import (
	"math"
	"math/rand/v2"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Mathematical functions (PostgreSQL docs 9.3).

var (
	f8_1  = ts(types.KindFloat64)
	f8_2  = ts(types.KindFloat64, types.KindFloat64)
	num_1 = ts(types.KindNumeric)
	num_2 = ts(types.KindNumeric, types.KindNumeric)
)

func addMath(t table) {
	for _, k := range []types.Kind{types.KindInt16, types.KindInt32, types.KindInt64} {
		t.fn("abs", ts(k), types.Type{Kind: k}, intAbs(k))
		t.fn("mod", ts(k, k), types.Type{Kind: k}, intArith('%', k))
	}
	t.fn("abs", ts(types.KindFloat32), types.Float32, mathAbs)
	t.fn("abs", f8_1, types.Float64, mathAbs)
	t.fn("abs", num_1, types.Numeric, mathAbs)
	t.fn("mod", num_2, types.Numeric, numericArith('%'))
	t.fn("div", num_2, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Decimal(), a[1].Decimal()
		if y.IsZero() {
			return types.Null, errDivZero
		}
		r := new(apd.Decimal)
		ctx := exactCtx
		ctx.Precision = uint32(max(decAdjExp(x)-decAdjExp(y)+4, 1))
		if _, err := ctx.QuoInteger(r, x, y); err != nil {
			return types.Null, numericErr(err)
		}
		return numResult(decTrunc(r, 0))
	})
	for _, name := range []string{"ceil", "ceiling", "floor"} {
		fl := name == "floor"
		t.fn(name, f8_1, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
			if fl {
				return types.NewFloat64(math.Floor(a[0].Float())), nil
			}
			return types.NewFloat64(math.Ceil(a[0].Float())), nil
		})
		t.fn(name, num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
			r := new(apd.Decimal)
			var err error
			if fl {
				_, err = exactCtx.Floor(r, a[0].Decimal())
			} else {
				_, err = exactCtx.Ceil(r, a[0].Decimal())
			}
			if err != nil {
				return types.Null, numericErr(err)
			}
			return numResult(decRound(r, 0))
		})
	}
	// round(float8) is rint: half to even; round(numeric) half away from 0.
	t.fn("round", f8_1, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewFloat64(math.RoundToEven(a[0].Float())), nil
	})
	t.fn("round", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numResult(decRound(a[0].Decimal(), 0))
	})
	t.fn("round", ts(types.KindNumeric, types.KindInt32), types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numResult(decRound(a[0].Decimal(), clampScale(a[1].Int())))
	})
	t.fn("trunc", f8_1, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewFloat64(math.Trunc(a[0].Float())), nil
	})
	t.fn("trunc", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numResult(decTrunc(a[0].Decimal(), 0))
	})
	t.fn("trunc", ts(types.KindNumeric, types.KindInt32), types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numResult(decTrunc(a[0].Decimal(), clampScale(a[1].Int())))
	})
	t.fn("sqrt", f8_1, types.Float64, floatSqrt)
	t.fn("sqrt", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Decimal()
		if x.Negative && !x.IsZero() {
			return types.Null, errSqrtNeg
		}
		// sweight as numeric_sqrt: half the base-10000 weight, in digits.
		w, _ := base10000Head(x)
		sweight := (w+1)*4/2 - 1
		return decTranscend(x, int64(minSigDigits)-sweight, func(c *apd.Context, r, x *apd.Decimal) error {
			_, err := c.Sqrt(r, x)
			return err
		})
	})
	t.fn("cbrt", f8_1, types.Float64, floatCbrt)
	for _, name := range []string{"power", "pow"} {
		t.fn(name, f8_2, types.Float64, floatPow)
		t.fn(name, num_2, types.Numeric, numericPow)
	}
	t.fn("exp", f8_1, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Float()
		r := math.Exp(x)
		if err := checkFloat(r, math.IsInf(x, 1), math.IsInf(x, -1)); err != nil {
			return types.Null, err
		}
		return types.NewFloat64(r), nil
	})
	t.fn("exp", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		xf, _ := a[0].Decimal().Float64()
		return decTranscend(a[0].Decimal(), int64(minSigDigits)-int64(xf*0.434294481903252), func(c *apd.Context, r, x *apd.Decimal) error {
			_, err := c.Exp(r, x)
			return err
		})
	})
	t.fn("ln", f8_1, types.Float64, floatLog(math.Log))
	t.fn("log", f8_1, types.Float64, floatLog(math.Log10))
	t.fn("log10", f8_1, types.Float64, floatLog(math.Log10))
	t.fn("ln", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numericLog(a[0].Decimal(), nil)
	})
	t.fn("log", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numericLog(a[0].Decimal(), apd.New(10, 0))
	})
	t.fn("log10", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numericLog(a[0].Decimal(), apd.New(10, 0))
	})
	t.fn("log", num_2, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return numericLog(a[1].Decimal(), a[0].Decimal())
	})
	t.fn("sign", f8_1, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Float()
		switch {
		case x > 0:
			return types.NewFloat64(1), nil
		case x < 0:
			return types.NewFloat64(-1), nil
		}
		return types.NewFloat64(0), nil
	})
	t.fn("sign", num_1, types.Numeric, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Decimal()
		if isNaN(x) {
			return a[0], nil
		}
		return types.NewNumeric(apd.New(int64(x.Sign()), 0)), nil
	})
	t.fn("pi", nil, types.Float64, func(*Env, []types.Datum) (types.Datum, error) { return types.NewFloat64(math.Pi), nil })
	t.add("random", &Overload{Ret: retConst(types.Float64), Volatile: true, Eval: func(*Env, []types.Datum) (types.Datum, error) {
		return types.NewFloat64(rand.Float64()), nil
	}})
	t.fn("degrees", f8_1, types.Float64, float1(func(x float64) float64 { return x * 180 / math.Pi }))
	t.fn("radians", f8_1, types.Float64, float1(func(x float64) float64 { return x * math.Pi / 180 }))
	t.fn("sin", f8_1, types.Float64, float1(math.Sin))
	t.fn("cos", f8_1, types.Float64, float1(math.Cos))
	t.fn("tan", f8_1, types.Float64, float1(math.Tan))
	t.fn("cot", f8_1, types.Float64, float1(func(x float64) float64 { return 1 / math.Tan(x) }))
	t.fn("atan", f8_1, types.Float64, float1(math.Atan))
	t.fn("asin", f8_1, types.Float64, floatDomain(math.Asin))
	t.fn("acos", f8_1, types.Float64, floatDomain(math.Acos))
	t.fn("atan2", f8_2, types.Float64, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewFloat64(math.Atan2(a[0].Float(), a[1].Float())), nil
	})
	for _, k := range []types.Kind{types.KindInt32, types.KindInt64} {
		t.fn("gcd", ts(k, k), types.Type{Kind: k}, gcdLcm(false, k))
		t.fn("lcm", ts(k, k), types.Type{Kind: k}, gcdLcm(true, k))
	}
	t.fn("width_bucket", ts(types.KindFloat64, types.KindFloat64, types.KindFloat64, types.KindInt32), types.Int32, widthBucket)
	for _, k := range allKinds {
		t.add("greatest", &Overload{Args: ts(k), Variadic: true, NullIn: true, Ret: retArg(0), Eval: extremum(1)})
		t.add("least", &Overload{Args: ts(k), Variadic: true, NullIn: true, Ret: retArg(0), Eval: extremum(-1)})
	}
}

func numResult(d *apd.Decimal, err error) (types.Datum, error) {
	if err != nil {
		return types.Null, err
	}
	return types.NewNumeric(d), nil
}

func clampScale(s int64) int32 { return int32(max(min(s, maxDisplayScale), -maxDisplayScale)) }

func float1(f func(float64) float64) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewFloat64(f(a[0].Float())), nil }
}

var errOutOfRange = sqlerr.New(sqlerr.NumericValueOutOfRange, "input is out of range")

func floatDomain(f func(float64) float64) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Float()
		if x < -1 || x > 1 {
			return types.Null, errOutOfRange
		}
		return types.NewFloat64(f(x)), nil
	}
}

var (
	errLogZero = sqlerr.New(sqlerr.Code("2201E"), "cannot take logarithm of zero")
	errLogNeg  = sqlerr.New(sqlerr.Code("2201E"), "cannot take logarithm of a negative number")
)

func floatLog(f func(float64) float64) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x := a[0].Float()
		if x == 0 {
			return types.Null, errLogZero
		}
		if x < 0 {
			return types.Null, errLogNeg
		}
		return types.NewFloat64(f(x)), nil
	}
}

// decTranscend computes f(x) to rscale digits after the point (at least
// x's scale), rounding half away from zero.
func decTranscend(x *apd.Decimal, rscale int64, f func(c *apd.Context, r, x *apd.Decimal) error) (types.Datum, error) {
	rscale = min(max(rscale, int64(decScale(x)), 0), maxDisplayScale)
	ctx := exactCtx
	ctx.Precision = uint32(max(decAdjExp(x), 0) + rscale + 12)
	ctx.Rounding = apd.RoundHalfEven
	r := new(apd.Decimal)
	if err := f(&ctx, r, x); err != nil {
		return types.Null, numericErr(err)
	}
	return numResult(decRound(r, int32(rscale)))
}

// numericLog is ln(x) (base nil) or log_base(x), with PostgreSQL's result
// scale: minSigDigits significant digits of the result.
func numericLog(x, base *apd.Decimal) (types.Datum, error) {
	if x.IsZero() {
		return types.Null, errLogZero
	}
	if x.Negative {
		return types.Null, errLogNeg
	}
	if base != nil && (base.IsZero() || base.Negative) {
		if base.IsZero() {
			return types.Null, errLogZero
		}
		return types.Null, errLogNeg
	}
	xf, _ := x.Float64()
	est := math.Log(xf)
	if base != nil {
		bf, _ := base.Float64()
		if bf == 1 {
			return types.Null, errDivZero
		}
		est /= math.Log(bf)
	}
	dw := int64(0)
	if est != 0 && !math.IsInf(est, 0) && !math.IsNaN(est) {
		dw = int64(math.Floor(math.Log10(math.Abs(est))))
	}
	rscale := int64(minSigDigits) - dw
	if base != nil {
		rscale = max(rscale, int64(decScale(base)))
	}
	return decTranscend(x, rscale, func(c *apd.Context, r, x *apd.Decimal) error {
		if base == nil {
			_, err := c.Ln(r, x)
			return err
		}
		var ln1, ln2 apd.Decimal
		if _, err := c.Ln(&ln1, x); err != nil {
			return err
		}
		if _, err := c.Ln(&ln2, base); err != nil {
			return err
		}
		_, err := c.Quo(r, &ln1, &ln2)
		return err
	})
}

func gcdLcm(lcm bool, k types.Kind) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Int(), a[1].Int()
		ux, uy := absU(x), absU(y)
		g := ux
		for b := uy; b != 0; {
			g, b = b, g%b
		}
		if !lcm {
			if g > math.MaxInt64 {
				return types.Null, rangeErr(k)
			}
			return wrapInt(k, int64(g))
		}
		if x == 0 || y == 0 {
			return wrapInt(k, 0)
		}
		q := ux / g
		if uy != 0 && q > math.MaxInt64/uy {
			return types.Null, rangeErr(k)
		}
		p := q * uy
		if p > math.MaxInt64 {
			return types.Null, rangeErr(k)
		}
		return wrapInt(k, int64(p))
	}
}

func absU(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

var (
	errBucketCount  = sqlerr.New(sqlerr.Code("2201G"), "count must be greater than zero")
	errBucketBounds = sqlerr.New(sqlerr.Code("2201G"), "lower bound cannot equal upper bound")
)

func widthBucket(_ *Env, a []types.Datum) (types.Datum, error) {
	op, lo, hi, n := a[0].Float(), a[1].Float(), a[2].Float(), a[3].Int()
	if n <= 0 {
		return types.Null, errBucketCount
	}
	if lo == hi {
		return types.Null, errBucketBounds
	}
	var r int64
	if lo < hi {
		switch {
		case op < lo:
			r = 0
		case op >= hi:
			r = n + 1
		default:
			r = int64((op-lo)/(hi-lo)*float64(n)) + 1
		}
	} else {
		switch {
		case op > lo:
			r = 0
		case op <= hi:
			r = n + 1
		default:
			r = int64((lo-op)/(lo-hi)*float64(n)) + 1
		}
	}
	return wrapInt(types.KindInt32, r)
}

// extremum is greatest (dir 1) / least (dir -1): NULL arguments are
// ignored; all NULL gives NULL.
func extremum(dir int) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		best := types.Null
		for _, d := range a {
			if d.IsNull() {
				continue
			}
			if best.IsNull() || compareDatums(d, best)*dir > 0 {
				best = d
			}
		}
		return best, nil
	}
}

func mathAbs(_ *Env, a []types.Datum) (types.Datum, error) {
	switch a[0].Kind() {
	case types.KindFloat32:
		if f := a[0].Float(); f < 0 {
			return types.NewFloat32(float32(-f)), nil
		}
		return a[0], nil
	case types.KindFloat64:
		if f := a[0].Float(); f < 0 {
			return types.NewFloat64(-f), nil
		}
		return a[0], nil
	}
	if a[0].Decimal().Negative {
		return types.NewNumeric(decNeg(a[0].Decimal())), nil
	}
	return a[0], nil
}
