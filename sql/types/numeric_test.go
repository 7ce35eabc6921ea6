package types

import (
	"testing"

	"github.com/cockroachdb/apd/v3"
)

func dec(t testing.TB, s string) *apd.Decimal {
	t.Helper()
	d, err := ParseNumeric(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDivNumeric: results copied from PostgreSQL 15 (x::numeric / y::numeric,
// round(x/y, 2), trunc(x/y, 1)).
func TestDivNumeric(t *testing.T) {
	cases := []struct{ x, y, q, r2, t1 string }{
		{"1", "3", "0.33333333333333333333", "0.33", "0.3"},
		{"2", "3", "0.66666666666666666667", "0.67", "0.6"},
		{"10", "3", "3.3333333333333333", "3.33", "3.3"},
		{"1", "7", "0.14285714285714285714", "0.14", "0.1"},
		{"100000", "3", "33333.333333333333", "33333.33", "33333.3"},
		{"1", "30000", "0.000033333333333333333333", "0.00", "0.0"},
		{"1.5", "2", "0.75000000000000000000", "0.75", "0.7"},
		{"-7", "2", "-3.5000000000000000", "-3.50", "-3.5"},
		{"1.00000000000000000000", "3", "0.33333333333333333333", "0.33", "0.3"},
		{"123456789", "0.001", "123456789000.00000000", "123456789000.00", "123456789000.0"},
		{"0.0001", "3", "0.000033333333333333333333", "0.00", "0.0"},
		{"99999999", "1", "99999999.000000000000", "99999999.00", "99999999.0"},
		{"1", "99999999", "0.000000010000000100000001", "0.00", "0.0"},
		{"5", "2", "2.5000000000000000", "2.50", "2.5"},
		{"12345.6789", "0.01", "1234567.890000000000", "1234567.89", "1234567.8"},
		{"0", "5", "0.00000000000000000000", "0.00", "0.0"},
		{"2", "0.5", "4.0000000000000000", "4.00", "4.0"},
	}
	for _, c := range cases {
		q, err := DivNumeric(dec(t, c.x), dec(t, c.y))
		if err != nil {
			t.Fatalf("%s/%s: %v", c.x, c.y, err)
		}
		if got := NumericString(q); got != c.q {
			t.Errorf("%s / %s = %s, want %s", c.x, c.y, got, c.q)
		}
		r, _ := RoundNumeric(q, 2)
		if got := NumericString(r); got != c.r2 {
			t.Errorf("round(%s / %s, 2) = %s, want %s", c.x, c.y, got, c.r2)
		}
		tr, _ := TruncNumeric(q, 1)
		if got := NumericString(tr); got != c.t1 {
			t.Errorf("trunc(%s / %s, 1) = %s, want %s", c.x, c.y, got, c.t1)
		}
	}
	if _, err := DivNumeric(dec(t, "1"), dec(t, "0.00")); codeOf(err) != "22012" {
		t.Errorf("division by zero: %v", err)
	}
	for _, c := range [][3]string{{"NaN", "1", "NaN"}, {"Infinity", "-2", "-Infinity"}, {"1", "Infinity", "0"}, {"Infinity", "Infinity", "NaN"}} {
		q, err := DivNumeric(dec(t, c[0]), dec(t, c[1]))
		if err != nil || NumericString(q) != c[2] {
			t.Errorf("%s / %s = %v %v, want %s", c[0], c[1], q, err, c[2])
		}
	}
}

func TestRoundNumeric(t *testing.T) {
	cases := []struct {
		in    string
		scale int32
		want  string
	}{
		{"2.5", 0, "3"}, {"-2.5", 0, "-3"}, {"1234.5678", 2, "1234.57"}, {"1234.5", -2, "1200"},
		{"1250", -2, "1300"}, {"0.005", 2, "0.01"}, {"-0.004", 2, "0.00"}, {"1.5", 3, "1.500"},
		{"NaN", 2, "NaN"}, {"99.5", 0, "100"},
	}
	for _, c := range cases {
		r, err := RoundNumeric(dec(t, c.in), c.scale)
		if err != nil || NumericString(r) != c.want {
			t.Errorf("round(%s, %d) = %v %v, want %s", c.in, c.scale, r, err, c.want)
		}
	}
}

func TestNumericConversions(t *testing.T) {
	if d := NewNumericFromInt64(-42); TextString(d, nil) != "-42" {
		t.Errorf("NewNumericFromInt64: %s", TextString(d, nil))
	}
	f, err := DatumToFloat(mustParse(t, Numeric, "0.1"))
	if err != nil || f != 0.1 {
		t.Errorf("DatumToFloat: %v %v", f, err)
	}
	n, err := DatumToNumeric(NewFloat64(1.0 / 3))
	if err != nil || NumericString(n) != "0.333333333333333" {
		t.Errorf("DatumToNumeric: %v %v", n, err)
	}
	n, err = DatumToNumeric(NewInt16(7))
	if err != nil || NumericString(n) != "7" {
		t.Errorf("DatumToNumeric: %v %v", n, err)
	}
	if _, err := DatumToNumeric(NewText("1")); codeOf(err) != "42846" {
		t.Errorf("DatumToNumeric(text): %v", err)
	}
}
