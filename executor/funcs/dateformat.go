package funcs

import (
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// to_char, to_date and to_timestamp(text, text) with PostgreSQL's
// template patterns (docs 9.8), the common subset: YYYY YYY YY Y IYYY
// MM MON Mon mon MONTH Month month DD DDD D ID DAY Day day DY Dy dy HH
// HH12 HH24 MI SS MS US AM PM am pm A.M. P.M. Q WW IW TZ tz OF, the FM
// prefix, "quoted text" and backslash escapes; numbers: 9 0 . D , G S MI
// PL FM.

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// dtPatterns are the template patterns as PostgreSQL spells them
// (formatting.c's DCH_keywords): matched case-sensitively, longer first
// among those sharing a prefix. Numeric fields have an upper- and a
// lower-case spelling with one meaning (mm is MM, the month; mi is MI);
// names have upper, capitalized and lower-case spellings that set the case
// of the output (MONTH, Month, month), as do AM/am, A.M./a.m. and TZ/tz. A
// mixed spelling PostgreSQL does not list (Mm, hH24) is no pattern.
var dtPatterns = [...]string{
	"HH24", "HH12", "HH", "MI", "SS", "MS", "US", "IYYY", "YYYY", "YYY", "YY", "Y",
	"MONTH", "Month", "month", "MON", "Mon", "mon", "MM", "DAY", "Day", "day", "DY", "Dy", "dy",
	"DDD", "DD", "ID", "IW", "D", "WW", "Q", "A.M.", "P.M.", "a.m.", "p.m.", "AM", "PM", "am", "pm",
	"TZ", "tz", "OF",
	"hh24", "hh12", "hh", "mi", "ss", "ms", "us", "iyyy", "yyyy", "yyy", "yy", "y",
	"mm", "ddd", "dd", "id", "iw", "d", "ww", "q", "of",
}

// caseSensitivePatterns are the patterns whose spelling sets the case of
// their output; every other pattern means its upper-case spelling.
var caseSensitivePatterns = map[string]bool{
	"MONTH": true, "Month": true, "month": true, "MON": true, "Mon": true, "mon": true,
	"DAY": true, "Day": true, "day": true, "DY": true, "Dy": true, "dy": true,
	"A.M.": true, "P.M.": true, "a.m.": true, "p.m.": true, "AM": true, "PM": true, "am": true, "pm": true,
	"TZ": true, "tz": true,
}

// matchPattern returns the pattern f starts with, in its canonical
// spelling (of the same length as the text matched), or "".
func matchPattern(f string) string {
	for _, p := range dtPatterns {
		if strings.HasPrefix(f, p) {
			if caseSensitivePatterns[p] {
				return p
			}
			return strings.ToUpper(p)
		}
	}
	return ""
}

func padName(s string, fm bool) string {
	if fm || len(s) >= 9 {
		return s
	}
	return s + strings.Repeat(" ", 9-len(s))
}

func num0(v int64, width int, fm bool) string {
	if fm {
		return strconv.FormatInt(v, 10)
	}
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for len(s) < width {
		s = "0" + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// formatTS renders a broken-down timestamp with a template.
func formatTS(t tm, f string, tz bool, loc *time.Location, us int64) string {
	var b strings.Builder
	days := daysFromCivil(t.year, t.month, t.day)
	year := t.year
	if year <= 0 {
		year = 1 - year
	}
	for i := 0; i < len(f); {
		if f[i] == '"' {
			j := strings.IndexByte(f[i+1:], '"')
			if j < 0 {
				b.WriteString(f[i+1:])
				break
			}
			b.WriteString(f[i+1 : i+1+j])
			i += j + 2
			continue
		}
		if f[i] == '\\' && i+1 < len(f) {
			b.WriteByte(f[i+1])
			i += 2
			continue
		}
		fm := false
		if strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm") {
			fm = true
			i += 2
		}
		p := matchPattern(f[i:])
		if p == "" {
			if !fm {
				b.WriteByte(f[i])
				i++
			}
			continue
		}
		i += len(p)
		h12 := t.hour % 12
		if h12 == 0 {
			h12 = 12
		}
		dow := int(floorMod(days+6, 7))
		switch p {
		case "HH24":
			b.WriteString(num0(int64(t.hour), 2, fm))
		case "HH12", "HH":
			b.WriteString(num0(int64(h12), 2, fm))
		case "MI":
			b.WriteString(num0(int64(t.min), 2, fm))
		case "SS":
			b.WriteString(num0(int64(t.sec), 2, fm))
		case "MS":
			b.WriteString(num0(int64(t.usec/1000), 3, fm))
		case "US":
			b.WriteString(num0(int64(t.usec), 6, fm))
		case "YYYY":
			b.WriteString(num0(year, 4, fm))
		case "IYYY":
			iy, _ := isoWeek(days)
			b.WriteString(num0(iy, 4, fm))
		case "YYY":
			b.WriteString(num0(year%1000, 3, fm))
		case "YY":
			b.WriteString(num0(year%100, 2, fm))
		case "Y":
			b.WriteString(num0(year%10, 1, fm))
		case "MONTH":
			b.WriteString(padName(strings.ToUpper(monthNames[t.month-1]), fm))
		case "Month":
			b.WriteString(padName(monthNames[t.month-1], fm))
		case "month":
			b.WriteString(padName(strings.ToLower(monthNames[t.month-1]), fm))
		case "MON":
			b.WriteString(strings.ToUpper(monthNames[t.month-1][:3]))
		case "Mon":
			b.WriteString(monthNames[t.month-1][:3])
		case "mon":
			b.WriteString(strings.ToLower(monthNames[t.month-1][:3]))
		case "MM":
			b.WriteString(num0(int64(t.month), 2, fm))
		case "DAY":
			b.WriteString(padName(strings.ToUpper(dayNames[dow]), fm))
		case "Day":
			b.WriteString(padName(dayNames[dow], fm))
		case "day":
			b.WriteString(padName(strings.ToLower(dayNames[dow]), fm))
		case "DY":
			b.WriteString(strings.ToUpper(dayNames[dow][:3]))
		case "Dy":
			b.WriteString(dayNames[dow][:3])
		case "dy":
			b.WriteString(strings.ToLower(dayNames[dow][:3]))
		case "DDD":
			b.WriteString(num0(days-daysFromCivil(t.year, 1, 1)+1, 3, fm))
		case "DD":
			b.WriteString(num0(int64(t.day), 2, fm))
		case "D":
			b.WriteString(strconv.Itoa(dow + 1))
		case "ID":
			b.WriteString(strconv.FormatInt(floorMod(days+5, 7)+1, 10))
		case "IW":
			_, w := isoWeek(days)
			b.WriteString(num0(w, 2, fm))
		case "WW":
			b.WriteString(num0((days-daysFromCivil(t.year, 1, 1))/7+1, 2, fm))
		case "Q":
			b.WriteString(strconv.Itoa((t.month-1)/3 + 1))
		case "AM", "PM":
			b.WriteString(ampm(t.hour, "AM", "PM"))
		case "am", "pm":
			b.WriteString(ampm(t.hour, "am", "pm"))
		case "A.M.", "P.M.":
			b.WriteString(ampm(t.hour, "A.M.", "P.M."))
		case "a.m.", "p.m.":
			b.WriteString(ampm(t.hour, "a.m.", "p.m."))
		case "TZ", "tz":
			if tz {
				name, _ := toTime(us).In(loc).Zone()
				if p == "tz" {
					name = strings.ToLower(name)
				}
				b.WriteString(name)
			}
		case "OF":
			if tz {
				b.Write(appendOffset(nil, t.offset))
			}
		}
	}
	return b.String()
}

func ampm(h int, am, pm string) string {
	if h < 12 {
		return am
	}
	return pm
}

var errToCharFmt = sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid value for to_timestamp/to_date")

// parseTS parses s with a template into a broken-down timestamp.
func parseTS(s, f string) (tm, bool, error) {
	t := tm{year: 1, month: 1, day: 1}
	pm, hasAMPM, hasTZ := false, false, false
	si := 0
	skipSep := func() {
		for si < len(s) && !isAlnum(s[si]) && s[si] != '+' && s[si] != '-' {
			si++
		}
	}
	digits := func(max int) (int64, error) {
		skipSep()
		neg := false
		if si < len(s) && s[si] == '-' {
			neg = true
			si++
		}
		j := si
		for j < len(s) && j-si < max && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == si {
			return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", tail(s[si:]), f).
				WithDetail("Value must be an integer.")
		}
		v, _ := strconv.ParseInt(s[si:j], 10, 64)
		si = j
		if neg {
			v = -v
		}
		return v, nil
	}
	for i := 0; i < len(f); {
		if strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm") {
			i += 2
			continue
		}
		if f[i] == '"' {
			j := strings.IndexByte(f[i+1:], '"')
			if j < 0 {
				break
			}
			si += j
			i += j + 2
			continue
		}
		p := matchPattern(f[i:])
		if p == "" {
			i++
			if si < len(s) && !isAlnum(s[si]) {
				si++
			}
			continue
		}
		i += len(p)
		var v int64
		var err error
		switch p {
		case "YYYY", "IYYY":
			v, err = digits(4)
			t.year = v
		case "YYY", "YY", "Y":
			v, err = digits(len(p))
			switch len(p) {
			case 2:
				if v < 70 {
					v += 2000
				} else {
					v += 1900
				}
			case 3:
				v += 2000
			}
			t.year = v
		case "MM":
			v, err = digits(2)
			t.month = int(v)
		case "DD":
			v, err = digits(2)
			t.day = int(v)
		case "DDD":
			v, err = digits(3)
			t.month, t.day = 1, int(v)
		case "HH24":
			v, err = digits(2)
			t.hour = int(v)
		case "HH", "HH12":
			v, err = digits(2)
			t.hour = int(v)
			hasAMPM = true
		case "MI":
			v, err = digits(2)
			t.min = int(v)
		case "SS":
			v, err = digits(2)
			t.sec = int(v)
		case "MS", "US":
			// A fraction: "25" with MS is 250 milliseconds.
			width := 3
			if p == "US" {
				width = 6
			}
			start := si
			v, err = digits(width)
			n := si - start
			for ; n < width; n++ {
				v *= 10
			}
			if p == "MS" {
				v *= 1000
			}
			t.usec += int(v)
		case "AM", "PM", "am", "pm", "A.M.", "P.M.", "a.m.", "p.m.":
			skipSep()
			rest := strings.ToUpper(s[si:])
			switch {
			case strings.HasPrefix(rest, "PM"), strings.HasPrefix(rest, "P.M."):
				pm = true
			case strings.HasPrefix(rest, "AM"), strings.HasPrefix(rest, "A.M."):
			default:
				return t, false, errToCharFmt
			}
			if strings.HasPrefix(rest, "P.M.") || strings.HasPrefix(rest, "A.M.") {
				si += 4
			} else {
				si += 2
			}
			hasAMPM = true
		case "MON", "Mon", "mon", "MONTH", "Month", "month":
			skipSep()
			found := false
			for mi, name := range monthNames {
				full := len(p) > 3
				cand := name[:3]
				if full {
					cand = name
				}
				if len(s)-si >= len(cand) && strings.EqualFold(s[si:si+len(cand)], cand) {
					t.month, found = mi+1, true
					si += len(cand)
					break
				}
			}
			if !found {
				return t, false, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", tail(s[si:]), p).
					WithDetail("The given value did not match any of the allowed values for this field.")
			}
		case "DAY", "Day", "day", "DY", "Dy", "dy":
			skipSep()
			for si < len(s) && isAlnum(s[si]) {
				si++
			}
		case "TZ", "tz", "OF":
			skipSep()
			if si < len(s) && (s[si] == '+' || s[si] == '-') {
				sign := 1
				if s[si] == '-' {
					sign = -1
				}
				si++
				h, e := digits(2)
				if e != nil {
					return t, false, e
				}
				m := int64(0)
				if si < len(s) && s[si] == ':' {
					si++
					m, _ = digits(2)
				}
				t.offset = sign * int(h*3600+m*60)
				hasTZ = true
			}
		default:
			v, err = digits(2)
		}
		if err != nil {
			return t, false, err
		}
	}
	if hasAMPM {
		if t.hour < 1 || t.hour > 12 {
			return t, false, sqlerr.New(sqlerr.InvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", t.hour).
				WithHint("Use the 24-hour clock, or give an hour between 1 and 12.")
		}
		if t.hour == 12 {
			t.hour = 0
		}
		if pm {
			t.hour += 12
		}
	}
	if t.year <= 0 {
		t.year++ // year -1 is 1 BC
	}
	if t.month < 1 || t.month > 12 || t.day < 1 || (t.month > 1 || t.day <= 31) && t.day > daysInMonth(t.year, t.month) && t.month != 1 || t.hour > 24 || t.min > 59 || t.sec > 60 {
		if !(t.month == 1 && t.day > 31 && t.day <= 366) { // DDD
			return t, false, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
		}
	}
	if t.month == 1 && t.day > 31 {
		t.year, t.month, t.day = civilFromDays(daysFromCivil(t.year, 1, 1) + int64(t.day) - 1)
	}
	return t, hasTZ, nil
}

func tail(s string) string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func addDateFormat(t table) {
	t.fn("to_char", ts(kTS, kTxt), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		us := a[0].Micros()
		if isInfTS(us) {
			return types.Null, nil
		}
		return types.NewText(formatTS(tmFromTS(us), a[1].Str(), false, nil, us)), nil
	})
	t.fn("to_char", ts(kTZ, kTxt), types.Text, func(env *Env, a []types.Datum) (types.Datum, error) {
		us := a[0].Micros()
		if isInfTS(us) {
			return types.Null, nil
		}
		return types.NewText(formatTS(tmFromTSTZ(us, envLoc(env)), a[1].Str(), true, envLoc(env), us)), nil
	})
	t.fn("to_char", ts(kIv, kTxt), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		m, d, us := a[0].IntervalParts()
		it := tm{year: int64(m / 12), month: int(m % 12), day: int(d), hour: int(us / usPerHour),
			min: int(us / usPerMin % 60), sec: int(us / usPerSec % 60), usec: int(us % usPerSec)}
		return types.NewText(formatInterval(it, a[1].Str())), nil
	})
	for _, k := range []types.Kind{types.KindInt32, types.KindInt64, types.KindNumeric, types.KindFloat64} {
		t.fn("to_char", ts(k, kTxt), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return toCharNumber(a[0], a[1].Str())
		})
	}
	t.fn("to_timestamp", ts(kTxt, kTxt), types.TimestampTZ, func(env *Env, a []types.Datum) (types.Datum, error) {
		p, hasTZ, err := parseTS(a[0].Str(), a[1].Str())
		if err != nil {
			return types.Null, err
		}
		if hasTZ {
			return tsResult(kTZ, p.toTS()-int64(p.offset)*usPerSec)
		}
		return tsResult(kTZ, localToTSTZ(p, envLoc(env)))
	})
	t.fn("to_date", ts(kTxt, kTxt), types.Date, func(_ *Env, a []types.Datum) (types.Datum, error) {
		p, _, err := parseTS(a[0].Str(), a[1].Str())
		if err != nil {
			return types.Null, err
		}
		return dateResult(daysFromCivil(p.year, p.month, p.day))
	})
}

// formatInterval renders an interval's fields with a template (month and
// day numbers are the interval's, not calendar positions).
func formatInterval(t tm, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); {
		fm := false
		if strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm") {
			fm = true
			i += 2
		}
		p := matchPattern(f[i:])
		if p == "" {
			if i < len(f) {
				b.WriteByte(f[i])
			}
			i++
			continue
		}
		i += len(p)
		switch p {
		case "HH24", "HH", "HH12":
			b.WriteString(num0(int64(t.hour), 2, fm))
		case "MI":
			b.WriteString(num0(int64(t.min), 2, fm))
		case "SS":
			b.WriteString(num0(int64(t.sec), 2, fm))
		case "MS":
			b.WriteString(num0(int64(t.usec/1000), 3, fm))
		case "US":
			b.WriteString(num0(int64(t.usec), 6, fm))
		case "YYYY":
			b.WriteString(num0(t.year, 4, fm))
		case "MM":
			b.WriteString(num0(int64(t.month), 2, fm))
		case "DD":
			b.WriteString(num0(int64(t.day), 2, fm))
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}

// toCharNumber formats a number with a 9/0 template.
func toCharNumber(d types.Datum, f string) (types.Datum, error) {
	var x *apd.Decimal
	switch d.Kind() {
	case types.KindNumeric:
		x = d.Decimal()
	case types.KindFloat64:
		var err error
		x, _, err = apd.NewFromString(strconv.FormatFloat(d.Float(), 'f', -1, 64))
		if err != nil {
			return types.NewText(strings.Repeat("#", len(f))), nil
		}
	default:
		x = apd.New(d.Int(), 0)
	}
	fm := strings.Contains(f, "FM")
	f = strings.ReplaceAll(f, "FM", "")
	intPos, fracPos, seenPoint := 0, 0, false
	zeroFrom := -1
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '9', '0':
			if seenPoint {
				fracPos++
			} else {
				if f[i] == '0' && zeroFrom < 0 {
					zeroFrom = intPos
				}
				intPos++
			}
		case '.', 'D':
			seenPoint = true
		}
	}
	r, err := decRound(x, int32(fracPos))
	if err != nil {
		return types.Null, err
	}
	neg := r.Negative && !r.IsZero()
	var abs apd.Decimal
	abs.Abs(r)
	txt := abs.Text('f')
	intDigits, fracDigits := txt, ""
	if p := strings.IndexByte(txt, '.'); p >= 0 {
		intDigits, fracDigits = txt[:p], txt[p+1:]
	}
	if intDigits == "0" {
		intDigits = ""
	}
	for len(fracDigits) < fracPos {
		fracDigits += "0"
	}
	overflow := len(intDigits) > intPos
	var body strings.Builder
	ii, fi := 0, 0
	started := false
	explicitSign := strings.ContainsAny(f, "S") || strings.Contains(f, "MI") || strings.Contains(f, "PL")
	signDone := false
	writeSign := func() {
		if signDone || explicitSign {
			return
		}
		signDone = true
		switch {
		case neg:
			body.WriteByte('-')
		case !fm:
			body.WriteByte(' ')
		}
	}
	seenPoint = false
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '9' || c == '0':
			if overflow {
				writeSign()
				body.WriteByte('#')
				continue
			}
			if seenPoint {
				body.WriteByte(fracDigits[fi])
				fi++
				continue
			}
			lead := intPos - len(intDigits)
			if ii < lead {
				if zeroFrom >= 0 && ii >= zeroFrom || (ii == intPos-1 && intDigits == "" && fracPos == 0) {
					writeSign()
					body.WriteByte('0')
					started = true
				} else if !fm {
					body.WriteByte(' ')
				}
			} else {
				writeSign()
				body.WriteByte(intDigits[ii-lead])
				started = true
			}
			ii++
		case c == '.' || c == 'D':
			writeSign()
			seenPoint = true
			body.WriteByte('.')
		case c == ',' || c == 'G':
			if started {
				body.WriteByte(',')
			} else if !fm {
				body.WriteByte(' ')
			}
		case c == 'S':
			if neg {
				body.WriteByte('-')
			} else {
				body.WriteByte('+')
			}
		case strings.HasPrefix(f[i:], "MI"):
			if neg {
				body.WriteByte('-')
			} else if !fm {
				body.WriteByte(' ')
			}
			i++
		case strings.HasPrefix(f[i:], "PL"):
			if !neg {
				body.WriteByte('+')
			} else if !fm {
				body.WriteByte(' ')
			}
			i++
		default:
			body.WriteByte(c)
		}
	}
	writeSign()
	out := body.String()
	if fm && fracPos > 0 {
		// FM drops trailing zeros produced by 9s after the point.
		p := strings.LastIndexByte(f, '0')
		q := strings.IndexAny(f, ".D")
		if p < q {
			out = strings.TrimRight(out, "0")
		}
	}
	return types.NewText(out), nil
}
