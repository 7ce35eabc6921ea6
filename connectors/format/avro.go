package format

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// SchemaRegistry is what the Avro format needs of a schema registry;
// *registry.Client is one. An id or subject the registry does not have is
// an error wrapping registry.ErrNotFound.
type SchemaRegistry interface {
	SchemaByID(ctx context.Context, id int) (string, error)
	Register(ctx context.Context, subject, schema string) (int, error)
	Latest(ctx context.Context, subject string) (id int, schema string, err error)
}

// splitWire splits Confluent's wire format: magic byte 0, schema id
// (4 bytes, big-endian), body.
func splitWire(b []byte) (int, []byte, *Error) {
	if len(b) < 5 {
		return 0, nil, errRecord("record of %d bytes is shorter than the schema registry's 5-byte header", len(b))
	}
	if b[0] != 0 {
		return 0, nil, errRecord("record starts with 0x%02x, not the schema registry's magic byte 0", b[0])
	}
	return int(binary.BigEndian.Uint32(b[1:5])), b[5:], nil
}

// avroReader reads Avro's binary encoding. Every read checks bounds and
// returns an *Error on bad bytes; depth bounds nesting.
type avroReader struct {
	b         []byte
	i         int
	depth     int
	freeItems int64 // items of no bytes read so far (see blockCount)
	scratch   []byte
}

// maxFreeItems bounds the items of no bytes one record may hold.
const maxFreeItems = 1 << 16

// release drops the reference to the record, which belongs to the caller.
func (r *avroReader) release() { r.b = nil }

func errTruncated() *Error { return errRecord("truncated Avro record") }

func (r *avroReader) long() (int64, *Error) {
	b, i := r.b, r.i               // locals: the loop runs in registers
	if i < len(b) && b[i] < 0x80 { // most values fit in one byte
		r.i = i + 1
		return int64(b[i]>>1) ^ -int64(b[i]&1), nil
	}
	var u uint64
	for shift := uint(0); ; shift += 7 {
		if i >= len(b) {
			r.i = i
			return 0, errTruncated()
		}
		c := b[i]
		i++
		if shift == 63 && c > 1 {
			r.i = i
			return 0, errRecord("Avro varint overflows 64 bits")
		}
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			r.i = i
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
}

func (r *avroReader) int() (int32, *Error) {
	v, err := r.long()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, errRecord("Avro int %d out of range", v)
	}
	return int32(v), nil
}

func (r *avroReader) fixed(n int) ([]byte, *Error) {
	if n > len(r.b)-r.i {
		return nil, errTruncated()
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b, nil
}

// bytes reads a length-prefixed byte string; the result aliases the
// record.
func (r *avroReader) bytes() ([]byte, *Error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errRecord("negative Avro length %d", n)
	}
	if n > int64(len(r.b)-r.i) {
		return nil, errTruncated()
	}
	return r.fixed(int(n))
}

func (r *avroReader) enter() *Error {
	r.depth++
	if r.depth > maxDepth {
		return errRecord("Avro value nested deeper than %d levels", maxDepth)
	}
	return nil
}

// blockCount reads the count of the next block of an array or map (0
// ends it), skipping the byte size a negative count carries. The count
// is bounded by the bytes left, so that a forged count cannot make a
// reader loop or allocate without end.
func (r *avroReader) blockCount(minSize int) (int64, *Error) {
	n, err := r.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, errRecord("invalid Avro block count")
		}
		n = -n
		if _, err := r.long(); err != nil {
			return 0, err
		}
	}
	left := int64(len(r.b) - r.i)
	if minSize == 0 {
		// Items of no bytes (nulls, empty records): a budget for the
		// whole record, or a short record could claim billions of them.
		left = maxFreeItems - r.freeItems
		r.freeItems += min(n, left+1)
	} else {
		left /= int64(minSize)
	}
	if n > left {
		return 0, errRecord("Avro block of %d items exceeds the record", n)
	}
	return n, nil
}

type (
	avroReadFn func(r *avroReader) (types.Datum, *Error)
	avroSkipFn func(r *avroReader) *Error
	// avroJSONFn appends the value as JSON.
	avroJSONFn func(r *avroReader, buf []byte) ([]byte, *Error)
)

// avroCompiler turns a writer schema into readers. Named types are
// compiled once (a recursive type refers to its own slot).
type avroCompiler struct {
	skips map[*avroType]*avroSkipFn
	jsons map[*avroType]*avroJSONFn
}

func newAvroCompiler() *avroCompiler {
	return &avroCompiler{skips: map[*avroType]*avroSkipFn{}, jsons: map[*avroType]*avroJSONFn{}}
}

// read compiles a reader of writer type w into a datum of t, following
// the Avro specification's resolution (int -> long -> float -> double,
// string <-> bytes, a writer union resolved branch by branch) with SQL
// types standing for the reader's: INTEGER is int, BIGINT long, REAL
// float, DOUBLE double, TEXT string, BYTEA bytes, NUMERIC decimal, DATE
// date, TIME time-millis/micros, TIMESTAMP(TZ) timestamp-millis/micros.
// Beyond the specification, any writer type fills a JSONB column (as
// JSON), a string fills any column through its input function, enum
// symbols fill TEXT, and an int fills a SMALLINT when the value fits.
func (c *avroCompiler) read(w *avroType, t types.Type) (avroReadFn, error) {
	if t.Kind == types.KindJSONB && w.kind != avroUnion && w.kind != avroNull {
		if w.kind == avroString || w.kind == avroBytes && w.logical == "" {
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := r.bytes()
				if err != nil {
					return types.Null, err
				}
				return datumOrErr(types.ParseJSONB(string(b)))
			}, nil
		}
		js := c.json(w)
		return func(r *avroReader) (types.Datum, *Error) {
			buf, err := (*js)(r, r.scratch[:0])
			r.scratch = buf
			if err != nil {
				return types.Null, err
			}
			return datumOrErr(types.ParseJSONB(string(buf)))
		}, nil
	}
	mismatch := func() error { return fmt.Errorf("Avro %s cannot be read as %s", w, t) }
	switch w.kind {
	case avroNull:
		return func(*avroReader) (types.Datum, *Error) { return types.Null, nil }, nil
	case avroUnion:
		fns := make([]avroReadFn, len(w.branches))
		ok := false
		for i, b := range w.branches {
			fn, err := c.read(b, t)
			if err != nil {
				msg := err.Error()
				fn = func(*avroReader) (types.Datum, *Error) { return types.Null, errRecord("%s", msg) }
			} else {
				ok = true
			}
			fns[i] = fn
		}
		if !ok {
			return nil, fmt.Errorf("no branch of Avro %s can be read as %s", unionString(w), t)
		}
		return func(r *avroReader) (types.Datum, *Error) {
			i, err := r.long()
			if err != nil {
				return types.Null, err
			}
			if i < 0 || i >= int64(len(fns)) {
				return types.Null, errRecord("Avro union branch %d out of range", i)
			}
			return fns[i](r)
		}, nil
	case avroBoolean:
		if t.Kind != types.KindBool {
			return nil, mismatch()
		}
		return func(r *avroReader) (types.Datum, *Error) {
			b, err := r.fixed(1)
			if err != nil {
				return types.Null, err
			}
			if b[0] > 1 {
				return types.Null, errRecord("invalid Avro boolean 0x%02x", b[0])
			}
			return types.NewBool(b[0] == 1), nil
		}, nil
	case avroInt, avroLong:
		return c.readInteger(w, t)
	case avroFloat, avroDouble:
		var conv func(float64) types.Datum
		switch {
		case t.Kind == types.KindFloat64:
			conv = types.NewFloat64
		case t.Kind == types.KindFloat32 && w.kind == avroFloat:
			conv = func(f float64) types.Datum { return types.NewFloat32(float32(f)) }
		default:
			return nil, mismatch()
		}
		if w.kind == avroFloat {
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := r.fixed(4)
				if err != nil {
					return types.Null, err
				}
				return conv(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))), nil
			}, nil
		}
		return func(r *avroReader) (types.Datum, *Error) {
			b, err := r.fixed(8)
			if err != nil {
				return types.Null, err
			}
			return conv(math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
		}, nil
	case avroBytes, avroString, avroFixed:
		get := func(r *avroReader) ([]byte, *Error) { return r.bytes() }
		if w.kind == avroFixed {
			n := w.size
			get = func(r *avroReader) ([]byte, *Error) { return r.fixed(n) }
		}
		switch {
		case w.logical == "decimal":
			if t.Kind != types.KindNumeric {
				return nil, mismatch()
			}
			scale := w.scale
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := get(r)
				if err != nil {
					return types.Null, err
				}
				return decimalDatum(b, scale, t)
			}, nil
		case w.logical == "duration":
			if t.Kind != types.KindInterval {
				return nil, mismatch()
			}
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := r.fixed(12)
				if err != nil {
					return types.Null, err
				}
				m, d, ms := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
				if m > math.MaxInt32 || d > math.MaxInt32 {
					return types.Null, errRecord("Avro duration out of range")
				}
				return types.NewInterval(int32(m), int32(d), int64(ms)*1000), nil
			}, nil
		case t.Kind == types.KindBytea:
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := get(r)
				if err != nil {
					return types.Null, err
				}
				return types.NewBytea(b), nil
			}, nil
		case t.Kind == types.KindText && w.kind != avroFixed, w.kind == avroString && w.logical == "":
			// Beyond the specification, a string fills any column through
			// its type's input function, as text does in SQL: NUMERIC,
			// INTERVAL and JSONB written as text by AvroSchema, ISO 8601
			// timestamps of Debezium's ZonedTimestamp.
			return func(r *avroReader) (types.Datum, *Error) {
				b, err := get(r)
				if err != nil {
					return types.Null, err
				}
				s := string(b)
				if v, ok := unboundedText(t, s); ok {
					return v, nil
				}
				return datumOrErr(types.ParseText(t, s, nil))
			}, nil
		}
		return nil, mismatch()
	case avroEnum:
		if t.Kind != types.KindText {
			return nil, mismatch()
		}
		syms := make([]types.Datum, len(w.symbols))
		for i, s := range w.symbols {
			d, err := types.ParseText(t, s, nil)
			if err != nil {
				return nil, fmt.Errorf("enum symbol %s: %w", s, err)
			}
			syms[i] = d
		}
		return func(r *avroReader) (types.Datum, *Error) {
			i, err := r.long()
			if err != nil {
				return types.Null, err
			}
			if i < 0 || i >= int64(len(syms)) {
				return types.Null, errRecord("Avro enum index %d out of range", i)
			}
			return syms[i], nil
		}, nil
	}
	return nil, mismatch()
}

func unionString(w *avroType) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, br := range w.branches {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(br.String())
	}
	b.WriteByte(']')
	return b.String()
}

// readInteger reads an int or long (with its logical type) into t.
func (c *avroCompiler) readInteger(w *avroType, t types.Type) (avroReadFn, error) {
	mismatch := func() error { return fmt.Errorf("Avro %s cannot be read as %s", w, t) }
	var conv func(v int64) (types.Datum, bool)
	switch t.Kind {
	case types.KindInt16:
		conv = func(v int64) (types.Datum, bool) {
			return types.NewInt16(int16(v)), v >= math.MinInt16 && v <= math.MaxInt16
		}
	case types.KindInt32:
		conv = func(v int64) (types.Datum, bool) {
			return types.NewInt32(int32(v)), v >= math.MinInt32 && v <= math.MaxInt32
		}
	case types.KindInt64:
		conv = func(v int64) (types.Datum, bool) { return types.NewInt64(v), true }
	case types.KindFloat32:
		conv = func(v int64) (types.Datum, bool) { return types.NewFloat32(float32(v)), true }
	case types.KindFloat64:
		conv = func(v int64) (types.Datum, bool) { return types.NewFloat64(float64(v)), true }
	case types.KindNumeric:
		conv = func(v int64) (types.Datum, bool) {
			d, err := types.ApplyNumericTypmod(apd.New(v, 0), t.Precision, t.Scale)
			return types.NewNumeric(d), err == nil
		}
	case types.KindDate:
		if w.kind != avroInt {
			return nil, mismatch()
		}
		conv = func(v int64) (types.Datum, bool) {
			d, ok := dateFromUnixDays(v)
			return types.NewDate(d), ok
		}
	case types.KindTime:
		unit := int64(1000) // int, time-millis
		if w.kind == avroLong {
			unit = 1 // long, time-micros
		}
		conv = func(v int64) (types.Datum, bool) {
			us, ok := timeFromUnit(v, unit)
			return types.NewTime(us), ok
		}
	case types.KindTimestamp, types.KindTimestampTZ:
		if w.kind != avroLong {
			return nil, mismatch()
		}
		unit := int64(1000)
		if strings.HasSuffix(w.logical, "-micros") {
			unit = 1
		}
		tz := t.Kind == types.KindTimestampTZ
		conv = func(v int64) (types.Datum, bool) {
			us, ok := timestampFromUnix(v, unit)
			if tz {
				return types.NewTimestampTZ(us), ok
			}
			return types.NewTimestamp(us), ok
		}
	default:
		return nil, mismatch()
	}
	// A logical type only reads into its own kind of column.
	switch w.logical {
	case "date":
		if t.Kind != types.KindDate {
			return nil, mismatch()
		}
	case "time-millis", "time-micros":
		if t.Kind != types.KindTime {
			return nil, mismatch()
		}
	case "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros":
		if t.Kind != types.KindTimestamp && t.Kind != types.KindTimestampTZ {
			return nil, mismatch()
		}
	}
	if w.kind == avroLong && (t.Kind == types.KindInt16 || t.Kind == types.KindInt32) {
		return nil, mismatch() // the specification promotes, never narrows
	}
	return func(r *avroReader) (types.Datum, *Error) {
		v, err := r.long()
		if err != nil {
			return types.Null, err
		}
		if w.kind == avroInt && (v < math.MinInt32 || v > math.MaxInt32) {
			return types.Null, errRecord("Avro int %d out of range", v)
		}
		d, ok := conv(v)
		if !ok {
			return types.Null, errRecord("value %d is out of range for type %s", v, t)
		}
		return d, nil
	}, nil
}

// decimalDatum converts an Avro decimal (big-endian two's complement
// unscaled value) to a numeric of type t.
func decimalDatum(b []byte, scale int, t types.Type) (types.Datum, *Error) {
	if len(b) > 1024 {
		return types.Null, errRecord("Avro decimal of %d bytes is too large", len(b))
	}
	var d *apd.Decimal
	if len(b) <= 8 {
		var v int64
		if len(b) > 0 && b[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		d = apd.New(v, int32(-scale))
	} else {
		var bi big.Int
		bi.SetBytes(b)
		neg := b[0]&0x80 != 0
		if neg {
			bi.Sub(&bi, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			bi.Neg(&bi)
		}
		d = new(apd.Decimal)
		d.Coeff.SetMathBigInt(&bi)
		d.Negative = neg
		d.Exponent = int32(-scale)
	}
	v, err := types.ApplyNumericTypmod(d, t.Precision, t.Scale)
	if err != nil {
		return types.Null, &Error{Reason: clip(err.Error()), Err: err}
	}
	return types.NewNumeric(v), nil
}

func datumOrErr(d types.Datum, err error) (types.Datum, *Error) {
	if err != nil {
		return types.Null, &Error{Reason: clip(err.Error()), Err: err}
	}
	return d, nil
}

// skip compiles a reader that passes over a value of w.
func (c *avroCompiler) skip(w *avroType) avroSkipFn {
	switch w.kind {
	case avroNull:
		return func(*avroReader) *Error { return nil }
	case avroBoolean:
		return func(r *avroReader) *Error { _, err := r.fixed(1); return err }
	case avroInt, avroLong, avroEnum:
		return func(r *avroReader) *Error { _, err := r.long(); return err }
	case avroFloat:
		return func(r *avroReader) *Error { _, err := r.fixed(4); return err }
	case avroDouble:
		return func(r *avroReader) *Error { _, err := r.fixed(8); return err }
	case avroBytes, avroString:
		return func(r *avroReader) *Error { _, err := r.bytes(); return err }
	case avroFixed:
		n := w.size
		return func(r *avroReader) *Error { _, err := r.fixed(n); return err }
	case avroUnion:
		fns := make([]avroSkipFn, len(w.branches))
		for i, b := range w.branches {
			fns[i] = c.skip(b)
		}
		return func(r *avroReader) *Error {
			i, err := r.long()
			if err != nil {
				return err
			}
			if i < 0 || i >= int64(len(fns)) {
				return errRecord("Avro union branch %d out of range", i)
			}
			return fns[i](r)
		}
	case avroArray, avroMap:
		item := c.skip(w.items)
		isMap := w.kind == avroMap
		minSize := w.items.minSize(0)
		if isMap {
			minSize++
		}
		return func(r *avroReader) *Error {
			if err := r.enter(); err != nil {
				return err
			}
			for {
				n, err := r.blockCount(minSize)
				if err != nil {
					return err
				}
				if n == 0 {
					break
				}
				for ; n > 0; n-- {
					if isMap {
						if _, err := r.bytes(); err != nil {
							return err
						}
					}
					if err := item(r); err != nil {
						return err
					}
				}
			}
			r.depth--
			return nil
		}
	}
	// A record: compiled once, through its slot.
	if slot, ok := c.skips[w]; ok {
		return func(r *avroReader) *Error { return (*slot)(r) }
	}
	slot := new(avroSkipFn)
	c.skips[w] = slot
	fields := make([]avroSkipFn, len(w.fields))
	for i, f := range w.fields {
		fields[i] = c.skip(f.typ)
	}
	*slot = func(r *avroReader) *Error {
		if err := r.enter(); err != nil {
			return err
		}
		for _, f := range fields {
			if err := f(r); err != nil {
				return err
			}
		}
		r.depth--
		return nil
	}
	return *slot
}

// json compiles a reader that appends a value of w as JSON: records and
// maps as objects, arrays as arrays, a union as its branch's value, enums
// as strings, scalars as the JSON format writes their natural SQL type.
func (c *avroCompiler) json(w *avroType) *avroJSONFn {
	if slot, ok := c.jsons[w]; ok {
		return slot
	}
	slot := new(avroJSONFn)
	c.jsons[w] = slot
	switch w.kind {
	case avroRecord:
		names := make([][]byte, len(w.fields))
		fields := make([]*avroJSONFn, len(w.fields))
		for i, f := range w.fields {
			names[i] = types.AppendJSONString(nil, f.name)
			fields[i] = c.json(f.typ)
		}
		*slot = func(r *avroReader, buf []byte) ([]byte, *Error) {
			if err := r.enter(); err != nil {
				return buf, err
			}
			buf = append(buf, '{')
			for i, f := range fields {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = append(buf, names[i]...)
				buf = append(buf, ':')
				var err *Error
				if buf, err = (*f)(r, buf); err != nil {
					return buf, err
				}
			}
			r.depth--
			return append(buf, '}'), nil
		}
	case avroArray, avroMap:
		item := c.json(w.items)
		isMap := w.kind == avroMap
		minSize := w.items.minSize(0)
		if isMap {
			minSize++
		}
		*slot = func(r *avroReader, buf []byte) ([]byte, *Error) {
			if err := r.enter(); err != nil {
				return buf, err
			}
			open, close := byte('['), byte(']')
			if isMap {
				open, close = '{', '}'
			}
			buf = append(buf, open)
			first := true
			for {
				n, err := r.blockCount(minSize)
				if err != nil {
					return buf, err
				}
				if n == 0 {
					break
				}
				for ; n > 0; n-- {
					if !first {
						buf = append(buf, ',')
					}
					first = false
					if isMap {
						k, err := r.bytes()
						if err != nil {
							return buf, err
						}
						buf = types.AppendJSONString(buf, string(k))
						buf = append(buf, ':')
					}
					if buf, err = (*item)(r, buf); err != nil {
						return buf, err
					}
				}
			}
			r.depth--
			return append(buf, close), nil
		}
	case avroUnion:
		fns := make([]*avroJSONFn, len(w.branches))
		for i, b := range w.branches {
			fns[i] = c.json(b)
		}
		*slot = func(r *avroReader, buf []byte) ([]byte, *Error) {
			i, err := r.long()
			if err != nil {
				return buf, err
			}
			if i < 0 || i >= int64(len(fns)) {
				return buf, errRecord("Avro union branch %d out of range", i)
			}
			return (*fns[i])(r, buf)
		}
	case avroNull:
		*slot = func(r *avroReader, buf []byte) ([]byte, *Error) { return append(buf, "null"...), nil }
	default:
		read, err := c.read(w, avroNatural(w))
		if err != nil { // cannot happen: every scalar reads as its natural type
			msg := err.Error()
			*slot = func(r *avroReader, buf []byte) ([]byte, *Error) { return buf, errRecord("%s", msg) }
			break
		}
		*slot = func(r *avroReader, buf []byte) ([]byte, *Error) {
			d, err := read(r)
			if err != nil {
				return buf, err
			}
			return appendJSONValue(buf, d), nil
		}
	}
	return slot
}

// avroNatural is the SQL type an Avro type reads into when nothing else
// is declared: what InferColumns gives a field.
func avroNatural(w *avroType) types.Type {
	switch w.kind {
	case avroBoolean:
		return types.Bool
	case avroInt:
		switch w.logical {
		case "date":
			return types.Date
		case "time-millis":
			return types.Time
		}
		return types.Int32
	case avroLong:
		switch w.logical {
		case "timestamp-millis", "timestamp-micros":
			return types.TimestampTZ
		case "local-timestamp-millis", "local-timestamp-micros":
			return types.Timestamp
		case "time-micros":
			return types.Time
		}
		return types.Int64
	case avroFloat:
		return types.Float32
	case avroDouble:
		return types.Float64
	case avroBytes, avroFixed:
		switch w.logical {
		case "decimal":
			return types.Type{Kind: types.KindNumeric, Precision: int16(min(w.precision, 1000)), Scale: int16(min(w.scale, 1000))}
		case "duration":
			return types.Interval
		}
		return types.Bytea
	case avroString, avroEnum:
		return types.Text
	case avroUnion:
		if t, ok := w.nullable(); ok {
			return avroNatural(t)
		}
	}
	return types.JSONB
}

// avroRecordProg decodes a top-level writer record (or, for a key, a
// writer of any type) into a row.
type avroRecordProg struct {
	steps []avroStep
	fill  []avroFill // columns the writer lacks, and their defaults
}

type avroStep struct {
	name string
	col  int // -1: the writer field is skipped
	read avroReadFn
	skip avroSkipFn
}

type avroFill struct {
	col int
	v   types.Datum
}

func (p *avroRecordProg) run(r *avroReader, row types.Row) *Error {
	for i := range p.steps {
		s := &p.steps[i]
		if s.col < 0 {
			if err := s.skip(r); err != nil {
				return withField(err, s.name)
			}
			continue
		}
		v, err := s.read(r)
		if err != nil {
			return withField(err, s.name)
		}
		row[s.col] = v
	}
	for _, f := range p.fill {
		row[f.col] = f.v
	}
	return nil
}

func withField(err *Error, name string) *Error {
	if err.Field == "" {
		err.Field = name
	}
	return err
}

// readerField is a column as the reader's record field.
type readerField struct {
	col     int
	name    string
	aliases []string
	def     types.Datum
	hasDef  bool
}

// readerFields maps the columns to the reader's fields: from the reader
// schema when there is one (its aliases and defaults), else every column
// a field of its own name, defaulting to null unless NOT NULL.
func readerFields(cols []Column, reader *avroType) ([]readerField, error) {
	var out []readerField
	for i, c := range cols {
		if c.External {
			continue
		}
		// A column the reader schema lacks is its own field: nullable
		// with default null, unless NOT NULL.
		f := readerField{col: i, name: c.Name, hasDef: !c.NotNull}
		if reader != nil && reader.kind == avroRecord {
			for _, rf := range reader.fields {
				if rf.name == c.Name || strings.EqualFold(rf.name, c.Name) {
					f.aliases = rf.aliases
					f.hasDef = false
					if rf.hasDef {
						d, err := defaultDatum(rf.def, rf.typ, c.Type)
						if err != nil {
							return nil, fmt.Errorf("default of field %s: %w", rf.name, err)
						}
						f.def, f.hasDef = d, true
					}
					break
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// defaultDatum converts a field's default (JSON, for the field's type or
// its union's first branch) to a datum of t.
func defaultDatum(v any, rt *avroType, t types.Type) (types.Datum, error) {
	if rt.kind == avroUnion {
		rt = rt.branches[0]
	}
	if v == nil {
		return types.Null, nil
	}
	switch t.Kind {
	case types.KindJSONB:
		return types.ParseJSONB(compactJSON(v))
	case types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		if n, ok := v.(fmt.Stringer); ok {
			i, ok := parseDigitsInt(n.String())
			if !ok {
				return types.Null, fmt.Errorf("invalid %s default %s", t, n)
			}
			unit := int64(1000)
			if strings.HasSuffix(rt.logical, "-micros") {
				unit = 1
			}
			var d types.Datum
			switch t.Kind {
			case types.KindDate:
				days, ok2 := dateFromUnixDays(i)
				d, ok = types.NewDate(days), ok2
			case types.KindTime:
				if rt.kind == avroLong {
					unit = 1
				}
				us, ok2 := timeFromUnit(i, unit)
				d, ok = types.NewTime(us), ok2
			case types.KindTimestamp:
				us, ok2 := timestampFromUnix(i, unit)
				d, ok = types.NewTimestamp(us), ok2
			default:
				us, ok2 := timestampFromUnix(i, unit)
				d, ok = types.NewTimestampTZ(us), ok2
			}
			if !ok {
				return types.Null, fmt.Errorf("default %s out of range for %s", n, t)
			}
			return d, nil
		}
	}
	switch v := v.(type) {
	case string:
		if t.Kind == types.KindBytea || rt.logical == "decimal" {
			// Avro writes a bytes default as the string of its bytes'
			// code points (ISO-8859-1).
			b := make([]byte, 0, len(v))
			for _, r := range v {
				if r > 0xff {
					return types.Null, fmt.Errorf("invalid bytes default")
				}
				b = append(b, byte(r))
			}
			if rt.logical == "decimal" && t.Kind == types.KindNumeric {
				d, err := decimalDatum(b, rt.scale, t)
				if err != nil {
					return types.Null, err
				}
				return d, nil
			}
			return types.NewBytea(b), nil
		}
		return types.ParseText(t, v, nil)
	case bool:
		if t.Kind != types.KindBool {
			return types.Null, fmt.Errorf("boolean default for a %s column", t)
		}
		return types.NewBool(v), nil
	case fmt.Stringer: // json.Number
		return types.ParseText(t, v.String(), nil)
	}
	return types.Null, fmt.Errorf("default %s does not fit a %s column", compactJSON(v), t)
}

// compileRecord resolves writer schema w against the columns.
func compileRecord(c *avroCompiler, w *avroType, cols []Column, reader *avroType) (*avroRecordProg, error) {
	rfs, err := readerFields(cols, reader)
	if err != nil {
		return nil, err
	}
	prog := &avroRecordProg{}
	if w.kind != avroRecord {
		// A key (or value) that is one primitive: it is the one column.
		if len(rfs) != 1 {
			return nil, fmt.Errorf("Avro %s is not a record, and there are %d columns to fill", w, len(rfs))
		}
		read, err := c.read(w, cols[rfs[0].col].Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", rfs[0].name, err)
		}
		prog.steps = []avroStep{{name: rfs[0].name, col: rfs[0].col, read: read}}
		return prog, nil
	}
	matched := make([]bool, len(rfs))
	for _, wf := range w.fields {
		j := matchField(rfs, wf.name)
		if j < 0 || matched[j] {
			prog.steps = append(prog.steps, avroStep{name: wf.name, col: -1, skip: c.skip(wf.typ)})
			continue
		}
		matched[j] = true
		read, err := c.read(wf.typ, cols[rfs[j].col].Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", wf.name, err)
		}
		prog.steps = append(prog.steps, avroStep{name: wf.name, col: rfs[j].col, read: read})
	}
	for j, f := range rfs {
		if matched[j] {
			continue
		}
		if !f.hasDef {
			return nil, fmt.Errorf("the writer's record %s has no field %s, and the reader has no default for it", w.name, f.name)
		}
		if !f.def.IsNull() {
			prog.fill = append(prog.fill, avroFill{col: f.col, v: f.def})
		}
	}
	return prog, nil
}

// matchField finds the reader field of a writer field: by name, by the
// reader field's aliases, then by name ignoring case (SQL folds names to
// lower case; producers write them as they like).
func matchField(rfs []readerField, name string) int {
	for j, f := range rfs {
		if f.name == name {
			return j
		}
	}
	for j, f := range rfs {
		for _, a := range f.aliases {
			if a == name {
				return j
			}
		}
	}
	for j, f := range rfs {
		if strings.EqualFold(f.name, name) {
			return j
		}
	}
	return -1
}

// avroDecoder is the Avro format of a key or value: Confluent's wire
// format, the writer schema fetched by id from the registry, resolved
// against the columns (and the reader schema, when given) once per id.
type avroDecoder struct {
	cols    []Column
	reader  *avroType
	progs   programs[*avroRecordProg]
	r       avroReader
	notNull []int
}

func newAvroDecoder(cols []Column, reg SchemaRegistry, readerSchema string) (*avroDecoder, error) {
	d := &avroDecoder{cols: cols}
	d.progs = newPrograms(reg, "read into the columns", func(w *avroType) (*avroRecordProg, error) {
		return compileRecord(newAvroCompiler(), w, d.cols, d.reader)
	})
	if readerSchema != "" {
		rt, err := parseAvroSchema(readerSchema)
		if err != nil {
			return nil, fmt.Errorf("format: reader schema: %w", err)
		}
		if _, err := readerFields(cols, rt); err != nil {
			return nil, fmt.Errorf("format: reader schema: %w", err)
		}
		d.reader = rt
	}
	for i, c := range cols {
		if c.NotNull && !c.External {
			d.notNull = append(d.notNull, i)
		}
	}
	return d, nil
}

func (d *avroDecoder) decode(ctx context.Context, b []byte, row types.Row) error {
	defer d.r.release()
	id, body, bad := splitWire(b)
	if bad != nil {
		return bad
	}
	prog, err := d.progs.get(ctx, id)
	if err != nil {
		return err
	}
	d.r.b, d.r.i, d.r.depth, d.r.freeItems = body, 0, 0, 0
	if err := prog.run(&d.r, row); err != nil {
		return err
	}
	if d.r.i != len(body) {
		return errRecord("%d bytes left after the Avro record (schema id %d)", len(body)-d.r.i, id)
	}
	for _, c := range d.notNull {
		if row[c].IsNull() {
			return errNotNull(d.cols[c].Name)
		}
	}
	return nil
}
