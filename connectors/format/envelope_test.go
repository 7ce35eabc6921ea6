package format

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

var customers = []Column{
	{Name: "id", Type: types.Int64, NotNull: true},
	{Name: "name", Type: types.Text, NotNull: true},
	{Name: "tier", Type: types.Text},
}

func TestDecodeDebeziumJSON(t *testing.T) {
	keyed := mustDecoder(t, Options{Schema: Schema{Columns: customers, Key: []int{0}}, Envelope: Debezium})
	stream := mustDecoder(t, Options{Schema: Schema{Columns: customers}, Envelope: Debezium})
	for _, tc := range []struct{ in, keyed, stream string }{
		{`{"before":null,"after":{"id":1,"name":"Ada","tier":"gold"},"op":"c","ts_ms":1}`,
			"upsert 1|Ada|gold", "insert 1|Ada|gold"},
		{`{"op":"r","after":{"id":1,"name":"Ada"},"source":{"lsn":[1,2]}}`, "upsert 1|Ada|NULL", "insert 1|Ada|NULL"},
		{`{"before":{"id":1,"name":"Ada","tier":"gold"},"after":{"id":1,"name":"Ada","tier":"silver"},"op":"u"}`,
			"upsert 1|Ada|silver", "update 1|Ada|gold / 1|Ada|silver"},
		// PostgreSQL's default replica identity: no before image.
		{`{"before":null,"after":{"id":1,"name":"Ada","tier":"x"},"op":"u"}`,
			"upsert 1|Ada|x", `error: field "before": update without a before image: give the source a primary key, or capture full before images`},
		// A delete's before image may hold only the key.
		{`{"before":{"id":1},"after":null,"op":"d"}`, "delete-key 1|NULL|NULL", "delete 1|NULL|NULL"},
		// Kafka Connect's JsonConverter wrapping.
		{`{"schema":{"type":"struct","fields":[{"field":"before"}]},"payload":{"before":null,"after":{"id":2,"name":"Bo"},"op":"c"}}`,
			"upsert 2|Bo|NULL", "insert 2|Bo|NULL"},
		{`{"schema":{},"payload":null}`, "none", "none"},
		{`{"after":{"id":3,"name":"C"},"op":"x"}`, `error: field "op": unsupported Debezium op 'x'`, `error: field "op": unsupported Debezium op 'x'`},
		{`{"after":{"id":3,"name":"C"}}`, `error: field "op": Debezium event without op`, `error: field "op": Debezium event without op`},
		{`{"after":{"id":3},"op":"c"}`, `error: field "name": null value in column "name" violates not-null constraint`,
			`error: field "name": null value in column "name" violates not-null constraint`},
		{`{"after":null,"op":"c"}`, `error: field "after": op 'c' without an after image`, `error: field "after": op 'c' without an after image`},
		{`{"before":{"id":null},"op":"d"}`, `error: field "id": null value in column "id" violates not-null constraint`, "delete NULL|NULL|NULL"},
		{`{"after":[1],"op":"c"}`, `error: field "after": expected a JSON object, found an array`, `error: field "after": expected a JSON object, found an array`},
		{`{"op":"truncate"}`, `error: field "op": unsupported Debezium op "truncate"`, `error: field "op": unsupported Debezium op "truncate"`},
		{`"c"`, `error: expected a Debezium event object, found a string`, `error: expected a Debezium event object, found a string`},
	} {
		if got := decodeText(t, keyed, nil, []byte(tc.in)); got != tc.keyed {
			t.Errorf("keyed %.70s:\n got %s\nwant %s", tc.in, got, tc.keyed)
		}
		if got := decodeText(t, stream, nil, []byte(tc.in)); got != tc.stream {
			t.Errorf("stream %.70s:\n got %s\nwant %s", tc.in, got, tc.stream)
		}
	}
	if got := decodeText(t, keyed, []byte(`{"id":1}`), nil); got != "none" {
		t.Errorf("tombstone: %s", got)
	}
}

func TestDecodeDebeziumAvro(t *testing.T) {
	srv, reg := newRegistry(t)
	id := srv.Add("db.customers-value", `{"type":"record","name":"Envelope","namespace":"db.customers","fields":[
		{"name":"before","type":["null",{"type":"record","name":"Value","fields":[
			{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"tier","type":["null","string"],"default":null}]}],"default":null},
		{"name":"after","type":["null","Value"],"default":null},
		{"name":"source","type":{"type":"record","name":"Source","fields":[{"name":"lsn","type":["null","long"]}]}},
		{"name":"op","type":"string"},
		{"name":"ts_ms","type":["null","long"]}]}`)
	d := mustDecoder(t, Options{Schema: Schema{Columns: customers}, Envelope: Debezium, Format: Avro, Registry: reg})
	row := func(id int64, name string) []byte {
		return append(append(avLong(id), avStr(name)...), avLong(0)...)
	}
	src := append(avLong(1), avLong(77)...)
	for _, tc := range []struct {
		rec  []byte
		want string
	}{
		{avRecord(id, avLong(0), avLong(1), row(1, "Ada"), src, avStr("c"), avLong(0)), "insert 1|Ada|NULL"},
		{avRecord(id, avLong(1), row(1, "Ada"), avLong(1), row(1, "Ann"), src, avStr("u"), avLong(1), avLong(5)), "update 1|Ada|NULL / 1|Ann|NULL"},
		{avRecord(id, avLong(1), row(1, "Ann"), avLong(0), src, avStr("d"), avLong(0)), "delete 1|Ann|NULL"},
		{avRecord(id, avLong(1), row(1, "Ann"), avLong(0), src, avStr("dd"), avLong(0)), `error: field "op": unsupported Debezium op "dd"`},
		{avRecord(id, avLong(3)), `error: field "before": Avro union branch 3 out of range`},
		{avRecord(id, avLong(0), avLong(1), row(1, "Ada"), src, avStr("c")), `error: truncated Avro record`},
	} {
		if got := decodeText(t, d, nil, tc.rec); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
}

func TestDecodeUpsert(t *testing.T) {
	cols := []Column{
		{Name: "id", Type: types.Int64, NotNull: true},
		{Name: "region", Type: types.Text, NotNull: true},
		{Name: "n", Type: types.Int32},
	}
	schema := Schema{Columns: cols, Key: []int{0, 1}}
	jsonKey := mustDecoder(t, Options{Schema: schema, Envelope: Upsert, KeyFormat: JSON})
	noKey := mustDecoder(t, Options{Schema: schema, Envelope: Upsert})
	one := Schema{Columns: cols[:1:1], Key: []int{0}}
	oneCols := append(cols[:1:1], Column{Name: "n", Type: types.Int32})
	one.Columns = oneCols
	kafkaKey := mustDecoder(t, Options{Schema: one, Envelope: Upsert, KeyFormat: Kafka})
	stringKey := mustDecoder(t, Options{Schema: one, Envelope: Upsert, KeyFormat: String})
	jsonOne := mustDecoder(t, Options{Schema: one, Envelope: Upsert, KeyFormat: JSON})
	be := func(v int64) []byte { b := make([]byte, 8); b[7] = byte(v); b[6] = byte(v >> 8); return b }
	for _, tc := range []struct {
		d          Decoder
		key, value string
		want       string
	}{
		{jsonKey, `{"id":1,"region":"EU"}`, `{"n":5,"id":99}`, "upsert 1|EU|5"}, // key columns from the key only
		{jsonKey, `{"id":1,"region":"EU"}`, "\x00", "delete-key 1|EU|NULL"},
		{jsonKey, `{"id":1}`, `{"n":5}`, `error: key: field "region": null value in column "region" violates not-null constraint`},
		{jsonKey, `{"id":"x","region":"EU"}`, `{"n":5}`, `error: key: field "id": invalid input syntax for type bigint: "x"`},
		{jsonKey, "\x00", `{"n":5}`, `error: upsert record without a key`},
		{noKey, "", `{"n":5,"id":2,"region":"US"}`, "upsert 2|US|5"},
		{noKey, `ignored`, "\x00", "error: tombstone without a key: the key format is none"},
		{kafkaKey, string(be(258)), `{"n":1}`, "upsert 258|1"},
		{kafkaKey, "abc", `{"n":1}`, `error: key: field "id": expected 8 bytes for bigint, found 3`},
		{stringKey, "42", "\x00", "delete-key 42|NULL"},
		{jsonOne, "42", `{"n":2}`, "upsert 42|2"},
		{jsonOne, `{"id":43}`, `{"n":2}`, "upsert 43|2"},
	} {
		var key, value []byte
		if tc.key != "\x00" {
			key = []byte(tc.key)
		}
		if tc.value != "\x00" {
			value = []byte(tc.value)
		}
		if got := decodeText(t, tc.d, key, value); got != tc.want {
			t.Errorf("%q %q:\n got %s\nwant %s", tc.key, tc.value, got, tc.want)
		}
	}
	if _, err := NewDecoder(Options{Schema: schema, Envelope: Upsert, KeyFormat: Kafka}); err == nil {
		t.Errorf("a two-column key in the kafka format was accepted")
	}
	if _, err := NewDecoder(Options{Schema: Schema{Columns: cols}, Envelope: Upsert}); err == nil {
		t.Errorf("upsert without key columns was accepted")
	}
}

// A keyed change becomes weighted rows against the row the table holds.
func TestChangeAppendTo(t *testing.T) {
	d := mustDecoder(t, Options{Schema: Schema{Columns: customers, Key: []int{0}}, Envelope: Upsert, KeyFormat: JSON})
	current := map[string]types.Row{}
	var b executor.Batch
	apply := func(key, value string) {
		var c Change
		var v []byte
		if value != "" {
			v = []byte(value)
		}
		if err := d.Decode(context.Background(), []byte(key), v, &c); err != nil {
			t.Fatal(err)
		}
		k := string((&Schema{Key: []int{0}}).AppendKey(nil, c.KeyRow()))
		c.AppendTo(&b, current[k])
		if c.Op == OpDeleteKey {
			delete(current, k)
		} else {
			current[k] = c.After
		}
	}
	apply(`1`, `{"name":"Ada"}`)
	apply(`1`, `{"name":"Ada"}`) // a re-read changes nothing
	apply(`1`, `{"name":"Ann"}`)
	apply(`1`, ``)
	apply(`1`, ``)
	var got []string
	for i, r := range b.Rows {
		got = append(got, map[int64]string{1: "+", -1: "-"}[b.Weights[i]]+rowText(r))
	}
	if g, w := joinLines(got), "+1|Ada|NULL\n-1|Ada|NULL\n+1|Ann|NULL\n-1|Ann|NULL"; g != w {
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n"
		}
		out += l
	}
	return out
}

// Kafka Connect's schema gives the units of times and the scale of
// decimals that the payload writes as numbers and base64.
func TestDecodeDebeziumConnectSchema(t *testing.T) {
	cols := []Column{
		{Name: "id", Type: types.Int64, NotNull: true},
		{Name: "ts", Type: types.Timestamp},
		{Name: "tz", Type: types.TimestampTZ},
		{Name: "tm", Type: types.Time},
		{Name: "d", Type: types.Date},
		{Name: "price", Type: types.Type{Kind: types.KindNumeric, Precision: 10, Scale: 2}},
	}
	d := mustDecoder(t, Options{Schema: Schema{Columns: cols, Key: []int{0}}, Envelope: Debezium})
	schema := `{"type":"struct","fields":[{"type":"struct","fields":[
		{"type":"int64","field":"id"},
		{"type":"int64","name":"io.debezium.time.MicroTimestamp","field":"ts"},
		{"type":"string","name":"io.debezium.time.ZonedTimestamp","field":"tz"},
		{"type":"int64","name":"io.debezium.time.NanoTime","field":"tm"},
		{"type":"int32","name":"io.debezium.time.Date","field":"d"},
		{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"}],
		"optional":true,"name":"db.public.t.Value","field":"before"},{"type":"struct","fields":[],"field":"after"},{"type":"string","field":"op"}]}`
	// "after" lists no fields here, so "before" is not used: the schema of
	// after is what an event's rows are read by.
	schemaAfter := strings.Replace(schema, `"field":"before"},{"type":"struct","fields":[],"field":"after"}`, `"field":"after"}`, 1)
	in := `{"schema":` + schemaAfter + `,"payload":{"before":null,"after":{"id":1,"ts":1704164645123456,"tz":"2024-01-02T03:04:05.5Z",` +
		`"tm":3723000000001,"d":19723,"price":"MDk="},"op":"c"}}`
	if got, want := decodeText(t, d, nil, []byte(in)), "upsert 1|2024-01-02 03:04:05.123456|2024-01-02 03:04:05.5+00|01:02:03|2024-01-01|123.45"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	// Without a schema, a number is milliseconds.
	in = `{"before":null,"after":{"id":1,"ts":1704164645123,"tm":3723000},"op":"c"}`
	if got, want := decodeText(t, d, nil, []byte(in)), "upsert 1|2024-01-02 03:04:05.123|NULL|01:02:03|NULL|NULL"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// A stream with key columns and a key format reads them from the record
// key (ksqlDB's KEY columns); a record without a key leaves them NULL.
func TestDecodeAppendWithKeyColumns(t *testing.T) {
	d := mustDecoder(t, Options{Schema: Schema{Columns: customers, Key: []int{0}}, KeyFormat: Kafka})
	key := []byte{0, 0, 0, 0, 0, 0, 0, 7}
	for _, tc := range []struct {
		key   []byte
		value string
		want  string
	}{
		{key, `{"id":99,"name":"Ada"}`, "insert 7|Ada|NULL"},
		{nil, `{"name":"Bo","tier":"gold"}`, "insert NULL|Bo|gold"},
		{[]byte{1, 2}, `{"name":"Cy"}`, `error: key: field "id": `},
	} {
		got := decodeText(t, d, tc.key, []byte(tc.value))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("key %x value %s: got %s, want %s", tc.key, tc.value, got, tc.want)
		}
	}
}
