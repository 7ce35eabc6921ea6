package funcs

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// exactCtx does exact addition, subtraction and multiplication (precision
// 0 means "no rounding" in apd), within PostgreSQL-like exponent limits.
var exactCtx = apd.Context{
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
}

// minSigDigits is PostgreSQL's NUMERIC_MIN_SIG_DIGITS: a division or
// transcendental result carries at least this many significant digits.
const minSigDigits = 16

// maxDisplayScale is NUMERIC_MAX_DISPLAY_SCALE.
const maxDisplayScale = 1000

func decNeg(x *apd.Decimal) *apd.Decimal {
	r := new(apd.Decimal)
	r.Neg(x)
	return r
}

// decScale is the display scale (digits after the point) of x.
func decScale(x *apd.Decimal) int32 {
	if x.Exponent >= 0 {
		return 0
	}
	return -x.Exponent
}

// decAdjExp is the exponent of x's most significant digit (x = d.ddd *
// 10^adj); 0 for zero.
func decAdjExp(x *apd.Decimal) int64 {
	if x.IsZero() {
		return 0
	}
	return x.NumDigits() - 1 + int64(x.Exponent)
}

func numericErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*sqlerr.Error); ok {
		return err
	}
	return errNumericRange
}

func isNaN(x *apd.Decimal) bool { return x.Form == apd.NaN || x.Form == apd.NaNSignaling }

func numericArith(op byte) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) {
		r, err := decArith(op, a[0].Decimal(), a[1].Decimal())
		if err != nil {
			return types.Null, err
		}
		return types.NewNumeric(r), nil
	}
}

func decArith(op byte, x, y *apd.Decimal) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	var err error
	switch op {
	case '+':
		_, err = exactCtx.Add(r, x, y)
	case '-':
		_, err = exactCtx.Sub(r, x, y)
	case '*':
		_, err = exactCtx.Mul(r, x, y)
	case '/':
		return decDiv(x, y)
	case '%':
		if y.IsZero() && !isNaN(x) {
			return nil, errDivZero
		}
		if isNaN(x) || isNaN(y) {
			r.Form = apd.NaN
			return r, nil
		}
		ctx := exactCtx
		ctx.Precision = uint32(max(decAdjExp(x)-decAdjExp(y)+int64(max(decScale(x), decScale(y)))+8, 34))
		_, err = ctx.Rem(r, x, y)
	}
	if err != nil {
		return nil, numericErr(err)
	}
	return r, nil
}

// divScale is PostgreSQL's select_div_scale: enough digits after the point
// for minSigDigits significant digits of the quotient, at least each
// input's scale.
func divScale(x, y *apd.Decimal) int32 {
	// Weights and first digits in PostgreSQL's base-10000 representation.
	w1, f1 := base10000Head(x)
	w2, f2 := base10000Head(y)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := int64(minSigDigits) - qweight*4
	rscale = max(rscale, int64(decScale(x)), int64(decScale(y)), 0)
	return int32(min(rscale, maxDisplayScale))
}

// base10000Head returns the base-10000 weight of x's first non-zero digit
// group and that group's value.
func base10000Head(x *apd.Decimal) (int64, int64) {
	if x.IsZero() {
		return 0, 0
	}
	adj := decAdjExp(x)
	w := floorDiv(adj, 4)
	// The group holds decimal positions 4w+3 .. 4w; x's leading digit is at
	// adj, so the group's value is the top (adj-4w+1) digits of x.
	n := adj - 4*w + 1
	var c apd.BigInt
	c.Abs(&x.Coeff)
	digits := x.NumDigits()
	var g int64
	s := c.String()
	for i := int64(0); i < n; i++ {
		g *= 10
		if i < digits {
			g += int64(s[i] - '0')
		}
	}
	return w, g
}

func decDiv(x, y *apd.Decimal) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	if isNaN(x) || isNaN(y) {
		r.Form = apd.NaN
		return r, nil
	}
	if y.IsZero() {
		return nil, errDivZero
	}
	rscale := divScale(x, y)
	intDigits := max(decAdjExp(x)-decAdjExp(y)+2, 1)
	ctx := exactCtx
	ctx.Precision = uint32(intDigits + int64(rscale) + 4)
	ctx.Rounding = apd.RoundDown
	if _, err := ctx.Quo(r, x, y); err != nil {
		return nil, numericErr(err)
	}
	return decRound(r, rscale)
}

// decRound rounds x to scale digits after the point, half away from zero
// (PostgreSQL's numeric rounding); scale may be negative.
func decRound(x *apd.Decimal, scale int32) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	if x.Form != apd.Finite {
		return r.Set(x), nil
	}
	ctx := exactCtx
	ctx.Rounding = apd.RoundHalfUp
	ctx.Precision = uint32(max(decAdjExp(x)+int64(scale)+2, 1))
	if _, err := ctx.Quantize(r, x, -scale); err != nil {
		return nil, numericErr(err)
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
}

// decTrunc truncates x to scale digits after the point.
func decTrunc(x *apd.Decimal, scale int32) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	if x.Form != apd.Finite {
		return r.Set(x), nil
	}
	ctx := exactCtx
	ctx.Rounding = apd.RoundDown
	ctx.Precision = uint32(max(decAdjExp(x)+int64(scale)+2, 1))
	if _, err := ctx.Quantize(r, x, -scale); err != nil {
		return nil, numericErr(err)
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
}

func numericPow(_ *Env, a []types.Datum) (types.Datum, error) {
	x, y := a[0].Decimal(), a[1].Decimal()
	r := new(apd.Decimal)
	if isNaN(x) || isNaN(y) {
		r.Form = apd.NaN
		return types.NewNumeric(r), nil
	}
	if x.IsZero() && y.Negative && !y.IsZero() {
		return types.Null, errPowZeroNeg
	}
	var yi apd.Decimal
	integral := true
	if _, err := exactCtx.RoundToIntegralValue(&yi, y); err != nil || yi.Cmp(y) != 0 {
		integral = false
	}
	if x.Negative && !x.IsZero() && !integral {
		return types.Null, errPowComplex
	}
	// Result scale as PostgreSQL's power_var: minSigDigits significant
	// digits, at least the inputs' scales.
	xf, _ := x.Float64()
	yf, _ := y.Float64()
	est := int64(0)
	if xf != 0 {
		est = int64(yf * log10Abs(xf))
	}
	rscale := int64(minSigDigits) - est
	if integral {
		rscale = max(rscale, int64(minSigDigits))
	}
	rscale = min(max(rscale, int64(decScale(x)), int64(decScale(y)), 0), maxDisplayScale)
	ctx := exactCtx
	ctx.Precision = uint32(max(est, 0) + rscale + 10)
	if _, err := ctx.Pow(r, x, y); err != nil {
		return types.Null, numericErr(err)
	}
	r, err := decRound(r, int32(rscale))
	if err != nil {
		return types.Null, err
	}
	return types.NewNumeric(r), nil
}

func log10Abs(f float64) float64 { return math.Log10(math.Abs(f)) }
