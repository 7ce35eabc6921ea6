package coord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// Resumable push queries. Every committed epoch that changes relations is
// numbered, and the recent deltas of each relation are kept in memory
// (retainChanges of them, at most). A push query's rows carry a position,
// "<incarnation>.<epoch>.<n>": the nth row its dataflow emitted for that
// epoch. A client that lost its stream (an SSE client reconnecting with
// Last-Event-ID) starts the query again after the position: when the
// query keeps no state (filters and projections, such as one client's
// feed of a stream) and every epoch since is still retained, the retained
// deltas are replayed through a fresh dataflow, the rows up to the
// position skipped, and the client misses nothing and sees nothing twice.
// Otherwise (a stateful query, a position from another run of the server
// or older than what is retained) it starts over from the current rows,
// and says so.

// retainChanges bounds the changes kept per relation for resuming, and
// retainFor how long after its last push query ended a relation's deltas
// are still kept (so that a client that lost its only stream can resume).
var retainChanges = 1 << 16 // a variable for tests

const retainFor = 10 * time.Minute

// retainingLocked reports whether some relation's deltas are kept for a
// push query that ended lately; it forgets those that ended long ago,
// and their deltas. Called with viewSet.mu held, at every commit.
func (vs *viewSet) retainingLocked(now time.Time) bool {
	for id, ended := range vs.retaining {
		if len(vs.subs[id]) > 0 {
			delete(vs.retaining, id) // read again: kept while it is
		} else if now.Sub(ended) > retainFor {
			delete(vs.retaining, id)
			delete(vs.recent, id)
		}
	}
	return len(vs.retaining) > 0
}

// deltaLog is the recent deltas of one relation.
type deltaLog struct {
	entries []retained
	changes int
	// trimmed is the last epoch whose delta was dropped: positions before
	// it cannot be resumed from.
	trimmed uint64
}

type retained struct {
	epoch uint64
	b     *executor.Batch
}

// newIncarnation names this run of the server in positions: epochs are
// numbered from 1 again after a restart.
func newIncarnation() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// retainLocked numbers a committed epoch and keeps its deltas; truncated:
// a table was emptied without a record of its rows, so no push query
// resumes from before this epoch. Called with viewSet.mu held.
func (vs *viewSet) retainLocked(deltas map[catalog.ID]*executor.Batch, truncated bool) uint64 {
	vs.epoch++
	if truncated {
		vs.unretained = vs.epoch
	}
	for id, b := range deltas {
		if b.Len() == 0 {
			continue
		}
		l := vs.recent[id]
		if l == nil {
			continue // no push query reads it, nor did lately
		}
		l.entries = append(l.entries, retained{vs.epoch, b})
		l.changes += b.Len()
		for l.changes > retainChanges && len(l.entries) > 1 {
			l.trimmed = l.entries[0].epoch
			l.changes -= l.entries[0].b.Len()
			l.entries[0] = retained{}
			l.entries = l.entries[1:]
		}
	}
	return vs.epoch
}

// retainFromLocked starts keeping the deltas of relation id, read by a
// push query starting now, from the next epoch on.
func (vs *viewSet) retainFromLocked(id catalog.ID) {
	if vs.recent[id] == nil {
		vs.recent[id] = &deltaLog{trimmed: vs.epoch}
	}
}

// forgetRetainedLocked drops a dropped relation's deltas.
func (vs *viewSet) forgetRetainedLocked(id catalog.ID) { delete(vs.recent, id) }

// position is where a push query's row stands.
type position struct {
	epoch uint64
	n     int // rows of the epoch before this one and this one: 1-based
}

func (vs *viewSet) formatPosition(p position) string {
	return vs.incarnation + "." + strconv.FormatUint(p.epoch, 10) + "." + strconv.Itoa(p.n)
}

// parsePosition reads a position this run of the server gave.
func (vs *viewSet) parsePosition(s string) (position, bool) {
	inc, rest, ok := strings.Cut(s, ".")
	if !ok || inc != vs.incarnation {
		return position{}, false
	}
	e, n, ok := strings.Cut(rest, ".")
	if !ok {
		return position{}, false
	}
	epoch, err1 := strconv.ParseUint(e, 10, 64)
	rows, err2 := strconv.Atoi(n)
	// A client holding the current rows of epoch E resumes at (E+1, 0).
	if err1 != nil || err2 != nil || rows < 0 || epoch > vs.epoch+1 {
		return position{}, false
	}
	return position{epoch, rows}, true
}

// replayLocked pushes, through sub's stateless dataflow, the retained
// deltas of its inputs from epoch from.epoch on, and queues what it emits
// after from. It reports false, having queued nothing, when an epoch
// since from is no longer retained. Called with viewSet.mu held.
func (c *Coordinator) replayLocked(ctx context.Context, sub *subscription, from position) (bool, error) {
	vs := c.views
	if from.epoch <= vs.unretained {
		return false, nil
	}
	var epochs []uint64
	byEpoch := map[uint64][]catalog.ID{}
	for _, rel := range sub.inputs {
		l := vs.recent[rel.ID]
		if l == nil || l.trimmed >= from.epoch {
			// Not kept since from (no push query read it lately), or
			// no longer.
			return false, nil
		}
		for _, r := range l.entries {
			if r.epoch < from.epoch {
				continue
			}
			if len(byEpoch[r.epoch]) == 0 {
				epochs = append(epochs, r.epoch)
			}
			byEpoch[r.epoch] = append(byEpoch[r.epoch], rel.ID)
		}
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	for _, e := range epochs {
		for _, id := range byEpoch[e] {
			if err := sub.df.Push(ctx, id, vs.find(id, e)); err != nil {
				return false, err
			}
		}
		out, err := sub.df.Flush(ctx)
		if err != nil {
			return false, err
		}
		skip := 0
		if e == from.epoch {
			skip = from.n
		}
		sub.enqueueFrom(out, e, skip)
	}
	return true, nil
}

// find returns relation id's retained delta of epoch e.
func (vs *viewSet) find(id catalog.ID, e uint64) *executor.Batch {
	for _, r := range vs.recent[id].entries {
		if r.epoch == e {
			return r.b
		}
	}
	return &executor.Batch{}
}

// Position implements server.Positioned: the position of the row Next
// returned last.
func (r *pushResult) Position() string {
	if r.last.epoch == 0 {
		return ""
	}
	return r.c.views.formatPosition(r.last)
}

// ExecuteFrom implements server.Resumer.
func (s *session) ExecuteFrom(ctx context.Context, st server.Statement, params []types.Datum, pos string) (server.Result, bool, error) {
	return s.executeFrom(ctx, st, params, pos)
}

var (
	_ server.Resumer    = (*session)(nil)
	_ server.Positioned = (*pushResult)(nil)
)
