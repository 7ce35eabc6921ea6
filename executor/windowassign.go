package executor

import (
	"context"
	"fmt"

	"github.com/weirdb/weir/sql/types"
)

// WindowAssign is the window table functions TUMBLE and HOP: each row
// goes on with two columns appended, window_start and window_end, once for
// every window of its time column (one for a tumbling window, size/slide
// for a hopping one). Windows are [start, start + size), aligned on
// offset (from the epoch); a row whose time is NULL is in none. It is
// stateless, and turns a watermark on the time column into watermarks on
// both window columns: a later row can only fall in windows that start at
// or after the first window of the watermark's time.
type WindowAssign struct {
	emitter
	timeCol             int
	size, slide, offset int64 // microseconds
	width               int   // input columns
	desc                string
}

// NewWindowAssign returns a window assigner over rows of width columns,
// windows of size microseconds every slide (slide == size: tumbling). size
// must be a positive multiple of slide.
func NewWindowAssign(width, timeCol int, size, slide, offset int64, desc string) (*WindowAssign, error) {
	if size <= 0 || slide <= 0 || size%slide != 0 {
		return nil, fmt.Errorf("window size %d must be a positive multiple of its slide %d", size, slide)
	}
	return &WindowAssign{timeCol: timeCol, size: size, slide: slide, offset: offset, width: width, desc: desc}, nil
}

// firstStart is the start of the earliest window that holds time t.
func (w *WindowAssign) firstStart(t int64) int64 {
	return floorTo(t-w.offset-w.size+w.slide, w.slide) + w.offset
}

// floorTo rounds t down to a multiple of step (toward minus infinity).
func floorTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

func timeLike(d types.Datum, micros int64) types.Datum {
	if d.Kind() == types.KindTimestampTZ {
		return types.NewTimestampTZ(micros)
	}
	return types.NewTimestamp(micros)
}

// Push implements Operator.
func (w *WindowAssign) Push(ctx context.Context, _ int, b *Batch) error {
	per := int(w.size / w.slide)
	n := w.width + 2
	// The batch's output rows share one allocation.
	slab := make([]types.Datum, n*per*b.Len())
	for i, r := range b.Rows {
		t := r[w.timeCol]
		if t.IsNull() {
			continue
		}
		start := w.firstStart(t.Micros())
		for k := range per {
			out := slab[:n:n]
			slab = slab[n:]
			copy(out, r[:w.width])
			s := start + int64(k)*w.slide
			out[w.width] = timeLike(t, s)
			out[w.width+1] = timeLike(t, s+w.size)
			if err := w.send(ctx, out, b.Weights[i]); err != nil {
				return err
			}
		}
	}
	return w.drain(ctx)
}

// Flush implements Operator.
func (w *WindowAssign) Flush(context.Context) error { return nil }

// Watermark implements WatermarkTaker.
func (w *WindowAssign) Watermark(ctx context.Context, _, col int, v types.Datum) error {
	if err := w.out.Watermark(ctx, col, v); err != nil || col != w.timeCol || v.IsNull() {
		return err
	}
	s := w.firstStart(v.Micros())
	if err := w.out.Watermark(ctx, w.width, timeLike(v, s)); err != nil {
		return err
	}
	return w.out.Watermark(ctx, w.width+1, timeLike(v, s+w.size))
}

func (w *WindowAssign) String() string { return w.desc }
