package executor

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata expectations with the actual output")

// collector is a sink that records every change it receives.
type collector struct{ lines []string }

func (c *collector) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		c.lines = append(c.lines, formatChange(r, b.Weights[i]))
	}
	return nil
}
func (c *collector) Flush(context.Context) error { return nil }
func (c *collector) SetOutput(Output)            {}
func (c *collector) String() string              { return "collector" }

func formatChange(r types.Row, w int64) string {
	sign := "+"
	if w < 0 {
		sign, w = "-", -w
	}
	parts := []string{sign}
	for _, d := range r {
		if d.IsNull() {
			parts = append(parts, "NULL")
		} else {
			parts = append(parts, string(types.AppendText(nil, d, nil)))
		}
	}
	s := strings.Join(parts, " ")
	if w != 1 {
		s += fmt.Sprintf(" x%d", w)
	}
	return s
}

func parseValue(s string) types.Datum {
	if s == "NULL" {
		return types.Null
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return types.NewInt64(v)
	}
	return types.NewText(s)
}

func parseInts(s string) []int {
	if s == "" {
		return nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}

func colEvals(cols []int) []EvalFunc {
	out := make([]EvalFunc, len(cols))
	for i, c := range cols {
		c := c
		out[i] = func(r types.Row) (types.Datum, error) { return r[c], nil }
	}
	return out
}

// newTestOperator builds an operator from "kind key=value ..." args.
func newTestOperator(t *testing.T, kind string, args map[string]string) Operator {
	switch kind {
	case "aggregate":
		var specs []AggSpec
		for _, a := range strings.Split(args["aggs"], ",") {
			name, col, _ := strings.Cut(a, ":")
			s := AggSpec{Filter: -1, ArgType: types.Int64, Type: types.Int64}
			if col != "" {
				s.Args = parseInts(col)
			}
			switch name {
			case "count*":
				s.Func = AggCountStar
			case "count":
				s.Func = AggCount
			case "countd":
				s.Func, s.Distinct = AggCount, true
			case "sum":
				s.Func, s.Type = AggSum, types.Numeric
			case "min":
				s.Func = AggMin
			case "max":
				s.Func = AggMax
			default:
				t.Fatalf("unknown aggregate %q", name)
			}
			specs = append(specs, s)
		}
		return NewAggregate(parseInts(args["group"]), specs, args["group"] == "")
	case "join":
		kinds := map[string]JoinKind{"inner": JoinInner, "left": JoinLeft, "right": JoinRight, "full": JoinFull, "semi": JoinSemi, "anti": JoinAnti}
		lw, _ := strconv.Atoi(args["lw"])
		rw, _ := strconv.Atoi(args["rw"])
		if args["temporal"] == "true" {
			return NewTemporalJoin(kinds[args["kind"]], colEvals(parseInts(args["lkey"])), colEvals(parseInts(args["rkey"])), lw, rw, nil, "")
		}
		return NewHashJoin(kinds[args["kind"]], colEvals(parseInts(args["lkey"])), colEvals(parseInts(args["rkey"])), lw, rw, nil, "")
	case "distinct":
		return NewDistinct()
	case "topn":
		limit, _ := strconv.ParseInt(args["limit"], 10, 64)
		var keys []SortKey
		for _, c := range parseInts(args["keys"]) {
			keys = append(keys, SortKey{Col: c})
		}
		return NewTopN(parseInts(args["partition"]), keys, 0, limit, "")
	case "window":
		// funcs=row_number,rank,sum:2 over partition and keys; limit and
		// cut (rows, rank, dense) make it a top-N per partition
		var funcs []WindowFunc
		for _, f := range strings.Split(args["funcs"], ",") {
			name, col, _ := strings.Cut(f, ":")
			kinds := map[string]WindowKind{"row_number": WinRowNumber, "rank": WinRank, "dense_rank": WinDenseRank, "lag": WinLag}
			if k, ok := kinds[name]; ok {
				funcs = append(funcs, WindowFunc{Kind: k, Args: parseInts(col), Type: types.Int64})
				continue
			}
			if name != "sum" {
				t.Fatalf("unknown window function %q", name)
			}
			funcs = append(funcs, WindowFunc{Kind: WinAggregate, Frame: DefaultFrame, Type: types.Numeric,
				Agg: AggSpec{Func: AggSum, Args: parseInts(col), Filter: -1, ArgType: types.Int64, Type: types.Numeric}})
		}
		var keys []SortKey
		for _, c := range parseInts(args["keys"]) {
			keys = append(keys, SortKey{Col: c})
		}
		limit := int64(-1)
		if args["limit"] != "" {
			limit, _ = strconv.ParseInt(args["limit"], 10, 64)
		}
		cut := map[string]TopCut{"": CutRows, "rows": CutRows, "rank": CutRank, "dense": CutDenseRank}[args["cut"]]
		return NewWindow(parseInts(args["partition"]), keys, funcs, limit, cut, "")
	case "setop":
		k := SetIntersect
		if args["kind"] == "except" {
			k = SetExcept
		}
		return NewSetOp(k, args["all"] == "true")
	}
	t.Fatalf("unknown operator %q", kind)
	return nil
}

// TestOperators runs the scripts in testdata/*.txt. A script is a sequence
// of commands:
//
//	new <operator> key=value...   start a fresh operator
//	push <port>                   followed by change lines "+ a 1" / "- a 1"
//	flush                         end the epoch; followed by "----" and the
//	                              changes the operator emitted (sorted)
//
// Run with -rewrite to regenerate the expected output.
func TestOperators(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out []string
	var op Operator
	sink := &collector{}
	ctx := context.Background()
	port := 0
	var batch Batch
	failed := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0 || strings.HasPrefix(line, "#"):
			out = append(out, line)
		case fields[0] == "new":
			args := map[string]string{}
			for _, kv := range fields[2:] {
				k, v, _ := strings.Cut(kv, "=")
				args[k] = v
			}
			op = newTestOperator(t, fields[1], args)
			op.SetOutput(Output{To: sink})
			out = append(out, line)
		case fields[0] == "push":
			port, _ = strconv.Atoi(fields[1])
			out = append(out, line)
		case fields[0] == "+" || fields[0] == "-":
			w := int64(1)
			if fields[0] == "-" {
				w = -1
			}
			row := make(types.Row, len(fields)-1)
			for j, f := range fields[1:] {
				row[j] = parseValue(f)
			}
			batch.Append(row, w)
			out = append(out, line)
			// The batch goes in when the push block ends.
			if i+1 == len(lines) || !(strings.HasPrefix(lines[i+1], "+ ") || strings.HasPrefix(lines[i+1], "- ")) {
				if err := op.Push(ctx, port, &batch); err != nil {
					t.Fatalf("%s:%d: %v", path, i+1, err)
				}
				batch.Reset()
			}
		case fields[0] == "flush":
			if err := op.Flush(ctx); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			got := sink.lines
			sink.lines = nil
			slices.Sort(got)
			out = append(out, line, "----")
			out = append(out, got...)
			// Skip the expected block.
			var want []string
			if i+1 < len(lines) && lines[i+1] == "----" {
				i++
				for i+1 < len(lines) && lines[i+1] != "" {
					i++
					want = append(want, lines[i])
				}
			}
			if !slices.Equal(got, want) && !*rewrite {
				failed = true
				t.Errorf("%s:%d: after flush\ngot:\n%s\nwant:\n%s", path, i+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		default:
			t.Fatalf("%s:%d: unknown command %q", path, i+1, line)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = failed
}
