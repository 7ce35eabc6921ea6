package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// Key datum markers. NULL sorts before every value.
const (
	keyNull  byte = 0x00
	keyValue byte = 0x01
)

// Numeric classes inside a key, in SQL order.
const (
	numNegInf byte = 0x01
	numNeg    byte = 0x02
	numZero   byte = 0x03
	numPos    byte = 0x04
	numPosInf byte = 0x05
	numNaN    byte = 0x06
)

const microsPerDay = 86_400_000_000

var errShortKey = errors.New("storage: truncated key datum")

// AppendKeyDatum appends the order-preserving encoding of d to buf and
// returns the extended buffer. For two datums a, b of the same type family,
// bytes.Compare of their encodings equals the SQL comparison of a and b
// (PostgreSQL's btree order: NULL first here, NaN greatest, -0 = 0, numeric
// by value regardless of scale, intervals by total span with a month of 30
// days, text and bytea bytewise). The encoding is self-delimiting, so
// concatenated encodings compare column by column.
//
// All integer widths share one encoding, as do float4 and float8. JSONB is
// ordered as its canonical text.
func AppendKeyDatum(buf []byte, d types.Datum) []byte {
	if d.IsNull() {
		return append(buf, keyNull)
	}
	buf = append(buf, keyValue)
	switch d.Kind() {
	case types.KindBool:
		if d.Bool() {
			return append(buf, 1)
		}
		return append(buf, 0)
	case types.KindInt16, types.KindInt32, types.KindInt64,
		types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return appendKeyInt(buf, d.Int())
	case types.KindFloat32, types.KindFloat64:
		return appendKeyFloat(buf, d.Float())
	case types.KindNumeric:
		return appendKeyNumeric(buf, d.Decimal())
	case types.KindInterval:
		hi, lo := intervalSpan(d.IntervalParts())
		buf = binary.BigEndian.AppendUint64(buf, uint64(hi)^(1<<63))
		return binary.BigEndian.AppendUint64(buf, lo)
	default: // text, bytea, jsonb, unknown
		return appendKeyBytes(buf, d.Str())
	}
}

// AppendKey appends the key encoding of the given columns of row.
func AppendKey(buf []byte, row types.Row, cols []int) []byte {
	for _, c := range cols {
		buf = AppendKeyDatum(buf, row[c])
	}
	return buf
}

func appendKeyInt(buf []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
}

func appendKeyFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		f = math.NaN() // one canonical NaN, greater than +Inf once transformed
	case f == 0:
		f = 0 // -0 == 0
	}
	u := math.Float64bits(f)
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(buf, u)
}

func appendKeyBytes(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			buf = append(buf, 0x00, 0xff)
		} else {
			buf = append(buf, s[i])
		}
	}
	return append(buf, 0x00, 0x01)
}

// appendKeyNumeric encodes a decimal as class, adjusted exponent and packed
// digits. A finite nonzero value is 0.d1d2...dn × 10^E with d1 != 0 and
// trailing zeros stripped; E is 4 bytes sign-flipped, then digit pairs as
// bytes 1..100 (an odd last digit is padded with 0), then 0x00. Negative
// values complement E and the digit bytes, and end with 0xff, so that
// larger magnitudes sort first.
func appendKeyNumeric(buf []byte, d *apd.Decimal) []byte {
	if d == nil {
		return append(buf, numNaN)
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, numNaN)
	case apd.Infinite:
		if d.Negative {
			return append(buf, numNegInf)
		}
		return append(buf, numPosInf)
	}
	if d.Coeff.Sign() == 0 {
		return append(buf, numZero)
	}
	var scratch [64]byte
	digits := d.Coeff.Append(scratch[:0], 10)
	// coeff × 10^exp = 0.digits × 10^(exp+len(digits)); stripping trailing
	// zeros does not change the value.
	e := int64(d.Exponent) + int64(len(digits))
	n := len(digits)
	for n > 1 && digits[n-1] == '0' {
		n--
	}
	digits = digits[:n]
	e = max(min(e, math.MaxInt32), math.MinInt32)
	neg := d.Negative
	var mask byte
	if neg {
		buf = append(buf, numNeg)
		mask = 0xff
	} else {
		buf = append(buf, numPos)
	}
	ue := uint32(int32(e)) ^ (1 << 31)
	if neg {
		ue = ^ue
	}
	buf = binary.BigEndian.AppendUint32(buf, ue)
	for i := 0; i < len(digits); i += 2 {
		p := (digits[i] - '0') * 10
		if i+1 < len(digits) {
			p += digits[i+1] - '0'
		}
		buf = append(buf, (p+1)^mask)
	}
	return append(buf, 0x00^mask)
}

// intervalSpan is PostgreSQL's interval comparison value: months*30 days +
// days, in microseconds, plus micros, as a signed 128-bit integer.
func intervalSpan(months, days int32, micros int64) (hi int64, lo uint64) {
	totalDays := int64(months)*30 + int64(days)
	a := uint64(totalDays)
	if totalDays < 0 {
		a = uint64(-totalDays)
	}
	h, l := bits.Mul64(a, microsPerDay)
	if totalDays < 0 {
		h, l = neg128(h, l)
	}
	var c uint64
	l, c = bits.Add64(l, uint64(micros), 0)
	h, _ = bits.Add64(h, uint64(micros>>63), c)
	return int64(h), l
}

func neg128(h, l uint64) (uint64, uint64) {
	l, b := bits.Sub64(0, l, 0)
	h, _ = bits.Sub64(0, h, b)
	return h, l
}

// intervalFromSpan returns the canonical interval of a span: as many
// 30-day months as fit, then days, then microseconds, all with the sign of
// the span.
func intervalFromSpan(hi int64, lo uint64) types.Datum {
	h, l := uint64(hi), lo
	neg := hi < 0
	if neg {
		h, l = neg128(h, l)
	}
	if h >= microsPerDay {
		// Cannot come from intervalSpan of int32/int64 parts.
		return types.NewInterval(math.MaxInt32, math.MaxInt32, math.MaxInt64)
	}
	q, r := bits.Div64(h, l, microsPerDay)
	// Greedy split of the magnitude, within the limits of the sign: a
	// negative interval reaches one further (MinInt32, MinInt64).
	mLim, dLim, uLim := uint64(math.MaxInt32), uint64(math.MaxInt32), uint64(math.MaxInt64)
	if neg {
		mLim, dLim, uLim = 1<<31, 1<<31, 1<<63
	}
	months := min(q/30, mLim)
	days := q - months*30
	micros := r
	if days > dLim {
		extra := days - dLim
		days = dLim
		if extra > (uLim-micros)/microsPerDay {
			return types.NewInterval(math.MaxInt32, math.MaxInt32, math.MaxInt64) // unreachable from valid parts
		}
		micros += extra * microsPerDay
	}
	if neg {
		return types.NewInterval(int32(-int64(months)), int32(-int64(days)), int64(-micros))
	}
	return types.NewInterval(int32(months), int32(days), int64(micros))
}

// DecodeKeyDatum decodes one datum encoded by AppendKeyDatum as type t and
// returns it with the remaining bytes. Values come back in their canonical
// form (the key holds an equality class): numerics without trailing zeros,
// intervals with 30-day months, floats of kind t. Strings are copied; the
// result does not alias b.
func DecodeKeyDatum(b []byte, t types.Type) (types.Datum, []byte, error) {
	if len(b) == 0 {
		return types.Null, nil, errShortKey
	}
	switch b[0] {
	case keyNull:
		return types.NullOf(t.Kind), b[1:], nil
	case keyValue:
	default:
		return types.Null, nil, fmt.Errorf("storage: bad key datum marker %#x", b[0])
	}
	b = b[1:]
	switch t.Kind {
	case types.KindBool:
		if len(b) < 1 {
			return types.Null, nil, errShortKey
		}
		return types.NewBool(b[0] != 0), b[1:], nil
	case types.KindInt16, types.KindInt32, types.KindInt64,
		types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		if len(b) < 8 {
			return types.Null, nil, errShortKey
		}
		v := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
		return intDatum(t.Kind, v), b[8:], nil
	case types.KindFloat32, types.KindFloat64:
		if len(b) < 8 {
			return types.Null, nil, errShortKey
		}
		u := binary.BigEndian.Uint64(b)
		if u&(1<<63) != 0 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		f := math.Float64frombits(u)
		if t.Kind == types.KindFloat32 {
			return types.NewFloat32(float32(f)), b[8:], nil
		}
		return types.NewFloat64(f), b[8:], nil
	case types.KindNumeric:
		return decodeKeyNumeric(b)
	case types.KindInterval:
		if len(b) < 16 {
			return types.Null, nil, errShortKey
		}
		hi := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
		lo := binary.BigEndian.Uint64(b[8:])
		return intervalFromSpan(hi, lo), b[16:], nil
	default:
		s, rest, err := decodeKeyBytes(b)
		if err != nil {
			return types.Null, nil, err
		}
		switch t.Kind {
		case types.KindBytea:
			return types.NewBytea([]byte(s)), rest, nil
		case types.KindJSONB:
			return types.NewJSONB(s), rest, nil
		case types.KindUnknown:
			return types.NewUnknown(s), rest, nil
		}
		return types.NewText(s), rest, nil
	}
}

// intDatum builds a datum of an integer-represented kind.
func intDatum(k types.Kind, v int64) types.Datum {
	switch k {
	case types.KindInt16:
		return types.NewInt16(int16(v))
	case types.KindInt32:
		return types.NewInt32(int32(v))
	case types.KindDate:
		return types.NewDate(v)
	case types.KindTime:
		return types.NewTime(v)
	case types.KindTimestamp:
		return types.NewTimestamp(v)
	case types.KindTimestampTZ:
		return types.NewTimestampTZ(v)
	}
	return types.NewInt64(v)
}

func decodeKeyBytes(b []byte) (string, []byte, error) {
	// Fast path: no escaped zero bytes.
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if b[i+1] == 0x01 {
			return string(b[:i]), b[i+2:], nil
		}
		if b[i+1] != 0xff {
			return "", nil, fmt.Errorf("storage: bad escape %#x in key string", b[i+1])
		}
		// Slow path: unescape.
		out := make([]byte, 0, len(b))
		for j := 0; j+1 < len(b); j++ {
			if b[j] != 0 {
				out = append(out, b[j])
				continue
			}
			switch b[j+1] {
			case 0x01:
				return string(out), b[j+2:], nil
			case 0xff:
				out = append(out, 0)
				j++
			default:
				return "", nil, fmt.Errorf("storage: bad escape %#x in key string", b[j+1])
			}
		}
		return "", nil, errShortKey
	}
	return "", nil, errShortKey
}

func decodeKeyNumeric(b []byte) (types.Datum, []byte, error) {
	if len(b) < 1 {
		return types.Null, nil, errShortKey
	}
	d := new(apd.Decimal)
	switch b[0] {
	case numNaN:
		d.Form = apd.NaN
		return types.NewNumeric(d), b[1:], nil
	case numNegInf, numPosInf:
		d.Form = apd.Infinite
		d.Negative = b[0] == numNegInf
		return types.NewNumeric(d), b[1:], nil
	case numZero:
		return types.NewNumeric(d), b[1:], nil
	case numNeg, numPos:
	default:
		return types.Null, nil, fmt.Errorf("storage: bad numeric class %#x in key", b[0])
	}
	neg := b[0] == numNeg
	var mask byte
	if neg {
		mask = 0xff
	}
	b = b[1:]
	if len(b) < 4 {
		return types.Null, nil, errShortKey
	}
	ue := binary.BigEndian.Uint32(b)
	if neg {
		ue = ^ue
	}
	e := int64(int32(ue ^ (1 << 31)))
	b = b[4:]
	var scratch [64]byte
	digits := scratch[:0]
	for i := 0; ; i++ {
		if i >= len(b) {
			return types.Null, nil, errShortKey
		}
		p := b[i] ^ mask
		if p == 0 {
			b = b[i+1:]
			break
		}
		if p > 100 {
			return types.Null, nil, fmt.Errorf("storage: bad numeric digit byte %#x in key", b[i])
		}
		p--
		digits = append(digits, '0'+p/10, '0'+p%10)
	}
	if len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return types.Null, nil, errors.New("storage: numeric key without digits")
	}
	if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		return types.Null, nil, errors.New("storage: bad numeric digits in key")
	}
	exp := e - int64(len(digits))
	if exp < math.MinInt32 || exp > math.MaxInt32 {
		return types.Null, nil, errors.New("storage: numeric key exponent out of range")
	}
	d.Exponent = int32(exp)
	d.Negative = neg
	return types.NewNumeric(d), b, nil
}
