package executor

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/weirdb/weir/sql/types"
)

// JoinKind is the kind of a join.
type JoinKind uint8

const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
	// JoinSemi emits left rows that have a match (EXISTS, IN); JoinAnti
	// those that have none (NOT EXISTS). Both output left columns only.
	JoinSemi
	JoinAnti
)

var joinNames = [...]string{"Inner", "Left", "Right", "Full", "Semi", "Anti"}

func (k JoinKind) String() string { return joinNames[k] }

// HashJoin joins port 0 (left) with port 1 (right) on equality of key
// columns, with an optional residual predicate over the concatenated row
// (for an outer join the residual is part of the match condition). It is
// incremental: each side's rows are indexed by key with their weights, a
// change on one side is joined with the other side's current index and then
// added to its own index, which yields ΔA⋈B + A⋈ΔB + ΔA⋈ΔB.
//
// For outer, semi and anti joins every indexed row carries its match count
// (the weighted number of rows of the other side it matches); the
// null-padded row (or the semi/anti output) is emitted or retracted when
// that count crosses zero. Rows with a NULL key column never match.
// With no key columns every pair is tested (a nested-loop join).
//
// A temporal join (NewTemporalJoin) is the processing-time join of an
// append-only stream (left) with a table (right), FOR SYSTEM_TIME AS OF
// PROCTIME(): only the right side is indexed, and a change of it emits
// nothing; each left row is joined with the right rows of the epoch it
// arrives in and then forgotten, so a later change of the table neither
// updates nor retracts what was emitted. The left rows of an epoch are held
// until Flush and probed then, against the right side with all of the
// epoch's changes applied: the result does not depend on the order the
// epoch's inputs were pushed in, and a pull query (all inputs pushed, then
// one Flush) is the ordinary join of the current rows.
type HashJoin struct {
	emitter
	kind     JoinKind
	keys     [2][]EvalFunc
	widths   [2]int
	residual EvalFunc
	sides    [2]map[string]*joinBucket
	keyBuf   []byte
	rowBuf   []byte
	scratch  types.Row
	desc     string
	unsaved  []*joinEntry
	saveBuf  []byte
	saveKey  []byte
	track    bool
	// temporal: see NewTemporalJoin; held are the left changes of the
	// epoch, probed at Flush.
	temporal bool
	held     Batch
	// iv: an interval join (SetInterval), nil for others.
	iv *intervalState
	stateCache
}

// joinEntry is one distinct row of a side with its weight (multiplicity)
// and match count (equal rows have equal match counts, so they share one
// entry).
type joinEntry struct {
	row     types.Row
	w       int64
	matches int64
	bkey    string // the join key bytes of its bucket
	side    uint8
	// unsaved: changed since the last SaveDirty. An entry whose weight
	// dropped to zero is no longer indexed; SaveDirty deletes it.
	unsaved bool
}

// joinBucket holds the entries of one join key. Small buckets are searched
// linearly; from bucketIndexAt entries on, pos maps each row's canonical
// key bytes to its position so that a retraction costs O(1), not
// O(bucket).
type joinBucket struct {
	key     string
	entries []*joinEntry
	pos     map[string]int
	size    int64 // bytes accounted in the state cache
	hot     bool
}

func (bk *joinBucket) clean() bool {
	for _, e := range bk.entries {
		if e.unsaved {
			return false
		}
	}
	return true
}

func (bk *joinBucket) takeHot() bool {
	h := bk.hot
	bk.hot = false
	return h
}

const bucketIndexAt = 8

// NewHashJoin returns a join of a left input of leftWidth columns and a
// right input of rightWidth columns. desc is for String.
//
// leftKeys[i] and rightKeys[i] compute the i-th key of a left and a right
// row; they must produce values of the same type.
func NewHashJoin(kind JoinKind, leftKeys, rightKeys []EvalFunc, leftWidth, rightWidth int, residual EvalFunc, desc string) *HashJoin {
	return &HashJoin{
		kind: kind, keys: [2][]EvalFunc{leftKeys, rightKeys}, widths: [2]int{leftWidth, rightWidth},
		residual: residual, desc: desc,
		sides:   [2]map[string]*joinBucket{{}, {}},
		scratch: make(types.Row, leftWidth+rightWidth),
	}
}

// NewTemporalJoin returns a temporal join (see HashJoin) of an append-only
// left input with a right input; kind is JoinInner or JoinLeft (a left row
// with no match at its epoch is emitted null-padded, and never retracted).
// The arguments are NewHashJoin's; at least one key is needed.
func NewTemporalJoin(kind JoinKind, leftKeys, rightKeys []EvalFunc, leftWidth, rightWidth int, residual EvalFunc, desc string) *HashJoin {
	if (kind != JoinInner && kind != JoinLeft) || len(leftKeys) == 0 {
		panic("executor: a temporal join is an inner or left join with keys")
	}
	j := NewHashJoin(kind, leftKeys, rightKeys, leftWidth, rightWidth, residual, desc)
	j.temporal = true
	return j
}

// preserved reports whether side's unmatched rows appear null-padded.
func (j *HashJoin) preserved(side int) bool {
	switch j.kind {
	case JoinLeft:
		return side == 0
	case JoinRight:
		return side == 1
	case JoinFull:
		return true
	}
	return false
}

func (j *HashJoin) padded(side int, r types.Row) types.Row {
	out := make(types.Row, j.widths[0]+j.widths[1])
	if side == 0 {
		copy(out, r)
	} else {
		copy(out[j.widths[0]:], r)
	}
	return out
}

// emitUnmatched emits the output of a row of side that has no match
// (null-padded for outer joins, the row itself for anti joins) with weight w.
func (j *HashJoin) emitUnmatched(ctx context.Context, side int, r types.Row, w int64) error {
	switch {
	case j.preserved(side):
		return j.send(ctx, j.padded(side, r), w)
	case j.kind == JoinAnti && side == 0:
		return j.send(ctx, r, w)
	}
	return nil
}

// emitMatched emits the output of a left row of a semi join that has
// matches, with weight w.
func (j *HashJoin) emitMatched(ctx context.Context, r types.Row, w int64) error {
	if j.kind == JoinSemi {
		return j.send(ctx, r, w)
	}
	return nil
}

// key computes the join key bytes of r into j.keyBuf; null reports a NULL
// key column (which never matches).
func (j *HashJoin) key(side int, r types.Row) (null bool, err error) {
	j.keyBuf = j.keyBuf[:0]
	for _, k := range j.keys[side] {
		d, err := k(r)
		if err != nil {
			return false, err
		}
		if d.IsNull() {
			return true, nil
		}
		j.keyBuf = types.AppendKey(j.keyBuf, d)
	}
	return false, nil
}

// Push implements Operator.
func (j *HashJoin) Push(ctx context.Context, port int, b *Batch) error {
	switch {
	case !j.temporal:
		return j.probe(ctx, port, b)
	case port == 0:
		for _, w := range b.Weights {
			if w < 0 {
				// The planner admits only append-only left inputs: what a
				// retraction retracts was joined with rows that may be gone.
				return errTemporalRetraction
			}
		}
		j.held.Rows = append(j.held.Rows, b.Rows...)
		j.held.Weights = append(j.held.Weights, b.Weights...)
		return nil
	}
	for i, r := range b.Rows {
		null, err := j.key(1, r)
		if err != nil {
			return err
		}
		if !null {
			if err := j.index(1, j.keyBuf, r, b.Weights[i], 0); err != nil {
				return err
			}
		}
	}
	return nil
}

var errTemporalRetraction = errors.New("temporal join: a retraction on the stream side")

// probe joins b's changes of side with the other side's index and, unless
// the join is temporal, adds them to side's index.
func (j *HashJoin) probe(ctx context.Context, side int, b *Batch) error {
	other := 1 - side
	semiAnti := j.kind == JoinSemi || j.kind == JoinAnti
	for i, r := range b.Rows {
		w := b.Weights[i]
		if j.iv != nil {
			if w < 0 && j.kind != JoinInner {
				return errIntervalRetraction
			}
			if r[j.iv.timeCol(side)].IsNull() {
				// It matches nothing, and would never expire.
				if err := j.emitUnmatched(ctx, side, r, w); err != nil {
					return err
				}
				continue
			}
		}
		null, err := j.key(side, r)
		if err != nil {
			return err
		}
		if null {
			if side == 0 || !semiAnti {
				if err := j.emitUnmatched(ctx, side, r, w); err != nil {
					return err
				}
			}
			continue
		}
		var entries []*joinEntry
		bk, err := j.bucket(other, j.keyBuf, false)
		if err != nil {
			return err
		}
		if bk != nil {
			bk.hot = true
			entries = bk.entries
		}
		var m int64
		for _, e := range entries {
			var l, rr types.Row
			if side == 0 {
				l, rr = r, e.row
			} else {
				l, rr = e.row, r
			}
			if j.residual != nil {
				copy(j.scratch, l)
				copy(j.scratch[j.widths[0]:], rr)
				d, err := j.residual(j.scratch)
				if err != nil {
					return err
				}
				if !truthy(d) {
					continue
				}
			}
			m += e.w
			if !semiAnti {
				if err := j.send(ctx, concatRows(l, rr), w*e.w); err != nil {
					return err
				}
			}
			if j.temporal {
				continue
			}
			// The other side's entry gains w matches.
			old := e.matches
			e.matches += w
			if j.kind != JoinInner {
				j.touch(e)
			}
			if (old == 0) != (e.matches == 0) {
				if semiAnti && other == 0 {
					sign := int64(1)
					if e.matches == 0 {
						sign = -1
					}
					if j.kind == JoinAnti {
						sign = -sign
					}
					if err := j.send(ctx, e.row, sign*e.w); err != nil {
						return err
					}
				} else if j.preserved(other) && j.iv == nil {
					// (An interval join emits an unmatched row when it
					// expires, not before.)
					sign := int64(-1) // it found its first match
					if e.matches == 0 {
						sign = 1
					}
					if err := j.send(ctx, j.padded(other, e.row), sign*e.w); err != nil {
						return err
					}
				}
			}
		}
		if m == 0 && j.iv == nil {
			if side == 0 || !semiAnti {
				if err := j.emitUnmatched(ctx, side, r, w); err != nil {
					return err
				}
			}
		} else if side == 0 {
			if err := j.emitMatched(ctx, r, w); err != nil {
				return err
			}
		}
		if j.temporal {
			continue
		}
		if err := j.index(side, j.keyBuf, r, w, m); err != nil {
			return err
		}
	}
	return j.drain(ctx)
}

// index adds weight w of row r (with m matches) to side's index: equal
// rows share one entry, which is removed when its weight reaches zero.
func (j *HashJoin) index(side int, key []byte, r types.Row, w, m int64) error {
	if w == 0 {
		return nil
	}
	bk, err := j.bucket(side, key, true)
	if err != nil {
		return err
	}
	bk.hot = true
	k := -1
	if bk.pos != nil {
		j.rowBuf = appendRowKey(j.rowBuf[:0], r)
		if p, ok := bk.pos[string(j.rowBuf)]; ok {
			k = p
		}
	} else {
		for p, e := range bk.entries {
			if rowsEqual(e.row, r) {
				k = p
				break
			}
		}
	}
	if k < 0 {
		e := &joinEntry{row: r, w: w, matches: m, bkey: bk.key, side: uint8(side)}
		j.touch(e)
		j.addEntry(bk, e)
		return nil
	}
	e := bk.entries[k]
	e.w += w
	j.touch(e)
	if e.w == 0 {
		j.removeAt(side, bk, k)
	}
	return nil
}

// removeAt takes the entry at k (its weight now zero) out of side's
// bucket bk, and the bucket out of memory if it was the last and memory
// holds the whole state.
func (j *HashJoin) removeAt(side int, bk *joinBucket, k int) {
	e := bk.entries[k]
	j.account(bk, -joinEntryBytes(e))
	last := len(bk.entries) - 1
	if bk.pos != nil {
		j.rowBuf = appendRowKey(j.rowBuf[:0], e.row)
		delete(bk.pos, string(j.rowBuf))
		if k != last {
			j.rowBuf = appendRowKey(j.rowBuf[:0], bk.entries[last].row)
			bk.pos[string(j.rowBuf)] = k
		}
	}
	bk.entries[k] = bk.entries[last]
	bk.entries[last] = nil
	bk.entries = bk.entries[:last]
	if last == 0 && !j.mustRead() {
		// With state in storage, the empty bucket stays until evicted:
		// it records that the key's saved entries are gone.
		j.cached -= bk.size
		delete(j.sides[side], bk.key)
	}
}

// bucket returns side's bucket of key: from memory, else read back from
// storage (an empty bucket when the key has no entries, so that the next
// probe does not read again), else a new empty one if create.
func (j *HashJoin) bucket(side int, key []byte, create bool) (*joinBucket, error) {
	idx := j.sides[side]
	if bk := idx[string(key)]; bk != nil {
		return bk, nil
	}
	if !create && !j.mustRead() {
		return nil, nil
	}
	bk := &joinBucket{key: string(key)}
	bk.size = entryOverhead + int64(len(key))
	j.cached += bk.size
	idx[bk.key] = bk
	if !j.mustRead() {
		return bk, nil
	}
	prefix := binary.AppendUvarint(append(j.saveKey[:0], uint8(side)), uint64(len(key)))
	prefix = append(prefix, key...)
	j.saveKey = prefix
	err := j.reader.ScanState(prefix, func(_, v []byte) error {
		e, err := j.decodeEntry(side, bk.key, v)
		if err != nil {
			return err
		}
		j.addEntry(bk, e)
		return nil
	})
	return bk, err
}

// addEntry appends e to bk.
func (j *HashJoin) addEntry(bk *joinBucket, e *joinEntry) {
	if j.iv != nil {
		j.iv.trackTime(e)
	}
	j.account(bk, joinEntryBytes(e))
	bk.entries = append(bk.entries, e)
	switch {
	case bk.pos != nil:
		bk.pos[string(appendRowKey(j.rowBuf[:0], e.row))] = len(bk.entries) - 1
	case len(bk.entries) > bucketIndexAt:
		bk.pos = make(map[string]int, 2*len(bk.entries))
		for p, e := range bk.entries {
			j.rowBuf = appendRowKey(j.rowBuf[:0], e.row)
			bk.pos[string(j.rowBuf)] = p
		}
	}
}

func (j *HashJoin) account(bk *joinBucket, delta int64) {
	bk.size += delta
	j.cached += delta
}

// joinEntryBytes approximates the memory of one indexed row.
func joinEntryBytes(e *joinEntry) int64 { return 64 + approxRowBytes(e.row) }

func (j *HashJoin) touch(e *joinEntry) {
	if j.track && !e.unsaved {
		e.unsaved = true
		j.unsaved = append(j.unsaved, e)
	}
}

// SaveDirty implements Stateful. One entry per distinct indexed row of a
// side: key the side (0/1), the join key's length (uvarint) and bytes, and
// the row's key bytes; value the row, its weight and its match count. A
// row whose weight dropped to zero is deleted; if it came back, its new
// entry was changed later, so its put follows the delete.
func (j *HashJoin) SaveDirty(put func(key, value []byte) error) error {
	for _, e := range j.unsaved {
		e.unsaved = false
		k := append(j.saveKey[:0], e.side)
		k = binary.AppendUvarint(k, uint64(len(e.bkey)))
		k = appendRowKey(append(k, e.bkey...), e.row)
		j.saveKey = k
		var v []byte
		if e.w != 0 {
			v = appendStateRow(j.saveBuf[:0], e.row)
			v = appendStateInt(appendStateInt(v, e.w), e.matches)
			j.saveBuf = v
		}
		if err := put(k, v); err != nil {
			return err
		}
	}
	clear(j.unsaved)
	j.unsaved = j.unsaved[:0]
	return nil
}

// Restore implements Stateful.
func (j *HashJoin) Restore(key, value []byte) error {
	if len(key) < 2 || key[0] > 1 {
		return errStateCorrupt
	}
	side := int(key[0])
	kl, n := binary.Uvarint(key[1:])
	if n <= 0 || kl > uint64(len(key)-1-n) {
		return errStateCorrupt
	}
	bk, err := j.bucket(side, key[1+n:1+n+int(kl)], true)
	if err != nil {
		return err
	}
	e, err := j.decodeEntry(side, bk.key, value)
	if err != nil {
		return err
	}
	j.addEntry(bk, e)
	return nil
}

// decodeEntry decodes an entry of side's bucket bkey saved by SaveDirty.
func (j *HashJoin) decodeEntry(side int, bkey string, value []byte) (*joinEntry, error) {
	r := stateReader{b: value}
	e := &joinEntry{row: r.row(), bkey: bkey, side: uint8(side)}
	e.w, e.matches = r.int(), r.int()
	if err := r.done(); err != nil {
		return nil, err
	}
	if len(e.row) != j.widths[side] || e.w == 0 {
		return nil, errStateCorrupt
	}
	return e, nil
}

// AttachState implements CachedState.
func (j *HashJoin) AttachState(r StateReader, complete bool) { j.attach(r, complete) }

// Evict implements CachedState. A bucket goes whole: a key's entries are
// read back together. An interval join keeps its state (see loadsWhole).
func (j *HashJoin) Evict(target int64) {
	if j.iv != nil {
		return
	}
	size := func(bk *joinBucket) int64 { return bk.size }
	sweep(&j.stateCache, j.sides[0], target, size)
	sweep(&j.stateCache, j.sides[1], target, size)
}

// Flush implements Operator: a temporal join probes the epoch's left rows;
// an interval join drops the rows its watermarks passed.
func (j *HashJoin) Flush(ctx context.Context) error {
	if j.iv != nil {
		return j.expireInterval(ctx)
	}
	if !j.temporal || j.held.Len() == 0 {
		return nil
	}
	err := j.probe(ctx, 0, &j.held)
	j.held.Reset()
	return err
}

func (j *HashJoin) String() string {
	if j.temporal {
		return "TemporalJoin " + j.kind.String() + " " + j.desc
	}
	return "HashJoin " + j.kind.String() + " " + j.desc
}
