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

// Op is what one record does to the source's relation.
type Op uint8

const (
	// OpNone: the record changes nothing (a tombstone where tombstones
	// mean nothing, a Debezium tombstone after a delete).
	OpNone Op = iota
	// OpInsert adds After (+1).
	OpInsert
	// OpDelete removes Before (-1): Before is the whole old row.
	OpDelete
	// OpUpdate replaces Before by After (-1 Before, +1 After).
	OpUpdate
	// OpUpsert makes After the row of its key: whatever row has the same
	// key columns is replaced. The decoder cannot know that row; the table
	// that holds the current rows resolves it (see Change.AppendTo).
	OpUpsert
	// OpDeleteKey deletes the row whose key columns equal Before's; only
	// Before's key columns are set. Resolved like OpUpsert.
	OpDeleteKey
)

func (o Op) String() string {
	return [...]string{"none", "insert", "delete", "update", "upsert", "delete-key"}[o]
}

// Change is the decoded effect of one record. Before and After are rows of
// the schema's width; which are set depends on Op. The rows are fresh
// (see Decoder): the receiver may keep them.
type Change struct {
	Op     Op
	Before types.Row
	After  types.Row
}

// Keyed reports whether c needs the current row of its key to become
// weighted changes (OpUpsert, OpDeleteKey).
func (c *Change) Keyed() bool { return c.Op == OpUpsert || c.Op == OpDeleteKey }

// KeyRow is the row whose key columns a keyed change is about: After of
// an upsert, Before of a key delete (nil for other ops).
func (c *Change) KeyRow() types.Row {
	switch c.Op {
	case OpUpsert:
		return c.After
	case OpDeleteKey:
		return c.Before
	}
	return nil
}

// AppendTo appends c to b as weighted rows. For keyed changes current is
// the row the relation holds now under c's key (nil if none): an upsert
// becomes -current +After (nothing when After equals current), a key
// delete -current (nothing when there is none). current is ignored for
// the other ops.
func (c *Change) AppendTo(b *executor.Batch, current types.Row) {
	switch c.Op {
	case OpInsert:
		b.Append(c.After, 1)
	case OpDelete:
		b.Append(c.Before, -1)
	case OpUpdate:
		b.Append(c.Before, -1)
		b.Append(c.After, 1)
	case OpUpsert:
		if current != nil {
			if sameRow(current, c.After) {
				return
			}
			b.Append(current, -1)
		}
		b.Append(c.After, 1)
	case OpDeleteKey:
		if current != nil {
			b.Append(current, -1)
		}
	}
}

// sameRow reports whether a and b hold identical values (NULLs alike), so
// that re-reading an upsert already applied changes nothing. Identical is
// stricter than SQL equality: 1.0 and 1.00 differ, as their text does.
func sameRow(a, b types.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !identical(a[i], b[i]) {
			return false
		}
	}
	return true
}

func identical(a, b types.Datum) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() == b.IsNull()
	}
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case types.KindNumeric:
		x, y := a.Decimal(), b.Decimal()
		return x.Form == y.Form && x.Negative == y.Negative && x.Exponent == y.Exponent && x.Coeff.Cmp(&y.Coeff) == 0
	case types.KindText, types.KindBytea, types.KindJSONB, types.KindUnknown:
		return a.Str() == b.Str()
	case types.KindInterval:
		am, ad, au := a.IntervalParts()
		bm, bd, bu := b.IntervalParts()
		return am == bm && ad == bd && au == bu
	}
	return a.Int() == b.Int() // the bits of floats too
}

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
