package format

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// jsonDebezium decodes Debezium change events in JSON:
//
//	{"before": {...}|null, "after": {...}|null, "op": "c"|"r"|"u"|"d", "ts_ms": ..., "source": {...}}
//
// bare, or wrapped by Kafka Connect's JsonConverter as {"schema": ...,
// "payload": <event>}. before and after are rows in the JSON format's
// rules; the other members are skipped. A null payload is a tombstone.
// The wrapping's schema gives the units of times written as numbers
// (Debezium's MicroTimestamp, NanoTime, ...; milliseconds otherwise) and
// the scale of decimals written as base64 bytes (Connect's Decimal); it
// should come before the payload, as JsonConverter writes it (a payload
// that comes first is read by the last schema seen).
type jsonDebezium struct {
	row *jsonRow
	p   jsonScanner
	// schema is the last Connect schema seen: events of a table repeat
	// it, so it is parsed only when it changes.
	schema string
}

func newJSONDebezium(cols []Column) *jsonDebezium {
	return &jsonDebezium{row: newJSONRow(cols)}
}

func (d *jsonDebezium) decodeEvent(_ context.Context, b []byte, before, after types.Row) (event, error) {
	defer d.p.reset("") // keep no reference to the record
	d.p.reset(view(b))
	var ev event
	if err := d.event(before, after, &ev, true); err != nil {
		return event{}, err
	}
	if err := d.p.end(); err != nil {
		return event{}, err
	}
	return ev, nil
}

// event decodes the envelope object at p; top allows one level of
// {"schema", "payload"} wrapping.
func (d *jsonDebezium) event(before, after types.Row, ev *event, top bool) *Error {
	p := &d.p
	if p.peek() != '{' {
		return errRecord("expected a Debezium event object, found %s", jsonKindAt(p))
	}
	err := p.members(func(key string, esc bool) *Error {
		switch {
		case key == "before" || key == "after":
			if top && d.schema != "" {
				d.schema, d.row.conv = "", nil // an unwrapped event: no schema
			}
			row, has := before, &ev.hasBefore
			if key == "after" {
				row, has = after, &ev.hasAfter
			}
			if p.peek() == 'n' {
				return p.literal("null")
			}
			if err := d.row.object(p, row, 1); err != nil {
				return withField(err, key)
			}
			*has = true
			if key == "after" {
				return d.row.checkNotNull(row)
			}
			return nil
		case key == "op":
			if p.peek() != '"' {
				return errField("op", "expected a string, found %s", jsonKindAt(p))
			}
			raw, _, err := p.str()
			if err != nil {
				return err
			}
			if len(raw) != 1 {
				return errField("op", "unsupported Debezium op %q", clip(raw))
			}
			ev.op = raw[0]
			return nil
		case key == "schema" && top:
			span, err := p.skip(1)
			if err != nil {
				return err
			}
			if span != d.schema {
				d.schema = strings.Clone(span)
				d.row.useConnectSchema(d.schema)
			}
			return nil
		case key == "payload" && top:
			if p.peek() == 'n' {
				return p.literal("null") // a tombstone in Connect's wrapping
			}
			return d.event(before, after, ev, false)
		}
		_, err := p.skip(1)
		return err
	})
	if err != nil {
		return err
	}
	if ev.op == 0 && (ev.hasBefore || ev.hasAfter) {
		return errField("op", "Debezium event without op")
	}
	return nil
}

// avroDebezium decodes Debezium change events in Avro: the envelope
// record's before and after fields (["null", Value]) resolved against
// the columns as the Avro format resolves a value, op read, the other
// fields (source, ts_ms, transaction) skipped.
type avroDebezium struct {
	progs programs[*avroEnvelope]
	cols  []Column
	r     avroReader
}

type avroEnvelope struct {
	steps []envelopeStep
}

// envelopeStep reads one field of the envelope: before ('b'), after
// ('a'), op ('o'), or skips it (0).
type envelopeStep struct {
	what byte
	skip avroSkipFn
	// bare: before/after is a record, not a union with null.
	bare bool
	// branches of before/after: nil for the null branch.
	branches []*avroRecordProg
}

func newAvroDebezium(cols []Column, reg SchemaRegistry) *avroDebezium {
	return &avroDebezium{cols: cols, progs: newPrograms(reg, "read as a Debezium event of the columns", func(w *avroType) (*avroEnvelope, error) {
		return compileEnvelope(w, cols)
	})}
}

func compileEnvelope(w *avroType, cols []Column) (*avroEnvelope, error) {
	if w.kind != avroRecord {
		return nil, fmt.Errorf("a Debezium envelope is a record, not %s", w)
	}
	c := newAvroCompiler()
	env := &avroEnvelope{}
	for _, f := range w.fields {
		st := envelopeStep{}
		switch f.name {
		case "before", "after":
			st.what = f.name[0]
			bs := []*avroType{f.typ}
			if f.typ.kind == avroUnion {
				bs = f.typ.branches
			}
			for _, b := range bs {
				if b.kind == avroNull {
					st.branches = append(st.branches, nil)
					continue
				}
				prog, err := compileRecord(c, b, cols, nil)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", f.name, err)
				}
				st.branches = append(st.branches, prog)
			}
			st.bare = f.typ.kind != avroUnion
		case "op":
			if f.typ.kind != avroString {
				return nil, fmt.Errorf("op is %s, not string", f.typ)
			}
			st.what = 'o'
		default:
			st.skip = c.skip(f.typ)
		}
		env.steps = append(env.steps, st)
	}
	return env, nil
}

func (d *avroDebezium) decodeEvent(ctx context.Context, b []byte, before, after types.Row) (event, error) {
	defer d.r.release()
	id, body, bad := splitWire(b)
	if bad != nil {
		return event{}, bad
	}
	env, err := d.progs.get(ctx, id)
	if err != nil {
		return event{}, err
	}
	r := &d.r
	r.b, r.i, r.depth, r.freeItems = body, 0, 0, 0
	var ev event
	for _, st := range env.steps {
		switch st.what {
		case 0:
			if err := st.skip(r); err != nil {
				return event{}, err
			}
		case 'o':
			op, err := r.bytes()
			if err != nil {
				return event{}, withField(err, "op")
			}
			if len(op) != 1 {
				return event{}, errField("op", "unsupported Debezium op %q", clip(string(op)))
			}
			ev.op = op[0]
		default:
			name, row, has := "before", before, &ev.hasBefore
			if st.what == 'a' {
				name, row, has = "after", after, &ev.hasAfter
			}
			i := int64(0)
			if !st.bare {
				var err *Error
				if i, err = r.long(); err != nil {
					return event{}, withField(err, name)
				}
				if i < 0 || i >= int64(len(st.branches)) {
					return event{}, errField(name, "Avro union branch %d out of range", i)
				}
			}
			if prog := st.branches[i]; prog != nil {
				if err := prog.run(r, row); err != nil {
					return event{}, withField(err, name)
				}
				*has = true
			}
		}
	}
	if r.i != len(body) {
		return event{}, errRecord("%d bytes left after the Avro record (schema id %d)", len(body)-r.i, id)
	}
	if ev.op == 0 && (ev.hasBefore || ev.hasAfter) {
		return event{}, errField("op", "Debezium event without op")
	}
	if ev.hasAfter {
		for i, c := range d.cols {
			if c.NotNull && !c.External && after[i].IsNull() {
				return event{}, withField(errNotNull(c.Name), "after")
			}
		}
	}
	return ev, nil
}
