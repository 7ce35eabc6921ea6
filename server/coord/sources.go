package coord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// A relation fed by a connector (CREATE SOURCE, or CREATE TABLE ... WITH
// (connector = ...)) has a runner: a goroutine that polls the connector
// and commits each poll as one epoch, its changes and the offsets after
// them in one batch (Coordinator.commit), so that after a crash the source
// resumes exactly after the last epoch: nothing lost, nothing applied
// twice. The loop polls only after the previous epoch committed, which is
// the backpressure: a connector reads ahead a bounded amount, then waits.

// Source states, as weir_catalog.sources shows them.
const (
	sourceRunning  = "running"
	sourceRetrying = "retrying" // a transient error; the runner polls again after a backoff
	sourceFailed   = "failed"   // stopped: on_error = 'fail' met a bad record, or the source cannot go on
)

// Retry backoff bounds of a source or sink that met a transient error.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// sourceRunner drives one connector-fed relation.
type sourceRunner struct {
	c       *Coordinator
	rel     *catalog.Relation
	errs    *catalog.Relation // the <source>_errors relation, nil unless on_error = 'dlq'
	onError executor.OnError
	src     executor.Source

	cancel context.CancelFunc
	done   chan struct{}

	records, rejected, bytes atomic.Int64
	lastPoll                 atomic.Int64 // unix nanos of the last poll that returned records

	mu      sync.Mutex
	state   string
	lastErr string
}

func (r *sourceRunner) setState(state string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = state
	r.lastErr = ""
	if err != nil {
		r.lastErr = err.Error()
	}
}

// status is the runner's state; a running source that cannot reach its
// system (it says so while waiting for records) is retrying.
func (r *sourceRunner) status() (state, lastErr string) {
	r.mu.Lock()
	state, lastErr = r.state, r.lastErr
	r.mu.Unlock()
	if h, ok := r.src.(executor.HealthReporter); ok && state == sourceRunning {
		if err := h.Health(); err != nil {
			return sourceRetrying, err.Error()
		}
	}
	return state, lastErr
}

// stop ends the runner and closes its connector; it waits for the loop.
func (r *sourceRunner) stop() {
	r.cancel()
	<-r.done
	r.src.Close()
}

// sourceSet holds the running sources by relation id.
type sourceSet struct {
	mu   sync.Mutex
	byID map[catalog.ID]*sourceRunner
}

func (ss *sourceSet) add(r *sourceRunner) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byID == nil {
		ss.byID = map[catalog.ID]*sourceRunner{}
	}
	ss.byID[r.rel.ID] = r
}

// remove stops and forgets the runner of relation id, if any, and
// reports whether there was one.
func (ss *sourceSet) remove(id catalog.ID) bool {
	ss.mu.Lock()
	r := ss.byID[id]
	delete(ss.byID, id)
	ss.mu.Unlock()
	if r != nil {
		r.stop()
	}
	return r != nil
}

func (ss *sourceSet) all() []*sourceRunner {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*sourceRunner, 0, len(ss.byID))
	for _, r := range ss.byID {
		out = append(out, r)
	}
	return out
}

// errorsRelationName is the name of source's error relation.
func errorsRelationName(source string) string { return source + "_errors" }

// optErrorsOf marks an error relation with the name of its source.
const optErrorsOf = "weir.errors_of"

// newErrorsRelation describes the error relation of source: one row per
// record that could not be decoded.
func newErrorsRelation(source string) *catalog.Relation {
	return ownedLog(errorsRelationName(source), optErrorsOf, source, []catalog.Column{
		{Name: "topic", Type: types.Text},
		{Name: "partition", Type: types.Int32},
		{Name: "offset", Type: types.Int64},
		{Name: "key", Type: types.Bytea},
		{Name: "value", Type: types.Bytea},
		{Name: "error", Type: types.Text},
		{Name: "at", Type: types.TimestampTZ},
	})
}

// ownedLog describes a relation Weir fills for an owner (a source's
// errors, a sink's dead letters) and drops with it: cols, keyed by a
// hidden row id, marked with opt = owner. Users read it; only Weir
// writes it.
func ownedLog(name, opt, owner string, cols []catalog.Column) *catalog.Relation {
	cols = append(cols, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true})
	return &catalog.Relation{
		Name: name, Kind: catalog.Source, Columns: cols,
		PrimaryKey: []int{len(cols) - 1},
		Options:    map[string]string{opt: owner},
	}
}

// parseOnError reads the on_error option.
func parseOnError(opts map[string]string) (executor.OnError, error) {
	switch v := strings.ToLower(opts["on_error"]); v {
	case "", "dlq":
		return executor.OnErrorDeadLetter, nil
	case "skip":
		return executor.OnErrorSkip, nil
	case "fail":
		return executor.OnErrorFail, nil
	default:
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option on_error: \"%s\"", v).
			WithHint("Use 'dlq' (record bad records in the error relation), 'skip' or 'fail'.")
	}
}

// connectorOf returns the connector named by rel's options.
func (c *Coordinator) connectorOf(opts map[string]string) (executor.Connector, error) {
	name := strings.ToLower(opts["connector"])
	conn := c.connectors[name]
	if conn == nil {
		known := make([]string, 0, len(c.connectors))
		for k := range c.connectors {
			known = append(known, k)
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "unknown connector \"%s\"", name).
			WithHint("Available connectors: %s.", strings.Join(known, ", "))
	}
	return conn, nil
}

// openSource opens rel's connector at the offsets stored for it.
func (c *Coordinator) openSource(ctx context.Context, rel *catalog.Relation) (executor.Source, error) {
	conn, err := c.connectorOf(rel.Options)
	if err != nil {
		return nil, err
	}
	onError, err := parseOnError(rel.Options)
	if err != nil {
		return nil, err
	}
	var offsets []executor.SourceOffset
	err = c.db.ScanSourceOffsets(rel.ID, func(topic string, partition int32, next int64) error {
		offsets = append(offsets, executor.SourceOffset{Topic: topic, Partition: partition, Next: next})
		return nil
	})
	if err != nil {
		return nil, err
	}
	opts, err := c.withSecrets(connectorView(rel.Options))
	if err != nil {
		return nil, err
	}
	return conn.OpenSource(ctx, executor.SourceConfig{
		Name:     rel.Name,
		Relation: rel,
		Options:  opts,
		Offsets:  offsets,
		OnError:  onError,
		Logger:   c.logger.With("source", rel.Name),
	})
}

// startSource starts the runner of rel with its opened connector.
func (c *Coordinator) startSource(rel *catalog.Relation, src executor.Source) {
	r := &sourceRunner{c: c, rel: rel, src: src, done: make(chan struct{}), state: sourceRunning}
	r.onError, _ = parseOnError(rel.Options)
	if r.onError == executor.OnErrorDeadLetter {
		r.errs, _ = c.lookup("", errorsRelationName(rel.Name))
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	c.sources.add(r)
	go r.run(ctx)
}

// startSources starts the runners of every connector-fed relation in the
// catalog. A source that cannot be opened now (its brokers are down) is
// retried by its runner; it does not keep the server from starting.
func (c *Coordinator) startSources() {
	for _, rel := range c.relations(catalog.Source, catalog.Table) {
		if rel.Options["connector"] == "" || rel.Options[optErrorsOf] != "" {
			continue
		}
		c.startSource(rel, &lazySource{c: c, rel: rel})
	}
}

// lazySource opens its relation's connector on first Poll, so that a
// source whose system is unreachable at startup retries like one that
// lost it later.
type lazySource struct {
	c   *Coordinator
	rel *catalog.Relation
	mu  sync.Mutex
	src executor.Source
}

func (l *lazySource) Poll(ctx context.Context, b *executor.SourceBatch) error {
	l.mu.Lock()
	src := l.src
	l.mu.Unlock()
	if src == nil {
		var err error
		if src, err = l.c.openSource(ctx, l.rel); err != nil {
			return err
		}
		l.mu.Lock()
		l.src = src
		l.mu.Unlock()
		if err := l.c.saveStartOffsets(ctx, l.rel, src); err != nil {
			return err
		}
	}
	return src.Poll(ctx, b)
}

func (l *lazySource) Committed(ctx context.Context, b *executor.SourceBatch) error {
	return l.src.Committed(ctx, b)
}

func (l *lazySource) DeadLetter(ctx context.Context, rejects []executor.Reject) error {
	if d, ok := l.src.(executor.DeadLetterer); ok {
		return d.DeadLetter(ctx, rejects)
	}
	return nil
}

func (l *lazySource) StartOffsets() []executor.SourceOffset { return nil }

func (l *lazySource) Health() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.src.(executor.HealthReporter); ok {
		return h.Health()
	}
	return nil
}

func (l *lazySource) Lag() []executor.PartitionLag {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lr, ok := l.src.(executor.LagReporter); ok {
		return lr.Lag()
	}
	return nil
}

func (l *lazySource) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.src != nil {
		l.src.Close()
	}
}

// saveStartOffsets commits the offsets a newly opened source starts at in
// partitions that have none stored: a source that starts at the latest
// records then resumes there after a restart, not at what came later.
func (c *Coordinator) saveStartOffsets(ctx context.Context, rel *catalog.Relation, src executor.Source) error {
	have := map[executor.SourceOffset]bool{}
	err := c.db.ScanSourceOffsets(rel.ID, func(topic string, partition int32, next int64) error {
		have[executor.SourceOffset{Topic: topic, Partition: partition}] = true
		return nil
	})
	if err != nil {
		return err
	}
	txn := c.db.Begin()
	defer txn.Rollback()
	for _, o := range src.StartOffsets() {
		if have[executor.SourceOffset{Topic: o.Topic, Partition: o.Partition}] {
			continue
		}
		if err := txn.PutSourceOffset(rel.ID, o.Topic, o.Partition, o.Next); err != nil {
			return err
		}
	}
	return txn.Commit(ctx)
}

// run is the runner's loop: poll, apply, commit, acknowledge.
func (r *sourceRunner) run(ctx context.Context) {
	defer close(r.done)
	log := r.c.logger.With("source", r.rel.Name)
	var b executor.SourceBatch
	backoff := minBackoff
	retry := func(err error) bool {
		r.setState(sourceRetrying, err)
		log.Warn("source: retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		return true
	}
	for ctx.Err() == nil {
		b.Reset()
		err := r.src.Poll(ctx, &b)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if errors.Is(err, executor.ErrSourceFailed) {
				r.setState(sourceFailed, err)
				log.Error("source: stopped", "err", err)
				return
			}
			if !retry(err) {
				return
			}
			continue
		}
		var failedAt executor.Reject
		if b.Failed {
			failedAt = b.Rejects[len(b.Rejects)-1]
		}
		var progress batchProgress
		for {
			err = r.commitBatch(ctx, &b, &progress)
			if err == nil || ctx.Err() != nil || progress.stoppedAt != nil || !retry(err) {
				break
			}
		}
		if last := progress.stoppedAt; last != nil {
			r.setState(sourceFailed, fmt.Errorf("record at %s[%d] offset %d: %s", last.Topic, last.Partition, last.Offset, last.Err))
			log.Error("source: stopped at a change a view refused (on_error = 'fail')", "topic", last.Topic, "partition", last.Partition, "offset", last.Offset, "err", last.Err)
			return
		}
		if err != nil {
			return
		}
		backoff = minBackoff
		if err := r.src.Committed(ctx, &b); err != nil && ctx.Err() == nil {
			log.Warn("source: after commit", "err", err)
		}
		if b.Failed {
			last := failedAt
			r.setState(sourceFailed, fmt.Errorf("record at %s[%d] offset %d: %s", last.Topic, last.Partition, last.Offset, last.Err))
			log.Error("source: stopped at a bad record (on_error = 'fail')", "topic", last.Topic, "partition", last.Partition, "offset", last.Offset, "err", last.Err)
			return
		}
		r.setState(sourceRunning, nil)
	}
}

// batchProgress is how far the commit of one polled batch got, when it
// is committed change by change.
type batchProgress struct {
	deadLettered bool              // the decoder's rejects went to the dead-letter destination
	rejectsDone  bool              // the decoder's rejects are committed
	refused      []executor.Reject // changes refused so far
	// stoppedAt is the refused change a source with on_error = 'fail'
	// stopped at: what came before it is committed, it and what follows
	// are not.
	stoppedAt *executor.Reject
}

// commitBatch commits b as one epoch. A change that the relation or a
// view refuses as data (a class 22 or 23 error: a NULL key, a division by
// zero in a view) is a bad record like one that could not be decoded: the
// batch is then committed change by change, each with the offset after
// it, and the refused ones are rejected. Committed changes are removed
// from b and the progress kept in p, so that a retry after an error goes
// on with the rest; at the end the refused changes join b.Rejects.
func (r *sourceRunner) commitBatch(ctx context.Context, b *executor.SourceBatch, p *batchProgress) error {
	if !p.deadLettered {
		if err := r.deadLetter(ctx, b.Rejects); err != nil {
			return err
		}
		p.deadLettered = true
	}
	rejects := b.Rejects
	if p.rejectsDone {
		rejects = nil
	}
	err := r.commitChanges(ctx, b.Changes, b.ChangeOffsets, rejects, b.Offsets)
	if err == nil {
		r.count(b, len(b.Changes), len(rejects))
		b.Rejects = append(b.Rejects, p.refused...)
		return nil
	}
	if !dataError(err) || len(b.ChangeOffsets) != len(b.Changes) {
		return err
	}
	for len(b.Changes) > 0 {
		offset := b.ChangeOffsets[:1]
		err := r.commitChanges(ctx, b.Changes[:1], offset, rejects, offset)
		applied := 1
		if err != nil {
			if !dataError(err) {
				return err
			}
			o := offset[0]
			rj := executor.Reject{Topic: o.Topic, Partition: o.Partition, Offset: o.Next - 1, Timestamp: time.Now(), Err: sqlerr.From(err).Error()}
			if r.onError == executor.OnErrorFail {
				p.stoppedAt = &rj
				return err
			}
			if err := r.deadLetter(ctx, []executor.Reject{rj}); err != nil {
				return err
			}
			if err := r.commitChanges(ctx, nil, nil, append(rejects[:len(rejects):len(rejects)], rj), offset); err != nil {
				return err
			}
			applied = 0
			p.refused = append(p.refused, rj)
		}
		r.records.Add(int64(applied))
		r.rejected.Add(int64(len(rejects) + 1 - applied))
		p.rejectsDone, rejects = true, nil
		b.Changes, b.ChangeOffsets = b.Changes[1:], b.ChangeOffsets[1:]
	}
	if err := r.commitChanges(ctx, nil, nil, rejects, b.Offsets); err != nil {
		return err
	}
	r.count(b, 0, len(rejects))
	b.Rejects = append(b.Rejects, p.refused...)
	return nil
}

// deadLetter hands rejects to the source's dead-letter destination, if it
// has one: before their offsets commit (executor.DeadLetterer).
func (r *sourceRunner) deadLetter(ctx context.Context, rejects []executor.Reject) error {
	d, ok := r.src.(executor.DeadLetterer)
	if !ok || len(rejects) == 0 {
		return nil
	}
	if err := d.DeadLetter(ctx, rejects); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	return nil
}

func (r *sourceRunner) count(b *executor.SourceBatch, applied, rejected int) {
	r.records.Add(int64(applied))
	r.rejected.Add(int64(rejected))
	r.bytes.Add(b.Bytes)
	if applied > 0 || rejected > 0 {
		r.lastPoll.Store(time.Now().UnixNano())
	}
}

// dataError reports whether err is the data's fault (SQLSTATE class 22 or
// 23): retrying the same changes cannot help.
func dataError(err error) bool {
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		return false
	}
	return strings.HasPrefix(string(e.Code), "22") || strings.HasPrefix(string(e.Code), "23")
}

// commitChanges applies changes, records rejects and saves offsets in one
// transaction committed as an epoch.
// changeOffsets, when it has one per change, tells the position of each
// (for event time, and the records an unstored source skips).
func (r *sourceRunner) commitChanges(ctx context.Context, changes []executor.Change, changeOffsets []executor.SourceOffset, rejects []executor.Reject, offsets []executor.SourceOffset) error {
	txn := r.c.db.Begin()
	defer txn.Rollback()
	var passing map[*catalog.Relation][]types.Row
	if unstored(r.rel) {
		rows := make([]types.Row, 0, len(changes))
		for i := range changes {
			switch ch := &changes[i]; ch.Op {
			case executor.ChangeNone:
			case executor.ChangeInsert:
				rows = append(rows, ch.After)
			default:
				return fmt.Errorf("source %q: a %s change needs a primary key", r.rel.Name, ch.Op)
			}
		}
		passing = map[*catalog.Relation][]types.Row{r.rel: rows}
		// A view created later reads the records again: it must skip
		// those the views never got (replay).
		for _, rj := range rejects {
			if err := skipRecord(txn, r.rel, executor.SourceOffset{Topic: rj.Topic, Partition: rj.Partition, Next: rj.Offset + 1}); err != nil {
				return err
			}
		}
	} else {
		for i := range changes {
			if err := applyChange(ctx, txn, r.rel, &changes[i]); err != nil {
				return err
			}
		}
	}
	if r.errs != nil {
		for i := range rejects {
			if err := txn.Insert(ctx, r.errs, rejectRow(&rejects[i])); err != nil {
				return err
			}
		}
	}
	for _, o := range offsets {
		if err := txn.PutSourceOffset(r.rel.ID, o.Topic, o.Partition, o.Next); err != nil {
			return err
		}
	}
	var inserted map[catalog.ID][]executor.SourceOffset
	if r.rel.Watermark != nil && len(changeOffsets) == len(changes) {
		// One per row the relation gets: the changes that insert (a
		// relation with a watermark takes no others).
		offs := make([]executor.SourceOffset, 0, len(changes))
		for i := range changes {
			if changes[i].Op == executor.ChangeInsert {
				offs = append(offs, changeOffsets[i])
			}
		}
		inserted = map[catalog.ID][]executor.SourceOffset{r.rel.ID: offs}
	}
	return r.c.commitEpoch(ctx, txn, inserted, passing)
}

func rejectRow(rj *executor.Reject) types.Row {
	bytesOrNull := func(b []byte) types.Datum {
		if b == nil {
			return types.Null
		}
		return types.NewBytea(b)
	}
	return types.Row{
		types.NewText(rj.Topic),
		types.NewInt32(rj.Partition),
		types.NewInt64(rj.Offset),
		bytesOrNull(rj.Key),
		bytesOrNull(rj.Value),
		types.NewText(rj.Err),
		types.NewTimestampTZ(types.TimeToTimestamp(rj.Timestamp)),
		types.Null, // row id, assigned by Insert
	}
}

// applyChange applies one decoded change to rel in txn. A stream (keyed
// by a row id) only appends; a table applies every change by its primary
// key, so that re-reading a record already applied changes nothing.
func applyChange(ctx context.Context, txn *storage.Txn, rel *catalog.Relation, ch *executor.Change) error {
	if rel.HasRowID() {
		switch ch.Op {
		case executor.ChangeNone:
			return nil
		case executor.ChangeInsert:
			return txn.Insert(ctx, rel, ch.After)
		}
		return fmt.Errorf("source %q: a %s change needs a primary key", rel.Name, ch.Op)
	}
	switch ch.Op {
	case executor.ChangeNone:
		return nil
	case executor.ChangeUpdate:
		// A change of the key (Debezium's update of a primary key) is a
		// delete of the old key, then an upsert of the new one.
		if ch.Before != nil && !sameKey(rel, ch.Before, ch.After) {
			if err := deleteByKey(ctx, txn, rel, ch.Before); err != nil {
				return err
			}
		}
		return upsert(ctx, txn, rel, ch.After)
	case executor.ChangeInsert, executor.ChangeUpsert:
		return upsert(ctx, txn, rel, ch.After)
	case executor.ChangeDelete, executor.ChangeDeleteKey:
		return deleteByKey(ctx, txn, rel, ch.Before)
	}
	return fmt.Errorf("source %q: unknown change %d", rel.Name, ch.Op)
}

func sameKey(rel *catalog.Relation, a, b types.Row) bool {
	for _, i := range rel.PrimaryKey {
		if types.Compare(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}

func keyOf(rel *catalog.Relation, row types.Row) []types.Datum {
	key := make([]types.Datum, len(rel.PrimaryKey))
	for j, i := range rel.PrimaryKey {
		key[j] = row[i]
	}
	return key
}

func upsert(ctx context.Context, txn *storage.Txn, rel *catalog.Relation, row types.Row) error {
	for _, i := range rel.PrimaryKey {
		if row[i].IsNull() {
			return sqlerr.New(sqlerr.NotNullViolation, "null value in column \"%s\" of relation \"%s\" violates not-null constraint", rel.Columns[i].Name, rel.Name)
		}
	}
	cur, ok, err := txn.Get(ctx, rel, keyOf(rel, row))
	if err != nil {
		return err
	}
	if !ok {
		return txn.Insert(ctx, rel, row)
	}
	if executor.IdenticalRows(cur, row) {
		return nil
	}
	return txn.Update(ctx, rel, cur, row)
}

func deleteByKey(ctx context.Context, txn *storage.Txn, rel *catalog.Relation, row types.Row) error {
	cur, ok, err := txn.Get(ctx, rel, keyOf(rel, row))
	if err != nil || !ok {
		return err
	}
	return txn.Delete(ctx, rel, cur)
}

// SourceStats implements server.PipelineReporter.
func (c *Coordinator) SourceStats() []server.SourceStats {
	runners := c.sources.all()
	out := make([]server.SourceStats, 0, len(runners))
	for _, r := range runners {
		state, _ := r.status()
		out = append(out, server.SourceStats{
			Name: r.rel.Name, Running: state == sourceRunning,
			Records: r.records.Load(), Errors: r.rejected.Load(), Bytes: r.bytes.Load(), LastEvent: r.lastPoll.Load(),
			Lag: sourceLag(r.src),
		})
	}
	return out
}

// sourceRows are the rows of weir_catalog.sources.
func (c *Coordinator) sourceRows() []types.Row {
	runners := c.sources.all()
	out := make([]types.Row, 0, len(runners))
	for _, r := range runners {
		state, lastErr := r.status()
		last := types.Null
		if ns := r.lastPoll.Load(); ns != 0 {
			last = types.NewTimestampTZ(types.TimeToTimestamp(time.Unix(0, ns)))
		}
		out = append(out, types.Row{
			txt(r.rel.Name), txt(r.rel.Options["connector"]), txt(cmp.Or(r.rel.Options["topic"], r.rel.Options["topic.pattern"])),
			txt(state), txtOrNull(lastErr), i8(r.records.Load()), i8(r.rejected.Load()), i8(r.bytes.Load()), last,
		})
	}
	return out
}
