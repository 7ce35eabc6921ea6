package executor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// This file declares what the engine needs of a connector: a Source feeds
// a relation with changes, a Sink receives a relation's changes. The
// connectors (connectors/...) implement them; the server wires them in by
// name (the WITH option connector = '...'), so that the engine never
// imports a connector.

// Connector opens the sources and sinks of one connector kind.
type Connector interface {
	// OpenSource checks cfg (options, schema, reachability) and returns a
	// source positioned at cfg.Offsets. An error here is the CREATE's
	// error: it should say what is wrong with the statement.
	OpenSource(ctx context.Context, cfg SourceConfig) (Source, error)
	// OpenSink checks cfg and returns a sink ready to write.
	OpenSink(ctx context.Context, cfg SinkConfig) (Sink, error)
}

// SchemaInferrer is a Connector that can tell the columns of a source
// declared without any, from what its system knows (an Avro schema in a
// schema registry).
type SchemaInferrer interface {
	// InferColumns returns the columns, and options to store with the
	// source so that it keeps reading by the schema it was created with.
	InferColumns(ctx context.Context, options map[string]string) ([]catalog.Column, map[string]string, error)
}

// EventTimeSource is a Connector whose records carry an event time of
// their own (a generator's timestamps): a source declared without
// WATERMARK FOR gets the watermark it returns, as if the statement had
// said WATERMARK FOR column AS expr (expr is SQL over the row, e.g.
// "date_time - INTERVAL '4' SECOND"). ok is false for none.
type EventTimeSource interface {
	DefaultWatermark(options map[string]string) (column, expr string, ok bool)
}

// OnError is what a source does with a record it cannot decode.
type OnError uint8

const (
	// OnErrorDeadLetter records the record in the source's error relation
	// (and a dead-letter destination when one is configured) and goes on.
	OnErrorDeadLetter OnError = iota
	// OnErrorSkip counts the record and goes on.
	OnErrorSkip
	// OnErrorFail stops the source at the record.
	OnErrorFail
)

// SourceConfig is what a source is opened with.
type SourceConfig struct {
	Name string
	// Relation is the relation the source feeds: its columns (the hidden
	// row id of a stream last) and, for a table, its primary key.
	Relation *catalog.Relation
	// Options are the WITH options, keys lower-cased.
	Options map[string]string
	// Offsets are the positions saved with the last committed epoch
	// (none the first time).
	Offsets []SourceOffset
	OnError OnError
	Logger  *slog.Logger
	// Replay: the source reads records already committed once again (a
	// view created over an unstored source): as fast as they can be
	// read, whatever pace the options set.
	Replay bool
}

// SourceOffset is where a source resumes in one partition of its input:
// the offset of the next record to read.
type SourceOffset struct {
	Topic     string
	Partition int32
	Next      int64
}

// Source produces a relation's changes from an external system. Poll is
// called from one goroutine; Close may be called from another to stop a
// blocked Poll.
type Source interface {
	// Poll fills b (reset by the caller) with the next changes, waiting
	// until there are some or ctx is done. b.Offsets hold the positions
	// after the records polled, so that committing them with the changes
	// makes the source resume after them. An error is transient (the
	// caller waits and polls again, and the source resumes where it
	// stopped) unless it wraps ErrSourceFailed.
	Poll(ctx context.Context, b *SourceBatch) error
	// Committed is called after the batch's changes and offsets are
	// durable: a source may then report its progress to the external
	// system.
	Committed(ctx context.Context, b *SourceBatch) error
	// StartOffsets are the positions the source started at, in every
	// partition it reads: saved at once, so that a source that started at
	// the latest records resumes there and not at later ones.
	StartOffsets() []SourceOffset
	Close()
}

// DeadLetterer is a Source that sends the records it rejects to a
// dead-letter destination. The engine hands it rejects before it commits
// the offsets past them, and retries on error (the source waits), so that
// a crash in between sends them again rather than never: at least once.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, rejects []Reject) error
}

// HealthReporter is a Source or a Sink that can tell, while its Poll or
// Write waits, that it cannot reach its system (a quiet topic and a lost
// cluster look alike to Poll; a Write retries before it gives up).
type HealthReporter interface {
	Health() error
}

// LagReporter is a Source that can tell how far behind its input the
// committed epochs are. Lag may be called from any goroutine, concurrently
// with Poll; the slice is the caller's.
type LagReporter interface {
	Lag() []PartitionLag
}

// PartitionLag is how many records of one partition of a source's input
// come after the last one committed (Source.Committed), as far as the
// source knows the partition's end.
type PartitionLag struct {
	Topic     string
	Partition int32
	Records   int64
}

// SourceBatch is one poll's worth of input.
type SourceBatch struct {
	Changes []Change
	// ChangeOffsets, when set, hold for each change the position after the
	// record it came from: the engine then can commit a batch in parts
	// (when it refuses a change) without losing or repeating any.
	ChangeOffsets []SourceOffset
	// Rejects are the records that could not be decoded.
	Rejects []Reject
	Offsets []SourceOffset
	// Bytes is the size of the records polled, for metrics.
	Bytes int64
	// Failed is set when the source stopped at Rejects' last record
	// (OnErrorFail): the batch holds the changes before it, and Offsets
	// stop before it.
	Failed bool
}

// Reset empties b, keeping its memory.
func (b *SourceBatch) Reset() {
	clear(b.Changes)
	b.Changes = b.Changes[:0]
	b.ChangeOffsets = b.ChangeOffsets[:0]
	clear(b.Rejects)
	b.Rejects = b.Rejects[:0]
	b.Offsets = b.Offsets[:0]
	b.Bytes = 0
	b.Failed = false
}

// Reject is a record a source could not decode, with where it came from.
type Reject struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte // nil for none
	Value     []byte // nil for a tombstone
	Err       string
}

// ErrSourceFailed marks a Poll error after which the source cannot go on
// (its configuration no longer fits what it reads).
var ErrSourceFailed = errSourceFailed{}

type errSourceFailed struct{}

func (errSourceFailed) Error() string { return "source failed" }

// SinkConfig is what a sink is opened with.
type SinkConfig struct {
	Name string
	// Relation is what the sink receives: its visible columns in order,
	// and the key by which an upsert sink addresses rows.
	Relation *catalog.Relation
	// Key holds the indexes in Relation.Columns of the sink's key columns.
	Key     []int
	Options map[string]string
	Logger  *slog.Logger
	// AppendOnly: the relation only ever inserts rows (a stream), so a
	// sink that can only append takes all of its changes.
	AppendOnly bool
}

// Sink delivers a relation's changes to an external system. Each call of
// Write carries one epoch's changes, numbered by a sequence that grows by
// one per call over the sink's life (it survives restarts). Write is
// called from one goroutine.
type Sink interface {
	// Delivered returns the sequence number of the last epoch the external
	// system holds (0, false when none): after a restart the engine writes
	// again what comes after it, so that nothing is lost or written twice
	// where the sink can tell (transactional sinks).
	Delivered(ctx context.Context) (seq uint64, ok bool, err error)
	// Write delivers one epoch's changes: all of them or, on error, none
	// that a reader who sees only complete epochs would see. The caller
	// retries a failed Write with the same arguments.
	// Changes are paired by key (ChangeInsert, ChangeDelete, ChangeUpdate).
	Write(ctx context.Context, seq uint64, changes []Change) error
	Close()
}

// MergingSink is a Sink that can deliver consecutive epochs as one (an
// HTTP sink with batch.linger): many small epochs then cost one request
// rather than one each. The engine decides which epochs a delivery
// covers, records it durably before the first attempt, and after a
// restart delivers exactly those epochs again first, so that a delivery
// is the same on every attempt.
type MergingSink interface {
	Sink
	// MergeLimits returns the most changes a merged delivery holds and how
	// long the engine may wait for more epochs while it holds fewer. A
	// zero linger means never merge. Constant over the sink's life.
	MergeLimits() (maxChanges int, linger time.Duration)
	// WriteEpochs is Write for epochs first through last (first < last),
	// their changes in order.
	WriteEpochs(ctx context.Context, first, last uint64, changes []Change) error
}

// DeadLetter is a part of an epoch that a sink gave up delivering: a
// request its system refused for good, or kept failing past the sink's
// retries.
type DeadLetter struct {
	// Payload is what was sent (an HTTP request's body), and Key what
	// identifies it to the system (an Idempotency-Key), so that it can be
	// sent again as it was.
	Payload []byte
	Key     string
	// Status is the system's last answer (an HTTP status; 0 for none, as
	// after a network error), Response an excerpt of its body or the
	// error.
	Status   int
	Response string
	Attempts int
}

// DeadLettersError is what Sink.Write returns when it delivered the epoch
// but for Letters: the engine records them in the sink's dead-letter
// relation (<sink>_dead_letters), in the same write that marks the epoch
// delivered, and goes on with the next epoch.
type DeadLettersError struct {
	Letters []DeadLetter
}

func (e *DeadLettersError) Error() string {
	return fmt.Sprintf("%d dead letters", len(e.Letters))
}

// Resender is a Sink that can send a dead letter again (ALTER SINK name
// RETRY DEAD LETTERS), as it was (same payload and key). It returns nil
// once the system accepted it; else an error, with l's Status, Response
// and Attempts updated.
type Resender interface {
	Resend(ctx context.Context, l *DeadLetter) error
}

// ChangeOp is what one decoded record does to a relation.
type ChangeOp uint8

const (
	// ChangeNone: the record changes nothing (a tombstone where tombstones
	// mean nothing, a Debezium tombstone after a delete).
	ChangeNone ChangeOp = iota
	// ChangeInsert adds After.
	ChangeInsert
	// ChangeDelete removes Before: the whole old row.
	ChangeDelete
	// ChangeUpdate replaces Before by After.
	ChangeUpdate
	// ChangeUpsert makes After the row of its key: whatever row has the
	// same key columns is replaced. The decoder cannot know that row; the
	// relation that holds the current rows resolves it (AppendTo).
	ChangeUpsert
	// ChangeDeleteKey deletes the row whose key columns equal Before's;
	// only Before's key columns are set. Resolved like ChangeUpsert.
	ChangeDeleteKey
)

func (o ChangeOp) String() string {
	return [...]string{"none", "insert", "delete", "update", "upsert", "delete-key"}[o]
}

// Change is one change of a relation as a connector sees it: the decoded
// effect of one record of a source, or what a sink writes. Before and
// After are rows of the relation's width; which are set depends on Op.
// The rows belong to the receiver.
type Change struct {
	Op     ChangeOp
	Before types.Row
	After  types.Row
}

// Keyed reports whether c needs the current row of its key to become
// weighted changes (ChangeUpsert, ChangeDeleteKey).
func (c *Change) Keyed() bool { return c.Op == ChangeUpsert || c.Op == ChangeDeleteKey }

// KeyRow is the row whose key columns a keyed change is about: After of
// an upsert, Before of a key delete (nil for other ops).
func (c *Change) KeyRow() types.Row {
	switch c.Op {
	case ChangeUpsert:
		return c.After
	case ChangeDeleteKey:
		return c.Before
	}
	return nil
}

// AppendTo appends c to b as weighted rows. For keyed changes current is
// the row the relation holds now under c's key (nil if none): an upsert
// becomes -current +After (nothing when After is identical to current),
// a key delete -current (nothing when there is none). current is ignored
// for the other ops.
func (c *Change) AppendTo(b *Batch, current types.Row) {
	switch c.Op {
	case ChangeInsert:
		b.Append(c.After, 1)
	case ChangeDelete:
		b.Append(c.Before, -1)
	case ChangeUpdate:
		b.Append(c.Before, -1)
		b.Append(c.After, 1)
	case ChangeUpsert:
		if current != nil {
			if IdenticalRows(current, c.After) {
				return
			}
			b.Append(current, -1)
		}
		b.Append(c.After, 1)
	case ChangeDeleteKey:
		if current != nil {
			b.Append(current, -1)
		}
	}
}

// IdenticalRows reports whether a and b hold identical values (NULLs
// alike), so that re-reading an upsert already applied changes nothing.
// Identical is stricter than SQL equality: 1.0 and 1.00 differ, as their
// text does.
func IdenticalRows(a, b types.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !identical(a[i], b[i]) {
			return false
		}
	}
	return true
}

func identical(a, b types.Datum) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() == b.IsNull()
	}
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case types.KindNumeric:
		x, y := a.Decimal(), b.Decimal()
		return x.Form == y.Form && x.Negative == y.Negative && x.Exponent == y.Exponent && x.Coeff.Cmp(&y.Coeff) == 0
	case types.KindText, types.KindBytea, types.KindJSONB, types.KindUnknown:
		return a.Str() == b.Str()
	case types.KindInterval:
		am, ad, au := a.IntervalParts()
		bm, bd, bu := b.IntervalParts()
		return am == bm && ad == bd && au == bu
	}
	return a.Int() == b.Int() // the bits of floats too
}

// PairChanges pairs a batch of weighted rows of a keyed relation into the
// changes a sink writes: per key, a -old and a +new are an update, a lone
// +new an insert, a lone -old a delete; a row deleted and inserted again
// cancels out. Without key columns every row is its own insert or
// delete. Order follows each key's first appearance. Weights other than
// ±1 repeat the change.
func PairChanges(b *Batch, key []int, dst []Change) []Change {
	if len(key) == 0 {
		for i, r := range b.Rows {
			w := b.Weights[i]
			for ; w > 0; w-- {
				dst = append(dst, Change{Op: ChangeInsert, After: r})
			}
			for ; w < 0; w++ {
				dst = append(dst, Change{Op: ChangeDelete, Before: r})
			}
		}
		return dst
	}
	type slot struct {
		rows    []types.Row
		weights []int64
	}
	var order []string
	slots := map[string]*slot{}
	var kb []byte
	for i, r := range b.Rows {
		kb = kb[:0]
		for _, c := range key {
			kb = types.AppendKey(kb, r[c])
		}
		s, ok := slots[string(kb)]
		if !ok {
			s = &slot{}
			slots[string(kb)] = s
			order = append(order, string(kb))
		}
		merged := false
		for j := range s.rows {
			if IdenticalRows(s.rows[j], r) {
				s.weights[j] += b.Weights[i]
				merged = true
				break
			}
		}
		if !merged {
			s.rows = append(s.rows, r)
			s.weights = append(s.weights, b.Weights[i])
		}
	}
	for _, k := range order {
		s := slots[k]
		var olds, news []types.Row
		for j, r := range s.rows {
			for w := s.weights[j]; w < 0; w++ {
				olds = append(olds, r)
			}
			for w := s.weights[j]; w > 0; w-- {
				news = append(news, r)
			}
		}
		for len(olds) > 0 && len(news) > 0 {
			dst = append(dst, Change{Op: ChangeUpdate, Before: olds[0], After: news[0]})
			olds, news = olds[1:], news[1:]
		}
		for _, r := range olds {
			dst = append(dst, Change{Op: ChangeDelete, Before: r})
		}
		for _, r := range news {
			dst = append(dst, Change{Op: ChangeInsert, After: r})
		}
	}
	return dst
}
