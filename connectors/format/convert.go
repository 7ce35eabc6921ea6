package format

import (
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/weirdb/weir/sql/types"
)

// Numbers standing for dates and times, as Kafka's producers write them:
// a timestamp is milliseconds since 1970-01-01 UTC, a date days since
// 1970-01-01, a time of day milliseconds since midnight (Kafka Connect's
// and ksqlDB's conventions; Avro's logical types say their unit).

// timestampFromUnix converts a count of units (1000 for milliseconds, 1
// for microseconds) since 1970 into Weir's microseconds since 2000.
func timestampFromUnix(v, unit int64) (int64, bool) {
	switch v { // how unixFromTimestamp writes the infinities
	case math.MaxInt64:
		return types.TimestampInfinity, true
	case math.MinInt64:
		return types.TimestampNegInfinity, true
	}
	if v > math.MaxInt64/unit || v < math.MinInt64/unit {
		return 0, false
	}
	us := v*unit + types.UnixEpochMicros
	if (v > 0 && us < types.UnixEpochMicros) || us < types.MinTimestamp || us >= types.MaxTimestampExcl {
		return 0, false
	}
	return us, true
}

// unixFromTimestamp is the inverse of timestampFromUnix, truncating
// toward minus infinity; infinities map to the extremes of int64.
func unixFromTimestamp(us, unit int64) int64 {
	switch us {
	case types.TimestampInfinity:
		return math.MaxInt64
	case types.TimestampNegInfinity:
		return math.MinInt64
	}
	d := us - types.UnixEpochMicros
	q := d / unit
	if d%unit < 0 {
		q--
	}
	return q
}

// timestampFromUnixNanos is timestampFromUnix for a unit given in
// nanoseconds (1 for nanoseconds, 1000 micro, 1e6 milli), rounding
// nanoseconds down to microseconds.
func timestampFromUnixNanos(v, ns int64) (int64, bool) {
	if ns < 1000 {
		div := 1000 / ns
		q := v / div
		if v%div < 0 {
			q--
		}
		return timestampFromUnix(q, 1)
	}
	return timestampFromUnix(v, ns/1000)
}

func dateFromUnixDays(v int64) (int64, bool) {
	switch v { // how encoders write the infinities
	case math.MaxInt32:
		return types.DateInfinity, true
	case math.MinInt32:
		return types.DateNegInfinity, true
	}
	d := v + types.UnixEpochDays
	if v > math.MaxInt32 || v < math.MinInt32 || d < types.MinDate || d >= types.MaxDateExcl {
		return 0, false
	}
	return d, true
}

func timeFromUnit(v, unit int64) (int64, bool) {
	if v < 0 || v > types.MicrosPerDay/unit {
		return 0, false
	}
	return v * unit, true
}

// parseDigitsInt parses an optionally negative decimal integer; ok is
// false for anything else (fractions, exponents) or overflow.
func parseDigitsInt(s string) (int64, bool) {
	neg := false
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if v < (math.MinInt64+d)/10 {
			return 0, false
		}
		v = v*10 - d // accumulate negative so that MinInt64 fits
	}
	if !neg {
		if v == math.MinInt64 {
			return 0, false
		}
		v = -v
	}
	return v, true
}

// parseText runs the input function of t on s. fresh says s is already a
// private copy; otherwise it is a view of the record (see view), and the
// kinds whose datums hold a string get a copy, so that a kept datum
// neither aliases the caller's buffer nor pins the whole record.
func parseText(t types.Type, s string, fresh bool) (types.Datum, error) {
	if !fresh {
		switch t.Kind {
		case types.KindText, types.KindBytea, types.KindJSONB, types.KindUnknown:
			s = strings.Clone(s)
		}
	}
	if v, ok := unboundedText(t, s); ok {
		return v, nil
	}
	return types.ParseText(t, s, nil)
}

// unboundedText is s as a TEXT or VARCHAR datum of t when t has no width
// (ok false otherwise, or when s is not valid UTF-8 or holds a NUL, for
// the input function's error): what the input function does, in two
// vectorized passes instead of its byte loop. s is kept: pass a copy.
func unboundedText(t types.Type, s string) (types.Datum, bool) {
	if t.Kind != types.KindText || t.Width > 0 || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return types.Null, false
	}
	return types.NewText(s), true
}

// view is b as a string without a copy, valid while b is unchanged: the
// text decoders scan a record through it and parse numbers, dates and
// times straight out of it. Every datum that keeps a string gets a copy
// (parseText); nothing else keeps the view past Decode.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
