package types

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
)

func codeOf(err error) string { return string(sqlerr.CodeOf(err)) }

func mustParse(t testing.TB, typ Type, s string) Datum {
	t.Helper()
	d, err := ParseText(typ, s, time.UTC)
	if err != nil {
		t.Fatalf("ParseText(%s, %q): %v", typ, s, err)
	}
	return d
}

// sampleDatums is a spread of values of every kind, with deliberate
// cross-kind equalities.
func sampleDatums(t testing.TB) []Datum {
	var ds []Datum
	add := func(typ Type, ss ...string) {
		for _, s := range ss {
			ds = append(ds, mustParse(t, typ, s))
		}
	}
	ds = append(ds, Null, NullOf(KindInt32))
	add(Bool, "t", "f")
	add(Int16, "0", "1", "-1", "32767", "-32768", "100")
	add(Int32, "0", "1", "-1", "2147483647", "100", "123")
	add(Int64, "0", "1", "-1", "9223372036854775807", "-9223372036854775808", "1152921504606846976", "100")
	add(Float32, "0", "-0", "1", "1.5", "1.1", "NaN", "Infinity", "-Infinity", "3.4028235e38")
	add(Float64, "0", "-0", "1", "1.5", "0.1", "1e20", "1e-310", "NaN", "Infinity", "-Infinity", "1152921504606846976", "100", "123.25", "-2.5")
	add(Numeric, "0", "0.00", "-0.000", "1", "1.0", "1.50", "1.5", "0.1", "100", "1e2", "123.25", "-2.50", "NaN", "Infinity", "-Infinity",
		"12345678901234567890.123456789", "1e20", "100000000000000000000")
	add(Text, "", "a", "abc", "ab", "é")
	ds = append(ds, NewUnknown("abc"))
	add(Bytea, "\\x", "\\x00", "\\x0001", "abc")
	add(Date, "2024-01-02", "2000-01-01", "infinity", "-infinity", "0044-03-15 BC", "1999-12-31")
	add(Time, "00:00", "04:05:06.789", "24:00:00")
	add(Timestamp, "2024-01-02", "2024-01-02 00:00:00.000001", "2000-01-01", "infinity", "-infinity", "1999-12-31 23:59:59")
	add(TimestampTZ, "2024-01-02 00:00:00+00", "2024-01-02 01:00:00+01", "infinity")
	add(Interval, "1 mon", "30 days", "720 hours", "1 day", "24 hours", "0", "-1 days", "1 year", "360 days", "-00:00:00.000001",
		"178000000 years", "-178000000 years")
	add(JSONB, `{"a": 1}`, `{"a": 1.0}`, `{"a": 1.50}`, `{"a": 1.5}`, `[]`, `null`, `[1, 2]`, `"x"`, `1`, `1.00`, `-0`, `0`, `{"b": [true]}`,
		`{"aa": 1}`, `{"b": 1}`, `[null]`, `true`, `false`, `{}`, `[[]]`)
	return ds
}

// comparable reports whether Compare defines an order between the kinds.
func comparableKinds(a, b Kind) bool {
	if a == b {
		return true
	}
	return (isNumberKind(a) && isNumberKind(b)) || (isDateTimeKind(a) && isDateTimeKind(b)) || (isTextKind(a) && isTextKind(b))
}

// TestCompareKeyConsistency: Compare is antisymmetric and transitive on
// the sample, Equal(a, b) iff AppendKey(a) == AppendKey(b) (within
// comparable kinds; see AppendKey on numeric vs float), and keys are
// self-delimiting.
func TestCompareKeyConsistency(t *testing.T) {
	ds := sampleDatums(t)
	keys := make([][]byte, len(ds))
	for i, d := range ds {
		keys[i] = AppendKey(nil, d)
	}
	for i, a := range ds {
		for j, b := range ds {
			if a.IsNull() || b.IsNull() {
				if bytes.Equal(keys[i], keys[j]) != (a.IsNull() && b.IsNull()) {
					t.Errorf("NULL key mismatch %d %d", i, j)
				}
				continue
			}
			c, r := Compare(a, b), Compare(b, a)
			if c != -r {
				t.Errorf("Compare(%s %q, %s %q) = %d but reverse %d", a.Kind(), TextString(a, nil), b.Kind(), TextString(b, nil), c, r)
			}
			if !comparableKinds(a.Kind(), b.Kind()) {
				if bytes.Equal(keys[i], keys[j]) {
					t.Errorf("equal keys for incomparable %s %q and %s %q", a.Kind(), TextString(a, nil), b.Kind(), TextString(b, nil))
				}
				continue
			}
			if Equal(a, b) != (c == 0) {
				t.Errorf("Equal/Compare disagree on %q %q", TextString(a, nil), TextString(b, nil))
			}
			mixedNumFloat := (a.Kind() == KindNumeric && (b.Kind() == KindFloat32 || b.Kind() == KindFloat64)) ||
				(b.Kind() == KindNumeric && (a.Kind() == KindFloat32 || a.Kind() == KindFloat64))
			if !mixedNumFloat && Equal(a, b) != bytes.Equal(keys[i], keys[j]) {
				t.Errorf("Equal(%s %q, %s %q) = %v but keys %x vs %x", a.Kind(), TextString(a, nil), b.Kind(), TextString(b, nil),
					Equal(a, b), keys[i], keys[j])
			}
			for k, x := range ds {
				if x.IsNull() || !comparableKinds(a.Kind(), x.Kind()) || !comparableKinds(b.Kind(), x.Kind()) {
					continue
				}
				if c <= 0 && Compare(b, x) <= 0 && Compare(a, x) > 0 {
					t.Errorf("not transitive: %q <= %q <= %q (%d)", TextString(a, nil), TextString(b, nil), TextString(x, nil), k)
				}
			}
		}
	}
	// Self-delimiting: concatenations of two keys differ whenever a pair differs.
	seen := map[string][2]int{}
	for i := range ds {
		for j := range ds {
			k := string(append(append([]byte{}, keys[i]...), keys[j]...))
			if p, ok := seen[k]; ok {
				if !bytes.Equal(keys[p[0]], keys[i]) || !bytes.Equal(keys[p[1]], keys[j]) {
					t.Errorf("ambiguous concatenated key for (%d,%d) and %v", i, j, p)
				}
			}
			seen[k] = [2]int{i, j}
		}
	}
}

func TestCompareCases(t *testing.T) {
	cases := []struct {
		a, b Datum
		want int
	}{
		{NewInt16(1), NewInt64(1), 0},
		{NewInt32(1), NewFloat64(1.5), -1},
		{NewInt64(math.MaxInt64), NewFloat64(9223372036854775808.0), -1},
		{NewInt64(3), NewFloat64(math.NaN()), -1},
		{NewFloat64(math.NaN()), NewFloat64(math.Inf(1)), 1},
		{NewFloat64(math.NaN()), NewFloat64(math.NaN()), 0},
		{NewFloat64(math.Copysign(0, -1)), NewFloat64(0), 0},
		{mustParse(t, Numeric, "NaN"), mustParse(t, Numeric, "Infinity"), 1},
		{mustParse(t, Numeric, "NaN"), NewFloat64(math.NaN()), 0},
		{mustParse(t, Numeric, "1.10"), mustParse(t, Numeric, "1.1"), 0},
		{mustParse(t, Numeric, "2.5"), NewInt32(3), -1},
		{mustParse(t, Numeric, "-Infinity"), NewInt64(math.MinInt64), -1},
		{mustParse(t, Numeric, "0.1"), NewFloat64(0.1), 0},
		{mustParse(t, Date, "2024-01-02"), mustParse(t, Timestamp, "2024-01-02 00:00:00"), 0},
		{mustParse(t, Date, "2024-01-02"), mustParse(t, Timestamp, "2024-01-02 00:00:01"), -1},
		{mustParse(t, Date, "infinity"), mustParse(t, Timestamp, "infinity"), 0},
		{mustParse(t, Interval, "1 mon"), mustParse(t, Interval, "30 days"), 0},
		{mustParse(t, Interval, "1 mon"), mustParse(t, Interval, "29 days 24:00:01"), -1},
		{NewText("a"), NewText("B"), 1},
		{NewText("abc"), NewUnknown("abc"), 0},
		{mustParse(t, JSONB, "[]"), mustParse(t, JSONB, "null"), -1},
		{mustParse(t, JSONB, "1.0"), mustParse(t, JSONB, "1"), 0},
		{mustParse(t, JSONB, "[1]"), mustParse(t, JSONB, "2"), 1},
		{mustParse(t, JSONB, `{"b":1}`), mustParse(t, JSONB, `{"aa":1}`), 1},
		{mustParse(t, JSONB, `{"a":1,"b":2}`), mustParse(t, JSONB, `{"z":1}`), 1},
		{mustParse(t, JSONB, `"a"`), mustParse(t, JSONB, `1`), -1},
		{mustParse(t, JSONB, `true`), mustParse(t, JSONB, `1`), 1},
		{mustParse(t, JSONB, `{}`), mustParse(t, JSONB, `[1,2,3]`), 1},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%s %q, %s %q) = %d, want %d", c.a.Kind(), TextString(c.a, nil), c.b.Kind(), TextString(c.b, nil), got, c.want)
		}
	}
	if Equal(Null, Null) || Equal(NewInt32(1), Null) {
		t.Error("Equal with NULL must be false")
	}
}
