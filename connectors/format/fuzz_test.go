package format

import (
	"context"
	"fmt"
	"testing"

	"github.com/weirdb/weir/connectors/registry"
	"github.com/weirdb/weir/sql/types"
)

// memRegistry is a SchemaRegistry in memory, for fuzzing without HTTP.
type memRegistry map[int]string

func (m memRegistry) SchemaByID(_ context.Context, id int) (string, error) {
	if s, ok := m[id]; ok {
		return s, nil
	}
	return "", fmt.Errorf("schema id %d: %w", id, registry.ErrNotFound)
}

func (m memRegistry) Register(_ context.Context, _, schema string) (int, error) {
	for id, s := range m {
		if s == schema {
			return id, nil
		}
	}
	m[len(m)+1] = schema
	return len(m), nil
}

func (m memRegistry) Latest(context.Context, string) (int, string, error) {
	return 0, "", registry.ErrNotFound
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"b":true,"i2":-32768,"i4":7,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,"n":"-1.500","n2":"3.14159",` +
			`"t":"q\"\n\u00e9","vc":"abc","ch":"a","by":"\\x0aff","d":"2024-02-29","tm":"23:59:59.5","ts":"2024-01-02 03:04:05",` +
			`"tz":"2024-01-02T03:04:05.25+02:00","iv":"1 day 02:00:00","j":{"b":[1,2.50],"a":null}}`,
		`{"ts":1704164645500,"d":19723,"tm":1,"t":{"x":[1]},"j":"s","B":"yes"}`,
		`{"n":1e400,"f8":1e400,"i8":"  12 ","x\ud83d":null}`,
		`[]`, `{`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	d := mustDecoder(f, Options{Schema: Schema{Columns: allTypes}})
	enc := NewJSONEncoder(allTypes)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := checkDecode(t, d, nil, b)
		if err != nil {
			return
		}
		// Whatever decodes, encodes and decodes back the same.
		out, err := enc.AppendRow(nil, c.After)
		if err != nil {
			t.Fatal(err)
		}
		back, err := checkDecode(t, d, nil, out)
		if err != nil || rowText(back.After) != rowText(c.After) {
			t.Fatalf("round trip of %s:\n got %s\nwant %s", out, rowText(back.After), rowText(c.After))
		}
	})
}

func FuzzDecodeCSV(f *testing.F) {
	for _, s := range []string{"1,Ada,12.5", "4,\"a,b\"\"c\nd\",0.005\n", `1,"a`, ",,", "\"\",\"\",\"\""} {
		f.Add([]byte(s))
	}
	cols := []Column{{Name: "id", Type: types.Int64}, {Name: "name", Type: types.Text}, {Name: "amount", Type: types.Numeric}}
	d := mustDecoder(f, Options{Schema: Schema{Columns: cols}, Format: CSV})
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, d, nil, b) })
}

func FuzzDecodeDebezium(f *testing.F) {
	for _, s := range []string{
		`{"before":{"id":1,"name":"Ada","tier":"gold"},"after":{"id":1,"name":"Ada","tier":"silver"},"op":"u"}`,
		`{"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":2,"name":"Bo"},"op":"c"}}`,
		`{"before":{"id":1},"op":"d"}`, `{"schema":{},"payload":null}`,
		`{"schema":{"type":"struct","fields":[{"type":"struct","field":"after","fields":[{"field":"name","name":"io.debezium.time.NanoTime"},` +
			`{"field":"id","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}}]}]},"payload":{"after":{"id":"AQ==","name":"x"},"op":"c"}}`,
	} {
		f.Add([]byte(s))
	}
	keyed := mustDecoder(f, Options{Schema: Schema{Columns: customers, Key: []int{0}}, Envelope: Debezium})
	stream := mustDecoder(f, Options{Schema: Schema{Columns: customers}, Envelope: Debezium})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, keyed, nil, b)
		checkDecode(t, stream, nil, b)
	})
}

// fuzzSchemas are the writer schemas FuzzDecodeAvro's records name by id.
var fuzzSchemas = memRegistry{
	1: AvroSchema("all", allTypes),
	2: `{"type":"record","name":"node","fields":[{"name":"i8","type":"long"},{"name":"j","type":["null","node"]},
		{"name":"t","type":{"type":"map","values":{"type":"array","items":["null","string",{"type":"enum","name":"e","symbols":["A","B"]}]}}},
		{"name":"n","type":{"type":"fixed","name":"f","size":3,"logicalType":"decimal","precision":7,"scale":2}},
		{"name":"iv","type":{"type":"fixed","name":"du","size":12,"logicalType":"duration"}},
		{"name":"skipped","type":{"type":"array","items":"null"}}]}`,
	3: `"long"`,
}

func FuzzDecodeAvro(f *testing.F) {
	enc, err := NewAvroEncoder(context.Background(), fuzzSchemas, "", "all", allTypes)
	if err != nil {
		f.Fatal(err)
	}
	jd := mustDecoder(f, Options{Schema: Schema{Columns: allTypes}})
	for _, s := range []string{
		`{"b":true,"i2":-32768,"i4":7,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,"n":"-1.500","n2":"3.14159",` +
			`"t":"q","vc":"abc","ch":"a","by":"\\x0aff","d":"2024-02-29","tm":"23:59:59.5","ts":"2024-01-02 03:04:05",` +
			`"tz":"2024-01-02T03:04:05.25+02:00","iv":"1 day 02:00:00","j":{"b":[1,2.50],"a":null}}`,
		`{}`,
	} {
		var c Change
		if err := jd.Decode(context.Background(), nil, []byte(s), &c); err != nil {
			f.Fatal(err)
		}
		b, err := enc.AppendRow(nil, c.After)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(avRecord(2, avLong(1), avLong(1), avLong(2), avLong(0), avLong(1), avStr("k"), avLong(1), avLong(2), avLong(0), avLong(0),
		[]byte{0xff, 0x00, 0x01}, make([]byte, 12), avLong(-3), avLong(1), []byte{0, 0, 0}, avLong(0)))
	f.Add(avRecord(3, avLong(-7)))
	d := mustDecoder(f, Options{Schema: Schema{Columns: allTypes}, Format: Avro, Registry: fuzzSchemas})
	key := mustDecoder(f, Options{Schema: Schema{Columns: allTypes[3:4], Key: []int{0}}, Envelope: Upsert, Format: JSON, KeyFormat: Avro, Registry: fuzzSchemas})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, d, nil, b)
		checkDecode(t, key, b, []byte(`{}`))
	})
}

// FuzzAvroSchema fuzzes the schema parser and the resolution with the
// body of one record.
func FuzzAvroSchema(f *testing.F) {
	for _, s := range fuzzSchemas {
		f.Add(s, []byte{2, 0, 4})
	}
	f.Add(`{"type":"record","name":"a","fields":[{"name":"x","type":"a"}]}`, []byte{0, 0})
	f.Add(`["null",{"type":"array","items":{"type":"map","values":"bytes"}}]`, []byte{2, 3, 2, 0, 0})
	f.Fuzz(func(t *testing.T, schema string, body []byte) {
		reg := memRegistry{1: schema}
		cols := []Column{{Name: "x", Type: types.JSONB}, {Name: "i8", Type: types.Int64}, {Name: "t", Type: types.Text}}
		d := mustDecoder(t, Options{Schema: Schema{Columns: cols}, Format: Avro, Registry: reg})
		checkDecode(t, d, nil, avRecord(1, body))
		InferColumns(schema) //nolint:errcheck // only must not panic
	})
}
