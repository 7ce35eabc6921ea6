package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Session windows: SESSION(relation, time_col, gap) in FROM, and ksqlDB's
// WINDOW SESSION (gap). Which rows form a session depends on the other
// rows of the same key, and the key is the query's GROUP BY (its columns
// other than window_start and window_end), so the binder keys the session
// when it binds the GROUP BY (keySession); a SESSION the query does not
// group by its window is refused.

// sessionNode appends to each row window_start and window_end of its
// session (executor.SessionAssign).
type sessionNode struct {
	in      node
	timeCol int
	gap     int64 // microseconds
	// key are the columns of in that make the session key; keyed: set
	// by keySession.
	key   []int
	keyed bool
}

func (n *sessionNode) colTypes() []types.Type {
	in := n.in.colTypes()
	t := in[n.timeCol]
	return append(append([]types.Type{}, in...), t, t)
}

func (n *sessionNode) desc() string {
	gap := string(types.AppendText(nil, types.NewInterval(0, 0, n.gap), nil))
	key := make([]string, len(n.key))
	for i, c := range n.key {
		key[i] = fmt.Sprintf("#%d", c)
	}
	return fmt.Sprintf("SESSION #%d gap %s key (%s)", n.timeCol, gap, strings.Join(key, ", "))
}

func (n *sessionNode) explain(sb *strings.Builder, depth int) {
	indent(sb, depth, "%s", n.desc())
	n.in.explain(sb, depth+1)
}

func (n *sessionNode) build(r *runState) (executor.Operator, error) {
	if !n.keyed {
		return nil, sessionNeedsGroupBy()
	}
	in, err := n.in.build(r)
	if err != nil {
		return nil, err
	}
	width := len(n.in.colTypes())
	op, err := r.partitioned(func() (executor.Operator, error) {
		return executor.NewSessionAssign(width, n.key, n.timeCol, n.gap, n.desc())
	})
	if err != nil {
		return nil, err
	}
	executor.Connect(in, op, 0)
	return op, nil
}

func sessionNeedsGroupBy() error {
	return sqlerr.New(sqlerr.FeatureNotSupported, "SESSION needs a query that groups by its window_start or window_end").
		WithHint("Write SELECT key, window_start, window_end, count(*) FROM SESSION(relation, time_column, gap) GROUP BY key, window_start, window_end: the other GROUP BY columns are the session key.")
}

// bindSession binds SESSION(relation, time_col, gap) and ksqlDB's WINDOW
// SESSION (gap) (f.WindowClause: no time column argument). The relation
// may be any: one that retracts rows has no watermark, so its sessions
// never close and stay exact.
func (b *binder) bindSession(f *ast.TableFunc, outer *scope) (node, []scopeCol, error) {
	const usage = "SESSION(relation, time_column, gap)"
	want := 3
	if f.WindowClause {
		want = 2
	}
	if len(f.Args) != want {
		return nil, nil, sqlerr.New(sqlerr.UndefinedFunction, "SESSION takes %d arguments, not %d", want, len(f.Args)).WithHint("Write %s.", usage)
	}
	in, cols, alias, timeCol, err := b.bindWindowInput(f, outer, usage)
	if err != nil {
		return nil, nil, err
	}
	gap, err := b.windowInterval(f.Args[want-1], "session")
	if err != nil {
		return nil, nil, err
	}
	if gap <= 0 {
		return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "the gap of SESSION must be positive")
	}
	cols, err = withWindowCols(cols, timeCol, alias, f.ColAliases)
	if err != nil {
		return nil, nil, err
	}
	return &sessionNode{in: in, timeCol: timeCol, gap: gap}, cols, nil
}

// keySession keys the SESSION that root reads (through WHERE's filters)
// by the query's GROUP BY: groups must include its window_start or
// window_end, and its other items must be plain columns of the relation.
// A root without one is left alone.
func keySession(root node, groups []executor.Expr) error {
	var s *sessionNode
	for s == nil {
		switch n := root.(type) {
		case *filterNode:
			root = n.in
			continue
		case *sessionNode:
			s = n
			continue
		}
		return nil
	}
	width := len(s.in.colTypes())
	windowed := false
	var key []int
	for _, g := range groups {
		c, ok := g.(*executor.ColRef)
		switch {
		case ok && c.Idx >= width:
			windowed = true
		case ok:
			if !slices.Contains(key, c.Idx) {
				key = append(key, c.Idx)
			}
		default:
			return sqlerr.New(sqlerr.FeatureNotSupported, "a query over SESSION can group only by columns of its relation, not by %s", g).
				WithHint("The GROUP BY columns other than window_start and window_end are the session key; compute %s in the select list, or in a view that SESSION reads.", g)
		}
	}
	if !windowed {
		return sessionNeedsGroupBy()
	}
	s.key, s.keyed = key, true
	return nil
}
