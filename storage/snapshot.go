package storage

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// Snapshot is a consistent read-only view of the database as of its
// creation: later commits are not visible. It is safe for concurrent use
// by several readers and must be closed (it pins old data until then).
//
// Snapshot satisfies executor.TableStore; its writes fail with 25006.
type Snapshot struct {
	readOnly
	s *pebble.Snapshot
}

// Snapshot returns a read view of everything committed so far.
func (db *DB) Snapshot() *Snapshot { return &Snapshot{s: db.pdb.NewSnapshot()} }

// Scan is Txn.Scan over the snapshot (same batching and lifetime rules).
func (s *Snapshot) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	return scan(ctx, s.s, rel, prefix, yield)
}

// Get returns the row with the given full primary key; the row is owned by
// the caller.
func (s *Snapshot) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	return get(s.s, rel, key)
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }

// Latest reads the latest committed state: each Get, and each Scan from
// start to end, reads one consistent committed state (a commit is visible
// whole or not at all, and once its Commit returned), but two reads may
// see different ones. A statement that reads the store once is as
// consistent over Latest as over a Snapshot, without a Snapshot's cost:
// Pebble registers a snapshot under its DB mutex, and closing the oldest
// one makes it look for compactions, also under that mutex, which every
// pull query would otherwise contend for with commits and compactions.
//
// Latest satisfies executor.TableStore; its writes fail with 25006. It is
// safe for concurrent use and needs no closing.
type Latest struct {
	readOnly
	db *DB
}

// Latest returns a reader of the latest committed state.
func (db *DB) Latest() Latest { return Latest{db: db} }

// Scan is Txn.Scan over the state committed when it starts (same batching
// and lifetime rules).
func (l Latest) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	return scan(ctx, l.db.pdb, rel, prefix, yield)
}

// Get returns the row with the given full primary key; the row is owned by
// the caller.
func (l Latest) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	return get(l.db.pdb, rel, key)
}

// readOnly gives the writes of a read-only TableStore.
type readOnly struct{}

// Insert fails: the store is read-only (25006).
func (readOnly) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	return errReadOnly("INSERT")
}

// Update fails: the store is read-only (25006).
func (readOnly) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	return errReadOnly("UPDATE")
}

// Delete fails: the store is read-only (25006).
func (readOnly) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	return errReadOnly("DELETE")
}
