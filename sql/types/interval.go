package types

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Interval units (PostgreSQL's DTK_* for intervals).
type ivUnit uint8

const (
	ivNone ivUnit = iota
	ivMicro
	ivMilli
	ivSecond
	ivMinute
	ivHour
	ivDay
	ivWeek
	ivMonth
	ivYear
	ivDecade
	ivCentury
	ivMillennium
	ivAgo
	ivIgnore
)

var intervalUnits = map[string]ivUnit{
	"microsecond": ivMicro, "microseconds": ivMicro, "us": ivMicro, "usec": ivMicro, "usecs": ivMicro,
	"usecond": ivMicro, "useconds": ivMicro,
	"millisecond": ivMilli, "milliseconds": ivMilli, "ms": ivMilli, "msec": ivMilli, "msecs": ivMilli,
	"msecond": ivMilli, "mseconds": ivMilli,
	"second": ivSecond, "seconds": ivSecond, "s": ivSecond, "sec": ivSecond, "secs": ivSecond,
	"minute": ivMinute, "minutes": ivMinute, "m": ivMinute, "min": ivMinute, "mins": ivMinute,
	"hour": ivHour, "hours": ivHour, "h": ivHour, "hr": ivHour, "hrs": ivHour,
	"day": ivDay, "days": ivDay, "d": ivDay,
	"week": ivWeek, "weeks": ivWeek, "w": ivWeek,
	"month": ivMonth, "months": ivMonth, "mon": ivMonth, "mons": ivMonth,
	"year": ivYear, "years": ivYear, "y": ivYear, "yr": ivYear, "yrs": ivYear,
	"decade": ivDecade, "decades": ivDecade, "dec": ivDecade, "decs": ivDecade,
	"century": ivCentury, "centuries": ivCentury, "c": ivCentury, "cent": ivCentury,
	"millennium": ivMillennium, "millennia": ivMillennium, "millenniums": ivMillennium,
	"mil": ivMillennium, "mils": ivMillennium,
	"ago": ivAgo, "@": ivIgnore,
}

func lookupUnit(s string) (ivUnit, bool) {
	if len(s) > 16 {
		return 0, false
	}
	var tmp [16]byte
	for i := 0; i < len(s); i++ {
		tmp[i] = lower(s[i])
	}
	u, ok := intervalUnits[string(tmp[:len(s)])]
	return u, ok
}

// ivAcc accumulates an interval with overflow checks.
type ivAcc struct {
	months int64
	days   int64
	micros int64
	bad    bool // overflow
}

func (a *ivAcc) addMicros(v int64) {
	s, ov := addOv(a.micros, v)
	a.micros = s
	a.bad = a.bad || ov
}

func addOv(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

func mulOv(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, true
	}
	return p, false
}

// fracMicros is PostgreSQL's AdjustFractMicroseconds.
func (a *ivAcc) fracMicros(frac float64, scale int64) {
	if frac == 0 {
		return
	}
	frac *= float64(scale)
	us := int64(frac)
	frac -= float64(us)
	us += int64(math.RoundToEven(frac))
	a.addMicros(us)
}

// fracDays is PostgreSQL's AdjustFractDays.
func (a *ivAcc) fracDays(frac float64, scale int64) {
	if frac == 0 {
		return
	}
	frac *= float64(scale)
	extra := int64(frac)
	a.days += extra
	frac -= float64(extra)
	a.fracMicros(frac, MicrosPerDay)
}

func (a *ivAcc) addUnit(u ivUnit, val int64, fval float64) {
	mul := func(x, y int64) int64 {
		p, ov := mulOv(x, y)
		a.bad = a.bad || ov
		return p
	}
	switch u {
	case ivMicro:
		a.addMicros(val)
		a.fracMicros(fval, 1)
	case ivMilli:
		a.addMicros(mul(val, 1000))
		a.fracMicros(fval, 1000)
	case ivSecond:
		a.addMicros(mul(val, MicrosPerSecond))
		a.fracMicros(fval, MicrosPerSecond)
	case ivMinute:
		a.addMicros(mul(val, MicrosPerMinute))
		a.fracMicros(fval, MicrosPerMinute)
	case ivHour:
		a.addMicros(mul(val, MicrosPerHour))
		a.fracMicros(fval, MicrosPerHour)
	case ivDay:
		a.days += val
		a.fracMicros(fval, MicrosPerDay)
	case ivWeek:
		a.days += mul(val, 7)
		a.fracDays(fval, 7)
	case ivMonth:
		a.months += val
		a.fracDays(fval, 30)
	case ivYear, ivDecade, ivCentury, ivMillennium:
		scale := int64(1)
		switch u {
		case ivDecade:
			scale = 10
		case ivCentury:
			scale = 100
		case ivMillennium:
			scale = 1000
		}
		a.months += mul(val, mul(scale, 12))
		a.months += int64(math.RoundToEven(fval * float64(scale) * 12))
	}
	if a.days > math.MaxInt32 || a.days < math.MinInt32 || a.months > math.MaxInt32 || a.months < math.MinInt32 {
		a.bad = true
	}
}

func errIntervalSyntax(s string) error {
	return sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", s)
}

func errIntervalRange(s string) error {
	return sqlerr.New("22015", "interval field value out of range: \"%s\"", s)
}

// ParseInterval is the input function of interval (IntervalStyle
// postgres input, plus ISO 8601 "P..." and SQL "Y-M" / "D H:M:S" forms).
func ParseInterval(s string) (months, days int32, micros int64, err error) {
	t := trimSpace(s)
	if len(t) > 0 && (t[0] == 'P' || t[0] == 'p') {
		return parseISOInterval(s, t[1:])
	}
	var fields [maxDTFields]dtField
	n, ok := tokenizeDateTime(t, &fields)
	if !ok || n == 0 {
		return 0, 0, 0, errIntervalSyntax(s)
	}
	var acc ivAcc
	typ := ivNone
	var seenMask uint32
	mark := func(u ivUnit) bool {
		bit := uint32(1) << u
		if seenMask&bit != 0 {
			return false
		}
		seenMask |= bit
		return true
	}
	ago := false
	pendingUnit := false
	timeField := func(f string, neg bool) bool {
		var r dtResult
		if decodeTime(f, &r) != dtOK {
			return false
		}
		if r.min > 59 || r.sec > 60 {
			return false
		}
		hus, ov := mulOv(int64(r.hour), MicrosPerHour)
		us, ov2 := addOv(hus, int64(r.min)*MicrosPerMinute+int64(r.sec)*MicrosPerSecond+r.usec)
		if ov || ov2 {
			return false
		}
		if neg {
			us = -us
		}
		if !mark(ivHour) || !mark(ivMinute) || !mark(ivSecond) {
			return false
		}
		acc.addMicros(us)
		return true
	}
	// PostgreSQL reads the fields right to left so that a unit applies to
	// the number before it.
	for i := n - 1; i >= 0; i-- {
		f := fields[i]
		switch f.kind {
		case dtTime:
			if !timeField(f.s, false) {
				return 0, 0, 0, errIntervalSyntax(s)
			}
			typ = ivDay
			continue
		case dtTZ:
			if hasByte(f.s[1:], ':') {
				if !timeField(f.s[1:], f.s[0] == '-') {
					return 0, 0, 0, errIntervalSyntax(s)
				}
				typ = ivDay
				continue
			}
			fallthrough
		case dtDate, dtNumber:
			if typ == ivNone {
				typ = ivSecond
			}
			num := f.s
			neg := false
			if num[0] == '+' || num[0] == '-' {
				neg = num[0] == '-'
				num = num[1:]
			}
			j := 0
			for j < len(num) && isDigit(num[j]) {
				j++
			}
			var val int64
			if j > 0 {
				v, err := strconv.ParseInt(num[:j], 10, 64)
				if err != nil {
					return 0, 0, 0, errIntervalRange(s)
				}
				val = v
			}
			var fval float64
			rest := num[j:]
			switch {
			case len(rest) > 0 && rest[0] == '-' && j > 0:
				// SQL year-month "1-2".
				m, ok := parseDigits(rest[1:])
				if !ok {
					return 0, 0, 0, errIntervalSyntax(s)
				}
				if m >= 12 {
					return 0, 0, 0, errIntervalRange(s)
				}
				val = val*12 + m
				typ = ivMonth
			case len(rest) > 0 && rest[0] == '.':
				if j == 0 && len(rest) == 1 {
					return 0, 0, 0, errIntervalSyntax(s)
				}
				for k := 1; k < len(rest); k++ {
					if !isDigit(rest[k]) {
						return 0, 0, 0, errIntervalSyntax(s)
					}
				}
				fv, err := strconv.ParseFloat("0"+rest, 64)
				if err != nil {
					return 0, 0, 0, errIntervalSyntax(s)
				}
				fval = fv
			case rest == "":
				if j == 0 {
					return 0, 0, 0, errIntervalSyntax(s)
				}
			default:
				return 0, 0, 0, errIntervalSyntax(s)
			}
			if neg {
				val, fval = -val, -fval
			}
			if !mark(typ) {
				return 0, 0, 0, errIntervalSyntax(s)
			}
			acc.addUnit(typ, val, fval)
			typ = ivNone
			pendingUnit = false
		case dtString, dtSpecial:
			if pendingUnit {
				return 0, 0, 0, errIntervalSyntax(s)
			}
			u, ok := lookupUnit(f.s)
			if !ok {
				return 0, 0, 0, errIntervalSyntax(s)
			}
			switch u {
			case ivIgnore:
			case ivAgo:
				ago = true
			default:
				typ = u
				pendingUnit = true
			}
		}
	}
	if seenMask == 0 || pendingUnit {
		return 0, 0, 0, errIntervalSyntax(s)
	}
	if ago {
		acc.months, acc.days = -acc.months, -acc.days
		if acc.micros == math.MinInt64 {
			acc.bad = true
		}
		acc.micros = -acc.micros
	}
	if acc.bad || acc.days > math.MaxInt32 || acc.days < math.MinInt32 ||
		acc.months > math.MaxInt32 || acc.months < math.MinInt32 {
		return 0, 0, 0, sqlerr.New("22015", "interval field value out of range: \"%s\"", s)
	}
	return int32(acc.months), int32(acc.days), acc.micros, nil
}

func hasByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// parseISOInterval parses the part after 'P' of an ISO 8601 duration:
// "1Y2M3DT4H5M6S" (fractions allowed, 'W' weeks) or the alternative
// "0001-02-03T04:05:06".
func parseISOInterval(orig, s string) (int32, int32, int64, error) {
	var acc ivAcc
	if len(s) == 0 {
		return 0, 0, 0, errIntervalSyntax(orig)
	}
	// Alternative format: contains '-' or ':' right after digits.
	if len(s) >= 4 && isDigit(s[0]) {
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '-' {
			var y, m, d int64
			var ok1, ok2, ok3 bool
			datePart, timePart := s, ""
			for k := 0; k < len(s); k++ {
				if s[k] == 'T' || s[k] == 't' {
					datePart, timePart = s[:k], s[k+1:]
					break
				}
			}
			p1 := indexByte(datePart, '-')
			p2 := p1 + 1 + indexByte(datePart[p1+1:], '-')
			if p2 <= p1 {
				return 0, 0, 0, errIntervalSyntax(orig)
			}
			y, ok1 = parseDigits(datePart[:p1])
			m, ok2 = parseDigits(datePart[p1+1 : p2])
			d, ok3 = parseDigits(datePart[p2+1:])
			if !ok1 || !ok2 || !ok3 {
				return 0, 0, 0, errIntervalSyntax(orig)
			}
			acc.months = y*12 + m
			acc.days = d
			if timePart != "" {
				var r dtResult
				if decodeTime(timePart, &r) != dtOK {
					return 0, 0, 0, errIntervalSyntax(orig)
				}
				acc.addMicros(r.tod())
			}
			if acc.bad || acc.months > math.MaxInt32 || acc.days > math.MaxInt32 {
				return 0, 0, 0, errIntervalRange(orig)
			}
			return int32(acc.months), int32(acc.days), acc.micros, nil
		}
	}
	inTime := false
	any := false
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return 0, 0, 0, errIntervalSyntax(orig)
			}
			inTime = true
			s = s[1:]
			continue
		}
		j := 0
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
			j++
		}
		if j == 0 || j == len(s) {
			return 0, 0, 0, errIntervalSyntax(orig)
		}
		num := s[:j]
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, 0, 0, errIntervalSyntax(orig)
		}
		ip, fp := math.Modf(v)
		if math.Abs(ip) > 9e18 {
			return 0, 0, 0, errIntervalRange(orig)
		}
		val := int64(ip)
		var u ivUnit
		switch lower(s[j]) {
		case 'y':
			u = ivYear
		case 'm':
			if inTime {
				u = ivMinute
			} else {
				u = ivMonth
			}
		case 'w':
			u = ivWeek
		case 'd':
			u = ivDay
		case 'h':
			u = ivHour
		case 's':
			u = ivSecond
		default:
			return 0, 0, 0, errIntervalSyntax(orig)
		}
		if inTime != (u == ivHour || u == ivMinute || u == ivSecond) {
			return 0, 0, 0, errIntervalSyntax(orig)
		}
		acc.addUnit(u, val, fp)
		any = true
		s = s[j+1:]
	}
	if !any {
		return 0, 0, 0, errIntervalSyntax(orig)
	}
	if acc.bad || acc.months > math.MaxInt32 || acc.months < math.MinInt32 || acc.days > math.MaxInt32 || acc.days < math.MinInt32 {
		return 0, 0, 0, errIntervalRange(orig)
	}
	return int32(acc.months), int32(acc.days), acc.micros, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// AppendInterval appends an interval in IntervalStyle postgres:
// "1 year 2 mons 3 days 04:05:06", "-1 days +02:03:00", "00:00:00".
func AppendInterval(buf []byte, months, days int32, micros int64) []byte {
	year := months / 12
	mon := months % 12
	isZero := true
	isBefore := false
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
	part(int64(year), "year")
	part(int64(mon), "mon")
	part(int64(days), "day")
	if isZero || micros != 0 {
		if !isZero {
			buf = append(buf, ' ')
		}
		neg := micros < 0
		if neg {
			buf = append(buf, '-')
		} else if isBefore {
			buf = append(buf, '+')
		}
		// |micros| without overflow on MinInt64.
		u := uint64(micros)
		if neg {
			u = -u
		}
		hours := u / uint64(MicrosPerHour)
		rem := u % uint64(MicrosPerHour)
		if hours < 10 {
			buf = append(buf, '0')
		}
		buf = strconv.AppendUint(buf, hours, 10)
		buf = append(buf, ':')
		buf = appendPad(buf, int64(rem/uint64(MicrosPerMinute)), 2)
		buf = append(buf, ':')
		rem %= uint64(MicrosPerMinute)
		buf = appendPad(buf, int64(rem/uint64(MicrosPerSecond)), 2)
		buf = appendFrac(buf, int64(rem%uint64(MicrosPerSecond)))
	}
	return buf
}

// IntervalSpan is the 128-bit comparison value PostgreSQL orders intervals
// by: (months*30 + days) * 86400e6 + micros. '1 mon' equals '30 days'.
func IntervalSpan(months, days int32, micros int64) (hi int64, lo uint64) {
	d := int64(months)*30 + int64(days) // fits easily
	// d * MicrosPerDay as 128-bit signed.
	neg := d < 0
	ud := uint64(d)
	if neg {
		ud = -ud
	}
	h, l := bits.Mul64(ud, uint64(MicrosPerDay))
	if neg {
		// two's complement negate (h, l)
		l = ^l + 1
		h = ^h
		if l == 0 {
			h++
		}
	}
	// add sign-extended micros
	ml := uint64(micros)
	var mh uint64
	if micros < 0 {
		mh = math.MaxUint64
	}
	var carry uint64
	l, carry = bits.Add64(l, ml, 0)
	h, _ = bits.Add64(h, mh, carry)
	return int64(h), l
}

func cmpSpan(ah int64, al uint64, bh int64, bl uint64) int {
	switch {
	case ah < bh:
		return -1
	case ah > bh:
		return 1
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}
