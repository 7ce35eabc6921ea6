package types

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
)

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpFloat is PostgreSQL's float8 ordering: NaN equals NaN and sorts above
// everything; -0 equals 0.
func cmpFloat(a, b float64) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares an integer with a float exactly.
func cmpIntFloat(i int64, f float64) int {
	if f != f {
		return -1
	}
	if f >= 9223372036854775808.0 {
		return -1
	}
	if f < -9223372036854775808.0 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c
	}
	return cmpFloat(0, f-t)
}

// numClass orders numeric specials: -inf < finite < +inf < NaN.
func decClass(d *apd.Decimal) int {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return 2
	case apd.Infinite:
		if d.Negative {
			return -1
		}
		return 1
	}
	return 0
}

func cmpDec(a, b *apd.Decimal) int {
	ca, cb := decClass(a), decClass(b)
	if ca != 0 || cb != 0 {
		return cmpInt(int64(ca), int64(cb))
	}
	return a.Cmp(b)
}

func isNumberKind(k Kind) bool {
	return k >= KindInt16 && k <= KindNumeric
}

func isIntKind(k Kind) bool { return k == KindInt16 || k == KindInt32 || k == KindInt64 }

func isDateTimeKind(k Kind) bool {
	return k == KindDate || k == KindTimestamp || k == KindTimestampTZ
}

// dateTimeMicros maps a date or timestamp(tz) to microseconds since
// 2000-01-01 (a date is its midnight; infinities stay infinite).
func dateTimeMicros(d Datum) int64 {
	if d.k == KindDate {
		switch d.i {
		case DateInfinity:
			return TimestampInfinity
		case DateNegInfinity:
			return TimestampNegInfinity
		}
		return d.i * MicrosPerDay
	}
	return d.i
}

func isTextKind(k Kind) bool { return k == KindText || k == KindUnknown }

// compareNumbers orders two numeric-family datums by value.
func compareNumbers(a, b Datum) int {
	ai, bi := isIntKind(a.k), isIntKind(b.k)
	switch {
	case ai && bi:
		return cmpInt(a.i, b.i)
	case a.k == KindNumeric && b.k == KindNumeric:
		return cmpDec(a.d, b.d)
	case a.k == KindNumeric && bi:
		return cmpDecInt(a.d, b.i)
	case ai && b.k == KindNumeric:
		return -cmpDecInt(b.d, a.i)
	case ai: // b float
		return cmpIntFloat(a.i, b.Float())
	case bi: // a float
		return -cmpIntFloat(b.i, a.Float())
	}
	// float vs float, or numeric vs float: PostgreSQL compares as float8.
	af, _ := DatumToFloat(a)
	bf, _ := DatumToFloat(b)
	return cmpFloat(af, bf)
}

func cmpDecInt(d *apd.Decimal, i int64) int {
	if c := decClass(d); c != 0 {
		return c / absInt(c)
	}
	var x apd.Decimal
	x.SetInt64(i)
	return d.Cmp(&x)
}

func absInt(c int) int {
	if c < 0 {
		return -c
	}
	return c
}

// Compare orders two non-NULL datums: same kinds; any two numeric kinds
// (by value, NaN above every number, numeric vs float compared as
// float8 as PostgreSQL does); date vs timestamp(tz) (the date is its
// midnight; timestamp vs timestamptz compare their microseconds, i.e. the
// session zone is taken as UTC); text vs unknown. Text compares bytewise
// (C collation), jsonb in PostgreSQL's jsonb order. Returns -1, 0 or +1.
// Datums of unrelated kinds (a planner bug) are ordered by kind, and NULLs
// sort after everything, so Compare never panics.
func Compare(a, b Datum) int {
	if !a.ok || !b.ok {
		return cmpInt(int64(btoi(!a.ok)), int64(btoi(!b.ok)))
	}
	if a.k == b.k {
		switch a.k {
		case KindBool, KindInt16, KindInt32, KindInt64, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
			return cmpInt(a.i, b.i)
		case KindFloat32, KindFloat64:
			return cmpFloat(a.Float(), b.Float())
		case KindNumeric:
			return cmpDec(a.d, b.d)
		case KindText, KindUnknown, KindBytea:
			return cmpStr(a.s, b.s)
		case KindInterval:
			ah, al := IntervalSpan(a.IntervalParts())
			bh, bl := IntervalSpan(b.IntervalParts())
			return cmpSpan(ah, al, bh, bl)
		case KindJSONB:
			return compareJSONB(a.s, b.s)
		}
		return 0
	}
	switch {
	case isNumberKind(a.k) && isNumberKind(b.k):
		return compareNumbers(a, b)
	case isDateTimeKind(a.k) && isDateTimeKind(b.k):
		return cmpInt(dateTimeMicros(a), dateTimeMicros(b))
	case isTextKind(a.k) && isTextKind(b.k):
		return cmpStr(a.s, b.s)
	}
	return cmpInt(int64(a.k), int64(b.k))
}

// Equal is Compare(a, b) == 0 for non-NULL datums; false if either is NULL.
func Equal(a, b Datum) bool {
	if !a.ok || !b.ok {
		return false
	}
	if a.k == b.k {
		switch a.k {
		case KindBool, KindInt16, KindInt32, KindInt64, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
			return a.i == b.i
		case KindText, KindUnknown, KindBytea:
			return a.s == b.s
		case KindJSONB:
			if a.s == b.s {
				return true
			}
		}
	}
	return Compare(a, b) == 0
}

// Key tags.
const (
	keyNull     = 0x00
	keyBool     = 0x01
	keyNumber   = 0x02
	keyText     = 0x03
	keyBytea    = 0x04
	keyDateTime = 0x05
	keyTime     = 0x06
	keyInterval = 0x07
	keyJSONB    = 0x08

	numZero   = 0x00
	numFinite = 0x01
	numPInf   = 0x02
	numNInf   = 0x03
	numNaN    = 0x04
)

// AppendKey appends a canonical, self-delimiting byte encoding of d for
// hashing and equality (hash join, GROUP BY, DISTINCT): Equal datums give
// equal bytes — 1, 1.0, 1::int2 and 1::int8 alike, -0.0 and 0.0, NaN of
// float and numeric, a date and its midnight timestamp, '1 mon' and
// '30 days', jsonb 1.0 and 1 — and different datums give different
// bytes, so concatenated keys of a row compare as the row. NULL has its
// own tag. Not order-preserving. Caveat: numeric vs float equality is
// float8 equality in Compare, while the key of a float is its shortest
// decimal (or its exact integer value), so a numeric with more digits
// than a float holds can compare equal to a float yet key differently;
// the planner casts both sides to one type first, as PostgreSQL does.
func AppendKey(buf []byte, d Datum) []byte {
	if !d.ok {
		return append(buf, keyNull)
	}
	switch d.k {
	case KindBool:
		return append(buf, keyBool, byte(d.i))
	case KindInt16, KindInt32, KindInt64:
		return appendIntKey(buf, d.i)
	case KindFloat32, KindFloat64:
		return appendFloatKey(buf, d.Float())
	case KindNumeric:
		return appendDecKey(buf, d.d)
	case KindText, KindUnknown:
		buf = append(buf, keyText)
		buf = binary.AppendUvarint(buf, uint64(len(d.s)))
		return append(buf, d.s...)
	case KindBytea:
		buf = append(buf, keyBytea)
		buf = binary.AppendUvarint(buf, uint64(len(d.s)))
		return append(buf, d.s...)
	case KindDate, KindTimestamp, KindTimestampTZ:
		buf = append(buf, keyDateTime)
		return binary.BigEndian.AppendUint64(buf, uint64(dateTimeMicros(d)))
	case KindTime:
		buf = append(buf, keyTime)
		return binary.BigEndian.AppendUint64(buf, uint64(d.i))
	case KindInterval:
		hi, lo := IntervalSpan(d.IntervalParts())
		buf = append(buf, keyInterval)
		buf = binary.BigEndian.AppendUint64(buf, uint64(hi))
		return binary.BigEndian.AppendUint64(buf, lo)
	case KindJSONB:
		buf = append(buf, keyJSONB)
		buf = appendJSONBKey(buf, d.s)
		return append(buf, 0) // jsonb text never holds NUL
	}
	return append(buf, 0xFF, byte(d.k))
}

// appendDigitsKey writes the number key for decimal digits digs (no
// leading zeros, nonempty, nonzero) whose leading digit is at power
// adjExp.
func appendDigitsKey(buf []byte, neg bool, adjExp int64, digs []byte) []byte {
	for len(digs) > 1 && digs[len(digs)-1] == '0' {
		digs = digs[:len(digs)-1]
	}
	buf = append(buf, keyNumber, numFinite)
	if neg {
		buf = append(buf, 0)
	} else {
		buf = append(buf, 1)
	}
	buf = binary.AppendVarint(buf, adjExp)
	buf = binary.AppendUvarint(buf, uint64(len(digs)))
	return append(buf, digs...)
}

func appendIntKey(buf []byte, v int64) []byte {
	if v == 0 {
		return append(buf, keyNumber, numZero)
	}
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	var tmp [24]byte
	digs := strconv.AppendUint(tmp[:0], u, 10)
	return appendDigitsKey(buf, v < 0, int64(len(digs)-1), digs)
}

func appendFloatKey(buf []byte, f float64) []byte {
	switch {
	case f != f:
		return append(buf, keyNumber, numNaN)
	case math.IsInf(f, 1):
		return append(buf, keyNumber, numPInf)
	case math.IsInf(f, -1):
		return append(buf, keyNumber, numNInf)
	case f == 0:
		return append(buf, keyNumber, numZero)
	}
	if f == math.Trunc(f) && f > -9223372036854775808.0 && f < 9223372036854775808.0 {
		return appendIntKey(buf, int64(f))
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], math.Abs(f), 'e', -1, 64)
	// e is "d[.ddd]e±XX".
	var digs [24]byte
	n := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digs[n] = e[i]
			n++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	return appendDigitsKey(buf, f < 0, int64(exp), digs[:n])
}

func appendDecKey(buf []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, keyNumber, numNaN)
	case apd.Infinite:
		if d.Negative {
			return append(buf, keyNumber, numNInf)
		}
		return append(buf, keyNumber, numPInf)
	}
	if d.Coeff.Sign() == 0 {
		return append(buf, keyNumber, numZero)
	}
	var tmp [40]byte
	var digs []byte
	if d.Coeff.IsUint64() {
		digs = strconv.AppendUint(tmp[:0], d.Coeff.Uint64(), 10)
	} else {
		digs = d.Coeff.Append(tmp[:0], 10)
	}
	return appendDigitsKey(buf, d.Negative, int64(len(digs)-1)+int64(d.Exponent), digs)
}
