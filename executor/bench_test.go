package executor

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/types"
)

type nullSink struct{ n int }

func (s *nullSink) Push(_ context.Context, _ int, b *Batch) error { s.n += b.Len(); return nil }
func (s *nullSink) Flush(context.Context) error                   { return nil }
func (s *nullSink) SetOutput(Output)                              {}
func (s *nullSink) String() string                                { return "null" }

func benchBatches(n, groups int) []*Batch {
	var out []*Batch
	for i := 0; i < n; i += BatchSize {
		b := &Batch{}
		for j := i; j < min(n, i+BatchSize); j++ {
			b.Append(types.Row{types.NewInt64(int64(j)), types.NewInt64(int64(j % groups)), types.NewInt32(int32(j % 1000))}, 1)
		}
		out = append(out, b)
	}
	return out
}

func col(i int) EvalFunc { return func(r types.Row) (types.Datum, error) { return r[i], nil } }

// BenchmarkGroupBy: SELECT g, count(*), sum(v), min(v) FROM 1M rows GROUP
// BY g (1000 groups), one snapshot epoch.
func BenchmarkGroupBy(b *testing.B) {
	const rows = 1_000_000
	batches := benchBatches(rows, 1000)
	ctx := context.Background()
	for b.Loop() {
		agg := NewAggregate([]int{1}, []AggSpec{
			{Func: AggCountStar, Filter: -1, Type: types.Int64},
			{Func: AggSum, Args: []int{2}, Filter: -1, ArgType: types.Int32, Type: types.Int64},
			{Func: AggMin, Args: []int{2}, Filter: -1, ArgType: types.Int32, Type: types.Int32},
		}, false)
		agg.SetOutput(Output{To: &nullSink{}})
		for _, bt := range batches {
			if err := agg.Push(ctx, 0, bt); err != nil {
				b.Fatal(err)
			}
		}
		if err := agg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHashJoin joins 100k x 100k rows on a unique key.
func BenchmarkHashJoin(b *testing.B) {
	const rows = 100_000
	left, right := benchBatches(rows, rows), benchBatches(rows, rows)
	ctx := context.Background()
	for b.Loop() {
		j := NewHashJoin(JoinInner, []EvalFunc{col(0)}, []EvalFunc{col(1)}, 3, 3, nil, "")
		sink := &nullSink{}
		j.SetOutput(Output{To: sink})
		for _, bt := range left {
			if err := j.Push(ctx, 0, bt); err != nil {
				b.Fatal(err)
			}
		}
		for _, bt := range right {
			if err := j.Push(ctx, 1, bt); err != nil {
				b.Fatal(err)
			}
		}
		if sink.n != rows {
			b.Fatalf("joined %d rows", sink.n)
		}
	}
	b.ReportMetric(float64(2*rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFilterProject: WHERE v < 500 then SELECT id, v + 1 over 1M rows.
func BenchmarkFilterProject(b *testing.B) {
	const rows = 1_000_000
	batches := benchBatches(rows, 1000)
	lt, _ := funcs.Resolve("<", []types.Type{types.Int32, types.Int32})
	plus, _ := funcs.Resolve("+", []types.Type{types.Int32, types.Int32})
	c := NewCompiler(nil)
	pred, err := c.Compile(&Call{Name: "<", Fn: lt.Overload, Eval: lt.Evaluator(), Typ: types.Bool,
		Args: []Expr{&ColRef{Idx: 2, Typ: types.Int32}, &Const{Value: types.NewInt32(500), Typ: types.Int32}}})
	if err != nil {
		b.Fatal(err)
	}
	add, err := c.Compile(&Call{Name: "+", Fn: plus.Overload, Eval: plus.Evaluator(), Typ: types.Int32,
		Args: []Expr{&ColRef{Idx: 2, Typ: types.Int32}, &Const{Value: types.NewInt32(1), Typ: types.Int32}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		f := NewFilter(pred, "")
		p := NewProject([]EvalFunc{col(0), add}, "")
		sink := &nullSink{}
		f.SetOutput(Output{To: p})
		p.SetOutput(Output{To: sink})
		for _, bt := range batches {
			if err := f.Push(ctx, 0, bt); err != nil {
				b.Fatal(err)
			}
		}
		if sink.n != rows/2 {
			b.Fatalf("%d rows", sink.n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkJoinRetract indexes 10k left rows under one join key, then
// retracts them in a scattered order (the cost of removing a row from a
// large bucket).
func BenchmarkJoinRetract(b *testing.B) {
	const rows = 10_000
	ins, del := &Batch{}, &Batch{}
	for i := range rows {
		ins.Append(types.Row{types.NewInt64(int64(i)), types.NewInt64(7)}, 1)
	}
	for i := range rows {
		j := (i * 7919) % rows
		del.Append(ins.Rows[j], -1)
	}
	ctx := context.Background()
	for b.Loop() {
		j := NewHashJoin(JoinInner, []EvalFunc{col(1)}, []EvalFunc{col(0)}, 2, 1, nil, "")
		j.SetOutput(Output{To: &nullSink{}})
		if err := j.Push(ctx, 0, ins); err != nil {
			b.Fatal(err)
		}
		if err := j.Push(ctx, 0, del); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMinRetract keeps MIN over 50k distinct values in one group and
// deletes them smallest first, 64 per epoch: every epoch retracts the
// current minimum.
func BenchmarkMinRetract(b *testing.B) {
	const rows = 50_000
	const epoch = 64
	ins := &Batch{}
	for i := range rows {
		ins.Append(types.Row{types.NewInt64(0), types.NewInt64(int64((i * 7919) % rows))}, 1)
	}
	var dels []*Batch
	for i := 0; i < rows; i += epoch {
		d := &Batch{}
		for v := i; v < min(rows, i+epoch); v++ {
			d.Append(types.Row{types.NewInt64(0), types.NewInt64(int64(v))}, -1)
		}
		dels = append(dels, d)
	}
	ctx := context.Background()
	for b.Loop() {
		agg := NewAggregate([]int{0}, []AggSpec{{Func: AggMin, Args: []int{1}, Filter: -1, ArgType: types.Int64, Type: types.Int64}}, false)
		agg.SetOutput(Output{To: &nullSink{}})
		if err := agg.Push(ctx, 0, ins); err != nil {
			b.Fatal(err)
		}
		if err := agg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		for _, d := range dels {
			if err := agg.Push(ctx, 0, d); err != nil {
				b.Fatal(err)
			}
			if err := agg.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(2*rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPartitioned runs a count/sum GROUP BY over 1M changes (with
// 1,000 and with 1M groups) and a 100k x 100k join on a unique key, as one
// operator and partitioned into 2 shards.
func BenchmarkPartitioned(b *testing.B) {
	specs := []AggSpec{
		{Func: AggCountStar, Filter: -1, Type: types.Int64},
		{Func: AggSum, Args: []int{2}, Filter: -1, ArgType: types.Int32, Type: types.Int64},
	}
	for _, groups := range []int{1000, 1_000_000} {
		batches := benchBatches(1_000_000, groups)
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("groupby/groups=%d/workers=%d", groups, workers), func(b *testing.B) {
				benchPartitioned(b, workers, batches, nil, func() Operator { return NewAggregate([]int{1}, specs, false) })
			})
		}
	}
	left, right := benchBatches(100_000, 100_000), benchBatches(100_000, 100_000)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("join/workers=%d", workers), func(b *testing.B) {
			benchPartitioned(b, workers, left, right, func() Operator {
				return NewHashJoin(JoinInner, []EvalFunc{col(0)}, []EvalFunc{col(1)}, 3, 3, nil, "")
			})
		})
	}
}

// benchPartitioned pushes batches into port 0 and then more into port 1
// of the operator mk builds, partitioned into workers shards, and flushes.
func benchPartitioned(b *testing.B, workers int, port0, port1 []*Batch, mk func() Operator) {
	ctx := context.Background()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		op, err := Partition(workers, func() (Operator, error) { return mk(), nil })
		if err != nil {
			b.Fatal(err)
		}
		op.SetOutput(Output{To: &nullSink{}})
		n = 0
		for port, batches := range [][]*Batch{port0, port1} {
			for _, bt := range batches {
				if err := op.Push(ctx, port, bt); err != nil {
					b.Fatal(err)
				}
				n += bt.Len()
			}
		}
		if err := op.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "changes/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.Elapsed()), "cores")
}

// cpuTime is the CPU time the process used so far (user and system, all
// threads, the garbage collector's included): what parallel work costs,
// apart from how long it took.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTemporalJoin: a 1M-row stream joined with a 10k-row table (every
// stream row matches one table row), in epochs of 10k stream rows whose
// state is saved, by a temporal join and by the ordinary hash join. It
// reports the stream's rows/s and the state each keeps: the temporal join
// indexes the table only.
func BenchmarkTemporalJoin(b *testing.B) {
	const streamRows, tableRows, epochRows = 1_000_000, 10_000, 10_000
	table := benchBatches(tableRows, tableRows)
	stream := benchBatches(streamRows, tableRows)
	for _, mode := range []string{"temporal", "hash"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			var j *HashJoin
			for b.Loop() {
				b.StopTimer()
				keys := func() []EvalFunc { return []EvalFunc{col(0)} }
				if mode == "temporal" {
					j = NewTemporalJoin(JoinInner, []EvalFunc{col(1)}, keys(), 3, 3, nil, "")
				} else {
					j = NewHashJoin(JoinInner, []EvalFunc{col(1)}, keys(), 3, 3, nil, "")
				}
				j.TrackState()
				sink := &nullSink{}
				j.SetOutput(Output{To: sink})
				save := func() {
					if err := j.SaveDirty(func(k, v []byte) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
				for _, bt := range table {
					if err := j.Push(ctx, 1, bt); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				save()
				b.StartTimer()
				n := 0
				for _, bt := range stream {
					if err := j.Push(ctx, 0, bt); err != nil {
						b.Fatal(err)
					}
					if n += bt.Len(); n%epochRows == 0 {
						if err := j.Flush(ctx); err != nil {
							b.Fatal(err)
						}
						save()
					}
				}
				if err := j.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				save()
				if sink.n != streamRows {
					b.Fatalf("joined %d rows", sink.n)
				}
			}
			b.ReportMetric(float64(streamRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(len(j.sides[0])), "stream-keys")
			b.ReportMetric(float64(len(j.sides[1])), "table-keys")
			b.ReportMetric(float64(j.CachedBytes())/(1<<20), "state-MB")
		})
	}
}
