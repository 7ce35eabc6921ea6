package executor

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/weirdb/weir/sql/types"
)

// SessionAssign is the window table function SESSION: per session key
// (the GROUP BY's columns other than the window's), rows whose times are
// less than gap apart form a session, window_start its first row's time
// and window_end its last row's plus gap. Each row goes on with the two
// columns of its session appended; a row whose time is NULL is in none.
//
// Unlike TUMBLE and HOP it keeps state: per key the rows of its open
// sessions in time order, each with the bounds it was emitted with. A
// row that extends a session, or that bridges two (also out of order),
// changes the bounds of the session's other rows: at Flush the operator
// retracts those rows with their old bounds and emits them with the new,
// so an aggregate downstream moves them from the old session's group to
// the new one's. A retraction of an input row (which may split a
// session) is handled the same way. What an epoch costs is the sessions
// its changes touch, not the key's whole history.
//
// A watermark W on the time column closes the sessions that end at or
// before W: no later row (time >= W) can join them. Their rows are
// forgotten, so the state is bounded by the open sessions. Every later
// change then has window_end > W (an open session ends after W, a new
// one at its time + gap), so the operator passes on a watermark of W + 1
// microsecond on window_end: an aggregate grouped by it closes each
// session's group as the session closes. That holds as long as the input
// only retracts rows the watermark has not passed (a retraction of an
// earlier row could shrink an open session to end before W); event-time
// relations only insert. The input's own watermarks do not pass: a
// session that moves re-emits rows of any age.
//
// Emitting only at Flush, it emits only insertions in a graph that runs
// once (SetAppendOnly).
type SessionAssign struct {
	emitter
	keyCols []int
	timeCol int
	gap     int64 // microseconds
	width   int   // input columns
	desc    string

	keys  map[string]*sessionKey
	dirty []*sessionKey
	// closing orders the keys by when their first session closes, so a
	// watermark visits only the keys it closes sessions of.
	closing sessionHeap
	// wm is the watermark on the time column (NULL: none yet); closeDue:
	// it advanced since the last Flush.
	wm       types.Datum
	closeDue bool
	// late counts the changes below the watermark, dropped.
	late int64
	// rows counts the rows held (for StateRows).
	rows int64

	track   bool
	unsaved []*sessionRow
	keyBuf  []byte
	saveBuf []byte
	// scratch of Flush; slab: room for the rows it emits
	merged  []*sessionRow
	changed []int64
	spans   [][2]int
	slab    []types.Datum
}

// sessionKey is one session key's state: its rows in time order (then by
// row key), every one with n != 0, and the changes of the epoch.
type sessionKey struct {
	key     string
	rows    []*sessionRow
	pending []sessionChange
	dirty   bool
	// closeAt is the end of its first session; at its index in closing.
	closeAt int64
	at      int
}

// sessionHeap is a min-heap of keys by closeAt (container/heap, which
// keeps each key's index).
type sessionHeap []*sessionKey

func (h sessionHeap) Len() int           { return len(h) }
func (h sessionHeap) Less(i, j int) bool { return h[i].closeAt < h[j].closeAt }
func (h sessionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *sessionHeap) Push(x any) {
	k := x.(*sessionKey)
	k.at = len(*h)
	*h = append(*h, k)
}
func (h *sessionHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return k
}

// sessionRow is one distinct input row of a key: its multiplicity, and
// the multiplicity and bounds it was emitted with (out 0: not emitted).
type sessionRow struct {
	t          int64
	key        string // appendRowKey of row
	row        types.Row
	n, out     int64
	start, end int64
	part       *sessionKey
	unsaved    bool
}

type sessionChange struct {
	t   int64
	key string
	row types.Row
	w   int64
}

// NewSessionAssign returns a session window assigner over rows of width
// columns, keyed by keyCols (none: one session sequence for all rows),
// sessions over timeCol closed by gaps of gap microseconds (> 0).
func NewSessionAssign(width int, keyCols []int, timeCol int, gap int64, desc string) (*SessionAssign, error) {
	if gap <= 0 {
		return nil, fmt.Errorf("session gap %d must be positive", gap)
	}
	return &SessionAssign{keyCols: keyCols, timeCol: timeCol, gap: gap, width: width, desc: desc, keys: map[string]*sessionKey{}}, nil
}

// Late counts the changes dropped because the watermark had passed their
// time.
func (s *SessionAssign) Late() int64 { return s.late }

// StateRows counts the input rows held: those of open sessions.
func (s *SessionAssign) StateRows() int64 { return s.rows }

// Push implements Operator: it takes the changes in; Flush assigns them.
func (s *SessionAssign) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		t := r[s.timeCol]
		if t.IsNull() {
			continue
		}
		if below(t, s.wm) {
			s.late++
			continue
		}
		s.keyBuf = appendColsKey(s.keyBuf[:0], r, s.keyCols)
		k := s.keys[string(s.keyBuf)]
		if k == nil {
			k = &sessionKey{key: string(s.keyBuf), at: -1}
			s.keys[k.key] = k
		}
		if !k.dirty {
			k.dirty = true
			s.dirty = append(s.dirty, k)
		}
		s.keyBuf = appendRowKey(s.keyBuf[:0], r)
		k.pending = append(k.pending, sessionChange{t: t.Micros(), key: string(s.keyBuf), row: r[:s.width:s.width], w: b.Weights[i]})
	}
	return nil
}

// Watermark implements WatermarkTaker. It acts at Flush.
func (s *SessionAssign) Watermark(_ context.Context, _, col int, v types.Datum) error {
	if col == s.timeCol && advances(s.wm, v) {
		s.wm, s.closeDue = v, true
	}
	return nil
}

// Flush implements Operator.
func (s *SessionAssign) Flush(ctx context.Context) error {
	for _, k := range s.dirty {
		if err := s.apply(ctx, k); err != nil {
			return err
		}
		k.dirty = false
		s.requeue(k)
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	if s.closeDue {
		s.closeSessions()
	}
	if err := s.drain(ctx); err != nil || !s.closeDue {
		return err
	}
	s.closeDue = false
	return s.out.Watermark(ctx, s.width+1, timeLike(s.wm, s.wm.Micros()+1))
}

func compareSession(t1 int64, k1 string, t2 int64, k2 string) int {
	if c := cmp.Compare(t1, t2); c != 0 {
		return c
	}
	return cmp.Compare(k1, k2)
}

// apply merges k's pending changes into its rows, then reassigns the
// sessions the changes touched.
func (s *SessionAssign) apply(ctx context.Context, k *sessionKey) error {
	ch := k.pending
	slices.SortStableFunc(ch, func(a, b sessionChange) int { return compareSession(a.t, a.key, b.t, b.key) })
	merged := s.merged[:0]
	changed := s.changed[:0] // times of the changed rows, ascending
	i, j := 0, 0
	for i < len(k.rows) || j < len(ch) {
		var e *sessionRow
		c := -1 // < 0: the row comes first, > 0: the change, 0: the row changes
		switch {
		case i == len(k.rows):
			c = 1
		case j < len(ch):
			c = compareSession(k.rows[i].t, k.rows[i].key, ch[j].t, ch[j].key)
		}
		if c < 0 {
			merged = append(merged, k.rows[i])
			i++
			continue
		}
		if c == 0 {
			e = k.rows[i]
			i++
		} else {
			e = &sessionRow{t: ch[j].t, key: ch[j].key, row: ch[j].row, part: k}
			s.rows++
		}
		for ; j < len(ch) && ch[j].t == e.t && ch[j].key == e.key; j++ {
			e.n += ch[j].w
		}
		if e.n == e.out && c == 0 {
			merged = append(merged, e)
			continue // the epoch's changes of the row cancelled out
		}
		changed = append(changed, e.t)
		s.markUnsaved(e)
		if e.n == 0 {
			if e.out != 0 {
				if err := s.emit(ctx, e, e.start, e.end, -e.out); err != nil {
					return err
				}
			}
			s.rows--
			continue
		}
		merged = append(merged, e)
	}
	clear(ch)
	k.pending = ch[:0]
	// merged becomes the key's rows, and its rows the next scratch.
	k.rows, s.merged = merged, k.rows
	clear(s.merged)
	s.changed = changed
	return s.reassign(ctx, k.rows, changed)
}

// reassign recomputes the sessions around the changed times (ascending)
// and emits the rows whose bounds or multiplicity changed. Around a time
// t is the chain of rows less than gap apart that reaches t: the sessions
// t's change can have grown, merged or split, and nothing else.
func (s *SessionAssign) reassign(ctx context.Context, rows []*sessionRow, changed []int64) error {
	spans := s.spans[:0]
	for _, t := range changed {
		i, _ := slices.BinarySearchFunc(rows, t, func(e *sessionRow, t int64) int { return cmp.Compare(e.t, t) })
		if n := len(spans); n > 0 && i-1 >= spans[n-1][0] && i < spans[n-1][1] {
			continue // inside the last span, which is closed under the chain
		}
		lo, cur := i, t
		for lo > 0 && cur-rows[lo-1].t < s.gap {
			lo--
			cur = rows[lo].t
		}
		hi := i
		for cur = t; hi < len(rows) && rows[hi].t-cur < s.gap; hi++ {
			cur = rows[hi].t
		}
		if n := len(spans); n > 0 && lo <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], hi)
			continue
		}
		spans = append(spans, [2]int{lo, hi})
	}
	s.spans = spans
	for _, sp := range spans {
		for a := sp[0]; a < sp[1]; {
			b := s.sessionEnd(rows, a)
			start, end := rows[a].t, rows[b-1].t+s.gap
			for _, e := range rows[a:b] {
				if err := s.rebound(ctx, e, start, end); err != nil {
					return err
				}
			}
			a = b
		}
	}
	return nil
}

// sessionEnd returns the end (exclusive) of the session that starts at
// rows[a].
func (s *SessionAssign) sessionEnd(rows []*sessionRow, a int) int {
	b := a + 1
	for b < len(rows) && rows[b].t-rows[b-1].t < s.gap {
		b++
	}
	return b
}

// rebound emits what moves e from what it was emitted with to its
// multiplicity in session [start, end).
func (s *SessionAssign) rebound(ctx context.Context, e *sessionRow, start, end int64) error {
	if e.out != 0 && e.start == start && e.end == end {
		if e.n != e.out {
			if err := s.emit(ctx, e, start, end, e.n-e.out); err != nil {
				return err
			}
		}
	} else {
		if e.out != 0 {
			if err := s.emit(ctx, e, e.start, e.end, -e.out); err != nil {
				return err
			}
		}
		if err := s.emit(ctx, e, start, end, e.n); err != nil {
			return err
		}
	}
	e.out, e.start, e.end = e.n, start, end
	return nil
}

func (s *SessionAssign) emit(ctx context.Context, e *sessionRow, start, end, w int64) error {
	n := s.width + 2
	if len(s.slab) < n {
		s.slab = make([]types.Datum, n*BatchSize)
	}
	out := types.Row(s.slab[:n:n])
	s.slab = s.slab[n:]
	copy(out, e.row)
	t := e.row[s.timeCol]
	out[s.width], out[s.width+1] = timeLike(t, start), timeLike(t, end)
	return s.send(ctx, out, w)
}

// requeue files k in closing by the end of its first session, or drops
// it when it has no rows left.
func (s *SessionAssign) requeue(k *sessionKey) {
	if len(k.rows) == 0 {
		if k.at >= 0 {
			heap.Remove(&s.closing, k.at)
			k.at = -1
		}
		delete(s.keys, k.key)
		return
	}
	end := k.rows[s.sessionEnd(k.rows, 0)-1].t + s.gap
	switch {
	case k.at < 0:
		k.closeAt = end
		heap.Push(&s.closing, k)
	case end != k.closeAt:
		k.closeAt = end
		heap.Fix(&s.closing, k.at)
	}
}

// closeSessions forgets the sessions the watermark closed: per key a
// prefix of its rows, as sessions end in the order they start.
func (s *SessionAssign) closeSessions() {
	w := s.wm.Micros()
	for len(s.closing) > 0 && s.closing[0].closeAt <= w {
		k := s.closing[0]
		cut := 0
		for cut < len(k.rows) {
			b := s.sessionEnd(k.rows, cut)
			if k.rows[b-1].t+s.gap > w {
				break
			}
			cut = b
		}
		for _, e := range k.rows[:cut] {
			e.n = 0
			s.markUnsaved(e)
		}
		s.rows -= int64(cut)
		n := copy(k.rows, k.rows[cut:])
		clear(k.rows[n:])
		k.rows = k.rows[:n]
		s.requeue(k)
	}
}

func (s *SessionAssign) markUnsaved(e *sessionRow) {
	if s.track && !e.unsaved {
		e.unsaved = true
		s.unsaved = append(s.unsaved, e)
	}
}

// TrackState implements Stateful.
func (s *SessionAssign) TrackState() { s.track = true }

// SaveDirty implements Stateful. Key: the session key length-prefixed,
// then the row's key. Value: the row and its multiplicity (0: deleted).
// Bounds are not saved: after a Flush every row was emitted with its
// session's, which Restore recomputes.
func (s *SessionAssign) SaveDirty(put func(key, value []byte) error) error {
	for _, e := range s.unsaved {
		e.unsaved = false
		var v []byte
		if e.n != 0 {
			v = appendStateInt(appendStateRow(s.saveBuf[:0], e.row), e.n)
			s.saveBuf = v
		}
		s.keyBuf = binary.AppendUvarint(s.keyBuf[:0], uint64(len(e.part.key)))
		s.keyBuf = append(append(s.keyBuf, e.part.key...), e.key...)
		if err := put(s.keyBuf, v); err != nil {
			return err
		}
	}
	clear(s.unsaved)
	s.unsaved = s.unsaved[:0]
	return nil
}

// Restore implements Stateful; FinishRestore orders each key's rows.
func (s *SessionAssign) Restore(key, value []byte) error {
	pk, err := lengthPrefixedKey(key)
	if err != nil {
		return err
	}
	rk := key[uvarintLen(len(pk))+len(pk):]
	r := stateReader{b: value}
	row, n := r.row(), r.int()
	if err := r.done(); err != nil {
		return err
	}
	if len(row) != s.width || n == 0 || s.timeCol >= len(row) || row[s.timeCol].IsNull() {
		return errStateCorrupt
	}
	k := s.keys[string(pk)]
	if k == nil {
		k = &sessionKey{key: string(pk), at: -1}
		s.keys[k.key] = k
	}
	k.rows = append(k.rows, &sessionRow{t: row[s.timeCol].Micros(), key: string(rk), row: row, n: n, part: k})
	s.rows++
	return nil
}

func uvarintLen(n int) int { return len(binary.AppendUvarint(nil, uint64(n))) }

// FinishRestore implements RestoreFinisher: every restored row was
// emitted with its session's bounds.
func (s *SessionAssign) FinishRestore() error {
	for _, k := range s.keys {
		slices.SortFunc(k.rows, func(a, b *sessionRow) int { return compareSession(a.t, a.key, b.t, b.key) })
		for a := 0; a < len(k.rows); {
			b := s.sessionEnd(k.rows, a)
			start, end := k.rows[a].t, k.rows[b-1].t+s.gap
			for _, e := range k.rows[a:b] {
				e.out, e.start, e.end = e.n, start, end
			}
			a = b
		}
		s.requeue(k)
	}
	return nil
}

func (s *SessionAssign) String() string { return s.desc }
