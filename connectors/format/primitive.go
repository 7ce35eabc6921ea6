package format

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/weirdb/weir/sql/types"
)

// primitive reads and writes a key or value of one column in the Kafka
// or String format.
type primitive struct {
	col  int
	typ  types.Type
	name string
	text bool
}

func newPrimitive(f Format, cols []Column) (*primitive, error) {
	col, err := soleColumn(cols)
	if err != nil {
		return nil, fmt.Errorf("format: the %s format holds one column, not %v; use json or avro", f, err)
	}
	return &primitive{col: col, typ: cols[col].Type, name: cols[col].Name, text: f == String}, nil
}

func (p *primitive) decode(_ context.Context, b []byte, row types.Row) error {
	if !p.text {
		if v, ok, err := p.kafka(b); ok || err != nil {
			if err != nil {
				return err
			}
			row[p.col] = v
			return nil
		}
	}
	v, err := parseText(p.typ, string(b), true)
	if err != nil {
		return errValue(p.name, err)
	}
	row[p.col] = v
	return nil
}

// kafka reads the fixed-width serializations; ok is false for the types
// whose Kafka form is their text.
func (p *primitive) kafka(b []byte) (types.Datum, bool, error) {
	want := 0
	switch p.typ.Kind {
	case types.KindInt16:
		want = 2
	case types.KindInt32, types.KindFloat32:
		want = 4
	case types.KindInt64, types.KindFloat64:
		want = 8
	case types.KindBytea:
		return types.NewBytea(b), true, nil
	default:
		return types.Null, false, nil
	}
	if len(b) != want {
		return types.Null, true, errField(p.name, "expected %d bytes for %s, found %d", want, p.typ, len(b))
	}
	switch p.typ.Kind {
	case types.KindInt16:
		return types.NewInt16(int16(binary.BigEndian.Uint16(b))), true, nil
	case types.KindInt32:
		return types.NewInt32(int32(binary.BigEndian.Uint32(b))), true, nil
	case types.KindFloat32:
		return types.NewFloat32(math.Float32frombits(binary.BigEndian.Uint32(b))), true, nil
	case types.KindInt64:
		return types.NewInt64(int64(binary.BigEndian.Uint64(b))), true, nil
	}
	return types.NewFloat64(math.Float64frombits(binary.BigEndian.Uint64(b))), true, nil
}

// AppendRow appends the column's bytes; a NULL is an *Error (Kafka's
// serializers write it as no record at all).
func (p *primitive) AppendRow(buf []byte, row types.Row) ([]byte, error) {
	v := row[p.col]
	if v.IsNull() {
		return nil, errNotNull(p.name)
	}
	if !p.text {
		switch p.typ.Kind {
		case types.KindInt16:
			return binary.BigEndian.AppendUint16(buf, uint16(v.Int())), nil
		case types.KindInt32:
			return binary.BigEndian.AppendUint32(buf, uint32(v.Int())), nil
		case types.KindInt64:
			return binary.BigEndian.AppendUint64(buf, uint64(v.Int())), nil
		case types.KindFloat32:
			return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(v.Float()))), nil
		case types.KindFloat64:
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float())), nil
		case types.KindBytea:
			return append(buf, v.Str()...), nil
		}
	}
	return types.AppendText(buf, v, nil), nil
}
