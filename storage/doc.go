// Package storage is Weir's durable state on one Pebble instance: the
// catalog, object-id allocation, table rows, transactions over them and
// consistent snapshots for reads. It encodes primary keys so that byte order
// is SQL order (range scans serve point and range queries) and rows as
// compact values decoded with the relation's column types. It imports
// nothing of Weir above sql/.
//
// # Key layout
//
// Every key starts with one keyspace byte. Object ids are 8-byte big-endian
// so that all keys of one object are one contiguous range.
//
//	0x01 <id:8>                      catalog entry (bytes opaque to storage)
//	0x02 <name>                      small metadata: "next_id", "format"
//	0x03 <source id:8> <topic> 0x00 <partition:4>  source offset (next to read)
//	0x04                             last committed epoch       (reserved)
//	0x05 <sink id:8> <seq:8>         a sink's undelivered changes of one epoch
//	0x05 <sink id:8> <0:8>           last seq delivered [, last seq of the planned delivery]
//	0x10 <op id:8> <group key>       operator state             (reserved)
//	0x20 <table id:8> <pk>           table row
//	0x30 <view id:8> <pk>            materialized view row      (reserved)
//
// <pk> is the concatenation of the primary-key datums, each encoded by
// AppendKeyDatum: self-delimiting and order-preserving, so that the encoding
// of a key prefix (equality on the first k key columns) is a byte prefix of
// every matching key. Keys encode SQL equality classes, as a PostgreSQL
// btree does: 1.0 and 1.00, '1 month' and '30 days', -0.0 and 0.0 are the
// same key. The value of a table row holds the whole row (key columns
// included, with their exact representation), encoded by EncodeRow.
//
// # Transactions
//
// A Txn is an indexed Pebble batch: its reads see the committed database
// plus its own writes. At Commit, under one DB-wide mutex, the keys it
// inserted as new are re-checked against the committed database (a
// concurrent transaction may have committed the same key), then the batch
// is committed with fsync (an asynchronous commit returns before the fsync,
// which the WAL syncer goroutine does within WALSyncInterval). Lock order:
// commitMu, then rowMu; idMu and syncMu are never held with either.
package storage
