package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// Distinct emits each row that is present (positive multiplicity) once. It
// keeps a count per row and, at Flush, emits +1 for a row that appeared and
// -1 for one that vanished during the epoch.
type Distinct struct {
	emitter
	rows  map[string]*distinctEntry
	dirty []*distinctEntry
	buf   []byte
	// unsaved: entries changed since the last SaveDirty.
	unsaved []*distinctEntry
	saveBuf []byte
	track   bool
	stateCache
}

type distinctEntry struct {
	key     string
	row     types.Row
	n       int64
	size    int32 // bytes accounted in the state cache
	emitted bool
	dirty   bool
	unsaved bool
	hot     bool
}

func (e *distinctEntry) clean() bool { return !e.dirty && !e.unsaved }

func (e *distinctEntry) takeHot() bool {
	h := e.hot
	e.hot = false
	return h
}

// NewDistinct returns a DISTINCT operator.
func NewDistinct() *Distinct { return &Distinct{rows: map[string]*distinctEntry{}} }

// Push implements Operator.
func (d *Distinct) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		d.buf = appendRowKey(d.buf[:0], r)
		e, err := d.entry(d.buf, r)
		if err != nil {
			return err
		}
		e.hot = true
		e.n += b.Weights[i]
		if !e.dirty {
			e.dirty = true
			d.dirty = append(d.dirty, e)
		}
	}
	return nil
}

// entry returns the entry of key (r is its row), reading it back from
// storage if it is not in memory, creating it if it does not exist.
func (d *Distinct) entry(key []byte, r types.Row) (*distinctEntry, error) {
	if e := d.rows[string(key)]; e != nil {
		return e, nil
	}
	if d.mustRead() {
		var e *distinctEntry
		found, err := d.reader.GetState(key, func(v []byte) error {
			var err error
			e, err = decodeDistinct(key, v)
			return err
		})
		if err != nil {
			return nil, err
		}
		if found {
			d.cache(e)
			return e, nil
		}
	}
	e := &distinctEntry{key: string(key), row: r}
	d.cache(e)
	return e, nil
}

func (d *Distinct) cache(e *distinctEntry) {
	e.size = int32(entryOverhead + int64(len(e.key)) + approxRowBytes(e.row))
	d.cached += int64(e.size)
	d.rows[e.key] = e
}

// Flush implements Operator.
func (d *Distinct) Flush(ctx context.Context) error {
	for _, e := range d.dirty {
		e.dirty = false
		if d.track && !e.unsaved {
			e.unsaved = true
			d.unsaved = append(d.unsaved, e)
		}
		want := e.n > 0
		if want != e.emitted {
			w := int64(1)
			if !want {
				w = -1
			}
			if err := d.send(ctx, e.row, w); err != nil {
				return err
			}
			e.emitted = want
		}
		if e.n == 0 {
			d.cached -= int64(e.size)
			delete(d.rows, e.key)
		}
	}
	clear(d.dirty)
	d.dirty = d.dirty[:0]
	return d.drain(ctx)
}

// SaveDirty implements Stateful. Key: the row's key bytes. Value: the row,
// its count, whether it is emitted.
func (d *Distinct) SaveDirty(put func(key, value []byte) error) error {
	for _, e := range d.unsaved {
		e.unsaved = false
		cur := d.rows[e.key]
		if cur != nil && cur != e {
			continue
		}
		var v []byte
		if cur != nil {
			v = appendStateInt(appendStateRow(d.saveBuf[:0], e.row), e.n)
			v = append(v, b2byte(e.emitted))
			d.saveBuf = v
		}
		d.buf = append(d.buf[:0], e.key...)
		if err := put(d.buf, v); err != nil {
			return err
		}
	}
	clear(d.unsaved)
	d.unsaved = d.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (d *Distinct) Restore(key, value []byte) error {
	e, err := decodeDistinct(key, value)
	if err != nil {
		return err
	}
	d.cache(e)
	return nil
}

func decodeDistinct(key, value []byte) (*distinctEntry, error) {
	r := stateReader{b: value}
	e := &distinctEntry{key: string(key), row: r.row(), n: r.int(), emitted: r.byte() == 1}
	return e, r.done()
}

// AttachState implements CachedState.
func (d *Distinct) AttachState(r StateReader, complete bool) { d.attach(r, complete) }

// Evict implements CachedState.
func (d *Distinct) Evict(target int64) {
	sweep(&d.stateCache, d.rows, target, func(e *distinctEntry) int64 { return int64(e.size) })
}

func b2byte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (d *Distinct) String() string { return "Distinct" }
