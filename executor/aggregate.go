package executor

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// Aggregate groups its input by the GroupBy columns and maintains the
// aggregates of each group under insertions and retractions. Output rows are
// the group columns followed by one column per aggregate. At Flush each
// changed group emits the retraction of the row it emitted before (if any)
// and its new row (if the group still has rows). Without GROUP BY (Scalar)
// there is always exactly one output row, also over no input at all.
type Aggregate struct {
	emitter
	groupBy []int
	specs   []AggSpec
	scalar  bool
	groups  map[string]*aggGroup
	dirty   []*aggGroup
	// old[i] is the row dirty[i] had emitted before this epoch (nil: none),
	// computed when the group is first changed in the epoch: a group keeps
	// no copy of its output row between epochs.
	old    []types.Row
	keyBuf []byte
	// missKeys and missSeen are prefetch's buffers.
	missKeys []byte
	missSeen map[string]struct{}
	started  bool
	// appendOnly: the input only inserts (see Graph.SetAppendOnly), so
	// accumulators keep only what insertions need.
	appendOnly bool
	// unsaved are the groups changed since the last SaveDirty (a group
	// deleted and created again appears twice: SaveDirty writes the live
	// one).
	unsaved []*aggGroup
	saveBuf []byte
	saveKey []byte
	track   bool
	stateCache
	window
}

// window is what an aggregate grouped by a window column (window_start or
// window_end of TUMBLE/HOP, or any column watermarks reach) keeps to close
// its groups: once the watermark on that column passes a group's value, no
// later change can reach the group, so its state goes. With emitOnClose
// (EMIT ON WINDOW CLOSE) a group emits nothing until then, and then its
// final row, once: the output only inserts.
type window struct {
	key         int // index in groupBy of the window column; -1: none
	emitOnClose bool
	wm          types.Datum // the watermark on the column (NULL: none yet)
	closeDue    bool        // wm advanced since the last Flush
	// open lists the groups by window, in window order, so that closing
	// visits only the windows it closes. A group deleted (its count back
	// to zero) stays listed until its window closes.
	open []openWindow
	// late counts the changes that came for closed groups, and were
	// dropped.
	late int64
}

type aggGroup struct {
	keyRow  types.Row
	count   int64
	accs    []accumulator
	key     string
	size    int32 // bytes accounted in the state cache
	emitted bool  // the group's row was emitted (and not retracted)
	dirty   bool
	unsaved bool
	hot     bool
}

func (g *aggGroup) clean() bool { return !g.dirty && !g.unsaved }

func (g *aggGroup) takeHot() bool {
	h := g.hot
	g.hot = false
	return h
}

// NewAggregate returns an aggregate operator. scalar is true for an
// aggregate query without GROUP BY (groupBy must then be empty).
func NewAggregate(groupBy []int, specs []AggSpec, scalar bool) *Aggregate {
	return &Aggregate{groupBy: groupBy, specs: specs, scalar: scalar, groups: map[string]*aggGroup{}, window: window{key: -1}}
}

// SetWindow makes group column key (an index into groupBy) the window
// column that watermarks close (see window).
func (a *Aggregate) SetWindow(key int, emitOnClose bool) {
	a.window = window{key: key, emitOnClose: emitOnClose}
}

// Windowed reports whether SetWindow was called.
func (a *Aggregate) Windowed() bool { return a.key >= 0 }

// Late counts the changes dropped because their group had closed.
func (a *Aggregate) Late() int64 { return a.late }

// loadsWhole: a windowed aggregate's state is bounded by its watermark,
// and closing groups needs them all in memory.
func (a *Aggregate) loadsWhole() bool { return a.key >= 0 }

// Watermark implements WatermarkTaker. It acts at Flush.
func (a *Aggregate) Watermark(_ context.Context, _, col int, v types.Datum) error {
	if a.key >= 0 && col == a.groupBy[a.key] && advances(a.wm, v) {
		a.wm, a.closeDue = v, true
	}
	return nil
}

// closeWindows drops the groups the watermark closed, emitting their final
// rows under EMIT ON WINDOW CLOSE.
func (a *Aggregate) closeWindows(ctx context.Context) error {
	n := 0
	for n < len(a.open) && below(a.open[n].v, a.wm) {
		for _, g := range a.open[n].groups {
			if a.groups[g.key] != g {
				continue // deleted, or replaced by a group listed again
			}
			if a.emitOnClose && g.count > 0 {
				row, err := a.resultRow(g)
				if err != nil {
					return err
				}
				if err := a.send(ctx, row, 1); err != nil {
					return err
				}
			}
			a.cached -= int64(g.size)
			delete(a.groups, g.key)
			if a.track && !g.unsaved {
				g.unsaved = true
				a.unsaved = append(a.unsaved, g)
			}
		}
		n++
	}
	clear(a.open[:n])
	a.open = a.open[n:]
	return nil
}

// openWindow is the groups of one window value.
type openWindow struct {
	v      types.Datum
	groups []*aggGroup
}

// listOpen files g under its window (a windowed aggregate's groups, as
// they are created or restored).
func (a *Aggregate) listOpen(g *aggGroup) {
	v := g.keyRow[a.key]
	if v.IsNull() {
		return // never closes
	}
	i, found := slices.BinarySearchFunc(a.open, v, func(w openWindow, v types.Datum) int { return types.Compare(w.v, v) })
	if !found {
		a.open = slices.Insert(a.open, i, openWindow{v: v})
	}
	a.open[i].groups = append(a.open[i].groups, g)
}

func (a *Aggregate) newGroup(key string, r types.Row) *aggGroup {
	g := &aggGroup{key: key, keyRow: make(types.Row, len(a.groupBy)), accs: make([]accumulator, len(a.specs))}
	for i, c := range a.groupBy {
		g.keyRow[i] = r[c]
	}
	if a.key >= 0 {
		a.listOpen(g)
	}
	for i := range a.specs {
		g.accs[i] = a.newAccumulator(i)
	}
	a.cache(g, a.groupBytes(len(key), 8*len(a.specs)))
	return g
}

// groupBytes approximates the memory of a group whose key has keyLen bytes
// and whose saved state valueLen: the map slot, the group, its group
// columns and accumulators, and what the accumulators hold, taken as twice
// its encoded size (BenchmarkAggregateFootprint keeps the estimate
// honest).
func (a *Aggregate) groupBytes(keyLen, valueLen int) int {
	return 150 + keyLen + 48*len(a.groupBy) + 16*len(a.specs) + 2*valueLen
}

// cache puts g in memory, accounted as size bytes.
func (a *Aggregate) cache(g *aggGroup, size int) {
	g.size = int32(size)
	a.cached += int64(size)
	a.groups[g.key] = g
}

// group returns the group of key (r is a row of it), reading it back from
// storage if it is not in memory, creating it if it does not exist.
func (a *Aggregate) group(key []byte, r types.Row) (*aggGroup, error) {
	if g := a.groups[string(key)]; g != nil {
		return g, nil
	}
	if a.mustRead() {
		var g *aggGroup
		n := 0
		found, err := a.reader.GetState(key, func(v []byte) error {
			var err error
			g, err = a.decodeGroup(key, v)
			n = len(v)
			return err
		})
		if err != nil {
			return nil, err
		}
		if found {
			a.cache(g, a.groupBytes(len(key), n))
			return g, nil
		}
	}
	return a.newGroup(string(key), r), nil
}

func (a *Aggregate) setAppendOnly() { a.appendOnly = true }

// newAccumulator returns the accumulator of spec i for a new group, or nil
// for a count(*) without FILTER: that is the group's row count, which the
// group keeps anyway.
func (a *Aggregate) newAccumulator(i int) accumulator {
	s := &a.specs[i]
	if s.Func == AggCountStar && s.Filter < 0 {
		return nil
	}
	return newAccumulator(s, a.appendOnly)
}

// Push implements Operator.
func (a *Aggregate) Push(ctx context.Context, _ int, b *Batch) error {
	if a.mustRead() {
		if err := a.prefetch(b); err != nil {
			return err
		}
	}
	for i, r := range b.Rows {
		w := b.Weights[i]
		if a.key >= 0 && below(r[a.groupBy[a.key]], a.wm) {
			a.late++
			continue
		}
		a.keyBuf = appendColsKey(a.keyBuf[:0], r, a.groupBy)
		g, err := a.group(a.keyBuf, r)
		if err != nil {
			return err
		}
		g.hot = true
		if !g.dirty {
			if err := a.markDirty(g); err != nil {
				return err
			}
		}
		g.count += w
		for j := range a.specs {
			s := &a.specs[j]
			if s.Filter >= 0 && !truthy(r[s.Filter]) {
				continue
			}
			if g.accs[j] == nil {
				continue
			}
			if err := g.accs[j].add(r, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// markDirty lists g as changed in this epoch, with the row it emitted
// before the change.
func (a *Aggregate) markDirty(g *aggGroup) error {
	var old types.Row
	if g.emitted {
		var err error
		if old, err = a.resultRow(g); err != nil {
			return err
		}
	}
	g.dirty = true
	a.dirty = append(a.dirty, g)
	a.old = append(a.old, old)
	return nil
}

// resultRow computes g's output row: its group columns and aggregates.
func (a *Aggregate) resultRow(g *aggGroup) (types.Row, error) {
	row := make(types.Row, len(g.keyRow)+len(g.accs))
	copy(row, g.keyRow)
	for j, acc := range g.accs {
		if acc == nil {
			row[len(g.keyRow)+j] = types.NewInt64(g.count)
			continue
		}
		d, err := acc.result()
		if err != nil {
			return nil, err
		}
		row[len(g.keyRow)+j] = d
	}
	return row, nil
}

// prefetch brings the groups of b that are not in memory in, reading those
// that exist in storage in one sorted pass when the reader can
// (StateBatchReader) and creating the others.
func (a *Aggregate) prefetch(b *Batch) error {
	br, ok := a.reader.(StateBatchReader)
	if !ok {
		return nil // Push reads them one by one
	}
	type miss struct{ lo, hi, row int }
	var misses []miss
	a.missKeys = a.missKeys[:0]
	clear(a.missSeen)
	for i, r := range b.Rows {
		a.keyBuf = appendColsKey(a.keyBuf[:0], r, a.groupBy)
		if a.groups[string(a.keyBuf)] != nil {
			continue
		}
		if _, dup := a.missSeen[string(a.keyBuf)]; dup {
			continue
		}
		if a.missSeen == nil {
			a.missSeen = map[string]struct{}{}
		}
		a.missSeen[string(a.keyBuf)] = struct{}{}
		lo := len(a.missKeys)
		a.missKeys = append(a.missKeys, a.keyBuf...)
		misses = append(misses, miss{lo, len(a.missKeys), i})
	}
	if len(misses) < 2 {
		return nil
	}
	keys := make([][]byte, len(misses))
	for i, m := range misses {
		keys[i] = a.missKeys[m.lo:m.hi:m.hi]
	}
	order := make([]int, len(misses))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return bytes.Compare(keys[x], keys[y]) })
	sorted := make([][]byte, len(order))
	for i, o := range order {
		sorted[i] = keys[o]
	}
	found := make([]bool, len(misses))
	err := br.GetStates(sorted, func(i int, v []byte) error {
		g, err := a.decodeGroup(sorted[i], v)
		if err != nil {
			return err
		}
		a.cache(g, a.groupBytes(len(sorted[i]), len(v)))
		found[order[i]] = true
		return nil
	})
	if err != nil {
		return err
	}
	for i, m := range misses {
		if !found[i] {
			a.newGroup(string(keys[i]), b.Rows[m.row])
		}
	}
	return nil
}

// Flush implements Operator.
func (a *Aggregate) Flush(ctx context.Context) error {
	if a.scalar && !a.started {
		g, err := a.group(nil, nil)
		if err != nil {
			return err
		}
		if !g.dirty {
			if err := a.markDirty(g); err != nil {
				return err
			}
		}
	}
	a.started = true
	for i, g := range a.dirty {
		g.dirty = false
		if a.track && !g.unsaved {
			g.unsaved = true
			a.unsaved = append(a.unsaved, g)
		}
		if g.count == 0 && !a.scalar {
			a.cached -= int64(g.size)
			delete(a.groups, g.key)
		}
		if a.emitOnClose {
			continue // closeWindows emits it
		}
		var row types.Row
		if g.count > 0 || a.scalar {
			var err error
			if row, err = a.resultRow(g); err != nil {
				return err
			}
		}
		g.emitted = row != nil
		old := a.old[i]
		if old != nil && row != nil && rowsEqual(old, row) {
			continue
		}
		if old != nil {
			if err := a.send(ctx, old, -1); err != nil {
				return err
			}
		}
		if row != nil {
			if err := a.send(ctx, row, 1); err != nil {
				return err
			}
		}
	}
	clear(a.dirty)
	a.dirty = a.dirty[:0]
	clear(a.old)
	a.old = a.old[:0]
	if a.closeDue {
		if err := a.closeWindows(ctx); err != nil {
			return err
		}
	}
	if err := a.drain(ctx); err != nil || !a.closeDue {
		return err
	}
	a.closeDue = false
	return a.out.Watermark(ctx, a.key, a.wm)
}

// SaveDirty implements Stateful. Key: the group key bytes. Value: a flag,
// 0 followed by the group columns (1 followed by the whole output row,
// as written before groups stopped keeping it, is read too), the group's
// row count, then each accumulator's state. A saved group has emitted its
// row (a group is saved after Flush, which deletes the groups that have
// none).
func (a *Aggregate) SaveDirty(put func(key, value []byte) error) error {
	for _, g := range a.unsaved {
		g.unsaved = false
		cur := a.groups[g.key]
		if cur != nil && cur != g {
			continue // replaced: the live group is in the list too
		}
		var v []byte
		if cur != nil {
			v = appendStateRow(append(a.saveBuf[:0], 0), g.keyRow)
			v = appendStateInt(v, g.count)
			for _, acc := range g.accs {
				if acc == nil {
					v = appendStateInt(v, g.count) // as a count(*) accumulator would
					continue
				}
				v = acc.appendState(v)
			}
			a.saveBuf = v
			size := int32(a.groupBytes(len(g.key), len(v)))
			a.cached += int64(size - g.size)
			g.size = size
		}
		a.saveKey = append(a.saveKey[:0], g.key...)
		if err := put(a.saveKey, v); err != nil {
			return err
		}
	}
	clear(a.unsaved)
	a.unsaved = a.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (a *Aggregate) Restore(key, value []byte) error {
	g, err := a.decodeGroup(key, value)
	if err != nil {
		return err
	}
	if a.key >= 0 {
		a.listOpen(g)
	}
	a.cache(g, a.groupBytes(len(key), len(value)))
	a.started = true
	return nil
}

// AttachState implements CachedState. A restored aggregate has emitted
// before: a scalar one's row exists.
func (a *Aggregate) AttachState(r StateReader, complete bool) {
	a.attach(r, complete)
	if !complete {
		a.started = true
	}
}

// Evict implements CachedState.
func (a *Aggregate) Evict(target int64) {
	if a.key >= 0 {
		return // see loadsWhole
	}
	sweep(&a.stateCache, a.groups, target, func(g *aggGroup) int64 { return int64(g.size) })
}

// decodeGroup decodes a group saved by SaveDirty.
func (a *Aggregate) decodeGroup(key, value []byte) (*aggGroup, error) {
	r := stateReader{b: value}
	width := len(a.groupBy)
	if r.byte() == 1 {
		width += len(a.specs)
	}
	row := r.row()
	if r.err != nil || len(row) != width {
		return nil, errStateCorrupt
	}
	g := &aggGroup{key: string(key), keyRow: row[:len(a.groupBy):len(a.groupBy)], accs: make([]accumulator, len(a.specs)), emitted: true}
	g.count = r.int()
	for i := range a.specs {
		if g.accs[i] = a.newAccumulator(i); g.accs[i] == nil {
			if r.int() != g.count {
				return nil, errStateCorrupt
			}
			continue
		}
		g.accs[i].restoreState(&r)
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return g, nil
}

func (a *Aggregate) String() string {
	parts := make([]string, len(a.specs))
	for i, s := range a.specs {
		parts[i] = s.String()
	}
	return "Aggregate " + strings.Join(parts, ", ")
}
