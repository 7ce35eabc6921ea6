package format

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/weirdb/weir/sql/types"
)

// JSONEncoder writes rows as JSON objects, one member per column (External
// columns left out), in column order. Values are written as PostgreSQL's
// to_json writes them: numbers as numbers (NUMERIC exactly, with its
// scale; NaN and infinities, which JSON lacks, as strings), timestamps
// as ISO 8601 strings ("2024-01-02T03:04:05.5", with "+00:00" for
// TIMESTAMPTZ, in UTC), BYTEA as "\\x..." hex, INTERVAL as its text,
// JSONB as the JSON it holds, NULL as null.
type JSONEncoder struct {
	cols  []int
	names [][]byte // JSON-quoted column names
}

// NewJSONEncoder returns the encoder of cols.
func NewJSONEncoder(cols []Column) *JSONEncoder {
	e := &JSONEncoder{}
	for i, c := range cols {
		if c.External {
			continue
		}
		e.cols = append(e.cols, i)
		e.names = append(e.names, types.AppendJSONString(nil, c.Name))
	}
	return e
}

// AppendRow appends row as a JSON object to buf.
func (e *JSONEncoder) AppendRow(buf []byte, row types.Row) ([]byte, error) {
	buf = append(buf, '{')
	for j, c := range e.cols {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.names[j]...)
		buf = append(buf, ':')
		buf = appendJSONValue(buf, row[c])
	}
	return append(buf, '}'), nil
}

// appendJSONValue appends d as a JSON value (see JSONEncoder).
func appendJSONValue(buf []byte, d types.Datum) []byte {
	if d.IsNull() {
		return append(buf, "null"...)
	}
	switch d.Kind() {
	case types.KindBool:
		if d.Bool() {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return strconv.AppendInt(buf, d.Int(), 10)
	case types.KindFloat32, types.KindFloat64:
		f := d.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return types.AppendJSONString(buf, types.TextString(d, nil))
		}
		return types.AppendText(buf, d, nil)
	case types.KindNumeric:
		if d.Decimal().Form != apd.Finite { // NaN, ±Infinity
			return types.AppendJSONString(buf, types.TextString(d, nil))
		}
		return types.AppendText(buf, d, nil)
	case types.KindJSONB:
		return append(buf, d.Str()...)
	case types.KindText, types.KindUnknown:
		return types.AppendJSONString(buf, d.Str())
	case types.KindTimestamp, types.KindTimestampTZ:
		var tmp [48]byte
		t := types.AppendText(tmp[:0], d, nil)
		if n := indexSpace(t); n > 0 && n+1 < len(t) && isDigit(t[n+1]) {
			t[n] = 'T' // ISO 8601, as to_json writes it
			if d.Kind() == types.KindTimestampTZ && len(t) >= 3 && t[len(t)-3] == '+' {
				t = append(t, ":00"...)
			}
		}
		return types.AppendJSONString(buf, string(t))
	}
	var tmp [64]byte
	return types.AppendJSONString(buf, string(types.AppendText(tmp[:0], d, nil)))
}

func indexSpace(b []byte) int {
	for i, c := range b {
		if c == ' ' {
			return i
		}
	}
	return -1
}
