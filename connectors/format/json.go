package format

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// jsonRow decodes JSON objects into rows of a schema, matching fields to
// columns by name. It is the JSON format's value decoder and the row part
// of the Debezium envelope.
type jsonRow struct {
	cols []Column
	// names are the columns' names ("" for External ones); byName maps
	// them to indexes when there are too many to compare one by one.
	names   []string
	byName  map[string]int
	notNull []int
	scratch []byte
	// conv, when set, says per column how a value stands for its type, as
	// a Kafka Connect schema does (Debezium's wrapped events).
	conv []fieldConv
}

// fieldConv is how one field is written, from its Connect schema.
type fieldConv struct {
	// nsPerUnit is the unit of a number for a TIMESTAMP or TIME, in
	// nanoseconds (0: milliseconds).
	nsPerUnit int64
	// decimal: a NUMERIC written as base64 bytes of its unscaled value
	// (Connect's Decimal), at scale.
	decimal bool
	scale   int
}

// manyColumns is where looking a name up in a map beats comparing it
// with each column's.
const manyColumns = 16

func newJSONRow(cols []Column) *jsonRow {
	d := &jsonRow{cols: cols, names: make([]string, len(cols))}
	if len(cols) > manyColumns {
		d.byName = map[string]int{}
	}
	for i, c := range cols {
		if c.External {
			continue
		}
		d.names[i] = c.Name
		if d.byName != nil {
			d.byName[c.Name] = i
		}
		if c.NotNull {
			d.notNull = append(d.notNull, i)
		}
	}
	return d
}

// column finds the column of a field: the exact name, else the name
// ignoring case; -1 when none. next is the column expected next (fields
// usually come in column order), tried first.
func (d *jsonRow) column(key string, esc bool, next int) int {
	if esc {
		var err *Error
		d.scratch, err = unescape(d.scratch[:0], key)
		if err != nil {
			return -1
		}
		key = string(d.scratch) // one allocation, only for escaped names
	}
	if key == "" {
		return -1 // External columns have no name here; SQL names are never empty
	}
	if next < len(d.names) && d.names[next] == key {
		return next
	}
	if d.byName != nil {
		if i, ok := d.byName[key]; ok {
			return i
		}
	} else {
		for i, name := range d.names {
			if len(name) == len(key) && name == key {
				return i
			}
		}
	}
	for i, name := range d.names {
		// Names that differ in case only have the same length (but for
		// rare non-ASCII letters, which must then match exactly).
		if len(name) == len(key) && name != "" && strings.EqualFold(name, key) {
			return i
		}
	}
	return -1
}

// object decodes the object at p into row (which holds NULLs): fields
// matched to columns, others skipped, missing ones left NULL. NOT NULL is
// checked by the caller (checkNotNull): a Debezium before image may lack
// the columns outside its key.
func (d *jsonRow) object(p *jsonScanner, row types.Row, depth int) *Error {
	if p.peek() != '{' {
		return errRecord("expected a JSON object, found %s", jsonKindAt(p))
	}
	next := 0
	err := p.members(func(key string, esc bool) *Error {
		col := d.column(key, esc, next)
		if col < 0 {
			_, err := p.skip(depth + 1)
			return err
		}
		next = col + 1
		v, err := d.value(p, col, depth+1)
		if err != nil {
			return err
		}
		row[col] = v
		return nil
	})
	return err
}

func (d *jsonRow) checkNotNull(row types.Row) *Error {
	for _, c := range d.notNull {
		if row[c].IsNull() {
			return errNotNull(d.cols[c].Name)
		}
	}
	return nil
}

// jsonKindAt names the kind of the JSON value at p, for errors.
func jsonKindAt(p *jsonScanner) string {
	switch p.peek() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	if c := p.s[p.i]; c == '-' || isDigit(c) {
		return "a number"
	}
	return "invalid JSON"
}

// value decodes the value at p into a datum of column col's type.
//
// The rules are PostgreSQL's json_populate_record: a scalar goes through
// the column type's input function as its text (a string unescaped, a
// number as written, true/false), so "12" fills a BIGINT and 12 a TEXT,
// while 12.5 into an INTEGER or true into a BIGINT is an error. null is
// NULL. An object or array fills a JSONB column (any value does, as that
// JSON value) or a TEXT column (its JSON text) and is an error anywhere
// else. Beyond PostgreSQL: a number fills a TIMESTAMP/TIMESTAMPTZ as
// milliseconds since 1970-01-01 UTC, a DATE as days since 1970-01-01 and
// a TIME as milliseconds since midnight; a TIMESTAMPTZ without an offset
// is UTC.
func (d *jsonRow) value(p *jsonScanner, col, depth int) (types.Datum, *Error) {
	c := &d.cols[col]
	t := c.Type
	switch p.peek() {
	case 'n':
		if err := p.literal("null"); err != nil {
			return types.Null, err
		}
		return types.Null, nil
	case '"':
		raw, esc, err := p.str()
		if err != nil {
			return types.Null, err
		}
		text, fresh := raw, false
		if esc {
			d.scratch, err = unescape(d.scratch[:0], raw)
			if err != nil {
				err.Field = c.Name
				return types.Null, err
			}
			text, fresh = string(d.scratch), true
		}
		if t.Kind == types.KindJSONB {
			return fieldDatum(c.Name)(types.ParseJSONB(string(types.AppendJSONString(nil, text))))
		}
		if d.conv != nil && d.conv[col].decimal && t.Kind == types.KindNumeric {
			b, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				return types.Null, errField(c.Name, "invalid base64 in a Connect decimal")
			}
			v, e := decimalDatum(b, d.conv[col].scale, t)
			if e != nil {
				return types.Null, withField(e, c.Name)
			}
			return v, nil
		}
		return fieldDatum(c.Name)(parseText(t, text, fresh))
	case '{', '[':
		span, err := p.skip(depth)
		if err != nil {
			return types.Null, err
		}
		if t.Kind == types.KindJSONB || t.Kind == types.KindText {
			return fieldDatum(c.Name)(parseText(t, span, false))
		}
		kind := "an object"
		if span[0] == '[' {
			kind = "an array"
		}
		return types.Null, errField(c.Name, "expected %s, found %s", t, kind)
	case 't', 'f':
		w := "true"
		if p.peek() == 'f' {
			w = "false"
		}
		if err := p.literal(w); err != nil {
			return types.Null, err
		}
		if t.Kind == types.KindJSONB {
			return types.NewJSONB(w), nil
		}
		return fieldDatum(c.Name)(types.ParseText(t, w, nil))
	}
	num, err := p.number()
	if err != nil {
		return types.Null, err
	}
	switch t.Kind {
	case types.KindInt64:
		if v, ok := parseDigitsInt(num); ok {
			return types.NewInt64(v), nil
		}
	case types.KindFloat64:
		// JSON's number syntax is a subset of float8in's: only overflow
		// and underflow need its checks, on the slow path.
		if f, err := strconv.ParseFloat(num, 64); err == nil && f != 0 {
			return types.NewFloat64(f), nil
		}
	case types.KindTimestamp, types.KindTimestampTZ, types.KindDate, types.KindTime:
		v, ok := parseDigitsInt(num)
		if ok {
			ns := int64(1_000_000)
			if d.conv != nil && d.conv[col].nsPerUnit != 0 {
				ns = d.conv[col].nsPerUnit
			}
			switch t.Kind {
			case types.KindTimestamp:
				v, ok = timestampFromUnixNanos(v, ns)
				return types.NewTimestamp(v), okOr(ok, c.Name, "%s is out of range for type %s", num, t)
			case types.KindTimestampTZ:
				v, ok = timestampFromUnixNanos(v, ns)
				return types.NewTimestampTZ(v), okOr(ok, c.Name, "%s is out of range for type %s", num, t)
			case types.KindDate:
				v, ok = dateFromUnixDays(v)
				return types.NewDate(v), okOr(ok, c.Name, "%s is out of range for type %s", num, t)
			default:
				if ns < 1000 {
					v, ns = v/(1000/ns), 1000
				}
				v, ok = timeFromUnit(v, ns/1000)
				return types.NewTime(v), okOr(ok, c.Name, "%s is out of range for type %s", num, t)
			}
		}
		return types.Null, errField(c.Name, "invalid number %s for type %s: expected an integer", num, t)
	}
	return fieldDatum(c.Name)(parseText(t, num, false))
}

func okOr(ok bool, field, format string, args ...any) *Error {
	if ok {
		return nil
	}
	return errField(field, format, args...)
}

// fieldDatum turns an input function's result into the decoder's.
func fieldDatum(field string) func(types.Datum, error) (types.Datum, *Error) {
	return func(v types.Datum, err error) (types.Datum, *Error) {
		if err != nil {
			return types.Null, errValue(field, err)
		}
		return v, nil
	}
}

// connectUnits are the Connect (and Debezium) logical types of times
// given as numbers, and their units in nanoseconds.
var connectUnits = map[string]int64{
	"org.apache.kafka.connect.data.Timestamp": 1_000_000,
	"org.apache.kafka.connect.data.Time":      1_000_000,
	"io.debezium.time.Timestamp":              1_000_000,
	"io.debezium.time.Time":                   1_000_000,
	"io.debezium.time.MicroTimestamp":         1_000,
	"io.debezium.time.MicroTime":              1_000,
	"io.debezium.time.NanoTimestamp":          1,
	"io.debezium.time.NanoTime":               1,
}

// useConnectSchema sets conv from a Connect schema: the struct named
// field ("after", else "before") of an envelope, or the row's own struct.
// A schema it cannot read leaves the defaults.
func (d *jsonRow) useConnectSchema(text string) {
	type field struct {
		Field      string            `json:"field"`
		Name       string            `json:"name"`
		Parameters map[string]string `json:"parameters"`
		Fields     []field           `json:"fields"`
	}
	d.conv = nil
	var s field
	if json.Unmarshal([]byte(text), &s) != nil {
		return
	}
	row := s.Fields
	for _, f := range s.Fields {
		if f.Field == "after" || f.Field == "before" && row == nil {
			row = f.Fields
		}
		if f.Field == "after" {
			break
		}
	}
	conv := make([]fieldConv, len(d.cols))
	for _, f := range row {
		col := d.column(f.Field, false, 0)
		if col < 0 {
			continue
		}
		if ns, ok := connectUnits[f.Name]; ok {
			conv[col].nsPerUnit = ns
		}
		if f.Name == "org.apache.kafka.connect.data.Decimal" {
			if sc, err := strconv.Atoi(f.Parameters["scale"]); err == nil && sc >= 0 && sc <= 1000 {
				conv[col].decimal, conv[col].scale = true, sc
			}
		}
	}
	d.conv = conv
}
