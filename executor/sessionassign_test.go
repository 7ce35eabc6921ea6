package executor

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// Session test rows are (user, minute): the time column counts minutes
// from the epoch, and changes print as "+ user t [start,end)" in minutes.
const sessionMinute = 60_000_000

func clickRow(user string, min int64) types.Row {
	return types.Row{types.NewText(user), types.NewTimestamp(min * sessionMinute)}
}

// sessionSink collects changes as text, and integrates them.
type sessionSink struct {
	lines []string
	sum   map[string]int64
	wms   []string
}

func (c *sessionSink) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		sign, w := "+", b.Weights[i]
		if w < 0 {
			sign, w = "-", -w
		}
		row := fmt.Sprintf("%s %d [%d,%d)", r[0].Str(), r[1].Micros()/sessionMinute, r[2].Micros()/sessionMinute, r[3].Micros()/sessionMinute)
		line := sign + " " + row
		if w != 1 {
			line += fmt.Sprintf(" x%d", w)
		}
		c.lines = append(c.lines, line)
		c.sum[row] += b.Weights[i]
		if c.sum[row] == 0 {
			delete(c.sum, row)
		}
	}
	return nil
}

func (c *sessionSink) Watermark(_ context.Context, _, col int, v types.Datum) error {
	c.wms = append(c.wms, fmt.Sprintf("#%d %dus", col, v.Micros()))
	return nil
}
func (c *sessionSink) Flush(context.Context) error { return nil }
func (c *sessionSink) SetOutput(Output)            {}
func (c *sessionSink) String() string              { return "sessions" }

// take returns the changes since the last take, sorted.
func (c *sessionSink) take() string {
	l := c.lines
	c.lines = nil
	slices.Sort(l)
	return strings.Join(l, "\n")
}

func newSessionTest(t *testing.T, gapMin int64) (*SessionAssign, *sessionSink) {
	t.Helper()
	s, err := NewSessionAssign(2, []int{0}, 1, gapMin*sessionMinute, "Session")
	if err != nil {
		t.Fatal(err)
	}
	sink := &sessionSink{sum: map[string]int64{}}
	s.SetOutput(Output{To: sink})
	return s, sink
}

func TestSessionAssignGrowMergeClose(t *testing.T) {
	ctx := context.Background()
	s, sink := newSessionTest(t, 30)
	s.TrackState()
	saved := mapState{}
	step := func(what string, rows []types.Row, wmMin int64, want string) {
		t.Helper()
		b := &Batch{}
		for _, r := range rows {
			b.Append(r, 1)
		}
		if err := s.Push(ctx, 0, b); err != nil {
			t.Fatal(err)
		}
		if wmMin >= 0 {
			if err := s.Watermark(ctx, 0, 1, types.NewTimestamp(wmMin*sessionMinute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := sink.take(); got != want {
			t.Fatalf("%s: got\n%s\nwant\n%s", what, got, want)
		}
		if err := s.SaveDirty(saved.keep); err != nil {
			t.Fatal(err)
		}
	}
	step("two sessions of a", []types.Row{clickRow("a", 0), clickRow("a", 70), clickRow("b", 10)}, -1,
		"+ a 0 [0,30)\n+ a 70 [70,100)\n+ b 10 [10,40)")
	step("a grows", []types.Row{clickRow("a", 20)}, -1,
		"+ a 0 [0,50)\n+ a 20 [0,50)\n- a 0 [0,30)")
	step("out of order, a row less than the gap from both merges them", []types.Row{clickRow("a", 45)}, -1,
		"+ a 0 [0,100)\n+ a 20 [0,100)\n+ a 45 [0,100)\n+ a 70 [0,100)\n- a 0 [0,50)\n- a 20 [0,50)\n- a 70 [70,100)")
	step("exactly the gap apart is another session", []types.Row{clickRow("b", 40)}, -1,
		"+ b 40 [40,70)")
	if s.StateRows() != 6 {
		t.Fatalf("state rows %d, want 6", s.StateRows())
	}
	// The watermark at 40 closes b's first session (ends at 40), not the
	// second; it passes on 40 min + 1 us on window_end.
	step("watermark closes b's first session", nil, 40, "")
	if s.StateRows() != 5 || sink.wms[len(sink.wms)-1] != fmt.Sprintf("#3 %dus", 40*sessionMinute+1) {
		t.Fatalf("after closing: %d rows, watermarks %v", s.StateRows(), sink.wms)
	}
	// A restart here resumes the same state.
	r, sink2 := newSessionTest(t, 30)
	for k, v := range saved {
		if err := r.Restore([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.FinishRestore(); err != nil {
		t.Fatal(err)
	}
	if r.StateRows() != 5 {
		t.Fatalf("restored %d rows, want 5", r.StateRows())
	}
	r.TrackState()
	// the coordinator hands a restarted dataflow its inputs' watermarks
	if err := r.Watermark(ctx, 0, 1, types.NewTimestamp(40*sessionMinute)); err != nil {
		t.Fatal(err)
	}
	s, sink = r, sink2
	step("a row below the watermark is late", []types.Row{clickRow("b", 39)}, 40, "")
	if s.Late() != 1 {
		t.Fatalf("late %d, want 1", s.Late())
	}
	step("after a restart, a grows from its restored bounds", []types.Row{clickRow("a", 95)}, -1,
		"+ a 0 [0,125)\n+ a 20 [0,125)\n+ a 45 [0,125)\n+ a 70 [0,125)\n+ a 95 [0,125)\n- a 0 [0,100)\n- a 20 [0,100)\n- a 45 [0,100)\n- a 70 [0,100)")
	step("everything closes", nil, 125, "")
	if s.StateRows() != 0 || len(s.keys) != 0 || len(saved) != 0 {
		t.Fatalf("state not empty: %d rows, %d keys, %d saved", s.StateRows(), len(s.keys), len(saved))
	}
}

func TestSessionAssignRetractionSplits(t *testing.T) {
	ctx := context.Background()
	s, sink := newSessionTest(t, 30)
	b := &Batch{}
	for _, m := range []int64{0, 20, 40} {
		b.Append(clickRow("a", m), 1)
	}
	if err := s.Push(ctx, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sink.take()
	b.Reset()
	b.Append(clickRow("a", 20), -1)
	b.Append(clickRow("a", 40), 1) // a second copy
	if err := s.Push(ctx, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := "+ a 0 [0,30)\n+ a 40 [40,70) x2\n- a 0 [0,70)\n- a 20 [0,70)\n- a 40 [0,70)"
	if got := sink.take(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if fmt.Sprint(sink.sum) != "map[a 0 [0,30):1 a 40 [40,70):2]" {
		t.Fatalf("integrated: %v", sink.sum)
	}
}

// keep is a put for SaveDirty: it applies the entry to m.
func (m mapState) keep(k, v []byte) error {
	if v == nil {
		delete(m, string(k))
	} else {
		m[string(k)] = slices.Clone(v)
	}
	return nil
}

// referenceSessions integrates what SESSION makes of live rows (user,
// minute) -> multiplicity.
func referenceSessions(live map[[2]int64]int64, gap int64) map[string]int64 {
	byUser := map[int64][]int64{}
	for r := range live {
		byUser[r[0]] = append(byUser[r[0]], r[1])
	}
	out := map[string]int64{}
	for u, ts := range byUser {
		slices.Sort(ts)
		for a := 0; a < len(ts); {
			b := a + 1
			for b < len(ts) && ts[b]-ts[b-1] < gap {
				b++
			}
			for _, t := range ts[a:b] {
				out[fmt.Sprintf("u%d %d [%d,%d)", u, t, ts[a], ts[b-1]+gap)] = live[[2]int64{u, t}]
			}
			a = b
		}
	}
	return out
}

// TestSessionAssignRandom drives random out-of-order rows (and
// retractions above the watermark) through the operator, partitioned or
// not, restarting it from its saved state now and then, and checks after
// every epoch that its integrated output is SESSION over the rows, and
// at the end that the watermark let all state go.
func TestSessionAssignRandom(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(workers), 7))
			const gap = 10
			ctx := context.Background()
			sink := &sessionSink{sum: map[string]int64{}}
			build := func() Stateful {
				op, err := Partition(workers, func() (Operator, error) {
					return NewSessionAssign(2, []int{0}, 1, gap*sessionMinute, "Session")
				})
				if err != nil {
					t.Fatal(err)
				}
				op.SetOutput(Output{To: sink})
				st := op.(Stateful)
				st.TrackState()
				return st
			}
			op := build()
			saved := mapState{}
			live := map[[2]int64]int64{}
			var now, wm int64
			for epoch := range 300 {
				b := &Batch{}
				for range rng.IntN(8) {
					u, m := rng.Int64N(4), now-rng.Int64N(15)
					if m < wm {
						m = wm
					}
					r := types.Row{types.NewText(fmt.Sprint("u", u)), types.NewTimestamp(m * sessionMinute)}
					if k := [2]int64{u, m}; live[k] > 0 && rng.IntN(3) == 0 {
						b.Append(r, -1)
						if live[k]--; live[k] == 0 {
							delete(live, k)
						}
						continue
					}
					b.Append(r, 1)
					live[[2]int64{u, m}]++
				}
				now += rng.Int64N(4)
				if err := op.Push(ctx, 0, b); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(3) == 0 && now-12 > wm {
					wm = now - 12
					if err := op.(WatermarkTaker).Watermark(ctx, 0, 1, types.NewTimestamp(wm*sessionMinute)); err != nil {
						t.Fatal(err)
					}
				}
				if err := op.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				want := referenceSessions(live, gap)
				for k := range sink.sum {
					if _, ok := want[k]; !ok {
						t.Fatalf("epoch %d: output has %s, not in the reference %v", epoch, k, want)
					}
				}
				if !maps.Equal(sink.sum, want) {
					t.Fatalf("epoch %d: got %v\nwant %v", epoch, sink.sum, want)
				}
				if err := op.SaveDirty(saved.keep); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(20) == 0 {
					op = build()
					for k, v := range saved {
						if err := op.Restore([]byte(k), v); err != nil {
							t.Fatal(err)
						}
					}
					if err := op.(RestoreFinisher).FinishRestore(); err != nil {
						t.Fatal(err)
					}
					// the coordinator hands a restarted dataflow the watermark
					if err := op.(WatermarkTaker).Watermark(ctx, 0, 1, types.NewTimestamp(wm*sessionMinute)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := op.(WatermarkTaker).Watermark(ctx, 0, 1, types.NewTimestamp((now+gap+20)*sessionMinute)); err != nil {
				t.Fatal(err)
			}
			if err := op.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := op.SaveDirty(saved.keep); err != nil {
				t.Fatal(err)
			}
			if len(saved) != 0 {
				t.Fatalf("%d state entries left after the last session closed", len(saved))
			}
		})
	}
}
