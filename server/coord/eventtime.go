package coord

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
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

// Event time. A relation declared WATERMARK FOR col AS expr has a clock:
// per partition of its source (one for rows written by SQL) the largest
// expr of its rows, and the relation's watermark, the smallest of those
// (partitions idle for longer than the idle timeout aside), which never
// goes back. Each epoch, before the views see the relation's rows, the
// clock drops the rows older than the watermark less the allowed
// lateness (late: counted, never silently), then advances, and the views
// reading the relation get the watermark less the lateness: no later row
// is below it. The clock is saved in the epoch's batch (the relation's
// state, operator clockOp), so a restart resumes it where the epoch left
// it.

// clockOp is the state operator id of a relation's clock.
const clockOp = math.MaxUint32

// Options of a relation with event time; they are the engine's, not the
// connector's.
const (
	optAllowedLateness = "allowed_lateness"
	optIdleTimeout     = "watermark.idle_timeout"
)

// defaultIdleTimeout is how long a partition without records holds the
// watermark back.
const defaultIdleTimeout = 5 * time.Second

// eventTime sets rel's watermark from WATERMARK FOR column AS text, and
// takes its options out of opts.
func (s *session) eventTime(rel *catalog.Relation, column, text string, opts []*ast.Option) ([]*ast.Option, error) {
	col := rel.ColumnIndex(column)
	if col < 0 {
		return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" named in WATERMARK FOR does not exist", column)
	}
	if !rel.HasRowID() {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a relation with a WATERMARK cannot have a primary key").
			WithHint("Event time is for append-only relations: rows are only added, in about the order of their time.")
	}
	if _, err := planner.WatermarkExpr(&planner.Context{Catalog: s}, rel, col, text); err != nil {
		return nil, err
	}
	wm := &catalog.Watermark{Column: col, Expr: text, IdleTimeout: int64(defaultIdleTimeout / time.Microsecond)}
	var rest []*ast.Option
	for _, o := range opts {
		var dst *int64
		switch strings.ToLower(o.Key) {
		case optAllowedLateness:
			dst = &wm.AllowedLateness
		case optIdleTimeout:
			dst = &wm.IdleTimeout
		default:
			rest = append(rest, o)
			continue
		}
		us, err := parseDuration(o.Value)
		if err != nil || us < 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"%s\": %q", strings.ToLower(o.Key), o.Value).
				WithHint("Give a duration: '10 seconds', '500ms', '1 minute'.")
		}
		*dst = us
	}
	rel.Watermark = wm
	return rest, nil
}

// parseDuration reads a duration as Go writes it ("500ms") or as an
// interval ("10 seconds"), in microseconds.
func parseDuration(s string) (int64, error) {
	if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
		return int64(d / time.Microsecond), nil
	}
	months, days, us, err := types.ParseInterval(s)
	if err != nil {
		return 0, err
	}
	if months != 0 {
		return 0, fmt.Errorf("months have no fixed length")
	}
	return int64(days)*86_400_000_000 + us, nil
}

// eventClock is the clock of one relation; the epoch lock guards it.
type eventClock struct {
	rel   *catalog.Relation
	eval  executor.EvalFunc
	parts map[int32]*partitionClock
	// wm is the relation's watermark in microseconds, valid once set.
	wm  int64
	set bool
	// lateDropped and lateApplied count rows older than the watermark:
	// dropped, or (within the allowed lateness) applied.
	lateDropped, lateApplied atomic.Int64
	// published is wm for readers without the epoch lock (metrics);
	// math.MinInt64 before the first.
	published atomic.Int64
}

type partitionClock struct {
	max  int64 // noRecord: none yet
	seen time.Time
}

// noRecord is the maximum of a partition of the source that has sent no
// row yet: it holds the watermark back (until it is idle), or a source
// catching up would move the watermark with its first partition read and
// drop the rows of all the others as late.
const noRecord = math.MinInt64

// clock returns rel's clock, loading what the last epoch saved.
func (c *Coordinator) clock(rel *catalog.Relation) (*eventClock, error) {
	vs := c.views
	if k := vs.clocks[rel.ID]; k != nil && k.rel == rel {
		return k, nil
	}
	x, err := planner.WatermarkExpr(&planner.Context{Catalog: c}, rel, rel.Watermark.Column, rel.Watermark.Expr)
	if err != nil {
		return nil, fmt.Errorf("watermark of %q: %w", rel.Name, err)
	}
	eval, err := executor.NewCompiler(nil).Compile(x)
	if err != nil {
		return nil, fmt.Errorf("watermark of %q: %w", rel.Name, err)
	}
	k := &eventClock{rel: rel, eval: eval, parts: map[int32]*partitionClock{}}
	k.published.Store(math.MinInt64)
	if old := vs.clocks[rel.ID]; old != nil {
		// The relation was altered (or renamed): its counts go on.
		k.lateDropped.Store(old.lateDropped.Load())
		k.lateApplied.Store(old.lateApplied.Load())
	}
	_, err = c.db.StateReader(rel.ID, clockOp).GetState(nil, func(v []byte) error { return k.decode(v) })
	if err != nil {
		return nil, fmt.Errorf("watermark of %q: %w", rel.Name, err)
	}
	if k.set {
		k.published.Store(k.wm)
	}
	if rel.Options["connector"] != "" {
		// The source's partitions: each has a position from its
		// CREATE SOURCE on (its start offsets).
		now := time.Now()
		err := c.db.ScanSourceOffsets(rel.ID, func(topic string, partition int32, _ int64) error {
			if p := clockPartition(topic, partition); k.parts[p] == nil {
				k.parts[p] = &partitionClock{max: noRecord, seen: now}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("watermark of %q: %w", rel.Name, err)
		}
	}
	if vs.clocks == nil {
		vs.clocks = map[catalog.ID]*eventClock{}
	}
	vs.clocks[rel.ID] = k
	list := make([]*eventClock, 0, len(vs.clocks))
	for _, k := range vs.clocks {
		list = append(list, k)
	}
	vs.clockList.Store(&list)
	return k, nil
}

// eventTimeStats reports the clocks of the relations that still exist.
func (c *Coordinator) eventTimeStats() []server.EventTimeStats {
	list := c.views.clockList.Load()
	if list == nil {
		return nil
	}
	out := make([]server.EventTimeStats, 0, len(*list))
	for _, k := range *list {
		if cur, err := c.lookup("", k.rel.Name); err != nil || cur.ID != k.rel.ID {
			continue
		}
		st := server.EventTimeStats{Relation: k.rel.Name, LateDropped: k.lateDropped.Load(), LateApplied: k.lateApplied.Load()}
		if wm := k.published.Load(); wm != math.MinInt64 {
			st.Watermark, st.HasWatermark = types.TimestampToTime(wm).UnixNano(), true
		}
		out = append(out, st)
	}
	return out
}

// dropLine is the time below which rows are late beyond the allowed
// lateness: the watermark the relation's readers get.
func (k *eventClock) dropLine() (int64, bool) {
	return k.wm - k.rel.Watermark.AllowedLateness, k.set
}

// datum is t as a value of the event-time column.
func (k *eventClock) datum(t int64) types.Datum {
	if k.rel.Columns[k.rel.Watermark.Column].Type.Kind == types.KindTimestampTZ {
		return types.NewTimestampTZ(t)
	}
	return types.NewTimestamp(t)
}

// undo returns what puts k back as it is now, for an epoch that fails
// after its rows went through admit: the next epoch must meet the clock
// of the last committed one, or it would drop rows as late against a
// watermark that no committed row set.
func (k *eventClock) undo() func() {
	wm, set, published := k.wm, k.set, k.published.Load()
	dropped, applied := k.lateDropped.Load(), k.lateApplied.Load()
	parts := make(map[int32]partitionClock, len(k.parts))
	for p, pc := range k.parts {
		parts[p] = *pc
	}
	return func() {
		k.wm, k.set = wm, set
		k.published.Store(published)
		k.lateDropped.Store(dropped)
		k.lateApplied.Store(applied)
		clear(k.parts)
		for p, pc := range parts {
			k.parts[p] = &pc
		}
	}
}

// admit drops the late rows of an epoch's changes of the relation (from
// txn too), counts them, and advances the clock with the rest; offs[i] is
// the source position after change i (nil: all from one partition). The
// late rows of an unstored source are noted as skipped (see replay). It
// reports whether the watermark moved, and whether the clock changed (the
// watermark or a partition's maximum: what a restart must resume).
func (k *eventClock) admit(ctx context.Context, txn *storage.Txn, changes []storage.Change, offs []executor.SourceOffset, now time.Time) (kept []storage.Change, moved, changed bool, err error) {
	col := k.rel.Watermark.Column
	line, ok := k.dropLine()
	kept = changes[:0]
	for i, ch := range changes {
		if ch.New == nil || ch.Old != nil {
			kept = append(kept, ch)
			continue
		}
		t := ch.New[col]
		if ok && !t.IsNull() && t.Micros() < line {
			if !unstored(k.rel) {
				err = txn.Delete(ctx, k.rel, ch.New)
			} else if i < len(offs) {
				err = skipRecord(txn, k.rel, offs[i])
			}
			if err != nil {
				return nil, false, false, err
			}
			k.lateDropped.Add(1)
			continue
		}
		if k.set && !t.IsNull() && t.Micros() < k.wm {
			k.lateApplied.Add(1)
		}
		kept = append(kept, ch)
		d, err := k.eval(ch.New)
		if err != nil {
			return nil, false, false, sqlerr.From(err).WithDetail("While computing the watermark of %q.", k.rel.Name)
		}
		if d.IsNull() {
			continue
		}
		var p int32
		if i < len(offs) {
			p = clockPartition(offs[i].Topic, offs[i].Partition)
		}
		pc := k.parts[p]
		if pc == nil {
			pc = &partitionClock{max: d.Micros()}
			k.parts[p] = pc
			changed = true
		} else if d.Micros() > pc.max {
			pc.max = d.Micros()
			changed = true
		}
		pc.seen = now
	}
	moved = k.advance(now)
	return kept, moved, changed || moved, nil
}

// advance moves the watermark to the smallest maximum of the partitions
// that are not idle, if that is later.
func (k *eventClock) advance(now time.Time) bool {
	idle := time.Duration(k.rel.Watermark.IdleTimeout) * time.Microsecond
	low, found := int64(math.MaxInt64), false
	for _, pc := range k.parts {
		if idle > 0 && len(k.parts) > 1 && now.Sub(pc.seen) > idle {
			continue
		}
		if pc.max == noRecord {
			return false
		}
		low, found = min(low, pc.max), true
	}
	if !found || (k.set && low <= k.wm) {
		return false
	}
	k.wm, k.set = low, true
	k.published.Store(low)
	return true
}

// encode is the saved clock: the watermark, then each partition's
// maximum.
func (k *eventClock) encode() []byte {
	buf := binary.AppendVarint(nil, k.wm)
	ids := make([]int32, 0, len(k.parts))
	for p, pc := range k.parts {
		if pc.max != noRecord {
			ids = append(ids, p)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, p := range ids {
		buf = binary.AppendVarint(buf, int64(p))
		buf = binary.AppendVarint(buf, k.parts[p].max)
	}
	return buf
}

func (k *eventClock) decode(v []byte) error {
	wm, n := binary.Varint(v)
	if n <= 0 {
		return fmt.Errorf("corrupt clock")
	}
	k.wm, k.set, v = wm, true, v[n:]
	now := time.Now()
	for len(v) > 0 {
		p, n := binary.Varint(v)
		if n <= 0 {
			return fmt.Errorf("corrupt clock")
		}
		m, n2 := binary.Varint(v[n:])
		if n2 <= 0 {
			return fmt.Errorf("corrupt clock")
		}
		k.parts[int32(p)] = &partitionClock{max: m, seen: now}
		v = v[n+n2:]
	}
	return nil
}

// tickClocks admits the epoch's rows of the relations with event time
// (dropping the late ones from changes and txn) and saves their clocks in
// txn. It reports the relations whose watermark moved. Should the epoch
// fail, vs.undoEpoch puts the clocks back.
func (c *Coordinator) tickClocks(ctx context.Context, txn *storage.Txn, changes []storage.TableChanges, offsets map[catalog.ID][]executor.SourceOffset) (map[catalog.ID]bool, error) {
	var ticked map[catalog.ID]bool
	now := time.Now()
	for i := range changes {
		tc := &changes[i]
		if tc.Rel.Watermark == nil || tc.Rel.Watermark.Expr == "" || tc.Truncated {
			continue
		}
		k, err := c.clock(tc.Rel)
		if err != nil {
			return nil, err
		}
		c.views.undo = append(c.views.undo, k.undo())
		var moved, changed bool
		if tc.Changes, moved, changed, err = k.admit(ctx, txn, tc.Changes, offsets[tc.Rel.ID], now); err != nil {
			return nil, err
		}
		if changed {
			if err := txn.PutState(tc.Rel.ID, clockOp, nil, k.encode()); err != nil {
				return nil, err
			}
		}
		if !moved {
			continue
		}
		if ticked == nil {
			ticked = map[catalog.ID]bool{}
		}
		ticked[tc.Rel.ID] = true
	}
	return ticked, nil
}

// watermarksLocked captures the watermarks of df's inputs, for
// deliverWatermarks: under the epoch lock, at the snapshot a backfill
// reads.
func (c *Coordinator) watermarksLocked(df *planner.Dataflow) (func(context.Context, *planner.Dataflow) error, error) {
	type mark struct {
		rel *catalog.Relation
		v   types.Datum
	}
	var marks []mark
	for _, rel := range df.Inputs() {
		if rel.Watermark == nil {
			continue
		}
		if rel.Watermark.Expr == "" {
			// A view's: what its result carries.
			if v := c.views.viewMarks[rel.ID]; !v.IsNull() {
				marks = append(marks, mark{rel, v})
			}
			continue
		}
		k, err := c.clock(rel)
		if err != nil {
			return nil, err
		}
		if line, ok := k.dropLine(); ok {
			marks = append(marks, mark{rel, k.datum(line)})
		}
	}
	return func(ctx context.Context, df *planner.Dataflow) error {
		for _, m := range marks {
			if err := df.Watermark(ctx, m.rel.ID, m.rel.Watermark.Column, m.v); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// passWatermarks hands df the current watermarks of its inputs (under the
// epoch lock, before its Flush).
func (c *Coordinator) passWatermarks(ctx context.Context, df *planner.Dataflow) error {
	deliver, err := c.watermarksLocked(df)
	if err != nil {
		return err
	}
	return deliver(ctx, df)
}

// advancesDatum reports whether v is a later watermark than wm.
func advancesDatum(wm, v types.Datum) bool {
	return !v.IsNull() && (wm.IsNull() || types.Compare(v, wm) > 0)
}

// clockPartition names a source partition in its relation's clock, so
// that the partitions of several topics (a topic list or pattern) count
// apart: a hash of the topic and the partition.
func clockPartition(topic string, partition int32) int32 {
	h := fnv.New32a()
	h.Write([]byte(topic))
	h.Write([]byte{byte(partition >> 24), byte(partition >> 16), byte(partition >> 8), byte(partition)})
	return int32(h.Sum32())
}

// watermarkRows are the rows of weir_catalog.watermarks: every relation
// with event time, its watermark (NULL before its first row) and, for a
// table or source, its late rows since the server started.
func (c *Coordinator) watermarkRows() []types.Row {
	clocks := map[catalog.ID]*eventClock{}
	if list := c.views.clockList.Load(); list != nil {
		for _, k := range *list {
			clocks[k.rel.ID] = k
		}
	}
	vs := c.views
	vs.mu.Lock()
	marks := make(map[catalog.ID]types.Datum, len(vs.viewMarks))
	for id, v := range vs.viewMarks {
		marks[id] = v
	}
	vs.mu.Unlock()
	rels := c.relations(catalog.Table, catalog.Source, catalog.Stream, catalog.MaterializedView)
	sort.Slice(rels, func(i, j int) bool { return rels[i].Name < rels[j].Name })
	var out []types.Row
	for _, rel := range rels {
		wm := rel.Watermark
		if wm == nil {
			continue
		}
		row := types.Row{txt(rel.Name), txt(rel.Kind.String()), txt(rel.Columns[wm.Column].Name), types.Null,
			txt(string(types.AppendText(nil, types.NewInterval(0, 0, wm.AllowedLateness), nil))), i8(0), i8(0)}
		if k := clocks[rel.ID]; k != nil {
			if t := k.published.Load(); t != math.MinInt64 {
				row[3] = txt(string(types.AppendText(nil, k.datum(t), nil)))
			}
			row[5], row[6] = i8(k.lateDropped.Load()), i8(k.lateApplied.Load())
		} else if v, ok := marks[rel.ID]; ok && !v.IsNull() {
			row[3] = txt(string(types.AppendText(nil, v, nil)))
		}
		out = append(out, row)
	}
	return out
}
