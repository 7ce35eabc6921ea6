package types

import (
	"encoding/json"
	"testing"
	"time"
	_ "time/tzdata" // the zone below, whatever the machine has
)

func TestAppendJSON(t *testing.T) {
	amsterdam, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ, text string
		loc       *time.Location
		want      string
	}{
		{"boolean", "t", nil, `true`},
		{"smallint", "-3", nil, `-3`},
		{"bigint", "9223372036854775807", nil, `9223372036854775807`},
		{"double precision", "1.5e300", nil, `1.5e+300`},
		{"double precision", "-Infinity", nil, `"-Infinity"`},
		{"real", "NaN", nil, `"NaN"`},
		{"numeric", "12.500", nil, `12.500`},
		{"numeric", "NaN", nil, `"NaN"`},
		{"text", "a\"b\n", nil, `"a\"b\n"`},
		{"bytea", `\x00ff`, nil, `"\\x00ff"`},
		{"jsonb", `{"b": [1, null], "a": "x"}`, nil, `{"a": "x", "b": [1, null]}`},
		{"date", "2024-02-29", nil, `"2024-02-29"`},
		{"time", "13:14:15.5", nil, `"13:14:15.5"`},
		{"timestamp", "2024-01-02 03:04:05.25", nil, `"2024-01-02T03:04:05.25"`},
		{"timestamp", "infinity", nil, `"infinity"`},
		{"timestamp with time zone", "2024-07-01 12:00:00+00", nil, `"2024-07-01T12:00:00+00:00"`},
		{"timestamp with time zone", "2024-07-01 12:00:00+00", amsterdam, `"2024-07-01T14:00:00+02:00"`},
		{"interval", "1 day 02:00:00", nil, `"1 day 02:00:00"`},
	} {
		d, err := ParseText(typeFromSQL(t, c.typ), c.text, time.UTC)
		if err != nil {
			t.Fatalf("%s %q: %v", c.typ, c.text, err)
		}
		got := string(AppendJSON(nil, d, c.loc))
		if got != c.want || !json.Valid([]byte(got)) {
			t.Errorf("%s %q: got %s, want %s", c.typ, c.text, got, c.want)
		}
	}
	if got := string(AppendJSON([]byte("x"), NullOf(KindText), nil)); got != "xnull" {
		t.Errorf("NULL: %s", got)
	}
}
