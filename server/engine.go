package server

import (
	"context"
	"time"

	"github.com/weirdb/weir/sql/types"
)

// Engine is what the protocol layer needs from the coordinator. The server
// owns no SQL semantics: it decodes messages, calls these, and encodes what
// comes back. Implementations must be safe for concurrent use by many
// sessions.
type Engine interface {
	// NewSession opens a session for an authenticated startup. params are
	// the startup parameters (user, database, application_name, ...).
	NewSession(ctx context.Context, params map[string]string) (Session, error)
}

// Session is one client connection's state: session variables, prepared
// statements' plans, the open transaction. A Session is used by one
// goroutine at a time (the connection's), except Cancel which may be
// called from any goroutine.
type Session interface {
	// Parse splits a query string into statements and prepares each one.
	// paramTypes are the OIDs a client declared in Parse (0 = infer); they
	// apply to a single-statement string. Errors are *sqlerr.Error with
	// positions relative to query.
	Parse(ctx context.Context, query string, paramTypes []uint32) ([]Statement, error)

	// Execute runs a prepared statement with bound parameters (one Datum
	// per ParamTypes entry, already decoded). The Result must be closed.
	Execute(ctx context.Context, stmt Statement, params []types.Datum) (Result, error)

	// TxStatus is 'I' (idle), 'T' (in a transaction block) or 'E' (in a
	// failed transaction block), for ReadyForQuery.
	TxStatus() byte

	// Parameters are the ParameterStatus values to report at startup
	// (server_version, TimeZone, ...); Changed returns and clears the ones a
	// SET changed since the last call, to be reported after a statement.
	Parameters() map[string]string
	Changed() map[string]string

	// Close releases the session (rolling back an open transaction).
	Close()
}

// Locator is optionally implemented by a Session that resolves its own
// TimeZone setting; the server then formats timestamptz values in it.
type Locator interface {
	Location() *time.Location
}

// Statement is a prepared statement.
type Statement interface {
	// SQL is the statement's own text.
	SQL() string
	// ParamTypes are the types of $1..$n, inferred where not declared.
	ParamTypes() []types.Type
	// Columns describes the rows the statement returns; nil when it returns
	// none (RowDescription vs NoData).
	Columns() []Column
}

// Column describes one result column.
type Column struct {
	Name     string
	Type     types.Type
	TableOID uint32
	Attr     int16
}

// Result is the outcome of Execute. Exactly one of the shapes applies:
// rows (Next until false), a COPY FROM STDIN (CopyIn non-nil), or a COPY TO
// STDOUT (CopyOut non-nil), or just a tag.
type Result interface {
	// Next returns the next row; ok is false at the end. The row is valid
	// until the next call.
	Next(ctx context.Context) (row types.Row, ok bool, err error)
	// Tag is the command tag ("SELECT 3", "INSERT 0 1"), valid once Next
	// returned false (or at once for statements without rows).
	Tag() string
	// Notices are messages to send as NoticeResponse before the tag.
	Notices() []string
	// CopyIn is non-nil for COPY ... FROM STDIN.
	CopyIn() CopyIn
	// CopyOut is non-nil for COPY ... TO STDOUT.
	CopyOut() CopyOut
	Close()
}

// Live is optionally implemented by a Result or CopyOut whose rows arrive
// over time (a push query, SELECT ... EMIT CHANGES): whenever no further row
// is ready, the server writes out what it has buffered, so that each change
// reaches the client as it happens rather than at the end.
type Live interface {
	// Buffered is how many rows Next can return without waiting.
	Buffered() int
}

// CopyIn receives COPY FROM STDIN data.
type CopyIn interface {
	// Columns is the number of columns per row (for CopyInResponse).
	Columns() int
	// Binary reports the binary COPY format.
	Binary() bool
	// Write takes the next CopyData payload (any split of the stream).
	// data is valid only until Write returns (it aliases the read buffer).
	Write(ctx context.Context, data []byte) error
	// Done ends the stream and applies the rows; it returns the tag
	// ("COPY n").
	Done(ctx context.Context) (string, error)
	// Fail abandons the copy (CopyFail from the client).
	Fail(reason string)
}

// CopyOut produces COPY TO STDOUT data.
type CopyOut interface {
	Columns() int
	// Binary reports the binary COPY format: Next returns the header with
	// the first tuple and the trailer last.
	Binary() bool
	// Next returns the next CopyData payload (one line, terminator
	// included); ok is false at the end.
	Next(ctx context.Context) (data []byte, ok bool, err error)
	// Tag is "COPY n", valid once Next returned false.
	Tag() string
}

// noticeKey is the context key of a statement's notice function.
type noticeKey struct{}

// WithNotice returns a copy of ctx whose statement sends notices through
// fn. The server puts one into the context of every Session.Execute (and
// of the Result and COPY calls that follow it); engines call Notice.
func WithNotice(ctx context.Context, fn func(msg string)) context.Context {
	return context.WithValue(ctx, noticeKey{}, fn)
}

// Notice sends msg to the client as a NoticeResponse (severity NOTICE,
// SQLSTATE 00000) at once, while the statement of ctx is still running:
// the message is written and flushed before Notice returns, so the client
// sees it before the statement completes (a long CREATE MATERIALIZED VIEW
// reports its progress this way). It reports whether ctx carries a notice
// function; without one (a context not from the server) it does nothing.
//
// Notice writes to the connection without locking: call it only
// synchronously from Session.Execute, Result.Next or the CopyIn/CopyOut
// methods (all run on the connection's goroutine), never from another
// goroutine. Notices known only at the end of a statement go in
// Result.Notices instead.
func Notice(ctx context.Context, msg string) bool {
	fn := NoticeFunc(ctx)
	if fn == nil {
		return false
	}
	fn(msg)
	return true
}

// NoticeFunc returns the notice function of ctx (see Notice), or nil when
// ctx carries none. The same rule applies: call it only synchronously from
// the statement's own calls into the engine.
func NoticeFunc(ctx context.Context) func(msg string) {
	fn, _ := ctx.Value(noticeKey{}).(func(string))
	return fn
}

// PipelineReporter is implemented by an Engine that runs sources, views
// and sinks: /metrics reports on them at every scrape. The engine keeps the
// counts; each call returns them as they are now, and an object dropped
// is simply no longer reported.
type PipelineReporter interface {
	SourceStats() []SourceStats
	ViewStats() []ViewStats
	SinkStats() []SinkStats
	EngineStats() EngineStats
}

// SourceStats are one source's counters since the server started.
type SourceStats struct {
	Name      string
	Running   bool // false while retrying or failed
	Records   int64
	Errors    int64 // records that could not be decoded or were refused
	Bytes     int64
	LastEvent int64 // unix nanos of the last batch with records; 0 none
	// Lag is, per partition of its input, how many records the source's
	// committed epochs have not reached yet; nil when the source cannot
	// tell.
	Lag []PartitionLag
}

// PartitionLag is a source's lag in one partition of its input.
type PartitionLag struct {
	Topic     string
	Partition int32
	Records   int64
}

// ViewStats are one materialized view's counters since the server
// started.
type ViewStats struct {
	Name string
	// ChangesIn are the changes of its inputs its dataflow took in, and
	// ChangesOut the changes of its rows it made, in committed epochs.
	ChangesIn, ChangesOut int64
	// CachedKeys and CachedBytes are the operator state in memory: keys
	// (groups, join keys, distinct rows) and their estimated bytes. Past
	// the state cache's budget the rest is only in storage.
	CachedKeys, CachedBytes int64
}

// SinkStats are one sink's counters since the server started.
type SinkStats struct {
	Name      string
	Running   bool
	Changes   int64  // changes delivered
	Delivered uint64 // last epoch delivered
	Pending   int64  // epochs waiting in the log
	Retries   int64  // failed attempts to open, position or write, each retried
	// DeadLetters are the parts of epochs the sink gave up delivering
	// and recorded in its dead-letter relation.
	DeadLetters int64
	// DeliveryLatency times, in seconds, each epoch from its commit to
	// its delivery; nil when the sink does not time them.
	DeliveryLatency *Histogram
}

// EngineStats are the engine-wide numbers.
type EngineStats struct {
	// EpochCommit times, in seconds, the commit of each epoch: maintaining
	// the views it changes and writing it durably.
	EpochCommit *Histogram
	// Subscribers are the push queries streaming changes to clients.
	Subscribers int
	// EventTime are the relations with a watermark (WATERMARK FOR).
	EventTime []EventTimeStats
}

// EventTimeStats are one relation's event-time clock since the server
// started.
type EventTimeStats struct {
	Relation string
	// Watermark is the relation's watermark, in unix nanoseconds of event
	// time; HasWatermark is false before its first row.
	Watermark    int64
	HasWatermark bool
	// LateDropped counts rows dropped for being older than the watermark
	// less the allowed lateness; LateApplied rows older than the watermark
	// but within the lateness, applied as corrections.
	LateDropped, LateApplied int64
}

// PushQuery is optionally implemented by a Statement that can tell whether
// it is a push query (SELECT ... EMIT CHANGES, or a COPY of one): its rows
// never end by themselves, so an endpoint that answers once the statement
// is done (POST /v1/sql) refuses it before it runs.
type PushQuery interface {
	PushQuery() bool
}

// Ingester is optionally implemented by a Session that inserts rows given
// as typed values (POST /v1/ingest/<relation>), as COPY FROM does but
// without a text format in between.
type Ingester interface {
	// Ingest starts inserting into the named relation: its name as the
	// catalog holds it, else as an unquoted identifier (lower case);
	// "schema.name" qualifies it. It fails as INSERT into it would
	// (42P01 no such relation, 42809 one that cannot be written). The
	// rows go into the session's transaction block, else into a
	// transaction of their own that Commit commits.
	Ingest(ctx context.Context, relation string) (Ingest, error)
}

// Ingest is an insert in progress. It is used by one goroutine.
type Ingest interface {
	// Columns are the columns a row may give, in the relation's order.
	Columns() []Column
	// Insert inserts rows that each hold the values of the columns cols
	// (indexes into Columns, ascending); the other columns get their
	// defaults. It stops at the first row that fails and returns how many
	// it inserted before it, with that row's error: the rows before it
	// stay inserted, the failed one left nothing behind, and Insert may be
	// called again with the rows after it. An error of SQLSTATE class 22
	// (data exception) or 23 (integrity constraint) is the row's fault;
	// any other one ends the insert. rows are not retained.
	Insert(ctx context.Context, cols []int, rows []types.Row) (int, error)
	// Commit makes the inserted rows durable as one transaction (waiting
	// for the fsync unless synchronous_commit is off) and visible; in a
	// transaction block it leaves them to the block's COMMIT.
	Commit(ctx context.Context) error
	// Close abandons the rows not committed. Call it in every case.
	Close()
}

// Positioned is optionally implemented by the Result of a push query whose
// rows carry positions: Position is that of the row Next returned last
// ("" when it has none), what a client that loses the stream gives to
// Resumer.ExecuteFrom.
type Positioned interface {
	Position() string
}

// Resumer is optionally implemented by a Session that can start a push
// query again after a position one of its Results gave. resumed reports
// whether it did; if not, the Result starts from the current rows, as
// Execute's does, and the client must drop what it held.
type Resumer interface {
	ExecuteFrom(ctx context.Context, st Statement, params []types.Datum, position string) (res Result, resumed bool, err error)
}
