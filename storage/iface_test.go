package storage

import (
	"context"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// tableStore mirrors executor.TableStore (storage must not import
// executor); Txn and Snapshot must satisfy it structurally.
type tableStore interface {
	Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error
	Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error)
	Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error
	Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error
	Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error
}

var (
	_ tableStore = (*Txn)(nil)
	_ tableStore = (*Snapshot)(nil)
	_ tableStore = Latest{}
)
