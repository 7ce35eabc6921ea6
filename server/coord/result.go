package coord

import (
	"context"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/types"
)

// baseResult gives the no-op parts of server.Result.
type baseResult struct{ notices []string }

func (r *baseResult) Notices() []string       { return r.notices }
func (r *baseResult) CopyIn() server.CopyIn   { return nil }
func (r *baseResult) CopyOut() server.CopyOut { return nil }

// tagResult is a statement that returns no rows.
type tagResult struct {
	baseResult
	tag string
}

func tagOnly(tag string, notices ...string) *tagResult {
	return &tagResult{baseResult: baseResult{notices: notices}, tag: tag}
}

func (r *tagResult) Next(context.Context) (types.Row, bool, error) { return nil, false, nil }
func (r *tagResult) Tag() string                                   { return r.tag }
func (r *tagResult) Close()                                        {}

// bufferedResult holds rows computed before the statement returned.
type bufferedResult struct {
	baseResult
	rows []types.Row
	next int
	tag  string
}

func (r *bufferedResult) Next(context.Context) (types.Row, bool, error) {
	if r.next >= len(r.rows) {
		return nil, false, nil
	}
	r.next++
	return r.rows[r.next-1], true, nil
}
func (r *bufferedResult) Tag() string { return r.tag }
func (r *bufferedResult) Close()      {}

// rowsResult streams a query's rows from the executor.
type rowsResult struct {
	baseResult
	rows    executor.Rows
	plan    *planner.Plan
	release func()
	done    bool
}

func (r *rowsResult) Next(ctx context.Context) (types.Row, bool, error) {
	if r.done {
		return nil, false, nil
	}
	row, ok, err := r.rows.Next(ctx)
	if err != nil {
		return nil, false, contextError(ctx, err)
	}
	if !ok {
		r.done = true
	}
	return row, ok, nil
}

func (r *rowsResult) Tag() string { return r.plan.Tag(r.rows.Count()) }

func (r *rowsResult) Close() {
	r.rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

// cancelResult ties a statement's context to its result: the context lives
// until the result is closed (a portal may be read across many Executes),
// and an error while reading rows fails the transaction block.
type cancelResult struct {
	server.Result
	cancel context.CancelFunc
	s      *session
}

func withCancel(r server.Result, cancel context.CancelFunc, s *session) server.Result {
	return &cancelResult{Result: r, cancel: cancel, s: s}
}

func (r *cancelResult) Next(ctx context.Context) (types.Row, bool, error) {
	row, ok, err := r.Result.Next(ctx)
	if err != nil && r.s.txState == txOpen {
		r.s.txState = txFailed
	}
	return row, ok, err
}

// Buffered implements server.Live for results that stream.
func (r *cancelResult) Buffered() int {
	if l, ok := r.Result.(server.Live); ok {
		return l.Buffered()
	}
	return 1
}

// Position implements server.Positioned for push queries.
func (r *cancelResult) Position() string {
	if p, ok := r.Result.(server.Positioned); ok {
		return p.Position()
	}
	return ""
}

func (r *cancelResult) Close() {
	r.Result.Close()
	r.cancel()
}
