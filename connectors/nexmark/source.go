package nexmark

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

var _ executor.Source = (*source)(nil)

// minPollInterval is how long a paced source lets pass between two
// Polls at least, so that a high rate makes batches, not one epoch per
// event.
const minPollInterval = 10 * time.Millisecond

var errClosed = errors.New("nexmark source closed")

// source is a nexmark source (executor.Source): the events of one kind of
// a sequence, as rows. Its offset, in one partition named after the
// table, is the number of the next event of the sequence to consider.
type source struct {
	gen   *generator
	table Kind
	topic string
	// cols holds, for each column of the table, the index of the
	// relation's column that gets it (-1: none); width is the relation's.
	cols  []int
	width int
	end   int64 // events in the sequence
	rate  int64 // events per second; 0: unpaced
	max   int
	start int64
	next  int64

	// Pacing: event n is due paceFrom + (n - paceFrom)/rate seconds after
	// paceStart, set by the first Poll.
	paced     bool
	paceStart time.Time
	paceFrom  int64
	lastPoll  time.Time

	person  Person
	auction Auction
	bid     Bid

	closed    chan struct{}
	closeOnce sync.Once
}

func newSource(o sourceOptions, cols []int, width int, start int64) *source {
	end := o.cfg.Events
	if end <= 0 {
		end = math.MaxInt64
	}
	return &source{
		gen: newGenerator(o.cfg), table: o.table, topic: o.table.String(),
		cols: cols, width: width, end: end, rate: o.rate, max: o.maxRecords,
		start: start, next: start, closed: make(chan struct{}),
	}
}

// Poll implements executor.Source: the next events of the table that are
// due, at most max of them; after the last event of the sequence it waits
// for ctx, as a quiet topic does.
func (s *source) Poll(ctx context.Context, b *executor.SourceBatch) error {
	n := nextOfKind(s.table, s.next)
	if n >= s.end {
		return s.wait(ctx, nil)
	}
	limit := s.end
	if s.rate > 0 {
		now := time.Now()
		if !s.paced {
			s.paced, s.paceStart, s.paceFrom = true, now, n
		}
		wake := s.dueAt(n)
		if next := s.lastPoll.Add(minPollInterval); next.After(wake) {
			wake = next
		}
		if err := s.sleep(ctx, wake.Sub(now)); err != nil {
			return err
		}
		s.lastPoll = time.Now()
		limit = min(limit, s.dueBefore(s.lastPoll))
	}
	count := min(countOfKind(s.table, limit)-countOfKind(s.table, n), int64(s.max))
	w := s.width
	// One allocation for the rows of the batch; they are the engine's.
	slab := make([]types.Datum, int(count)*w)
	for i := range int(count) {
		row := types.Row(slab[i*w : (i+1)*w : (i+1)*w])
		b.Bytes += s.fill(n, row)
		b.Changes = append(b.Changes, executor.Change{Op: executor.ChangeInsert, After: row})
		b.ChangeOffsets = append(b.ChangeOffsets, executor.SourceOffset{Topic: s.topic, Next: n + 1})
		s.next = n + 1
		n = nextOfKind(s.table, n+1)
	}
	b.Offsets = append(b.Offsets, executor.SourceOffset{Topic: s.topic, Next: s.next})
	return nil
}

// dueAt is when event n is due.
func (s *source) dueAt(n int64) time.Time {
	d := n - s.paceFrom
	return s.paceStart.Add(time.Duration(d/s.rate*1e9 + d%s.rate*1e9/s.rate))
}

// dueBefore is the first event not due at t.
func (s *source) dueBefore(t time.Time) int64 {
	hi, lo := bits.Mul64(uint64(max(t.Sub(s.paceStart), 0)), uint64(s.rate))
	q, _ := bits.Div64(hi, lo, 1e9) // hi < 1e9: elapsed*rate < 1e9 * 2^64
	return s.paceFrom + int64(q) + 1
}

// sleep waits d, or until ctx is done or the source closed.
func (s *source) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	return s.wait(ctx, t.C)
}

// wait waits for wake (forever if nil), or until ctx is done or the
// source closed.
func (s *source) wait(ctx context.Context, wake <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	case <-wake:
		return nil
	}
}

// fill sets the row's columns from event n of the source's kind and
// returns the event's size in bytes.
func (s *source) fill(n int64, row types.Row) int64 {
	c := s.cols
	switch s.table {
	case KindPerson:
		p := &s.person
		s.gen.person(n, p)
		put(row, c[0], types.NewInt64(p.ID))
		put(row, c[1], types.NewText(p.Name))
		put(row, c[2], types.NewText(p.EmailAddress))
		put(row, c[3], types.NewText(p.CreditCard))
		put(row, c[4], types.NewText(p.City))
		put(row, c[5], types.NewText(p.State))
		put(row, c[6], types.NewTimestamp(p.DateTime))
		put(row, c[7], types.NewText(p.Extra))
		return int64(16 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra))
	case KindAuction:
		a := &s.auction
		s.gen.auction(n, a)
		put(row, c[0], types.NewInt64(a.ID))
		put(row, c[1], types.NewText(a.ItemName))
		put(row, c[2], types.NewText(a.Description))
		put(row, c[3], types.NewInt64(a.InitialBid))
		put(row, c[4], types.NewInt64(a.Reserve))
		put(row, c[5], types.NewTimestamp(a.DateTime))
		put(row, c[6], types.NewTimestamp(a.Expires))
		put(row, c[7], types.NewInt64(a.Seller))
		put(row, c[8], types.NewInt64(a.Category))
		put(row, c[9], types.NewText(a.Extra))
		return int64(7*8 + len(a.ItemName) + len(a.Description) + len(a.Extra))
	default:
		bd := &s.bid
		s.gen.bid(n, bd)
		put(row, c[0], types.NewInt64(bd.Auction))
		put(row, c[1], types.NewInt64(bd.Bidder))
		put(row, c[2], types.NewInt64(bd.Price))
		put(row, c[3], types.NewText(bd.Channel))
		put(row, c[4], types.NewText(bd.URL))
		put(row, c[5], types.NewTimestamp(bd.DateTime))
		put(row, c[6], types.NewText(bd.Extra))
		return int64(4*8 + len(bd.Channel) + len(bd.URL) + len(bd.Extra))
	}
}

func put(row types.Row, col int, d types.Datum) {
	if col >= 0 {
		row[col] = d
	}
}

// Committed implements executor.Source: there is no one to tell.
func (s *source) Committed(context.Context, *executor.SourceBatch) error { return nil }

// StartOffsets implements executor.Source.
func (s *source) StartOffsets() []executor.SourceOffset {
	return []executor.SourceOffset{{Topic: s.topic, Next: s.start}}
}

// Close implements executor.Source: it wakes a waiting Poll.
func (s *source) Close() { s.closeOnce.Do(func() { close(s.closed) }) }
