package executor

import "context"

// Union is UNION ALL: it passes the changes of every input port through
// unchanged. (UNION is Union followed by Distinct.)
type Union struct{ emitter }

// NewUnion returns a UNION ALL operator.
func NewUnion() *Union { return &Union{} }

// Push implements Operator.
func (u *Union) Push(ctx context.Context, _ int, b *Batch) error { return u.out.Emit(ctx, b) }

// Flush implements Operator.
func (u *Union) Flush(context.Context) error { return nil }

func (u *Union) String() string { return "Union All" }
