// Package format turns Kafka records into changes of a source's relation,
// and a sink's changes into Kafka records: the JSON, CSV and Avro (with a
// Confluent schema registry) formats, the append, upsert and Debezium
// envelopes, and the keys.
//
// # Decoding
//
// A Decoder is built once per source (or per partition reader) from
// Options: the declared Schema (columns, their sql/types.Type, the key
// columns), the value format, the envelope and the key format. It decodes
// each record straight from its bytes into typed datums, guided by the
// schema: no map per record, no reflection per value, buffers reused. Its
// output is a Change:
//
//   - Append: OpInsert of the row; tombstones are ignored (OpNone).
//   - Upsert: OpUpsert of the row, or for a tombstone OpDeleteKey of the
//     key. The key columns come from the record's key (in any format);
//     with key format none, from the value.
//   - Debezium: c/r/u/d events with before/after images, bare or in Kafka
//     Connect's {"schema", "payload"} wrapping (JSON), or Avro. A source
//     with key columns gets OpUpsert / OpDeleteKey (which need no complete
//     before image, and make re-read snapshot events harmless); one
//     without gets OpInsert / OpUpdate / OpDelete. Tombstones are ignored.
//
// The decoder cannot know the row an upsert replaces. Keyed changes are
// resolved by the table that holds the current rows: it looks the key of
// Change.KeyRow up (Schema.AppendKey) and calls Change.AppendTo with the
// row it holds, which appends -old +new (nothing when they are
// identical) to an executor.Batch. The other ops append without a lookup.
//
// Kafka metadata columns (partition, offset, timestamp, headers) are
// declared External: decoders leave them NULL for the source to fill.
//
// Rows in a Change are fresh (carved from chunks of Options.RowChunk
// rows, never handed out twice): receivers may keep them, as
// executor.Batch allows. Text values are copies, so a kept value does not
// pin the record it came from.
//
// # Errors
//
// A record whose bytes cannot be decoded, or do not fit the schema, is an
// *Error naming the field and a one-line reason: what goes to the
// source's `<source>_errors` relation and its dead-letter topic. Decoders
// never panic and never loop or allocate without bound on any bytes
// (truncated Avro, forged lengths and counts, unknown schema ids, deep
// nesting are all *Error). An error that is not an *Error is not the
// record's fault (the schema registry cannot be reached): the source
// retries the record rather than dead-lettering it.
//
// # Rules of the formats
//
// JSON: one object per record (for a schema of one column, also the bare
// value, as keys often are); fields are matched to columns by name,
// exactly, else ignoring case (SQL folds names to lower case, producers
// write "Country_name"). A missing field is NULL, extra fields are
// ignored, a repeated field's last value wins. Values follow PostgreSQL's
// json_populate_record: a scalar goes through the column type's input
// function as text, so "12" fills a BIGINT and 12 a TEXT, while 12.5 into
// an INTEGER is an error; NUMERIC keeps the number's exact digits;
// objects and arrays fill JSONB (any value does) or TEXT columns.
// Numbers fill TIMESTAMP(TZ) as milliseconds since 1970, DATE as days
// since 1970, TIME as milliseconds since midnight; a TIMESTAMPTZ string
// without an offset is UTC. A NULL in a NOT NULL column is an error.
//
// JSONSR is JSON behind the schema registry's 5-byte header, which is
// checked and skipped. FormatByName maps the names users write.
//
// Kafka and String hold one column: Kafka's primitive serializations
// (4- and 8-byte big-endian integers, IEEE floats, UTF-8 text), or text
// read by the column type's input function.
//
// CSV: one line of fields in column order, RFC 4180 quoting; an empty
// unquoted field is NULL, "" the empty string (PostgreSQL's COPY CSV);
// each field goes through its column type's input function.
//
// Avro: Confluent's wire format (byte 0, 4-byte big-endian schema id,
// binary body). The writer schema is fetched by id through a
// SchemaRegistry (*registry.Client) and resolved once per id against the
// reader schema (an id the registry does not have is the record's fault,
// and asked for again after 10 s), per the Avro specification: fields matched by name, the
// reader's aliases, then name ignoring case; writer fields the reader
// lacks skipped; reader fields the writer lacks take their defaults
// (the reader schema is Options.ReaderSchema when the columns were
// inferred with InferColumns, else the columns themselves, each nullable
// with default null, NOT NULL ones required); promotions int -> long ->
// float -> double and string <-> bytes; unions resolved branch by branch
// (a branch that does not fit is an error only for records that take
// it). Logical types: decimal (bytes and fixed) into NUMERIC, date,
// time-millis/micros, timestamp-millis/micros and local-timestamp-* (a
// long without a logical type is milliseconds), duration into INTERVAL.
// Records, arrays and maps fill JSONB columns.
//
// # Encoding
//
// A SinkEncoder writes a sink's changes (see Changes, which pairs a
// batch's -old/+new rows by key) as Kafka keys and values in the append,
// upsert (deletes are tombstones) and Debezium modes; values as JSON
// (JSONEncoder: PostgreSQL's to_json text of values, NUMERIC exact,
// timestamps ISO 8601) or Avro (AvroEncoder: a schema generated from the
// columns, AvroSchema, registered under "<topic>-value"); keys as a JSON
// object (or Avro record) of the key columns.
package format
