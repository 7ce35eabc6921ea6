package types

import (
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
)

// Limits of PostgreSQL's numeric type.
const (
	// NumericMaxDisplayScale is the largest scale PostgreSQL keeps.
	NumericMaxDisplayScale = 1000
	// NumericMinSigDigits is the minimum number of significant digits of
	// a division result (select_div_scale).
	NumericMinSigDigits = 16
	// numericMaxExponent bounds parsed exponents: PostgreSQL allows
	// 131072 digits before the point and 16383 after it.
	numericMaxWeightDigits = 131072
	numericMaxScale        = 16383
)

// NumericContext is the shared apd context for exact numeric arithmetic:
// Add, Sub, Mul and Neg with precision 0 are exact in apd, as PostgreSQL's
// are. Division must go through DivNumeric (which picks PostgreSQL's result
// scale); rounding through RoundNumeric. Read-only: never modify it, derive
// a copy with WithPrecision.
var NumericContext = &apd.Context{
	Precision:   0,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps &^ apd.Inexact &^ apd.Rounded,
	Rounding:    apd.RoundHalfUp,
}

// quantize sets d to x rounded (with r) to exponent exp; unlike
// apd.Context.Quantize it needs no precision bound.
func quantize(d, x *apd.Decimal, exp int32, r apd.Rounder) error {
	if x.Form != apd.Finite {
		d.Set(x)
		return nil
	}
	diff := int64(x.Exponent) - int64(exp)
	if diff < 0 {
		diff = 0
	}
	c := *NumericContext
	c.Precision = uint32(x.NumDigits() + diff + 2)
	c.Rounding = r
	_, err := c.Quantize(d, x, exp)
	return err
}

// NewNumericFromInt64 returns a numeric Datum holding v with scale 0.
func NewNumericFromInt64(v int64) Datum {
	return NewNumeric(apd.New(v, 0))
}

// errNumericOverflow is PostgreSQL's error for a value that does not fit
// the numeric format at all.
func errNumericOverflow() error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
}

// numericScale is the display scale (dscale) of a finite decimal.
func numericScale(d *apd.Decimal) int32 {
	if d.Exponent < 0 {
		return -d.Exponent
	}
	return 0
}

// normalizeNumeric makes d canonical for storage: a positive exponent is
// folded into the coefficient (PostgreSQL keeps dscale >= 0), negative
// zero becomes zero, and NaN is never signaling or negative. d is modified.
func normalizeNumeric(d *apd.Decimal) error {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		d.Form = apd.NaN
		d.Negative = false
		return nil
	case apd.Infinite:
		return nil
	}
	if d.Exponent > 0 {
		if d.Exponent > numericMaxWeightDigits {
			return errNumericOverflow()
		}
		if d.Coeff.Sign() != 0 {
			var m apd.BigInt
			m.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(d.Exponent)), nil)
			d.Coeff.Mul(&d.Coeff, &m)
		}
		d.Exponent = 0
	}
	if d.Coeff.Sign() == 0 {
		d.Negative = false
	}
	return nil
}

// ParseNumeric parses PostgreSQL numeric input: surrounding whitespace, a
// sign, digits with an optional point and exponent, or NaN / Infinity /
// -Infinity (case-insensitive; "inf" too). The result is canonical
// (scale = digits after the point as written, exponent folded in).
func ParseNumeric(s string) (*apd.Decimal, error) {
	t := trimSpace(s)
	if len(t) == 0 {
		return nil, errSyntax("numeric", s)
	}
	switch {
	case eqFold(t, "nan"):
		return &apd.Decimal{Form: apd.NaN}, nil
	case eqFold(t, "infinity"), eqFold(t, "+infinity"), eqFold(t, "inf"), eqFold(t, "+inf"):
		return &apd.Decimal{Form: apd.Infinite}, nil
	case eqFold(t, "-infinity"), eqFold(t, "-inf"):
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	}
	if !validDecimalSyntax(t) {
		return nil, errSyntax("numeric", s)
	}
	d, _, err := apd.NewFromString(t)
	if err != nil {
		return nil, errSyntax("numeric", s)
	}
	if d.Exponent < -numericMaxScale-1000 || d.Exponent > numericMaxWeightDigits {
		return nil, errNumericOverflow()
	}
	if err := normalizeNumeric(d); err != nil {
		return nil, err
	}
	if d.Exponent < -numericMaxScale {
		// PostgreSQL rounds input beyond its maximum display scale.
		if err := quantize(d, d, -numericMaxScale, apd.RoundHalfUp); err != nil {
			return nil, errNumericOverflow()
		}
	}
	return d, nil
}

// validDecimalSyntax accepts [+-] (digits [. digits] | . digits) [e [+-] digits].
func validDecimalSyntax(t string) bool {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && isDigit(t[i]) {
		i++
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && isDigit(t[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		ed := 0
		for i < len(t) && isDigit(t[i]) {
			i++
			ed++
		}
		if ed == 0 || ed > 9 {
			return false
		}
	}
	return i == len(t)
}

// AppendNumeric appends PostgreSQL's text form of d: plain notation with
// exactly the value's scale ("1.50", "1000", "0.0015"), "NaN", "Infinity",
// "-Infinity".
func AppendNumeric(buf []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, "NaN"...)
	case apd.Infinite:
		if d.Negative {
			return append(buf, "-Infinity"...)
		}
		return append(buf, "Infinity"...)
	}
	if d.Negative && d.Coeff.Sign() != 0 {
		buf = append(buf, '-')
	}
	start := len(buf)
	if d.Coeff.IsUint64() {
		buf = strconv.AppendUint(buf, d.Coeff.Uint64(), 10)
	} else {
		buf = d.Coeff.Append(buf, 10)
	}
	if d.Exponent >= 0 {
		if d.Coeff.Sign() == 0 {
			return buf
		}
		for range d.Exponent {
			buf = append(buf, '0')
		}
		return buf
	}
	scale := int(-d.Exponent)
	n := len(buf) - start
	if n <= scale {
		// Needs leading "0." and zeros: shift the digits right.
		pad := scale - n + 2 // "0." plus missing zeros
		buf = append(buf, make([]byte, pad)...)
		copy(buf[start+pad:], buf[start:start+n])
		buf[start] = '0'
		buf[start+1] = '.'
		for i := start + 2; i < start+pad; i++ {
			buf[i] = '0'
		}
		return buf
	}
	// Insert the point scale digits from the end.
	buf = append(buf, 0)
	p := len(buf) - 1 - scale
	copy(buf[p+1:], buf[p:len(buf)-1])
	buf[p] = '.'
	return buf
}

// NumericString is AppendNumeric as a string.
func NumericString(d *apd.Decimal) string { return string(AppendNumeric(nil, d)) }

// RoundNumeric returns d rounded half away from zero to scale digits
// after the point (PostgreSQL's round(numeric, int)); a negative scale
// rounds to tens, hundreds... and yields scale 0. NaN and infinities are
// returned as is. d is not modified.
func RoundNumeric(d *apd.Decimal, scale int32) (*apd.Decimal, error) {
	if d.Form != apd.Finite {
		return d, nil
	}
	if scale > NumericMaxDisplayScale {
		scale = NumericMaxDisplayScale
	}
	r := new(apd.Decimal)
	if err := quantize(r, d, -scale, apd.RoundHalfUp); err != nil {
		return nil, errNumericOverflow()
	}
	if err := normalizeNumeric(r); err != nil {
		return nil, err
	}
	return r, nil
}

// TruncNumeric is RoundNumeric truncating toward zero (trunc(numeric, int)).
func TruncNumeric(d *apd.Decimal, scale int32) (*apd.Decimal, error) {
	if d.Form != apd.Finite {
		return d, nil
	}
	r := new(apd.Decimal)
	if err := quantize(r, d, -scale, apd.RoundDown); err != nil {
		return nil, errNumericOverflow()
	}
	if err := normalizeNumeric(r); err != nil {
		return nil, err
	}
	return r, nil
}

// ApplyNumericTypmod enforces NUMERIC(precision, scale): rounds d to scale
// digits and fails with 22003 "numeric field overflow" when the integer
// part needs more than precision-scale digits (or d is infinite).
// precision 0 means unconstrained (d returned as is). d is not modified.
func ApplyNumericTypmod(d *apd.Decimal, precision, scale int16) (*apd.Decimal, error) {
	if precision <= 0 {
		return d, nil
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return d, nil
	case apd.Infinite:
		return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", precision, scale)
	}
	r, err := RoundNumeric(d, int32(scale))
	if err != nil {
		return nil, err
	}
	if r.Coeff.Sign() != 0 {
		// Digits before the point = total digits - scale.
		intDigits := int32(r.NumDigits()) + r.Exponent
		if intDigits > int32(precision-scale) {
			maxDigits := precision - scale
			if maxDigits <= 0 {
				return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow").
					WithDetail("A field with precision %d, scale %d must round to an absolute value less than 1.", precision, scale)
			}
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow").
				WithDetail("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", precision, scale, maxDigits)
		}
	}
	return r, nil
}

// nbaseWeightFirst returns the base-10000 weight and first base-10000
// digit of a finite nonzero decimal, as PostgreSQL's NumericVar holds them.
func nbaseWeightFirst(d *apd.Decimal) (weight int32, first int) {
	var tmp [24]byte
	var digs []byte
	if d.Coeff.IsUint64() {
		digs = strconv.AppendUint(tmp[:0], d.Coeff.Uint64(), 10)
	} else {
		digs = d.Coeff.Append(tmp[:0], 10)
	}
	p10 := int32(len(digs)) - 1 + d.Exponent // power of ten of the leading digit
	weight = floorDiv32(p10, 4)
	k := int(p10 - weight*4 + 1) // how many leading digits fall in the first group
	for i := range k {
		first *= 10
		if i < len(digs) {
			first += int(digs[i] - '0')
		}
	}
	return weight, first
}

func floorDiv32(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// DivScale is PostgreSQL's select_div_scale: the result scale of x / y,
// giving at least NumericMinSigDigits significant digits and no fewer
// fraction digits than either input.
func DivScale(x, y *apd.Decimal) int32 {
	var w1, w2 int32
	var f1, f2 int
	if x.Form == apd.Finite && x.Coeff.Sign() != 0 {
		w1, f1 = nbaseWeightFirst(x)
	}
	if y.Form == apd.Finite && y.Coeff.Sign() != 0 {
		w2, f2 = nbaseWeightFirst(y)
	}
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := NumericMinSigDigits - qweight*4
	rscale = max(rscale, numericScale(x), numericScale(y), 0)
	return min(rscale, NumericMaxDisplayScale)
}

// DivNumeric is PostgreSQL's numeric division x / y: the quotient rounded
// half away from zero to DivScale(x, y) digits. Division by zero is 22012
// "division by zero"; NaN and infinities follow PostgreSQL 15.
func DivNumeric(x, y *apd.Decimal) (*apd.Decimal, error) {
	if x.Form == apd.NaN || y.Form == apd.NaN || x.Form == apd.NaNSignaling || y.Form == apd.NaNSignaling {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
		return nil, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	}
	if x.Form == apd.Infinite {
		if y.Form == apd.Infinite {
			return &apd.Decimal{Form: apd.NaN}, nil
		}
		return &apd.Decimal{Form: apd.Infinite, Negative: x.Negative != y.Negative}, nil
	}
	if y.Form == apd.Infinite {
		return new(apd.Decimal), nil
	}
	rscale := DivScale(x, y)
	return divToScale(x, y, rscale)
}

// divToScale divides finite x by nonzero finite y, rounding half away from
// zero to rscale fraction digits.
func divToScale(x, y *apd.Decimal, rscale int32) (*apd.Decimal, error) {
	if x.Coeff.Sign() == 0 {
		r := new(apd.Decimal)
		r.Exponent = -rscale
		return r, nil
	}
	// Power of ten of the quotient's leading digit is at most
	// (p10(x) - p10(y)) + 1; truncate one guard digit beyond rscale, then
	// round once (a truncated guard digit rounds exactly like the true
	// quotient does).
	p10x := int64(x.NumDigits()) - 1 + int64(x.Exponent)
	p10y := int64(y.NumDigits()) - 1 + int64(y.Exponent)
	prec := p10x - p10y + 2 + int64(rscale) + 2
	if prec < 1 {
		prec = 1
	}
	c := *NumericContext
	c.Precision = uint32(prec)
	c.Rounding = apd.RoundDown
	q := new(apd.Decimal)
	if _, err := c.Quo(q, x, y); err != nil {
		return nil, errNumericOverflow()
	}
	if err := quantize(q, q, -rscale, apd.RoundHalfUp); err != nil {
		return nil, errNumericOverflow()
	}
	if err := normalizeNumeric(q); err != nil {
		return nil, err
	}
	return q, nil
}

// DivNumericScale divides finite or special x by y rounding to an explicit
// scale (for functions such as avg that fix their own scale).
func DivNumericScale(x, y *apd.Decimal, rscale int32) (*apd.Decimal, error) {
	if x.Form != apd.Finite || y.Form != apd.Finite {
		return DivNumeric(x, y)
	}
	if y.Coeff.Sign() == 0 {
		return nil, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	}
	return divToScale(x, y, rscale)
}

// NumericToFloat64 converts d to the nearest float64 (PostgreSQL's
// numeric_float8), NaN and infinities included.
func NumericToFloat64(d *apd.Decimal) (float64, error) {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return nan(), nil
	case apd.Infinite:
		if d.Negative {
			return negInf(), nil
		}
		return posInf(), nil
	}
	var tmp [64]byte
	b := AppendNumeric(tmp[:0], d)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "\"%s\" is out of range for type double precision", b)
	}
	return f, nil
}

// Float64ToNumeric converts f the way PostgreSQL's float8_numeric does:
// through its decimal text with 15 significant digits (6 for a real, when
// digits is 6). NaN and infinities map to their numeric counterparts.
func Float64ToNumeric(f float64, digits int) (*apd.Decimal, error) {
	switch {
	case f != f:
		return &apd.Decimal{Form: apd.NaN}, nil
	case f > maxFloat64:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case f < -maxFloat64:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	}
	var tmp [40]byte
	b := strconv.AppendFloat(tmp[:0], f, 'g', digits, 64)
	d, _, err := apd.NewFromString(string(b))
	if err != nil {
		return nil, errNumericOverflow()
	}
	// %g drops trailing zeros; PostgreSQL's numeric_in of "%.15g" text
	// yields the same minimal scale.
	if err := normalizeNumeric(d); err != nil {
		return nil, err
	}
	return d, nil
}

// NumericToInt64 rounds d half away from zero to an integer (PostgreSQL's
// numeric -> bigint). ok is false when out of int64 range; NaN and
// infinity return their PostgreSQL errors naming typ ("bigint").
func NumericToInt64(d *apd.Decimal, typ string) (int64, bool, error) {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return 0, false, sqlerr.New(sqlerr.FeatureNotSupported, "cannot convert NaN to %s", typ)
	case apd.Infinite:
		return 0, false, sqlerr.New(sqlerr.FeatureNotSupported, "cannot convert infinity to %s", typ)
	}
	if d.Exponent >= 0 && d.Coeff.IsInt64() && d.Exponent == 0 {
		v := d.Coeff.Int64()
		if d.Negative {
			v = -v
		}
		return v, true, nil
	}
	if int64(d.NumDigits())+int64(d.Exponent) > 20 {
		return 0, false, nil
	}
	r := new(apd.Decimal)
	if err := quantize(r, d, 0, apd.RoundHalfUp); err != nil {
		return 0, false, nil
	}
	v, err := r.Int64()
	if err != nil {
		return 0, false, nil
	}
	return v, true, nil
}

// DatumToNumeric converts a numeric-family datum (int, float, numeric) to
// a decimal; floats go through PostgreSQL's float8_numeric conversion.
// The result may be shared with d: do not modify it.
func DatumToNumeric(d Datum) (*apd.Decimal, error) {
	switch d.k {
	case KindInt16, KindInt32, KindInt64:
		return apd.New(d.i, 0), nil
	case KindFloat32:
		return Float64ToNumeric(d.Float(), 6)
	case KindFloat64:
		return Float64ToNumeric(d.Float(), 15)
	case KindNumeric:
		return d.d, nil
	case KindBool:
		return apd.New(d.i, 0), nil
	}
	return nil, errCannotCast(d.k, KindNumeric)
}

// DatumToFloat converts a numeric-family datum to float64 (numeric via its
// exact decimal value rounded to nearest).
func DatumToFloat(d Datum) (float64, error) {
	switch d.k {
	case KindInt16, KindInt32, KindInt64, KindBool:
		return float64(d.i), nil
	case KindFloat32, KindFloat64:
		return d.Float(), nil
	case KindNumeric:
		return NumericToFloat64(d.d)
	}
	return 0, errCannotCast(d.k, KindFloat64)
}
