package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// A watermark (col, v) on an input port is a promise: no later change on
// that port has a value below v in column col. Sources derive them from
// event time (WATERMARK FOR); operators pass them on, mapped to their own
// output columns, and use them to let go of state that no later change
// can touch: a window whose end the watermark passed is closed.
//
// An operator takes them by implementing WatermarkTaker. One that does not
// stops them, which is always safe: a watermark only lets state go and
// closes windows, it never changes what a change means. Watermarks of an
// epoch arrive after its changes and before its Flush; an operator that
// acts on them at Flush passes them on after emitting what they closed.
type WatermarkTaker interface {
	Watermark(ctx context.Context, port, col int, v types.Datum) error
}

// Watermark passes a watermark on to the operator o feeds, if it takes
// them.
func (o Output) Watermark(ctx context.Context, col int, v types.Datum) error {
	if w, ok := o.To.(WatermarkTaker); ok && col >= 0 {
		return w.Watermark(ctx, o.Port, col, v)
	}
	return nil
}

// below reports whether d is known to be below the watermark wm (a NULL
// on either side is not).
func below(d, wm types.Datum) bool {
	return !d.IsNull() && !wm.IsNull() && types.Compare(d, wm) < 0
}

// advances reports whether v is a later watermark than wm.
func advances(wm, v types.Datum) bool {
	return !v.IsNull() && (wm.IsNull() || types.Compare(v, wm) > 0)
}

// Watermark implements WatermarkTaker: a filter keeps the order of what
// passes.
func (f *Filter) Watermark(ctx context.Context, _, col int, v types.Datum) error {
	return f.out.Watermark(ctx, col, v)
}

// Watermark implements WatermarkTaker: an output column that is the input
// column gets its watermark.
func (p *Project) Watermark(ctx context.Context, _, col int, v types.Datum) error {
	cols := p.cols
	if cols == nil {
		cols = p.passCols
	}
	for j, c := range cols {
		if c == col {
			if err := p.out.Watermark(ctx, j, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetPassThrough tells a projection which of its outputs are input columns
// unchanged (cols[j] the input column of output j, or -1), so that their
// watermarks pass.
func (p *Project) SetPassThrough(cols []int) { p.passCols = cols }

// Watermark implements WatermarkTaker: the shards take it at Flush, after
// the epoch's changes reached them.
func (p *Partitioned) Watermark(_ context.Context, port, col int, v types.Datum) error {
	p.wms = append(p.wms, pendingWatermark{port, col, v})
	return nil
}

type pendingWatermark struct {
	port, col int
	v         types.Datum
}

// deliverWatermarks hands the shards the epoch's watermarks; what the
// first passes on is passed on once the shards flushed (all pass on the
// same).
func (p *Partitioned) deliverWatermarks(ctx context.Context) error {
	if len(p.wms) == 0 {
		return nil
	}
	for _, s := range p.shards {
		t, ok := s.(WatermarkTaker)
		if !ok {
			break
		}
		for _, wm := range p.wms {
			if err := t.Watermark(ctx, wm.port, wm.col, wm.v); err != nil {
				return err
			}
		}
	}
	p.wms = p.wms[:0]
	return nil
}

// passWatermarks sends on what the first shard passed on this epoch.
func (p *Partitioned) passWatermarks(ctx context.Context) error {
	o := &p.workers[0].out
	for _, wm := range o.wms {
		if err := p.out.Watermark(ctx, wm.col, wm.v); err != nil {
			return err
		}
	}
	for s := range p.workers {
		p.workers[s].out.wms = p.workers[s].out.wms[:0]
	}
	return nil
}

// Watermark implements WatermarkTaker: kept for the Partitioned to pass
// on.
func (o *shardOutput) Watermark(_ context.Context, port, col int, v types.Datum) error {
	o.wms = append(o.wms, pendingWatermark{port, col, v})
	return nil
}
