package executor

import (
	"slices"

	"github.com/weirdb/weir/sql/types"
)

// SortKey orders rows by one column.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// CompareRows compares a and b by keys (NULLs placed as each key says).
func CompareRows(a, b types.Row, keys []SortKey) int {
	for _, k := range keys {
		x, y := a[k.Col], b[k.Col]
		var c int
		switch {
		case x.IsNull() && y.IsNull():
			continue
		case x.IsNull():
			c = 1
			if k.NullsFirst {
				c = -1
			}
			return c
		case y.IsNull():
			c = -1
			if k.NullsFirst {
				c = 1
			}
			return c
		}
		c = types.Compare(x, y)
		if c != 0 {
			if k.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// SortRows sorts rows in place by keys, stably.
func SortRows(rows []types.Row, keys []SortKey) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(rows, func(a, b types.Row) int { return CompareRows(a, b, keys) })
}

// rowsEqual reports whether a and b hold equal values (NULL equals NULL).
func rowsEqual(a, b types.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IsNull() != b[i].IsNull() {
			return false
		}
		if !a[i].IsNull() && !types.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
