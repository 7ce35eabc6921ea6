package executor

import (
	"context"
	"fmt"
	"math"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Interval bounds the event times of an interval join's matches:
// Lo <= r[RightTime] - l[LeftTime] <= Hi for a left row l and a right row
// r, in microseconds, both bounds inclusive (timestamps count whole
// microseconds, so the planner makes a strict bound inclusive by one).
// HasLo or HasHi false: that side is unbounded. The bound is also part of
// the join's residual predicate, which decides the matches; the join uses
// it only to let go of rows that no later row can match.
type Interval struct {
	LeftTime, RightTime int
	Lo, Hi              int64
	HasLo, HasHi        bool
	// OnKey: the time columns are a key of the join (equal on both sides,
	// Lo = Hi = 0), as when two windowed aggregates join on their window.
	//
	// An inner interval join follows retractions of either input: a
	// watermark promises that no later change of its side, retractions
	// included, has a time below it. A row y of one side goes only once
	// no row of the other side at or after that side's watermark can
	// match it; a retraction of a row x of the other side comes only
	// while x is at or after its side's watermark, so every y that x
	// matched is still held, and the retraction emits what x's insertion
	// did. (If x itself already went, its retraction is kept as a
	// negative entry until the next expiry drops it.) An outer join emits
	// a row's null-padded row when the row expires, which a retraction
	// could not undo: it needs inputs that only insert.
	OnKey bool
}

// intervalState is what a join with an Interval keeps to expire its rows.
//
// A left row l can match only right rows with r.t <= l.t + Hi; once the
// right watermark wm[1] is above l.t + Hi, no later right row can, so l
// goes (l.t < wm[1] - Hi). Likewise a right row r matches only left rows
// with l.t <= r.t - Lo, and goes once r.t < wm[0] + Lo. Expiry is not
// deletion: it emits nothing, which is why both inputs must only insert
// (a later retraction of a row could not find the matches that expired).
//
// In an outer interval join a preserved side's row that expires without a
// match emits its null-padded row then, and a row never emits one before:
// the output only inserts, and once the watermarks passed every row it is
// the outer join's. A preserved side needs the bound that expires it.
//
// Watermarks passed on: a later output row pairs a later left row
// (l.t >= wm[0]) or a later right row (r.t >= wm[1], matched only by
// l.t >= r.t - Hi), so the output's left time is at least
// min(wm[0], wm[1] - Hi); symmetrically its right time is at least
// min(wm[1], wm[0] + Lo). A side without its bound gets none.
type intervalState struct {
	Interval
	wm     [2]types.Datum // the watermark on each side's time column
	due    bool           // wm advanced since the last Flush
	passed [2]types.Datum // the output watermarks passed on (left, right time)
	// byTime holds each side's entries by time: a min-heap, so that
	// expiry pops what it drops and never scans the rest. An entry whose
	// weight went to zero stays until popped.
	byTime [2]timeHeap
}

// SetInterval makes j an interval join of two append-only inputs (see
// intervalState): it takes watermarks on the time columns of iv and drops
// the rows no later row of the other side can match. An inner or outer
// hash join with keys can be one, an outer one only with the bounds that
// expire its preserved sides; call it before the first Push.
func (j *HashJoin) SetInterval(iv Interval) {
	if j.kind > JoinFull || j.temporal || len(j.keys[0]) == 0 ||
		j.preserved(0) && !iv.HasHi || j.preserved(1) && !iv.HasLo {
		panic("executor: an interval join is a hash join with keys, and bounds that expire its preserved sides")
	}
	j.iv = &intervalState{Interval: iv}
}

// timeCol is side's time column.
func (s *intervalState) timeCol(side int) int {
	if side == 0 {
		return s.LeftTime
	}
	return s.RightTime
}

// errIntervalRetraction: the planner admits only inputs that insert, and
// a retraction cannot be joined with the rows that expired.
var errIntervalRetraction = sqlerr.Unsupported("an interval join cannot take a deletion or an update of its inputs").
	WithDetail("An interval join drops rows once the watermarks pass them, so it cannot retract what they matched.")

// Watermark implements WatermarkTaker: an interval join takes the
// watermarks of its time columns and acts on them at Flush; a plain join
// stops every watermark.
func (j *HashJoin) Watermark(ctx context.Context, port, col int, v types.Datum) error {
	if j.temporal && port == 0 {
		// A temporal join's output rows are the stream's rows of this
		// epoch and later, joined (at Flush, before what this reaches
		// acts on it): their stream columns keep its watermarks.
		return j.out.Watermark(ctx, col, v)
	}
	s := j.iv
	if s == nil || col != s.timeCol(port) || !advances(s.wm[port], v) {
		return nil
	}
	s.wm[port], s.due = v, true
	return nil
}

// loadsWhole: an interval join's state is bounded by the watermarks, and
// expiry needs every row's time in memory.
func (j *HashJoin) loadsWhole() bool { return j.iv != nil }

// trackTime files a new entry under its time for expiry.
func (s *intervalState) trackTime(e *joinEntry) {
	t := e.row[s.timeCol(int(e.side))]
	if !t.IsNull() {
		s.byTime[e.side].push(timedEntry{t: t.Micros(), e: e})
	}
}

// expireInterval drops the rows the watermarks passed and passes on the
// output's watermarks (at Flush, after the epoch's output).
func (j *HashJoin) expireInterval(ctx context.Context) error {
	s := j.iv
	if !s.due {
		return nil
	}
	s.due = false
	if s.HasHi && !s.wm[1].IsNull() {
		if err := j.expire(ctx, 0, subSat(s.wm[1].Micros(), s.Hi)); err != nil {
			return err
		}
	}
	if s.HasLo && !s.wm[0].IsNull() {
		if err := j.expire(ctx, 1, addSat(s.wm[0].Micros(), s.Lo)); err != nil {
			return err
		}
	}
	if err := j.drain(ctx); err != nil {
		return err
	}
	if s.wm[0].IsNull() || s.wm[1].IsNull() {
		return nil
	}
	l, r := s.wm[0].Micros(), s.wm[1].Micros()
	if s.HasHi {
		if err := j.passTime(ctx, 0, s.LeftTime, s.wm[0], min(l, subSat(r, s.Hi))); err != nil {
			return err
		}
	}
	if s.HasLo {
		return j.passTime(ctx, 1, j.widths[0]+s.RightTime, s.wm[1], min(r, addSat(l, s.Lo)))
	}
	return nil
}

// passTime passes on watermark us on output column col (of the kind of
// like), if it advances what was passed for side's time.
func (j *HashJoin) passTime(ctx context.Context, side, col int, like types.Datum, us int64) error {
	v := types.NewTimestamp(us)
	if like.Kind() == types.KindTimestampTZ {
		v = types.NewTimestampTZ(us)
	}
	if !advances(j.iv.passed[side], v) {
		return nil
	}
	j.iv.passed[side] = v
	return j.out.Watermark(ctx, col, v)
}

// expire drops side's entries whose time is below line, emitting the
// null-padded rows of those of a preserved side that matched nothing.
func (j *HashJoin) expire(ctx context.Context, side int, line int64) error {
	h := &j.iv.byTime[side]
	for len(*h) > 0 && (*h)[0].t < line {
		e := h.pop().e
		if e.w == 0 {
			continue // retracted before
		}
		bk := j.sides[side][e.bkey]
		k := -1
		if bk.pos != nil {
			j.rowBuf = appendRowKey(j.rowBuf[:0], e.row)
			k = bk.pos[string(j.rowBuf)]
		} else {
			for p, x := range bk.entries {
				if x == e {
					k = p
					break
				}
			}
		}
		if k < 0 || bk.entries[k] != e {
			panic(fmt.Sprintf("executor: interval join entry not in its bucket (side %d)", side))
		}
		if e.matches == 0 && j.preserved(side) {
			if err := j.send(ctx, j.padded(side, e.row), e.w); err != nil {
				return err
			}
		}
		e.w = 0
		j.touch(e)
		j.removeAt(side, bk, k)
	}
	return nil
}

func addSat(a, b int64) int64 {
	if c := a + b; (c > a) == (b > 0) {
		return c
	}
	if b > 0 {
		return math.MaxInt64
	}
	return math.MinInt64
}

func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		return math.MaxInt64
	}
	return addSat(a, -b)
}

// timedEntry is an entry filed under its time t.
type timedEntry struct {
	t int64
	e *joinEntry
}

// timeHeap is a min-heap of entries by time (container/heap would box
// every entry pushed).
type timeHeap []timedEntry

func (h *timeHeap) push(x timedEntry) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].t <= s[i].t {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *timeHeap) pop() timedEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = timedEntry{}
	s = s[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(s) {
			break
		}
		if c+1 < len(s) && s[c+1].t < s[c].t {
			c++
		}
		if s[i].t <= s[c].t {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}
