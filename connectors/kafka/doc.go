// Package kafka connects Weir to Kafka with franz-go; it is the only package
// that imports franz-go (internal/lint enforces it).
//
// # Reading
//
// A Reader reads a set of topics without a consumer group. It assigns every
// partition of the topics to itself, found with a metadata request at
// NewReader and again every Options.DiscoverInterval; partitions added
// later are read from their earliest record. Each partition starts at the
// offset the caller gives (Options.Offsets); without any (a first start)
// at the startup position (earliest, latest, or the first record at or
// after a timestamp), and a partition missing from them was added while
// the reader was stopped, so it starts at its earliest.
//
// Poll returns up to max records and, for each partition they came from,
// the offset after the last one (Batch.Next). Within a partition records
// come in offset order, none repeated and none skipped; partitions
// interleave freely.
//
// The engine will use it so: each epoch, poll records, decode them
// (connectors/format), and commit the changes they produced together with
// the partitions' Next offsets in one Pebble batch. After a crash it builds
// a Reader with the offsets of the last committed epoch, which resumes
// exactly after the records that epoch holds: nothing lost, nothing counted
// twice. Kafka consumer-group offsets play no part in this (they may be
// committed later for lag tooling only). With each epoch the engine also
// stores StartOffsets for the partitions it holds no offset of yet (the
// startup position resolved to exact offsets when the Reader started, and
// for partitions found later their earliest), so that a partition it has
// not read from yet restarts at the same place, not at a "latest" that
// moved on meanwhile.
//
// Backpressure: franz-go buffers at most Options.MaxConcurrentFetches
// fetch responses of at most Options.FetchMaxBytes ahead of Poll. When the
// engine falls behind it calls Pause, which stops fetching (records already
// buffered are kept back and fetched again after Resume), so memory stays
// bounded however far the topics run ahead.
//
// Errors: NewReader fails within Options.Timeout, naming the brokers, when
// none answers, and names a topic that does not exist. Later connection
// trouble is retried by franz-go; Poll never outlives its context and
// returns ErrClosed once Close was called. Close is idempotent, stops the
// discovery goroutine and the client, and wakes a Poll in progress.
//
// # Writing
//
// A Writer writes a sink's epochs to one topic. With a transactional id
// (one per sink, stable across restarts) each WriteEpoch is one Kafka
// transaction, and every record carries the headers weir.epoch (the
// epoch's sequence number), weir.sink (the sink's name) and weir.sink_id
// (its object id, which tells it from an older sink of the same name). The
// coordinator keeps each sink's changes in a durable log numbered by that
// sequence; after a crash a new Writer (whose producer id fences the old
// one and aborts the transaction it left open) reads with LastEpoch the
// last epoch the topic holds, and the coordinator writes again only what
// follows. LastEpoch reads the tail of each partition backwards, with
// read_committed isolation, in windows that double until they find one of
// the sink's records: aborted records never count, and other sinks
// writing to the same topic are told apart by weir.sink and weir.sink_id.
// A commit whose
// outcome the client cannot know (its answer lost) is settled the same
// way before the next write: a transactional Writer never writes an epoch
// the topic holds already. So a read_committed consumer (a Reader
// with Options.ReadCommitted, or librdkafka's
// isolation.level=read_committed) sees every epoch exactly once. Without a transactional id a Writer writes at
// least once, with franz-go's idempotent producer (dead-letter topics).
//
// Keys are placed as Kafka's Java client places them (murmur2), so that
// records of one key share a partition whoever writes them. A write that
// gets no record acknowledged for WriterOptions.Timeout fails rather than hangs;
// the caller retries (the Writer reconnects). ErrFenced says another
// producer took the transactional id: that Writer is done.
//
// Security is configured by Options.Properties and WriterOptions.Properties
// (properties.* of a source or sink: SASL PLAIN/SCRAM, TLS), named as in
// librdkafka. Not yet done: topic lists given as a regular expression.
package kafka
