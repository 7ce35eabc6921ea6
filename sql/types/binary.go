package types

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
)

// Numeric wire-format sign words.
const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPInf   = 0xD000
	numericNInf   = 0xF000
	jsonbVersion1 = 1
)

func errBinary(t Type) error {
	return sqlerr.New("22P03", "incorrect binary data format for type %s", t)
}

// DecodeBinary decodes one value in PostgreSQL's binary wire format for t
// (the *_recv function): int2/4/8 and float4/8 big-endian, bool one byte,
// text/varchar/bytea raw bytes, date int32 days since 2000-01-01,
// time/timestamp(tz) int64 microseconds, interval (int64 µs, int32 days,
// int32 months), numeric (ndigits, weight, sign, dscale, base-10000
// digits), jsonb (version byte 1 + text; plain json text is accepted too).
// Modifiers of t are applied. The result does not alias b.
func DecodeBinary(t Type, b []byte) (Datum, error) {
	switch t.Kind {
	case KindBool:
		if len(b) != 1 {
			return Null, errBinary(t)
		}
		return NewBool(b[0] != 0), nil
	case KindInt16:
		if len(b) != 2 {
			return Null, errBinary(t)
		}
		return NewInt16(int16(binary.BigEndian.Uint16(b))), nil
	case KindInt32:
		if len(b) != 4 {
			return Null, errBinary(t)
		}
		return NewInt32(int32(binary.BigEndian.Uint32(b))), nil
	case KindInt64:
		if len(b) != 8 {
			return Null, errBinary(t)
		}
		return NewInt64(int64(binary.BigEndian.Uint64(b))), nil
	case KindFloat32:
		if len(b) != 4 {
			return Null, errBinary(t)
		}
		return NewFloat32(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case KindFloat64:
		if len(b) != 8 {
			return Null, errBinary(t)
		}
		return NewFloat64(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
	case KindNumeric:
		d, err := decodeNumericBinary(b)
		if err != nil {
			return Null, err
		}
		d, err = ApplyNumericTypmod(d, t.Precision, t.Scale)
		if err != nil {
			return Null, err
		}
		return NewNumeric(d), nil
	case KindText, KindUnknown:
		s := string(b)
		if err := checkText(s); err != nil {
			return Null, err
		}
		if t.Kind == KindUnknown {
			return NewUnknown(s), nil
		}
		v, err := applyTextWidth(s, t, false)
		if err != nil {
			return Null, err
		}
		return NewText(v), nil
	case KindBytea:
		return NewBytea(b), nil
	case KindDate:
		if len(b) != 4 {
			return Null, errBinary(t)
		}
		return NewDate(int64(int32(binary.BigEndian.Uint32(b)))), nil
	case KindTime:
		if len(b) != 8 {
			return Null, errBinary(t)
		}
		v := int64(binary.BigEndian.Uint64(b))
		if v < 0 || v > MicrosPerDay {
			return Null, sqlerr.New(sqlerr.InvalidParameterValue, "time out of range")
		}
		return NewTime(v), nil
	case KindTimestamp, KindTimestampTZ:
		if len(b) != 8 {
			return Null, errBinary(t)
		}
		v := int64(binary.BigEndian.Uint64(b))
		if !IsInfiniteTimestamp(v) && (v < MinTimestamp || v >= MaxTimestampExcl) {
			return Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
		}
		if t.Kind == KindTimestamp {
			return NewTimestamp(v), nil
		}
		return NewTimestampTZ(v), nil
	case KindInterval:
		if len(b) != 16 {
			return Null, errBinary(t)
		}
		us := int64(binary.BigEndian.Uint64(b))
		days := int32(binary.BigEndian.Uint32(b[8:]))
		months := int32(binary.BigEndian.Uint32(b[12:]))
		return NewInterval(months, days, us), nil
	case KindJSONB:
		if len(b) > 0 && b[0] == jsonbVersion1 {
			return ParseJSONB(string(b[1:]))
		}
		if len(b) > 0 && b[0] < 0x20 && b[0] != ' ' && b[0] != '\t' && b[0] != '\n' && b[0] != '\r' {
			return Null, sqlerr.New(sqlerr.InvalidParameterValue, "unsupported jsonb version number %d", b[0])
		}
		return ParseJSONB(string(b))
	}
	return Null, errBinary(t)
}

// decodeNumericBinary is numeric_recv.
func decodeNumericBinary(b []byte) (*apd.Decimal, error) {
	bad := func() error { return errBinary(Numeric) }
	if len(b) < 8 {
		return nil, bad()
	}
	ndigits := int(binary.BigEndian.Uint16(b[0:]))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*ndigits {
		return nil, bad()
	}
	switch sign {
	case numericNaN:
		return &apd.Decimal{Form: apd.NaN}, nil
	case numericPInf:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case numericNInf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	case numericPos, numericNeg:
	default:
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid sign in external \"numeric\" value")
	}
	if dscale > numericMaxScale {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid scale in external \"numeric\" value")
	}
	d := new(apd.Decimal)
	var coeff apd.BigInt
	var small uint64
	useSmall := ndigits <= 4
	var big apd.BigInt
	tenK := apd.NewBigInt(10000)
	for i := range ndigits {
		dig := binary.BigEndian.Uint16(b[8+2*i:])
		if dig >= 10000 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid digit in external \"numeric\" value")
		}
		if useSmall {
			small = small*10000 + uint64(dig)
		} else {
			coeff.Mul(&coeff, tenK)
			big.SetInt64(int64(dig))
			coeff.Add(&coeff, &big)
		}
	}
	if useSmall {
		d.Coeff.SetUint64(small)
	} else {
		d.Coeff.Set(&coeff)
	}
	d.Exponent = int32((weight - ndigits + 1) * 4)
	d.Negative = sign == numericNeg
	// Bring to exactly dscale digits after the point.
	if err := quantize(d, d, -int32(dscale), apd.RoundHalfUp); err != nil {
		return nil, bad()
	}
	if err := normalizeNumeric(d); err != nil {
		return nil, err
	}
	return d, nil
}

// AppendBinary appends d in PostgreSQL's binary wire format (the *_send
// function; see DecodeBinary for the layouts). Text-like values are their
// raw bytes; an unknown-typed literal is sent as text. NULL is an error:
// the protocol sends NULL as length -1, not as bytes.
func AppendBinary(buf []byte, d Datum) ([]byte, error) {
	if !d.ok {
		return buf, sqlerr.New(sqlerr.InternalError, "cannot encode NULL in binary format")
	}
	switch d.k {
	case KindBool:
		return append(buf, byte(d.i)), nil
	case KindInt16:
		return binary.BigEndian.AppendUint16(buf, uint16(d.i)), nil
	case KindInt32:
		return binary.BigEndian.AppendUint32(buf, uint32(d.i)), nil
	case KindInt64:
		return binary.BigEndian.AppendUint64(buf, uint64(d.i)), nil
	case KindFloat32:
		f := d.Float()
		if f != f {
			return binary.BigEndian.AppendUint32(buf, 0x7fc00000), nil // PostgreSQL's NaN
		}
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(f))), nil
	case KindFloat64:
		if f := d.Float(); f != f {
			return binary.BigEndian.AppendUint64(buf, 0x7ff8000000000000), nil
		}
		return binary.BigEndian.AppendUint64(buf, uint64(d.i)), nil
	case KindNumeric:
		return appendNumericBinary(buf, d.d), nil
	case KindText, KindUnknown, KindBytea:
		return append(buf, d.s...), nil
	case KindDate:
		return binary.BigEndian.AppendUint32(buf, uint32(int32(d.i))), nil
	case KindTime, KindTimestamp, KindTimestampTZ:
		return binary.BigEndian.AppendUint64(buf, uint64(d.i)), nil
	case KindInterval:
		m, dd, us := d.IntervalParts()
		buf = binary.BigEndian.AppendUint64(buf, uint64(us))
		buf = binary.BigEndian.AppendUint32(buf, uint32(dd))
		return binary.BigEndian.AppendUint32(buf, uint32(m)), nil
	case KindJSONB:
		buf = append(buf, jsonbVersion1)
		return append(buf, d.s...), nil
	}
	return buf, sqlerr.New(sqlerr.InternalError, "no binary output function for kind %d", d.k)
}

// appendNumericBinary is numeric_send.
func appendNumericBinary(buf []byte, d *apd.Decimal) []byte {
	header := func(ndigits, weight int, sign uint16, dscale int) {
		buf = binary.BigEndian.AppendUint16(buf, uint16(ndigits))
		buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
		buf = binary.BigEndian.AppendUint16(buf, sign)
		buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		header(0, 0, numericNaN, 0)
		return buf
	case apd.Infinite:
		// PostgreSQL sends dscale 32 for infinities (its header bits).
		if d.Negative {
			header(0, 0, numericNInf, 32)
		} else {
			header(0, 0, numericPInf, 32)
		}
		return buf
	}
	dscale := int(numericScale(d))
	if d.Coeff.Sign() == 0 {
		header(0, 0, numericPos, dscale)
		return buf
	}
	var tmp [40]byte
	var digs []byte
	if d.Coeff.IsUint64() {
		digs = strconv.AppendUint(tmp[:0], d.Coeff.Uint64(), 10)
	} else {
		digs = d.Coeff.Append(tmp[:0], 10)
	}
	exp := int(d.Exponent)
	// Power of ten of the first and last digit.
	pHigh := len(digs) - 1 + exp
	pLow := exp
	weight := int(floorDiv(int64(pHigh), 4))
	lowGroup := int(floorDiv(int64(pLow), 4))
	// Drop trailing zero digits to avoid emitting zero groups.
	for len(digs) > 1 && digs[len(digs)-1] == '0' {
		digs = digs[:len(digs)-1]
		pLow++
	}
	lowGroup = int(floorDiv(int64(pLow), 4))
	ndigits := weight - lowGroup + 1
	sign := uint16(numericPos)
	if d.Negative {
		sign = numericNeg
	}
	header(ndigits, weight, sign, dscale)
	// Emit groups from weight down to lowGroup.
	for g := weight; g >= lowGroup; g-- {
		v := 0
		for p := g*4 + 3; p >= g*4; p-- {
			// digit at power p: index i = pHigh - p
			i := pHigh - p
			v *= 10
			if i >= 0 && i < len(digs) {
				v += int(digs[i] - '0')
			}
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(v))
	}
	return buf
}
