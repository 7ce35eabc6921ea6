package executor

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/types"
)

// Input rows of the window tests: (k, v, id, w, 2, -1, w as text, ','):
// partition k, order key v, a value w with NULLs; the constant columns
// are ntile's and nth_value's argument, lag's default and string_agg's
// delimiter.
func windowTestRow(rng *rand.Rand) types.Row {
	null := func(d types.Datum) types.Datum {
		if rng.Intn(6) == 0 {
			return types.Null
		}
		return d
	}
	w := null(types.NewInt64(int64(rng.Intn(9) - 2)))
	s := types.Null
	if !w.IsNull() {
		s = types.NewText(fmt.Sprint(w.Int()))
	}
	return types.Row{null(types.NewInt64(int64(rng.Intn(4)))), null(types.NewInt64(int64(rng.Intn(5)))),
		types.NewInt64(int64(rng.Intn(6))), w, types.NewInt64(2), types.NewInt64(-1), s, types.NewText(",")}
}

func windowTestFuncs() []WindowFunc {
	agg := func(f AggFunc, col int, t types.Type, frame WindowFrame) WindowFunc {
		s := AggSpec{Func: f, Filter: -1, ArgType: types.Int64, Type: t}
		if col >= 0 {
			s.Args = []int{col}
		}
		if f == AggStringAgg {
			s.Args, s.ArgType = []int{6, 7}, types.Text
		}
		return WindowFunc{Kind: WinAggregate, Agg: s, Frame: frame, Type: t}
	}
	rows := func(s, e FrameBound) WindowFrame { return WindowFrame{Mode: ast.FrameRows, Start: s, End: e} }
	groups := func(s, e FrameBound) WindowFrame { return WindowFrame{Mode: ast.FrameGroups, Start: s, End: e} }
	prec := func(n int64) FrameBound { return FrameBound{Kind: ast.OffsetPreceding, Offset: n} }
	foll := func(n int64) FrameBound { return FrameBound{Kind: ast.OffsetFollowing, Offset: n} }
	cur := FrameBound{Kind: ast.CurrentRow}
	unbP, unbF := FrameBound{Kind: ast.UnboundedPreceding}, FrameBound{Kind: ast.UnboundedFollowing}
	return []WindowFunc{
		{Kind: WinRowNumber, Type: types.Int64},
		{Kind: WinRank, Type: types.Int64},
		{Kind: WinDenseRank, Type: types.Int64},
		{Kind: WinPercentRank, Type: types.Float64},
		{Kind: WinCumeDist, Type: types.Float64},
		{Kind: WinNtile, Args: []int{4}, Type: types.Int32},
		{Kind: WinLag, Args: []int{3}, Type: types.Int64},
		{Kind: WinLead, Args: []int{3, 4, 5}, Type: types.Int64},
		{Kind: WinFirstValue, Args: []int{3}, Frame: DefaultFrame, Type: types.Int64},
		{Kind: WinLastValue, Args: []int{3}, Frame: rows(prec(1), foll(1)), Type: types.Int64},
		{Kind: WinNthValue, Args: []int{3, 4}, Frame: groups(unbP, unbF), Type: types.Int64},
		agg(AggSum, 3, types.Numeric, DefaultFrame),
		agg(AggCountStar, -1, types.Int64, rows(prec(2), cur)),
		agg(AggMin, 3, types.Int64, rows(cur, unbF)),
		agg(AggMax, 3, types.Int64, groups(prec(1), foll(1))),
		agg(AggAvg, 3, types.Numeric, rows(foll(1), foll(3))),
		agg(AggStringAgg, -1, types.Text, rows(prec(1), cur)),
		agg(AggCount, 3, types.Int64, WindowFrame{Mode: ast.FrameRange, Start: cur, End: unbF}),
	}
}

// multiset is an integrated output: row identity -> count.
type multiset map[string]int64

func (m multiset) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		k := formatChange(r, 1)
		if m[k] += b.Weights[i]; m[k] == 0 {
			delete(m, k)
		}
	}
	return nil
}
func (multiset) Flush(context.Context) error { return nil }
func (multiset) SetOutput(Output)            {}
func (multiset) String() string              { return "multiset" }

func (m multiset) diff(want multiset) string {
	var out []string
	for k, n := range m {
		if want[k] != n {
			out = append(out, fmt.Sprintf("got %s x%d, want x%d", k, n, want[k]))
		}
	}
	for k, n := range want {
		if _, ok := m[k]; !ok {
			out = append(out, fmt.Sprintf("missing %s x%d", k, n))
		}
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// recompute runs a fresh operator over the rows held (a pull query's
// single flush) and returns its output.
func recompute(t *testing.T, newOp func() Operator, held map[string]*heldRow, appendOnly bool) multiset {
	t.Helper()
	ctx := context.Background()
	op := newOp()
	out := multiset{}
	op.SetOutput(Output{To: out})
	if appendOnly {
		op.(interface{ setAppendOnly() }).setAppendOnly()
	}
	var b Batch
	for _, h := range held {
		b.Append(h.row, h.n)
	}
	if err := op.Push(ctx, 0, &b); err != nil {
		t.Fatal(err)
	}
	if err := op.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

type heldRow struct {
	row types.Row
	n   int64
}

// TestWindowIncremental maintains every window function under random
// epochs of inserts, deletes and rows moving between partitions, and after
// each epoch compares the integrated output with a recompute from scratch
// (and with the append-only mode of a pull query). Every few epochs the
// operator is saved and restored into a fresh one, which carries on; it
// also runs partitioned across shards.
func TestWindowIncremental(t *testing.T) {
	funcs := windowTestFuncs()
	keys := []SortKey{{Col: 1, Desc: true, NullsFirst: true}, {Col: 2}}
	newOp := func() Operator { return NewWindow([]int{0}, keys, funcs, -1, CutRows, "") }
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			testIncremental(t, func() Operator {
				op, err := Partition(workers, func() (Operator, error) { return newOp(), nil })
				if err != nil {
					t.Fatal(err)
				}
				return op
			}, newOp, true)
		})
	}
}

// TestWindowTopN checks the top-N per partition of NewWindow with a limit
// against a whole window filtered by the function it cuts by: row_number
// (rows), rank (ties included), dense_rank (peer groups).
func TestWindowTopN(t *testing.T) {
	keys := []SortKey{{Col: 1}}
	rank := []WindowFunc{{Kind: WinRowNumber, Type: types.Int64}, {Kind: WinRank, Type: types.Int64}, {Kind: WinDenseRank, Type: types.Int64}}
	for cut, col := range map[TopCut]int{CutRows: 8, CutRank: 9, CutDenseRank: 10} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			whole := func() Operator { return NewWindow([]int{0}, keys, rank, -1, CutRows, "") }
			limited := func() Operator { return NewWindow([]int{0}, keys, rank, 2, cut, "") }
			testIncremental(t, limited, func() Operator {
				return &filtered{Operator: whole(), keep: func(r types.Row) bool { return r[col].Int() <= 2 }}
			}, false)
		})
	}
}

// filtered passes on the rows of its operator that keep accepts.
type filtered struct {
	Operator
	keep func(types.Row) bool
	out  Output
}

func (f *filtered) SetOutput(o Output) { f.out = o; f.Operator.SetOutput(Output{To: filterSink{f}}) }

type filterSink struct{ f *filtered }

func (s filterSink) Push(ctx context.Context, port int, b *Batch) error {
	var kept Batch
	for i, r := range b.Rows {
		if s.f.keep(r) {
			kept.Append(r, b.Weights[i])
		}
	}
	return s.f.out.Emit(ctx, &kept)
}
func (filterSink) Flush(context.Context) error { return nil }
func (filterSink) SetOutput(Output)            {}
func (filterSink) String() string              { return "filter" }

func testIncremental(t *testing.T, newOp, reference func() Operator, checkAppendOnly bool) {
	ctx := context.Background()
	rng := rand.New(rand.NewSource(1))
	op := newOp()
	out := multiset{}
	op.SetOutput(Output{To: out})
	op.(Stateful).TrackState()
	saved := map[string][]byte{}
	held := map[string]*heldRow{}
	for epoch := range 300 {
		var b Batch
		change := func(r types.Row, w int64) {
			b.Append(r, w)
			k := string(appendRowKey(nil, r))
			h := held[k]
			if h == nil {
				h = &heldRow{row: r}
				held[k] = h
			}
			if h.n += w; h.n == 0 {
				delete(held, k)
			}
		}
		for range 1 + rng.Intn(8) {
			switch rng.Intn(4) {
			case 0, 1:
				change(windowTestRow(rng), 1)
			default:
				for _, h := range held { // delete (and maybe move) some row
					r := h.row
					change(r, -1)
					if rng.Intn(2) == 0 {
						moved := slices.Clone(r)
						moved[0] = types.NewInt64(int64(rng.Intn(4)))
						change(moved, 1)
					}
					break
				}
			}
		}
		if err := op.Push(ctx, 0, &b); err != nil {
			t.Fatal(err)
		}
		if err := op.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want := recompute(t, reference, held, false)
		if d := out.diff(want); d != "[]" {
			t.Fatalf("epoch %d: %s", epoch, d)
		}
		if checkAppendOnly {
			if d := recompute(t, reference, held, true).diff(want); d != "[]" {
				t.Fatalf("epoch %d, append-only: %s", epoch, d)
			}
		}
		err := op.(Stateful).SaveDirty(func(k, v []byte) error {
			if v == nil {
				delete(saved, string(k))
			} else {
				saved[string(k)] = slices.Clone(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if epoch%7 == 6 {
			op = newOp()
			op.SetOutput(Output{To: out})
			op.(Stateful).TrackState()
			for k, v := range saved {
				if err := op.(Stateful).Restore([]byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			if f, ok := op.(RestoreFinisher); ok {
				if err := f.FinishRestore(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
