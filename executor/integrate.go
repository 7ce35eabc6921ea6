package executor

import (
	"context"

	"github.com/weirdb/weir/sql/types"
)

// Integrate is the sink of a graph: it sums the changes it receives into
// the current contents of the relation (a multiset of rows). While only
// insertions arrive it just appends (keeping arrival order, which is scan
// order for simple queries); the first retraction switches it to a hash map
// from row to multiplicity.
type Integrate struct {
	rows    []types.Row
	weights []int64
	index   map[string]int // row key -> position, once a retraction was seen
	buf     []byte
}

// NewIntegrate returns an empty sink.
func NewIntegrate() *Integrate { return &Integrate{} }

// SetOutput implements Operator; a sink has no output.
func (s *Integrate) SetOutput(Output) {}

// Push implements Operator.
func (s *Integrate) Push(_ context.Context, _ int, b *Batch) error {
	for i, r := range b.Rows {
		w := b.Weights[i]
		if s.index == nil && w > 0 {
			s.rows = append(s.rows, r)
			s.weights = append(s.weights, w)
			continue
		}
		if s.index == nil {
			s.buildIndex()
		}
		s.buf = appendRowKey(s.buf[:0], r)
		if j, ok := s.index[string(s.buf)]; ok {
			s.weights[j] += w
			continue
		}
		s.index[string(s.buf)] = len(s.rows)
		s.rows = append(s.rows, r)
		s.weights = append(s.weights, w)
	}
	return nil
}

func (s *Integrate) buildIndex() {
	s.index = make(map[string]int, len(s.rows))
	rows, weights := s.rows, s.weights
	s.rows, s.weights = nil, nil
	for i, r := range rows {
		s.buf = appendRowKey(s.buf[:0], r)
		if j, ok := s.index[string(s.buf)]; ok {
			s.weights[j] += weights[i]
			continue
		}
		s.index[string(s.buf)] = len(s.rows)
		s.rows = append(s.rows, r)
		s.weights = append(s.weights, weights[i])
	}
}

// Flush implements Operator.
func (s *Integrate) Flush(context.Context) error { return nil }

// Rows returns the current contents: each row with positive multiplicity
// n, n times, in first-arrival order. The result is owned by the caller;
// the rows are shared.
func (s *Integrate) Rows() []types.Row {
	n := 0
	for _, w := range s.weights {
		if w > 0 {
			n += int(w)
		}
	}
	out := make([]types.Row, 0, n)
	for i, r := range s.rows {
		for w := s.weights[i]; w > 0; w-- {
			out = append(out, r)
		}
	}
	return out
}

func (s *Integrate) String() string { return "Integrate" }
