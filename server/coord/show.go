package coord

import (
	"sort"
	"strings"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// execSet runs SET and RESET.
func (s *session) execSet(n *ast.Set) (server.Result, error) {
	if n.Reset {
		if n.Name == "all" {
			for k, v := range s.defs {
				if !v.readOnly && s.vars[k] != v.def {
					if err := s.set(k, v.def); err != nil {
						return nil, err
					}
				}
			}
			return tagOnly("RESET"), nil
		}
		def := s.defs[strings.ToLower(n.Name)]
		value := ""
		if def != nil {
			value = def.def
		}
		if err := s.set(n.Name, value); err != nil {
			return nil, err
		}
		if n.Default {
			return tagOnly("SET"), nil
		}
		return tagOnly("RESET"), nil
	}
	// SET LOCAL lasts until the end of the transaction in PostgreSQL;
	// Weir applies it to the session, which is what drivers rely on.
	if err := s.set(n.Name, n.Value); err != nil {
		return nil, err
	}
	return tagOnly("SET"), nil
}

func showColumnName(name string) string {
	if name == "timezone" {
		return "TimeZone"
	}
	return name
}

// execShow runs SHOW name and SHOW ALL.
func (s *session) execShow(n *ast.Show) (server.Result, error) {
	if n.Name == "all" {
		names := make([]string, 0, len(s.defs))
		for k := range s.defs {
			names = append(names, k)
		}
		sort.Strings(names)
		rows := make([]types.Row, 0, len(names))
		for _, k := range names {
			d := s.defs[k]
			rows = append(rows, types.Row{types.NewText(d.name), types.NewText(s.vars[k]), types.NewText(d.desc)})
		}
		return &bufferedResult{rows: rows, tag: "SHOW"}, nil
	}
	key := strings.ToLower(n.Name)
	switch key {
	case "transaction isolation level":
		key = "transaction_isolation"
	case "time zone":
		key = "timezone"
	}
	v, ok := s.vars[key]
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", n.Name)
	}
	return &bufferedResult{rows: []types.Row{{types.NewText(v)}}, tag: "SHOW"}, nil
}

// execShowObjects runs SHOW TABLES, SHOW SOURCES, ...
func (s *session) execShowObjects(n *ast.ShowObjects) (server.Result, error) {
	kind, ok := kindOf(n.Kind)
	if !ok {
		return nil, sqlerr.Unsupported("SHOW %sS is not supported", n.Kind)
	}
	var rows []types.Row
	for _, r := range s.c.relations(catalog.Source, catalog.Stream, catalog.MaterializedView, catalog.Table, catalog.View, catalog.Sink) {
		if r.Options[optErrorsOf] != "" || r.Options[optDeadLettersOf] != "" {
			continue // shown with its source or sink
		}
		if r.Kind == kind && kind != catalog.Stream || kind == catalog.Stream && isStream(r) {
			rows = append(rows, types.Row{types.NewText(r.Name)})
		}
	}
	return &bufferedResult{rows: rows, tag: "SHOW"}, nil
}

// isStream reports whether ksqlDB would call rel a stream: a source that
// appends (not keyed), or a view defined by CREATE STREAM ... AS.
func isStream(rel *catalog.Relation) bool {
	switch rel.Kind {
	case catalog.Stream:
		return true
	case catalog.Source:
		return rel.HasRowID()
	case catalog.MaterializedView:
		f := strings.Fields(rel.SQL)
		return len(f) > 1 && strings.EqualFold(f[0], "create") && strings.EqualFold(f[1], "stream")
	}
	return false
}
