package executor

import "github.com/weirdb/weir/sql/types"

// BatchSize is how many changes an operator collects before pushing them
// downstream.
const BatchSize = 1024

// Batch is a batch of changes: Rows[i] with signed weight Weights[i]
// (+1 insert, -1 delete; any other non-zero weight is a multiplicity).
//
// A receiver of Push may keep the Row values (rows are immutable once
// emitted) but not the Batch or its slices, which the sender reuses.
type Batch struct {
	Rows    []types.Row
	Weights []int64
}

// Len is the number of changes in b.
func (b *Batch) Len() int { return len(b.Rows) }

// Append adds one change.
func (b *Batch) Append(r types.Row, w int64) {
	b.Rows = append(b.Rows, r)
	b.Weights = append(b.Weights, w)
}

// Reset empties b, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.Rows)
	b.Rows = b.Rows[:0]
	b.Weights = b.Weights[:0]
}

// appendRowKey appends the canonical key bytes of the whole row.
func appendRowKey(buf []byte, r types.Row) []byte {
	for _, d := range r {
		buf = types.AppendKey(buf, d)
	}
	return buf
}

// appendColsKey appends the key bytes of the given columns of r.
func appendColsKey(buf []byte, r types.Row, cols []int) []byte {
	for _, c := range cols {
		buf = types.AppendKey(buf, r[c])
	}
	return buf
}

// concatRows returns a new row of a followed by b.
func concatRows(a, b types.Row) types.Row {
	r := make(types.Row, len(a)+len(b))
	copy(r, a)
	copy(r[len(a):], b)
	return r
}
