package format

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// AvroSchema generates the Avro schema of a relation's rows: a record
// named after the relation, one field per column (External ones left
// out). A nullable column is ["null", T] with default null. Types:
// BOOLEAN boolean, SMALLINT and INTEGER int, BIGINT long, REAL float,
// DOUBLE double, NUMERIC(p,s) bytes decimal(p,s), NUMERIC without a
// precision string (its exact text: Avro's decimal needs one), TEXT
// string, BYTEA bytes, DATE int date, TIME long time-micros, TIMESTAMP
// long local-timestamp-micros, TIMESTAMPTZ long timestamp-micros,
// INTERVAL and JSONB string (their text). Names that Avro does not allow
// have their other characters replaced by '_'.
func AvroSchema(name string, cols []Column) string {
	type field struct {
		Name    string `json:"name"`
		Type    any    `json:"type"`
		Default any    `json:"default,omitempty"`
	}
	var fields []any
	for _, c := range cols {
		if c.External {
			continue
		}
		t := avroTypeOf(c.Type)
		if c.NotNull {
			fields = append(fields, field{Name: avroName(c.Name), Type: t})
			continue
		}
		// "default": null must be written, which omitempty would drop.
		fields = append(fields, map[string]any{"name": avroName(c.Name), "type": []any{"null", t}, "default": nil})
	}
	if fields == nil {
		fields = []any{}
	}
	b, _ := json.Marshal(map[string]any{"type": "record", "name": avroName(name), "fields": fields})
	return string(b)
}

func avroTypeOf(t types.Type) any {
	switch t.Kind {
	case types.KindBool:
		return "boolean"
	case types.KindInt16, types.KindInt32:
		return "int"
	case types.KindInt64:
		return "long"
	case types.KindFloat32:
		return "float"
	case types.KindFloat64:
		return "double"
	case types.KindNumeric:
		if t.Precision > 0 {
			return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": t.Precision, "scale": t.Scale}
		}
		return "string"
	case types.KindBytea:
		return "bytes"
	case types.KindDate:
		return map[string]any{"type": "int", "logicalType": "date"}
	case types.KindTime:
		return map[string]any{"type": "long", "logicalType": "time-micros"}
	case types.KindTimestamp:
		return map[string]any{"type": "long", "logicalType": "local-timestamp-micros"}
	case types.KindTimestampTZ:
		return map[string]any{"type": "long", "logicalType": "timestamp-micros"}
	}
	return "string"
}

// avroName makes s a valid Avro name.
func avroName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// AvroEncoder writes rows in Confluent's Avro wire format under a schema
// generated from the columns (AvroSchema) and registered once.
type AvroEncoder struct {
	cols   []Column
	idx    []int
	id     int
	Schema string
}

// NewAvroEncoder generates the schema of cols, registers it under subject
// (Confluent's convention: "<topic>-value" or "<topic>-key") and returns
// the encoder.
func NewAvroEncoder(ctx context.Context, reg SchemaRegistry, subject, name string, cols []Column) (*AvroEncoder, error) {
	schema := AvroSchema(name, cols)
	id, err := reg.Register(ctx, subject, schema)
	if err != nil {
		return nil, err
	}
	e := &AvroEncoder{cols: cols, id: id, Schema: schema}
	for i, c := range cols {
		if !c.External {
			e.idx = append(e.idx, i)
		}
	}
	return e, nil
}

// AppendRow appends row to buf: header and Avro body. A value Avro cannot
// hold (a NULL in a NOT NULL column, a NaN numeric) is an *Error.
func (e *AvroEncoder) AppendRow(buf []byte, row types.Row) ([]byte, error) {
	buf = append(buf, 0, byte(e.id>>24), byte(e.id>>16), byte(e.id>>8), byte(e.id))
	for _, i := range e.idx {
		c := &e.cols[i]
		d := row[i]
		if !c.NotNull {
			if d.IsNull() {
				buf = appendAvroLong(buf, 0)
				continue
			}
			buf = appendAvroLong(buf, 1)
		} else if d.IsNull() {
			return nil, errNotNull(c.Name)
		}
		var err *Error
		if buf, err = appendAvroValue(buf, d, c.Type); err != nil {
			return nil, withField(err, c.Name)
		}
	}
	return buf, nil
}

func appendAvroLong(buf []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		buf = append(buf, byte(u)|0x80)
		u >>= 7
	}
	return append(buf, byte(u))
}

func appendAvroBytes(buf []byte, b string) []byte {
	buf = appendAvroLong(buf, int64(len(b)))
	return append(buf, b...)
}

func appendAvroValue(buf []byte, d types.Datum, t types.Type) ([]byte, *Error) {
	switch t.Kind {
	case types.KindBool:
		if d.Bool() {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case types.KindInt16, types.KindInt32, types.KindInt64, types.KindDate:
		v := d.Int()
		if t.Kind == types.KindDate {
			switch v {
			case types.DateInfinity:
				v = math.MaxInt32
			case types.DateNegInfinity:
				v = math.MinInt32
			default:
				v -= types.UnixEpochDays
			}
		}
		return appendAvroLong(buf, v), nil
	case types.KindTime:
		return appendAvroLong(buf, d.Micros()), nil
	case types.KindTimestamp, types.KindTimestampTZ:
		return appendAvroLong(buf, unixFromTimestamp(d.Micros(), 1)), nil
	case types.KindFloat32:
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(d.Float()))), nil
	case types.KindFloat64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(d.Float())), nil
	case types.KindBytea:
		return appendAvroBytes(buf, d.Str()), nil
	case types.KindNumeric:
		if t.Precision > 0 {
			b, err := decimalBytes(d.Decimal(), int32(t.Scale))
			if err != nil {
				return nil, err
			}
			return appendAvroBytes(buf, string(b)), nil
		}
	}
	var tmp [64]byte
	return appendAvroBytes(buf, string(types.AppendText(tmp[:0], d, nil))), nil
}

// decimalBytes is d's unscaled value at scale as big-endian two's
// complement, the fewest bytes that hold it.
func decimalBytes(d *apd.Decimal, scale int32) ([]byte, *Error) {
	if d.Form != apd.Finite {
		return nil, errRecord("numeric %s has no Avro decimal form", types.NumericString(d))
	}
	r, err := types.RoundNumeric(d, scale)
	if err != nil {
		return nil, &Error{Reason: clip(err.Error()), Err: err}
	}
	v := r.Coeff.MathBigInt()
	if e := r.Exponent + scale; e > 0 {
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil))
	}
	if r.Negative {
		v.Neg(v)
	}
	n := v.BitLen()/8 + 1
	if v.Sign() < 0 {
		// Two's complement: 2^(8n) + v, in n bytes.
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	out := v.FillBytes(make([]byte, n))
	// Trim redundant sign bytes.
	for len(out) > 1 && (out[0] == 0 && out[1]&0x80 == 0 || out[0] == 0xff && out[1]&0x80 != 0) {
		out = out[1:]
	}
	return out, nil
}

// LatestColumns infers the columns of a source declared without any from
// subject's latest schema (InferColumns); the schema returned is the
// reader schema to decode with (Options.ReaderSchema).
func LatestColumns(ctx context.Context, reg SchemaRegistry, subject string) ([]Column, string, error) {
	_, schema, err := reg.Latest(ctx, subject)
	if err != nil {
		return nil, "", err
	}
	cols, err := InferColumns(schema)
	if err != nil {
		return nil, "", fmt.Errorf("subject %q: %w", subject, err)
	}
	return cols, schema, nil
}

// InferColumns returns the columns of an Avro record schema (a registry
// subject's latest, for a source declared without columns): each field's
// natural SQL type (int INTEGER, long BIGINT, float REAL, double DOUBLE,
// string and enum TEXT, bytes and fixed BYTEA, decimal NUMERIC(p,s), date
// DATE, time-* TIME, timestamp-* TIMESTAMPTZ, local-timestamp-*
// TIMESTAMP, duration INTERVAL, records, arrays, maps and other unions
// JSONB), NOT NULL unless the field is a union with null. Names are
// lower-cased, as SQL folds unquoted names (fields still match them
// ignoring case). Pass the schema on as Options.ReaderSchema so that its
// defaults apply.
func InferColumns(schema string) ([]Column, error) {
	t, err := parseAvroSchema(schema)
	if err != nil {
		return nil, err
	}
	if t.kind != avroRecord {
		return nil, fmt.Errorf("avro schema: a source's value schema must be a record, not %s", t)
	}
	cols := make([]Column, 0, len(t.fields))
	for _, f := range t.fields {
		_, nullable := f.typ.nullable()
		if f.typ.kind == avroNull || f.typ.kind == avroUnion && !nullable {
			nullable = true
		}
		cols = append(cols, Column{Name: strings.ToLower(f.name), Type: avroNatural(f.typ), NotNull: !nullable})
	}
	return cols, nil
}
