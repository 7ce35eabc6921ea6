package executor

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime/debug"
	"sync"

	"github.com/weirdb/weir/sql/types"
)

// parallelMin is the fewest changes a dispatch (or an epoch, for Flush)
// must carry for the shards to run on goroutines of their own: below it the
// fork and join cost more than the work they spread, and the shards run
// one after the other on the caller's goroutine.
const parallelMin = 256

// dispatchAt is how many pushed changes a Partitioned holds before it
// hands them to its shards: one fork and join per so many changes keeps
// the cost of synchronizing (and of a shard's goroutine waiting for a
// core) small beside the work.
const dispatchAt = 16 * BatchSize

// Partitioned runs one stateful operator as shards: instances of the same
// definition, each owning the keys whose hash falls in its partition (an
// aggregate's groups, a join's keys on both sides, DISTINCT's and a set
// operation's rows, a top-N's partitions).
//
// It holds the changes pushed to it until it has dispatchAt of them or is
// flushed, then dispatches them as a round: one goroutine per shard first
// routes a share of the round's changes to their shards by key, then
// pushes its shard's changes, in their original order. The caller does not
// wait for the round: it goes on producing the next one (a scan, a
// projection upstream), and waits only when that one is ready or at Flush.
// What the shards emitted is then sent downstream, shard after shard, on
// the caller's goroutine, so the operators downstream still see one
// caller. Each key's changes reach its shard in their original order, so
// each key emits exactly what the single operator would; only the
// interleaving of different keys' changes differs, which no downstream
// operator depends on (each consumer sums an epoch's changes). A join
// therefore emits when its changes are dispatched, not at each Push: at
// the latest at its Flush, which comes before its consumers'.
//
// The saved state is the shards' entries, keyed as the single operator keys
// them: Restore routes an entry to the shard that owns its key, so a
// restart with another number of shards restores the same state, and
// String is the inner operator's, so the dataflow's listing (which the
// state marker hashes) does not depend on the number of shards either.
//
// Like every operator, a Partitioned is driven by one goroutine at a time.
// When Flush returns, and when a Push or Flush fails, none of its
// goroutines runs. The Stateful and CachedState methods are for between
// epochs; they first wait for a round that an abandoned epoch left running
// (see quiesce).
type Partitioned struct {
	shards []Stateful
	part   partitioner
	seed   maphash.Seed
	out    Output
	// pend holds the changes pushed since the last dispatch; ports[i] is
	// the port change i came on.
	pend  Batch
	ports []uint8
	// round and roundPorts are the changes the shards work on.
	round      Batch
	roundPorts []uint8
	// running counts the shards' goroutines; busy: some were started and
	// not waited for.
	running sync.WaitGroup
	busy    bool
	// hold is how many changes it holds before dispatching: dispatchAt
	// (tests lower it).
	hold    int
	workers []shardWorker
	chunk   Batch
	// dispatched counts the changes dispatched since the last Flush: Flush
	// forks only when the epoch was large enough to leave much to flush.
	dispatched int
	// wms are the watermarks of the epoch, for the shards at Flush.
	wms []pendingWatermark
}

// shardWorker is the working space of the goroutine that routes a share of
// a round and then drives one shard.
type shardWorker struct {
	// route[s] are the indexes into the round of the changes this worker
	// routed to shard s, ascending.
	route  [][]int32
	keyBuf []byte
	in     Batch       // the shard's changes of one port, in order
	out    shardOutput // what the shard emitted since the last drain
	err    error
	panic  any
	// routeFailed: routing its share failed; the others read it once all
	// routed, and push nothing.
	routeFailed bool
}

// partitioner tells which key of a row or of a saved state entry decides
// the shard that owns it.
type partitioner struct {
	// rowKey appends the partition key of r arriving on port to buf,
	// computed with shard's expressions (the caller holds that shard
	// idle); ok false means the row matches no key (a NULL join key) and
	// any shard may take it.
	rowKey func(shard Operator, buf []byte, port int, r types.Row) (key []byte, ok bool, err error)
	// savedKey returns the partition key within a key written by SaveDirty.
	savedKey func(key []byte) ([]byte, error)
	// flushes: the operator emits at Flush (a join emits during Push
	// only, so its Flush need not fork; a temporal join probes at Flush).
	flushes bool
}

// Partition returns the operator newShard builds, partitioned by key into
// workers shards when workers > 1 and its kind has a key to partition by:
// an aggregate with GROUP BY, a hash join with key columns, DISTINCT, a set
// operation, a top-N with partition columns, a session window with a key.
// Otherwise (a scalar aggregate, a nested-loop join, a global top-N, a
// stateless operator) it returns the one instance newShard builds.
// newShard is called once per shard and must build a fresh, identical operator each time, with
// compiled expressions of its own (an EvalFunc is not safe for concurrent
// use).
func Partition(workers int, newShard func() (Operator, error)) (Operator, error) {
	first, err := newShard()
	if err != nil {
		return nil, err
	}
	part, ok := partitionerOf(first)
	if workers <= 1 || !ok {
		return first, nil
	}
	p := &Partitioned{part: part, seed: maphash.MakeSeed(), hold: dispatchAt, workers: make([]shardWorker, workers)}
	for s := range workers {
		op := first
		if s > 0 {
			if op, err = newShard(); err != nil {
				return nil, err
			}
		}
		w := &p.workers[s]
		w.route = make([][]int32, workers)
		op.SetOutput(Output{To: &w.out})
		p.shards = append(p.shards, op.(Stateful))
	}
	if _, ok := first.(CachedState); ok {
		return &cachedPartitioned{p}, nil
	}
	return p, nil
}

// partitionerOf returns how op's rows are partitioned, if op keeps its
// state by a key.
func partitionerOf(op Operator) (partitioner, bool) {
	whole := func(key []byte) ([]byte, error) { return key, nil }
	byCols := func(cols []int, savedKey func([]byte) ([]byte, error)) partitioner {
		return partitioner{
			rowKey: func(_ Operator, buf []byte, _ int, r types.Row) ([]byte, bool, error) {
				return appendColsKey(buf, r, cols), true, nil
			},
			savedKey: savedKey, flushes: true,
		}
	}
	switch x := op.(type) {
	case *Aggregate:
		if x.scalar || len(x.groupBy) == 0 {
			return partitioner{}, false
		}
		return byCols(x.groupBy, whole), true
	case *SessionAssign:
		if len(x.keyCols) == 0 {
			return partitioner{}, false
		}
		return byCols(x.keyCols, lengthPrefixedKey), true
	case *TopN:
		if len(x.partition) == 0 {
			return partitioner{}, false
		}
		return byCols(x.partition, lengthPrefixedKey), true
	case *HashJoin:
		if len(x.keys[0]) == 0 {
			return partitioner{}, false
		}
		return partitioner{
			rowKey: func(shard Operator, buf []byte, port int, r types.Row) ([]byte, bool, error) {
				j := shard.(*HashJoin)
				null, err := j.key(port, r)
				if err != nil || null {
					return buf, false, err
				}
				return append(buf, j.keyBuf...), true, nil
			},
			savedKey: joinSavedKey,
			flushes:  x.temporal || x.iv != nil,
		}, true
	case *Distinct, *SetOp:
		return partitioner{
			rowKey: func(_ Operator, buf []byte, _ int, r types.Row) ([]byte, bool, error) {
				return appendRowKey(buf, r), true, nil
			},
			savedKey: whole, flushes: true,
		}, true
	}
	return partitioner{}, false
}

// joinSavedKey returns the join key of a HashJoin state key: the side
// byte, then the join key length-prefixed.
func joinSavedKey(key []byte) ([]byte, error) {
	if len(key) < 1 {
		return nil, errStateCorrupt
	}
	return lengthPrefixedKey(key[1:])
}

// lengthPrefixedKey returns the leading uvarint-length-prefixed part of
// key (a top-N's partition key, a join's key).
func lengthPrefixedKey(key []byte) ([]byte, error) {
	n, k := binary.Uvarint(key)
	if k <= 0 || n > uint64(len(key)-k) {
		return nil, errStateCorrupt
	}
	return key[k : k+int(n)], nil
}

// owner returns the shard that owns partition key k.
func (p *Partitioned) owner(k []byte) int {
	hi, _ := bits.Mul64(maphash.Bytes(p.seed, k), uint64(len(p.shards)))
	return int(hi)
}

// Push implements Operator: it holds b's changes, dispatching them once
// dispatchAt are held.
func (p *Partitioned) Push(ctx context.Context, port int, b *Batch) error {
	p.pend.Rows = append(p.pend.Rows, b.Rows...)
	p.pend.Weights = append(p.pend.Weights, b.Weights...)
	for range b.Len() {
		p.ports = append(p.ports, uint8(port))
	}
	if p.pend.Len() < p.hold {
		return nil
	}
	return p.dispatch(ctx)
}

// dispatch waits for the round in flight, then makes the held changes the
// next round: run at once on the caller's goroutine when it is small,
// else started on the shards' goroutines.
func (p *Partitioned) dispatch(ctx context.Context) error {
	if err := p.wait(ctx); err != nil {
		p.pend.Reset()
		p.ports = p.ports[:0]
		return err
	}
	n := p.pend.Len()
	if n == 0 {
		return nil
	}
	p.dispatched += n
	p.pend, p.round = p.round, p.pend
	p.ports, p.roundPorts = p.roundPorts, p.ports
	if n < parallelMin {
		// One router, then the shards in turn.
		err := p.routeShare(0, 0, n)
		for s := 0; s < len(p.shards) && err == nil; s++ {
			err = p.pushShard(ctx, s, 1)
		}
		p.endRound()
		return p.drain(ctx, err)
	}
	var routed sync.WaitGroup
	routed.Add(len(p.shards))
	p.start(func(s int) error {
		w := &p.workers[s]
		func() {
			defer func() {
				if v := recover(); v != nil {
					w.panic = shardPanic(s, v)
				}
				w.routeFailed = w.err != nil || w.panic != nil
				routed.Done()
			}()
			w.err = p.routeShare(s, s*n/len(p.shards), (s+1)*n/len(p.shards))
		}()
		routed.Wait()
		for i := range p.workers {
			if p.workers[i].routeFailed {
				return nil // reported by the worker that failed
			}
		}
		return p.pushShard(ctx, s, len(p.shards))
	})
	return nil
}

// routeShare routes the round's changes [lo, hi) to their shards, into
// worker w's route lists, using shard w's expressions.
func (p *Partitioned) routeShare(w, lo, hi int) error {
	wk := &p.workers[w]
	for s := range wk.route {
		wk.route[s] = wk.route[s][:0]
	}
	for i := lo; i < hi; i++ {
		key, ok, err := p.part.rowKey(p.shards[w], wk.keyBuf[:0], int(p.roundPorts[i]), p.round.Rows[i])
		wk.keyBuf = key
		if err != nil {
			return err
		}
		s := w // a row without a key goes to any shard
		if ok {
			s = p.owner(key)
		}
		wk.route[s] = append(wk.route[s], int32(i))
	}
	return nil
}

// pushShard pushes shard s the round's changes the first routers workers
// routed to it, in their original order, one batch per run of changes on
// the same port.
func (p *Partitioned) pushShard(ctx context.Context, s, routers int) error {
	in := &p.workers[s].in
	port := -1
	for r := range routers {
		for _, i := range p.workers[r].route[s] {
			if pt := int(p.roundPorts[i]); pt != port {
				if in.Len() > 0 {
					err := p.shards[s].Push(ctx, port, in)
					in.Reset()
					if err != nil {
						return err
					}
				}
				port = pt
			}
			in.Append(p.round.Rows[i], p.round.Weights[i])
		}
	}
	if in.Len() == 0 {
		return nil
	}
	err := p.shards[s].Push(ctx, port, in)
	in.Reset()
	return err
}

func (p *Partitioned) endRound() {
	p.round.Reset()
	p.roundPorts = p.roundPorts[:0]
}

// Flush implements Operator.
func (p *Partitioned) Flush(ctx context.Context) error {
	if err := p.dispatch(ctx); err != nil {
		return err
	}
	if err := p.wait(ctx); err != nil {
		return err
	}
	if err := p.deliverWatermarks(ctx); err != nil {
		return err
	}
	if err := p.flushShards(ctx); err != nil {
		return err
	}
	return p.passWatermarks(ctx)
}

func (p *Partitioned) flushShards(ctx context.Context) error {
	flush := func(s int) error { return p.shards[s].Flush(ctx) }
	defer func() { p.dispatched = 0 }()
	if p.part.flushes && p.dispatched >= parallelMin {
		p.start(flush)
		return p.wait(ctx)
	}
	var err error
	for s := 0; s < len(p.shards) && err == nil; s++ {
		err = flush(s)
	}
	return p.drain(ctx, err)
}

// start calls step for every shard, each on a goroutine of its own; wait
// waits for them.
func (p *Partitioned) start(step func(s int) error) {
	p.busy = true
	for s := range p.shards {
		p.running.Go(func() {
			w := &p.workers[s]
			defer func() {
				if v := recover(); v != nil {
					w.panic = shardPanic(s, v)
				}
			}()
			if err := step(s); err != nil {
				w.err = err
			}
		})
	}
}

// wait waits for the goroutines start started, if any, ends their round
// and sends what the shards emitted downstream. It returns the first error
// in shard order. A panic in a shard's goroutine is raised again here, on
// the caller's, so that it reaches the caller's recovery instead of ending
// the process.
func (p *Partitioned) wait(ctx context.Context) error {
	if !p.busy {
		return nil
	}
	p.running.Wait()
	p.busy = false
	p.endRound()
	var first error
	var panicked any
	for s := range p.workers {
		w := &p.workers[s]
		if panicked == nil {
			panicked = w.panic
		}
		if first == nil {
			first = w.err
		}
		w.err, w.panic, w.routeFailed = nil, nil, false
	}
	if panicked != nil {
		panic(panicked)
	}
	return p.drain(ctx, first)
}

func shardPanic(s int, v any) string {
	return fmt.Sprintf("%v [shard %d]\n%s", v, s, debug.Stack())
}

// drain sends what the shards emitted downstream, shard after shard, in
// batches of at most BatchSize. After an error it only drops it.
func (p *Partitioned) drain(ctx context.Context, err error) error {
	for s := range p.workers {
		o := &p.workers[s].out.b
		for i := 0; err == nil && i < o.Len(); i += BatchSize {
			j := min(o.Len(), i+BatchSize)
			p.chunk.Rows, p.chunk.Weights = o.Rows[i:j], o.Weights[i:j]
			err = p.out.Emit(ctx, &p.chunk)
		}
		o.Reset()
	}
	p.chunk = Batch{}
	return err
}

// SetOutput implements Operator.
func (p *Partitioned) SetOutput(out Output) { p.out = out }

func (p *Partitioned) output() Output { return p.out }

// String implements Operator: the inner operator's (see Partitioned).
func (p *Partitioned) String() string { return p.shards[0].String() }

func (p *Partitioned) partitioned() *Partitioned { return p }

func (p *Partitioned) setAppendOnly() {
	for _, s := range p.shards {
		if a, ok := s.(interface{ setAppendOnly() }); ok {
			a.setAppendOnly()
		}
	}
}

// quiesce waits for a round still running and drops it. A round runs on
// after Flush only when the epoch was abandoned (an operator upstream
// failed after the round started): its owner then discards the dataflow
// or at least that epoch, and the methods between epochs must not meet
// the shards' goroutines.
func (p *Partitioned) quiesce() {
	if !p.busy {
		return
	}
	p.running.Wait()
	p.busy = false
	p.endRound()
	p.pend.Reset()
	p.ports = p.ports[:0]
	for s := range p.workers {
		w := &p.workers[s]
		w.err, w.panic, w.routeFailed = nil, nil, false
		w.out.b.Reset()
	}
}

// TrackState implements Stateful.
func (p *Partitioned) TrackState() {
	for _, s := range p.shards {
		s.TrackState()
	}
}

// SaveDirty implements Stateful: each shard's entries in turn (put is not
// safe for concurrent use).
func (p *Partitioned) SaveDirty(put func(key, value []byte) error) error {
	p.quiesce()
	for _, s := range p.shards {
		if err := s.SaveDirty(put); err != nil {
			return err
		}
	}
	return nil
}

// Restore implements Stateful: the entry goes to the shard that owns its
// key.
func (p *Partitioned) Restore(key, value []byte) error {
	p.quiesce()
	k, err := p.part.savedKey(key)
	if err != nil {
		return err
	}
	return p.shards[p.owner(k)].Restore(key, value)
}

// FinishRestore implements RestoreFinisher for shards that do.
func (p *Partitioned) FinishRestore() error {
	for _, s := range p.shards {
		if f, ok := s.(RestoreFinisher); ok {
			if err := f.FinishRestore(); err != nil {
				return err
			}
		}
	}
	return nil
}

// cachedPartitioned is a Partitioned whose shards keep part of their state
// in memory (CachedState): only such an operator answers for its cache.
type cachedPartitioned struct{ *Partitioned }

var _ CachedState = (*cachedPartitioned)(nil)

// AttachState implements CachedState: every shard reads through a reader
// of its own over r (see shardReader).
func (c *cachedPartitioned) AttachState(r StateReader, complete bool) {
	c.quiesce()
	var mu sync.Mutex
	for s, sh := range c.shards {
		sh.(CachedState).AttachState(&shardReader{p: c.Partitioned, shard: s, r: r, mu: &mu}, complete)
	}
}

// CachedBytes implements CachedState: the shards' sum.
func (c *cachedPartitioned) CachedBytes() int64 {
	c.quiesce()
	var n int64
	for _, s := range c.shards {
		n += s.(CachedState).CachedBytes()
	}
	return n
}

// CachedKeys implements CachedState: the shards' sum.
func (c *cachedPartitioned) CachedKeys() int64 {
	c.quiesce()
	var n int64
	for _, s := range c.shards {
		n += s.(CachedState).CachedKeys()
	}
	return n
}

// Evict implements CachedState: each shard keeps its share of target, in
// proportion to what it holds.
func (c *cachedPartitioned) Evict(target int64) {
	c.quiesce()
	shards := make([]CachedState, len(c.shards))
	for i, s := range c.shards {
		shards[i] = s.(CachedState)
	}
	EvictShares(shards, target)
}

// shardReader is one shard's view of the operator's StateReader, which is
// not safe for concurrent use while the shards run in parallel: calls take
// mu (shared by the shards) and copy what they read, so that fn runs
// outside the lock. A scan yields only the entries the shard owns.
type shardReader struct {
	p     *Partitioned
	shard int
	r     StateReader
	mu    *sync.Mutex
	val   []byte
	scan  stateEntries
}

// stateEntries holds copies of state entries: keys and values, end
// offsets into one buffer.
type stateEntries struct {
	buf  []byte
	ends []int // key end, value end, for each entry
}

func (r *shardReader) GetState(key []byte, fn func(value []byte) error) (bool, error) {
	r.mu.Lock()
	found, err := r.r.GetState(key, func(v []byte) error {
		r.val = append(r.val[:0], v...)
		return nil
	})
	r.mu.Unlock()
	if err != nil || !found {
		return found, err
	}
	return true, fn(r.val)
}

// GetStates implements StateBatchReader, under mu like GetState: values
// are copied, then handed to fn outside the lock.
func (r *shardReader) GetStates(keys [][]byte, fn func(i int, value []byte) error) error {
	e := &r.scan
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	var idx []int
	r.mu.Lock()
	var err error
	if br, ok := r.r.(StateBatchReader); ok {
		err = br.GetStates(keys, func(i int, v []byte) error {
			idx = append(idx, i)
			e.buf = append(e.buf, v...)
			e.ends = append(e.ends, len(e.buf))
			return nil
		})
	} else {
		for i, k := range keys {
			if _, err = r.r.GetState(k, func(v []byte) error {
				idx = append(idx, i)
				e.buf = append(e.buf, v...)
				e.ends = append(e.ends, len(e.buf))
				return nil
			}); err != nil {
				break
			}
		}
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	start := 0
	for j, i := range idx {
		if err := fn(i, e.buf[start:e.ends[j]]); err != nil {
			return err
		}
		start = e.ends[j]
	}
	return nil
}

func (r *shardReader) ScanState(prefix []byte, fn func(key, value []byte) error) error {
	e := &r.scan
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	r.mu.Lock()
	err := r.r.ScanState(prefix, func(k, v []byte) error {
		pk, err := r.p.part.savedKey(k)
		if err != nil {
			return err
		}
		if r.p.owner(pk) != r.shard {
			return nil
		}
		e.buf = append(e.buf, k...)
		e.ends = append(e.ends, len(e.buf))
		e.buf = append(e.buf, v...)
		e.ends = append(e.ends, len(e.buf))
		return nil
	})
	r.mu.Unlock()
	if err != nil {
		return err
	}
	start := 0
	for i := 0; i < len(e.ends); i += 2 {
		k, v := e.buf[start:e.ends[i]], e.buf[e.ends[i]:e.ends[i+1]]
		if err := fn(k, v); err != nil {
			return err
		}
		start = e.ends[i+1]
	}
	return nil
}

// shardOutput holds what one shard emits during a parallel step, until the
// Partitioned sends it downstream.
type shardOutput struct {
	b   Batch
	wms []pendingWatermark
}

func (o *shardOutput) Push(_ context.Context, _ int, b *Batch) error {
	o.b.Rows = append(o.b.Rows, b.Rows...)
	o.b.Weights = append(o.b.Weights, b.Weights...)
	return nil
}
func (o *shardOutput) Flush(context.Context) error { return nil }
func (o *shardOutput) SetOutput(Output)            {}
func (o *shardOutput) String() string              { return "shard output" }

// asPartitioned returns op as a Partitioned, if it is one (cached or not).
func asPartitioned(op Operator) (*Partitioned, bool) {
	if p, ok := op.(interface{ partitioned() *Partitioned }); ok {
		return p.partitioned(), true
	}
	return nil, false
}

// innerKind returns the operator whose kind op has: a shard of a
// Partitioned, else op itself.
func innerKind(op Operator) Operator {
	if p, ok := asPartitioned(op); ok {
		return p.shards[0]
	}
	return op
}
