package coord

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/catalog"
)

// The counters /metrics reports (server.PipelineReporter). They are
// counted per batch or per epoch, never per row: a source's in its runner
// (sources.go), a view's and the epochs' in Coordinator.commit, a sink's
// in its goroutine and at the commits that append to its log.

var _ server.PipelineReporter = (*Coordinator)(nil)

// newCommitHistogram times epoch commits: 100µs to 13s.
func newCommitHistogram() *server.Histogram { return server.NewHistogram(0.0001, 2, 18) }

// viewStats are a view's counters, guarded by viewSet.mu and kept when its
// dataflow is rebuilt.
type viewStats struct {
	changesIn, changesOut int64
}

// statsOf returns the counters of view id, carried over from its running
// dataflow if it has one.
func (vs *viewSet) statsOf(id catalog.ID) *viewStats {
	if v := vs.byID[id]; v != nil {
		return v.stats
	}
	return &viewStats{}
}

// countChanges adds a committed epoch's changes to its views' counters.
// deltas are the epoch's (maintain); each view's epochIn was set by the
// same maintain. Called with mu held.
func (vs *viewSet) countChanges(deltas map[catalog.ID]*executor.Batch) {
	for _, v := range vs.order {
		v.stats.changesIn += v.epochIn
		if b := deltas[v.rel.ID]; b != nil {
			v.stats.changesOut += int64(b.Len())
		}
	}
}

// ViewStats implements server.PipelineReporter. It takes the epoch lock:
// the dataflows' state is counted between epochs.
func (c *Coordinator) ViewStats() []server.ViewStats {
	vs := c.views
	vs.mu.Lock()
	defer vs.mu.Unlock()
	out := make([]server.ViewStats, len(vs.order))
	for i, v := range vs.order {
		out[i] = server.ViewStats{
			Name: v.rel.Name, ChangesIn: v.stats.changesIn, ChangesOut: v.stats.changesOut,
			CachedKeys: v.df.CachedKeys(), CachedBytes: v.df.CachedBytes(),
		}
	}
	return out
}

// EngineStats implements server.PipelineReporter.
func (c *Coordinator) EngineStats() server.EngineStats {
	return server.EngineStats{EpochCommit: c.views.commitDuration, Subscribers: c.progress.streaming(), EventTime: c.eventTimeStats()}
}

// sourceLag is src's lag, if it can tell.
func sourceLag(src executor.Source) []server.PartitionLag {
	lr, ok := src.(executor.LagReporter)
	if !ok {
		return nil
	}
	lag := lr.Lag()
	out := make([]server.PartitionLag, len(lag))
	for i, l := range lag {
		out[i] = server.PartitionLag{Topic: l.Topic, Partition: l.Partition, Records: l.Records}
	}
	return out
}

// maxTimedEpochs bounds the epochs a sink remembers the commit time of
// while they wait in its log: a sink further behind does not time the
// epochs past it (weir_sink_pending_epochs shows how far behind it is).
const maxTimedEpochs = 1 << 16

// sinkStats are a sink's retries and delivery latency.
type sinkStats struct {
	retries atomic.Int64
	latency *server.Histogram

	mu sync.Mutex
	// committed are the commit times of the log entries appended since
	// the server started and not delivered yet, in seq order; delivered
	// is the last seq delivered.
	committed []entryTime
	delivered uint64
}

type entryTime struct {
	seq uint64
	at  time.Time
}

// newSinkStats times deliveries from 1ms to 131s.
func newSinkStats() *sinkStats {
	return &sinkStats{latency: server.NewHistogram(0.001, 2, 18)}
}

// appended records that log entry seq committed now.
func (s *sinkStats) appended(seq uint64) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The sink may deliver an entry as soon as it is committed, before
	// this: such an entry is not timed.
	if seq > s.delivered && len(s.committed) < maxTimedEpochs {
		s.committed = append(s.committed, entryTime{seq, now})
	}
}

// deliveredThrough records that the entries through seq are delivered.
func (s *sinkStats) deliveredThrough(seq uint64) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = max(s.delivered, seq)
	i := 0
	for ; i < len(s.committed) && s.committed[i].seq <= seq; i++ {
		s.latency.Observe(now.Sub(s.committed[i].at).Seconds())
	}
	s.committed = s.committed[i:]
}
