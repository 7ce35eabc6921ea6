package coord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// viewSet maintains the materialized views: one live dataflow per view,
// fed inside the commit of every transaction that changes what it reads.
// An epoch is one committed transaction: the table changes, the view
// changes they cause and (later) source offsets go to storage in one atomic
// batch, so a view can never be ahead of or behind its inputs, and a
// session that committed sees every view updated (read-your-writes).
//
// mu is the epoch lock. It is held across every commit, by backfills and
// by push-query subscriptions taking their snapshot, so that a subscriber's
// snapshot and the changes it is then sent meet exactly. Lock order:
// viewSet.mu, then Coordinator.ddlMu, then Coordinator.mu.
type viewSet struct {
	mu    sync.Mutex
	order []*liveView // in creation order, which is a topological order
	byID  map[catalog.ID]*liveView
	subs  map[catalog.ID]map[*subscription]struct{}
	// restored and backfilled count how views got their operator state
	// when they were (re)built: loaded from storage, or recomputed from
	// their inputs.
	restored, backfilled atomic.Int64
	// stateBudget bounds the bytes of operator state kept in memory
	// (0: unbounded); see trimState.
	stateBudget int64
	// pending are the views being created: backfilling from a snapshot
	// without the epoch lock, while the epochs after the snapshot are
	// recorded for them.
	pending map[*pendingView]struct{}
	// sinks are the running sinks by id; maintain appends to their logs.
	sinks map[catalog.ID]*sinkRunner
	// epoch numbers the committed epochs that changed relations, recent
	// keeps their deltas, and incarnation names this run of the server:
	// what push queries resume from (resume.go).
	epoch       uint64
	recent      map[catalog.ID]*deltaLog
	incarnation string
	unretained  uint64 // the last epoch whose deltas were not kept
	// retaining holds when the last push query reading each relation
	// ended: its deltas are kept for a while, for the client to resume.
	retaining map[catalog.ID]time.Time
	// commitDuration times each epoch's commit (commit).
	commitDuration *server.Histogram
	// clocks are the event-time clocks of relations with a watermark
	// (eventtime.go), by relation.
	clocks map[catalog.ID]*eventClock
	// hasClocks: some relation has a watermark, so every epoch runs
	// maintain (which drops late rows) even without views.
	hasClocks atomic.Bool
	// clockList is clocks' values, for readers without the lock.
	clockList atomic.Pointer[[]*eventClock]
	// viewMarks are the watermarks of views with event time: what their
	// dataflows' results last got on their event-time column.
	viewMarks map[catalog.ID]types.Datum
	// undo puts back what the running epoch changed outside its batch
	// (clocks, viewMarks), should it fail; see undoEpoch.
	undo []func()
}

// undoEpoch forgets what a failed epoch did to the clocks and view
// watermarks, newest first. Called with mu held.
func (vs *viewSet) undoEpoch() {
	for i := len(vs.undo) - 1; i >= 0; i-- {
		vs.undo[i]()
	}
	vs.undo = vs.undo[:0]
}

// pendingView records, for a view being backfilled from a snapshot, the
// changes that epochs committed after the snapshot made to its inputs, in
// commit order, so that the view continues exactly where the snapshot
// ends.
type pendingView struct {
	inputs map[catalog.ID]bool
	deltas []pendingDelta
	// err is set when an epoch did something a pending view cannot
	// follow (a TRUNCATE of an input, which records no rows).
	err error
}

type pendingDelta struct {
	id catalog.ID
	b  *executor.Batch
}

// recordPending hands the deltas of a committed epoch to the pending views
// that read them. Called with mu held.
func (vs *viewSet) recordPending(deltas map[catalog.ID]*executor.Batch, truncated []*catalog.Relation) {
	for pv := range vs.pending {
		for _, rel := range truncated {
			if pv.inputs[rel.ID] && pv.err == nil {
				pv.err = sqlerr.New(sqlerr.SerializationFailure, "could not create the materialized view: table \"%s\" was truncated while it was being filled", rel.Name).
					WithHint("Retry the CREATE MATERIALIZED VIEW.")
			}
		}
		for id, b := range deltas {
			if pv.inputs[id] && b.Len() > 0 {
				pv.deltas = append(pv.deltas, pendingDelta{id: id, b: b})
			}
		}
	}
}

// readsPending reports whether a view being created reads rel.
func (vs *viewSet) readsPending(id catalog.ID) bool {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for pv := range vs.pending {
		if pv.inputs[id] {
			return true
		}
	}
	return false
}

// stateMarkerOp is the operator id of a view's state marker: a view whose
// state holds (stateMarkerOp, "format") = stateMarker(df) has complete
// operator state in storage, saved by a dataflow of the same shape. Views
// created before operator state was saved have none, and a view whose
// dataflow is planned differently now (operator ids are graph positions)
// has a different marker: both are backfilled at startup, then saved.
const stateMarkerOp = math.MaxUint32

var stateFormatKey = []byte("format")

// stateMarker is the codec version (2) followed by the first 8 bytes of
// the SHA-256 of the dataflow's operator listing.
func stateMarker(df *planner.Dataflow) []byte {
	h := sha256.Sum256([]byte(df.String()))
	return append([]byte{2}, h[:8]...)
}

// saveViewState writes the dirty operator state of v's dataflow into txn.
func saveViewState(txn *storage.Txn, id catalog.ID, df *planner.Dataflow) error {
	return df.SaveState(func(op uint32, key, value []byte) error {
		return txn.PutState(id, op, key, value)
	})
}

// saveFullViewState replaces the stored operator state of a view with the
// whole state of df (freshly backfilled, so that all of it is dirty) and
// the format marker, last: the state is written in several batches, and a
// crash in between leaves no marker, so the view is backfilled again.
func saveFullViewState(ctx context.Context, db *storage.DB, id catalog.ID, df *planner.Dataflow) error {
	txn := db.Begin()
	defer txn.Rollback()
	if err := txn.DropState(id); err != nil {
		return err
	}
	if err := txn.Commit(ctx); err != nil {
		return err
	}
	if err := saveStateChunks(ctx, db, id, df); err != nil {
		return err
	}
	txn = db.Begin()
	defer txn.Rollback()
	if err := txn.PutState(id, stateMarkerOp, stateFormatKey, stateMarker(df)); err != nil {
		return err
	}
	return txn.Commit(ctx)
}

// liveView is a materialized view and the dataflow maintaining it.
type liveView struct {
	rel    *catalog.Relation
	df     *planner.Dataflow
	unique bool // rows never repeat: stored without reading counts
	stats  *viewStats
	// epochIn are the changes the last maintain pushed into df, counted
	// once the epoch commits.
	epochIn int64
}

func newViewSet(stateBudget int64) *viewSet {
	return &viewSet{byID: map[catalog.ID]*liveView{}, subs: map[catalog.ID]map[*subscription]struct{}{}, stateBudget: stateBudget, pending: map[*pendingView]struct{}{}, sinks: map[catalog.ID]*sinkRunner{}, commitDuration: newCommitHistogram(),
		recent: map[catalog.ID]*deltaLog{}, incarnation: newIncarnation(), retaining: map[catalog.ID]time.Time{}}
}

// attachState lets df's operators read their saved state back from
// storage on demand (see planner.Dataflow.AttachState) and returns the
// operators whose state must be restored whole.
func (c *Coordinator) attachState(id catalog.ID, df *planner.Dataflow, complete bool) []uint32 {
	return df.AttachState(func(op uint32) executor.StateReader { return c.db.StateReader(id, op) }, complete)
}

// trimState keeps the operator state in memory within the budget: once
// the views hold more, each drops saved state down to 90% of the budget,
// in proportion to what it holds. Called with mu held, after an epoch
// committed (what is dropped is read back from storage).
func (vs *viewSet) trimState() {
	if vs.stateBudget <= 0 {
		return
	}
	dfs := make([]*planner.Dataflow, len(vs.order))
	var total int64
	for i, v := range vs.order {
		dfs[i] = v.df
		total += v.df.CachedBytes()
	}
	if total > vs.stateBudget {
		executor.EvictShares(dfs, vs.stateBudget*9/10)
	}
}

// commit commits txn as one epoch: it runs the dataflows of the views the
// transaction's changes reach, writes their changes in the same batch, and
// after the commit hands every changed relation's delta to its push-query
// subscribers.
func (c *Coordinator) commit(ctx context.Context, txn *storage.Txn) error {
	return c.commitEpoch(ctx, txn, nil, nil)
}

// commitEpoch is commit, told the source position after each change of a
// source with event time (offsets, by relation; see eventClock.admit),
// and the rows that unstored sources add in this epoch (passing, by
// relation; see replay.go).
func (c *Coordinator) commitEpoch(ctx context.Context, txn *storage.Txn, offsets map[catalog.ID][]executor.SourceOffset, passing map[*catalog.Relation][]types.Row) error {
	vs := c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	start := time.Now()
	// An empty transaction commits nothing: no epoch.
	ran := false
	// First: it also forgets the retained deltas that expired.
	retaining := vs.retainingLocked(start)
	if len(vs.order) == 0 && len(vs.subs) == 0 && len(vs.pending) == 0 && len(vs.sinks) == 0 && !retaining && !vs.hasClocks.Load() {
		err := txn.CommitWith(ctx, func() error { ran = true; return nil })
		if err == nil && ran {
			vs.commitDuration.Observe(time.Since(start).Seconds())
			// Nobody needs this epoch's deltas, so they are not computed:
			// no push query resumes from before it (resume.go).
			vs.epoch++
			vs.unretained = vs.epoch
		}
		return err
	}
	var deltas map[catalog.ID]*executor.Batch
	var truncated []*catalog.Relation
	var ticked map[catalog.ID]bool
	vs.undo = vs.undo[:0]
	err := txn.CommitWith(ctx, func() error {
		ran = true
		var err error
		deltas, truncated, ticked, err = c.maintain(ctx, txn, offsets, passing)
		return err
	})
	if err == nil && ran {
		vs.commitDuration.Observe(time.Since(start).Seconds())
		vs.countChanges(deltas)
	}
	c.sinksCommitted(err == nil)
	if err != nil {
		if ran {
			vs.undoEpoch()
			// The dataflows took in changes that did not commit: rebuild
			// their state from what is committed.
			if rerr := c.rebuildViewsLocked(context.WithoutCancel(ctx)); rerr != nil {
				c.logger.Error("rebuilding views after a failed commit", "err", rerr)
			}
		}
		return err
	}
	vs.trimState()
	vs.recordPending(deltas, truncated)
	c.publishLocked(deltas, ticked, vs.retainLocked(deltas, len(truncated) > 0))
	return nil
}

// maintain pushes the transaction's table changes through the views that
// read them, in topological order, and writes each view's changes into
// txn. It returns the delta of every changed relation (tables and views),
// as full relation rows, the tables truncated without a record of their
// rows, and the relations whose watermark moved.
func (c *Coordinator) maintain(ctx context.Context, txn *storage.Txn, offsets map[catalog.ID][]executor.SourceOffset, passing map[*catalog.Relation][]types.Row) (deltas map[catalog.ID]*executor.Batch, truncated []*catalog.Relation, ticked map[catalog.ID]bool, err error) {
	changes, err := txn.Changes()
	if err != nil {
		return nil, nil, nil, err
	}
	for rel, rows := range passing {
		if len(rows) == 0 {
			continue
		}
		tc := storage.TableChanges{Rel: rel, Changes: make([]storage.Change, len(rows))}
		for i, r := range rows {
			tc.Changes[i].New = r
		}
		changes = append(changes, tc)
	}
	ticked, err = c.tickClocks(ctx, txn, changes, offsets)
	if err != nil {
		return nil, nil, nil, err
	}
	deltas = map[catalog.ID]*executor.Batch{}
	for _, tc := range changes {
		if tc.Truncated {
			// TRUNCATE of a table that views read is done row by row
			// (see truncate), so this only happens for tables nothing reads
			// (but perhaps a view being created, which then fails).
			truncated = append(truncated, tc.Rel)
			continue
		}
		b := deltas[tc.Rel.ID]
		if b == nil {
			b = &executor.Batch{}
			deltas[tc.Rel.ID] = b
		}
		for _, ch := range tc.Changes {
			if ch.Old != nil {
				b.Append(ch.Old, -1)
			}
			if ch.New != nil {
				b.Append(ch.New, 1)
			}
		}
	}
	for _, v := range c.views.order {
		touched := false
		v.epochIn = 0
		for _, in := range v.df.Inputs() {
			if b := deltas[in.ID]; b != nil && b.Len() > 0 {
				touched = true
				v.epochIn += int64(b.Len())
				if err := v.df.Push(ctx, in.ID, b); err != nil {
					return nil, nil, nil, viewError(v, err)
				}
			}
			touched = touched || ticked[in.ID]
		}
		if !touched {
			continue
		}
		if err := c.passWatermarks(ctx, v.df); err != nil {
			return nil, nil, nil, viewError(v, err)
		}
		out, err := v.df.Flush(ctx)
		if err != nil {
			return nil, nil, nil, viewError(v, err)
		}
		if wm := v.rel.Watermark; wm != nil {
			if d := v.df.OutputWatermark(wm.Column); advancesDatum(c.views.viewMarks[v.rel.ID], d) {
				id, was := v.rel.ID, c.views.viewMarks[v.rel.ID]
				c.views.undo = append(c.views.undo, func() {
					if was.IsNull() {
						delete(c.views.viewMarks, id)
					} else {
						c.views.viewMarks[id] = was
					}
				})
				c.views.setViewMark(v.rel.ID, d)
				if err := putViewMark(txn, v.rel.ID, d); err != nil {
					return nil, nil, nil, err
				}
				if ticked == nil {
					ticked = map[catalog.ID]bool{}
				}
				ticked[v.rel.ID] = true
			}
		}
		// The epoch's operator state goes into the same batch, so a
		// restart resumes from exactly this epoch.
		if err := saveViewState(txn, v.rel.ID, v.df); err != nil {
			return nil, nil, nil, fmt.Errorf("materialized view %q: save state: %w", v.rel.Name, err)
		}
		if out.Len() == 0 {
			continue
		}
		if v.rel.HasRowID() {
			rows, err := txn.AppendView(ctx, v.rel, out.Rows, out.Weights)
			if err != nil {
				return nil, nil, nil, viewError(v, err)
			}
			deltas[v.rel.ID] = insertBatch(rows)
			continue
		}
		if err := txn.ApplyView(v.rel, out.Rows, out.Weights, v.unique); err != nil {
			return nil, nil, nil, err
		}
		deltas[v.rel.ID] = widenView(out)
	}
	if err := c.appendSinkLogs(txn, deltas); err != nil {
		return nil, nil, nil, err
	}
	return deltas, truncated, ticked, nil
}

func viewError(v *liveView, err error) error {
	e := sqlerr.From(err)
	if e.Code == sqlerr.InternalError {
		return fmt.Errorf("materialized view %q: %w", v.rel.Name, err)
	}
	return e.WithDetail("While maintaining materialized view %q.", v.rel.Name)
}

// countsRows reports whether rel is a view that stores its rows with
// their count (a view whose result only inserts stores each row apart,
// under a row id, as a table without a key does).
func countsRows(rel *catalog.Relation) bool {
	return rel.Kind == catalog.MaterializedView && rel.Columns[len(rel.Columns)-1].Name == catalog.CountColumn
}

// insertBatch is rows, each inserted once.
func insertBatch(rows []types.Row) *executor.Batch {
	b := &executor.Batch{Rows: rows, Weights: make([]int64, len(rows))}
	for i := range b.Weights {
		b.Weights[i] = 1
	}
	return b
}

// widenView turns view rows (visible columns) into full relation rows: the
// hidden count column is NULL in every row a dataflow sees, so that equal
// rows stay equal whatever their multiplicity.
func widenView(b *executor.Batch) *executor.Batch {
	out := &executor.Batch{Weights: b.Weights, Rows: make([]types.Row, len(b.Rows))}
	for i, r := range b.Rows {
		w := make(types.Row, len(r)+1)
		copy(w, r)
		out.Rows[i] = w
	}
	return out
}

// viewQuery extracts the defining query of a stored materialized view.
func viewQuery(rel *catalog.Relation) (*ast.CreateMaterializedView, error) {
	stmts, err := parser.Parse(rel.SQL)
	if err != nil {
		return nil, fmt.Errorf("materialized view %q: stored definition: %w", rel.Name, err)
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("materialized view %q: stored definition has %d statements", rel.Name, len(stmts))
	}
	switch n := stmts[0].AST.(type) {
	case *ast.CreateStream:
		return streamAsView(n), nil
	case *ast.CreateSink:
		if n.Query != nil {
			return &ast.CreateMaterializedView{Name: &ast.TableName{Name: sinkViewName(n.Name.Name)}, Query: n.Query}, nil
		}
	}
	mv, ok := stmts[0].AST.(*ast.CreateMaterializedView)
	if !ok {
		return nil, fmt.Errorf("materialized view %q: stored definition is a %T", rel.Name, stmts[0].AST)
	}
	return mv, nil
}

// Relation implements planner.Catalog for the coordinator itself (plans
// made outside any session: views at startup).
func (c *Coordinator) Relation(schema, name string) (*catalog.Relation, error) {
	return c.lookup(schema, name)
}

// newDataflow plans q and builds its live dataflow. The caller either
// starts and backfills it, or restores its state.
func (c *Coordinator) newDataflow(ctx context.Context, cat planner.Catalog, q *ast.Query, env *executor.Runtime) (*planner.Plan, *planner.Dataflow, error) {
	if err := checkMaintainable(q); err != nil {
		return nil, nil, err
	}
	plan, err := planner.PlanStatement(&planner.Context{Catalog: cat}, q)
	if err != nil {
		return nil, nil, err
	}
	if len(plan.ParamTypes) > 0 {
		return nil, nil, sqlerr.New(sqlerr.UndefinedParameter, "a materialized view cannot have parameters")
	}
	env.Workers = c.workers
	df, err := plan.Dataflow(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	df.TrackState()
	return plan, df, nil
}

// backfill pushes the current contents of every input of df, read from
// store, and returns the dataflow's first output: the view's contents. df
// must be started. The rows read are counted in p (nil: not counted),
// which reports them every noticeInterval.
func backfill(ctx context.Context, df *planner.Dataflow, store executor.TableStore, p *progress, wms func(context.Context, *planner.Dataflow) error) (*executor.Batch, error) {
	for _, rel := range df.Inputs() {
		if unstored(rel) {
			vs, ok := store.(*viewStore)
			if !ok || vs.replay == nil {
				continue
			}
			err := vs.replay(ctx, rel, func(b *executor.Batch) error {
				p.add(b.Len())
				return df.Push(ctx, rel.ID, b)
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		err := store.Scan(ctx, rel, nil, func(rows []types.Row) error {
			b := &executor.Batch{Rows: make([]types.Row, len(rows)), Weights: make([]int64, len(rows))}
			for i, r := range rows {
				b.Rows[i] = append(types.Row(nil), r...)
				b.Weights[i] = 1
			}
			if err := df.Push(ctx, rel.ID, b); err != nil {
				return err
			}
			p.add(len(rows))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The watermarks as of the snapshot come after its rows.
	if err := wms(ctx, df); err != nil {
		return nil, err
	}
	p.setPhase(phaseStoring)
	return df.Flush(ctx)
}

// createMaterializedView runs CREATE MATERIALIZED VIEW: plan, backfill
// from a consistent snapshot while writers go on, catch up with the epochs
// committed meanwhile, store the contents and the definition in one batch,
// then keep the view up to date from the next epoch on. No change falls
// between the snapshot and the view's first epoch, and none counts twice.
func (s *session) createMaterializedView(ctx context.Context, n *ast.CreateMaterializedView, sql string) (*tagResult, error) {
	return s.createView(ctx, n, sql, nil)
}

// createView is createMaterializedView of a view with options (the query
// of a CREATE SINK AS SELECT).
func (s *session) createView(ctx context.Context, n *ast.CreateMaterializedView, sql string, opts map[string]string) (*tagResult, error) {
	if n.OrReplace {
		return nil, sqlerr.Unsupported("CREATE OR REPLACE MATERIALIZED VIEW is not supported")
	}
	c := s.c
	if existing, _ := c.lookup(n.Name.Schema, n.Name.Name); existing != nil {
		if n.IfNotExists {
			return tagOnly("CREATE MATERIALIZED VIEW", fmt.Sprintf("relation \"%s\" already exists, skipping", n.Name.Name)), nil
		}
		return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", n.Name.Name)
	}
	plan, df, err := c.newDataflow(ctx, s, n.Query, &executor.Runtime{Env: s.env()})
	if err != nil {
		return nil, err
	}
	rel := &catalog.Relation{Name: n.Name.Name, Kind: catalog.MaterializedView, SQL: sql, Options: opts}
	if len(n.Columns) > len(plan.Columns) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "too many column names were specified")
	}
	seen := map[string]bool{}
	for i, col := range plan.Columns {
		name := col.Name
		if i < len(n.Columns) {
			name = n.Columns[i]
		}
		if seen[name] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", name).
				WithHint("Give the view's columns distinct names with AS.")
		}
		seen[name] = true
		rel.Columns = append(rel.Columns, catalog.Column{Name: name, Type: col.Type})
		rel.PrimaryKey = append(rel.PrimaryKey, i)
	}
	if col := plan.EventTimeColumn(); col >= 0 {
		// Its readers get the watermarks its result carries (derived:
		// no expression, no clock of its own).
		rel.Watermark = &catalog.Watermark{Column: col}
	}
	appends, err := planner.InsertsOnly(&planner.Context{Catalog: s}, plan)
	if err != nil {
		return nil, err
	}
	key, unique := plan.UniqueKey()
	switch {
	case unique:
		// Keyed by its unique key, a group's row is updated in place and
		// read by a point lookup.
		rel.PrimaryKey, rel.Unique = key, true
		rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.CountColumn, Type: types.Int64, NotNull: true, Hidden: true})
	case appends:
		// A result that only inserts is stored like a table without a
		// key: each row under a fresh row id (storage.Txn.AppendView).
		df.AppendOnlyOutput()
		rel.PrimaryKey = []int{len(rel.Columns)}
		rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true})
	default:
		rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.CountColumn, Type: types.Int64, NotNull: true, Hidden: true})
	}
	pv := &pendingView{inputs: map[catalog.ID]bool{}}
	for _, in := range df.Inputs() {
		rel.DependsOn = append(rel.DependsOn, in.ID)
		pv.inputs[in.ID] = true
	}
	if err := df.Start(ctx); err != nil {
		return nil, err
	}

	// The snapshot and the registration of the pending view happen in one
	// hold of the epoch lock: every epoch after the snapshot is recorded
	// for the view. The backfill then runs without the lock, so writers
	// go on while a large view fills.
	vs := c.views
	vs.mu.Lock()
	snap := c.db.Snapshot()
	wms, err := c.watermarksLocked(df)
	var replay func(context.Context, *catalog.Relation, func(*executor.Batch) error) error
	if err == nil {
		replay, err = c.replayerLocked(df)
	}
	if err != nil {
		vs.mu.Unlock()
		_ = snap.Close()
		return nil, err
	}
	vs.pending[pv] = struct{}{}
	vs.mu.Unlock()
	registered := true
	defer func() {
		if registered {
			vs.mu.Lock()
			delete(vs.pending, pv)
			vs.mu.Unlock()
		}
	}()
	if c.testHookBackfill != nil {
		c.testHookBackfill()
	}
	prog := c.progress.start(ctx, "materialized view", rel.Name, phaseBackfill, nil)
	defer prog.done()
	collect := executor.NewCollect()
	out, err := backfill(ctx, df, &viewStore{base: snap, replay: replay}, prog, wms)
	_ = snap.Close()
	if err == nil {
		err = collect.Push(ctx, 0, out)
	}
	if err != nil {
		return nil, err
	}

	vs.mu.Lock()
	defer vs.mu.Unlock()
	delete(vs.pending, pv)
	registered = false
	if pv.err != nil {
		return nil, pv.err
	}
	for _, in := range df.Inputs() {
		if cur, _ := c.lookup("", in.Name); cur == nil || cur.ID != in.ID {
			return nil, sqlerr.New(sqlerr.SerializationFailure, "could not create the materialized view: %s \"%s\" was dropped while it was being filled", in.Kind, in.Name).
				WithHint("Retry the CREATE MATERIALIZED VIEW.")
		}
	}
	// Catch up with the epochs committed during the backfill, as one more
	// epoch of the view's own.
	for _, d := range pv.deltas {
		if err := df.Push(ctx, d.id, d.b); err != nil {
			return nil, err
		}
	}
	if len(pv.deltas) > 0 {
		if out, err = df.Flush(ctx); err == nil {
			err = collect.Push(ctx, 0, out)
		}
		if err != nil {
			return nil, err
		}
	}
	out = collect.Take()
	// The contents and the operator state go to storage in batches of
	// bounded size under the view's id, then the catalog entry and the
	// state marker in the last one: until it commits the view does not
	// exist, and what the others wrote is dropped (now if the CREATE fails,
	// at the next start if the server dies; see storage.DB.DropOrphans).
	id, err := c.db.NextID()
	if err != nil {
		return nil, fmt.Errorf("allocate object id: %w", err)
	}
	rel.ID = catalog.ID(id)
	created := false
	defer func() {
		if !created {
			c.dropPartialView(rel)
		}
	}()
	if err := writeViewChunks(ctx, c.db, rel, out, plan.UniqueRows(), df); err != nil {
		return nil, err
	}
	var mark types.Datum
	if wm := rel.Watermark; wm != nil {
		mark = df.OutputWatermark(wm.Column)
	}
	created, err = c.createRelation(ctx, rel, false, func(txn *storage.Txn) error {
		if !mark.IsNull() {
			if err := putViewMark(txn, rel.ID, mark); err != nil {
				return err
			}
		}
		return txn.PutState(rel.ID, stateMarkerOp, stateFormatKey, stateMarker(df))
	})
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", rel.Name)
	}
	c.attachState(rel.ID, df, true)
	vs.setViewMark(rel.ID, mark)
	v := &liveView{rel: rel, df: df, unique: plan.UniqueRows(), stats: &viewStats{}}
	vs.order = append(vs.order, v)
	vs.byID[rel.ID] = v
	vs.trimState()
	return tagOnly("CREATE MATERIALIZED VIEW"), nil
}

// viewChunk is how many view rows, or operator state entries, one batch of
// a view's creation holds: the batches stay far below the memtable size,
// so that none is held in memory whole and replaying the log after a
// crash stays cheap.
const viewChunk = 50_000

// writeViewChunks writes a new view's contents (out) and its operator
// state in batches of viewChunk, without the state marker: a view whose
// state has no marker is backfilled, never restored from part of it.
func writeViewChunks(ctx context.Context, db *storage.DB, rel *catalog.Relation, out *executor.Batch, unique bool, df *planner.Dataflow) error {
	for lo := 0; lo < out.Len(); lo += viewChunk {
		hi := min(lo+viewChunk, out.Len())
		txn := db.Begin()
		var err error
		if rel.HasRowID() {
			_, err = txn.AppendView(ctx, rel, out.Rows[lo:hi], out.Weights[lo:hi])
		} else {
			err = txn.ApplyView(rel, out.Rows[lo:hi], out.Weights[lo:hi], unique)
		}
		if err == nil {
			err = txn.Commit(ctx)
		}
		txn.Rollback()
		if err != nil {
			return err
		}
	}
	return saveStateChunks(ctx, db, rel.ID, df)
}

// saveStateChunks writes the dirty operator state of df (all of it, after
// a backfill) under view id in batches of viewChunk, without the marker.
func saveStateChunks(ctx context.Context, db *storage.DB, id catalog.ID, df *planner.Dataflow) error {
	txn, n := db.Begin(), 0
	defer func() { txn.Rollback() }()
	err := df.SaveState(func(op uint32, key, value []byte) error {
		if n == viewChunk {
			if err := txn.Commit(ctx); err != nil {
				return err
			}
			txn, n = db.Begin(), 0
		}
		n++
		return txn.PutState(id, op, key, value)
	})
	if err != nil {
		return err
	}
	return txn.Commit(ctx)
}

// dropPartialView deletes what a failed CREATE MATERIALIZED VIEW wrote
// before its catalog entry (the next start would, too).
func (c *Coordinator) dropPartialView(rel *catalog.Relation) {
	txn := c.db.Begin()
	defer txn.Rollback()
	err := txn.DropTableData(rel)
	if err == nil {
		err = txn.DropState(rel.ID)
	}
	if err == nil {
		err = txn.Commit(context.Background())
	}
	if err != nil {
		c.logger.Warn("dropping the data of a failed CREATE MATERIALIZED VIEW (the next start drops it)", "view", rel.Name, "err", err)
	}
}

// startViews rebuilds the dataflow of every stored view at startup: each
// restores its operator state from storage, written in the same batches as
// the view's contents and its inputs, so they agree (or, lacking usable
// state, is backfilled from the committed contents of its inputs).
func (c *Coordinator) startViews(ctx context.Context) error {
	c.views.mu.Lock()
	defer c.views.mu.Unlock()
	return c.rebuildViewsLocked(ctx)
}

// rebuildViewsLocked rebuilds every view's dataflow from storage: from its
// saved operator state, else by a backfill whose state it then saves.
func (c *Coordinator) rebuildViewsLocked(ctx context.Context) error {
	vs := c.views
	snap := c.db.Snapshot()
	defer snap.Close()
	store := &viewStore{base: snap, replay: func(ctx context.Context, rel *catalog.Relation, push func(*executor.Batch) error) error {
		upTo, err := c.committedOffsets(rel)
		if err != nil {
			return err
		}
		return c.replay(ctx, rel, upTo, push)
	}}
	var order []*liveView
	for _, rel := range c.relations(catalog.MaterializedView) {
		order = append(order, &liveView{rel: rel, stats: vs.statsOf(rel.ID)})
	}
	// Creation order is a topological order.
	sortByID(order)
	env := &executor.Runtime{Env: defaultEnv()}
	// What storage holds: a backfill below reads those of the views
	// before it.
	vs.viewMarks = nil
	for _, v := range order {
		mv, err := viewQuery(v.rel)
		if err != nil {
			return err
		}
		plan, df, err := c.newDataflow(ctx, c, mv.Query, env)
		if err != nil {
			return fmt.Errorf("materialized view %q: %w", v.rel.Name, err)
		}
		if v.rel.HasRowID() {
			df.AppendOnlyOutput()
		}
		v.unique = plan.UniqueRows()
		start := time.Now()
		n, rerr := c.restoreViewState(snap, v.rel.ID, df)
		if rerr == nil {
			vs.restored.Add(1)
			c.logger.Info("materialized view restored", "view", v.rel.Name, "entries loaded", n, "took", time.Since(start))
			v.df = df
			if err := vs.loadViewMark(snap, v.rel.ID); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(rerr, errNoViewState) {
			c.logger.Warn("materialized view state unusable, backfilling", "view", v.rel.Name, "err", rerr)
		}
		// The dataflow may hold part of the state: start over.
		if _, df, err = c.newDataflow(ctx, c, mv.Query, env); err != nil {
			return fmt.Errorf("materialized view %q: %w", v.rel.Name, err)
		}
		if v.rel.HasRowID() {
			df.AppendOnlyOutput()
		}
		if err := df.Start(ctx); err != nil {
			return fmt.Errorf("materialized view %q: %w", v.rel.Name, err)
		}
		prog := c.progress.start(ctx, "materialized view", v.rel.Name, phaseBackfill, func(msg string) { c.logger.Info(msg) })
		_, err = backfill(ctx, df, store, prog, c.passWatermarks)
		if err != nil {
			prog.done()
			return fmt.Errorf("materialized view %q: backfill: %w", v.rel.Name, err)
		}
		// Save the whole state, so that later epochs' dirty state lands on
		// a complete base and the next start restores.
		err = saveFullViewState(ctx, c.db, v.rel.ID, df)
		if wm := v.rel.Watermark; err == nil && wm != nil && !df.OutputWatermark(wm.Column).IsNull() {
			d := df.OutputWatermark(wm.Column)
			vs.setViewMark(v.rel.ID, d)
			txn := c.db.Begin()
			if err = putViewMark(txn, v.rel.ID, d); err == nil {
				err = txn.Commit(ctx)
			}
			txn.Rollback()
		}
		prog.done()
		if err != nil {
			return fmt.Errorf("materialized view %q: save state: %w", v.rel.Name, err)
		}
		vs.backfilled.Add(1)
		c.logger.Info("materialized view backfilled", "view", v.rel.Name, "took", time.Since(start))
		c.attachState(v.rel.ID, df, true)
		v.df = df
	}
	vs.order = order
	vs.byID = map[catalog.ID]*liveView{}
	for _, v := range order {
		vs.byID[v.rel.ID] = v
	}
	vs.trimState()
	return nil
}

var errNoViewState = errors.New("no saved operator state")

// viewMarkKey keys, under stateMarkerOp, the watermark a view's result
// last got (viewSet.viewMarks), saved with the epoch that moved it: a view
// created over it after a restart gets it before the next epoch does.
var viewMarkKey = []byte("watermark")

func putViewMark(txn *storage.Txn, id catalog.ID, d types.Datum) error {
	tz := byte(0)
	if d.Kind() == types.KindTimestampTZ {
		tz = 1
	}
	return txn.PutState(id, stateMarkerOp, viewMarkKey, binary.AppendVarint([]byte{tz}, d.Micros()))
}

// loadViewMark sets viewMarks[id] from what storage holds at snap.
func (vs *viewSet) loadViewMark(snap *storage.Snapshot, id catalog.ID) error {
	v, ok, err := snap.GetState(id, stateMarkerOp, viewMarkKey)
	if err != nil || !ok {
		return err
	}
	us, n := binary.Varint(v[min(1, len(v)):])
	if len(v) < 2 || n <= 0 {
		return fmt.Errorf("corrupt watermark of view %d", id)
	}
	d := types.NewTimestamp(us)
	if v[0] == 1 {
		d = types.NewTimestampTZ(us)
	}
	vs.setViewMark(id, d)
	return nil
}

// setViewMark sets viewMarks[id] to d, if d is one.
func (vs *viewSet) setViewMark(id catalog.ID, d types.Datum) {
	if d.IsNull() {
		return
	}
	if vs.viewMarks == nil {
		vs.viewMarks = map[catalog.ID]types.Datum{}
	}
	vs.viewMarks[id] = d
}

// restoreViewState prepares df to continue from view id's saved operator
// state: operators that read their state on demand are attached to it, the
// others load theirs whole. It returns the number of entries loaded.
// errNoViewState: the view has no complete saved state (no format marker).
func (c *Coordinator) restoreViewState(snap *storage.Snapshot, id catalog.ID, df *planner.Dataflow) (int, error) {
	marker, ok, err := snap.GetState(id, stateMarkerOp, stateFormatKey)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errNoViewState
	}
	if want := stateMarker(df); !bytes.Equal(marker, want) {
		return 0, fmt.Errorf("state saved by another format or dataflow (%x, want %x)", marker, want)
	}
	n := 0
	for _, op := range c.attachState(id, df, false) {
		err := snap.ScanOperatorState(id, op, func(key, value []byte) error {
			n++
			return df.RestoreState(op, key, value)
		})
		if err != nil {
			return n, err
		}
	}
	return n, df.FinishRestore()
}

func sortByID(vs []*liveView) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].rel.ID < vs[j-1].rel.ID; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

// dependents returns the views that read rel, directly or through other
// views, in reverse topological order (drop order).
func (c *Coordinator) dependents(rel *catalog.Relation) []*catalog.Relation {
	all := c.relations(catalog.MaterializedView, catalog.Sink)
	reached := map[catalog.ID]bool{rel.ID: true}
	var out []*catalog.Relation
	for changed := true; changed; {
		changed = false
		for _, v := range all {
			if reached[v.ID] {
				continue
			}
			for _, d := range v.DependsOn {
				if reached[d] {
					reached[v.ID] = true
					out = append(out, v)
					changed = true
					break
				}
			}
		}
	}
	// Views created later depend on earlier ones: drop the newest first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID > out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// dependencyError is PostgreSQL's 2BP01 for a DROP that others depend on.
func dependencyError(rel *catalog.Relation, deps []*catalog.Relation) error {
	lines := make([]string, len(deps))
	for i, d := range deps {
		lines[i] = fmt.Sprintf("%s %s depends on %s %s", d.Kind, d.Name, rel.Kind, rel.Name)
	}
	return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop %s %s because other objects depend on it", rel.Kind, rel.Name).
		WithDetail("%s", strings.Join(lines, "\n")).
		WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
}

// forgetView stops maintaining a dropped view, or delivering a dropped
// sink. Called with views.mu held. A sink's runner is returned cancelled,
// not waited for: the caller waits (sinkRunner.wait) after releasing
// views.mu, which every commit needs, while a write in flight may take its
// time to give up.
func (vs *viewSet) forgetView(id catalog.ID) *sinkRunner {
	r := vs.sinks[id]
	if r != nil {
		r.cancel()
		delete(vs.sinks, id)
	}
	delete(vs.byID, id)
	vs.forgetRetainedLocked(id)
	for i, v := range vs.order {
		if v.rel.ID == id {
			vs.order = append(vs.order[:i:i], vs.order[i+1:]...)
			break
		}
	}
	for sub := range vs.subs[id] {
		sub.fail(sqlerr.New(sqlerr.ObjectInUse, "the relation this query reads was dropped"))
	}
	delete(vs.subs, id)
	return r
}

// viewStore is the TableStore queries see: base-table reads pass through;
// a materialized view's stored rows are repeated by their count, with the
// hidden count column NULL (so that equal rows stay equal).
type viewStore struct {
	base executor.TableStore
	// replay reads an unstored source's records for a backfill (nil: a
	// backfill reads none of them; a push query follows them from now).
	replay func(ctx context.Context, rel *catalog.Relation, push func(*executor.Batch) error) error
}

func (v *viewStore) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	if unstored(rel) {
		return refuseUnstored(rel)
	}
	if !countsRows(rel) {
		return v.base.Scan(ctx, rel, prefix, yield)
	}
	last := len(rel.Columns) - 1
	var out []types.Row
	return v.base.Scan(ctx, rel, prefix, func(rows []types.Row) error {
		out = out[:0]
		for _, r := range rows {
			n := r[last].Int()
			r[last] = types.Null
			for ; n > 0; n-- {
				out = append(out, r)
			}
		}
		for len(out) > 0 {
			k := min(len(out), storage.ScanBatchSize)
			if err := yield(out[:k]); err != nil {
				return err
			}
			out = out[k:]
		}
		return nil
	})
}

func (v *viewStore) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	if unstored(rel) {
		return nil, false, refuseUnstored(rel)
	}
	row, ok, err := v.base.Get(ctx, rel, key)
	if ok && countsRows(rel) {
		row[len(row)-1] = types.Null
	}
	return row, ok, err
}

func (v *viewStore) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	if err := writable(rel); err != nil {
		return err
	}
	return v.base.Insert(ctx, rel, row)
}

func (v *viewStore) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	if err := writable(rel); err != nil {
		return err
	}
	if err := refuseUnlessAppend(rel); err != nil {
		return err
	}
	return v.base.Update(ctx, rel, old, new)
}

func (v *viewStore) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	if err := writable(rel); err != nil {
		return err
	}
	if err := refuseUnlessAppend(rel); err != nil {
		return err
	}
	return v.base.Delete(ctx, rel, old)
}

// refuseUnlessAppend refuses to update or delete rows of a relation with event
// time: its watermark promises that no change comes below it.
func refuseUnlessAppend(rel *catalog.Relation) error {
	if rel.Watermark != nil {
		return sqlerr.New(sqlerr.FeatureNotSupported, "cannot update or delete rows of \"%s\": it has a WATERMARK, so it is append-only", rel.Name)
	}
	return nil
}

func writable(rel *catalog.Relation) error {
	if rel.Kind != catalog.Table {
		return sqlerr.New(sqlerr.WrongObjectType, "cannot change %s \"%s\"", rel.Kind, rel.Name).
			WithHint("Only tables accept INSERT, UPDATE and DELETE; a %s changes with its inputs.", rel.Kind)
	}
	return nil
}
