package executor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

const secondUs = int64(1_000_000)

// newIntervalJoin joins (key, ts) with (key, ts) on key and
// lo <= right.ts - left.ts <= hi (microseconds), as the planner builds it:
// the bound is the residual, and the Interval lets rows expire.
func newIntervalJoin(workers int, kind JoinKind, lo, hi int64) (Operator, error) {
	return Partition(workers, func() (Operator, error) {
		res := func(r types.Row) (types.Datum, error) {
			d := r[3].Micros() - r[1].Micros()
			return types.NewBool(lo <= d && d <= hi), nil
		}
		j := NewHashJoin(kind, colEvals([]int{0}), colEvals([]int{0}), 2, 2, res, "")
		j.SetInterval(Interval{LeftTime: 1, RightTime: 1, Lo: lo, Hi: hi, HasLo: true, HasHi: true})
		return j, nil
	})
}

func tsRow(key string, us int64) types.Row {
	return types.Row{types.NewText(key), types.NewTimestamp(us)}
}

// wmCollector records changes and the watermarks that reach it.
type wmCollector struct {
	collector
	wms []string
}

func (c *wmCollector) Watermark(_ context.Context, _, col int, v types.Datum) error {
	c.wms = append(c.wms, fmt.Sprintf("#%d %d", col, v.Micros()))
	return nil
}

func pushRows(t *testing.T, op Operator, port int, rows ...types.Row) {
	t.Helper()
	b := &Batch{}
	for _, r := range rows {
		b.Append(r, 1)
	}
	if err := op.Push(context.Background(), port, b); err != nil {
		t.Fatal(err)
	}
}

func pushWatermark(t *testing.T, op Operator, port int, us int64) {
	t.Helper()
	if err := op.(WatermarkTaker).Watermark(context.Background(), port, 1, types.NewTimestamp(us)); err != nil {
		t.Fatal(err)
	}
}

// saveInto applies what op saves to saved, as storage would.
func saveInto(t *testing.T, op Stateful, saved map[string][]byte) {
	t.Helper()
	if err := op.SaveDirty(func(k, v []byte) error {
		if v == nil {
			delete(saved, string(k))
		} else {
			saved[string(k)] = slices.Clone(v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func flushOp(t *testing.T, op Operator) {
	t.Helper()
	if err := op.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestIntervalJoinBoundary checks that a row stays exactly as long as a
// row of the other side can match it: a left row until the right
// watermark is above its time plus the upper bound, a right row until the
// left watermark is above its time less the lower bound; and the
// watermarks passed on.
func TestIntervalJoinBoundary(t *testing.T) {
	op, err := newIntervalJoin(1, JoinInner, -2*secondUs, 10*secondUs)
	if err != nil {
		t.Fatal(err)
	}
	j := op.(*HashJoin)
	j.TrackState()
	sink := &wmCollector{}
	j.SetOutput(Output{To: sink})
	saved := map[string][]byte{}
	save := func() { saveInto(t, j, saved) }

	pushRows(t, j, 0, tsRow("a", 100*secondUs))
	pushWatermark(t, j, 1, 110*secondUs) // 100 + 10 is not below 110: l stays
	pushWatermark(t, j, 0, 90*secondUs)
	flushOp(t, j)
	pushRows(t, j, 1, tsRow("a", 110*secondUs)) // the last right time l matches
	flushOp(t, j)
	save()
	if got, want := sink.lines, []string{"+ a 2000-01-01 00:01:40 a 2000-01-01 00:01:50"}; !slices.Equal(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	// Output watermarks: left time min(90, 110-10) = 90; right time
	// min(110, 90-2) = 88.
	if got, want := sink.wms, []string{fmt.Sprintf("#1 %d", 90*secondUs), fmt.Sprintf("#3 %d", 88*secondUs)}; !slices.Equal(got, want) {
		t.Fatalf("watermarks %v, want %v", got, want)
	}
	if j.CachedKeys() != 2 || len(saved) != 2 {
		t.Fatalf("%d keys in memory, %d saved; want 2 and 2", j.CachedKeys(), len(saved))
	}

	pushWatermark(t, j, 1, 110*secondUs+1) // now no right row can match l
	flushOp(t, j)
	save()
	if j.CachedKeys() != 1 || len(saved) != 1 {
		t.Fatalf("after the right watermark: %d keys in memory, %d saved; want 1 and 1", j.CachedKeys(), len(saved))
	}
	// The right row at 110 matches left rows up to 112.
	pushWatermark(t, j, 0, 112*secondUs)
	flushOp(t, j)
	pushRows(t, j, 0, tsRow("a", 112*secondUs))
	flushOp(t, j)
	if got := sink.lines[len(sink.lines)-1]; got != "+ a 2000-01-01 00:01:52 a 2000-01-01 00:01:50" {
		t.Fatalf("last match %q", got)
	}
	pushWatermark(t, j, 0, 112*secondUs+1)
	flushOp(t, j)
	save()
	// The left row at 112 stays (the right watermark is 110), the right
	// row at 110 went.
	if j.CachedKeys() != 1 || len(saved) != 1 {
		t.Fatalf("after the left watermark: %d keys, %d saved; want 1 and 1", j.CachedKeys(), len(saved))
	}
	pushWatermark(t, j, 1, 200*secondUs)
	flushOp(t, j)
	save()
	if j.CachedKeys() != 0 || j.CachedBytes() != 0 || len(saved) != 0 {
		t.Fatalf("at the end: %d keys, %d bytes, %d saved; want none", j.CachedKeys(), j.CachedBytes(), len(saved))
	}
}

// TestIntervalJoinRetraction checks that an outer interval join refuses a
// retraction with 0A000 (it may have emitted the row null-padded already).
func TestIntervalJoinRetraction(t *testing.T) {
	op, _ := newIntervalJoin(1, JoinLeft, 0, secondUs)
	op.SetOutput(Output{To: &collector{}})
	b := &Batch{}
	b.Append(tsRow("a", 1), -1)
	err := op.Push(context.Background(), 0, b)
	var se *sqlerr.Error
	if !errors.As(err, &se) || se.Code != sqlerr.FeatureNotSupported {
		t.Fatalf("retraction: %v, want 0A000", err)
	}
}

// TestIntervalJoinFollowsRetractions runs out-of-order streams with
// retractions (of rows at or after their side's watermark, as a
// watermark promises) through inner interval joins, one and four shards,
// and checks that the net output is the join of what remains, while the
// state still ends empty.
func TestIntervalJoinFollowsRetractions(t *testing.T) {
	const lo, hi = -3 * secondUs, 7 * secondUs
	for _, workers := range []int{1, 4} {
		rng := rand.New(rand.NewPCG(uint64(workers), 11))
		epochs := intervalStream(rng, 60, 40)
		op, err := newIntervalJoin(workers, JoinInner, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		sink := &collector{}
		op.SetOutput(Output{To: sink})
		live := map[intervalEvent]int{}
		maxSeen := [2]int64{}
		wm := [2]int64{}
		for _, ep := range epochs {
			for side := range 2 {
				b := &Batch{}
				for _, e := range ep {
					if e.side == side {
						b.Append(tsRow(e.key, e.t), 1)
						live[e]++
						maxSeen[side] = max(maxSeen[side], e.t)
					}
				}
				// Retract a few live rows of this side the watermark has
				// not passed.
				for e, n := range live {
					if e.side == side && n > 0 && e.t >= wm[side] && rng.IntN(8) == 0 {
						b.Append(tsRow(e.key, e.t), -1)
						live[e]--
					}
				}
				if b.Len() > 0 {
					if err := op.Push(context.Background(), side, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			for side := range 2 {
				if maxSeen[side] > 0 {
					wm[side] = maxSeen[side] - 8*secondUs
					pushWatermark(t, op, side, wm[side])
				}
			}
			flushOp(t, op)
		}
		want := map[string]int{}
		for l, ln := range live {
			for r, rn := range live {
				if l.side == 0 && r.side == 1 && l.key == r.key && lo <= r.t-l.t && r.t-l.t <= hi && ln > 0 && rn > 0 {
					want[formatChange(concatRows(tsRow(l.key, l.t), tsRow(r.key, r.t)), 1)] += ln * rn
				}
			}
		}
		got := map[string]int{}
		for _, line := range sink.lines {
			if line[0] == '-' {
				got["+"+line[1:]]--
			} else {
				got[line]++
			}
		}
		for k, n := range got {
			if n == 0 {
				delete(got, k)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("workers %d: %d rows, want %d", workers, len(got), len(want))
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("workers %d: %s %d times, want %d", workers, k, got[k], n)
			}
		}
		for side := range 2 {
			pushWatermark(t, op, side, maxSeen[side]+hi-lo+secondUs)
		}
		flushOp(t, op)
		if n := op.(CachedState).CachedKeys(); n != 0 {
			t.Fatalf("workers %d: %d keys at the end", workers, n)
		}
	}
}

// intervalEvent is a row of one side.
type intervalEvent struct {
	side int
	key  string
	t    int64
}

// intervalStream makes epochs of rows of both sides in about time order
// (each up to 4 s early or late: a row is never more than 8 s before the
// largest time seen, so never below the watermark 8 s behind it).
func intervalStream(rng *rand.Rand, epochs, perEpoch int) [][]intervalEvent {
	var out [][]intervalEvent
	now := int64(1_000) * secondUs
	for range epochs {
		var ep []intervalEvent
		for range perEpoch {
			now += rng.Int64N(secondUs / 2)
			ep = append(ep, intervalEvent{
				side: rng.IntN(2),
				key:  fmt.Sprintf("k%d", rng.IntN(7)),
				t:    now - 4*secondUs + rng.Int64N(8*secondUs),
			})
		}
		out = append(out, ep)
	}
	return out
}

// TestIntervalJoinReference runs out-of-order streams through interval
// joins (inner and outer, one and four shards, restored from saved state
// in the middle) and checks their output against every pair that
// satisfies the condition and, for an outer join, the null-padded rows
// of those that match none (emitted as they expire: the output only
// inserts), and that the state stays bounded and ends empty.
func TestIntervalJoinReference(t *testing.T) {
	const lo, hi = -3 * secondUs, 7 * secondUs
	for _, tc := range []struct {
		kind    JoinKind
		workers int
	}{{JoinInner, 1}, {JoinInner, 4}, {JoinLeft, 1}, {JoinRight, 4}, {JoinFull, 1}, {JoinFull, 4}} {
		kind, workers := tc.kind, tc.workers
		t.Run(fmt.Sprintf("%s/workers=%d", kind, workers), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(workers), 7))
			epochs := intervalStream(rng, 60, 40)
			var all []intervalEvent
			want := map[string]int{}
			for _, ep := range epochs {
				all = append(all, ep...)
			}
			matched := map[intervalEvent]bool{}
			for _, l := range all {
				for _, r := range all {
					if l.side == 0 && r.side == 1 && l.key == r.key && lo <= r.t-l.t && r.t-l.t <= hi {
						want[formatChange(concatRows(tsRow(l.key, l.t), tsRow(r.key, r.t)), 1)]++
						matched[l], matched[r] = true, true
					}
				}
			}
			nulls := types.Row{types.Null, types.Null}
			for _, e := range all {
				switch {
				case matched[e]:
				case e.side == 0 && (kind == JoinLeft || kind == JoinFull):
					want[formatChange(concatRows(tsRow(e.key, e.t), nulls), 1)]++
				case e.side == 1 && (kind == JoinRight || kind == JoinFull):
					want[formatChange(concatRows(nulls, tsRow(e.key, e.t)), 1)]++
				}
			}
			saved := map[string][]byte{}
			build := func() (Operator, *collector) {
				op, err := newIntervalJoin(workers, kind, lo, hi)
				if err != nil {
					t.Fatal(err)
				}
				op.(Stateful).TrackState()
				sink := &collector{}
				op.SetOutput(Output{To: sink})
				return op, sink
			}
			op, sink := build()
			got := map[string]int{}
			maxSeen := [2]int64{}
			var peak int64
			for i, ep := range epochs {
				for side := range 2 {
					var rows []types.Row
					for _, e := range ep {
						if e.side == side {
							rows = append(rows, tsRow(e.key, e.t))
							maxSeen[side] = max(maxSeen[side], e.t)
						}
					}
					pushRows(t, op, side, rows...)
				}
				for side := range 2 {
					if maxSeen[side] > 0 {
						pushWatermark(t, op, side, maxSeen[side]-8*secondUs)
					}
				}
				flushOp(t, op)
				saveInto(t, op.(Stateful), saved)
				peak = max(peak, op.(CachedState).CachedBytes())
				for _, l := range sink.lines {
					got[l]++
				}
				sink.lines = nil
				if i == len(epochs)/2 {
					// A restart: the saved state, loaded whole; the
					// watermarks come again with the next epoch.
					if !LoadsWhole(op.(Stateful)) {
						t.Fatal("an interval join must load its state whole")
					}
					op, sink = build()
					for k, v := range saved {
						if err := op.(Stateful).Restore([]byte(k), v); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			// Each side keeps about 30 s of rows (the bound, the
			// watermark's delay and an epoch): some 250 of the 2400
			// rows pushed, at 184 bytes or more each.
			if peak > 600*184 {
				t.Errorf("peak %d bytes in memory", peak)
			}
			for side := range 2 {
				pushWatermark(t, op, side, maxSeen[side]+hi-lo+secondUs)
			}
			flushOp(t, op)
			saveInto(t, op.(Stateful), saved)
			for _, l := range sink.lines {
				got[l]++
			}
			if len(got) != len(want) {
				t.Errorf("%d distinct rows, want %d", len(got), len(want))
			}
			for k, n := range got {
				if want[k] != n {
					t.Errorf("%s: %d times, want %d", k, n, want[k])
				}
			}
			c := op.(CachedState)
			if c.CachedKeys() != 0 || c.CachedBytes() != 0 || len(saved) != 0 {
				t.Fatalf("after the watermarks passed everything: %d keys, %d bytes, %d saved", c.CachedKeys(), c.CachedBytes(), len(saved))
			}
		})
	}
}

// TestIntervalJoinOnKeyRetractions: two inputs that retract (windowed
// aggregates updating their windows) joined on their window: the join
// follows their retractions exactly, and drops a window's rows once both
// watermarks passed it, emitting nothing for them.
func TestIntervalJoinOnKeyRetractions(t *testing.T) {
	ctx := context.Background()
	j := NewHashJoin(JoinInner, colEvals([]int{0}), colEvals([]int{0}), 2, 2, nil, "")
	j.SetInterval(Interval{LeftTime: 0, RightTime: 0, HasLo: true, HasHi: true, OnKey: true})
	out := NewCollect()
	j.SetOutput(Output{To: out})
	ts := func(s int64) types.Datum { return types.NewTimestamp(s * 1_000_000) }
	row := func(s, n int64) types.Row { return types.Row{ts(s), types.NewInt64(n)} }
	push := func(port int, r types.Row, w int64) {
		t.Helper()
		if err := j.Push(ctx, port, &Batch{Rows: []types.Row{r}, Weights: []int64{w}}); err != nil {
			t.Fatal(err)
		}
	}
	push(0, row(10, 1), 1)
	push(1, row(10, 5), 1)
	push(0, row(10, 1), -1) // the left window's count changes
	push(0, row(10, 2), 1)
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b := out.Take()
	if b.Len() != 1 || b.Weights[0] != 1 || b.Rows[0][1].Int() != 2 || b.Rows[0][3].Int() != 5 {
		t.Fatalf("joined %v %v", b.Rows, b.Weights)
	}
	// Both watermarks pass window 10: its rows go, and nothing is emitted.
	for port := range 2 {
		if err := j.Watermark(ctx, port, 0, ts(11)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if b := out.Take(); b.Len() != 0 {
		t.Fatalf("expiry emitted %v", b.Rows)
	}
	if n := j.CachedKeys(); n != 0 {
		t.Fatalf("%d keys kept after both watermarks passed", n)
	}
}
