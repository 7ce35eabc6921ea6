package format

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// Format is how a key or value is encoded. Kafka and String hold one
// column; JSON, CSV and Avro any number.
type Format string

const (
	JSON Format = "json"
	// JSONSR is JSON behind Confluent's 5-byte schema registry header
	// (the JSON Schema serializer's): the header is checked and skipped,
	// the JSON read by the declared columns.
	JSONSR Format = "json_sr"
	CSV    Format = "csv"
	// Avro is Confluent's wire format: a zero byte, a 4-byte big-endian
	// schema id, the Avro binary body.
	Avro Format = "avro"
	// Kafka is ksqlDB's KAFKA format of one column: the bytes of
	// Kafka's primitive serializers (INTEGER 4 and BIGINT 8 bytes
	// big-endian, DOUBLE 8 and REAL 4 bytes IEEE 754, SMALLINT 2 bytes,
	// text as UTF-8, BYTEA as is).
	Kafka Format = "kafka"
	// String is one column as text, read by its type's input function.
	String Format = "string"
	// None is a key that is not read: upsert key columns come from the
	// value.
	None Format = "none"
)

// Envelope is what one record means to the relation.
type Envelope string

const (
	// Append: each record is an inserted row (a stream). Tombstones are
	// ignored.
	Append Envelope = "append"
	// Upsert: the record's key names a row, the value is its new contents
	// and a tombstone (nil value) deletes it (OpUpsert, OpDeleteKey).
	Upsert Envelope = "upsert"
	// Debezium: the value is a Debezium change event.
	Debezium Envelope = "debezium"
)

// Options configure a Decoder. NewDecoder validates them and fills the
// defaults.
type Options struct {
	Schema Schema
	// Format is the value's format: JSON (default), JSONSR, CSV, Avro, or
	// for a value of one column Kafka or String.
	Format Format
	// Envelope defaults to Append.
	Envelope Envelope
	// KeyFormat is the key's format for Upsert (and for Append with key
	// columns, which then come from the record key, as ksqlDB's KEY
	// columns of a stream): any Format, or None (default) to take the key
	// columns from the value. With a
	// key format, key columns come from the key alone (value fields of the
	// same names are ignored, as in ksqlDB).
	KeyFormat Format
	// Registry resolves Avro schema ids; required when a format is Avro.
	Registry SchemaRegistry
	// ReaderSchema is the Avro reader schema of the value (JSON text),
	// when the columns were inferred from it (InferColumns): its defaults
	// fill fields that older writers lack. By default the reader schema
	// is the columns themselves, every column optional with default null.
	ReaderSchema string
	// RowChunk is how many rows one allocation holds (default 32). Rows
	// are never reused, so a kept row keeps its chunk alive: 1 trades
	// allocations for exact retention.
	RowChunk int
}

// Decoder turns Kafka records into changes of a source's relation. It is
// built once per source (or per partition reader) from the declared
// schema and is not safe for concurrent use.
type Decoder interface {
	// Decode decodes one record (value nil for a tombstone) into c. The
	// rows it sets are fresh and the receiver may keep them; Decode keeps
	// no reference to key or value. A fault of the record's bytes is an
	// *Error (and c is then OpNone); any other error (the schema registry
	// cannot be reached) is not the record's fault: retry it later.
	Decode(ctx context.Context, key, value []byte, c *Change) error
}

// rowDecoder fills the columns it knows of row (which holds NULLs) from
// one encoded key or value.
type rowDecoder interface {
	decode(ctx context.Context, b []byte, row types.Row) error
}

// envelopeDecoder decodes a change event (Debezium) into the rows before
// and after the change, which hold NULLs on entry.
type envelopeDecoder interface {
	decodeEvent(ctx context.Context, b []byte, before, after types.Row) (ev event, err error)
}

// event is what an envelope decoder found.
type event struct {
	op                  byte // 'c', 'r', 'u', 'd', or 0 for a tombstone
	hasBefore, hasAfter bool
}

type decoder struct {
	o       Options
	width   int
	value   rowDecoder
	key     rowDecoder // Upsert with a key format
	keyNull []int      // key columns, checked non-NULL
	env     envelopeDecoder
	rows    rowAlloc
}

// NewDecoder builds the decoder of o.
func NewDecoder(o Options) (Decoder, error) {
	if o.Format == "" {
		o.Format = JSON
	}
	if o.Envelope == "" {
		o.Envelope = Append
	}
	if o.KeyFormat == "" {
		o.KeyFormat = None
	}
	if o.RowChunk == 0 {
		o.RowChunk = 32
	}
	if (o.Format == Avro || o.KeyFormat == Avro && o.Envelope == Upsert) && o.Registry == nil {
		return nil, fmt.Errorf("format: avro needs a schema registry")
	}
	s := o.Schema
	for _, k := range s.Key {
		if k < 0 || k >= len(s.Columns) {
			return nil, fmt.Errorf("format: key column %d out of range", k)
		}
	}
	d := &decoder{o: o, width: len(s.Columns), rows: newRowAlloc(len(s.Columns), o.RowChunk), keyNull: s.Key}
	var err error
	switch o.Envelope {
	case Append:
		cols := s.Columns
		if o.KeyFormat != None && len(s.Key) > 0 {
			// ksqlDB's KEY columns of a stream: read from the record key.
			cols = onlyColumns(s.Columns, s.Key, false)
			if d.key, err = newRowDecoder(o.KeyFormat, o, onlyColumns(s.Columns, s.Key, true), ""); err != nil {
				return nil, err
			}
			d.keyNull = nil // a stream's record may have no key
		}
		d.value, err = newRowDecoder(o.Format, o, cols, o.ReaderSchema)
	case Upsert:
		if len(s.Key) == 0 {
			return nil, fmt.Errorf("format: upsert needs key columns")
		}
		cols := s.Columns
		if o.KeyFormat != None {
			cols = onlyColumns(s.Columns, s.Key, false)
			d.key, err = newRowDecoder(o.KeyFormat, o, onlyColumns(s.Columns, s.Key, true), "")
			if err != nil {
				return nil, err
			}
		}
		d.value, err = newRowDecoder(o.Format, o, cols, o.ReaderSchema)
	case Debezium:
		switch o.Format {
		case JSON:
			d.env = newJSONDebezium(s.Columns)
		case Avro:
			d.env = newAvroDebezium(s.Columns, o.Registry)
		default:
			return nil, fmt.Errorf("format: the debezium envelope is JSON or Avro, not %s", o.Format)
		}
	default:
		return nil, fmt.Errorf("format: unknown envelope %q", o.Envelope)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// onlyColumns returns a copy of cols where the columns of idx are kept
// (keep) or made External (!keep), and the others the other way round.
func onlyColumns(cols []Column, idx []int, keep bool) []Column {
	out := make([]Column, len(cols))
	copy(out, cols)
	in := make([]bool, len(cols))
	for _, i := range idx {
		in[i] = true
	}
	for i := range out {
		if in[i] != keep {
			out[i].External = true
		}
	}
	return out
}

// newRowDecoder returns the decoder of format f for a key or value of
// cols; readerSchema is the Avro reader schema, if any.
func newRowDecoder(f Format, o Options, cols []Column, readerSchema string) (rowDecoder, error) {
	switch f {
	case JSON, JSONSR:
		d := newJSONDecoder(cols)
		d.header = f == JSONSR
		return d, nil
	case CSV:
		return newCSVDecoder(cols), nil
	case Avro:
		return newAvroDecoder(cols, o.Registry, readerSchema)
	case Kafka, String:
		return newPrimitive(f, cols)
	}
	return nil, fmt.Errorf("format: unknown format %q", f)
}

func (d *decoder) Decode(ctx context.Context, key, value []byte, c *Change) error {
	*c = Change{}
	switch d.o.Envelope {
	case Append:
		if value == nil {
			return nil
		}
		row := d.rows.row()
		if err := d.value.decode(ctx, value, row); err != nil {
			return err
		}
		if d.key != nil && key != nil {
			if err := d.key.decode(ctx, key, row); err != nil {
				return inKey(err)
			}
		}
		c.Op, c.After = OpInsert, row
		return nil
	case Upsert:
		row := d.rows.row()
		if value != nil {
			if err := d.value.decode(ctx, value, row); err != nil {
				return err
			}
		}
		if d.key != nil {
			if key == nil {
				return errRecord("upsert record without a key")
			}
			if err := d.key.decode(ctx, key, row); err != nil {
				return inKey(err)
			}
		} else if value == nil {
			return errRecord("tombstone without a key: the key format is none")
		}
		if err := d.checkKey(row); err != nil {
			return err
		}
		if value == nil {
			c.Op, c.Before = OpDeleteKey, row
		} else {
			c.Op, c.After = OpUpsert, row
		}
		return nil
	}
	if value == nil {
		return nil // Debezium's tombstone follows a delete for log compaction
	}
	before, after := d.rows.row(), d.rows.row()
	ev, err := d.env.decodeEvent(ctx, value, before, after)
	if err != nil {
		return err
	}
	return d.debeziumChange(ev, before, after, c)
}

func (d *decoder) checkKey(row types.Row) error {
	for _, k := range d.keyNull {
		if row[k].IsNull() {
			return errNotNull(d.o.Schema.Columns[k].Name)
		}
	}
	return nil
}

// debeziumChange maps an event to a change. A table (with a key) takes
// keyed changes, which need no complete before image (PostgreSQL's default
// replica identity sends none for updates) and make re-read snapshot
// records ('r') harmless; a relation without a key takes +after / -before.
func (d *decoder) debeziumChange(ev event, before, after types.Row, c *Change) error {
	keyed := len(d.o.Schema.Key) > 0
	switch ev.op {
	case 0:
		return nil
	case 'c', 'r', 'u':
		if !ev.hasAfter {
			return errField("after", "op %q without an after image", ev.op)
		}
		switch {
		case keyed:
			if err := d.checkKey(after); err != nil {
				return err
			}
			c.Op, c.After = OpUpsert, after
		case ev.op == 'u':
			if !ev.hasBefore {
				return errField("before", "update without a before image: give the source a primary key, or capture full before images")
			}
			c.Op, c.Before, c.After = OpUpdate, before, after
		default:
			c.Op, c.After = OpInsert, after
		}
	case 'd':
		if !ev.hasBefore {
			return errField("before", "delete without a before image")
		}
		if keyed {
			if err := d.checkKey(before); err != nil {
				return err
			}
			c.Op, c.Before = OpDeleteKey, before
		} else {
			c.Op, c.Before = OpDelete, before
		}
	default:
		return errField("op", "unsupported Debezium op %q", ev.op)
	}
	return nil
}

// jsonDecoder is the JSON format of a value or key: an object per
// record, or for a schema of one column also the bare value (a key 42, a
// value "abc": ksqlDB's unwrapped single values).
type jsonDecoder struct {
	row    *jsonRow
	sole   int  // the one column, or -1
	header bool // JSONSR
	p      jsonScanner
}

func newJSONDecoder(cols []Column) *jsonDecoder {
	sole, _ := soleColumn(cols)
	return &jsonDecoder{row: newJSONRow(cols), sole: sole}
}

func (d *jsonDecoder) decode(_ context.Context, b []byte, row types.Row) error {
	defer d.p.reset("") // keep no reference to the record
	if d.header {
		_, body, err := splitWire(b)
		if err != nil {
			return err
		}
		b = body
	}
	d.p.reset(view(b))
	if c := d.p.peek(); c != '{' && c != 0 && d.sole >= 0 {
		v, err := d.row.value(&d.p, d.sole, 0)
		if err != nil {
			return err
		}
		row[d.sole] = v
	} else if err := d.row.object(&d.p, row, 0); err != nil {
		return err
	}
	if err := d.p.end(); err != nil {
		return err
	}
	if err := d.row.checkNotNull(row); err != nil {
		return err
	}
	return nil
}

// soleColumn returns the one column that is not External, or -1 and an
// error when there are several.
func soleColumn(cols []Column) (int, error) {
	col := -1
	for i, c := range cols {
		if c.External {
			continue
		}
		if col >= 0 {
			return -1, fmt.Errorf("%d columns", len(cols))
		}
		col = i
	}
	if col < 0 {
		return -1, fmt.Errorf("no column")
	}
	return col, nil
}

// FormatByName maps the format names users write in WITH (...) options
// (Weir's format = '...', ksqlDB's VALUE_FORMAT / KEY_FORMAT; any case)
// to a format and the envelope the name implies ("" when it implies
// none): json, json_sr, avro, csv and delimited, kafka, string (raw),
// none, and debezium / debezium-json / debezium-avro.
func FormatByName(name string) (Format, Envelope, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "json":
		return JSON, "", true
	case "json_sr":
		return JSONSR, "", true
	case "avro":
		return Avro, "", true
	case "csv", "delimited":
		return CSV, "", true
	case "kafka":
		return Kafka, "", true
	case "string", "raw":
		return String, "", true
	case "none":
		return None, "", true
	case "debezium", "debezium-json", "debezium_json":
		return JSON, Debezium, true
	case "debezium-avro", "debezium_avro":
		return Avro, Debezium, true
	}
	return "", "", false
}
