package coord

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// A sink delivers the changes of one relation to an external system. Each
// epoch that changes the relation appends the changes to the sink's log,
// in the epoch's own batch (maintain), numbered by the sink's sequence; the
// sink's goroutine delivers the log in order and trims what was
// delivered. The log decouples the two: a sink that cannot reach its
// system falls behind without holding up anything else, and resumes where
// it stopped. A transactional sink (Kafka) knows which entry its system
// holds last, so that after a crash nothing is written twice.

// Sink states, as weir_catalog.sinks shows them.
const (
	sinkRunning  = "running"
	sinkRetrying = "retrying"
)

// sinkEntryChunk bounds the rows of one log entry written for a sink's
// initial contents.
const sinkEntryChunk = 50_000

// sinkRunner drives one sink.
type sinkRunner struct {
	c    *Coordinator
	rel  *catalog.Relation // the sink (Kind Sink)
	from *catalog.Relation // what it delivers
	key  []int             // key columns, indexes into rel.Columns
	vis  []int             // from's visible columns: rel.Columns

	// next is the seq of the next log entry; appended is set when the
	// epoch being committed appended one. Both guarded by viewSet.mu.
	next     uint64
	appended bool

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	// dead is the <sink>_dead_letters relation, nil for a sink that has
	// none; resend carries ALTER SINK ... RETRY DEAD LETTERS to the
	// goroutine, which owns the connector.
	dead   *catalog.Relation
	resend chan resendRequest

	delivered atomic.Uint64 // last seq delivered
	changes   atomic.Int64  // changes delivered
	stats     *sinkStats
	// deadLetters counts the letters recorded since the server started.
	deadLetters atomic.Int64
	mu          sync.Mutex
	state       string
	lastErr     string
	sink        executor.Sink // once opened, for its health
}

func (r *sinkRunner) setState(state string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.lastErr = state, ""
	if err != nil {
		r.lastErr = err.Error()
	}
}

// wait waits for the goroutine of a cancelled runner; nil waits for none.
func (r *sinkRunner) wait() {
	if r != nil {
		<-r.done
	}
}

func (r *sinkRunner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// appendSinkLogs adds the epoch's changes of every sink's relation to its
// log, in txn. Called by maintain, with viewSet.mu held.
func (c *Coordinator) appendSinkLogs(txn *storage.Txn, deltas map[catalog.ID]*executor.Batch) error {
	for _, r := range c.views.sinks {
		b := deltas[r.from.ID]
		if b == nil || b.Len() == 0 {
			continue
		}
		entry, err := encodeSinkEntry(nil, b.Rows, b.Weights, r.from.Columns)
		if err != nil {
			return err
		}
		if err := txn.AppendSinkLog(r.rel.ID, r.next, entry); err != nil {
			return err
		}
		r.appended = true
	}
	return nil
}

// sinksCommitted ends the epoch for the sinks: after a commit, entries
// appended count and their sinks wake; after a failed one, they never
// existed. Called with viewSet.mu held.
func (c *Coordinator) sinksCommitted(ok bool) {
	for _, r := range c.views.sinks {
		if !r.appended {
			continue
		}
		r.appended = false
		if ok {
			r.stats.appended(r.next)
			r.next++
			r.signal()
		}
	}
}

// encodeSinkEntry appends rows with their weights: per row its weight
// (varint), its encoded length (uvarint) and storage.EncodeRow's bytes.
func encodeSinkEntry(buf []byte, rows []types.Row, weights []int64, cols []catalog.Column) ([]byte, error) {
	var row []byte
	for i, r := range rows {
		var err error
		if row, err = storage.EncodeRow(row[:0], r, cols); err != nil {
			return nil, err
		}
		buf = binary.AppendVarint(buf, weights[i])
		buf = binary.AppendUvarint(buf, uint64(len(row)))
		buf = append(buf, row...)
	}
	return buf, nil
}

// decodeSinkEntry decodes an entry into b, keeping the columns vis.
func decodeSinkEntry(entry []byte, cols []catalog.Column, vis []int, b *executor.Batch) error {
	for len(entry) > 0 {
		w, n := binary.Varint(entry)
		if n <= 0 {
			return errors.New("malformed sink log entry")
		}
		entry = entry[n:]
		size, n := binary.Uvarint(entry)
		if n <= 0 || uint64(len(entry)-n) < size {
			return errors.New("malformed sink log entry")
		}
		full, err := storage.DecodeRow(nil, entry[n:n+int(size)], cols)
		if err != nil {
			return err
		}
		entry = entry[n+int(size):]
		row := make(types.Row, len(vis))
		for i, j := range vis {
			row[i] = full[j]
		}
		b.Append(row, w)
	}
	return nil
}

// sinkRelation describes a sink of from: from's visible columns, and the
// key the sink addresses rows by (the key option, else from's key when
// it names at most one row).
func sinkRelation(name string, from *catalog.Relation, opts map[string]string) (*catalog.Relation, []int, error) {
	rel := &catalog.Relation{Name: name, Kind: catalog.Sink, Options: opts, DependsOn: []catalog.ID{from.ID}}
	vis := from.Visible()
	pos := map[int]int{}
	for i, j := range vis {
		rel.Columns = append(rel.Columns, from.Columns[j])
		pos[j] = i
	}
	var key []int
	if k := opts["key"]; k != "" {
		for _, name := range strings.Split(k, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			i := rel.ColumnIndex(name)
			if i < 0 {
				return nil, nil, sqlerr.New(sqlerr.UndefinedColumn, "key column \"%s\" is not a column of \"%s\"", name, from.Name)
			}
			key = append(key, i)
		}
	} else if from.Kind != catalog.MaterializedView || from.Unique {
		for _, j := range from.PrimaryKey {
			i, ok := pos[j]
			if !ok { // a hidden row id: rows have no key
				key = nil
				break
			}
			key = append(key, i)
		}
	}
	rel.PrimaryKey = key
	return rel, key, nil
}

// createSink runs CREATE SINK name FROM relation WITH (...): it opens the
// connector (so that wrong options or an unreachable system fail the
// statement), then, under the epoch lock, writes the relation's current
// rows as the first entries of the sink's log with the catalog entry, so
// that the sink delivers the contents, then every change.
func (s *session) createSink(ctx context.Context, n *ast.CreateSink, sql string) (server.Result, error) {
	c := s.c
	if existing, _ := c.lookup("", n.Name.Name); existing != nil {
		if n.IfNotExists {
			return tagOnly("CREATE SINK", fmt.Sprintf("relation \"%s\" already exists, skipping", n.Name.Name)), nil
		}
		return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", n.Name.Name)
	}
	fromName := n.From
	if n.Query != nil {
		// The query is kept as a materialized view of the sink's own,
		// <sink>_view, dropped with it.
		view := &ast.CreateMaterializedView{Name: &ast.TableName{Name: sinkViewName(n.Name.Name)}, Query: n.Query}
		if _, err := s.createView(ctx, view, sql, map[string]string{optSinkOf: n.Name.Name}); err != nil {
			return nil, err
		}
		fromName = view.Name
	}
	res, err := s.createSinkFrom(ctx, n, fromName, sql)
	if err != nil && n.Query != nil {
		if v, _ := c.lookup("", fromName.Name); v != nil {
			var stopped *sinkRunner
			c.views.mu.Lock()
			if derr := c.dropRelation(ctx, v); derr == nil {
				stopped = c.views.forgetView(v.ID)
			}
			c.views.mu.Unlock()
			stopped.wait()
		}
	}
	return res, err
}

// optSinkOf marks the view that holds the query of CREATE SINK ... AS
// SELECT with the sink's name.
const optSinkOf = "weir.sink_of"

func sinkViewName(sink string) string { return sink + "_view" }

func (s *session) createSinkFrom(ctx context.Context, n *ast.CreateSink, fromName *ast.TableName, sql string) (server.Result, error) {
	c := s.c
	from, err := c.lookup(fromName.Schema, fromName.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case isVirtual(from):
		return nil, sqlerr.New(sqlerr.WrongObjectType, "cannot sink system relation \"%s\"", from.Name)
	case from.Kind == catalog.View || from.Kind == catalog.Sink:
		return nil, sqlerr.New(sqlerr.WrongObjectType, "cannot sink %s \"%s\"", from.Kind, from.Name).
			WithHint("A sink delivers a table, source, stream or materialized view.")
	}
	opts, err := connectorOptions(n.Options, false)
	if err != nil {
		return nil, err
	}
	rel, key, err := sinkRelation(n.Name.Name, from, opts)
	if err != nil {
		return nil, err
	}
	rel.SQL = sql
	id, err := c.db.NextID()
	if err != nil {
		return nil, err
	}
	rel.ID = catalog.ID(id)
	sink, err := c.openSink(ctx, rel, key)
	if err != nil {
		return nil, err
	}
	rels := []*catalog.Relation{rel}
	if _, ok := sink.(executor.Resender); ok {
		dead := newDeadLettersRelation(rel.Name)
		if existing, _ := c.lookup("", dead.Name); existing != nil {
			sink.Close()
			return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", dead.Name).
				WithHint("What sink \"%s\" cannot deliver goes to a relation of that name; rename one.", rel.Name)
		}
		rels = append(rels, dead)
	}
	vs := c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	snap := c.db.Snapshot()
	defer snap.Close()
	r := c.newSinkRunner(rel, from, key)
	_, err = c.createRelations(ctx, rels, func(txn *storage.Txn) error {
		var rows []types.Row
		var weights []int64
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			entry, err := encodeSinkEntry(nil, rows, weights, from.Columns)
			if err != nil {
				return err
			}
			if err := txn.AppendSinkLog(rel.ID, r.next, entry); err != nil {
				return err
			}
			r.next++
			rows, weights = rows[:0], weights[:0]
			return nil
		}
		if unstored(from) {
			return nil // a source that keeps no rows: its records from now on
		}
		err := (&viewStore{base: snap}).Scan(ctx, from, nil, func(batch []types.Row) error {
			for _, row := range batch {
				rows = append(rows, append(types.Row(nil), row...))
				weights = append(weights, 1)
				if len(rows) == sinkEntryChunk {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
	if err != nil {
		sink.Close()
		return nil, err
	}
	if len(rels) > 1 {
		r.dead = rels[1]
	}
	c.startSink(r, sink)
	return tagOnly("CREATE SINK"), nil
}

// appendOnly reports whether rel only ever inserts rows: a stream source,
// a table with a WATERMARK, a view whose result only inserts (an EMIT ON
// WINDOW CLOSE aggregate's among them).
func (c *Coordinator) appendOnly(rel *catalog.Relation) bool {
	if rel.Options[optDeadLettersOf] != "" {
		return false // RETRY DEAD LETTERS deletes its rows
	}
	ok, err := planner.RelationInsertsOnly(&planner.Context{Catalog: c}, rel)
	return ok && err == nil
}

// openSink opens the connector of sink rel.
func (c *Coordinator) openSink(ctx context.Context, rel *catalog.Relation, key []int) (executor.Sink, error) {
	conn, err := c.connectorOf(rel.Options)
	if err != nil {
		return nil, err
	}
	opts, err := c.withSecrets(rel.Options)
	if err != nil {
		return nil, err
	}
	from := c.byID(rel.DependsOn[0])
	return conn.OpenSink(ctx, executor.SinkConfig{
		Name: rel.Name, Relation: rel, Key: key, Options: opts,
		AppendOnly: from != nil && c.appendOnly(from),
		Logger:     c.logger.With("sink", rel.Name),
	})
}

func (c *Coordinator) newSinkRunner(rel, from *catalog.Relation, key []int) *sinkRunner {
	r := &sinkRunner{c: c, rel: rel, from: from, key: key, vis: from.Visible(), next: 1,
		wake: make(chan struct{}, 1), done: make(chan struct{}), resend: make(chan resendRequest), state: sinkRunning, stats: newSinkStats()}
	if dead, _ := c.lookup("", deadLettersName(rel.Name)); dead != nil && dead.Options[optDeadLettersOf] == rel.Name {
		r.dead = dead
	}
	return r
}

// startSink registers r (called with viewSet.mu held) and starts its
// goroutine; sink is the opened connector, or nil to open it there.
func (c *Coordinator) startSink(r *sinkRunner, sink executor.Sink) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	c.views.sinks[r.rel.ID] = r
	go r.run(ctx, sink)
}

// startSinks starts every sink in the catalog, each at the end of its log.
func (c *Coordinator) startSinks() error {
	vs := c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, rel := range c.relations(catalog.Sink) {
		from := c.byID(rel.DependsOn[0])
		if from == nil {
			return fmt.Errorf("sink %q: the relation it delivers (id %d) is gone", rel.Name, rel.DependsOn[0])
		}
		r := c.newSinkRunner(rel, from, rel.PrimaryKey)
		delivered, last, err := c.db.SinkLogPosition(rel.ID)
		if err != nil {
			return fmt.Errorf("sink %q: %w", rel.Name, err)
		}
		// What the log knows was delivered, until the sink reaches its
		// system and learns where that stands.
		r.next = last + 1
		r.delivered.Store(delivered)
		c.startSink(r, nil)
	}
	return nil
}

// byID returns the relation of id, or nil.
func (c *Coordinator) byID(id catalog.ID) *catalog.Relation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, r := range c.byName {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// run delivers the log: it opens the sink (retrying), learns where its
// system is, then delivers each entry after that, waiting for more.
func (r *sinkRunner) run(ctx context.Context, sink executor.Sink) {
	defer close(r.done)
	log := r.c.logger.With("sink", r.rel.Name)
	backoff := minBackoff
	wait := func(err error) bool {
		r.stats.retries.Add(1)
		r.setState(sinkRetrying, err)
		log.Warn("sink: retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		return true
	}
	var pos, planned uint64 // planned: the last entry of a recorded plan
	for {
		var err error
		if sink == nil {
			sink, err = r.c.openSink(ctx, r.rel, r.key)
		}
		var acked uint64
		if err == nil {
			acked, pos, err = r.position(ctx, sink)
		}
		if err == nil && pos > acked {
			// Delivered before a crash that lost the trim.
			err = r.c.db.TrimSinkLog(r.rel.ID, acked, pos)
		}
		if err == nil {
			planned, err = r.c.db.PlannedSinkDelivery(r.rel.ID)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil || !wait(err) {
			if sink != nil {
				sink.Close()
			}
			return
		}
	}
	defer sink.Close()
	r.mu.Lock()
	r.sink = sink
	r.mu.Unlock()
	r.delivered.Store(pos)
	backoff = minBackoff
	r.setState(sinkRunning, nil)
	merger, _ := sink.(executor.MergingSink)
	var lim mergeLimits
	if merger != nil {
		lim.maxChanges, lim.linger = merger.MergeLimits()
	}
	if planned <= pos {
		planned = 0 // a plan the sink's system reports delivered
	}
	var d delivery
	for ctx.Err() == nil {
		err := r.gather(ctx, pos, planned, lim, &d)
		if err == nil && d.last < d.first {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
			case req := <-r.resend:
				req.done <- r.resendDeadLetters(ctx, sink)
			}
			continue
		}
		if err == nil {
			// Nothing leaves before the epochs it holds are durable.
			err = r.c.db.SyncCommitted()
		}
		if err == nil && lim.linger > 0 && planned == 0 {
			// Which entries this delivery covers must outlive a crash:
			// else a restart could merge them otherwise and send the
			// same changes again under another idempotency key.
			if err = r.c.db.PlanSinkDelivery(r.rel.ID, pos, d.last); err == nil {
				planned = d.last
			}
		}
		if err == nil {
			if d.last > d.first {
				err = merger.WriteEpochs(ctx, d.first, d.last, d.changes)
			} else {
				err = sink.Write(ctx, d.first, d.changes)
			}
			var dl *executor.DeadLettersError
			switch {
			case errors.As(err, &dl) && r.dead != nil:
				// Delivered but for these: recorded with the trim, in
				// one write, and the sink goes on.
				err = r.recordDeadLetters(ctx, dl.Letters, pos, d.last)
			case err == nil:
				err = r.c.db.TrimSinkLog(r.rel.ID, pos, d.last)
			}
		}
		if err != nil {
			if ctx.Err() != nil || !wait(err) {
				return
			}
			continue
		}
		planned = 0
		pos = d.last
		r.delivered.Store(pos)
		r.stats.deliveredThrough(pos)
		r.changes.Add(int64(len(d.changes)))
		if backoff != minBackoff {
			backoff = minBackoff
			r.setState(sinkRunning, nil)
		}
	}
}

// mergeLimits are a MergingSink's: the zero value merges nothing.
type mergeLimits struct {
	maxChanges int
	linger     time.Duration
}

// delivery is what a sink's goroutine sends next: the log's entries first
// through last (none when last < first), their changes paired entry by
// entry.
type delivery struct {
	first, last uint64
	changes     []executor.Change
	b           executor.Batch
	paired      []executor.Change
}

// gather reads into d the entries after pos that the next delivery
// covers: those through planned when a delivery is planned; else the
// next entry and, when lim allows merging, the entries after it while
// their changes fit in lim.maxChanges, waiting up to lim.linger for more
// while they do not fill it.
func (r *sinkRunner) gather(ctx context.Context, pos, planned uint64, lim mergeLimits, d *delivery) error {
	clear(d.changes)
	d.first, d.last, d.changes = pos+1, pos, d.changes[:0]
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		full := false
		err := r.c.db.ScanSinkLog(r.rel.ID, d.last+1, func(seq uint64, data []byte) (bool, error) {
			if planned != 0 && seq > planned {
				return false, nil
			}
			d.b.Rows, d.b.Weights = d.b.Rows[:0], d.b.Weights[:0]
			if err := decodeSinkEntry(data, r.from.Columns, r.vis, &d.b); err != nil {
				return false, fmt.Errorf("entry %d: %w", seq, err)
			}
			clear(d.paired)
			d.paired = executor.PairChanges(&d.b, r.key, d.paired[:0])
			if planned == 0 && d.last >= d.first && len(d.changes)+len(d.paired) > lim.maxChanges {
				full = true
				return false, nil
			}
			d.changes = append(d.changes, d.paired...)
			d.last = seq
			if planned != 0 {
				return seq < planned, nil
			}
			full = len(d.changes) >= lim.maxChanges
			return lim.linger > 0 && !full, nil
		})
		switch {
		case err != nil:
			return err
		case planned != 0:
			if d.last != planned {
				return fmt.Errorf("the planned delivery of entries %d to %d finds the log ending at %d", d.first, planned, d.last)
			}
			return nil
		case d.last < d.first || full || lim.linger == 0:
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(lim.linger)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-r.wake:
		}
	}
}

// position returns the last seq the log recorded as delivered (acked),
// and the last seq the sink delivered (pos): what its system says it
// holds, else acked.
func (r *sinkRunner) position(ctx context.Context, sink executor.Sink) (acked, pos uint64, err error) {
	acked, _, err = r.c.db.SinkLogPosition(r.rel.ID)
	if err != nil {
		return 0, 0, err
	}
	seq, ok, err := sink.Delivered(ctx)
	if err != nil {
		return 0, 0, err
	}
	if ok && seq > acked {
		return acked, seq, nil
	}
	return acked, acked, nil
}

// sinkStatus is a sink's state as weir_catalog.sinks and /metrics show it.
type sinkStatus struct {
	r              *sinkRunner
	state, lastErr string
	delivered      uint64
	pending        int64
}

func (c *Coordinator) sinkStatuses() []sinkStatus {
	vs := c.views
	vs.mu.Lock()
	out := make([]sinkStatus, 0, len(vs.sinks))
	for _, r := range vs.sinks {
		out = append(out, sinkStatus{r: r, pending: int64(r.next - 1)})
	}
	vs.mu.Unlock()
	for i := range out {
		st := &out[i]
		st.r.mu.Lock()
		st.state, st.lastErr = st.r.state, st.r.lastErr
		h, _ := st.r.sink.(executor.HealthReporter)
		st.r.mu.Unlock()
		if st.state == sinkRunning && h != nil {
			// A sink waiting on its system (a request being retried) says
			// so before its Write gives up.
			if err := h.Health(); err != nil {
				st.state, st.lastErr = sinkRetrying, err.Error()
			}
		}
		st.delivered = st.r.delivered.Load()
		st.pending = max(st.pending-int64(st.delivered), 0)
	}
	return out
}

// SinkStats implements server.PipelineReporter.
func (c *Coordinator) SinkStats() []server.SinkStats {
	var out []server.SinkStats
	for _, st := range c.sinkStatuses() {
		out = append(out, server.SinkStats{Name: st.r.rel.Name, Running: st.state == sinkRunning,
			Changes: st.r.changes.Load(), Delivered: st.delivered, Pending: st.pending,
			Retries: st.r.stats.retries.Load(), DeadLetters: st.r.deadLetters.Load(), DeliveryLatency: st.r.stats.latency})
	}
	return out
}

// sinkRows are the rows of weir_catalog.sinks.
func (c *Coordinator) sinkRows() []types.Row {
	var out []types.Row
	for _, st := range c.sinkStatuses() {
		r := st.r
		out = append(out, types.Row{
			txt(r.rel.Name), txt(r.from.Name), txt(r.rel.Options["connector"]), txt(r.rel.Options["topic"]),
			txt(st.state), txtOrNull(st.lastErr), i8(int64(st.delivered)), i8(st.pending), i8(r.changes.Load()),
		})
	}
	return out
}

// deadLettersName is the name of sink's dead-letter relation.
func deadLettersName(sink string) string { return sink + "_dead_letters" }

// optDeadLettersOf marks a dead-letter relation with its sink's name.
const optDeadLettersOf = "weir.dead_letters_of"

// newDeadLettersRelation describes the dead-letter relation of sink: what
// it gave up delivering, as it sent it.
func newDeadLettersRelation(sink string) *catalog.Relation {
	return ownedLog(deadLettersName(sink), optDeadLettersOf, sink, []catalog.Column{
		{Name: "key", Type: types.Text},
		{Name: "payload", Type: types.Text},
		{Name: "status", Type: types.Int32},
		{Name: "response", Type: types.Text},
		{Name: "attempts", Type: types.Int32},
		{Name: "at", Type: types.TimestampTZ},
	})
}

func deadLetterRow(l *executor.DeadLetter, at time.Time) types.Row {
	return types.Row{
		types.NewText(l.Key), types.NewText(string(l.Payload)), types.NewInt32(int32(l.Status)),
		types.NewText(l.Response), types.NewInt32(int32(l.Attempts)),
		types.NewTimestampTZ(types.TimeToTimestamp(at)), types.Null,
	}
}

// recordDeadLetters commits letters to the dead-letter relation and the
// trim of the log through seq, in one epoch: after a crash the entry is
// either delivered with its letters recorded, or delivered again.
func (r *sinkRunner) recordDeadLetters(ctx context.Context, letters []executor.DeadLetter, from, through uint64) error {
	txn := r.c.db.Begin()
	defer txn.Rollback()
	now := time.Now()
	for i := range letters {
		if err := txn.Insert(ctx, r.dead, deadLetterRow(&letters[i], now)); err != nil {
			return err
		}
	}
	if err := txn.TrimSinkLog(r.rel.ID, from, through); err != nil {
		return err
	}
	if err := r.c.commit(ctx, txn); err != nil {
		return err
	}
	r.deadLetters.Add(int64(len(letters)))
	return nil
}

// resendRequest asks a sink's goroutine to send its dead letters again.
type resendRequest struct {
	done chan resendResult
}

type resendResult struct {
	sent, failed int
	err          error
}

// resendDeadLetters sends every dead letter again: those accepted leave
// the relation, the others stay with their new status and attempts.
func (r *sinkRunner) resendDeadLetters(ctx context.Context, sink executor.Sink) resendResult {
	rs, ok := sink.(executor.Resender)
	if !ok || r.dead == nil {
		return resendResult{err: sqlerr.New(sqlerr.FeatureNotSupported, "sink \"%s\" keeps no dead letters", r.rel.Name)}
	}
	var rows []types.Row
	err := r.c.db.Latest().Scan(ctx, r.dead, nil, func(batch []types.Row) error {
		for _, row := range batch {
			rows = append(rows, append(types.Row(nil), row...))
		}
		return nil
	})
	if err != nil {
		return resendResult{err: err}
	}
	var res resendResult
	txn := r.c.db.Begin()
	defer txn.Rollback()
	for _, row := range rows {
		l := executor.DeadLetter{Key: row[0].Str(), Payload: []byte(row[1].Str()), Status: int(row[2].Int()),
			Response: row[3].Str(), Attempts: int(row[4].Int())}
		if err := rs.Resend(ctx, &l); err != nil {
			if ctx.Err() != nil {
				return resendResult{err: ctx.Err()}
			}
			res.failed++
			if err := txn.Update(ctx, r.dead, row, append(deadLetterRow(&l, time.Now())[:6:6], row[6])); err != nil {
				return resendResult{err: err}
			}
			continue
		}
		res.sent++
		if err := txn.Delete(ctx, r.dead, row); err != nil {
			return resendResult{err: err}
		}
	}
	if err := r.c.commit(ctx, txn); err != nil {
		return resendResult{err: err}
	}
	return res
}

// alterSink runs ALTER SINK name RETRY DEAD LETTERS: the sink's goroutine
// sends them again between two epochs.
func (s *session) alterSink(ctx context.Context, n *ast.AlterSink) (server.Result, error) {
	rel, err := s.c.lookup(n.Name.Schema, n.Name.Name)
	if err != nil || rel.Kind != catalog.Sink {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "sink \"%s\" does not exist", n.Name.Name)
	}
	vs := s.c.views
	vs.mu.Lock()
	r := vs.sinks[rel.ID]
	vs.mu.Unlock()
	if r == nil {
		return nil, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "sink \"%s\" is not running", rel.Name)
	}
	req := resendRequest{done: make(chan resendResult, 1)}
	select {
	case r.resend <- req:
	case <-r.done:
		return nil, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "sink \"%s\" stopped", rel.Name)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var res resendResult
	select {
	case res = <-req.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}
	return tagOnly("ALTER SINK", fmt.Sprintf("%d dead letters delivered, %d still undeliverable", res.sent, res.failed)), nil
}
