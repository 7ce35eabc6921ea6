package coord

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/types"
)

// Progress of long-running work: backfills of materialized views (at
// CREATE, and at startup when a view has no usable saved state) and push
// queries (their initial snapshot, then the changes they stream). Each one
// is listed in weir_catalog.progress while it runs, and a backfill sends
// its client a NOTICE every progressInterval:
//
//	NOTICE:  materialized view "v": backfill read 1234567 rows (210000 rows/s, 6s elapsed)
//
// An input's size is not known up front (storage keeps no row counts), so
// progress is the rows read so far, the rate and the elapsed time, not a
// fraction.
//
// The list has its own lock, never the epoch lock (viewSet.mu) that a
// backfill holds: another session reads the progress view while the
// backfill runs.

// progressInterval is how often a running backfill reports its progress.
const progressInterval = 5 * time.Second

// noticeInterval is progressInterval; tests lower it.
var noticeInterval = progressInterval

// Phases of a progress entry.
const (
	phaseBackfill  = "backfill"  // reading the inputs through the dataflow
	phaseStoring   = "storing"   // flushing the dataflow, writing rows and state
	phaseStreaming = "streaming" // a push query sending changes
)

// progress is one running piece of work. rows, phase and rate are read by
// other sessions; report and next belong to the goroutine doing the work.
type progress struct {
	list    *progressList
	kind    string // "materialized view" or "push query"
	name    string
	started time.Time
	rows    atomic.Int64
	phase   atomic.Pointer[string]

	// report sends a progress message (a NOTICE to the client running the
	// statement, or a log line); nil sends none. It is called only from
	// add, on the statement's own goroutine (see server.Notice).
	report func(msg string)
	next   time.Time
}

// progressList is the set of running work, in start order.
type progressList struct {
	mu   sync.Mutex
	list []*progress
}

// start registers work of kind on name in phase; the caller must call
// done. Progress messages go to the client through the notice function of
// ctx (server.Notice) when ctx is a statement's, else to log, if not nil.
func (pl *progressList) start(ctx context.Context, kind, name, phase string, log func(msg string)) *progress {
	p := &progress{list: pl, kind: kind, name: name, started: time.Now(), report: log}
	p.phase.Store(&phase)
	if fn := server.NoticeFunc(ctx); fn != nil {
		p.report = fn
	}
	p.next = p.started.Add(noticeInterval)
	pl.mu.Lock()
	pl.list = append(pl.list, p)
	pl.mu.Unlock()
	return p
}

// add counts n more rows and, every noticeInterval, reports the progress.
// A nil p counts nothing.
func (p *progress) add(n int) {
	if p == nil {
		return
	}
	rows := p.rows.Add(int64(n))
	if p.report == nil {
		return
	}
	if now := time.Now(); !now.Before(p.next) {
		p.next = now.Add(noticeInterval)
		p.report(fmt.Sprintf("%s \"%s\": %s read %d rows (%.0f rows/s, %s elapsed)",
			p.kind, p.name, p.getPhase(), rows, p.rate(now, rows), now.Sub(p.started).Round(time.Second)))
	}
}

func (p *progress) setPhase(phase string) {
	if p != nil {
		p.phase.Store(&phase)
	}
}

func (p *progress) getPhase() string { return *p.phase.Load() }

// rate is rows per second since the start.
func (p *progress) rate(now time.Time, rows int64) float64 {
	secs := now.Sub(p.started).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(rows) / secs
}

// done removes p from the list. A nil p is ignored.
func (p *progress) done() {
	if p == nil {
		return
	}
	pl := p.list
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for i, q := range pl.list {
		if q == p {
			pl.list = append(pl.list[:i:i], pl.list[i+1:]...)
			return
		}
	}
}

// streaming counts the push queries streaming changes (past their
// initial snapshot, until closed).
func (pl *progressList) streaming() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	n := 0
	for _, p := range pl.list {
		if p.getPhase() == phaseStreaming {
			n++
		}
	}
	return n
}

// progressRows are the rows of weir_catalog.progress: kind, name, phase,
// rows_read, started_at, rows_per_second.
func (pl *progressList) progressRows() []types.Row {
	pl.mu.Lock()
	list := append([]*progress(nil), pl.list...)
	pl.mu.Unlock()
	now := time.Now()
	out := make([]types.Row, 0, len(list))
	for _, p := range list {
		rows := p.rows.Load()
		out = append(out, types.Row{
			txt(p.kind), txt(p.name), txt(p.getPhase()), i8(rows),
			types.NewTimestampTZ(types.TimeToTimestamp(p.started)),
			types.NewFloat64(p.rate(now, rows)),
		})
	}
	return out
}

// progressName is how a push query is named in the progress view: its
// text, shortened.
func progressName(sql string) string {
	const max = 80
	sql = strings.Join(strings.Fields(sql), " ")
	if r := []rune(sql); len(r) > max {
		return string(r[:max-3]) + "..."
	}
	return sql
}
