package executor

import (
	"context"

	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/types"
)

// Runtime is what a plan needs to run: where base rows live, the values of
// the statement's parameters (already of the plan's ParamTypes) and the
// evaluation environment (now(), TimeZone, settings).
type Runtime struct {
	Store  TableStore
	Params []types.Datum
	Env    *funcs.Env
	// Workers is how many shards each stateful operator that keeps its
	// state by key runs as (see Partition); 0 or 1 runs each as one.
	Workers int
}

// Rows is the result of running a plan.
type Rows interface {
	// Next returns the next row; the row is valid until the next call.
	Next(ctx context.Context) (types.Row, bool, error)
	// Count is the number of rows returned or affected so far (for the
	// command tag); it is final once Next returned false.
	Count() int64
	// Close releases the rows; it may be called at any time, twice included.
	Close()
}

// SliceRows is Rows over rows already computed. Count is the number of rows
// returned so far unless Affected is set (DML), in which case it is that
// number.
type SliceRows struct {
	Rows     []types.Row
	Affected int64
	// DML marks Affected as the count.
	DML  bool
	next int
}

// Next implements Rows.
func (s *SliceRows) Next(ctx context.Context) (types.Row, bool, error) {
	if s.next >= len(s.Rows) {
		return nil, false, nil
	}
	if s.next&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
	r := s.Rows[s.next]
	s.next++
	return r, true, nil
}

// Count implements Rows.
func (s *SliceRows) Count() int64 {
	if s.DML {
		return s.Affected
	}
	return int64(s.next)
}

// Close implements Rows.
func (s *SliceRows) Close() { s.Rows = nil; s.next = 0 }
