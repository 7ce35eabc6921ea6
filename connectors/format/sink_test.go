package format

import (
	"context"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

func TestJSONEncoder(t *testing.T) {
	jd := mustDecoder(t, Options{Schema: Schema{Columns: allTypes}})
	enc := NewJSONEncoder(allTypes)
	for _, tc := range []struct{ in, want string }{
		{`{"b":true,"i2":-32768,"i4":7,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-5,"n":"-1.500","n2":"3.14159",` +
			`"t":"q\"\n\u00e9","vc":"abc","ch":"a","by":"\\x0aff","d":"2024-02-29","tm":"23:59:59.5","ts":"2024-01-02 03:04:05",` +
			`"tz":"2024-01-02T03:04:05.25+02:00","iv":"1 day 02:00:00","j":{"b":[1,2.50],"a":null}}`,
			`{"b":true,"i2":-32768,"i4":7,"i8":-9223372036854775808,"f4":1.5,"f8":-2.25e-05,"n":-1.500,"n2":3.14,` +
				`"t":"q\"\né","vc":"abc","ch":"a  ","by":"\\x0aff","d":"2024-02-29","tm":"23:59:59.5","ts":"2024-01-02T03:04:05",` +
				`"tz":"2024-01-02T01:04:05.25+00:00","iv":"1 day 02:00:00","j":{"a": null, "b": [1, 2.50]}}`},
		{`{"f8":"NaN","f4":"Infinity","n":"-Infinity","ts":"infinity","d":"0044-03-15 BC"}`,
			`{"b":null,"i2":null,"i4":null,"i8":null,"f4":"Infinity","f8":"NaN","n":"-Infinity","n2":null,"t":null,"vc":null,"ch":null,` +
				`"by":null,"d":"0044-03-15 BC","tm":null,"ts":"infinity","tz":null,"iv":null,"j":null}`},
	} {
		var c Change
		if err := jd.Decode(context.Background(), nil, []byte(tc.in), &c); err != nil {
			t.Fatal(err)
		}
		b, err := enc.AppendRow(nil, c.After)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got  %s\nwant %s", b, tc.want)
		}
		// What the encoder writes, the decoder reads back.
		var back Change
		if err := jd.Decode(context.Background(), nil, b, &back); err != nil {
			t.Fatalf("read back %s: %v", b, err)
		}
		if rowText(back.After) != rowText(c.After) {
			t.Errorf("round trip:\n got %s\nwant %s", rowText(back.After), rowText(c.After))
		}
	}
}

func TestSinkEncoder(t *testing.T) {
	ctx := context.Background()
	schema := Schema{Columns: customers, Key: []int{0}}
	rows := func(s ...string) []types.Row {
		var out []types.Row
		for _, v := range s {
			var c Change
			if err := mustDecoder(t, Options{Schema: Schema{Columns: customers}}).Decode(ctx, nil, []byte(v), &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c.After)
		}
		return out
	}
	r := rows(`{"id":1,"name":"Ada"}`, `{"id":1,"name":"Ann","tier":"gold"}`, `{"id":2,"name":"Bo"}`, `{"id":3,"name":"Cy"}`)
	// One epoch's batch: 1 updated, 2 inserted, 3 deleted, 2's insert
	// retracted and redone (cancels).
	b := executor.Batch{}
	b.Append(r[0], -1)
	b.Append(r[2], 1)
	b.Append(r[1], 1)
	b.Append(r[3], -1)
	b.Append(r[2], -1)
	b.Append(r[2], 1)
	changes := executor.PairChanges(&b, schema.Key, nil)
	var got []string
	for i := range changes {
		got = append(got, changeText(&changes[i]))
	}
	if g, w := joinLines(got), "update 1|Ada|NULL / 1|Ann|gold\ninsert 2|Bo|NULL\ndelete 3|Cy|NULL"; g != w {
		t.Fatalf("Changes:\n%s\nwant\n%s", g, w)
	}
	for _, tc := range []struct {
		mode Envelope
		want string
	}{
		{Upsert, `{"id":1} {"id":1,"name":"Ann","tier":"gold"}` + "\n" + `{"id":2} {"id":2,"name":"Bo","tier":null}` + "\n" + `{"id":3} <tombstone>`},
		{Debezium, `{"id":1} {"before":{"id":1,"name":"Ada","tier":null},"after":{"id":1,"name":"Ann","tier":"gold"},"op":"u","ts_ms":7}` + "\n" +
			`{"id":2} {"before":null,"after":{"id":2,"name":"Bo","tier":null},"op":"c","ts_ms":7}` + "\n" +
			`{"id":3} {"before":{"id":3,"name":"Cy","tier":null},"after":null,"op":"d","ts_ms":7}`},
	} {
		e, err := NewSinkEncoder(ctx, SinkOptions{Schema: schema, Mode: tc.mode})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		keyed := mustDecoder(t, Options{Schema: schema, Envelope: tc.mode, KeyFormat: JSON})
		for i := range changes {
			k, v, err := e.Encode(&changes[i], 7, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			vs := "<tombstone>"
			if v != nil {
				vs = string(v)
			}
			lines = append(lines, string(k)+" "+vs)
			// What the sink writes, a keyed source reads back as upserts.
			var c Change
			if err := keyed.Decode(ctx, k, v, &c); err != nil {
				t.Fatalf("read back %s: %v", vs, err)
			}
			want := changes[i]
			if (c.Op == OpDeleteKey) != (want.Op == OpDelete) || c.Op == OpUpsert && rowText(c.After) != rowText(want.After) {
				t.Errorf("read back %s: %s", vs, changeText(&c))
			}
		}
		if g := joinLines(lines); g != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.mode, g, tc.want)
		}
	}
	// Append mode writes inserts and refuses deletes.
	e, _ := NewSinkEncoder(ctx, SinkOptions{Schema: Schema{Columns: customers}})
	if k, v, err := e.Encode(&changes[1], 0, nil, nil); err != nil || k != nil || string(v) != `{"id":2,"name":"Bo","tier":null}` {
		t.Errorf("append: %s %s %v", k, v, err)
	}
	if _, _, err := e.Encode(&changes[2], 0, nil, nil); err == nil {
		t.Errorf("append sink wrote a delete")
	}
}

func TestSinkEncoderAvro(t *testing.T) {
	ctx := context.Background()
	srv, reg := newRegistry(t)
	schema := Schema{Columns: customers, Key: []int{0}}
	e, err := NewSinkEncoder(ctx, SinkOptions{Schema: schema, Mode: Upsert, Format: Avro, Registry: reg, Topic: "cust", Name: "customers"})
	if err != nil {
		t.Fatal(err)
	}
	if _, s, err := reg.Latest(ctx, "cust-value"); err != nil ||
		s != `{"fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"default":null,"name":"tier","type":["null","string"]}],"name":"customers","type":"record"}` {
		t.Fatalf("registered %s %v", s, err)
	}
	row := types.Row{types.NewInt64(5), types.NewText("Eve"), types.Null}
	k, v, err := e.Encode(&Change{Op: OpInsert, After: row}, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := mustDecoder(t, Options{Schema: schema, Envelope: Upsert, Format: Avro, KeyFormat: Avro, Registry: reg})
	if got := decodeText(t, d, k, v); got != "upsert 5|Eve|NULL" {
		t.Errorf("read back: %s", got)
	}
	if _, _, err := e.Encode(&Change{Op: OpInsert, After: types.Row{types.NewInt64(5), types.Null, types.Null}}, 0, nil, nil); err == nil {
		t.Errorf("a NULL in a NOT NULL column was encoded")
	}
	_ = srv
}

func TestSinkKafkaKey(t *testing.T) {
	ctx := context.Background()
	schema := Schema{Columns: customers, Key: []int{0}}
	e, err := NewSinkEncoder(ctx, SinkOptions{Schema: schema, Mode: Upsert, KeyFormat: Kafka})
	if err != nil {
		t.Fatal(err)
	}
	row := types.Row{types.NewInt64(258), types.NewText("Eve"), types.Null}
	k, v, err := e.Encode(&Change{Op: OpInsert, After: row}, 0, nil, nil)
	if err != nil || string(k) != "\x00\x00\x00\x00\x00\x00\x01\x02" {
		t.Fatalf("%q %v", k, err)
	}
	d := mustDecoder(t, Options{Schema: schema, Envelope: Upsert, KeyFormat: Kafka})
	if got := decodeText(t, d, k, v); got != "upsert 258|Eve|NULL" {
		t.Errorf("read back: %s", got)
	}
	if _, err := NewSinkEncoder(ctx, SinkOptions{Schema: Schema{Columns: customers, Key: []int{0, 1}}, Mode: Upsert, KeyFormat: Kafka}); err == nil {
		t.Errorf("a two-column key in the kafka format was taken")
	}
}
