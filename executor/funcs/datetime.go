package funcs

import (
	"math"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Date/time operators and functions (PostgreSQL docs 9.9). timestamptz
// month and day arithmetic, truncation and field extraction happen in the
// session time zone (Env.Location), as in PostgreSQL.

const (
	kDate = types.KindDate
	kTime = types.KindTime
	kTS   = types.KindTimestamp
	kTZ   = types.KindTimestampTZ
	kIv   = types.KindInterval
	kI4   = types.KindInt32
	kF8   = types.KindFloat64
	kTxt  = types.KindText
)

func envLoc(env *Env) *time.Location {
	if env == nil || env.Location == nil {
		return time.UTC
	}
	return env.Location
}

func addDatetimeOps(t table) {
	dateAdd := func(sign int64, di, ni int) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return dateResult(a[di].Days() + sign*a[ni].Int()) }
	}
	t.fn("+", ts(kDate, kI4), types.Date, dateAdd(1, 0, 1))
	t.fn("+", ts(kI4, kDate), types.Date, dateAdd(1, 1, 0))
	t.fn("-", ts(kDate, kI4), types.Date, dateAdd(-1, 0, 1))
	t.fn("-", ts(kDate, kDate), types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return wrapInt(kI4, a[0].Days()-a[1].Days())
	})
	// date ± interval and date + time give timestamps.
	tsIv := func(sign int32, tsi, ivi int, tz bool, date bool) evalFn {
		return func(env *Env, a []types.Datum) (types.Datum, error) {
			us := a[tsi].Micros()
			if date {
				us = a[tsi].Days() * usPerDay
			}
			m, d, u := a[ivi].IntervalParts()
			var loc *time.Location
			if tz {
				loc = envLoc(env)
			}
			r, err := addInterval(us, sign*m, sign*d, int64(sign)*u, loc)
			if err != nil {
				return types.Null, err
			}
			if tz {
				return types.NewTimestampTZ(r), nil
			}
			return types.NewTimestamp(r), nil
		}
	}
	t.fn("+", ts(kDate, kIv), types.Timestamp, tsIv(1, 0, 1, false, true))
	t.fn("+", ts(kIv, kDate), types.Timestamp, tsIv(1, 1, 0, false, true))
	t.fn("-", ts(kDate, kIv), types.Timestamp, tsIv(-1, 0, 1, false, true))
	t.fn("+", ts(kTS, kIv), types.Timestamp, tsIv(1, 0, 1, false, false))
	t.fn("+", ts(kIv, kTS), types.Timestamp, tsIv(1, 1, 0, false, false))
	t.fn("-", ts(kTS, kIv), types.Timestamp, tsIv(-1, 0, 1, false, false))
	t.fn("+", ts(kTZ, kIv), types.TimestampTZ, tsIv(1, 0, 1, true, false))
	t.fn("+", ts(kIv, kTZ), types.TimestampTZ, tsIv(1, 1, 0, true, false))
	t.fn("-", ts(kTZ, kIv), types.TimestampTZ, tsIv(-1, 0, 1, true, false))
	dateTime := func(di, ti int) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return tsResult(kTS, a[di].Days()*usPerDay+a[ti].Micros())
		}
	}
	t.fn("+", ts(kDate, kTime), types.Timestamp, dateTime(0, 1))
	t.fn("+", ts(kTime, kDate), types.Timestamp, dateTime(1, 0))
	tsDiff := func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, y := a[0].Micros(), a[1].Micros()
		if isInfTS(x) || isInfTS(y) {
			return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
		}
		d := x - y
		if (x >= 0) != (y >= 0) && (d >= 0) != (x >= 0) {
			return types.Null, errIntervalRange
		}
		m, dd, us := justifyHours(0, 0, d)
		return types.NewInterval(m, dd, us), nil
	}
	t.fn("-", ts(kTS, kTS), types.Interval, tsDiff)
	t.fn("-", ts(kTZ, kTZ), types.Interval, tsDiff)
	// time ± interval wraps around midnight; time - time is an interval.
	timeIv := func(sign int64, ti, ivi int) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			_, _, u := a[ivi].IntervalParts()
			return types.NewTime(floorMod(a[ti].Micros()+sign*(u%usPerDay), usPerDay)), nil
		}
	}
	t.fn("+", ts(kTime, kIv), types.Time, timeIv(1, 0, 1))
	t.fn("+", ts(kIv, kTime), types.Time, timeIv(1, 1, 0))
	t.fn("-", ts(kTime, kIv), types.Time, timeIv(-1, 0, 1))
	t.fn("-", ts(kTime, kTime), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewInterval(0, 0, a[0].Micros()-a[1].Micros()), nil
	})
	ivAdd := func(sign int64) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			m1, d1, u1 := a[0].IntervalParts()
			m2, d2, u2 := a[1].IntervalParts()
			return intervalResult(int64(m1)+sign*int64(m2), int64(d1)+sign*int64(d2), u1, sign, u2)
		}
	}
	t.fn("+", ts(kIv, kIv), types.Interval, ivAdd(1))
	t.fn("-", ts(kIv, kIv), types.Interval, ivAdd(-1))
	t.fn("-", ts(kIv), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) {
		m, d, u := a[0].IntervalParts()
		return intervalResult(-int64(m), -int64(d), 0, -1, u)
	})
	t.fn("+", ts(kIv), types.Interval, identity)
	t.fn("*", ts(kIv, kF8), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) { return intervalMul(a[0], a[1].Float(), false) })
	t.fn("*", ts(kF8, kIv), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) { return intervalMul(a[1], a[0].Float(), false) })
	t.fn("/", ts(kIv, kF8), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) { return intervalMul(a[0], a[1].Float(), true) })
}

func isInfTS(us int64) bool { return us == tsInfinity || us == tsNegInfinity }

func dateResult(days int64) (types.Datum, error) {
	// PostgreSQL dates span 4714-11-24 BC .. 5874897 AD.
	if days < -2451545 || days > 2145031948 {
		return types.Null, errDateRange
	}
	return types.NewDate(days), nil
}

func tsResult(k types.Kind, us int64) (types.Datum, error) {
	if us < tsMin || us > tsMax {
		return types.Null, errTSRange
	}
	if k == kTZ {
		return types.NewTimestampTZ(us), nil
	}
	return types.NewTimestamp(us), nil
}

// intervalResult builds months, days, u1 + sign*u2 with range checks.
func intervalResult(months, days, u1, sign, u2 int64) (types.Datum, error) {
	u := u1 + sign*u2
	if sign > 0 && ((u1 > 0 && u2 > 0 && u < 0) || (u1 < 0 && u2 < 0 && u >= 0)) ||
		sign < 0 && ((u1 >= 0 && u2 < 0 && u < 0) || (u1 < 0 && u2 > 0 && u >= 0)) {
		return types.Null, errIntervalRange
	}
	if months != int64(int32(months)) || days != int64(int32(days)) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(int32(months), int32(days), u), nil
}

// addInterval adds months (calendar-wise, clamping the day to the month's
// end), then days, then microseconds to a timestamp; with loc non-nil the
// calendar parts apply to the wall clock in loc (timestamptz).
func addInterval(us int64, months, days int32, micros int64, loc *time.Location) (int64, error) {
	if isInfTS(us) {
		return us, nil
	}
	if months != 0 || days != 0 {
		var t tm
		if loc != nil {
			t = tmFromTSTZ(us, loc)
		} else {
			t = tmFromTS(us)
		}
		if months != 0 {
			total := t.year*12 + int64(t.month-1) + int64(months)
			t.year, t.month = floorDiv(total, 12), int(floorMod(total, 12))+1
			if dim := daysInMonth(t.year, t.month); t.day > dim {
				t.day = dim
			}
		}
		if days != 0 {
			t.year, t.month, t.day = civilFromDays(daysFromCivil(t.year, t.month, t.day) + int64(days))
		}
		if loc != nil {
			us = localToTSTZ(t, loc)
		} else {
			us = t.toTS()
		}
	}
	r := us + micros
	if (micros > 0 && r < us) || (micros < 0 && r > us) || r < tsMin || r > tsMax {
		return 0, errTSRange
	}
	return r, nil
}

// justifyHours moves whole days out of the time part, keeping the signs
// of days and time consistent.
func justifyHours(months, days int32, us int64) (int32, int32, int64) {
	whole := us / usPerDay
	us -= whole * usPerDay
	d := int64(days) + whole
	if d > 0 && us < 0 {
		us += usPerDay
		d--
	} else if d < 0 && us > 0 {
		us -= usPerDay
		d++
	}
	return months, int32(d), us
}

func justifyDays(months, days int32, us int64) (int32, int32, int64) {
	whole := days / 30
	days -= whole * 30
	months += whole
	if months > 0 && days < 0 {
		days += 30
		months--
	} else if months < 0 && days > 0 {
		days -= 30
		months++
	}
	return months, days, us
}

func justifyInterval(months, days int32, us int64) (int32, int32, int64) {
	whole := us / usPerDay
	us -= whole * usPerDay
	d := int64(days) + whole
	wm := d / 30
	d -= wm * 30
	m := int64(months) + wm
	if m > 0 && (d < 0 || (d == 0 && us < 0)) {
		d += 30
		m--
	} else if m < 0 && (d > 0 || (d == 0 && us > 0)) {
		d -= 30
		m++
	}
	if d > 0 && us < 0 {
		us += usPerDay
		d--
	} else if d < 0 && us > 0 {
		us -= usPerDay
		d++
	}
	return int32(m), int32(d), us
}

func tsRound(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }

// intervalMul is interval_mul / interval_div: fractional months cascade
// into days (30 per month) and fractional days into seconds.
func intervalMul(iv types.Datum, factor float64, div bool) (types.Datum, error) {
	if div {
		if factor == 0 {
			return types.Null, errDivZero
		}
		factor = 1 / factor
	}
	if math.IsNaN(factor) || math.IsInf(factor, 0) {
		return types.Null, errIntervalRange
	}
	m, d, u := iv.IntervalParts()
	fm := float64(m) * factor
	fd := float64(d) * factor
	if fm > math.MaxInt32 || fm < math.MinInt32 || fd > math.MaxInt32 || fd < math.MinInt32 {
		return types.Null, errIntervalRange
	}
	rm, rd := int32(fm), int32(fd)
	monthRem := tsRound((fm - float64(rm)) * 30)
	secRem := tsRound((fd - float64(rd) + monthRem - math.Trunc(monthRem)) * 86400)
	if math.Abs(secRem) >= 86400 {
		rd += int32(secRem / 86400)
		secRem -= math.Trunc(secRem/86400) * 86400
	}
	rd += int32(monthRem)
	ft := math.RoundToEven(float64(u)*factor + secRem*1e6)
	if ft >= math.MaxInt64 || ft < math.MinInt64 {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(rm, rd, int64(ft)), nil
}

func addDatetimeFuncs(t table) {
	nowFn := func(env *Env, _ []types.Datum) (types.Datum, error) {
		return types.NewTimestampTZ(fromTime(env.StatementTime)), nil
	}
	for _, n := range []string{"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"} {
		t.fn(n, nil, types.TimestampTZ, nowFn)
	}
	// proctime() is Flink's and RisingWave's name for the wall-clock time
	// a row is processed at; unlike now() it is evaluated per row.
	for _, n := range []string{"clock_timestamp", "proctime"} {
		t.add(n, &Overload{Ret: retConst(types.TimestampTZ), Volatile: true, Eval: func(*Env, []types.Datum) (types.Datum, error) {
			return types.NewTimestampTZ(fromTime(time.Now())), nil
		}})
	}
	local := func(env *Env) int64 {
		us := fromTime(env.StatementTime)
		return tmFromTSTZ(us, envLoc(env)).toTS()
	}
	t.fn("current_date", nil, types.Date, func(env *Env, _ []types.Datum) (types.Datum, error) {
		return types.NewDate(floorDiv(local(env), usPerDay)), nil
	})
	for _, n := range []string{"current_time", "localtime"} {
		t.fn(n, nil, types.Time, func(env *Env, _ []types.Datum) (types.Datum, error) {
			return types.NewTime(floorMod(local(env), usPerDay)), nil
		})
	}
	t.fn("localtimestamp", nil, types.Timestamp, func(env *Env, _ []types.Datum) (types.Datum, error) {
		return types.NewTimestamp(local(env)), nil
	})
	t.fn("date_trunc", ts(kTxt, kTS), types.Timestamp, func(env *Env, a []types.Datum) (types.Datum, error) {
		return dateTrunc(a[0].Str(), a[1].Micros(), nil)
	})
	t.fn("date_trunc", ts(kTxt, kTZ), types.TimestampTZ, func(env *Env, a []types.Datum) (types.Datum, error) {
		return dateTrunc(a[0].Str(), a[1].Micros(), envLoc(env))
	})
	t.fn("date_trunc", ts(kTxt, kTZ, kTxt), types.TimestampTZ, func(env *Env, a []types.Datum) (types.Datum, error) {
		loc, err := loadZone(a[2].Str())
		if err != nil {
			return types.Null, err
		}
		return dateTrunc(a[0].Str(), a[1].Micros(), loc)
	})
	t.fn("date_trunc", ts(kTxt, kIv), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return intervalTrunc(a[0].Str(), a[1])
	})
	for _, k := range []types.Kind{kTS, kTZ, kDate, kTime, kIv} {
		t.fn("date_part", ts(kTxt, k), types.Float64, func(env *Env, a []types.Datum) (types.Datum, error) {
			v, scale, err := extractField(a[0].Str(), a[1], envLoc(env))
			if err != nil {
				return types.Null, err
			}
			return types.NewFloat64(float64(v) / math.Pow10(int(scale))), nil
		})
		t.fn("extract", ts(kTxt, k), types.Numeric, func(env *Env, a []types.Datum) (types.Datum, error) {
			v, scale, err := extractField(a[0].Str(), a[1], envLoc(env))
			if err != nil {
				return types.Null, err
			}
			return types.NewNumeric(apd.New(v, -scale)), nil
		})
	}
	t.fn("age", ts(kTS, kTS), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return age(a[0].Micros(), a[1].Micros(), nil)
	})
	t.fn("age", ts(kTZ, kTZ), types.Interval, func(env *Env, a []types.Datum) (types.Datum, error) {
		return age(a[0].Micros(), a[1].Micros(), envLoc(env))
	})
	t.fn("age", ts(kTS), types.Interval, func(env *Env, a []types.Datum) (types.Datum, error) {
		return age(floorDiv(local(env), usPerDay)*usPerDay, a[0].Micros(), nil)
	})
	t.fn("age", ts(kTZ), types.Interval, func(env *Env, a []types.Datum) (types.Datum, error) {
		midnight := tmFromTS(floorDiv(local(env), usPerDay) * usPerDay)
		return age(localToTSTZ(midnight, envLoc(env)), a[0].Micros(), envLoc(env))
	})
	t.fn("to_timestamp", ts(kF8), types.TimestampTZ, func(_ *Env, a []types.Datum) (types.Datum, error) {
		f := a[0].Float()
		switch {
		case math.IsNaN(f):
			return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp cannot be NaN")
		case math.IsInf(f, 1):
			return types.NewTimestampTZ(tsInfinity), nil
		case math.IsInf(f, -1):
			return types.NewTimestampTZ(tsNegInfinity), nil
		}
		us := math.RoundToEven(f*1e6) - float64(unixToPG*usPerDay)
		if us < float64(tsMin) || us > float64(tsMax) {
			return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: \"%g\"", f)
		}
		return types.NewTimestampTZ(int64(us)), nil
	})
	t.fn("make_date", ts(kI4, kI4, kI4), types.Date, func(_ *Env, a []types.Datum) (types.Datum, error) {
		y, m, d := a[0].Int(), a[1].Int(), a[2].Int()
		days, err := makeDate(y, m, d)
		if err != nil {
			return types.Null, err
		}
		return types.NewDate(days), nil
	})
	t.fn("make_timestamp", ts(kI4, kI4, kI4, kI4, kI4, kF8), types.Timestamp, func(_ *Env, a []types.Datum) (types.Datum, error) {
		us, err := makeTimestamp(a)
		if err != nil {
			return types.Null, err
		}
		return tsResult(kTS, us)
	})
	t.fn("make_timestamptz", ts(kI4, kI4, kI4, kI4, kI4, kF8), types.TimestampTZ, func(env *Env, a []types.Datum) (types.Datum, error) {
		us, err := makeTimestamp(a)
		if err != nil {
			return types.Null, err
		}
		return tsResult(kTZ, localToTSTZ(tmFromTS(us), envLoc(env)))
	})
	t.fn("make_time", ts(kI4, kI4, kF8), types.Time, func(_ *Env, a []types.Datum) (types.Datum, error) {
		h, mi, s := a[0].Int(), a[1].Int(), a[2].Float()
		if h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60 || (h == 24 && (mi > 0 || s > 0)) {
			return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%v", h, mi, s)
		}
		return types.NewTime(h*usPerHour + mi*usPerMin + int64(math.RoundToEven(s*1e6))), nil
	})
	// make_interval(years, months, weeks, days, hours, mins, secs), any
	// prefix of the arguments (the rest default to 0).
	for n := 0; n <= 7; n++ {
		args := []types.Kind{kI4, kI4, kI4, kI4, kI4, kI4, kF8}[:n]
		t.fn("make_interval", ts(args...), types.Interval, func(_ *Env, a []types.Datum) (types.Datum, error) {
			var v [6]int64
			secs := 0.0
			for i, d := range a {
				if i == 6 {
					secs = d.Float()
				} else {
					v[i] = d.Int()
				}
			}
			months := v[0]*12 + v[1]
			days := v[2]*7 + v[3]
			us := float64(v[4])*float64(usPerHour) + float64(v[5])*float64(usPerMin) + math.RoundToEven(secs*1e6)
			if months != int64(int32(months)) || days != int64(int32(days)) || math.Abs(us) > math.MaxInt64/2 {
				return types.Null, errIntervalRange
			}
			return types.NewInterval(int32(months), int32(days), int64(us)), nil
		})
	}
	justify := func(f func(int32, int32, int64) (int32, int32, int64)) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewInterval(f(a[0].IntervalParts())), nil
		}
	}
	t.fn("justify_days", ts(kIv), types.Interval, justify(justifyDays))
	t.fn("justify_hours", ts(kIv), types.Interval, justify(justifyHours))
	t.fn("justify_interval", ts(kIv), types.Interval, justify(justifyInterval))
	t.fn("isfinite", ts(kDate), types.Bool, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBool(a[0].Days() != math.MaxInt32 && a[0].Days() != math.MinInt32), nil
	})
	for _, k := range []types.Kind{kTS, kTZ} {
		t.fn("isfinite", ts(k), types.Bool, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewBool(!isInfTS(a[0].Micros())), nil
		})
	}
	t.fn("isfinite", ts(kIv), types.Bool, func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewBool(true), nil })
	for _, k := range []types.Kind{kTS, kTZ} {
		t.fn("date_bin", ts(kIv, k, k), types.Type{Kind: k}, func(_ *Env, a []types.Datum) (types.Datum, error) {
			m, d, u := a[0].IntervalParts()
			if m != 0 {
				return types.Null, sqlerr.Unsupported("timestamps cannot be binned into intervals containing months or years")
			}
			stride := int64(d)*usPerDay + u
			if stride <= 0 {
				return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "stride must be greater than zero")
			}
			x, origin := a[1].Micros(), a[2].Micros()
			return tsResult(k, origin+floorDiv(x-origin, stride)*stride)
		})
	}
	addDateFormat(t)
}

func loadZone(name string) (*time.Location, error) {
	if strings.EqualFold(name, "utc") || strings.EqualFold(name, "gmt") {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "time zone \"%s\" not recognized", name)
	}
	return loc, nil
}

func makeDate(y, m, d int64) (int64, error) {
	if y == 0 || m < 1 || m > 12 || d < 1 || d > int64(daysInMonth(astroYear(y), int(m))) {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	return daysFromCivil(astroYear(y), int(m), int(d)), nil
}

// astroYear converts a SQL year (negative for BC, no year 0) to an
// astronomical one.
func astroYear(y int64) int64 {
	if y < 0 {
		return y + 1
	}
	return y
}

func makeTimestamp(a []types.Datum) (int64, error) {
	days, err := makeDate(a[0].Int(), a[1].Int(), a[2].Int())
	if err != nil {
		return 0, err
	}
	h, mi, s := a[3].Int(), a[4].Int(), a[5].Float()
	if h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60 || (h == 24 && (mi > 0 || s > 0)) {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%v", h, mi, s)
	}
	return days*usPerDay + h*usPerHour + mi*usPerMin + int64(math.RoundToEven(s*1e6)), nil
}

// unitAliases maps PostgreSQL's accepted spellings of field names.
func normUnit(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	switch u {
	case "microsecond", "microseconds", "us", "usec", "usecs", "useconds":
		return "microseconds"
	case "millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds":
		return "milliseconds"
	case "second", "seconds", "s", "sec", "secs":
		return "second"
	case "minute", "minutes", "m", "min", "mins":
		return "minute"
	case "hour", "hours", "h", "hr", "hrs":
		return "hour"
	case "day", "days", "d":
		return "day"
	case "week", "weeks", "w":
		return "week"
	case "month", "months", "mon", "mons":
		return "month"
	case "quarter", "qtr":
		return "quarter"
	case "year", "years", "y", "yr", "yrs":
		return "year"
	case "decade", "decades", "dec", "decs":
		return "decade"
	case "century", "centuries", "c", "cent":
		return "century"
	case "millennium", "millennia", "mil", "mils", "millenniums":
		return "millennium"
	}
	return u
}

func kindUnitsName(k types.Kind) string { return types.Type{Kind: k}.String() }

func unitNotRecognized(unit string, k types.Kind) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, "unit \"%s\" not recognized for type %s", unit, kindUnitsName(k))
}

func unitNotSupported(unit string, k types.Kind) error {
	return sqlerr.Unsupported("unit \"%s\" not supported for type %s", unit, kindUnitsName(k))
}

// dateTrunc truncates a timestamp (loc nil) or timestamptz (in loc).
func dateTrunc(unit string, us int64, loc *time.Location) (types.Datum, error) {
	k := kTS
	if loc != nil {
		k = kTZ
	}
	if isInfTS(us) {
		return tsResult(k, us)
	}
	var t tm
	if loc != nil {
		t = tmFromTSTZ(us, loc)
	} else {
		t = tmFromTS(us)
	}
	redo := true
	switch u := normUnit(unit); u {
	case "millennium":
		if t.year > 0 {
			t.year = ((t.year+999)/1000)*1000 - 999
		} else {
			t.year = -((999-(t.year-1))/1000)*1000 + 1
		}
		t.month, t.day = 1, 1
	case "century":
		if t.year > 0 {
			t.year = ((t.year+99)/100)*100 - 99
		} else {
			t.year = -((99-(t.year-1))/100)*100 + 1
		}
		t.month, t.day = 1, 1
	case "decade":
		if t.year > 0 {
			t.year = (t.year / 10) * 10
		} else {
			t.year = -((8 - (t.year - 1)) / 10) * 10
		}
		t.month, t.day = 1, 1
	case "year":
		t.month, t.day = 1, 1
	case "quarter":
		t.month, t.day = 3*((t.month-1)/3)+1, 1
	case "month":
		t.day = 1
	case "week":
		days := daysFromCivil(t.year, t.month, t.day)
		days -= floorMod(days+5, 7) // back to Monday
		t.year, t.month, t.day = civilFromDays(days)
	case "day":
	case "hour", "minute", "second", "milliseconds", "microseconds":
		redo = false
	default:
		return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "unit \"%s\" not recognized for type %s", unit, kindUnitsName(k))
	}
	switch normUnit(unit) {
	case "millennium", "century", "decade", "year", "quarter", "month", "week", "day":
		t.hour, t.min, t.sec, t.usec = 0, 0, 0, 0
	case "hour":
		t.min, t.sec, t.usec = 0, 0, 0
	case "minute":
		t.sec, t.usec = 0, 0
	case "second":
		t.usec = 0
	case "milliseconds":
		t.usec = t.usec / 1000 * 1000
	}
	if loc == nil {
		return tsResult(kTS, t.toTS())
	}
	if redo {
		return tsResult(kTZ, localToTSTZ(t, loc))
	}
	return tsResult(kTZ, t.toTS()-int64(t.offset)*usPerSec)
}

func intervalTrunc(unit string, iv types.Datum) (types.Datum, error) {
	m, d, us := iv.IntervalParts()
	year, mon := m/12, m%12
	h, mi := us/usPerHour, us/usPerMin%60
	sec := us % usPerMin
	switch normUnit(unit) {
	case "millennium":
		return types.NewInterval(year/1000*1000*12, 0, 0), nil
	case "century":
		return types.NewInterval(year/100*100*12, 0, 0), nil
	case "decade":
		return types.NewInterval(year/10*10*12, 0, 0), nil
	case "year":
		return types.NewInterval(year*12, 0, 0), nil
	case "quarter":
		return types.NewInterval(year*12+3*(mon/3), 0, 0), nil
	case "month":
		return types.NewInterval(m, 0, 0), nil
	case "day":
		return types.NewInterval(m, d, 0), nil
	case "hour":
		return types.NewInterval(m, d, h*usPerHour), nil
	case "minute":
		return types.NewInterval(m, d, h*usPerHour+mi*usPerMin), nil
	case "second":
		return types.NewInterval(m, d, h*usPerHour+mi*usPerMin+sec/usPerSec*usPerSec), nil
	case "milliseconds":
		return types.NewInterval(m, d, h*usPerHour+mi*usPerMin+sec/1000*1000), nil
	case "microseconds":
		return iv, nil
	case "week":
		return types.Null, sqlerr.Unsupported("interval units \"%s\" not supported because months usually have fractional weeks", unit)
	}
	return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "interval units \"%s\" not recognized", unit)
}

// isoWeek returns the ISO year and week of a date.
func isoWeek(days int64) (year int64, week int64) {
	isodow := floorMod(days+5, 7) + 1
	thursday := days - (isodow - 1) + 3
	ty, _, _ := civilFromDays(thursday)
	return ty, (thursday-daysFromCivil(ty, 1, 1))/7 + 1
}

// sqlYear converts an astronomical year to the SQL one (1 BC = -1).
func sqlYear(y int64) int64 {
	if y <= 0 {
		return y - 1
	}
	return y
}

// extractField computes EXTRACT(unit FROM d) as value * 10^-scale.
func extractField(unit string, d types.Datum, loc *time.Location) (int64, int32, error) {
	k := d.Kind()
	u := normUnit(unit)
	switch k {
	case kIv:
		return extractInterval(unit, u, d)
	case kTime:
		us := d.Micros()
		switch u {
		case "microseconds":
			return us % usPerMin, 0, nil
		case "milliseconds":
			return us % usPerMin, 3, nil
		case "second":
			return us % usPerMin, 6, nil
		case "minute":
			return us / usPerMin % 60, 0, nil
		case "hour":
			return us / usPerHour, 0, nil
		case "epoch":
			return us, 6, nil
		case "day", "week", "month", "quarter", "year", "decade", "century", "millennium":
			return 0, 0, unitNotSupported(unit, k)
		}
		return 0, 0, unitNotRecognized(unit, k)
	}
	var us int64
	var t tm
	switch k {
	case kDate:
		if d.Days() == math.MaxInt32 || d.Days() == math.MinInt32 {
			return 0, 0, unitNotSupported(unit, k)
		}
		us = d.Days() * usPerDay
		t = tmFromTS(us)
		switch u {
		case "microseconds", "milliseconds", "second", "minute", "hour", "timezone", "timezone_hour", "timezone_minute":
			return 0, 0, unitNotSupported(unit, k)
		}
	case kTS:
		us = d.Micros()
		t = tmFromTS(us)
	default:
		us = d.Micros()
		t = tmFromTSTZ(us, loc)
	}
	if isInfTS(us) {
		return 0, 0, sqlerr.Unsupported("infinite timestamps are not supported by extract")
	}
	days := daysFromCivil(t.year, t.month, t.day)
	secUS := int64(t.sec)*usPerSec + int64(t.usec)
	switch u {
	case "microseconds":
		return secUS, 0, nil
	case "milliseconds":
		return secUS, 3, nil
	case "second":
		return secUS, 6, nil
	case "minute":
		return int64(t.min), 0, nil
	case "hour":
		return int64(t.hour), 0, nil
	case "day":
		return int64(t.day), 0, nil
	case "month":
		return int64(t.month), 0, nil
	case "quarter":
		return int64((t.month-1)/3 + 1), 0, nil
	case "year":
		return sqlYear(t.year), 0, nil
	case "decade":
		if t.year >= 0 {
			return t.year / 10, 0, nil
		}
		return -((8 - (t.year - 1)) / 10), 0, nil
	case "century":
		if t.year > 0 {
			return (t.year + 99) / 100, 0, nil
		}
		return -((99 - (t.year - 1)) / 100), 0, nil
	case "millennium":
		if t.year > 0 {
			return (t.year + 999) / 1000, 0, nil
		}
		return -((999 - (t.year - 1)) / 1000), 0, nil
	case "week":
		_, w := isoWeek(days)
		return w, 0, nil
	case "isoyear":
		y, _ := isoWeek(days)
		return sqlYear(y), 0, nil
	case "dow":
		return floorMod(days+6, 7), 0, nil
	case "isodow":
		return floorMod(days+5, 7) + 1, 0, nil
	case "doy":
		return days - daysFromCivil(t.year, 1, 1) + 1, 0, nil
	case "epoch":
		if k == kDate {
			return (days + unixToPG) * 86400, 0, nil
		}
		return us + unixToPG*usPerDay, 6, nil
	case "julian":
		return days + 2451545, 0, nil
	case "timezone", "timezone_hour", "timezone_minute":
		if k != kTZ {
			return 0, 0, unitNotSupported(unit, k)
		}
		switch u {
		case "timezone":
			return int64(t.offset), 0, nil
		case "timezone_hour":
			return int64(t.offset / 3600), 0, nil
		}
		return int64(t.offset / 60 % 60), 0, nil
	}
	return 0, 0, unitNotRecognized(unit, k)
}

func extractInterval(unit, u string, d types.Datum) (int64, int32, error) {
	m, days, us := d.IntervalParts()
	year := int64(m / 12)
	secUS := us % usPerMin
	switch u {
	case "microseconds":
		return secUS, 0, nil
	case "milliseconds":
		return secUS, 3, nil
	case "second":
		return secUS, 6, nil
	case "minute":
		return us / usPerMin % 60, 0, nil
	case "hour":
		return us / usPerHour, 0, nil
	case "day":
		return int64(days), 0, nil
	case "month":
		return int64(m % 12), 0, nil
	case "quarter":
		return int64(m%12)/3 + 1, 0, nil
	case "year":
		return year, 0, nil
	case "decade":
		return year / 10, 0, nil
	case "century":
		return year / 100, 0, nil
	case "millennium":
		return year / 1000, 0, nil
	case "epoch":
		// 365.25 days per year, 30 per month, as PostgreSQL.
		return year*31557600*usPerSec + int64(m%12)*30*usPerDay + int64(days)*usPerDay + us, 6, nil
	case "week", "dow", "isodow", "doy", "isoyear", "timezone", "timezone_hour", "timezone_minute":
		return 0, 0, unitNotSupported(unit, kIv)
	}
	return 0, 0, unitNotRecognized(unit, kIv)
}

// age subtracts field by field, borrowing from the next larger field, so
// that age('2024-03-31', '2024-02-29') is '1 mon 2 days'.
func age(x, y int64, loc *time.Location) (types.Datum, error) {
	if isInfTS(x) || isInfTS(y) {
		return types.Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	var t1, t2 tm
	if loc != nil {
		t1, t2 = tmFromTSTZ(x, loc), tmFromTSTZ(y, loc)
	} else {
		t1, t2 = tmFromTS(x), tmFromTS(y)
	}
	fsec := int64(t1.usec - t2.usec)
	sec := int64(t1.sec - t2.sec)
	min := int64(t1.min - t2.min)
	hour := int64(t1.hour - t2.hour)
	mday := int64(t1.day - t2.day)
	mon := int64(t1.month - t2.month)
	year := t1.year - t2.year
	neg := x < y
	if neg {
		fsec, sec, min, hour, mday, mon, year = -fsec, -sec, -min, -hour, -mday, -mon, -year
	}
	for fsec < 0 {
		fsec += usPerSec
		sec--
	}
	for sec < 0 {
		sec += 60
		min--
	}
	for min < 0 {
		min += 60
		hour--
	}
	for hour < 0 {
		hour += 24
		mday--
	}
	for mday < 0 {
		if neg {
			mday += int64(daysInMonth(t1.year, t1.month))
		} else {
			mday += int64(daysInMonth(t2.year, t2.month))
		}
		mon--
	}
	for mon < 0 {
		mon += 12
		year--
	}
	if neg {
		fsec, sec, min, hour, mday, mon, year = -fsec, -sec, -min, -hour, -mday, -mon, -year
	}
	return intervalResult(year*12+mon, mday, hour*usPerHour+min*usPerMin+sec*usPerSec+fsec, 0, 0)
}
