package funcs

import (
	"math"
	"strconv"
	"time"

	"github.com/weirdb/weir/sql/types"
)

// appendText appends d's PostgreSQL text output (DateStyle ISO,
// IntervalStyle postgres, extra_float_digits 1) to buf. NULL appends
// nothing. It is the package's own formatter, used by || and concat and
// kept in step with types.AppendText.
func appendText(buf []byte, d types.Datum, loc *time.Location) []byte {
	if d.IsNull() {
		return buf
	}
	switch d.Kind() {
	case types.KindBool:
		if d.Bool() {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return strconv.AppendInt(buf, d.Int(), 10)
	case types.KindFloat32:
		return appendFloat(buf, d.Float(), 32)
	case types.KindFloat64:
		return appendFloat(buf, d.Float(), 64)
	case types.KindNumeric:
		return appendNumeric(buf, d)
	case types.KindBytea:
		const hex = "0123456789abcdef"
		buf = append(buf, '\\', 'x')
		s := d.Str()
		for i := 0; i < len(s); i++ {
			buf = append(buf, hex[s[i]>>4], hex[s[i]&15])
		}
		return buf
	case types.KindDate:
		return appendDate(buf, d.Days())
	case types.KindTime:
		return appendTime(buf, d.Micros())
	case types.KindTimestamp:
		return appendTimestamp(buf, d.Micros(), false, nil)
	case types.KindTimestampTZ:
		return appendTimestamp(buf, d.Micros(), true, loc)
	case types.KindInterval:
		return appendInterval(buf, d)
	}
	return append(buf, d.Str()...)
}

// datumText is appendText into a new string.
func datumText(d types.Datum, loc *time.Location) string {
	return string(appendText(nil, d, loc))
}

func appendNumeric(buf []byte, d types.Datum) []byte {
	x := d.Decimal()
	if isNaN(x) {
		return append(buf, "NaN"...)
	}
	if x.Form == 1 { // apd.Infinite
		if x.Negative {
			return append(buf, "-Infinity"...)
		}
		return append(buf, "Infinity"...)
	}
	return append(buf, x.Text('f')...)
}

// appendFloat formats like PostgreSQL's shortest-exact float output:
// fixed notation for decimal exponents in [-4, 15) (float8) or [-4, 6)
// (float4), else d.ddde+XX.
func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(buf, "-0"...)
		}
		return append(buf, '0')
	}
	limit := 15
	if bits == 32 {
		limit = 6
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits)
	// exponent after 'e'
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	if exp >= -4 && exp < limit {
		return strconv.AppendFloat(buf, f, 'f', -1, bits)
	}
	return append(buf, e...)
}

func append0(buf []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

// appendYMD writes y-m-d; bc reports whether " BC" must follow.
func appendYMD(buf []byte, y int64, m, d int) ([]byte, bool) {
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	buf = append0(buf, y, 4)
	buf = append(buf, '-')
	buf = append0(buf, int64(m), 2)
	buf = append(buf, '-')
	buf = append0(buf, int64(d), 2)
	return buf, bc
}

func appendDate(buf []byte, days int64) []byte {
	switch days {
	case math.MaxInt32:
		return append(buf, "infinity"...)
	case math.MinInt32:
		return append(buf, "-infinity"...)
	}
	y, m, d := civilFromDays(days)
	buf, bc := appendYMD(buf, y, m, d)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendHMS writes hh:mm:ss[.ffffff] with trailing zeros of the fraction
// dropped.
func appendHMS(buf []byte, h int64, m, s, us int) []byte {
	buf = append0(buf, h, 2)
	buf = append(buf, ':')
	buf = append0(buf, int64(m), 2)
	buf = append(buf, ':')
	buf = append0(buf, int64(s), 2)
	return appendFrac(buf, us)
}

func appendFrac(buf []byte, us int) []byte {
	if us == 0 {
		return buf
	}
	var tmp [6]byte
	for i := 5; i >= 0; i-- {
		tmp[i] = byte('0' + us%10)
		us /= 10
	}
	n := 6
	for n > 0 && tmp[n-1] == '0' {
		n--
	}
	buf = append(buf, '.')
	return append(buf, tmp[:n]...)
}

func appendTime(buf []byte, us int64) []byte {
	return appendHMS(buf, us/usPerHour, int(us/usPerMin%60), int(us/usPerSec%60), int(us%usPerSec))
}

func appendTimestamp(buf []byte, us int64, tz bool, loc *time.Location) []byte {
	switch us {
	case tsInfinity:
		return append(buf, "infinity"...)
	case tsNegInfinity:
		return append(buf, "-infinity"...)
	}
	var t tm
	if tz {
		t = tmFromTSTZ(us, loc)
	} else {
		t = tmFromTS(us)
	}
	buf, bc := appendYMD(buf, t.year, t.month, t.day)
	buf = append(buf, ' ')
	buf = appendHMS(buf, int64(t.hour), t.min, t.sec, t.usec)
	if tz {
		buf = appendOffset(buf, t.offset)
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
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

// appendInterval writes an interval in IntervalStyle postgres:
// "1 year 2 mons -3 days +04:05:06.5".
func appendInterval(buf []byte, d types.Datum) []byte {
	months, days, us := d.IntervalParts()
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			buf = append(buf, ' ')
		}
		if isBefore && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	if isZero || us != 0 {
		if !isZero {
			buf = append(buf, ' ')
		}
		if us < 0 {
			buf = append(buf, '-')
			if us == math.MinInt64 {
				us++ // cannot negate; off by a microsecond at the extreme
			}
			us = -us
		} else if isBefore {
			buf = append(buf, '+')
		}
		buf = appendHMS(buf, us/usPerHour, int(us/usPerMin%60), int(us/usPerSec%60), int(us%usPerSec))
	}
	return buf
}
