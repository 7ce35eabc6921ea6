package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// Operator is one node of a dataflow graph. Push hands it a batch of
// changes on an input port (0, or 0/1 for binary operators); Flush ends the
// epoch: the operator emits what it accumulated (an aggregate emits the
// retraction of each changed group's old row and the insertion of its new
// one). Stateless operators emit during Push and do nothing at Flush.
type Operator interface {
	Push(ctx context.Context, port int, b *Batch) error
	Flush(ctx context.Context) error
	// SetOutput connects the operator's output to the port of another.
	SetOutput(out Output)
	// String names the operator for EXPLAIN and errors.
	String() string
}

// Output is where an operator sends its changes.
type Output struct {
	To   Operator
	Port int
}

// Emit pushes b downstream (nothing when b is empty or unconnected).
func (o Output) Emit(ctx context.Context, b *Batch) error {
	if b.Len() == 0 || o.To == nil {
		return nil
	}
	return o.To.Push(ctx, o.Port, b)
}

// emitter is embedded by operators: an output and a reusable batch.
type emitter struct {
	out Output
	buf Batch
}

// SetOutput implements Operator.
func (e *emitter) SetOutput(out Output) { e.out = out }

func (e *emitter) output() Output { return e.out }

// send queues a change and pushes when the batch is full.
func (e *emitter) send(ctx context.Context, r types.Row, w int64) error {
	e.buf.Append(r, w)
	if e.buf.Len() >= BatchSize {
		return e.drain(ctx)
	}
	return nil
}

// drain pushes the queued changes downstream.
func (e *emitter) drain(ctx context.Context) error {
	if e.buf.Len() == 0 {
		return nil
	}
	err := e.out.Emit(ctx, &e.buf)
	e.buf.Reset()
	return err
}

// Graph owns a set of operators in topological order (every operator after
// the operators that feed it) and flushes them in that order, so that what
// an operator emits at Flush reaches its consumers before they flush.
type Graph struct {
	ops []Operator
}

// Add appends op to the graph; add producers before their consumers.
func (g *Graph) Add(op Operator) Operator {
	g.ops = append(g.ops, op)
	return op
}

// Connect connects from's output to port of to.
func Connect(from Operator, to Operator, port int) { from.SetOutput(Output{To: to, Port: port}) }

// SetAppendOnly declares that the graph runs once, as a pull query does:
// its inputs only insert and it is flushed exactly once. Each operator whose
// input then only inserts switches to its append-only mode, keeping only
// what insertions need (MIN/MAX the current extreme instead of the ordered
// multiset that retractions need). The property is derived along the
// edges: an outer or anti join retracts null-padded rows even over
// insertions (a temporal one never does), so what it feeds stays in the
// retractable mode, while an operator that emits only at Flush (aggregate,
// DISTINCT, top-N, set operations, session windows) emits only insertions
// at the single Flush. Call it after the
// graph is built and connected, before the first Push; a live dataflow
// never calls it.
func (g *Graph) SetAppendOnly() {
	retracts := map[Operator]bool{}
	for _, op := range g.ops {
		in := retracts[op]
		if a, ok := op.(interface{ setAppendOnly() }); ok && !in {
			a.setAppendOnly()
		}
		o, ok := op.(interface{ output() Output })
		if !ok || o.output().To == nil {
			continue
		}
		out := in
		switch x := innerKind(op).(type) {
		case *HashJoin:
			out = in || (x.kind != JoinInner && x.kind != JoinSemi && !x.temporal)
		case *Aggregate, *Distinct, *TopN, *SetOp, *SessionAssign:
			out = false
		}
		if out {
			retracts[o.output().To] = true
		}
	}
}

// Flush ends an epoch: every operator flushes, in topological order.
func (g *Graph) Flush(ctx context.Context) error {
	for _, op := range g.ops {
		if err := op.Flush(ctx); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// String lists the operators in order.
func (g *Graph) String() string {
	var sb strings.Builder
	for i, op := range g.ops {
		fmt.Fprintf(&sb, "%d: %s\n", i, op)
	}
	return sb.String()
}
