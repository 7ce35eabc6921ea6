package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// Union is UNION ALL: it passes the changes of every input port through
// unchanged. (UNION is Union followed by Distinct.)
type Union struct{ emitter }

// NewUnion returns a UNION ALL operator.
func NewUnion() *Union { return &Union{} }

// Input is where a relation's changes enter a dataflow: it passes them
// on, and the relation's watermarks.
type Input struct{ Union }

// NewInput returns an input.
func NewInput() *Input { return &Input{} }

// Watermark implements WatermarkTaker.
func (in *Input) Watermark(ctx context.Context, _, col int, v types.Datum) error {
	return in.out.Watermark(ctx, col, v)
}

// Push implements Operator.
func (u *Union) Push(ctx context.Context, _ int, b *Batch) error { return u.out.Emit(ctx, b) }

// Flush implements Operator.
func (u *Union) Flush(context.Context) error { return nil }

func (u *Union) String() string { return "Union All" }
