package funcs

import (
	"math"
	"time"
)

// Calendar arithmetic on Weir's datetime encodings (days / microseconds
// since 2000-01-01, PostgreSQL's epoch), proleptic Gregorian, astronomical
// years (year 0 is 1 BC).

const (
	usPerSec  = int64(1_000_000)
	usPerMin  = 60 * usPerSec
	usPerHour = 60 * usPerMin
	usPerDay  = 24 * usPerHour
	// unixToPG is the number of days from 1970-01-01 to 2000-01-01.
	unixToPG = int64(10957)
	// tsInfinity and tsNegInfinity are the infinite timestamps.
	tsInfinity    = int64(math.MaxInt64)
	tsNegInfinity = int64(math.MinInt64)
	// tsMin and tsMax bound finite timestamps: 4714-11-24 BC to 294276 AD
	// as in PostgreSQL (approximately; values beyond are out of range).
	tsMin = int64(-211813488000000000)
	tsMax = int64(9223371331200000000)
)

// civilFromDays converts days since 2000-01-01 to year, month, day.
func civilFromDays(z int64) (y int64, m, d int) {
	z += unixToPG + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil converts a date to days since 2000-01-01. m and d must be
// in range.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468 - unixToPG
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// splitTS splits microseconds since the epoch into days and time of day.
func splitTS(us int64) (days, tod int64) {
	return floorDiv(us, usPerDay), floorMod(us, usPerDay)
}

// tm is a broken-down timestamp.
type tm struct {
	year           int64
	month, day     int
	hour, min, sec int
	usec           int
	offset         int // seconds east of UTC (timestamptz only)
}

func tmFromTS(us int64) tm {
	days, tod := splitTS(us)
	var t tm
	t.year, t.month, t.day = civilFromDays(days)
	t.hour = int(tod / usPerHour)
	t.min = int(tod / usPerMin % 60)
	t.sec = int(tod / usPerSec % 60)
	t.usec = int(tod % usPerSec)
	return t
}

func (t tm) toTS() int64 {
	return daysFromCivil(t.year, t.month, t.day)*usPerDay + int64(t.hour)*usPerHour + int64(t.min)*usPerMin + int64(t.sec)*usPerSec + int64(t.usec)
}

// tmFromTSTZ breaks a timestamptz down in loc, with the UTC offset in
// force there.
func tmFromTSTZ(us int64, loc *time.Location) tm {
	if loc == nil {
		loc = time.UTC
	}
	_, off := toTime(us).In(loc).Zone()
	t := tmFromTS(us + int64(off)*usPerSec)
	t.offset = off
	return t
}

// toTime converts microseconds since 2000-01-01 UTC to a time.Time.
func toTime(us int64) time.Time {
	days, tod := splitTS(us)
	return time.Unix((days+unixToPG)*86400+tod/usPerSec, (tod%usPerSec)*1000).UTC()
}

// fromTime converts a time.Time to microseconds since 2000-01-01 UTC.
func fromTime(t time.Time) int64 {
	return (t.Unix()-unixToPG*86400)*usPerSec + int64(t.Nanosecond()/1000)
}

// localToTSTZ interprets a wall-clock time in loc (PostgreSQL's rules for
// DST gaps and overlaps approximated by time.Date's).
func localToTSTZ(t tm, loc *time.Location) int64 {
	if loc == nil {
		loc = time.UTC
	}
	if t.year < -4000 || t.year > 300000 {
		return t.toTS() // far outside tz data: treat as UTC
	}
	wall := time.Date(int(t.year), time.Month(t.month), t.day, t.hour, t.min, t.sec, t.usec*1000, loc)
	return fromTime(wall)
}
