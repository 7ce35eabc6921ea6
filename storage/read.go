package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// ScanBatchSize is the most rows one call of a Scan's yield receives.
const ScanBatchSize = 1024

// scan implements Scan for any reader. Rows are decoded into a slab that is
// reused between yields, so rows (and the slice) are valid only during
// yield. ctx is checked before every batch.
func scan(ctx context.Context, r reader, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	if len(prefix) > len(rel.PrimaryKey) {
		return fmt.Errorf("storage: table %q: scan prefix of %d columns, key has %d", rel.Name, len(prefix), len(rel.PrimaryKey))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	lower := tablePrefix(make([]byte, 0, 64), rel.ID)
	for _, d := range prefix {
		lower = AppendKeyDatum(lower, d)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("storage: scan %q: %w", rel.Name, err)
	}
	err = scanIter(ctx, it, rel, yield)
	if cerr := it.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: scan %q: %w", rel.Name, cerr)
	}
	return err
}

func scanIter(ctx context.Context, it *pebble.Iterator, rel *catalog.Relation, yield func(rows []types.Row) error) error {
	ncol := len(rel.Columns)
	// The slab grows with the first batch (a point lookup stays small) and
	// is reused once full.
	var slab []types.Datum
	var rows []types.Row
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("storage: scan %q: %w", rel.Name, err)
		}
		off := len(rows) * ncol
		if off+ncol > len(slab) {
			// Rows already decoded keep pointing into the old slab.
			slab = make([]types.Datum, max(min(2*len(slab), ScanBatchSize*ncol), 8*ncol, off+ncol))
		}
		row, err := DecodeRow(slab[off:off:off+ncol], v, rel.Columns)
		if err != nil {
			return fmt.Errorf("storage: scan %q: key %x: %w", rel.Name, it.Key(), err)
		}
		rows = append(rows, row)
		if len(rows) == ScanBatchSize {
			if err := yield(rows); err != nil {
				return err
			}
			rows = rows[:0]
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("storage: scan %q: %w", rel.Name, err)
	}
	if len(rows) > 0 {
		return yield(rows)
	}
	return nil
}

// get implements Get for any reader. The row is newly allocated and owned
// by the caller.
func get(r reader, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	if len(key) != len(rel.PrimaryKey) {
		return nil, false, fmt.Errorf("storage: table %q: get with %d key columns, key has %d", rel.Name, len(key), len(rel.PrimaryKey))
	}
	k := tablePrefix(make([]byte, 0, 64), rel.ID)
	for _, d := range key {
		k = AppendKeyDatum(k, d)
	}
	v, c, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: get %q: %w", rel.Name, err)
	}
	row, err := DecodeRow(make(types.Row, 0, len(rel.Columns)), v, rel.Columns)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: get %q: %w", rel.Name, err)
	}
	return row, true, nil
}
