package executor

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// The operator state codec: a compact, self-describing binary encoding of
// datums and rows (operators do not know the types of the rows they hold,
// so every datum carries its kind). Layout of a datum: one byte, the kind
// (| 0x80 for NULL), then for non-NULL values
//
//	bool, integers, date, time, timestamp(tz)   zigzag varint
//	float4, float8                              8 bytes little-endian float64 bits
//	numeric                                     flags (form<<2 | negative<<1 | big),
//	                                            zigzag varint exponent, coefficient as a
//	                                            uvarint (big=0) or uvarint length + bytes
//	interval                                    zigzag varints months, days, micros
//	text, bytea, jsonb, unknown                 uvarint length + bytes
//
// A row is a uvarint column count followed by its datums. Integers are
// zigzag varints, counts uvarints. The encoding has no version byte: the
// coordinator writes a format marker per view and falls back to a backfill
// when it does not match.

var errStateCorrupt = errors.New("executor: corrupt operator state")

const nullFlag = 0x80

func appendStateDatum(buf []byte, d types.Datum) []byte {
	k := byte(d.Kind())
	if d.IsNull() {
		return append(buf, k|nullFlag)
	}
	buf = append(buf, k)
	switch d.Kind() {
	case types.KindBool, types.KindInt16, types.KindInt32, types.KindInt64,
		types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return binary.AppendVarint(buf, d.Int())
	case types.KindFloat32, types.KindFloat64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(d.Float()))
	case types.KindNumeric:
		return appendStateDecimal(buf, d.Decimal())
	case types.KindInterval:
		m, dd, us := d.IntervalParts()
		buf = binary.AppendVarint(buf, int64(m))
		buf = binary.AppendVarint(buf, int64(dd))
		return binary.AppendVarint(buf, us)
	}
	s := d.Str()
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendStateDecimal(buf []byte, d *apd.Decimal) []byte {
	if d == nil {
		return append(buf, byte(apd.NaN)<<2, 0, 0)
	}
	flags := byte(d.Form) << 2
	if d.Negative {
		flags |= 2
	}
	big := !d.Coeff.IsUint64()
	if big {
		flags |= 1
	}
	buf = append(buf, flags)
	buf = binary.AppendVarint(buf, int64(d.Exponent))
	if !big {
		return binary.AppendUvarint(buf, d.Coeff.Uint64())
	}
	b := d.Coeff.Bytes()
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

func appendStateRow(buf []byte, r types.Row) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(r)))
	for _, d := range r {
		buf = appendStateDatum(buf, d)
	}
	return buf
}

func appendStateInt(buf []byte, v int64) []byte { return binary.AppendVarint(buf, v) }

func appendStateBytes(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// stateReader decodes what the append functions wrote. The first error
// sticks: later reads return zero values, and err reports it.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = errStateCorrupt
	}
	r.b = nil
}

func (r *stateReader) int() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *stateReader) uint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

// count reads a uvarint that counts items of at least one byte each.
func (r *stateReader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *stateReader) bytes() []byte {
	n := r.count()
	if r.err != nil {
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *stateReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *stateReader) decimal() *apd.Decimal {
	flags := r.byte()
	exp := r.int()
	if r.err != nil || exp != int64(int32(exp)) || flags>>2 > byte(apd.NaN) {
		r.fail()
		return nil
	}
	d := &apd.Decimal{Form: apd.Form(flags >> 2), Negative: flags&2 != 0, Exponent: int32(exp)}
	if flags&1 == 0 {
		d.Coeff.SetUint64(r.uint())
	} else {
		d.Coeff.SetBytes(r.bytes())
	}
	return d
}

func (r *stateReader) datum() types.Datum {
	kb := r.byte()
	k := types.Kind(kb &^ nullFlag)
	if r.err != nil || k > types.KindJSONB {
		r.fail()
		return types.Null
	}
	if kb&nullFlag != 0 {
		return types.NullOf(k)
	}
	switch k {
	case types.KindBool:
		return types.NewBool(r.int() != 0)
	case types.KindInt16:
		return types.NewInt16(int16(r.int()))
	case types.KindInt32:
		return types.NewInt32(int32(r.int()))
	case types.KindInt64:
		return types.NewInt64(r.int())
	case types.KindDate:
		return types.NewDate(r.int())
	case types.KindTime:
		return types.NewTime(r.int())
	case types.KindTimestamp:
		return types.NewTimestamp(r.int())
	case types.KindTimestampTZ:
		return types.NewTimestampTZ(r.int())
	case types.KindFloat32, types.KindFloat64:
		if len(r.b) < 8 {
			r.fail()
			return types.Null
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
		if k == types.KindFloat32 {
			return types.NewFloat32(float32(f))
		}
		return types.NewFloat64(f)
	case types.KindNumeric:
		d := r.decimal()
		if r.err != nil {
			return types.Null
		}
		return types.NewNumeric(d)
	case types.KindInterval:
		m, dd, us := r.int(), r.int(), r.int()
		return types.NewInterval(int32(m), int32(dd), us)
	case types.KindBytea:
		return types.NewBytea(r.bytes())
	case types.KindJSONB:
		return types.NewJSONB(string(r.bytes()))
	case types.KindUnknown:
		return types.NewUnknown(string(r.bytes()))
	}
	return types.NewText(string(r.bytes()))
}

func (r *stateReader) row() types.Row {
	n := r.count()
	if r.err != nil {
		return nil
	}
	row := make(types.Row, n)
	for i := range row {
		row[i] = r.datum()
	}
	return row
}

// done reports the first error, or trailing bytes as corruption.
func (r *stateReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errStateCorrupt
	}
	return r.err
}
