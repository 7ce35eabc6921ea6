package executor

import (
	"context"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// TableStore is how operators read and write the rows of base tables. The
// coordinator implements it over a storage snapshot (reads outside a
// transaction) or over a transaction's pending batch (reads see the
// transaction's own writes; writes apply at COMMIT).
//
// Rows are full rows of the relation, hidden row id included, in column
// order. Rows passed to yield are owned by the callee and valid only during
// the call; Insert/Update/Delete copy what they keep.
type TableStore interface {
	// Scan yields every row whose primary key starts with prefix (all rows
	// for an empty prefix) in primary-key order, in batches.
	Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error
	// Get returns the row with the given full primary key. The caller may
	// keep the row: the store does not change it afterwards.
	Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error)
	// Insert adds a row; a row with the same key is a 23505 error. For a
	// row-id table, the hidden column is assigned here (row is modified).
	Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error
	// Update replaces old with new (the key may change; a clash with
	// another row's key is 23505).
	Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error
	// Delete removes the row with old's key.
	Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error
}
