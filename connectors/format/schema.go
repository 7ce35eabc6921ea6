package format

import (
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// Column is one column a format fills or writes.
type Column struct {
	Name    string
	Type    types.Type
	NotNull bool
	// External columns are filled by the caller (Kafka metadata such as
	// partition and offset, a hidden row id): decoders leave them NULL and
	// never match a field to them; encoders skip them.
	External bool
}

// Schema is the declared shape of a source's rows (or of a sink's
// relation): the row has one datum per column, in order. Key holds the
// indexes of the key columns (the PRIMARY KEY of a table source, the key of
// an upsert sink); it may be empty for a stream.
type Schema struct {
	Columns []Column
	Key     []int
}

// AppendKey appends the canonical key bytes (types.AppendKey) of row's key
// columns: what a table holding the current rows looks an upsert up by.
func (s *Schema) AppendKey(buf []byte, row types.Row) []byte {
	for _, c := range s.Key {
		buf = types.AppendKey(buf, row[c])
	}
	return buf
}

// Op is what one record does to the source's relation (executor.ChangeOp).
type Op = executor.ChangeOp

const (
	OpNone      = executor.ChangeNone
	OpInsert    = executor.ChangeInsert
	OpDelete    = executor.ChangeDelete
	OpUpdate    = executor.ChangeUpdate
	OpUpsert    = executor.ChangeUpsert
	OpDeleteKey = executor.ChangeDeleteKey
)

// Change is the decoded effect of one record (executor.Change). The
// rows are fresh (see Decoder): the receiver may keep them.
type Change = executor.Change

// rowAlloc hands out rows carved from chunks, so that a decoder allocates
// once per chunk rather than once per record. A row it returns is never
// handed out again: receivers may keep rows (executor.Batch's contract).
// A kept row keeps its chunk alive; chunk sets the trade-off.
type rowAlloc struct {
	width int
	chunk int
	buf   []types.Datum
}

func newRowAlloc(width, chunk int) rowAlloc {
	if chunk < 1 {
		chunk = 1
	}
	return rowAlloc{width: width, chunk: chunk}
}

// row returns a row of all NULLs.
func (a *rowAlloc) row() types.Row {
	if len(a.buf) < a.width {
		a.buf = make([]types.Datum, a.width*a.chunk)
	}
	r := a.buf[:a.width:a.width]
	a.buf = a.buf[a.width:]
	return r
}
