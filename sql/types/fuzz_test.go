package types

import (
	"testing"
	"time"
)

var fuzzTypes = []Type{Bool, Int16, Int32, Int64, Float32, Float64, Numeric, {Kind: KindNumeric, Precision: 6, Scale: 2},
	Text, {Kind: KindText, Width: 3}, {Kind: KindText, Width: 3, Fixed: true}, Bytea, Date, Time, Timestamp, TimestampTZ, Interval, JSONB}

// FuzzParseText: ParseText never panics, and whatever it accepts prints
// as text that parses back to an equal value (output and input agree).
func FuzzParseText(f *testing.F) {
	for _, s := range []string{"1", " -12 ", "1.5e3", "NaN", "-Infinity", "2024-01-02 03:04:05.123+01", "1 year 2 mons",
		"P1Y2M3DT4H5M6S", "@ 1 minute ago", "-1 days +2:03", `{"a": [1, 2.50, "x"]}`, "\\x0a0b", "a\\001b", "Jan 2 2024",
		"0044-03-15 BC", "24:00:00", "epoch", "1-2", "3 4:05:06", "9223372036854775807 us", "yes", "of"} {
		f.Add(s)
	}
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range fuzzTypes {
			d, err := ParseText(typ, s, loc)
			if err != nil {
				continue
			}
			out := TextString(d, loc)
			back, err := ParseText(typ, out, loc)
			if err != nil {
				t.Fatalf("%s: %q -> %q does not parse back: %v", typ, s, out, err)
			}
			if !Equal(back, d) && !(d.Kind() == KindFloat64 || d.Kind() == KindFloat32) {
				t.Fatalf("%s: %q -> %q -> %q", typ, s, out, TextString(back, loc))
			}
			b, err := AppendBinary(nil, d)
			if err != nil {
				t.Fatalf("%s: AppendBinary: %v", typ, err)
			}
			if _, err := DecodeBinary(typ, b); err != nil {
				t.Fatalf("%s: %q binary does not decode: %v", typ, s, err)
			}
			_ = AppendKey(nil, d)
		}
	})
}

// FuzzDecodeBinary: DecodeBinary never panics on arbitrary bytes.
func FuzzDecodeBinary(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{1, '[', ']'})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range fuzzTypes {
			if d, err := DecodeBinary(typ, b); err == nil {
				_ = TextString(d, nil)
			}
		}
	})
}
