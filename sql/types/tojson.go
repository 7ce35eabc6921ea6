package types

import (
	"bytes"
	"time"
)

// AppendJSON appends d as PostgreSQL's to_json renders a value: booleans
// and numbers as JSON literals (NaN and the infinities, which JSON lacks,
// as strings), JSONB as the JSON it holds, timestamps as ISO 8601 strings
// ("2024-01-02T03:04:05.5", with a "+00:00" offset for TIMESTAMPTZ, shown
// in loc; nil = UTC), NULL as null, and everything else as the JSON string
// of its text (BYTEA as "\\x0102").
func AppendJSON(buf []byte, d Datum, loc *time.Location) []byte {
	if !d.ok {
		return append(buf, "null"...)
	}
	switch d.k {
	case KindBool:
		if d.i != 0 {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case KindInt16, KindInt32, KindInt64, KindFloat32, KindFloat64, KindNumeric:
		start := len(buf)
		buf = AppendText(buf, d, nil)
		if s := buf[start:]; s[len(s)-1] == 'N' || s[len(s)-1] == 'y' { // NaN, [-]Infinity
			return AppendJSONString(buf[:start], string(s))
		}
		return buf
	case KindJSONB:
		return append(buf, d.s...)
	case KindTimestamp, KindTimestampTZ:
		var tmp [48]byte
		s := AppendText(tmp[:0], d, loc)
		if i := bytes.IndexByte(s, ' '); i > 0 && !bytes.HasSuffix(s, []byte(" BC")) {
			s[i] = 'T'
		}
		if n := len(s); d.k == KindTimestampTZ && n >= 3 && (s[n-3] == '+' || s[n-3] == '-') {
			s = append(s, ":00"...) // +HH to ISO 8601's +HH:MM
		}
		return AppendJSONString(buf, string(s))
	case KindText, KindUnknown:
		return AppendJSONString(buf, d.s)
	}
	var tmp [64]byte
	return AppendJSONString(buf, string(AppendText(tmp[:0], d, loc)))
}
