package types

import (
	"testing"
	"time"
)

func TestCivilDays(t *testing.T) {
	cases := []struct {
		y, m, d int
		days    int64
	}{
		{2000, 1, 1, 0}, {1970, 1, 1, UnixEpochDays}, {2024, 3, 1, 8826}, {1999, 12, 31, -1},
		{-4713, 11, 24, MinDate},
	}
	for _, c := range cases {
		if got := DaysFromCivil(c.y, c.m, c.d); got != c.days {
			t.Errorf("DaysFromCivil(%d,%d,%d) = %d, want %d", c.y, c.m, c.d, got, c.days)
		}
		if y, m, d := CivilFromDays(c.days); y != c.y || m != c.m || d != c.d {
			t.Errorf("CivilFromDays(%d) = %d-%d-%d", c.days, y, m, d)
		}
	}
	// Agreement with Go's calendar over a wide range.
	for days := int64(-800000); days < 800000; days += 97 {
		y, m, d := CivilFromDays(days)
		tm := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if got := TimeToTimestamp(tm) / MicrosPerDay; got != days {
			t.Fatalf("day %d -> %d-%d-%d -> %d", days, y, m, d, got)
		}
		if DaysFromCivil(y, m, d) != days {
			t.Fatalf("round trip of %d", days)
		}
	}
}

func TestTimeConversions(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	us := TimeToTimestamp(tm)
	if !TimestampToTime(us).Equal(tm) {
		t.Errorf("TimestampToTime(%d) = %v", us, TimestampToTime(us))
	}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	if off := ZoneOffset(us, ams); off != 3600 {
		t.Errorf("offset %d", off)
	}
	local := UTCToLocal(us, ams)
	if LocalToUTC(local, ams) != us {
		t.Error("LocalToUTC(UTCToLocal(x)) != x")
	}
	if UTCToLocal(TimestampInfinity, ams) != TimestampInfinity {
		t.Error("infinity must stay infinite")
	}
	if d, err := ParseText(Date, "today", ams); err != nil || d.Days() != floorDiv(UTCToLocal(TimeToTimestamp(time.Now()), ams), MicrosPerDay) {
		t.Errorf("today: %v %v", d, err)
	}
	if d, err := ParseText(TimestampTZ, "now", nil); err != nil || d.Micros()-TimeToTimestamp(time.Now()) > MicrosPerSecond {
		t.Errorf("now: %v %v", d, err)
	}
}

func TestJSONBAccess(t *testing.T) {
	doc := mustParse(t, JSONB, `{"a": {"b": [1, "two", null, {"c": "d\"e"}]}, "x": "y\nz", "n": null}`)
	a, ok := JSONBField(doc, "a")
	if !ok || a.Str() != `{"b": [1, "two", null, {"c": "d\"e"}]}` {
		t.Fatalf("-> a: %q %v", a.Str(), ok)
	}
	b, _ := JSONBField(a, "b")
	cases := []struct {
		idx  int
		want string
	}{{0, "1"}, {1, `"two"`}, {2, "null"}, {3, `{"c": "d\"e"}`}, {-1, `{"c": "d\"e"}`}, {-4, "1"}}
	for _, c := range cases {
		e, ok := JSONBElem(b, c.idx)
		if !ok || e.Str() != c.want {
			t.Errorf("b -> %d = %q %v, want %q", c.idx, e.Str(), ok, c.want)
		}
	}
	if _, ok := JSONBElem(b, 4); ok {
		t.Error("index 4 must be missing")
	}
	if _, ok := JSONBField(doc, "missing"); ok {
		t.Error("missing key found")
	}
	x, _ := JSONBField(doc, "x")
	if s, ok := JSONBAsText(x); !ok || s != "y\nz" {
		t.Errorf("->> x = %q %v", s, ok)
	}
	n, _ := JSONBField(doc, "n")
	if _, ok := JSONBAsText(n); ok {
		t.Error("->> of null must be SQL NULL")
	}
	if JSONBTypeof(doc) != "object" || JSONBTypeof(x) != "string" {
		t.Error("typeof")
	}
}
