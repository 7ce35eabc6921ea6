// Package kafka connects Weir to Kafka with franz-go; it is the only package
// that imports franz-go (internal/lint enforces it).
//
// # Reading
//
// A Reader reads a set of topics without a consumer group. It assigns every
// partition of the topics to itself, found with a metadata request at
// NewReader and again every Options.DiscoverInterval; partitions added
// later are read from their earliest record. Each partition starts at the
// offset the caller gives (Options.Offsets), else at the startup position
// (earliest, latest, or the first record at or after a timestamp).
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
// Security is configured by Options.Properties (properties.* of a source:
// SASL PLAIN/SCRAM, TLS), named as in librdkafka. Not yet done: topic lists
// given as a regular expression.
package kafka
