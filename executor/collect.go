package executor

import (
	"context"
	"encoding/binary"

	"github.com/weirdb/weir/sql/types"
)

// Collect is the sink of a live dataflow: it consolidates the changes of
// one epoch (changes to the same row add up; rows whose weights cancel
// disappear) until Take hands them over.
type Collect struct {
	index map[string]int
	out   Batch
	buf   []byte
	// marks are the latest watermark of each output column.
	marks map[int]types.Datum
	// appends: the dataflow only inserts and its reader keeps equal rows
	// apart, so nothing needs consolidating (SetAppendOnly).
	appends bool
}

// SetAppendOnly makes c pass changes on as they come, without
// consolidating them: for a dataflow that only inserts, whose reader
// stores each row apart.
func (c *Collect) SetAppendOnly() { c.appends = true }

// Watermark implements WatermarkTaker: it keeps the latest of each
// column, for Watermark.
func (c *Collect) Watermark(_ context.Context, _, col int, v types.Datum) error {
	if advances(c.marks[col], v) {
		if c.marks == nil {
			c.marks = map[int]types.Datum{}
		}
		c.marks[col] = v
	}
	return nil
}

// OutputWatermark is the latest watermark the dataflow's output got on
// col (NULL: none).
func (c *Collect) OutputWatermark(col int) types.Datum { return c.marks[col] }

// NewCollect returns an empty sink.
func NewCollect() *Collect { return &Collect{index: map[string]int{}} }

// SetOutput implements Operator; a sink has no output.
func (c *Collect) SetOutput(Output) {}

// Push implements Operator.
func (c *Collect) Push(_ context.Context, _ int, b *Batch) error {
	if c.appends {
		c.out.Rows = append(c.out.Rows, b.Rows...)
		c.out.Weights = append(c.out.Weights, b.Weights...)
		return nil
	}
	for i, r := range b.Rows {
		c.buf = appendRowIdentity(c.buf[:0], r)
		if j, ok := c.index[string(c.buf)]; ok {
			c.out.Weights[j] += b.Weights[i]
			continue
		}
		c.index[string(c.buf)] = c.out.Len()
		c.out.Append(r, b.Weights[i])
	}
	return nil
}

// Flush implements Operator.
func (c *Collect) Flush(context.Context) error { return nil }

// Take returns the consolidated changes collected since the last Take, in
// first-arrival order, and empties the sink. The batch is the caller's.
func (c *Collect) Take() *Batch {
	out := &Batch{}
	for i, r := range c.out.Rows {
		if w := c.out.Weights[i]; w != 0 {
			out.Append(r, w)
		}
	}
	c.out = Batch{}
	clear(c.index)
	return out
}

func (c *Collect) String() string { return "Collect" }

// appendRowIdentity appends bytes that tell rows apart as they would be
// shown: like appendRowKey, but numerics that are equal with different
// scales (0 and 0.0) differ, so that a change from one to the other reaches
// a view instead of cancelling out.
func appendRowIdentity(buf []byte, r types.Row) []byte {
	for _, d := range r {
		buf = types.AppendKey(buf, d)
		if d.Kind() == types.KindNumeric && !d.IsNull() {
			buf = binary.AppendVarint(buf, int64(d.Decimal().Exponent))
		}
	}
	return buf
}

// RowKey appends the canonical key bytes of a whole row: equal rows (as
// types.Equal sees their values) give equal bytes.
func RowKey(buf []byte, r types.Row) []byte { return appendRowKey(buf, r) }
