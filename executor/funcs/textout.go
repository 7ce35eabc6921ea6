package funcs

import (
	"strconv"
	"time"

	"github.com/weirdb/weir/sql/types"
)

// appendText appends d as text the way a cast to text writes it (used by
// || and concat): PostgreSQL's output function, except that booleans read
// "true"/"false" (bool::text), not "t"/"f". NULL appends nothing.
func appendText(buf []byte, d types.Datum, loc *time.Location) []byte {
	if d.IsNull() {
		return buf
	}
	if d.Kind() == types.KindBool {
		if d.Bool() {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	}
	return types.AppendText(buf, d, loc)
}

// datumText is appendText into a new string.
func datumText(d types.Datum, loc *time.Location) string {
	return string(appendText(nil, d, loc))
}

func append0(buf []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

// appendOffset writes a UTC offset as PostgreSQL does: +HH, +HH:MM or
// +HH:MM:SS.
func appendOffset(buf []byte, off int) []byte {
	if off < 0 {
		buf = append(buf, '-')
		off = -off
	} else {
		buf = append(buf, '+')
	}
	buf = append0(buf, int64(off/3600), 2)
	if off%3600 != 0 {
		buf = append(buf, ':')
		buf = append0(buf, int64(off/60%60), 2)
		if off%60 != 0 {
			buf = append(buf, ':')
			buf = append0(buf, int64(off%60), 2)
		}
	}
	return buf
}
