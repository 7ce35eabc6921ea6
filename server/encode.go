package server

import (
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// encoder holds a connection's scratch space for encoding rows, so that a
// DataRow costs no allocation once the buffers have grown.
type encoder struct {
	buf  []byte
	ends []int
	vals [][]byte
	row  pgproto3.DataRow
}

// rowDescription describes cols; formats are per column (nil: all text).
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		f := pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: uint16(col.Attr),
			DataTypeOID:          col.Type.OID(),
			DataTypeSize:         col.Type.Size(),
			TypeModifier:         col.Type.Modifier(),
		}
		if formats != nil {
			f.Format = formats[i]
		}
		fields[i] = f
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// dataRow encodes row as a DataRow. formats are per column (nil: all text);
// loc is the session's TimeZone for timestamptz text.
func (e *encoder) dataRow(row types.Row, formats []int16, loc *time.Location) (*pgproto3.DataRow, error) {
	if e.buf == nil {
		e.buf = make([]byte, 0, 1024)
	}
	buf := e.buf[:0]
	ends := e.ends[:0]
	for i, d := range row {
		if d.IsNull() {
			ends = append(ends, -1)
			continue
		}
		if formats != nil && i < len(formats) && formats[i] == pgproto3.BinaryFormat {
			var err error
			if buf, err = types.AppendBinary(buf, d); err != nil {
				e.buf, e.ends = buf, ends
				return nil, err
			}
		} else {
			buf = types.AppendText(buf, d, loc)
		}
		ends = append(ends, len(buf))
	}
	// Slice only now: appending may have moved buf.
	vals := e.vals[:0]
	start := 0
	for _, end := range ends {
		if end < 0 {
			vals = append(vals, nil)
			continue
		}
		vals = append(vals, buf[start:end:end])
		start = end
	}
	e.buf, e.ends, e.vals = buf, ends, vals
	e.row.Values = vals
	return &e.row, nil
}

// resolveFormats expands a Bind's result format codes to one per column:
// none means all text, one applies to all. It returns nil for all text.
func resolveFormats(codes []int16, ncols int) ([]int16, *sqlerr.Error) {
	for _, f := range codes {
		if f != pgproto3.TextFormat && f != pgproto3.BinaryFormat {
			return nil, sqlerr.New(sqlerr.ProtocolViolation, "unsupported format code: %d", f)
		}
	}
	switch {
	case len(codes) == 0:
		return nil, nil
	case len(codes) == 1:
		if codes[0] == pgproto3.TextFormat {
			return nil, nil
		}
		out := make([]int16, ncols)
		for i := range out {
			out[i] = codes[0]
		}
		return out, nil
	case len(codes) == ncols:
		return append([]int16(nil), codes...), nil
	}
	return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d result formats but query has %d columns", len(codes), ncols)
}

// decodeParams decodes a Bind's parameter values with the statement's
// parameter types. values alias the message buffer and are not retained.
func decodeParams(ptypes []types.Type, formats []int16, values [][]byte, stmtName string, loc *time.Location) ([]types.Datum, *sqlerr.Error) {
	if len(values) != len(ptypes) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(values), stmtName, len(ptypes))
	}
	if len(formats) > 1 && len(formats) != len(values) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", len(formats), len(values))
	}
	params := make([]types.Datum, len(values))
	for i, v := range values {
		t := ptypes[i]
		if v == nil {
			params[i] = types.NullOf(t.Kind)
			continue
		}
		format := pgproto3.TextFormat
		if len(formats) == 1 {
			format = int(formats[0])
		} else if len(formats) > 1 {
			format = int(formats[i])
		}
		var d types.Datum
		var err error
		switch format {
		case pgproto3.TextFormat:
			d, err = types.ParseText(t, string(v), loc)
		case pgproto3.BinaryFormat:
			d, err = types.DecodeBinary(t, v)
		default:
			return nil, sqlerr.New(sqlerr.ProtocolViolation, "unsupported format code: %d", format)
		}
		if err != nil {
			e := *sqlerr.From(err)
			if e.Code == sqlerr.InternalError {
				e.Code = sqlerr.InvalidTextRepresentation
			}
			return nil, &e
		}
		params[i] = d
	}
	return params, nil
}
