package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// A materialized view's contents are stored like a table's rows, under the
// view's id, keyed by all its visible columns (NULLs allowed: views are not
// constrained), with the hidden last column catalog.CountColumn holding the
// row's multiplicity. Scans return the stored rows, count included; the
// caller repeats each row count times.

// ApplyView adds changes to a view's contents: rows[i] (the view's visible
// columns, without the count) with weight weights[i]. A row whose count
// drops to zero is removed. Rows are not retained.
//
// unique says the view never holds a row twice (the planner proved it: an
// aggregate's groups, a DISTINCT), and rows are consolidated (each row once,
// with its net weight): then a -1 is a delete and a +1 a put, with no read
// of the current count — the difference between a Pebble Get per change and
// none. Those blind writes go to the Txn's side batch (see Txn); a read
// (the other rows) first folds the side batch into the indexed one if it
// holds rows of this view.
func (t *Txn) ApplyView(rel *catalog.Relation, rows []types.Row, weights []int64, unique bool) error {
	if t.done {
		return errTxnDone
	}
	ncol := len(rel.Columns)
	full := make(types.Row, ncol)
	var cur types.Row
	// inSide: the side batch holds rows of this view.
	_, inSide := t.sideRels[rel.ID]
	// Retractions first: in a view keyed by a unique key, a group's old and
	// new rows share a key, and the new row must be the one that stays.
	order := make([]int, 0, len(rows))
	for i, w := range weights {
		if w < 0 {
			order = append(order, i)
		}
	}
	for i, w := range weights {
		if w >= 0 {
			order = append(order, i)
		}
	}
	var keys [][]byte // the rows' keys, when sorted by them
	if !unique && len(rows) >= sortedReadsMin {
		// Read the current counts in key order through one iterator:
		// each Get would build (and close) an iterator of its own, which
		// was most of a large epoch's cost. Each row comes once (the
		// caller consolidates), so no read needs this call's writes.
		var err error
		if keys, err = t.sortByViewKey(rel, rows, order); err != nil {
			return err
		}
		it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: tablePrefix(nil, rel.ID), UpperBound: prefixEnd(tablePrefix(nil, rel.ID))})
		if err != nil {
			return fmt.Errorf("storage: view %q: %w", rel.Name, err)
		}
		t.viewIter = it
		defer func() {
			t.viewIter.Close()
			t.viewIter = nil
		}()
	}
	for _, i := range order {
		row := rows[i]
		if len(row) != ncol-1 {
			return fmt.Errorf("storage: view %q: row has %d columns, view %d", rel.Name, len(row), ncol-1)
		}
		if keys != nil {
			t.key = append(t.key[:0], keys[i]...)
		} else {
			t.key = tablePrefix(t.key[:0], rel.ID)
			for _, c := range rel.PrimaryKey {
				t.key = AppendKeyDatum(t.key, row[c])
			}
		}
		var count int64
		if unique && (weights[i] == 1 || weights[i] == -1) {
			if !inSide {
				if t.sideRels == nil {
					t.sideRels = make(map[catalog.ID]struct{})
				}
				t.sideRels[rel.ID] = struct{}{}
				inSide = true
			}
			side := t.sideBatch()
			if weights[i] < 0 {
				if err := side.Delete(t.key, nil); err != nil {
					return fmt.Errorf("storage: view %q: %w", rel.Name, err)
				}
				continue
			}
			copy(full, row)
			full[ncol-1] = types.NewInt64(1)
			var err error
			if t.val, err = EncodeRow(t.val[:0], full, rel.Columns); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
			if err := side.Set(t.key, t.val, nil); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
			continue
		}
		if inSide {
			if err := t.foldSide(rel.ID); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
			inSide = false
		}
		count, err := t.viewCount(rel, t.key, &cur)
		if err != nil {
			return fmt.Errorf("storage: view %q: %w", rel.Name, err)
		}
		count += weights[i]
		switch {
		case count < 0:
			return fmt.Errorf("storage: view %q: row multiplicity would become %d", rel.Name, count)
		case count == 0:
			if err := t.b.Delete(t.key, nil); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
		default:
			copy(full, row)
			full[ncol-1] = types.NewInt64(count)
			if t.val, err = EncodeRow(t.val[:0], full, rel.Columns); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
			if err := t.b.Set(t.key, t.val, nil); err != nil {
				return fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
		}
	}
	return nil
}

// sortedReadsMin is how many changes an ApplyView takes before it reads
// the counts through one iterator in key order rather than by Gets.
const sortedReadsMin = 64

// sortByViewKey orders order (indexes into rows) by the rows' keys in
// rel, and returns the keys (by row index).
func (t *Txn) sortByViewKey(rel *catalog.Relation, rows []types.Row, order []int) ([][]byte, error) {
	keys := make([][]byte, len(rows))
	prefix := tablePrefix(nil, rel.ID)
	buf := make([]byte, 0, len(rows)*(len(prefix)+8*len(rel.PrimaryKey)+8))
	for _, i := range order {
		lo := len(buf)
		buf = append(buf, prefix...)
		for _, c := range rel.PrimaryKey {
			if c >= len(rows[i]) {
				return nil, fmt.Errorf("storage: view %q: row has %d columns", rel.Name, len(rows[i]))
			}
			buf = AppendKeyDatum(buf, rows[i][c])
		}
		keys[i] = buf[lo:len(buf):len(buf)]
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	return keys, nil
}

// viewCount reads the count of the view row at key (0: none), decoding it
// into cur: through the sorted iterator when ApplyView opened one.
func (t *Txn) viewCount(rel *catalog.Relation, key []byte, cur *types.Row) (int64, error) {
	var v []byte
	if it := t.viewIter; it != nil {
		if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
			return 0, it.Error()
		}
		var err error
		if v, err = it.ValueAndErr(); err != nil {
			return 0, err
		}
	} else {
		val, closer, err := t.b.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		defer closer.Close()
		v = val
	}
	var err error
	if *cur, err = DecodeRow((*cur)[:0], v, rel.Columns); err != nil {
		return 0, err
	}
	return (*cur)[len(rel.Columns)-1].Int(), nil
}

// AppendView adds the rows of a view whose result only inserts, stored
// like a table without a key: each row under a fresh hidden row id (the
// view's last column), a blind write in increasing key order — no read
// of a count, and tables that Pebble moves down without rewriting them.
// rows are the visible columns, weights[i] > 0 how many times row i is
// added. It returns the stored rows, row ids included.
func (t *Txn) AppendView(ctx context.Context, rel *catalog.Relation, rows []types.Row, weights []int64) ([]types.Row, error) {
	if !rel.HasRowID() {
		return nil, fmt.Errorf("storage: view %q has no row id", rel.Name)
	}
	ncol := len(rel.Columns)
	var n int64
	for _, w := range weights {
		if w <= 0 {
			return nil, fmt.Errorf("storage: view %q only inserts, got a weight of %d", rel.Name, w)
		}
		n += w
	}
	out := make([]types.Row, 0, n)
	slab := make([]types.Datum, int(n)*ncol)
	for i, row := range rows {
		if len(row) != ncol-1 {
			return nil, fmt.Errorf("storage: view %q: row has %d columns, view %d", rel.Name, len(row), ncol-1)
		}
		for range weights[i] {
			full := slab[:ncol:ncol]
			slab = slab[ncol:]
			copy(full, row)
			if err := t.Insert(ctx, rel, full); err != nil {
				return nil, fmt.Errorf("storage: view %q: %w", rel.Name, err)
			}
			out = append(out, full)
		}
	}
	return out, nil
}
