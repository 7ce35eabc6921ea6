package executor

import "github.com/weirdb/weir/sql/types"

// Stateful is implemented by operators that keep state across epochs, so
// that a live dataflow's state can be written to storage with each epoch
// and restored at startup instead of being recomputed from the inputs.
//
// State changes are tracked only once TrackState was called (by
// Graph.TrackState, before the first Push): pull queries and push-query
// subscriptions, which never save, pay nothing for it. SaveDirty calls put
// for every state entry changed since the last SaveDirty (since
// TrackState, the first time): value nil deletes the entry. key
// and value are valid only during put (put copies what it keeps). It
// allocates nothing per entry beyond its reused encoding buffers. Call it
// after Flush: state pushed but not yet flushed is not complete.
//
// Restore loads one entry written by SaveDirty into a freshly built
// operator (same definition, nothing pushed); entries come in any order,
// each key once. After the last entry, FinishRestore (if the operator
// implements RestoreFinisher) rebuilds what is derived from the entries.
// An error means the saved state cannot be used (corrupt or from another
// definition); the caller then rebuilds the operator from its inputs.
type Stateful interface {
	Operator
	TrackState()
	SaveDirty(put func(key, value []byte) error) error
	Restore(key, value []byte) error
}

// TrackState implements Stateful.
func (a *Aggregate) TrackState() { a.track = true }

// TrackState implements Stateful.
func (j *HashJoin) TrackState() { j.track = true }

// TrackState implements Stateful.
func (d *Distinct) TrackState() { d.track = true }

// TrackState implements Stateful.
func (t *TopN) TrackState() { t.track = true }

// TrackState implements Stateful.
func (s *SetOp) TrackState() { s.track = true }

// TrackState makes every stateful operator of g track its changes for
// SaveDirty. Call it before the first Push.
func (g *Graph) TrackState() {
	for _, op := range g.ops {
		if s, ok := op.(Stateful); ok {
			s.TrackState()
		}
	}
}

// LoadsWhole reports whether op must have its state loaded whole at a
// restart (RestoreState) rather than read back on demand, although it is a
// CachedState: a windowed aggregate closes its groups by scanning them.
func LoadsWhole(op Stateful) bool {
	l, ok := innerKind(op).(interface{ loadsWhole() bool })
	return ok && l.loadsWhole()
}

// RestoreFinisher is implemented by stateful operators that derive part of
// their state from all restored entries together (a top-N's emitted rows).
type RestoreFinisher interface {
	FinishRestore() error
}

// Stateful returns the graph's stateful operators with their index in the
// graph: a stable operator id as long as the graph is built from the same
// plan.
func (g *Graph) Stateful() (ids []int, ops []Stateful) {
	for i, op := range g.ops {
		if s, ok := op.(Stateful); ok {
			ids = append(ids, i)
			ops = append(ops, s)
		}
	}
	return ids, ops
}

// StateReader reads back the entries an operator saved with SaveDirty, as
// committed by earlier epochs. Keys are the operator's own (without the
// storage prefix). Values passed to fn are valid only during fn.
type StateReader interface {
	// GetState calls fn with the value of key and reports whether there
	// was one.
	GetState(key []byte, fn func(value []byte) error) (bool, error)
	// ScanState calls fn for every entry whose key starts with prefix, in
	// key order.
	ScanState(prefix []byte, fn func(key, value []byte) error) error
}

// StateBatchReader is a StateReader that reads many keys in one pass for
// less than as many GetState calls: operators that miss many keys in a
// batch read them through it.
type StateBatchReader interface {
	StateReader
	// GetStates calls fn(i, value) for every keys[i] that has a value;
	// keys are in ascending order. value is valid only during fn.
	GetStates(keys [][]byte, fn func(i int, value []byte) error) error
}

// CachedState is implemented by stateful operators that can hold part of
// their state in memory and read the rest back from storage on demand,
// so that state larger than memory stays bounded by the configured cache
// and a restart need not load any state before serving.
//
// AttachState gives the operator the reader of its saved entries. complete
// reports that memory holds the whole state (a fresh or backfilled
// operator), so that a miss needs no read until the first eviction; an
// operator attached with complete false has restored nothing and reads
// every entry on first use. Attach before the first Push and never
// together with Restore.
//
// CachedBytes estimates the memory the entries in memory take, and
// CachedKeys counts them (for metrics). Evict drops
// entries until about target bytes remain, least recently used first
// (approximately); it drops only entries that are saved (call it after
// SaveDirty, once the epoch committed), since a dropped entry is read back
// from what storage committed.
type CachedState interface {
	Stateful
	AttachState(r StateReader, complete bool)
	Evictor
	CachedKeys() int64
}

// CachedKeys implements CachedState: the groups in memory.
func (a *Aggregate) CachedKeys() int64 { return int64(len(a.groups)) }

// CachedKeys implements CachedState: the keys of both sides in memory.
func (j *HashJoin) CachedKeys() int64 { return int64(len(j.sides[0]) + len(j.sides[1])) }

// CachedKeys implements CachedState: the distinct rows in memory.
func (d *Distinct) CachedKeys() int64 { return int64(len(d.rows)) }

// CachedKeys implements CachedState: the distinct rows in memory.
func (s *SetOp) CachedKeys() int64 { return int64(len(s.rows)) }

// Evictor holds state it can drop from memory: an operator
// (CachedState), its shards, a dataflow's operators, a server's views.
type Evictor interface {
	CachedBytes() int64
	Evict(target int64)
}

// EvictShares drops state from es until together they hold about target
// bytes, each keeping its share of target in proportion to what it holds.
func EvictShares[E Evictor](es []E, target int64) {
	var total int64
	for _, e := range es {
		total += e.CachedBytes()
	}
	if total <= target {
		return
	}
	for _, e := range es {
		e.Evict(int64(float64(e.CachedBytes()) * float64(target) / float64(total)))
	}
}

// stateCache is the part of a CachedState operator that decides whether a
// miss must read storage, and counts the bytes in memory.
type stateCache struct {
	reader StateReader
	// complete: every entry is in memory; a miss is a new entry.
	complete bool
	cached   int64
}

func (c *stateCache) attach(r StateReader, complete bool) { c.reader, c.complete = r, complete }

// mustRead reports whether a key missing from memory may be in storage.
func (c *stateCache) mustRead() bool { return c.reader != nil && !c.complete }

// CachedBytes implements CachedState.
func (c *stateCache) CachedBytes() int64 { return c.cached }

// entryOverhead approximates what the Go runtime spends on one cached
// entry beyond its encoded state: the map slot, the entry struct, the key
// string and the slices' headers.
const entryOverhead = 160

// evictable is one cached entry as Evict sees it.
type evictable interface {
	// clean: saved, not changed since; hot: used since the last sweep
	// (cleared as the sweep passes).
	clean() bool
	takeHot() bool
}

// sweep drops clean entries of m until c.cached <= target: first those not
// used since the previous sweep, then any clean one. Go's map iteration
// starts at a random place, which spreads the sweeps over the map. size
// returns an entry's accounted bytes.
func sweep[E evictable](c *stateCache, m map[string]E, target int64, size func(E) int64) {
	if c.reader == nil || c.cached <= target {
		return // without storage to read back from, nothing may go
	}
	c.complete = false
	for pass := 0; pass < 2 && c.cached > target; pass++ {
		for k, e := range m {
			if c.cached <= target {
				break
			}
			if !e.clean() || (pass == 0 && e.takeHot()) {
				continue
			}
			c.cached -= size(e)
			delete(m, k)
		}
	}
}

// approxRowBytes approximates the memory a row takes: its datums and the
// bytes of its strings.
func approxRowBytes(r types.Row) int64 {
	n := int64(24 + 48*len(r))
	for _, d := range r {
		if !d.IsNull() {
			switch d.Kind() {
			case types.KindText, types.KindBytea, types.KindJSONB, types.KindUnknown:
				n += int64(len(d.Str()))
			case types.KindNumeric:
				n += 64
			}
		}
	}
	return n
}
