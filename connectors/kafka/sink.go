package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/connectors/format"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/sqlerr"
)

// sink is a Kafka sink (executor.Sink): each epoch is one Kafka
// transaction of the encoded changes, tagged with the epoch's sequence,
// under a transactional id of its own, so that after a crash it knows
// which epoch the topic holds last.
type sink struct {
	opts WriterOptions
	enc  *format.SinkEncoder
	// forceAppend drops deletes and writes updates as inserts of the new
	// row (force_append_only): an append sink of a relation that changes.
	forceAppend bool
	// health outlives the writers the sink makes (see Health).
	health *connHealth
	w      *Writer // nil after ErrFenced, until the next Write

	msgs             []Message
	keyBuf, valueBuf []byte // scratch
	arena            []byte
	log              *slog.Logger
}

// copy returns b copied into the arena.
func (s *sink) copy(b []byte) []byte {
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return s.arena[start:len(s.arena):len(s.arena)]
}

// OpenSink implements executor.Connector.
func (c *Connector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	o := newOptions(cfg.Options)
	o.used["key"] = true // read by the engine: cfg.Key
	brokers, err := c.brokers(o)
	if err != nil {
		return nil, err
	}
	topic := o.get("topic")
	if topic == "" {
		return nil, optionError("missing option \"topic\"").WithHint("Name the topic to write: topic = 'name'.")
	}
	name := o.get("format")
	if name == "" {
		name = "json"
	}
	f, env, ok := format.FormatByName(name)
	if !ok || (f != format.JSON && f != format.Avro) {
		return nil, optionError("a kafka sink cannot write format \"%s\"", name).WithHint("Formats: json, avro, debezium (debezium-json).")
	}
	mode := format.Append
	if env == format.Debezium {
		mode = format.Debezium
	}
	if v := o.get("mode"); v != "" {
		switch m := format.Envelope(strings.ToLower(v)); m {
		case format.Append, format.Upsert, format.Debezium:
			mode = m
		default:
			return nil, optionError("unknown sink mode \"%s\"", v).WithHint("Modes: append, upsert, debezium.")
		}
	}
	forceAppend := false
	switch v := strings.ToLower(o.get("force_append_only")); v {
	case "", "false":
	case "true":
		forceAppend = true
	default:
		return nil, optionError("invalid value for option force_append_only: \"%s\"", v)
	}
	if mode == format.Append && !cfg.AppendOnly && !forceAppend {
		return nil, optionError("\"%s\" updates and deletes rows: an append sink cannot write those changes", cfg.Relation.Name).
			WithHint("Use mode = 'upsert' or 'debezium', or force_append_only = 'true' to write inserted rows and the new rows of updates and drop deletes.")
	}
	if mode != format.Append && len(cfg.Key) == 0 {
		return nil, optionError("mode %s needs a key", mode).
			WithHint("Name the key columns: key = 'col1,col2' (a table's or an aggregate's key is found by itself).")
	}
	var keyFormat format.Format
	if v := o.get("key.format"); v != "" {
		if keyFormat, _, ok = format.FormatByName(v); !ok {
			return nil, optionError("unknown key format \"%s\"", v)
		}
	}
	partitions := int32(1)
	if v := o.get("partitions"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return nil, optionError("invalid value for option partitions: \"%s\"", v)
		}
		partitions = int32(n)
	}
	reg, err := c.registry(o)
	if err != nil {
		return nil, err
	}
	if f == format.Avro && reg == nil {
		return nil, optionError("format avro needs a schema registry").
			WithHint("Set the option schema.registry = 'http://host:port', or start Weir with --schema-registry.")
	}
	props := Properties(o.prefixed("properties."))
	if err := o.unknown("sink"); err != nil {
		return nil, err
	}
	schema := format.Schema{Key: cfg.Key}
	for _, col := range cfg.Relation.Columns {
		schema.Columns = append(schema.Columns, format.Column{Name: col.Name, Type: col.Type, NotNull: col.NotNull})
	}
	sopts := format.SinkOptions{Schema: schema, Format: f, KeyFormat: keyFormat, Mode: mode, Name: cfg.Name, Topic: topic}
	if reg != nil {
		sopts.Registry = reg
	}
	enc, err := format.NewSinkEncoder(ctx, sopts)
	if err != nil {
		return nil, optionError("%s", strings.TrimPrefix(err.Error(), "format: "))
	}
	logger := cfg.Logger
	if logger == nil {
		logger = c.Logger
	}
	s := &sink{enc: enc, forceAppend: forceAppend, log: logger, health: &connHealth{}, opts: WriterOptions{
		Brokers: brokers, Topic: topic, Sink: cfg.Name,
		// One per sink and stable across restarts: the object id tells
		// a sink from an older one of the same name.
		SinkID:          strconv.FormatUint(uint64(cfg.Relation.ID), 10),
		TransactionalID: fmt.Sprintf("weir-sink-%s-%d", cfg.Name, cfg.Relation.ID),
		CreateTopic:     true, Partitions: partitions, ClientID: c.ClientID,
		Logger: logger, Properties: props,
	}}
	s.opts.health = s.health
	if s.w, err = NewWriter(ctx, s.opts); err != nil {
		return nil, sqlerr.New(sqlerr.ConnectionFailure, "%s", err)
	}
	return s, nil
}

func (s *sink) writer(ctx context.Context) (*Writer, error) {
	if s.w == nil {
		w, err := NewWriter(ctx, s.opts)
		if err != nil {
			return nil, err
		}
		s.w = w
	}
	return s.w, nil
}

// Delivered implements executor.Sink.
func (s *sink) Delivered(ctx context.Context) (uint64, bool, error) {
	w, err := s.writer(ctx)
	if err != nil {
		return 0, false, err
	}
	return w.LastEpoch(ctx)
}

// Write implements executor.Sink.
func (s *sink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	w, err := s.writer(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	s.msgs = s.msgs[:0]
	// Encoded into scratch buffers, then copied into one arena per epoch
	// that the messages point into (an arena that grows leaves earlier
	// messages pointing into the old one, which stays valid).
	s.arena = s.arena[:0]
	for i := range changes {
		ch := &changes[i]
		if s.forceAppend {
			switch ch.Op {
			case executor.ChangeDelete:
				continue
			case executor.ChangeUpdate:
				ch = &executor.Change{Op: executor.ChangeInsert, After: ch.After}
			}
		}
		kb, vb, err := s.enc.Encode(ch, now, s.keyBuf, s.valueBuf)
		if err != nil {
			return fmt.Errorf("kafka sink: encode: %w", err)
		}
		var m Message
		if kb != nil {
			s.keyBuf = kb
			m.Key = s.copy(kb)
		}
		if vb != nil {
			s.valueBuf = vb
			m.Value = s.copy(vb)
		}
		s.msgs = append(s.msgs, m)
	}
	if err := w.WriteEpoch(ctx, seq, s.msgs); err != nil {
		if errors.Is(err, ErrFenced) {
			// Our own earlier producer, or a broker-side abort: start
			// over with a new one, which checks what the topic holds.
			w.Close()
			s.w = nil
		}
		return err
	}
	return nil
}

// Health implements executor.HealthReporter: why the sink cannot reach
// its cluster now, while a Write still waits to give up.
func (s *sink) Health() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.err
}

// Close implements executor.Sink.
func (s *sink) Close() {
	if s.w != nil {
		s.w.Close()
	}
}
