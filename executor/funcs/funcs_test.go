package funcs

import (
	"testing"

	"github.com/weirdb/weir/sql/types"
)

type A = []types.Datum

func TestMath(t *testing.T) {
	runCases(t, []evalCase{
		{"abs", A{i4(-3)}, "3"},
		{"abs", A{num("-1.50")}, "1.50"},
		{"abs", A{null(types.KindInt32)}, "NULL"},
		{"ceil", A{num("-1.5")}, "-1"},
		{"ceiling", A{f8(1.2)}, "2"},
		{"floor", A{num("-1.5")}, "-2"},
		{"round", A{num("2.5")}, "3"},
		{"round", A{num("-2.5")}, "-3"},
		{"round", A{f8(2.5)}, "2"},
		{"round", A{f8(3.5)}, "4"},
		{"round", A{num("1234.5678"), i4(2)}, "1234.57"},
		{"round", A{num("1234.5678"), i4(-2)}, "1200"},
		{"trunc", A{num("-1.99")}, "-1"},
		{"trunc", A{num("1.999"), i4(2)}, "1.99"},
		{"trunc", A{f8(-2.7)}, "-2"},
		{"sqrt", A{f8(2)}, "1.4142135623730951"},
		{"sqrt", A{num("2")}, "1.414213562373095"},
		{"sqrt", A{f8(-1)}, "ERR:2201F"},
		{"cbrt", A{f8(27)}, "3"},
		{"power", A{f8(2), f8(0.5)}, "1.4142135623730951"},
		{"pow", A{i4(2), i4(3)}, "8"},
		{"exp", A{f8(0)}, "1"},
		{"exp", A{num("1")}, "2.7182818284590452"},
		{"ln", A{num("2")}, "0.69314718055994531"},
		{"ln", A{f8(0)}, "ERR:2201E"},
		{"log", A{f8(100)}, "2"},
		{"log", A{num("100")}, "2.0000000000000000"},
		{"log", A{num("2"), num("8")}, "3.0000000000000000"},
		{"mod", A{i4(-7), i4(3)}, "-1"},
		{"mod", A{num("7.5"), num("2")}, "1.5"},
		{"sign", A{num("-3.2")}, "-1"},
		{"sign", A{f8(0)}, "0"},
		{"pi", A{}, "3.141592653589793"},
		{"degrees", A{f8(3.141592653589793)}, "180"},
		{"radians", A{f8(180)}, "3.141592653589793"},
		{"atan2", A{f8(1), f8(1)}, "0.7853981633974483"},
		{"asin", A{f8(2)}, "ERR:22003"},
		{"div", A{num("9"), num("4")}, "2"},
		{"div", A{num("-9"), num("4")}, "-2"},
		{"gcd", A{i4(12), i4(18)}, "6"},
		{"lcm", A{i8(4), i8(6)}, "12"},
		{"width_bucket", A{f8(5.35), f8(0.024), f8(10.06), i4(5)}, "3"},
		{"greatest", A{i4(1), i4(3), i4(2)}, "3"},
		{"greatest", A{i4(1), null(types.KindInt32), num("2.5")}, "2.5"},
		{"least", A{tx("b"), tx("a")}, "a"},
		{"least", A{null(types.KindInt32), null(types.KindInt32)}, "NULL"},
		{"nosuch", A{i4(1)}, "ERR:42883"},
	})
}

func TestStrings(t *testing.T) {
	runCases(t, []evalCase{
		{"length", A{tx("héllo")}, "5"},
		{"octet_length", A{tx("héllo")}, "6"},
		{"bit_length", A{tx("ab")}, "16"},
		{"char_length", A{tx("")}, "0"},
		{"lower", A{tx("ÀbC")}, "àbc"},
		{"upper", A{tx("abc")}, "ABC"},
		{"initcap", A{tx("hi THOMAS-o'neil")}, "Hi Thomas-O'Neil"},
		{"substr", A{tx("alphabet"), i4(3), i4(2)}, "ph"},
		{"substr", A{tx("alphabet"), i4(3)}, "phabet"},
		{"substr", A{tx("hello"), i4(-1), i4(3)}, "h"},
		{"substr", A{tx("hello"), i4(0)}, "hello"},
		{"substring", A{tx("hello"), i4(2), i4(-1)}, "ERR:22011"},
		{"substring", A{tx("Thomas"), tx("...$")}, "mas"},
		{"substring", A{tx("foobar"), tx("o(b.)")}, "ba"},
		{"position", A{tx("om"), tx("Thomas")}, "3"},
		{"strpos", A{tx("héllo"), tx("l")}, "3"},
		{"strpos", A{tx("abc"), tx("z")}, "0"},
		{"replace", A{tx("abcdefabcdef"), tx("cd"), tx("XX")}, "abXXefabXXef"},
		{"translate", A{tx("12345"), tx("143"), tx("ax")}, "a2x5"},
		{"btrim", A{tx("xyxtrimyyx"), tx("xyz")}, "trim"},
		{"trim", A{tx("  a  ")}, "a"},
		{"ltrim", A{tx("  a  ")}, "a  "},
		{"rtrim", A{tx("xxaxx"), tx("x")}, "xxa"},
		{"lpad", A{tx("hi"), i4(5), tx("xy")}, "xyxhi"},
		{"lpad", A{tx("hello"), i4(2)}, "he"},
		{"rpad", A{tx("hi"), i4(5), tx("xy")}, "hixyx"},
		{"concat", A{tx("abcde"), i4(2), null(types.KindInt32), i4(22)}, "abcde222"},
		{"concat_ws", A{tx(","), tx("abcde"), i4(2), null(types.KindInt32), i4(22)}, "abcde,2,22"},
		{"concat_ws", A{null(types.KindText), tx("a")}, "NULL"},
		{"left", A{tx("abcde"), i4(2)}, "ab"},
		{"left", A{tx("abcde"), i4(-2)}, "abc"},
		{"right", A{tx("abcde"), i4(2)}, "de"},
		{"right", A{tx("abcde"), i4(-2)}, "cde"},
		{"repeat", A{tx("Pg"), i4(4)}, "PgPgPgPg"},
		{"repeat", A{tx("Pg"), i4(-1)}, ""},
		{"reverse", A{tx("abcé")}, "écba"},
		{"split_part", A{tx("abc~@~def~@~ghi"), tx("~@~"), i4(2)}, "def"},
		{"split_part", A{tx("abc,def,ghi"), tx(","), i4(-1)}, "ghi"},
		{"split_part", A{tx("abc"), tx(","), i4(0)}, "ERR:22023"},
		{"starts_with", A{tx("alphabet"), tx("alph")}, "true"},
		{"ascii", A{tx("x")}, "120"},
		{"chr", A{i4(65)}, "A"},
		{"chr", A{i4(0)}, "ERR:54000"},
		{"md5", A{tx("abc")}, "900150983cd24fb0d6963f7d28e17f72"},
		{"sha256", A{by("abc")}, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"encode", A{by("123\x00\x01"), tx("base64")}, "MTIzAAE="},
		{"encode", A{by("ab"), tx("hex")}, "6162"},
		{"encode", A{by("a\\\x00"), tx("escape")}, "a\\\\\\000"},
		{"decode", A{tx("MTIzAAE="), tx("base64")}, "\\x3132330001"},
		{"decode", A{tx("6162"), tx("hex")}, "\\x6162"},
		{"decode", A{tx("zz"), tx("hex")}, "ERR:22023"},
		{"decode", A{tx("ab"), tx("rot13")}, "ERR:22023"},
		{"to_hex", A{i4(-1)}, "ffffffff"},
		{"to_hex", A{i8(255)}, "ff"},
		{"quote_ident", A{tx("Foo bar")}, "\"Foo bar\""},
		{"quote_ident", A{tx("select")}, "\"select\""},
		{"quote_ident", A{tx("abc_1")}, "abc_1"},
		{"quote_literal", A{tx("O'Reilly")}, "'O''Reilly'"},
		{"quote_literal", A{tx(`a\b`)}, `E'a\\b'`},
		{"format", A{tx("Hello %s, %I, %L"), tx("World"), tx("my col"), tx("O'x")}, `Hello World, "my col", 'O''x'`},
		{"format", A{tx("%s|%L"), null(types.KindText), null(types.KindText)}, "|NULL"},
		{"format", A{tx("%2$s %1$s"), tx("a"), tx("b")}, "b a"},
		{"format", A{tx("|%-5s|%5s|"), tx("a"), tx("b")}, "|a    |    b|"},
		{"format", A{tx("%s %s"), tx("a")}, "ERR:22023"},
		{"format", A{tx("%x"), tx("a")}, "ERR:22023"},
		{"format", A{tx("100%%")}, "100%"},
		{"length", A{unk("abc")}, "3"},
	})
}

func TestPatterns(t *testing.T) {
	runCases(t, []evalCase{
		{"~~", A{tx("abc"), tx("abc")}, "true"},
		{"~~", A{tx("abc"), tx("a%")}, "true"},
		{"~~", A{tx("abc"), tx("_b_")}, "true"},
		{"~~", A{tx("abc"), tx("c")}, "false"},
		{"~~", A{tx("abc"), tx("%c")}, "true"},
		{"~~", A{tx("abc"), tx("%b%")}, "true"},
		{"~~", A{tx("abcbc"), tx("a%b_")}, "true"},
		{"~~", A{tx("abcbd"), tx("a%b_c")}, "false"},
		{"~~", A{tx("a%c"), tx(`a\%c`)}, "true"},
		{"~~", A{tx("abc"), tx(`a\%c`)}, "false"},
		{"~~", A{tx("a_"), tx(`%\_`)}, "true"},
		{"~~", A{tx("héllo"), tx("h_llo")}, "true"},
		{"~~", A{tx(""), tx("%")}, "true"},
		{"~~", A{tx("abc"), tx(`ab\`)}, "ERR:22025"},
		{"!~~", A{tx("abc"), tx("a%")}, "false"},
		{"~~*", A{tx("ABC"), tx("a%")}, "true"},
		{"!~~*", A{tx("ABC"), tx("x%")}, "true"},
		{"~~", A{null(types.KindText), tx("a%")}, "NULL"},
		{"like_escape", A{tx("a#%b"), tx("#")}, `a\%b`},
		{"~", A{tx("thomas"), tx(".*thom.*")}, "true"},
		{"~", A{tx("thomas"), tx("^Thom")}, "false"},
		{"~*", A{tx("thomas"), tx("^THOM")}, "true"},
		{"!~", A{tx("thomas"), tx("xyz")}, "true"},
		{"!~*", A{tx("thomas"), tx("T")}, "false"},
		{"~", A{tx("a\nb"), tx("a.b")}, "true"},
		{"~", A{tx("foo bar"), tx(`\ybar\y`)}, "true"},
		{"~", A{tx("x"), tx("(")}, "ERR:2201B"},
		{"regexp_replace", A{tx("foobarbaz"), tx("b(..)"), tx(`X\1Y`)}, "fooXarYbaz"},
		{"regexp_replace", A{tx("foobarbaz"), tx("b(..)"), tx(`X\1Y`), tx("g")}, "fooXarYXazY"},
		{"regexp_replace", A{tx("ABC"), tx("b"), tx("x"), tx("gi")}, "AxC"},
		{"regexp_replace", A{tx("ABC"), tx("b"), tx("x"), tx("q")}, "ERR:22023"},
		{"regexp_like", A{tx("Hello"), tx("^h"), tx("i")}, "true"},
		{"regexp_count", A{tx("ABCABC"), tx("B")}, "2"},
	})
}

func TestLikeCompileConcurrent(t *testing.T) {
	m, err := CompileLike("a!%%", "!", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    string
		want bool
	}{{"a%", true}, {"a%bc", true}, {"ab", false}} {
		if got := m(c.s); got != c.want {
			t.Errorf("%q LIKE 'a!%%%%' ESCAPE '!' = %v", c.s, got)
		}
	}
	if _, err := CompileLike("x", "ab", false); err == nil {
		t.Error("two-character escape accepted")
	}
	if m, _ := CompileLike("a%", "", false); !m("a\\") {
		t.Error("empty escape")
	}
	if m, _ := CompileRegex("^ab+c$", "i"); !m("ABBC") {
		t.Error("CompileRegex i")
	}
}

func TestDatetime(t *testing.T) {
	runCases(t, []evalCase{
		{"+", A{dt("2024-01-31"), i4(1)}, "2024-02-01"},
		{"-", A{dt("2024-03-01"), i4(1)}, "2024-02-29"},
		{"-", A{dt("2024-03-01"), dt("2024-02-01")}, "29"},
		{"+", A{dt("2024-01-31"), iv(1, 0, 0)}, "2024-02-29 00:00:00"},
		{"+", A{tsv("2023-01-31 10:00:00"), iv(1, 0, 0)}, "2023-02-28 10:00:00"},
		{"+", A{tsv("2024-01-31 10:00:00"), iv(1, 1, usPerHour)}, "2024-03-01 11:00:00"},
		{"-", A{tsv("2024-03-31 00:00:00"), iv(1, 0, 0)}, "2024-02-29 00:00:00"},
		{"+", A{iv(0, 0, usPerHour), tsv("2024-01-01 23:30:00")}, "2024-01-02 00:30:00"},
		{"+", A{dt("2024-01-01"), tm_("10:30:00")}, "2024-01-01 10:30:00"},
		// DST in Europe/Amsterdam: 2024-03-31 02:00 -> 03:00.
		{"+", A{tz("2024-03-30 12:00:00+00"), iv(0, 1, 0)}, "2024-03-31 13:00:00+02"},
		{"+", A{tz("2024-03-30 12:00:00+00"), iv(0, 0, 24*usPerHour)}, "2024-03-31 14:00:00+02"},
		{"-", A{tsv("2024-03-02 12:00:00"), tsv("2024-03-01 00:00:00")}, "1 day 12:00:00"},
		{"-", A{tsv("2024-03-01 00:00:00"), tsv("2024-03-02 12:00:00")}, "-1 days -12:00:00"},
		{"-", A{tsv("2024-03-01 10:00:00"), dt("2024-03-01")}, "10:00:00"},
		{"+", A{iv(1, 2, 3), iv(1, 1, 1)}, "2 mons 3 days 00:00:00.000004"},
		{"-", A{iv(1, 0, 0)}, "-1 mons"},
		{"*", A{iv(1, 0, 0), f8(1.5)}, "1 mon 15 days"},
		{"*", A{iv(0, 1, 0), f8(0.5)}, "12:00:00"},
		{"/", A{iv(0, 3, 0), f8(2)}, "1 day 12:00:00"},
		{"/", A{iv(0, 3, 0), f8(0)}, "ERR:22012"},
		{"-", A{tm_("10:00:00"), tm_("12:30:00")}, "-02:30:00"},
		{"+", A{tm_("23:00:00"), iv(0, 0, 2*usPerHour)}, "01:00:00"},
		{"date_trunc", A{tx("month"), tsv("2024-02-15 10:11:12.5")}, "2024-02-01 00:00:00"},
		{"date_trunc", A{tx("hour"), tsv("2024-02-15 10:11:12.5")}, "2024-02-15 10:00:00"},
		{"date_trunc", A{tx("week"), tsv("2024-02-15 10:11:12")}, "2024-02-12 00:00:00"},
		{"date_trunc", A{tx("quarter"), tsv("2024-05-15 10:11:12")}, "2024-04-01 00:00:00"},
		{"date_trunc", A{tx("century"), tsv("2024-05-15 10:11:12")}, "2001-01-01 00:00:00"},
		{"date_trunc", A{tx("milliseconds"), tsv("2024-05-15 10:11:12.123456")}, "2024-05-15 10:11:12.123"},
		{"date_trunc", A{tx("day"), tz("2024-03-31 12:00:00+00")}, "2024-03-31 00:00:00+01"},
		{"date_trunc", A{tx("hour"), iv(0, 1, 3*usPerHour+5*usPerMin)}, "1 day 03:00:00"},
		{"date_trunc", A{tx("bogus"), tsv("2024-05-15 10:11:12")}, "ERR:22023"},
		{"date_trunc", A{tx("month"), dt("2024-05-15")}, "2024-05-01 00:00:00+02"},
		{"date_part", A{tx("year"), tsv("2024-02-15 10:11:12.5")}, "2024"},
		{"date_part", A{tx("second"), tsv("2024-02-15 10:11:12.5")}, "12.5"},
		{"date_part", A{tx("dow"), tsv("2024-02-18 00:00:00")}, "0"},
		{"date_part", A{tx("isodow"), tsv("2024-02-18 00:00:00")}, "7"},
		{"date_part", A{tx("doy"), tsv("2024-02-15 00:00:00")}, "46"},
		{"date_part", A{tx("week"), tsv("2021-01-01 00:00:00")}, "53"},
		{"date_part", A{tx("isoyear"), tsv("2021-01-01 00:00:00")}, "2020"},
		{"date_part", A{tx("epoch"), tsv("2024-01-01 00:00:00")}, "1704067200"},
		{"date_part", A{tx("hour"), tz("2024-07-01 10:00:00+00")}, "12"},
		{"date_part", A{tx("epoch"), tz("2024-07-01 10:00:00+00")}, "1719828000"},
		{"date_part", A{tx("timezone"), tz("2024-07-01 10:00:00+00")}, "7200"},
		{"date_part", A{tx("day"), iv(1, 5, 0)}, "5"},
		{"date_part", A{tx("epoch"), iv(12, 0, 0)}, "31557600"},
		{"date_part", A{tx("hour"), dt("2024-01-01")}, "ERR:0A000"},
		{"date_part", A{tx("nope"), tsv("2024-02-15 10:11:12")}, "ERR:22023"},
		{"extract", A{tx("second"), tsv("2024-02-15 10:11:12.5")}, "12.500000"},
		{"extract", A{tx("epoch"), tsv("2024-01-01 00:00:00")}, "1704067200.000000"},
		{"extract", A{tx("milliseconds"), tsv("2024-02-15 10:11:12.5")}, "12500.000"},
		{"extract", A{tx("year"), dt("2024-02-15")}, "2024"},
		{"extract", A{tx("century"), tsv("2000-12-31 00:00:00")}, "20"},
		{"extract", A{tx("millennium"), tsv("2001-01-01 00:00:00")}, "3"},
		{"age", A{tsv("2001-04-10 00:00:00"), tsv("1957-06-13 00:00:00")}, "43 years 9 mons 27 days"},
		{"age", A{tsv("2024-03-31 00:00:00"), tsv("2024-02-29 00:00:00")}, "1 mon 2 days"},
		{"age", A{tsv("2024-02-29 00:00:00"), tsv("2024-03-31 00:00:00")}, "-1 mons -2 days"},
		{"to_timestamp", A{f8(1284352323.5)}, "2010-09-13 06:32:03.5+02"},
		{"make_date", A{i4(2024), i4(2), i4(29)}, "2024-02-29"},
		{"make_date", A{i4(2023), i4(2), i4(29)}, "ERR:22008"},
		{"make_timestamp", A{i4(2024), i4(2), i4(29), i4(10), i4(5), f8(6.5)}, "2024-02-29 10:05:06.5"},
		{"make_interval", A{i4(1), i4(2), i4(1), i4(3)}, "1 year 2 mons 10 days"},
		{"justify_days", A{iv(0, 35, 0)}, "1 mon 5 days"},
		{"justify_hours", A{iv(0, 0, 27*usPerHour)}, "1 day 03:00:00"},
		{"justify_interval", A{iv(1, 0, -usPerHour)}, "29 days 23:00:00"},
		{"isfinite", A{tsv("2024-01-01 00:00:00")}, "true"},
		{"date_bin", A{iv(0, 0, 15*usPerMin), tsv("2020-02-11 15:44:17"), tsv("2001-01-01 00:00:00")}, "2020-02-11 15:30:00"},
		{"now", A{}, "2024-05-06 09:08:09.123456+02"},
		{"current_date", A{}, "2024-05-06"},
		{"localtimestamp", A{}, "2024-05-06 09:08:09.123456"},
	})
}

func TestFormatting(t *testing.T) {
	runCases(t, []evalCase{
		{"to_char", A{tsv("2024-03-05 14:07:09.123456"), tx("YYYY-MM-DD HH24:MI:SS.MS")}, "2024-03-05 14:07:09.123"},
		{"to_char", A{tsv("2024-03-05 14:07:09"), tx("HH12:MI AM Dy Mon DD")}, "02:07 PM Tue Mar 05"},
		{"to_char", A{tsv("2024-03-05 14:07:09"), tx("Month|FMMonth|FMDD|DDD|Q|IW|US")}, "March    |March|5|065|1|10|000000"},
		{"to_char", A{tsv("2024-03-05 14:07:09"), tx(`"Year" YYYY`)}, "Year 2024"},
		// numeric fields are case-insensitive, names take their case from the pattern (PostgreSQL 15)
		{"to_char", A{tsv("2015-07-15 12:07:00"), tx("HH:mm")}, "12:07"},
		{"to_char", A{tsv("2015-07-15 12:07:09.5"), tx("yyyy-mm-dd hh24:mi:ss.ms Mm hH24 fmdd ddd d iw q Dd mON")}, "2015-07-15 12:07:09.500 Mm hH24 15 196 4 29 3 44 mON"},
		{"to_char", A{tsv("2015-07-05 01:02:03"), tx("fmMonth fmmonth hh12 am Day")}, "July july 01 am Sunday   "},
		{"to_char", A{tz("2024-07-01 10:00:00+00"), tx("YYYY-MM-DD HH24:MI TZ OF")}, "2024-07-01 12:00 CEST +02"},
		{"to_char", A{dt("2024-12-25"), tx("DD/MM/YYYY")}, "25/12/2024"},
		{"to_char", A{num("1234.5"), tx("9999.99")}, " 1234.50"},
		{"to_char", A{num("-1234.5"), tx("9999.99")}, "-1234.50"},
		{"to_char", A{num("1234.5"), tx("FM9999.99")}, "1234.5"},
		{"to_char", A{i4(5), tx("000")}, " 005"},
		{"to_char", A{i4(1234567), tx("9,999,999")}, " 1,234,567"},
		{"to_char", A{i4(12345), tx("99")}, " ##"},
		{"to_char", A{num("0.5"), tx("0.99")}, " 0.50"},
		{"to_char", A{i4(-5), tx("S999")}, "-  5"},
		{"to_char", A{iv(0, 0, 3*usPerHour+4*usPerMin), tx("HH24:MI")}, "03:04"},
		{"to_timestamp", A{tx("2024-03-05 14:07:09"), tx("YYYY-MM-DD HH24:MI:SS")}, "2024-03-05 14:07:09+01"},
		{"to_timestamp", A{tx("05 Mar 2024 02:07 PM"), tx("DD Mon YYYY HH12:MI AM")}, "2024-03-05 14:07:00+01"},
		{"to_timestamp", A{tx("2024-03-05 14:07:09.25"), tx("YYYY-MM-DD HH24:MI:SS.MS")}, "2024-03-05 14:07:09.25+01"},
		{"to_date", A{tx("20240229"), tx("YYYYMMDD")}, "2024-02-29"},
		{"to_date", A{tx("2024-13-01"), tx("YYYY-MM-DD")}, "ERR:22008"},
		{"to_date", A{tx("xx"), tx("YYYY")}, "ERR:22007"},
	})
}
