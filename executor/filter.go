package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// Filter passes the changes whose row satisfies Pred (TRUE; FALSE and NULL
// drop it), with their weights. It is stateless.
type Filter struct {
	emitter
	pred EvalFunc
	desc string
}

// NewFilter returns a filter; desc is the predicate's text for String.
func NewFilter(pred EvalFunc, desc string) *Filter { return &Filter{pred: pred, desc: desc} }

// Push implements Operator.
func (f *Filter) Push(ctx context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		d, err := f.pred(r)
		if err != nil {
			return err
		}
		if d.IsNull() || !d.Bool() {
			continue
		}
		if err := f.send(ctx, r, b.Weights[i]); err != nil {
			return err
		}
	}
	return f.drain(ctx)
}

// Flush implements Operator.
func (f *Filter) Flush(context.Context) error { return nil }

func (f *Filter) String() string { return "Filter " + f.desc }

// truthy reports whether d is TRUE.
func truthy(d types.Datum) bool { return !d.IsNull() && d.Bool() }
