package format

import (
	"context"
	"fmt"
	"strconv"

	"github.com/weirdb/weir/sql/types"
)

// RowEncoder appends the encoding of one row; JSONEncoder and AvroEncoder
// are the two.
type RowEncoder interface {
	AppendRow(buf []byte, row types.Row) ([]byte, error)
}

// SinkOptions configure a SinkEncoder.
type SinkOptions struct {
	Schema Schema
	// Format of the value: JSON (default) or Avro. Debezium is JSON only.
	Format Format
	// KeyFormat is the key's: the value's format by default, or Kafka or
	// String for a key of one column.
	KeyFormat Format
	// Mode is Append (default), Upsert or Debezium.
	Mode Envelope
	// Name names the Avro record (the relation's name).
	Name string
	// Topic names the Avro subjects: "<topic>-value" and "<topic>-key".
	Topic    string
	Registry SchemaRegistry
}

// SinkEncoder turns a sink's changes into Kafka keys and values:
//
//   - Append: the value is the inserted row; the key is nil, or the key
//     columns when the schema has a key. A delete cannot be appended:
//     it is an error (sinks in this mode take append-only relations).
//   - Upsert: the key is the key columns, the value the new row, and a
//     delete is a tombstone (nil value).
//   - Debezium: the key is the key columns, the value
//     {"before": ..., "after": ..., "op": "c"|"u"|"d", "ts_ms": ...}.
//
// Keys are JSON objects of the key columns (Avro records when the format
// is Avro), or one column in the Kafka or String format. Not safe for
// concurrent use.
type SinkEncoder struct {
	o     SinkOptions
	key   RowEncoder // nil without key columns
	value RowEncoder
}

// NewSinkEncoder validates o and builds the encoder, registering Avro
// schemas.
func NewSinkEncoder(ctx context.Context, o SinkOptions) (*SinkEncoder, error) {
	if o.Format == "" {
		o.Format = JSON
	}
	if o.Mode == "" {
		o.Mode = Append
	}
	e := &SinkEncoder{o: o}
	cols := o.Schema.Columns
	if (o.Mode == Upsert || o.Mode == Debezium) && len(o.Schema.Key) == 0 {
		return nil, fmt.Errorf("format: mode %s needs key columns", o.Mode)
	}
	switch o.Mode {
	case Append, Upsert, Debezium:
	default:
		return nil, fmt.Errorf("format: unknown sink mode %q", o.Mode)
	}
	var keyCols []Column
	if len(o.Schema.Key) > 0 {
		keyCols = onlyColumns(cols, o.Schema.Key, true)
	}
	switch {
	case o.Format == JSON:
		e.value = NewJSONEncoder(cols)
		if keyCols != nil {
			e.key = NewJSONEncoder(keyCols)
		}
	case o.Format == Avro && o.Mode != Debezium:
		if o.Registry == nil {
			return nil, fmt.Errorf("format: avro needs a schema registry")
		}
		v, err := NewAvroEncoder(ctx, o.Registry, o.Topic+"-value", o.Name, cols)
		if err != nil {
			return nil, err
		}
		e.value = v
		if keyCols != nil {
			k, err := NewAvroEncoder(ctx, o.Registry, o.Topic+"-key", o.Name+"_key", keyCols)
			if err != nil {
				return nil, err
			}
			e.key = k
		}
	default:
		return nil, fmt.Errorf("format: mode %s cannot write format %s", o.Mode, o.Format)
	}
	if keyCols != nil && (o.KeyFormat == Kafka || o.KeyFormat == String) {
		k, err := newPrimitive(o.KeyFormat, keyCols)
		if err != nil {
			return nil, err
		}
		e.key = k
	} else if o.KeyFormat != "" && o.KeyFormat != o.Format {
		return nil, fmt.Errorf("format: a sink's key format is its value's, kafka or string, not %s", o.KeyFormat)
	}
	return e, nil
}

// Encode appends the key and value of c to keyBuf and valueBuf and
// returns them; a nil value is a tombstone, a nil key no key. c is an
// insert, update or delete (see Changes); tsMillis is the change's time
// (Debezium's ts_ms).
func (e *SinkEncoder) Encode(c *Change, tsMillis int64, keyBuf, valueBuf []byte) (key, value []byte, err error) {
	row := c.After
	deleted := c.Op == OpDelete || c.Op == OpDeleteKey
	if deleted {
		row = c.Before
	}
	if e.key != nil {
		if key, err = e.key.AppendRow(keyBuf[:0], row); err != nil {
			return nil, nil, err
		}
	}
	switch e.o.Mode {
	case Append:
		if c.Op != OpInsert {
			return nil, nil, errRecord("an append sink cannot write %s changes", c.Op)
		}
		value, err = e.value.AppendRow(valueBuf[:0], c.After)
	case Upsert:
		if deleted {
			return key, nil, nil
		}
		value, err = e.value.AppendRow(valueBuf[:0], c.After)
	case Debezium:
		value, err = e.debezium(valueBuf[:0], c, tsMillis)
	}
	if err != nil {
		return nil, nil, err
	}
	return key, value, nil
}

func (e *SinkEncoder) debezium(buf []byte, c *Change, tsMillis int64) ([]byte, error) {
	var op byte
	switch c.Op {
	case OpInsert:
		op = 'c'
	case OpUpdate:
		op = 'u'
	case OpDelete:
		op = 'd'
	default:
		return nil, errRecord("a Debezium sink cannot write %s changes", c.Op)
	}
	var err error
	buf = append(buf, `{"before":`...)
	if buf, err = e.appendOrNull(buf, c.Before, op != 'c'); err != nil {
		return nil, err
	}
	buf = append(buf, `,"after":`...)
	if buf, err = e.appendOrNull(buf, c.After, op != 'd'); err != nil {
		return nil, err
	}
	buf = append(buf, `,"op":"`...)
	buf = append(buf, op)
	buf = append(buf, `","ts_ms":`...)
	buf = strconv.AppendInt(buf, tsMillis, 10)
	return append(buf, '}'), nil
}

func (e *SinkEncoder) appendOrNull(buf []byte, row types.Row, set bool) ([]byte, error) {
	if !set {
		return append(buf, "null"...), nil
	}
	return e.value.AppendRow(buf, row)
}
