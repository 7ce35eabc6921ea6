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

// Insert fails: a snapshot is read-only (25006).
func (s *Snapshot) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	return errReadOnly("INSERT")
}

// Update fails: a snapshot is read-only (25006).
func (s *Snapshot) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	return errReadOnly("UPDATE")
}

// Delete fails: a snapshot is read-only (25006).
func (s *Snapshot) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	return errReadOnly("DELETE")
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }
