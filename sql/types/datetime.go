package types

import (
	"math"
	"strconv"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Time constants (PostgreSQL's epoch is 2000-01-01 00:00:00 UTC).
const (
	MicrosPerSecond int64 = 1_000_000
	MicrosPerMinute int64 = 60 * MicrosPerSecond
	MicrosPerHour   int64 = 60 * MicrosPerMinute
	MicrosPerDay    int64 = 24 * MicrosPerHour

	// UnixEpochDays is 1970-01-01 in days since 2000-01-01.
	UnixEpochDays int64 = -10957
	// UnixEpochMicros is 1970-01-01 00:00:00 in microseconds since 2000-01-01.
	UnixEpochMicros = UnixEpochDays * MicrosPerDay

	// DateInfinity / DateNegInfinity are the date values 'infinity' and
	// '-infinity' (PostgreSQL's DATEVAL_NOEND / DATEVAL_NOBEGIN).
	DateInfinity    int64 = math.MaxInt32
	DateNegInfinity int64 = math.MinInt32
	// TimestampInfinity / TimestampNegInfinity are the timestamp (and
	// timestamptz) values 'infinity' and '-infinity'.
	TimestampInfinity    int64 = math.MaxInt64
	TimestampNegInfinity int64 = math.MinInt64

	// Valid ranges (PostgreSQL: julian day 0 = 4714-11-24 BC up to
	// 5874897-12-31 for dates, 294276-12-31 for timestamps).
	MinDate          int64 = -2451545
	MaxDateExcl      int64 = 2147483494 - 2451545
	MinTimestamp     int64 = -211813488000000000
	MaxTimestampExcl int64 = 9223371331200000000
)

// DaysFromCivil returns the day number (days since 2000-01-01) of a
// proleptic Gregorian date; year is astronomical (0 = 1 BC, -1 = 2 BC).
// month and day are not validated.
func DaysFromCivil(year, month, day int) int64 {
	y := int64(year)
	m := int64(month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468 + UnixEpochDays
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(days int64) (year, month, day int) {
	z := days - UnixEpochDays + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// IsLeapYear reports whether astronomical year y is a Gregorian leap year.
func IsLeapYear(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysInMonth is the number of days of month m (1-12) of year y.
func DaysInMonth(y, m int) int {
	switch m {
	case 2:
		if IsLeapYear(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// TimestampToTime converts microseconds since 2000-01-01 to a UTC
// time.Time (infinities are not representable: callers check first).
func TimestampToTime(micros int64) time.Time {
	u := micros - UnixEpochMicros
	return time.Unix(floorDiv(u, MicrosPerSecond), floorMod(u, MicrosPerSecond)*1000).UTC()
}

// TimeToTimestamp converts t to microseconds since 2000-01-01 (truncating
// below a microsecond).
func TimeToTimestamp(t time.Time) int64 {
	return t.Unix()*MicrosPerSecond + int64(t.Nanosecond()/1000) + UnixEpochMicros
}

// IsInfiniteTimestamp reports whether micros is ±infinity.
func IsInfiniteTimestamp(micros int64) bool {
	return micros == TimestampInfinity || micros == TimestampNegInfinity
}

// IsInfiniteDate reports whether days is ±infinity.
func IsInfiniteDate(days int64) bool { return days == DateInfinity || days == DateNegInfinity }

// ZoneOffset returns the UTC offset in seconds of loc at the instant
// micros (a UTC timestamp); nil loc is UTC.
func ZoneOffset(micros int64, loc *time.Location) int {
	if loc == nil || loc == time.UTC {
		return 0
	}
	u := micros - UnixEpochMicros
	_, off := time.Unix(floorDiv(u, MicrosPerSecond), 0).In(loc).Zone()
	return off
}

// LocalToUTC converts a local wall-clock timestamp in loc to UTC micros,
// resolving DST gaps and overlaps as Go's time.Date does.
func LocalToUTC(local int64, loc *time.Location) int64 {
	if loc == nil || loc == time.UTC || IsInfiniteTimestamp(local) {
		return local
	}
	days := floorDiv(local, MicrosPerDay)
	tod := local - days*MicrosPerDay
	y, m, d := CivilFromDays(days)
	sec := tod / MicrosPerSecond
	t := time.Date(y, time.Month(m), d, int(sec/3600), int(sec/60%60), int(sec%60), 0, loc)
	return t.Unix()*MicrosPerSecond + UnixEpochMicros + tod%MicrosPerSecond
}

// UTCToLocal converts UTC micros to the wall-clock timestamp in loc.
func UTCToLocal(utc int64, loc *time.Location) int64 {
	if IsInfiniteTimestamp(utc) {
		return utc
	}
	return utc + int64(ZoneOffset(utc, loc))*MicrosPerSecond
}

// ---- output ----

func appendPad(buf []byte, v int64, width int) []byte {
	if width == 2 && v >= 0 && v < 100 {
		return append(buf, byte('0'+v/10), byte('0'+v%10))
	}
	if width == 4 && v >= 0 && v < 10000 {
		return append(buf, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	var tmp [20]byte
	b := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(b); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, b...)
}

// appendYMD appends YYYY-MM-DD for an astronomical year; bc reports
// whether " BC" must follow.
func appendYMD(buf []byte, days int64) ([]byte, bool) {
	y, m, d := CivilFromDays(days)
	bc := false
	if y <= 0 {
		y = 1 - y
		bc = true
	}
	buf = appendPad(buf, int64(y), 4)
	buf = append(buf, '-')
	buf = appendPad(buf, int64(m), 2)
	buf = append(buf, '-')
	buf = appendPad(buf, int64(d), 2)
	return buf, bc
}

// appendHMS appends HH:MM:SS[.ffffff] (trailing fraction zeros trimmed).
func appendHMS(buf []byte, tod int64) []byte {
	sec := tod / MicrosPerSecond
	buf = appendPad(buf, sec/3600, 2)
	buf = append(buf, ':')
	buf = appendPad(buf, sec/60%60, 2)
	buf = append(buf, ':')
	buf = appendPad(buf, sec%60, 2)
	return appendFrac(buf, tod%MicrosPerSecond)
}

func appendFrac(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	if us < 0 {
		us = -us
	}
	buf = append(buf, '.')
	var digs [6]byte
	for i := 5; i >= 0; i-- {
		digs[i] = byte('0' + us%10)
		us /= 10
	}
	n := 6
	for n > 0 && digs[n-1] == '0' {
		n--
	}
	return append(buf, digs[:n]...)
}

// AppendDate appends a date in DateStyle ISO ("2024-01-02", "0044-03-15 BC",
// "infinity").
func AppendDate(buf []byte, days int64) []byte {
	switch days {
	case DateInfinity:
		return append(buf, "infinity"...)
	case DateNegInfinity:
		return append(buf, "-infinity"...)
	}
	buf, bc := appendYMD(buf, days)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// AppendTime appends a time of day ("04:05:06.789").
func AppendTime(buf []byte, micros int64) []byte { return appendHMS(buf, micros) }

// AppendTimestamp appends a timestamp without time zone.
func AppendTimestamp(buf []byte, micros int64) []byte {
	switch micros {
	case TimestampInfinity:
		return append(buf, "infinity"...)
	case TimestampNegInfinity:
		return append(buf, "-infinity"...)
	}
	days := floorDiv(micros, MicrosPerDay)
	buf, bc := appendYMD(buf, days)
	buf = append(buf, ' ')
	buf = appendHMS(buf, micros-days*MicrosPerDay)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// AppendTimestampTZ appends a timestamp with time zone shown in loc with
// its offset ("2024-01-02 03:04:05.123+01", "+05:30", "-03:00:15").
func AppendTimestampTZ(buf []byte, micros int64, loc *time.Location) []byte {
	switch micros {
	case TimestampInfinity:
		return append(buf, "infinity"...)
	case TimestampNegInfinity:
		return append(buf, "-infinity"...)
	}
	off := ZoneOffset(micros, loc)
	local := micros + int64(off)*MicrosPerSecond
	days := floorDiv(local, MicrosPerDay)
	buf, bc := appendYMD(buf, days)
	buf = append(buf, ' ')
	buf = appendHMS(buf, local-days*MicrosPerDay)
	buf = appendOffset(buf, off)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

func appendOffset(buf []byte, off int) []byte {
	if off < 0 {
		buf = append(buf, '-')
		off = -off
	} else {
		buf = append(buf, '+')
	}
	buf = appendPad(buf, int64(off/3600), 2)
	if off%3600 != 0 {
		buf = append(buf, ':')
		buf = appendPad(buf, int64(off/60%60), 2)
		if off%60 != 0 {
			buf = append(buf, ':')
			buf = appendPad(buf, int64(off%60), 2)
		}
	}
	return buf
}

// ---- input ----

// dtKind is the field type of PostgreSQL's ParseDateTime tokenizer.
type dtKind uint8

const (
	dtNumber  dtKind = iota // digits, maybe with one '.'
	dtTime                  // digits with ':'
	dtDate                  // digits/letters with '-', '/' or '.' delimiters
	dtString                // letters
	dtTZ                    // sign followed by digits (offset, signed number)
	dtSpecial               // sign followed by letters (-infinity)
)

type dtField struct {
	kind dtKind
	s    string
}

const maxDTFields = 24

// tokenizeDateTime splits s into fields the way PostgreSQL's ParseDateTime
// does (punctuation other than the field-forming characters separates
// fields and is ignored). Fields are substrings of s (not lower-cased).
func tokenizeDateTime(s string, fields *[maxDTFields]dtField) (int, bool) {
	n := 0
	i := 0
	add := func(k dtKind, start int) bool {
		if n == maxDTFields {
			return false
		}
		fields[n] = dtField{kind: k, s: s[start:i]}
		n++
		return true
	}
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case isDigit(c):
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			k := dtNumber
			if i < len(s) && s[i] == ':' {
				k = dtTime
				i++
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.') {
					i++
				}
			} else if i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.') {
				delim := s[i]
				i++
				if i < len(s) && isDigit(s[i]) {
					if delim == '.' {
						k = dtNumber
					} else {
						k = dtDate
					}
					for i < len(s) && isDigit(s[i]) {
						i++
					}
					if i < len(s) && s[i] == delim {
						k = dtDate
						for i < len(s) && (isDigit(s[i]) || s[i] == delim) {
							i++
						}
					}
				} else {
					k = dtDate
					for i < len(s) && (isDigit(s[i]) || isAlpha(s[i]) || s[i] == delim) {
						i++
					}
				}
			}
			if !add(k, start) {
				return 0, false
			}
		case c == '.':
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			if !add(dtNumber, start) {
				return 0, false
			}
		case isAlpha(c):
			for i < len(s) && isAlpha(s[i]) {
				i++
			}
			k := dtString
			isDate := false
			if i < len(s) {
				switch d := s[i]; {
				case d == '-' || d == '/' || d == '.':
					isDate = true
				case d == '+' || isDigit(d):
					_, known := lookupDateWord(s[start:i])
					isDate = !known
				}
			}
			if isDate {
				k = dtDate
				for i < len(s) && (s[i] == '+' || s[i] == '-' || s[i] == '/' || s[i] == '_' ||
					s[i] == '.' || s[i] == ':' || isDigit(s[i]) || isAlpha(s[i])) {
					i++
				}
			}
			if !add(k, start) {
				return 0, false
			}
		case isSpace(c):
			i++
		case c == '+' || c == '-':
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && isDigit(s[i]) {
				// Keep the sign attached: re-slice from the sign, dropping
				// the blanks in between by recording sign and digits apart.
				signAt := start
				j := i
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.' || s[i] == '-') {
					i++
				}
				if n == maxDTFields {
					return 0, false
				}
				if j == signAt+1 {
					fields[n] = dtField{kind: dtTZ, s: s[signAt:i]}
				} else {
					// "- 1": the sign and digits are not adjacent; mark the
					// sign by choosing the matching constant prefix.
					if s[signAt] == '-' {
						fields[n] = dtField{kind: dtTZ, s: "-" + s[j:i]}
					} else {
						fields[n] = dtField{kind: dtTZ, s: "+" + s[j:i]}
					}
				}
				n++
			} else if i < len(s) && isAlpha(s[i]) {
				if i != start+1 {
					return 0, false
				}
				for i < len(s) && isAlpha(s[i]) {
					i++
				}
				if !add(dtSpecial, start) {
					return 0, false
				}
			} else {
				return 0, false
			}
		case c < 0x80 && c > ' ' && !isDigit(c) && !isAlpha(c):
			i++ // other punctuation delimits
		default:
			return 0, false
		}
	}
	return n, true
}

// Date words.
type dateWord uint8

const (
	dwNone dateWord = iota
	dwMonth
	dwWeekday
	dwAM
	dwPM
	dwAD
	dwBC
	dwISOT
	dwZone // fixed-offset zone abbreviation
	dwInfinity
	dwNegInfinity
	dwEpoch
	dwNow
	dwToday
	dwTomorrow
	dwYesterday
	dwAllballs
	dwAt
)

type dateWordInfo struct {
	w   dateWord
	val int // month number, or zone offset in seconds
}

var dateWords = map[string]dateWordInfo{
	"jan": {dwMonth, 1}, "january": {dwMonth, 1}, "feb": {dwMonth, 2}, "february": {dwMonth, 2},
	"mar": {dwMonth, 3}, "march": {dwMonth, 3}, "apr": {dwMonth, 4}, "april": {dwMonth, 4},
	"may": {dwMonth, 5}, "jun": {dwMonth, 6}, "june": {dwMonth, 6}, "jul": {dwMonth, 7},
	"july": {dwMonth, 7}, "aug": {dwMonth, 8}, "august": {dwMonth, 8}, "sep": {dwMonth, 9},
	"sept": {dwMonth, 9}, "september": {dwMonth, 9}, "oct": {dwMonth, 10}, "october": {dwMonth, 10},
	"nov": {dwMonth, 11}, "november": {dwMonth, 11}, "dec": {dwMonth, 12}, "december": {dwMonth, 12},
	"sun": {dwWeekday, 0}, "sunday": {dwWeekday, 0}, "mon": {dwWeekday, 1}, "monday": {dwWeekday, 1},
	"tue": {dwWeekday, 2}, "tues": {dwWeekday, 2}, "tuesday": {dwWeekday, 2}, "wed": {dwWeekday, 3},
	"wednesday": {dwWeekday, 3}, "thu": {dwWeekday, 4}, "thur": {dwWeekday, 4}, "thurs": {dwWeekday, 4},
	"thursday": {dwWeekday, 4}, "fri": {dwWeekday, 5}, "friday": {dwWeekday, 5},
	"sat": {dwWeekday, 6}, "saturday": {dwWeekday, 6},
	"am": {dwAM, 0}, "a.m.": {dwAM, 0}, "pm": {dwPM, 0}, "p.m.": {dwPM, 0},
	"ad": {dwAD, 0}, "bc": {dwBC, 0}, "t": {dwISOT, 0}, "at": {dwAt, 0}, "on": {dwAt, 0},
	"z": {dwZone, 0}, "zulu": {dwZone, 0}, "utc": {dwZone, 0}, "gmt": {dwZone, 0}, "ut": {dwZone, 0},
	"est": {dwZone, -5 * 3600}, "edt": {dwZone, -4 * 3600}, "cst": {dwZone, -6 * 3600},
	"cdt": {dwZone, -5 * 3600}, "mst": {dwZone, -7 * 3600}, "mdt": {dwZone, -6 * 3600},
	"pst": {dwZone, -8 * 3600}, "pdt": {dwZone, -7 * 3600}, "akst": {dwZone, -9 * 3600},
	"akdt": {dwZone, -8 * 3600}, "hst": {dwZone, -10 * 3600}, "cet": {dwZone, 3600},
	"cest": {dwZone, 2 * 3600}, "met": {dwZone, 3600}, "mest": {dwZone, 2 * 3600},
	"eet": {dwZone, 2 * 3600}, "eest": {dwZone, 3 * 3600}, "wet": {dwZone, 0}, "west": {dwZone, 3600},
	"bst": {dwZone, 3600}, "msk": {dwZone, 3 * 3600}, "jst": {dwZone, 9 * 3600},
	"kst": {dwZone, 9 * 3600}, "ist": {dwZone, 2 * 3600}, "aest": {dwZone, 10 * 3600},
	"aedt": {dwZone, 11 * 3600}, "nzst": {dwZone, 12 * 3600}, "nzdt": {dwZone, 13 * 3600},
	"infinity": {dwInfinity, 0}, "epoch": {dwEpoch, 0}, "now": {dwNow, 0}, "today": {dwToday, 0},
	"tomorrow": {dwTomorrow, 0}, "yesterday": {dwYesterday, 0}, "allballs": {dwAllballs, 0},
}

// lookupDateWord finds a word case-insensitively without allocating for
// words of up to 16 bytes.
func lookupDateWord(s string) (dateWordInfo, bool) {
	if len(s) > 16 {
		return dateWordInfo{}, false
	}
	var tmp [16]byte
	for i := 0; i < len(s); i++ {
		tmp[i] = lower(s[i])
	}
	w, ok := dateWords[string(tmp[:len(s)])]
	return w, ok
}

// dtResult is a decoded date/time string.
type dtResult struct {
	year, mon, day          int
	hasYear, hasMon, hasDay bool
	twoDigitYear            bool
	hour, min, sec          int
	usec                    int64
	hasTime                 bool
	tzOff                   int // seconds east of UTC
	hasTZ                   bool
	loc                     *time.Location // named zone given in the input
	special                 dateWord
	timeOnly                bool // parsing a time: a bare 4/6-digit number is hhmm[ss]
	bc                      bool
	ampm                    dateWord
}

// errDT is the error of a date/time input that failed: bad format (22007
// invalid input syntax) or a field out of range (22008).
type dtErr uint8

const (
	dtOK dtErr = iota
	dtBad
	dtRange
	dtTZRange
)

func dtError(e dtErr, typ, s string) error {
	switch e {
	case dtRange:
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
	case dtTZRange:
		return sqlerr.New("22009", "time zone displacement out of range: \"%s\"", s)
	}
	return sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", typ, s)
}

// parseDigits parses an all-digit string (at most 18 digits).
func parseDigits(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v, true
}

// parseFracMicros converts the digits after a '.' to microseconds, rounding
// half to even at the seventh digit; the result may be 1_000_000.
func parseFracMicros(digs string) (int64, bool) {
	var us int64
	for i := 0; i < len(digs); i++ {
		if !isDigit(digs[i]) {
			return 0, false
		}
	}
	for i := range 6 {
		us *= 10
		if i < len(digs) {
			us += int64(digs[i] - '0')
		}
	}
	if len(digs) > 6 {
		d := digs[6]
		rest := false
		for i := 7; i < len(digs); i++ {
			if digs[i] != '0' {
				rest = true
				break
			}
		}
		if d > '5' || (d == '5' && (rest || us%2 == 1)) {
			us++
		}
	}
	return us, true
}

// decodeTime parses "hh:mm", "hh:mm:ss", "hh:mm:ss.f" and "mm:ss.f".
func decodeTime(s string, r *dtResult) dtErr {
	var parts [3]string
	np := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			if np == 3 {
				return dtBad
			}
			parts[np] = s[start:i]
			np++
			start = i + 1
		}
	}
	if np < 2 {
		return dtBad
	}
	h, ok := parseDigits(parts[0])
	if !ok {
		return dtBad
	}
	last := parts[np-1]
	frac := ""
	for i := 0; i < len(last); i++ {
		if last[i] == '.' {
			frac = last[i+1:]
			last = last[:i]
			break
		}
	}
	lv, ok := parseDigits(last)
	if !ok && last != "" {
		return dtBad
	}
	us, ok := parseFracMicros(frac)
	if !ok {
		return dtBad
	}
	if np == 2 {
		if frac != "" || (len(parts[1]) > 0 && parts[1][len(parts[1])-1] == '.') {
			// mm:ss.fff
			r.hour, r.min, r.sec, r.usec = 0, int(h), int(lv), us
		} else {
			r.hour, r.min, r.sec = int(h), int(lv), 0
		}
	} else {
		m, ok := parseDigits(parts[1])
		if !ok {
			return dtBad
		}
		r.hour, r.min, r.sec, r.usec = int(h), int(m), int(lv), us
	}
	r.hasTime = true
	return dtOK
}

// decodeTZ parses "+hh", "+hhmm", "+hh:mm", "+hh:mm:ss" into seconds east.
func decodeTZ(s string) (int, dtErr) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	var h, m, sec int64
	var ok bool
	colon := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			colon = i
			break
		}
	}
	if colon >= 0 {
		if h, ok = parseDigits(s[:colon]); !ok {
			return 0, dtBad
		}
		rest := s[colon+1:]
		c2 := -1
		for i := 0; i < len(rest); i++ {
			if rest[i] == ':' {
				c2 = i
				break
			}
		}
		if c2 >= 0 {
			if m, ok = parseDigits(rest[:c2]); !ok {
				return 0, dtBad
			}
			if sec, ok = parseDigits(rest[c2+1:]); !ok {
				return 0, dtBad
			}
		} else if m, ok = parseDigits(rest); !ok {
			return 0, dtBad
		}
	} else {
		v, ok := parseDigits(s)
		if !ok {
			return 0, dtBad
		}
		switch {
		case len(s) <= 2:
			h = v
		case len(s) <= 4:
			h, m = v/100, v%100
		case len(s) <= 6:
			h, m, sec = v/10000, v/100%100, v%100
		default:
			return 0, dtBad
		}
	}
	if m >= 60 || sec >= 60 {
		return 0, dtRange
	}
	off := h*3600 + m*60 + sec
	if off > 15*3600+59*60+59 {
		return 0, dtTZRange
	}
	return sign * int(off), dtOK
}

// decodeDateField handles a delimited date field ("2024-01-02",
// "01/02/2024", "jan-02-2024", "2024-jan-02", "02-jan-2024").
func decodeDateField(s string, r *dtResult) dtErr {
	if r.hasYear || r.hasMon || r.hasDay {
		return dtBad
	}
	var parts [3]string
	np := 0
	start := 0
	delim := byte(0)
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '-' || s[i] == '/' || s[i] == '.' {
			if i < len(s) {
				if delim == 0 {
					delim = s[i]
				} else if s[i] != delim {
					return dtBad
				}
			}
			if np == 3 {
				return dtBad
			}
			parts[np] = s[start:i]
			np++
			start = i + 1
		}
	}
	if np != 3 {
		return dtBad
	}
	monthIdx := -1
	for i := range 3 {
		if len(parts[i]) > 0 && isAlpha(parts[i][0]) {
			w, ok := lookupDateWord(parts[i])
			if !ok || w.w != dwMonth || monthIdx >= 0 {
				return dtBad
			}
			monthIdx = i
			r.mon = w.val
		}
	}
	num := func(p string) (int, bool) {
		v, ok := parseDigits(p)
		return int(v), ok && v <= math.MaxInt32
	}
	var a, b, c int
	var ok1, ok2 bool
	switch monthIdx {
	case 0: // Mon-DD-YYYY
		a, ok1 = num(parts[1])
		c, ok2 = num(parts[2])
		r.day, r.year = a, c
		r.twoDigitYear = len(parts[2]) <= 2
	case 1:
		a, ok1 = num(parts[0])
		c, ok2 = num(parts[2])
		if len(parts[0]) >= 3 { // YYYY-Mon-DD
			r.year, r.day = a, c
			r.twoDigitYear = false
		} else { // DD-Mon-YYYY
			r.day, r.year = a, c
			r.twoDigitYear = len(parts[2]) <= 2
		}
	case 2:
		return dtBad
	default:
		var ok3 bool
		a, ok1 = num(parts[0])
		b, ok2 = num(parts[1])
		c, ok3 = num(parts[2])
		if !ok3 {
			return dtBad
		}
		if len(parts[0]) >= 3 { // YMD
			r.year, r.mon, r.day = a, b, c
		} else { // MDY (DateStyle ISO, MDY)
			r.mon, r.day, r.year = a, b, c
			r.twoDigitYear = len(parts[2]) <= 2
		}
	}
	if !ok1 || !ok2 {
		return dtBad
	}
	r.hasYear, r.hasMon, r.hasDay = true, true, true
	return dtOK
}

// decodeDateTime decodes a date/time string into r. It is PostgreSQL's
// DecodeDateTime for the formats Weir accepts.
func decodeDateTime(s string, r *dtResult) dtErr {
	var fields [maxDTFields]dtField
	n, ok := tokenizeDateTime(s, &fields)
	if !ok || n == 0 {
		return dtBad
	}
	isoT := false
	for fi := 0; fi < n; fi++ {
		f := fields[fi]
		switch f.kind {
		case dtDate:
			if isAlpha(f.s[0]) {
				// A zone name such as Europe/Amsterdam.
				if r.hasTZ {
					return dtBad
				}
				loc, err := loadZone(f.s)
				if err != nil {
					return dtBad
				}
				r.loc = loc
				r.hasTZ = true
				continue
			}
			if e := decodeDateField(f.s, r); e != dtOK {
				return e
			}
		case dtTime:
			if r.hasTime {
				return dtBad
			}
			if e := decodeTime(f.s, r); e != dtOK {
				return e
			}
			isoT = false
		case dtTZ:
			if !r.hasTime && !r.hasDay {
				return dtBad
			}
			if r.hasTZ {
				return dtBad
			}
			off, e := decodeTZ(f.s)
			if e != dtOK {
				return e
			}
			r.tzOff = off
			r.hasTZ = true
		case dtNumber:
			intPart, frac := f.s, ""
			for i := 0; i < len(f.s); i++ {
				if f.s[i] == '.' {
					intPart, frac = f.s[:i], f.s[i+1:]
					break
				}
			}
			v, ok := parseDigits(intPart)
			if !ok && intPart != "" {
				return dtBad
			}
			switch {
			case !r.hasTime && (len(intPart) == 6 || len(intPart) == 4) &&
				(isoT || (r.timeOnly && !r.hasYear) || (r.hasDay && len(intPart) == 6)):
				// hhmmss[.f] / hhmm after a date or an ISO "T".
				r.hasTime = true
				if len(intPart) == 6 {
					r.hour, r.min, r.sec = int(v/10000), int(v/100%100), int(v%100)
				} else {
					r.hour, r.min = int(v/100), int(v%100)
				}
				us, ok := parseFracMicros(frac)
				if !ok {
					return dtBad
				}
				r.usec = us
				isoT = false
			case frac != "" || intPart == "":
				return dtBad
			case !r.hasYear && !r.hasMon && !r.hasDay && (len(intPart) == 8 || len(intPart) == 6):
				// YYYYMMDD or YYMMDD.
				if len(intPart) == 8 {
					r.year, r.mon, r.day = int(v/10000), int(v/100%100), int(v%100)
				} else {
					r.year, r.mon, r.day = int(v/10000), int(v/100%100), int(v%100)
					r.twoDigitYear = true
				}
				r.hasYear, r.hasMon, r.hasDay = true, true, true
			case r.hasMon && !r.hasDay && len(intPart) <= 2:
				r.day = int(v)
				r.hasDay = true
			case !r.hasYear && (r.hasMon || len(intPart) >= 3):
				if v > math.MaxInt32 {
					return dtRange
				}
				r.year = int(v)
				r.twoDigitYear = len(intPart) <= 2
				r.hasYear = true
			case !r.hasDay && !r.hasMon && len(intPart) <= 2:
				// "02 Jan 2024": the day comes before the month name.
				r.day = int(v)
				r.hasDay = true
			default:
				return dtBad
			}
		case dtString:
			w, ok := lookupDateWord(f.s)
			if !ok {
				if r.hasTZ {
					return dtBad
				}
				loc, err := loadZone(f.s)
				if err != nil {
					return dtBad
				}
				r.loc = loc
				r.hasTZ = true
				continue
			}
			switch w.w {
			case dwMonth:
				if r.hasMon {
					return dtBad
				}
				r.mon = w.val
				r.hasMon = true
			case dwWeekday, dwAt:
			case dwAM, dwPM:
				if r.ampm != dwNone {
					return dtBad
				}
				r.ampm = w.w
			case dwAD:
			case dwBC:
				r.bc = true
			case dwISOT:
				isoT = true
			case dwZone:
				if r.hasTZ {
					return dtBad
				}
				r.tzOff = w.val
				r.hasTZ = true
			case dwAllballs:
				if r.hasTime {
					return dtBad
				}
				r.hasTime = true
			default:
				if n != 1 && !(w.w == dwToday || w.w == dwTomorrow || w.w == dwYesterday) {
					return dtBad
				}
				if r.special != dwNone {
					return dtBad
				}
				r.special = w.w
			}
		case dtSpecial:
			if n != 1 {
				return dtBad
			}
			switch {
			case eqFold(f.s, "-infinity"):
				r.special = dwNegInfinity
			case eqFold(f.s, "+infinity"):
				r.special = dwInfinity
			default:
				return dtBad
			}
		}
	}
	if r.special != dwNone && (r.hasYear || r.hasMon || r.hasDay) {
		return dtBad
	}
	// Finish and validate fields.
	if r.ampm != dwNone {
		if !r.hasTime || r.hour > 12 || r.hour < 0 {
			return dtRange
		}
		if r.ampm == dwAM && r.hour == 12 {
			r.hour = 0
		} else if r.ampm == dwPM && r.hour != 12 {
			r.hour += 12
		}
	}
	if r.hasYear || r.hasMon || r.hasDay {
		if !(r.hasYear && r.hasMon && r.hasDay) {
			return dtBad
		}
		if r.twoDigitYear && !r.bc {
			if r.year < 70 {
				r.year += 2000
			} else if r.year < 100 {
				r.year += 1900
			}
		}
		if r.bc {
			if r.year <= 0 {
				return dtRange
			}
			r.year = 1 - r.year
		} else if r.year <= 0 {
			return dtRange
		}
		if r.mon < 1 || r.mon > 12 || r.day < 1 || r.day > DaysInMonth(r.year, r.mon) {
			return dtRange
		}
	} else if r.bc {
		return dtBad
	}
	if r.hasTime {
		if r.hour < 0 || r.min < 0 || r.min > 59 || r.sec < 0 || r.sec > 60 || r.hour > 24 ||
			(r.hour == 24 && (r.min > 0 || r.sec > 0 || r.usec > 0)) {
			return dtRange
		}
	}
	return dtOK
}

// loadZone resolves a time zone name written in the input, trying the
// name as given, then with each part capitalized (PostgreSQL's zone names
// are case-insensitive).
func loadZone(name string) (*time.Location, error) {
	if loc, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
		return loc, nil
	}
	b := []byte(name)
	up := true
	for i, c := range b {
		if isAlpha(c) {
			if up {
				b[i] = c &^ 0x20
			} else {
				b[i] = lower(c)
			}
			up = false
		} else {
			up = true
		}
	}
	return time.LoadLocation(string(b))
}

// tod returns the time of day of r in microseconds.
func (r *dtResult) tod() int64 {
	return int64(r.hour)*MicrosPerHour + int64(r.min)*MicrosPerMinute + int64(r.sec)*MicrosPerSecond + r.usec
}

func nowIn(loc *time.Location) (days int64, tod int64) {
	now := time.Now()
	utc := TimeToTimestamp(now)
	local := UTCToLocal(utc, loc)
	days = floorDiv(local, MicrosPerDay)
	return days, local - days*MicrosPerDay
}

// ParseDate is the input function of date.
func ParseDate(s string, loc *time.Location) (int64, error) {
	if len(s) >= 10 {
		if days, ok := fastDate(s); ok && len(s) == 10 {
			return days, nil
		}
	}
	var r dtResult
	if e := decodeDateTime(s, &r); e != dtOK {
		return 0, dtError(e, "date", s)
	}
	switch r.special {
	case dwInfinity:
		return DateInfinity, nil
	case dwNegInfinity:
		return DateNegInfinity, nil
	case dwEpoch:
		return UnixEpochDays, nil
	case dwNow, dwToday, dwTomorrow, dwYesterday:
		days, _ := nowIn(loc)
		switch r.special {
		case dwTomorrow:
			days++
		case dwYesterday:
			days--
		}
		return days, nil
	}
	if !r.hasDay {
		return 0, dtError(dtBad, "date", s)
	}
	days := DaysFromCivil(r.year, r.mon, r.day)
	if days < MinDate || days >= MaxDateExcl {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range: \"%s\"", s)
	}
	return days, nil
}

// fastDate parses exactly "YYYY-MM-DD" at the start of s.
func fastDate(s string) (int64, bool) {
	if s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := parseDigits(s[0:4])
	m, ok2 := parseDigits(s[5:7])
	d, ok3 := parseDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y == 0 || m < 1 || m > 12 || d < 1 || int(d) > DaysInMonth(int(y), int(m)) {
		return 0, false
	}
	return DaysFromCivil(int(y), int(m), int(d)), true
}

// fastTimestamp parses "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM]]"
// (the form nearly all machine-written timestamps take) without
// allocating. ok is false when s is anything else.
func fastTimestamp(s string) (local int64, off int, hasTZ bool, ok bool) {
	if len(s) < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return 0, 0, false, false
	}
	days, ok := fastDate(s)
	if !ok {
		return 0, 0, false, false
	}
	h, ok1 := parseDigits(s[11:13])
	mi, ok2 := parseDigits(s[14:16])
	sec, ok3 := parseDigits(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return 0, 0, false, false
	}
	i := 19
	var us int64
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 || j-i-1 > 6 {
			return 0, 0, false, false
		}
		us, _ = parseFracMicros(s[i+1 : j])
		i = j
	}
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			if i+1 != len(s) {
				return 0, 0, false, false
			}
			hasTZ = true
		case '+', '-':
			t := s[i+1:]
			var oh, om int64
			var okh, okm bool
			switch {
			case len(t) == 2:
				oh, okh = parseDigits(t)
				okm = true
			case len(t) == 5 && t[2] == ':':
				oh, okh = parseDigits(t[:2])
				om, okm = parseDigits(t[3:])
			case len(t) == 4:
				oh, okh = parseDigits(t[:2])
				om, okm = parseDigits(t[2:])
			}
			if !okh || !okm || om > 59 || oh > 15 {
				return 0, 0, false, false
			}
			off = int(oh*3600 + om*60)
			if s[i] == '-' {
				off = -off
			}
			hasTZ = true
		default:
			return 0, 0, false, false
		}
	}
	local = days*MicrosPerDay + h*MicrosPerHour + mi*MicrosPerMinute + sec*MicrosPerSecond + us
	return local, off, hasTZ, true
}

// ParseTimestamp is the input function of timestamp (without time zone):
// an explicit zone in the input is ignored, as PostgreSQL does. loc is
// only used for 'now'/'today'.
func ParseTimestamp(s string, loc *time.Location) (int64, error) {
	if local, _, _, ok := fastTimestamp(s); ok {
		return local, nil
	}
	return parseTimestampSlow(s, loc, false, "timestamp")
}

// ParseTimestampTZ is the input function of timestamptz: a timestamp
// without an explicit offset or zone is taken in loc (nil = UTC).
func ParseTimestampTZ(s string, loc *time.Location) (int64, error) {
	if local, off, hasTZ, ok := fastTimestamp(s); ok {
		if hasTZ {
			return local - int64(off)*MicrosPerSecond, nil
		}
		return LocalToUTC(local, loc), nil
	}
	return parseTimestampSlow(s, loc, true, "timestamp with time zone")
}

func parseTimestampSlow(s string, loc *time.Location, tz bool, typ string) (int64, error) {
	var r dtResult
	if e := decodeDateTime(s, &r); e != dtOK {
		return 0, dtError(e, typ, s)
	}
	switch r.special {
	case dwInfinity:
		return TimestampInfinity, nil
	case dwNegInfinity:
		return TimestampNegInfinity, nil
	case dwEpoch:
		if tz {
			return UnixEpochMicros, nil
		}
		return UnixEpochMicros, nil
	case dwNow:
		now := TimeToTimestamp(time.Now())
		if tz {
			return now, nil
		}
		return UTCToLocal(now, loc), nil
	case dwToday, dwTomorrow, dwYesterday:
		days, _ := nowIn(loc)
		if r.special == dwTomorrow {
			days++
		} else if r.special == dwYesterday {
			days--
		}
		local := days*MicrosPerDay + r.tod()
		if tz {
			return LocalToUTC(local, loc), nil
		}
		return local, nil
	}
	if !r.hasDay {
		return 0, dtError(dtBad, typ, s)
	}
	days := DaysFromCivil(r.year, r.mon, r.day)
	if days < MinDate || days > MaxTimestampExcl/MicrosPerDay {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	local := days*MicrosPerDay + r.tod()
	v := local
	if tz {
		switch {
		case r.loc != nil:
			v = LocalToUTC(local, r.loc)
		case r.hasTZ:
			v = local - int64(r.tzOff)*MicrosPerSecond
		default:
			v = LocalToUTC(local, loc)
		}
	}
	if v < MinTimestamp || v >= MaxTimestampExcl {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	return v, nil
}

// ParseTime is the input function of time (without time zone); a date or
// zone in the input is ignored.
func ParseTime(s string, loc *time.Location) (int64, error) {
	if len(s) == 8 && s[2] == ':' && s[5] == ':' {
		h, ok1 := parseDigits(s[0:2])
		m, ok2 := parseDigits(s[3:5])
		sec, ok3 := parseDigits(s[6:8])
		if ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60 {
			return h*MicrosPerHour + m*MicrosPerMinute + sec*MicrosPerSecond, nil
		}
	}
	r := dtResult{timeOnly: true}
	if e := decodeDateTime(s, &r); e != dtOK {
		return 0, dtError(e, "time", s)
	}
	if r.special == dwNow {
		_, tod := nowIn(loc)
		return tod, nil
	}
	if r.special != dwNone || !r.hasTime {
		return 0, dtError(dtBad, "time", s)
	}
	return r.tod(), nil
}
