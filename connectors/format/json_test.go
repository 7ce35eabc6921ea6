package format

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

func TestDecodeJSON(t *testing.T) {
	cols := []Column{
		{Name: "id", Type: types.Int64, NotNull: true},
		{Name: "name", Type: types.Varchar},
		{Name: "country_name", Type: types.Text},
		{Name: "rate", Type: types.Int32},
		{Name: "amount", Type: types.Numeric},
		{Name: "ts", Type: types.Timestamp},
	}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}})
	for _, tc := range []struct{ in, want string }{
		{`{"id":1,"name":"Ada","country_name":"NL","rate":3,"amount":12.50,"ts":"2024-01-02T03:04:05.5"}`,
			"insert 1|Ada|NL|3|12.50|2024-01-02 03:04:05.5"},
		// Missing fields are NULL, extra fields (of any shape) ignored.
		{`{"id":2,"extra":{"a":[1,2,{"b":null}]},"more":[true,false,"x"]}`, "insert 2|NULL|NULL|NULL|NULL|NULL"},
		// Names match ignoring case; fields in any order; last repeat wins.
		{`{"Country_Name":"BE","ID":3,"id":4}`, "insert 4|NULL|BE|NULL|NULL|NULL"},
		// json_populate_record: scalars through the input functions.
		{`{"id":"5","name":12,"rate":" 7 ","amount":"1e3"}`, "insert 5|12|NULL|7|1000|NULL"},
		{`{"id":6,"name":true,"country_name":{"a":1}}`, `insert 6|true|{"a":1}|NULL|NULL|NULL`},
		// null is NULL; numbers keep their digits.
		{`{"id":7,"name":null,"amount":123456789012345678901234567890.000001}`,
			"insert 7|NULL|NULL|NULL|123456789012345678901234567890.000001|NULL"},
		// Epoch milliseconds fill a timestamp.
		{`{"id":8,"ts":1704164645500}`, "insert 8|NULL|NULL|NULL|NULL|2024-01-02 03:04:05.5"},
		// Escapes, in names and values.
		{`{"id":9,"n\u0061me":"a\"b\\c\u00e9\ud83d\ude00\n"}`, "insert 9|a\"b\\cé😀\n|NULL|NULL|NULL|NULL"},
		{" \n{ \"id\" : 10 } \n", "insert 10|NULL|NULL|NULL|NULL|NULL"},
		// Faults.
		{`{"id":1,"rate":12.5}`, `error: field "rate": invalid input syntax for type integer: "12.5"`},
		{`{"id":1,"rate":true}`, `error: field "rate": invalid input syntax for type integer: "true"`},
		{`{"id":1,"rate":[1]}`, `error: field "rate": expected integer, found an array`},
		{`{"id":1,"rate":99999999999}`, `error: field "rate": value "99999999999" is out of range for type integer`},
		{`{"id":null}`, `error: field "id": null value in column "id" violates not-null constraint`},
		{`{"name":"x"}`, `error: field "id": null value in column "id" violates not-null constraint`},
		{`{"id":1,"ts":"yesterday-ish"}`, `error: field "ts": invalid input syntax for type timestamp: "yesterday-ish"`},
		{`{"id":1,"ts":1.5}`, `error: field "ts": invalid number 1.5 for type timestamp without time zone: expected an integer`},
		{`{"id":1,"name":"\u0000"}`, `error: field "name": unsupported Unicode escape sequence: \u0000 cannot be converted to text`},
		{`[1,2]`, `error: expected a JSON object, found an array`},
		{`{"id":1`, `error: invalid JSON: the input ended unexpectedly`},
		{`{"id":1} x`, `error: invalid JSON: unexpected 'x' at offset 9`},
		{`{"id":01}`, `error: invalid JSON: unexpected '1' at offset 7`},
		{`{"id":1,}`, `error: invalid JSON: unexpected '}' at offset 8`},
		{`{"id":1,"x":tru}`, `error: invalid JSON: unexpected 't' at offset 12`},
		{"{\"id\":1,\"name\":\"a\x01\"}", `error: invalid JSON: unexpected byte 0x01 at offset 17`},
		{``, `error: expected a JSON object, found nothing`},
		{strings.Repeat("[", 300) + strings.Repeat("]", 300), `error: expected a JSON object, found an array`},
		{`{"id":1,"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, `error: JSON nested deeper than 256 levels`},
	} {
		if got := decodeText(t, d, nil, []byte(tc.in)); got != tc.want {
			t.Errorf("%.60s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	// A tombstone appends nothing.
	if got := decodeText(t, d, nil, nil); got != "none" {
		t.Errorf("tombstone: %s", got)
	}
}

// External columns (Kafka metadata, filled by the caller) take no field,
// not even one whose name is empty.
func TestDecodeJSONExternal(t *testing.T) {
	cols := []Column{{Name: "partition", Type: types.Int32, External: true}, {Name: "id", Type: types.Int64}, {Name: "Quoted", Type: types.Text}}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}})
	if got, want := decodeText(t, d, nil, []byte(`{"":1,"partition":2,"id":3,"quoted":"q"}`)), "insert NULL|3|q"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDecodeJSONAllTypes(t *testing.T) {
	d := mustDecoder(t, Options{Schema: Schema{Columns: allTypes}})
	for _, tc := range []struct{ in, want string }{
		{`{"b":true,"i2":-32768,"i4":2147483647,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,` +
			`"n":-0.000,"n2":"3.14159","t":"x","vc":"abc","ch":"a","by":"\\x0aff","d":"2024-02-29",` +
			`"tm":"23:59:59.999999","ts":"2024-01-02 03:04:05","tz":"2024-01-02T03:04:05+02:00","iv":"1 day 02:00:00",` +
			`"j":{"b":[1,2.50,"x"],"a":null}}`,
			`insert t|-32768|2147483647|-9223372036854775808|1.5|-2.25e-05|0.000|3.14|x|abc|a  |\x0aff|2024-02-29|` +
				`23:59:59.999999|2024-01-02 03:04:05|2024-01-02 01:04:05+00|1 day 02:00:00|{"a": null, "b": [1, 2.50, "x"]}`},
		{`{"b":"yes","f8":"NaN","n":"Infinity","d":19723,"tm":3600000,"tz":0,"j":"str"}`,
			`insert t|NULL|NULL|NULL|NULL|NaN|Infinity|NULL|NULL|NULL|NULL|NULL|2024-01-01|01:00:00|NULL|1970-01-01 00:00:00+00|NULL|"str"`},
		{`{"j":12.0,"t":[1, 2]}`, `insert NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|[1, 2]|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|12.0`},
		{`{"j":false,"b":false}`, `insert f|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|false`},
		{`{"vc":"abcdef"}`, `error: field "vc": value too long for type character varying(5)`},
		{`{"i2":40000}`, `error: field "i2": value "40000" is out of range for type smallint`},
		{`{"n2":123456789.1}`, `error: field "n2": numeric field overflow`},
		{`{"by":"\\xzz"}`, `error: field "by": invalid hexadecimal digit: "z"`},
		{`{"d":99999999999}`, `error: field "d": 99999999999 is out of range for type date`},
		{`{"tm":86400001}`, `error: field "tm": 86400001 is out of range for type time without time zone`},
		{`{"b":{}}`, `error: field "b": expected boolean, found an object`},
	} {
		if got := decodeText(t, d, nil, []byte(tc.in)); got != tc.want {
			t.Errorf("%.60s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeCSV(t *testing.T) {
	cols := []Column{
		{Name: "id", Type: types.Int64, NotNull: true},
		{Name: "name", Type: types.Text},
		{Name: "part", Type: types.Int32, External: true},
		{Name: "amount", Type: types.Type{Kind: types.KindNumeric, Precision: 6, Scale: 2}},
	}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: CSV})
	for _, tc := range []struct{ in, want string }{
		{"1,Ada,12.5", "insert 1|Ada|NULL|12.50"},
		{"2,,\r\n", "insert 2|NULL|NULL|NULL"},
		{`3,"",1`, "insert 3||NULL|1.00"},
		{"4,\"a,b\"\"c\nd\",0.005\n", "insert 4|a,b\"c\nd|NULL|0.01"},
		{" 5 , x ,1", "insert 5| x |NULL|1.00"},
		{"1,a", `error: CSV record has 2 fields, its columns 3`},
		{"1,a,2,3", `error: CSV record has more than the 3 fields of its columns`},
		{`1,"a`, `error: field "name": unterminated CSV quoted field`},
		{`1,"a"b,2`, `error: field "name": unexpected character after a CSV quoted field`},
		{`1,a"b,2`, `error: field "name": unexpected quote in an unquoted CSV field`},
		{"x,a,1", `error: field "id": invalid input syntax for type bigint: "x"`},
		{",a,1", `error: field "id": null value in column "id" violates not-null constraint`},
		{"", `error: CSV record has 1 fields, its columns 3`},
	} {
		if got := decodeText(t, d, nil, []byte(tc.in)); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// Every type reads from CSV as from its text: rows printed by
// types.AppendText, quoted when needed, read back the same.
func TestDecodeCSVAllTypes(t *testing.T) {
	jd := mustDecoder(t, Options{Schema: Schema{Columns: allTypes}})
	cd := mustDecoder(t, Options{Schema: Schema{Columns: allTypes}, Format: CSV})
	for _, in := range []string{
		`{"b":true,"i2":-32768,"i4":7,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,"n":"-1.500","n2":"3.14159",` +
			`"t":"q\"\n,\u00e9","vc":"","ch":"a","by":"\\x0aff","d":"2024-02-29","tm":"23:59:59.5","ts":"2024-01-02 03:04:05",` +
			`"tz":"2024-01-02T03:04:05.25+02:00","iv":"1 day 02:00:00","j":{"b":[1,2.50],"a":"x,y"}}`,
		`{"f8":"NaN","n":"-Infinity","ts":"infinity","d":"0044-03-15 BC"}`,
	} {
		var c Change
		if err := jd.Decode(context.Background(), nil, []byte(in), &c); err != nil {
			t.Fatal(err)
		}
		var line []byte
		for i, d := range c.After {
			if i > 0 {
				line = append(line, ',')
			}
			if d.IsNull() {
				continue
			}
			text := types.TextString(d, nil)
			if text == "" || strings.ContainsAny(text, ",\"\n") {
				text = `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
			}
			line = append(line, text...)
		}
		if got, want := decodeText(t, cd, nil, line), "insert "+rowText(c.After); got != want {
			t.Errorf("%s:\n got %s\nwant %s", line, got, want)
		}
	}
}

// A value of one column may be the bare value, in JSON or Kafka's
// serializations.
func TestDecodeSingleValue(t *testing.T) {
	cols := []Column{{Name: "offset", Type: types.Int64, External: true}, {Name: "v", Type: types.Float64}}
	for _, tc := range []struct {
		f    Format
		in   string
		want string
	}{
		{JSON, `42.5`, "insert NULL|42.5"},
		{JSON, `{"v":1}`, "insert NULL|1"},
		{JSON, `"7"`, "insert NULL|7"},
		{JSON, `null`, "insert NULL|NULL"},
		{JSON, `[1]`, `error: field "v": expected double precision, found an array`},
		{String, `1e3`, "insert NULL|1000"},
		{Kafka, "\x40\x45\x00\x00\x00\x00\x00\x00", "insert NULL|42"},
		{Kafka, "\x40", `error: field "v": expected 8 bytes for double precision, found 1`},
	} {
		d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: tc.f})
		if got := decodeText(t, d, nil, []byte(tc.in)); got != tc.want {
			t.Errorf("%s %q:\n got %s\nwant %s", tc.f, tc.in, got, tc.want)
		}
	}
	if _, err := NewDecoder(Options{Schema: Schema{Columns: allTypes}, Format: Kafka}); err == nil {
		t.Errorf("the kafka format took %d columns", len(allTypes))
	}
}

func TestDecodeJSONSR(t *testing.T) {
	d := mustDecoder(t, Options{Schema: Schema{Columns: customers}, Format: JSONSR})
	for _, tc := range []struct{ in, want string }{
		{"\x00\x00\x00\x00\x07" + `{"id":1,"name":"Ada"}`, "insert 1|Ada|NULL"},
		{`{"id":1,"name":"Ada"}`, "error: record starts with 0x7b, not the schema registry's magic byte 0"},
		{"\x00\x00", "error: record of 2 bytes is shorter than the schema registry's 5-byte header"},
	} {
		if got := decodeText(t, d, nil, []byte(tc.in)); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestFormatByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Format
		e    Envelope
		ok   bool
	}{
		{"JSON", JSON, "", true}, {"Avro", Avro, "", true}, {"DELIMITED", CSV, "", true}, {" kafka ", Kafka, "", true},
		{"json_sr", JSONSR, "", true}, {"debezium", JSON, Debezium, true}, {"debezium-avro", Avro, Debezium, true},
		{"protobuf", "", "", false},
	} {
		f, e, ok := FormatByName(tc.name)
		if f != tc.f || e != tc.e || ok != tc.ok {
			t.Errorf("%q: %q %q %v", tc.name, f, e, ok)
		}
	}
}
