package funcs

import (
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Test constructors for argument datums.
func i2(v int16) types.Datum   { return types.NewInt16(v) }
func i4(v int32) types.Datum   { return types.NewInt32(v) }
func i8(v int64) types.Datum   { return types.NewInt64(v) }
func f4(v float32) types.Datum { return types.NewFloat32(v) }
func f8(v float64) types.Datum { return types.NewFloat64(v) }
func tx(s string) types.Datum  { return types.NewText(s) }
func bo(b bool) types.Datum    { return types.NewBool(b) }
func by(s string) types.Datum  { return types.NewBytea([]byte(s)) }
func jb(s string) types.Datum  { return types.NewJSONB(s) }
func unk(s string) types.Datum { return types.NewUnknown(s) }
func null(k types.Kind) types.Datum {
	return types.NullOf(k)
}

func num(s string) types.Datum {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return types.NewNumeric(d)
}

func mustTime(layout, s string) time.Time {
	t, err := time.Parse(layout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dt(s string) types.Datum {
	t := mustTime("2006-01-02", s)
	return types.NewDate(floorDiv(fromTime(t), usPerDay))
}

func tsv(s string) types.Datum {
	layout := "2006-01-02 15:04:05.999999"
	return types.NewTimestamp(fromTime(mustTime(layout, s)))
}

// tz parses a timestamptz written with its offset: "2024-03-31 01:30:00+00".
func tz(s string) types.Datum {
	return types.NewTimestampTZ(fromTime(mustTime("2006-01-02 15:04:05.999999-07", s)))
}

func tm_(s string) types.Datum {
	t := mustTime("15:04:05.999999", s)
	return types.NewTime(int64(t.Hour())*usPerHour + int64(t.Minute())*usPerMin + int64(t.Second())*usPerSec + int64(t.Nanosecond()/1000))
}

func iv(months, days int32, micros int64) types.Datum { return types.NewInterval(months, days, micros) }

// testCast converts a test argument to the type resolution asked for.
func testCast(t *testing.T, d types.Datum, to types.Type) types.Datum {
	if d.IsNull() {
		return types.NullOf(to.Kind)
	}
	from := d.Kind()
	if from == to.Kind || to.Kind == types.KindUnknown {
		return d
	}
	switch to.Kind {
	case types.KindInt32, types.KindInt64, types.KindInt16:
		return testIntKind(to.Kind, d.Int())
	case types.KindFloat32, types.KindFloat64:
		f, ok := toFloat(d)
		if !ok {
			break
		}
		if to.Kind == types.KindFloat32 {
			return types.NewFloat32(float32(f))
		}
		return types.NewFloat64(f)
	case types.KindNumeric:
		if isIntKind(from) {
			return types.NewNumeric(apd.New(d.Int(), 0))
		}
	case types.KindTimestamp:
		if from == types.KindDate {
			return types.NewTimestamp(d.Days() * usPerDay)
		}
	case types.KindTimestampTZ:
		if from == types.KindTimestamp {
			return types.NewTimestampTZ(localToTSTZ(tmFromTS(d.Micros()), testEnv().Location))
		}
		if from == types.KindDate {
			return types.NewTimestampTZ(localToTSTZ(tmFromTS(d.Days()*usPerDay), testEnv().Location))
		}
	case types.KindText:
		if from == types.KindUnknown {
			return types.NewText(d.Str())
		}
	case types.KindInterval:
		if from == types.KindTime {
			return types.NewInterval(0, 0, d.Micros())
		}
	case types.KindJSONB:
		if from == types.KindUnknown {
			return types.NewJSONB(d.Str())
		}
	}
	t.Fatalf("test cannot cast %v to %v", from, to)
	return d
}

func testIntKind(k types.Kind, v int64) types.Datum {
	d, _ := wrapInt(k, v)
	return d
}

func testEnv() *Env {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return &Env{
		StatementTime: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
		Location:      loc,
		Setting: func(name string) (string, bool) {
			switch name {
			case "timezone":
				return "Europe/Amsterdam", true
			case "application_name":
				return "psql", true
			}
			return "", false
		},
		Database: "weir", User: "alice", Schema: "public",
		Version: "PostgreSQL 15.0 (Weir 0.1)",
	}
}

// call resolves name for the arguments' kinds, casts them as resolution
// says, and evaluates, returning the text output, "NULL", or "ERR:<code>".
func call(t *testing.T, name string, args ...types.Datum) string {
	t.Helper()
	ats := make([]types.Type, len(args))
	for i, a := range args {
		ats[i] = types.Type{Kind: a.Kind()}
	}
	r, err := Resolve(name, ats)
	if err != nil {
		return "ERR:" + string(sqlerr.CodeOf(err))
	}
	cast := make([]types.Datum, len(args))
	anyNull := false
	for i, a := range args {
		cast[i] = testCast(t, a, r.ArgTypes[i])
		anyNull = anyNull || a.IsNull()
	}
	if anyNull && !r.Overload.NullIn {
		return "NULL"
	}
	env := testEnv()
	d, err := r.Evaluator()(env, cast)
	if err != nil {
		e := sqlerr.From(err)
		if e.Code == sqlerr.InternalError {
			t.Errorf("%s: internal error %v", name, err)
		}
		return "ERR:" + string(e.Code)
	}
	if d.IsNull() {
		return "NULL"
	}
	if d.Kind() != r.Ret.Kind && r.Ret.Kind != types.KindUnknown {
		t.Errorf("%s%v: result kind %v, Ret says %v", name, ats, d.Kind(), r.Ret)
	}
	return datumText(d, env.Location)
}

type evalCase struct {
	name string
	args []types.Datum
	want string
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		got := call(t, c.name, c.args...)
		if got != c.want {
			var b strings.Builder
			for i, a := range c.args {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(datumText(a, testEnv().Location))
				b.WriteString("::")
				b.WriteString(types.Type{Kind: a.Kind()}.String())
			}
			t.Errorf("%s(%s) = %q, want %q", c.name, b.String(), got, c.want)
		}
	}
}
