package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// Row value layout:
//
//	uvarint n                 number of encoded columns
//	ceil(n/8) bytes           NULL bitmap, bit i%8 of byte i/8 set = column i is NULL
//	payloads of the non-NULL columns, in column order:
//	  bool                    1 byte
//	  int2/4/8, date, time,
//	  timestamp(tz)           zigzag varint
//	  float4                  4 bytes little-endian IEEE
//	  float8                  8 bytes little-endian IEEE
//	  numeric                 flags byte (form<<2 | negative<<1 | big), zigzag
//	                          varint exponent, then the coefficient as a uvarint
//	                          (big=0) or uvarint length + big-endian bytes (big=1)
//	  interval                zigzag varints months, days, micros
//	  text, bytea, jsonb      uvarint length + bytes
//
// The format has no version: a value with fewer columns than the relation
// (a column added later) decodes the missing ones as NULL, and columns
// beyond the relation's are ignored.

var errShortValue = errors.New("storage: truncated row value")

// EncodeRow appends the value encoding of row, whose columns have the types
// of cols, to buf. A datum whose kind does not fit its column's type is an
// error (a caller bug, reported rather than stored).
func EncodeRow(buf []byte, row types.Row, cols []catalog.Column) ([]byte, error) {
	if len(row) != len(cols) {
		return buf, fmt.Errorf("storage: row has %d columns, relation %d", len(row), len(cols))
	}
	buf = binary.AppendUvarint(buf, uint64(len(row)))
	bm := len(buf)
	for range (len(row) + 7) / 8 {
		buf = append(buf, 0)
	}
	for i, d := range row {
		if d.IsNull() {
			buf[bm+i/8] |= 1 << (i % 8)
			continue
		}
		var err error
		if buf, err = appendValueDatum(buf, d, cols[i].Type.Kind); err != nil {
			return buf, fmt.Errorf("storage: column %q: %w", cols[i].Name, err)
		}
	}
	return buf, nil
}

func family(k types.Kind) int {
	switch k {
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return 1
	case types.KindFloat32, types.KindFloat64:
		return 2
	case types.KindText, types.KindUnknown:
		return 3
	}
	return 100 + int(k)
}

func appendValueDatum(buf []byte, d types.Datum, k types.Kind) ([]byte, error) {
	if dk := d.Kind(); dk != k && family(dk) != family(k) {
		return buf, fmt.Errorf("value of kind %d in column of kind %d", dk, k)
	}
	switch k {
	case types.KindBool:
		if d.Bool() {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case types.KindInt16, types.KindInt32, types.KindInt64,
		types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return binary.AppendVarint(buf, d.Int()), nil
	case types.KindFloat32:
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(d.Float()))), nil
	case types.KindFloat64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(d.Float())), nil
	case types.KindNumeric:
		return appendValueNumeric(buf, d.Decimal()), nil
	case types.KindInterval:
		m, dd, us := d.IntervalParts()
		buf = binary.AppendVarint(buf, int64(m))
		buf = binary.AppendVarint(buf, int64(dd))
		return binary.AppendVarint(buf, us), nil
	default:
		s := d.Str()
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...), nil
	}
}

func appendValueNumeric(buf []byte, d *apd.Decimal) []byte {
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

// DecodeRow decodes a value written by EncodeRow as a row of cols,
// appending to dst[:0] (dst's capacity is reused) and returning the row.
// The row never aliases value. Text and jsonb datums are substrings of one
// string conversion of value (one allocation for all of a row's strings);
// bytea and numeric datums allocate one copy/decimal each.
func DecodeRow(dst types.Row, value []byte, cols []catalog.Column) (types.Row, error) {
	row := dst[:0]
	n, k := binary.Uvarint(value)
	if k <= 0 {
		return row, errShortValue
	}
	b := value[k:]
	nb := int((n + 7) / 8)
	if n > uint64(len(value))*8 || len(b) < nb {
		return row, errShortValue
	}
	bitmap := b[:nb]
	b = b[nb:]
	var str string // string(value), made on first use
	haveStr := false
	for i, c := range cols {
		if uint64(i) >= n || bitmap[i/8]&(1<<(i%8)) != 0 {
			row = append(row, types.NullOf(c.Type.Kind))
			continue
		}
		var d types.Datum
		switch c.Type.Kind {
		case types.KindBool:
			if len(b) < 1 {
				return row, errShortValue
			}
			d = types.NewBool(b[0] != 0)
			b = b[1:]
		case types.KindInt16, types.KindInt32, types.KindInt64,
			types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
			v, k := binary.Varint(b)
			if k <= 0 {
				return row, errShortValue
			}
			d = intDatum(c.Type.Kind, v)
			b = b[k:]
		case types.KindFloat32:
			if len(b) < 4 {
				return row, errShortValue
			}
			d = types.NewFloat32(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			b = b[4:]
		case types.KindFloat64:
			if len(b) < 8 {
				return row, errShortValue
			}
			d = types.NewFloat64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case types.KindNumeric:
			var err error
			if d, b, err = decodeValueNumeric(b); err != nil {
				return row, err
			}
		case types.KindInterval:
			var p [3]int64
			for j := range p {
				v, k := binary.Varint(b)
				if k <= 0 {
					return row, errShortValue
				}
				p[j] = v
				b = b[k:]
			}
			if p[0] != int64(int32(p[0])) || p[1] != int64(int32(p[1])) {
				return row, errors.New("storage: interval field out of range in row value")
			}
			d = types.NewInterval(int32(p[0]), int32(p[1]), p[2])
		default:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return row, errShortValue
			}
			if c.Type.Kind == types.KindBytea {
				// types has no bytea constructor from a string: one copy each.
				d = types.NewBytea(b[k : k+int(l)])
				b = b[k+int(l):]
				break
			}
			if !haveStr {
				str, haveStr = string(value), true
			}
			start := len(value) - len(b) + k
			s := str[start : start+int(l)]
			b = b[k+int(l):]
			switch c.Type.Kind {
			case types.KindJSONB:
				d = types.NewJSONB(s)
			case types.KindUnknown:
				d = types.NewUnknown(s)
			default:
				d = types.NewText(s)
			}
		}
		row = append(row, d)
	}
	return row, nil
}

func decodeValueNumeric(b []byte) (types.Datum, []byte, error) {
	if len(b) < 1 {
		return types.Null, nil, errShortValue
	}
	flags := b[0]
	b = b[1:]
	exp, k := binary.Varint(b)
	if k <= 0 {
		return types.Null, nil, errShortValue
	}
	b = b[k:]
	if exp != int64(int32(exp)) || flags>>2 > byte(apd.NaN) {
		return types.Null, nil, errors.New("storage: bad numeric in row value")
	}
	d := &apd.Decimal{Form: apd.Form(flags >> 2), Negative: flags&2 != 0, Exponent: int32(exp)}
	if flags&1 == 0 {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return types.Null, nil, errShortValue
		}
		d.Coeff.SetUint64(v)
		b = b[k:]
	} else {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return types.Null, nil, errShortValue
		}
		d.Coeff.SetBytes(b[k : k+int(l)])
		b = b[k+int(l):]
	}
	return types.NewNumeric(d), b, nil
}
