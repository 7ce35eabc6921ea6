package format

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/connectors/registry"
	"github.com/weirdb/weir/sql/types"
)

// Pieces of Avro binary, for writing records by hand.
func avLong(v int64) []byte    { return appendAvroLong(nil, v) }
func avStr(s string) []byte    { return appendAvroBytes(nil, s) }
func avBool(b bool) []byte     { return []byte{map[bool]byte{false: 0, true: 1}[b]} }
func avFloat(f float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)) }
func avDouble(f float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f))
}

// avRecord is the wire format of a body made of parts under schema id.
func avRecord(id int, parts ...[]byte) []byte {
	b := []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestAvroRoundTrip(t *testing.T) {
	_, reg := newRegistry(t)
	ctx := context.Background()
	jd := mustDecoder(t, Options{Schema: Schema{Columns: allTypes}})
	for _, notNull := range []bool{false, true} {
		cols := append([]Column(nil), allTypes...)
		for i := range cols {
			cols[i].NotNull = notNull
		}
		enc, err := NewAvroEncoder(ctx, reg, "all-value", "all", cols)
		if err != nil {
			t.Fatal(err)
		}
		ad := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: Avro, Registry: reg})
		for _, in := range []string{
			`{"b":true,"i2":-32768,"i4":2147483647,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,` +
				`"n":"-12345678901234567890.000001","n2":"-3.14","t":"x\u00e9","vc":"abc","ch":"a","by":"\\x00ff80","d":"2024-02-29",` +
				`"tm":"23:59:59.999999","ts":"2024-01-02 03:04:05.000001","tz":"1969-12-31T23:59:59.999999Z","iv":"1 mon 2 days 00:00:01",` +
				`"j":{"b":[1,2.50,"x"],"a":null}}`,
			`{"b":false,"i2":0,"i4":-1,"i8":0,"f4":"-Infinity","f8":"NaN","n":"NaN","n2":0,"t":"","vc":"","ch":"","by":"","d":"infinity",` +
				`"tm":"00:00:00","ts":"-infinity","tz":"infinity","iv":"-1 years","j":[]}`,
			`{"n2":"99999999.99","d":"0001-01-01","ts":"0001-01-01 00:00:00","tz":"2262-04-11T23:47:16Z"}`,
		} {
			var c Change
			if err := jd.Decode(ctx, nil, []byte(in), &c); err != nil {
				t.Fatal(err)
			}
			row := c.After
			if notNull && strings.Contains(rowText(row), "NULL") {
				continue
			}
			b, err := enc.AppendRow(nil, row)
			if err != nil {
				t.Fatalf("encode %s: %v", rowText(row), err)
			}
			got := decodeText(t, ad, nil, b)
			if want := "insert " + rowText(row); got != want {
				t.Errorf("round trip (not null %v):\n got %s\nwant %s", notNull, got, want)
			}
		}
	}
}

func TestAvroResolution(t *testing.T) {
	srv, reg := newRegistry(t)
	const v1 = `{"type":"record","name":"rate","namespace":"x","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"string"}]}`
	const v2 = `{"type":"record","name":"rate","namespace":"x","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"string"},
		{"name":"country","type":"string","default":"NL","aliases":["land"]},
		{"name":"rate","type":["null","int"],"default":null},
		{"name":"since","type":{"type":"int","logicalType":"date"},"default":0},
		{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2},"default":"\u0004\u00d2"}]}`
	id1 := srv.Add("rates-value", v1)
	id2 := srv.Add("rates-value", v2)
	cols, latest, err := LatestColumns(context.Background(), reg, "rates-value")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		got = append(got, c.Name+" "+c.Type.String()+map[bool]string{true: " not null"}[c.NotNull])
	}
	if g, w := strings.Join(got, ", "), "id bigint not null, name text not null, country text not null, rate integer, since date not null, price numeric(6,2) not null"; g != w {
		t.Fatalf("inferred %s, want %s", g, w)
	}
	// A declared column the reader schema lacks reads as NULL.
	cols = append(cols, Column{Name: "note", Type: types.Text})
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: Avro, Registry: reg, ReaderSchema: latest})
	for _, tc := range []struct {
		rec  []byte
		want string
	}{
		// An older writer: the reader's defaults fill the added fields.
		{avRecord(id1, avLong(1), avStr("Ada")), "insert 1|Ada|NL|NULL|1970-01-01|12.34|NULL"},
		{avRecord(id2, avLong(2), avStr("Bo"), avStr("BE"), avLong(1), avLong(7), avLong(19723), avStr("\x00\x01")),
			"insert 2|Bo|BE|7|2024-01-01|0.01|NULL"},
	} {
		if got := decodeText(t, d, nil, tc.rec); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}

	// Declared columns as the reader: removed fields, promotions, union
	// reordering, aliases-free case-insensitive names.
	declared := []Column{
		{Name: "id", Type: types.Int64},
		{Name: "rate", Type: types.Float64},
		{Name: "country_name", Type: types.Text},
		{Name: "payload", Type: types.Bytea},
		{Name: "extra", Type: types.JSONB},
		{Name: "kind", Type: types.Text},
	}
	w3 := srv.Add("other-value", `{"type":"record","name":"r","fields":[{"name":"id","type":"boolean"}]}`)
	w4 := srv.Add("other-value", `{"type":"record","name":"r","fields":[
		{"name":"legacy","type":{"type":"array","items":{"type":"map","values":"double"}}},
		{"name":"id","type":"int"},
		{"name":"rate","type":["float","null"]},
		{"name":"Country_name","type":["string","null"]},
		{"name":"payload","type":"string"},
		{"name":"extra","type":{"type":"record","name":"e","fields":[{"name":"a","type":"long"},{"name":"b","type":{"type":"enum","name":"k","symbols":["X","Y"]}}]}},
		{"name":"kind","type":["null","long","string"]}]}`)
	d2 := mustDecoder(t, Options{Schema: Schema{Columns: declared}, Format: Avro, Registry: reg})
	legacy := append(append(append(avLong(1), avLong(1)...), append(avStr("k"), avDouble(1)...)...), 0, 0)
	for _, tc := range []struct {
		rec  []byte
		want string
	}{
		{avRecord(w4, legacy, avLong(5), avLong(0), avFloat(1.5), avLong(0), avStr("NL"), avStr("raw"),
			avLong(-3), avLong(1), avLong(2), avStr("text")),
			`insert 5|1.5|NL|\x726177|{"a": -3, "b": "Y"}|text`},
		{avRecord(w4, []byte{0}, avLong(6), avLong(1), avLong(1), avStr(""), avLong(0), avLong(0), avLong(0)),
			`insert 6|NULL|NULL|\x|{"a": 0, "b": "X"}|NULL`},
		// The long branch of kind does not fit TEXT: only records that take it fail.
		{avRecord(w4, []byte{0}, avLong(7), avLong(1), avLong(1), avStr(""), avLong(0), avLong(0), avLong(1), avLong(9)),
			`error: field "kind": Avro long cannot be read as text`},
		{avRecord(w3, avBool(true)), `error: Avro schema id 3 cannot be read into the columns: field id: Avro boolean cannot be read as bigint`},
	} {
		if got := decodeText(t, d2, nil, tc.rec); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
}

func TestAvroRecordErrors(t *testing.T) {
	srv, reg := newRegistry(t)
	id := srv.Add("t-value", `{"type":"record","name":"r","fields":[
		{"name":"id","type":"long"},{"name":"name","type":["null","string"]},
		{"name":"tags","type":{"type":"array","items":"null"}},
		{"name":"flag","type":"boolean"},
		{"name":"e","type":{"type":"enum","name":"k","symbols":["A"]}}]}`)
	deep := srv.Add("deep-value", `{"type":"record","name":"node","fields":[
		{"name":"id","type":"long"},{"name":"next","type":["null","node"]}]}`)
	notRecord := srv.Add("x-value", `"long"`)
	cols := []Column{{Name: "id", Type: types.Int64, NotNull: true}, {Name: "name", Type: types.Text}, {Name: "next", Type: types.JSONB},
		{Name: "flag", Type: types.Bool}, {Name: "e", Type: types.Text}}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: Avro, Registry: reg})
	good := [][]byte{avLong(1), avLong(1), avStr("a"), avLong(2), avLong(0), avBool(true), avLong(0)}
	deepRec := avRecord(deep)
	for i := 0; i < 300; i++ {
		deepRec = append(deepRec, append(avLong(int64(i)), avLong(1)...)...)
	}
	deepRec = append(deepRec, append(avLong(1), avLong(0)...)...)
	for _, tc := range []struct {
		rec  []byte
		want string
	}{
		{avRecord(id, good...), "insert 1|a|NULL|t|A"},
		{avRecord(deep, avLong(1), avLong(1), avLong(2), avLong(0)), `insert 1|NULL|{"id": 2, "next": null}|NULL|NULL`},
		{[]byte{}, "error: record of 0 bytes is shorter than the schema registry's 5-byte header"},
		{[]byte{1, 0, 0, 0, 1, 2}, "error: record starts with 0x01, not the schema registry's magic byte 0"},
		{avRecord(99, good...), "error: unknown Avro schema id 99"},
		{avRecord(notRecord, avLong(1)), "error: Avro schema id 3 cannot be read into the columns: Avro long is not a record, and there are 5 columns to fill"},
		{avRecord(id, avLong(1), avLong(1)), `error: field "name": truncated Avro record`},
		{avRecord(id, avLong(1), avLong(1), avLong(1<<40)), `error: field "name": truncated Avro record`},
		{avRecord(id, avLong(1), avLong(1), avLong(-5)), `error: field "name": negative Avro length -5`},
		{avRecord(id, avLong(1), avLong(7)), `error: field "name": Avro union branch 7 out of range`},
		{avRecord(id, avLong(1), avLong(0), avLong(1<<40)), `error: field "tags": Avro block of 1099511627776 items exceeds the record`},
		{avRecord(id, avLong(1), avLong(0), avLong(0), []byte{2}, avLong(0)), `error: field "flag": invalid Avro boolean 0x02`},
		{avRecord(id, avLong(1), avLong(0), avLong(0), avBool(true), avLong(3)), `error: field "e": Avro enum index 3 out of range`},
		{append(avRecord(id, good...), 0), "error: 1 bytes left after the Avro record (schema id 1)"},
		{avRecord(id, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), `error: field "id": Avro varint overflows 64 bits`},
		{avRecord(id, avLong(1), avLong(0), avLong(0), avBool(true), avLong(0))[:5], `error: field "id": truncated Avro record`},
		{deepRec, `error: field "next": Avro value nested deeper than 256 levels`},
		// Blocks of nulls cost no bytes: a budget per record bounds them.
		{avRecord(id, avLong(1), avLong(0), bytes.Repeat(avLong(60000), 3)),
			`error: field "tags": Avro block of 60000 items exceeds the record`},
	} {
		if got := decodeText(t, d, nil, tc.rec); got != tc.want {
			t.Errorf("% x:\n got %s\nwant %s", tc.rec[:min(len(tc.rec), 16)], got, tc.want)
		}
	}
	// NOT NULL: a writer without the column cannot be read at all.
	noID := srv.Add("y-value", `{"type":"record","name":"r","fields":[{"name":"name","type":"string"}]}`)
	if got, want := decodeText(t, d, nil, avRecord(noID, avStr("a"))),
		"error: Avro schema id "+strconv.Itoa(noID)+" cannot be read into the columns: the writer's record r has no field id, and the reader has no default for it"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestAvroRegistryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error_code":50001,"message":"backend down"}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	reg, err := registry.New(registry.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	d := mustDecoder(t, Options{Schema: Schema{Columns: []Column{{Name: "id", Type: types.Int64}}}, Format: Avro, Registry: reg})
	var c Change
	err = d.Decode(context.Background(), nil, avRecord(1, avLong(1)), &c)
	var e *Error
	if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "backend down") {
		t.Fatalf("want a source error naming the registry's, got %v", err)
	}
}

// An unknown schema id is a record fault, asked again after a while (the
// registry may lag a producer), and garbage ids take bounded memory.
func TestAvroUnknownSchemaID(t *testing.T) {
	reg := memRegistry{}
	cols := []Column{{Name: "id", Type: types.Int64}}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: Avro, Registry: reg})
	progs := &d.(*decoder).value.(*avroDecoder).progs
	now := time.Unix(0, 0)
	progs.now = func() time.Time { return now }
	rec := avRecord(1, avLong(7))
	if got := decodeText(t, d, nil, rec); got != "error: unknown Avro schema id 1" {
		t.Fatal(got)
	}
	reg[1] = `{"type":"record","name":"r","fields":[{"name":"id","type":"long"}]}`
	if got := decodeText(t, d, nil, rec); got != "error: unknown Avro schema id 1" {
		t.Fatalf("asked again at once: %s", got)
	}
	now = now.Add(unknownRetry)
	if got := decodeText(t, d, nil, rec); got != "insert 7" {
		t.Fatalf("after %v: %s", unknownRetry, got)
	}
	for id := 2; id < 3*maxUnknown; id++ {
		decodeText(t, d, nil, avRecord(id, avLong(7)))
	}
	if n := len(progs.byID); n > maxUnknown+1 {
		t.Errorf("%d schema ids cached", n)
	}
	if got := decodeText(t, d, nil, rec); got != "insert 7" {
		t.Fatalf("a known id was forgotten: %s", got)
	}
}

func TestAvroDecimalBytes(t *testing.T) {
	num := types.Type{Kind: types.KindNumeric, Precision: 40, Scale: 2}
	for _, tc := range []struct {
		in  string
		hex string
	}{
		{"0", "00"}, {"1.27", "7f"}, {"1.28", "0080"}, {"-1.28", "80"}, {"-1.29", "ff7f"},
		{"-0.01", "ff"}, {"327.67", "7fff"}, {"-327.68", "8000"},
		{"92233720368547758.07", "7fffffffffffffff"}, {"92233720368547758.08", "008000000000000000"},
		{"-92233720368547758.09", "ff7fffffffffffffff"},
		{"12345678901234567890123456789012345678.99", "03a0c92075c0dbf3b8acbc5f96ce3f0adb"},
		{"-12345678901234567890123456789012345678.99", "fc5f36df8a3f240c475343a06931c0f525"},
	} {
		d, err := types.ParseText(num, tc.in, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, e := decimalBytes(d.Decimal(), 2)
		if e != nil {
			t.Fatal(e)
		}
		if got := fmt.Sprintf("%x", b); got != tc.hex {
			t.Errorf("%s: % x, want %s", tc.in, b, tc.hex)
		}
		back, e := decimalDatum(b, 2, num)
		if e != nil || types.TextString(back, nil) != types.TextString(d, nil) {
			t.Errorf("%s read back as %s %v", tc.in, types.TextString(back, nil), e)
		}
	}
}
