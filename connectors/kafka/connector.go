package kafka

import (
	"context"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/connectors/format"
	"github.com/weirdb/weir/connectors/registry"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Connector is the kafka connector: it opens the sources and sinks of
// statements WITH (connector = 'kafka', ...). Its fields are the server's
// defaults, used by statements that name none (as ksqlDB's server
// configuration serves its statements).
type Connector struct {
	Brokers        []string
	SchemaRegistry string // URL
	ClientID       string
	Logger         *slog.Logger
}

var (
	_ executor.Connector      = (*Connector)(nil)
	_ executor.SchemaInferrer = (*Connector)(nil)
)

// optionError is the error of a WITH option.
func optionError(format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.InvalidParameterValue, format, args...)
}

// options reads WITH options, remembering which were used so that the
// rest can be refused as unknown.
type options struct {
	m    map[string]string
	used map[string]bool
}

func newOptions(m map[string]string) *options {
	return &options{m: m, used: map[string]bool{"connector": true, "on_error": true}}
}

func (o *options) get(k string) string {
	o.used[k] = true
	return o.m[k]
}

// prefixed returns the options under prefix, without it.
func (o *options) prefixed(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range o.m {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			o.used[k] = true
			out[rest] = v
		}
	}
	return out
}

// unknown fails on the first option nothing read.
func (o *options) unknown(what string) error {
	var extra []string
	for k := range o.m {
		if !o.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return optionError("unknown option \"%s\" for a kafka %s", extra[0], what)
}

func (c *Connector) brokers(o *options) ([]string, error) {
	if v := o.get("brokers"); v != "" {
		return SplitList(v), nil
	}
	if v := o.get("properties.bootstrap.server"); v != "" {
		return SplitList(v), nil
	}
	if len(c.Brokers) > 0 {
		return c.Brokers, nil
	}
	return nil, optionError("no Kafka brokers given").
		WithHint("Set the option brokers = 'host:port', or start Weir with --kafka-brokers.")
}

func (c *Connector) registry(o *options) (format.SchemaRegistry, error) {
	url := o.get("schema.registry")
	if url == "" {
		url = c.SchemaRegistry
	}
	if url == "" {
		return nil, nil
	}
	r, err := registry.New(registry.Options{URL: url, Username: o.get("schema.registry.username"), Password: o.get("schema.registry.password")})
	if err != nil {
		return nil, optionError("%s", err)
	}
	return r, nil
}

// SplitList splits a comma-separated list (of brokers, of topics),
// dropping blanks.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// metadataKinds are the record metadata a source's columns may hold
// (include.<kind> = '<column>').
var metadataKinds = []string{"partition", "offset", "timestamp", "key", "headers"}

// metadataColumn is a column filled from the record, not its value.
type metadataColumn struct {
	kind string
	col  int
	typ  types.Type
}

func checkMetadataType(kind string, t types.Type) bool {
	switch kind {
	case "partition":
		return t.Kind == types.KindInt32 || t.Kind == types.KindInt64
	case "offset":
		return t.Kind == types.KindInt64
	case "timestamp":
		return t.Kind == types.KindTimestamp || t.Kind == types.KindTimestampTZ
	case "key":
		return t.Kind == types.KindBytea || t.Kind == types.KindText
	case "headers":
		return t.Kind == types.KindJSONB
	}
	return false
}

var metadataTypes = map[string]string{
	"partition": "integer or bigint", "offset": "bigint", "timestamp": "timestamp or timestamptz",
	"key": "bytea or text", "headers": "jsonb",
}

// sourceSchema is the format schema of rel: hidden and metadata columns
// are External (not read from the record's value).
func sourceSchema(rel *catalog.Relation, meta []metadataColumn, keyColumns string) format.Schema {
	s := format.Schema{Columns: make([]format.Column, len(rel.Columns))}
	for i, c := range rel.Columns {
		s.Columns[i] = format.Column{Name: c.Name, Type: c.Type, NotNull: c.NotNull && !c.Hidden, External: c.Hidden}
	}
	for _, m := range meta {
		s.Columns[m.col].External = true
		s.Columns[m.col].NotNull = false
	}
	if !rel.HasRowID() {
		s.Key = rel.PrimaryKey
	}
	for _, name := range SplitList(keyColumns) {
		if i := rel.ColumnIndex(name); i >= 0 {
			s.Key = append(s.Key, i)
		}
	}
	return s
}

// optKeyColumns names the KEY columns of a ksqlDB stream (read from the
// record key, with key.format).
const optKeyColumns = "weir.key_columns"

// OpenSource implements executor.Connector.
func (c *Connector) OpenSource(ctx context.Context, cfg executor.SourceConfig) (executor.Source, error) {
	o := newOptions(cfg.Options)
	rel := cfg.Relation
	brokers, err := c.brokers(o)
	if err != nil {
		return nil, err
	}
	topics := SplitList(o.get("topic"))
	var pattern *regexp.Regexp
	if p := o.get("topic.pattern"); p != "" {
		if len(topics) > 0 {
			return nil, optionError("give either topic or topic.pattern, not both")
		}
		if pattern, err = regexp.Compile("^(?:" + p + ")$"); err != nil {
			return nil, optionError("invalid topic.pattern: %s", err)
		}
	} else if len(topics) == 0 {
		return nil, optionError("missing option \"topic\"").WithHint("Name the topic to read: topic = 'name' (or a comma-separated list), or topic.pattern = 'regular expression'.")
	}
	start, err := parseStartup(o.get("scan.startup"), o.get("scan.startup.timestamp"))
	if err != nil {
		return nil, err
	}
	var meta []metadataColumn
	for _, kind := range metadataKinds {
		name := o.get("include." + kind)
		if name == "" {
			continue
		}
		i := rel.ColumnIndex(strings.ToLower(name))
		if i < 0 || rel.Columns[i].Hidden {
			return nil, optionError("include.%s names column \"%s\", which \"%s\" does not have", kind, name, rel.Name)
		}
		if !checkMetadataType(kind, rel.Columns[i].Type) {
			return nil, optionError("column \"%s\" holds the record's %s: it must be of type %s", name, kind, metadataTypes[kind])
		}
		meta = append(meta, metadataColumn{kind: kind, col: i, typ: rel.Columns[i].Type})
	}
	dopts, err := c.decoderOptions(o, rel, meta)
	if err != nil {
		return nil, err
	}
	maxRecords := 10000
	if v := o.get("poll.max_records"); v != "" {
		if maxRecords, err = strconv.Atoi(v); err != nil || maxRecords < 1 {
			return nil, optionError("invalid value for option poll.max_records: \"%s\"", v)
		}
	}
	dlqTopic := o.get("dlq.topic")
	if dlqTopic != "" && cfg.OnError != executor.OnErrorDeadLetter {
		return nil, optionError("dlq.topic needs on_error = 'dlq'")
	}
	props := Properties(o.prefixed("properties."))
	if err := o.unknown("source"); err != nil {
		return nil, err
	}
	dec, err := format.NewDecoder(dopts)
	if err != nil {
		return nil, optionError("%s", strings.TrimPrefix(err.Error(), "format: "))
	}
	offsets := make([]PartitionOffset, len(cfg.Offsets))
	for i, off := range cfg.Offsets {
		offsets[i] = PartitionOffset{TopicPartition: TopicPartition{Topic: off.Topic, Partition: off.Partition}, Next: off.Next}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = c.Logger
	}
	r, err := NewReader(ctx, Options{
		Brokers:      brokers,
		Topics:       topics,
		TopicPattern: pattern,
		ClientID:     c.ClientID,
		Startup:      start,
		Offsets:      offsets,
		Logger:       logger,
		Properties:   props,
	})
	if err != nil {
		return nil, sqlerr.New(sqlerr.ConnectionFailure, "%s", err)
	}
	s := &source{reader: r, dec: dec, meta: meta, onError: cfg.OnError, max: maxRecords, next: map[TopicPartition]int64{}, committed: map[TopicPartition]int64{}}
	if dlqTopic != "" {
		s.dlq, err = NewWriter(ctx, WriterOptions{Brokers: brokers, Topic: dlqTopic, Sink: cfg.Name, Properties: props, Logger: logger, CreateTopic: true})
		if err != nil {
			r.Close()
			return nil, sqlerr.New(sqlerr.ConnectionFailure, "dead-letter topic: %s", err)
		}
	}
	return s, nil
}

// optReaderSchema holds, for a source whose columns came from the
// registry, the Avro schema they came from: its reader schema.
const optReaderSchema = "weir.avro.reader_schema"

// InferColumns implements executor.SchemaInferrer: the columns of the
// latest schema of the topic's value subject (<topic>-value), for Avro.
func (c *Connector) InferColumns(ctx context.Context, opts map[string]string) ([]catalog.Column, map[string]string, error) {
	o := newOptions(opts)
	if f, _, _ := format.FormatByName(o.get("format")); f != format.Avro {
		return nil, nil, sqlerr.New(sqlerr.InvalidTableDefinition, "a source's columns can be inferred only for format avro").
			WithHint("Declare the columns: CREATE SOURCE name (col type, ...) WITH (...).")
	}
	topics := SplitList(o.get("topic"))
	if len(topics) != 1 {
		return nil, nil, optionError("inferring columns needs exactly one topic")
	}
	reg, err := c.registry(o)
	if err != nil {
		return nil, nil, err
	}
	if reg == nil {
		return nil, nil, optionError("format avro needs a schema registry").
			WithHint("Set the option schema.registry = 'http://host:port', or start Weir with --schema-registry.")
	}
	subject := topics[0] + "-value"
	_, schema, err := reg.Latest(ctx, subject)
	if err != nil {
		return nil, nil, sqlerr.New(sqlerr.UndefinedObject, "cannot infer the columns of topic \"%s\": %s", topics[0], err).
			WithHint("Register the value schema under subject \"%s\", or declare the columns.", subject)
	}
	fcols, err := format.InferColumns(schema)
	if err != nil {
		return nil, nil, sqlerr.New(sqlerr.InvalidTableDefinition, "subject \"%s\": %s", subject, err)
	}
	cols := make([]catalog.Column, len(fcols))
	for i, fc := range fcols {
		cols[i] = catalog.Column{Name: fc.Name, Type: fc.Type, NotNull: fc.NotNull}
	}
	return cols, map[string]string{optReaderSchema: schema}, nil
}

// decoderOptions reads the format options: format, key.format, envelope.
func (c *Connector) decoderOptions(o *options, rel *catalog.Relation, meta []metadataColumn) (format.Options, error) {
	keyColumns := o.get(optKeyColumns)
	d := format.Options{Schema: sourceSchema(rel, meta, keyColumns), ReaderSchema: o.get(optReaderSchema)}
	name := o.get("format")
	if name == "" {
		name = "json"
	}
	f, env, ok := format.FormatByName(name)
	if !ok || f == format.None {
		return d, optionError("unknown format \"%s\"", name).
			WithHint("Formats: json, json_sr, avro, csv, kafka, string, debezium (debezium-json), debezium-avro.")
	}
	d.Format = f
	if v := o.get("key.format"); v != "" {
		kf, _, ok := format.FormatByName(v)
		if !ok {
			return d, optionError("unknown key format \"%s\"", v)
		}
		d.KeyFormat = kf
	}
	if v := o.get("envelope"); v != "" {
		switch e := format.Envelope(strings.ToLower(v)); e {
		case format.Append, format.Upsert, format.Debezium:
			env = e
		default:
			return d, optionError("unknown envelope \"%s\"", v).WithHint("Envelopes: append, upsert, debezium.")
		}
	}
	keyed := !rel.HasRowID()
	switch {
	case env == "" && keyed:
		env = format.Upsert
	case env == "":
		env = format.Append
	case env != format.Append && !keyed:
		return d, optionError("the %s envelope needs a primary key", env).
			WithHint("Declare the PRIMARY KEY of the rows the records change.")
	}
	d.Envelope = env
	if env != format.Upsert && d.KeyFormat != "" && d.KeyFormat != format.None && (env != format.Append || keyColumns == "") {
		// The key is not read: only an upsert addresses rows by it, and
		// a stream with KEY columns takes them from it.
		d.KeyFormat = ""
	}
	reg, err := c.registry(o)
	if err != nil {
		return d, err
	}
	if reg == nil && (d.Format == format.Avro || d.KeyFormat == format.Avro) {
		return d, optionError("format avro needs a schema registry").
			WithHint("Set the option schema.registry = 'http://host:port', or start Weir with --schema-registry.")
	}
	if reg != nil {
		d.Registry = reg
	}
	return d, nil
}

// parseStartup reads scan.startup: earliest (default), latest, or a
// timestamp (RFC 3339, or milliseconds since 1970), also given as
// scan.startup.timestamp.
func parseStartup(v, ts string) (StartPosition, error) {
	if ts != "" {
		v = ts
	}
	switch strings.ToLower(v) {
	case "", "earliest":
		return StartPosition{Kind: StartEarliest}, nil
	case "latest":
		return StartPosition{Kind: StartLatest}, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return StartPosition{Kind: StartTimestamp, Millis: ms}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return StartPosition{Kind: StartTimestamp, Millis: t.UnixMilli()}, nil
	}
	return StartPosition{}, optionError("invalid value for option scan.startup: \"%s\"", v).
		WithHint("Use 'earliest', 'latest', or a timestamp (RFC 3339, or milliseconds since 1970).")
}
