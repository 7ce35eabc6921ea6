package format

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// csvDecoder is the CSV value format: one record is one line of fields in
// column order (External columns take no field), quoted per RFC 4180 (a
// quoted field may hold commas, line breaks and "" for a quote). As in
// PostgreSQL's COPY ... CSV, an empty unquoted field is NULL and a quoted
// empty field ("") the empty string; every other field goes through its
// column type's input function. A trailing line break is ignored.
type csvDecoder struct {
	cols    []Column
	fields  []int // column of each field
	notNull []int
	scratch []byte
}

func newCSVDecoder(cols []Column) *csvDecoder {
	d := &csvDecoder{cols: cols}
	for i, c := range cols {
		if c.External {
			continue
		}
		d.fields = append(d.fields, i)
		if c.NotNull {
			d.notNull = append(d.notNull, i)
		}
	}
	return d
}

func (d *csvDecoder) decode(_ context.Context, b []byte, row types.Row) error {
	s := view(b)
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
		if n > 1 && s[n-2] == '\r' {
			s = s[:n-2]
		}
	}
	field := 0
	for i := 0; ; {
		if field >= len(d.fields) {
			return errRecord("CSV record has more than the %d fields of its columns", len(d.fields))
		}
		col := d.fields[field]
		var text string
		fresh, quoted := false, false
		if i < len(s) && s[i] == '"' {
			quoted = true
			i++
			start := i
			esc := false
			for {
				if i >= len(s) {
					return errField(d.cols[col].Name, "unterminated CSV quoted field")
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						esc = true
						i += 2
						continue
					}
					break
				}
				i++
			}
			text = s[start:i]
			i++
			if i < len(s) && s[i] != ',' {
				return errField(d.cols[col].Name, "unexpected character after a CSV quoted field")
			}
			if esc {
				d.scratch = d.scratch[:0]
				for j := 0; j < len(text); j++ {
					d.scratch = append(d.scratch, text[j])
					if text[j] == '"' {
						j++
					}
				}
				text, fresh = string(d.scratch), true
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' {
				if s[i] == '"' {
					return errField(d.cols[col].Name, "unexpected quote in an unquoted CSV field")
				}
				i++
			}
			text = s[start:i]
		}
		if quoted || text != "" {
			v, err := parseText(d.cols[col].Type, text, fresh)
			if err != nil {
				return errValue(d.cols[col].Name, err)
			}
			row[col] = v
		}
		field++
		if i >= len(s) {
			break
		}
		i++ // the comma
	}
	if field < len(d.fields) {
		return errRecord("CSV record has %d fields, its columns %d", field, len(d.fields))
	}
	for _, c := range d.notNull {
		if row[c].IsNull() {
			return errNotNull(d.cols[c].Name)
		}
	}
	return nil
}
