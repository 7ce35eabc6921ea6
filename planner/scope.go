package planner

import (
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// scopeCol is one column visible to name resolution.
type scopeCol struct {
	table string // the alias or name that qualifies it ("" for none)
	name  string
	typ   types.Type
	// hidden columns (the row id) are resolvable by name but not in *.
	hidden bool
	// usingDup marks the second copy of a USING/NATURAL join column: not in
	// * and not resolvable unqualified.
	usingDup bool
	// star orders the columns in SELECT * (stable; ties by position): a
	// USING/NATURAL join lists its merged columns first.
	star int
	oid  uint32
	attr int16
}

// scope is the columns of a FROM clause (or of a relation's output), in
// the order of the rows that flow out of it. outer is the enclosing query's
// scope, for correlated references.
type scope struct {
	cols   []scopeCol
	tables map[string]bool
	outer  *scope
}

func newScope(cols []scopeCol, outer *scope) *scope {
	s := &scope{cols: cols, outer: outer, tables: map[string]bool{}}
	for _, c := range cols {
		if c.table != "" {
			s.tables[c.table] = true
		}
	}
	return s
}

// find returns the index of table.name in s: -1 when absent; an error
// when ambiguous.
func (s *scope) find(table, name string) (int, error) {
	found := -1
	for i, c := range s.cols {
		if c.name != name || (table != "" && c.table != table) || (table == "" && c.usingDup) {
			continue
		}
		if found >= 0 {
			return -1, sqlerr.New(sqlerr.AmbiguousColumn, "column reference \"%s\" is ambiguous", name)
		}
		found = i
	}
	return found, nil
}

// resolve finds a column by optional qualifier. It returns the column's
// index in s, or depth > 0 when it was found in an enclosing scope
// (a correlated reference) at that index of that scope.
func (s *scope) resolve(table, name string) (idx, depth int, col scopeCol, err error) {
	for sc, d := s, 0; sc != nil; sc, d = sc.outer, d+1 {
		if table != "" && !sc.tables[table] {
			continue
		}
		i, err := sc.find(table, name)
		if alt := windowColumnAliases[name]; i < 0 && err == nil && alt != "" {
			i, err = sc.find(table, alt)
		}
		if err != nil {
			return -1, 0, scopeCol{}, err
		}
		if i >= 0 {
			return i, d, sc.cols[i], nil
		}
	}
	if table != "" {
		known := false
		for sc := s; sc != nil; sc = sc.outer {
			known = known || sc.tables[table]
		}
		if !known {
			return -1, 0, scopeCol{}, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table \"%s\"", table)
		}
		return -1, 0, scopeCol{}, sqlerr.New(sqlerr.UndefinedColumn, "column %s.%s does not exist", table, name)
	}
	return -1, 0, scopeCol{}, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist", name)
}
