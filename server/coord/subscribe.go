package coord

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// subscriberBuffer bounds the changes queued for one push-query client. A
// client that falls this far behind is disconnected rather than allowed to
// slow the pipeline or grow memory without bound.
const subscriberBuffer = 1 << 16

// subscription is one push query (SELECT ... EMIT CHANGES): a live
// dataflow over the relations the query reads, fed with their deltas after
// every epoch, whose output is queued for the client.
//
// The committer (holding viewSet.mu) pushes and flushes the dataflow and
// appends to the queue; the client's goroutine drains it.
type subscription struct {
	df     *planner.Dataflow
	inputs []*catalog.Relation

	mu     sync.Mutex
	queue  []types.Row // rows with the leading op column
	qpos   []position  // each queued row's position (resume.go); zero: none
	err    error       // set when the subscription ended abnormally
	notify chan struct{}
}

// opColumn is the leading column of a push query's rows: the kind of
// change. An update arrives as a delete of the old row and an insert of the
// new one, in that order, within the same epoch.
var (
	opInsert = types.NewText("insert")
	opDelete = types.NewText("delete")
)

func (sub *subscription) enqueue(b *executor.Batch) { sub.enqueueFrom(b, 0, 0) }

// enqueueFrom queues b's rows as the output of epoch (0: rows that are no
// epoch's output, like the current rows a query starts with), numbering
// them from 1 in the order queued and leaving out the first skip (a
// client resuming has them).
func (sub *subscription) enqueueFrom(b *executor.Batch, epoch uint64, skip int) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.err != nil {
		return
	}
	n := 0
	for _, w := range b.Weights {
		n += int(max(w, -w))
	}
	if len(sub.queue)+n-skip > subscriberBuffer {
		sub.err = sqlerr.New(sqlerr.Code("53000"), "push query dropped: the client fell more than %d changes behind", subscriberBuffer).
			WithHint("Read changes faster, or narrow the query with WHERE.")
		sub.queue, sub.qpos = nil, nil
		sub.wake()
		return
	}
	// Deletes first, so that an update reads as delete-then-insert.
	seq := 0
	for pass := 0; pass < 2; pass++ {
		for i, r := range b.Rows {
			w := b.Weights[i]
			if (pass == 0) != (w < 0) {
				continue
			}
			op := opInsert
			if w < 0 {
				op, w = opDelete, -w
			}
			var row types.Row
			for ; w > 0; w-- {
				seq++
				if seq <= skip {
					continue
				}
				if row == nil {
					row = make(types.Row, len(r)+1)
					row[0] = op
					copy(row[1:], r)
				}
				sub.queue = append(sub.queue, row)
				var p position
				if epoch != 0 {
					p = position{epoch, seq}
				}
				sub.qpos = append(sub.qpos, p)
			}
		}
	}
	sub.wake()
}

// markCurrent gives the last queued row (of the current rows a query
// starts with) the position after epoch: a client holding it holds the
// result as of epoch. Called before the subscription is published.
func (sub *subscription) markCurrent(epoch uint64) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if n := len(sub.qpos); n > 0 {
		sub.qpos[n-1] = position{epoch + 1, 0}
	}
}

func (sub *subscription) wake() {
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

func (sub *subscription) fail(err error) {
	sub.mu.Lock()
	if sub.err == nil {
		sub.err = err
	}
	sub.mu.Unlock()
	sub.wake()
}

// publishLocked feeds the epoch's deltas to the push queries reading the
// changed relations, and its watermarks to those reading the relations
// whose watermark moved (ticked: a view's may move without a change of
// its rows). Called with viewSet.mu held, after the commit.
func (c *Coordinator) publishLocked(deltas map[catalog.ID]*executor.Batch, ticked map[catalog.ID]bool, epoch uint64) {
	ctx := context.Background()
	done := map[*subscription]bool{}
	for id, b := range deltas {
		for sub := range c.views.subs[id] {
			if err := sub.df.Push(ctx, id, b); err != nil {
				sub.fail(err)
				continue
			}
			done[sub] = true
		}
	}
	for id := range ticked {
		for sub := range c.views.subs[id] {
			done[sub] = true
		}
	}
	for sub := range done {
		// as for a view (maintain): a watermark closes windows, which
		// EMIT FINAL emits
		if err := c.passWatermarks(ctx, sub.df); err != nil {
			sub.fail(err)
			continue
		}
		out, err := sub.df.Flush(ctx)
		if err != nil {
			sub.fail(err)
			continue
		}
		if out.Len() > 0 {
			sub.enqueueFrom(out, epoch, 0)
		}
	}
}

// PushQuery implements server.PushQuery.
func (st *statement) PushQuery() bool {
	switch n := st.parsed.AST.(type) {
	case *ast.Query:
		return n.EmitChanges
	case *ast.Copy:
		return n.Query != nil && n.Query.EmitChanges
	}
	return false
}

// subscribe starts a push query: the current result as inserts, then every
// change. ORDER BY is refused (a stream of changes has no order but
// time); LIMIT n ends the query after n rows.
func (s *session) subscribe(ctx context.Context, st *statement, params []types.Datum) (server.Result, error) {
	res, _, err := s.subscribeFrom(ctx, st, params, "")
	return res, err
}

// subscribeFrom is subscribe after a position a push query's row gave
// (resume.go): when it can, it resumes there (resumed true); else, and
// when pos is "", it starts from the current rows.
func (s *session) subscribeFrom(ctx context.Context, st *statement, params []types.Datum, pos string) (server.Result, bool, error) {
	q := *st.parsed.AST.(*ast.Query)
	if len(q.OrderBy) > 0 {
		return nil, false, sqlerr.Unsupported("ORDER BY is not supported in a push query (EMIT CHANGES)")
	}
	if q.Offset != nil {
		return nil, false, sqlerr.Unsupported("OFFSET is not supported in a push query (EMIT CHANGES)")
	}
	limit := int64(-1)
	if q.Limit != nil {
		lit, ok := q.Limit.(*ast.Literal)
		if !ok || lit.Value.IsNull() || !(types.Type{Kind: lit.Value.Kind()}).IsInteger() || lit.Value.Int() < 0 {
			return nil, false, sqlerr.Unsupported("LIMIT of a push query must be an integer constant")
		}
		limit = lit.Value.Int()
	}
	q.Limit, q.EmitChanges = nil, false
	c := s.c
	vs := c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	rt := &executor.Runtime{Params: params, Env: s.env(), Workers: c.workers}
	plan, err := planner.PlanStatement(&planner.Context{Catalog: s, ParamTypes: st.paramTypes}, &q)
	if err != nil {
		return nil, false, err
	}
	df, err := plan.Dataflow(ctx, rt)
	if err != nil {
		return nil, false, err
	}
	if err := df.Start(ctx); err != nil {
		return nil, false, err
	}
	sub := &subscription{df: df, inputs: df.Inputs(), notify: make(chan struct{}, 1)}
	prog := c.progress.start(ctx, "push query", progressName(st.parsed.SQL), phaseBackfill, nil)
	resumed := false
	if from, ok := vs.parsePosition(pos); ok && df.Stateless() && s.tx == nil {
		if resumed, err = c.replayLocked(ctx, sub, from); err != nil {
			prog.done()
			return nil, false, err
		}
	}
	if !resumed {
		var store = &viewStore{}
		if s.tx != nil {
			store.base = s.tx
		} else {
			snap := c.db.Snapshot()
			defer snap.Close()
			store.base = snap
		}
		first, err := backfill(ctx, df, store, prog, c.passWatermarks)
		if err != nil {
			prog.done()
			return nil, false, err
		}
		sub.enqueue(first)
		if s.tx == nil {
			sub.markCurrent(vs.epoch)
		}
	}
	// From here on the entry counts the rows sent to the client.
	prog.report = nil
	prog.rows.Store(0)
	prog.setPhase(phaseStreaming)
	for _, rel := range sub.inputs {
		vs.retainFromLocked(rel.ID)
		m := vs.subs[rel.ID]
		if m == nil {
			m = map[*subscription]struct{}{}
			vs.subs[rel.ID] = m
		}
		m[sub] = struct{}{}
	}
	return &pushResult{c: c, sub: sub, limit: limit, prog: prog}, resumed, nil
}

// pushResult streams a subscription's rows to the client until the limit,
// a cancel, or the client going away.
type pushResult struct {
	baseResult
	c     *Coordinator
	sub   *subscription
	limit int64
	n     int64
	head  []types.Row
	hpos  []position // head's positions
	last  position   // of the row Next returned last
	prog  *progress  // its weir_catalog.progress entry
}

func (r *pushResult) Next(ctx context.Context) (types.Row, bool, error) {
	if r.limit >= 0 && r.n >= r.limit {
		return nil, false, nil
	}
	for len(r.head) == 0 {
		r.sub.mu.Lock()
		r.head, r.sub.queue = r.sub.queue, nil
		r.hpos, r.sub.qpos = r.sub.qpos, nil
		err := r.sub.err
		r.sub.mu.Unlock()
		if len(r.head) > 0 {
			break
		}
		if err != nil {
			return nil, false, err
		}
		select {
		case <-r.sub.notify:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	row := r.head[0]
	r.head = r.head[1:]
	if len(r.hpos) > 0 {
		r.last, r.hpos = r.hpos[0], r.hpos[1:]
	}
	r.n++
	r.prog.rows.Add(1)
	return row, true, nil
}

// Buffered implements server.Live.
func (r *pushResult) Buffered() int {
	if r.limit >= 0 && r.n >= r.limit {
		return 1 // the end is ready
	}
	if len(r.head) > 0 {
		return len(r.head)
	}
	r.sub.mu.Lock()
	defer r.sub.mu.Unlock()
	return len(r.sub.queue)
}

func (r *pushResult) Tag() string { return fmt.Sprintf("SELECT %d", r.n) }

// Close unsubscribes and frees the dataflow.
func (r *pushResult) Close() {
	r.prog.done()
	vs := r.c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	now := time.Now()
	for _, rel := range r.sub.inputs {
		delete(vs.subs[rel.ID], r.sub)
		if len(vs.subs[rel.ID]) == 0 {
			delete(vs.subs, rel.ID)
			vs.retaining[rel.ID] = now
		}
	}
}

// pushColumns are the columns of a push query: op, then the query's.
func pushColumns(cols []server.Column) []server.Column {
	out := make([]server.Column, 0, len(cols)+1)
	out = append(out, server.Column{Name: "op", Type: types.Text})
	return append(out, cols...)
}
