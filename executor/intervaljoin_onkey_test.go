package executor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// weightSink sums the weights it receives by row.
type weightSink struct{ sum map[string]int64 }

func (s *weightSink) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		k := formatChange(r, 1)
		if s.sum[k] += b.Weights[i]; s.sum[k] == 0 {
			delete(s.sum, k)
		}
	}
	return nil
}
func (s *weightSink) Flush(context.Context) error { return nil }
func (s *weightSink) SetOutput(Output)            {}
func (s *weightSink) String() string              { return "weightSink" }

// onKeyRow is a row of a side: its window (the key) and a value.
type onKeyRow struct{ t, n int64 }

func (r onKeyRow) row() types.Row { return types.Row{types.NewTimestamp(r.t), types.NewInt64(r.n)} }

// TestIntervalJoinOnKeyReference checks Interval.OnKey against a brute
// force join: two inputs that insert and retract (also several copies of
// a row), each only at or above its own watermark, with watermarks that
// run apart so that rows expire on one side while the other still
// retracts them; after every epoch the output summed so far is the join
// of the inputs summed so far, and once both watermarks passed every row
// the state is empty. One and three shards, and a restore from the saved
// state in the middle.
func TestIntervalJoinOnKeyReference(t *testing.T) {
	for _, workers := range []int{1, 3} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("workers=%d/seed=%d", workers, seed), func(t *testing.T) {
				onKeyReference(t, workers, seed)
			})
		}
	}
}

func onKeyReference(t *testing.T, workers int, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 11))
	saved := map[string][]byte{}
	sink := &weightSink{sum: map[string]int64{}}
	build := func() Operator {
		op, err := Partition(workers, func() (Operator, error) {
			j := NewHashJoin(JoinInner, colEvals([]int{0}), colEvals([]int{0}), 2, 2, nil, "")
			j.SetInterval(Interval{LeftTime: 0, RightTime: 0, HasLo: true, HasHi: true, OnKey: true})
			return j, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		op.(Stateful).TrackState()
		op.SetOutput(Output{To: sink})
		return op
	}
	op := build()
	have := [2]map[onKeyRow]int64{{}, {}} // each side's rows so far
	wm := [2]int64{}                      // each side's watermark, in seconds
	const epochs = 80
	expiredRetracted := 0
	for e := range epochs {
		for side := range 2 {
			b := &Batch{}
			for range rng.IntN(6) {
				// Mostly inserts; a retraction of a row the side has at or
				// above its watermark, wherever the other's is.
				var live []onKeyRow
				for r, w := range have[side] {
					if r.t >= wm[side] && w > 0 {
						live = append(live, r)
					}
				}
				if len(live) > 0 && rng.IntN(3) == 0 {
					r := live[rng.IntN(len(live))]
					if r.t < wm[1-side] {
						expiredRetracted++ // gone from its side's state
					}
					have[side][r]--
					if have[side][r] == 0 {
						delete(have[side], r)
					}
					b.Append(types.Row{types.NewTimestamp(r.t * secondUs), types.NewInt64(r.n)}, -1)
					continue
				}
				r := onKeyRow{t: wm[side] + rng.Int64N(6), n: rng.Int64N(3)}
				have[side][r]++
				b.Append(types.Row{types.NewTimestamp(r.t * secondUs), types.NewInt64(r.n)}, 1)
			}
			if err := op.Push(ctx, side, b); err != nil {
				t.Fatal(err)
			}
		}
		// The watermarks run apart: one side is ahead for a while.
		for side := range 2 {
			if rng.IntN(2) == 0 {
				wm[side] += rng.Int64N(3)
			}
			if err := op.(WatermarkTaker).Watermark(ctx, side, 0, types.NewTimestamp(wm[side]*secondUs)); err != nil {
				t.Fatal(err)
			}
		}
		if err := op.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		saveInto(t, op.(Stateful), saved)
		want := map[string]int64{}
		for l, wl := range have[0] {
			for r, wr := range have[1] {
				if l.t == r.t {
					want[formatChange(concatRows(types.Row{types.NewTimestamp(l.t * secondUs), types.NewInt64(l.n)}, types.Row{types.NewTimestamp(r.t * secondUs), types.NewInt64(r.n)}), 1)] += wl * wr
				}
			}
		}
		if len(want) != len(sink.sum) {
			t.Fatalf("epoch %d: %d rows, want %d:\n%v\nwant\n%v", e, len(sink.sum), len(want), sink.sum, want)
		}
		for k, w := range want {
			if sink.sum[k] != w {
				t.Fatalf("epoch %d: %s: %d, want %d (watermarks %v)", e, k, sink.sum[k], w, wm)
			}
		}
		if e == epochs/2 {
			op = build()
			for k, v := range saved {
				if err := op.(Stateful).Restore([]byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			// The watermarks come again with the next epoch, as in a
			// restart.
		}
	}
	if expiredRetracted == 0 {
		t.Fatal("no retraction of a row expired on its own side: the test proves little")
	}
	for side := range 2 {
		if err := op.(WatermarkTaker).Watermark(ctx, side, 0, types.NewTimestamp((wm[0]+wm[1]+100)*secondUs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := op.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	saveInto(t, op.(Stateful), saved)
	if c := op.(CachedState); c.CachedKeys() != 0 || len(saved) != 0 {
		t.Fatalf("after the watermarks passed everything: %d keys, %d saved", c.CachedKeys(), len(saved))
	}
}
