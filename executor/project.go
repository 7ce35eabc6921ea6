package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// Project computes a new row from each changed row, keeping the weight. It
// is stateless. Output rows of one batch share one allocation.
type Project struct {
	emitter
	exprs []EvalFunc
	// cols is set when every expression is a plain column reference.
	cols []int
	// passCols[j] is the input column output j copies, or -1 (see
	// SetPassThrough).
	passCols []int
	desc     string
}

// NewProject returns a projection computing exprs; desc is for String.
func NewProject(exprs []EvalFunc, desc string) *Project {
	return &Project{exprs: exprs, desc: desc}
}

// NewColumnProject returns a projection that only picks columns.
func NewColumnProject(cols []int, desc string) *Project {
	return &Project{cols: cols, desc: desc}
}

// Push implements Operator.
func (p *Project) Push(ctx context.Context, _ int, b *Batch) error {
	n := len(p.exprs)
	if p.cols != nil {
		n = len(p.cols)
	}
	slab := make([]types.Datum, n*b.Len())
	for i, r := range b.Rows {
		out := slab[i*n : (i+1)*n : (i+1)*n]
		if p.cols != nil {
			for j, c := range p.cols {
				out[j] = r[c]
			}
		} else {
			for j, e := range p.exprs {
				d, err := e(r)
				if err != nil {
					return err
				}
				out[j] = d
			}
		}
		if err := p.send(ctx, out, b.Weights[i]); err != nil {
			return err
		}
	}
	return p.drain(ctx)
}

// Flush implements Operator.
func (p *Project) Flush(context.Context) error { return nil }

func (p *Project) String() string { return "Project " + p.desc }
