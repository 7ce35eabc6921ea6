package coord

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// createTable runs CREATE TABLE. DDL takes effect at once, also inside a
// transaction block (it is not part of the block's atomic unit).
func (s *session) createTable(ctx context.Context, n *ast.CreateTable, sql string) (server.Result, error) {
	rel, err := relationOf(n.Name, catalog.Table, n.Columns, n.PrimaryKey)
	if err != nil {
		return nil, err
	}
	rel.SQL = sql
	opts := n.Options
	if n.Watermark != nil {
		if opts, err = s.eventTime(rel, n.Watermark.Column, n.Watermark.Text, opts); err != nil {
			return nil, err
		}
	}
	if len(opts) > 0 {
		// KAFKA_TOPIC marks ksqlDB's CREATE TABLE of a topic.
		_, ksql := ast.OptionValue(opts, "kafka_topic")
		return s.createFedRelation(ctx, rel, opts, ksql, n.IfNotExists)
	}
	created, err := s.c.createRelation(ctx, rel, n.IfNotExists, nil)
	if err != nil {
		return nil, err
	}
	if !created {
		return tagOnly("CREATE TABLE", fmt.Sprintf("relation \"%s\" already exists, skipping", rel.Name)), nil
	}
	return tagOnly("CREATE TABLE"), nil
}

// relationOf describes a table or source declared with columns and a
// primary key; without one, it gets the hidden row id as its key.
func relationOf(name *ast.TableName, kind catalog.Kind, cols []*ast.ColumnDef, pk []string) (*catalog.Relation, error) {
	if name.Schema != "" && name.Schema != "public" {
		return nil, sqlerr.New(sqlerr.InvalidSchemaName, "schema \"%s\" does not exist", name.Schema)
	}
	rel := &catalog.Relation{Name: name.Name, Kind: kind}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", c.Name)
		}
		seen[c.Name] = true
		if c.Name == catalog.RowIDColumn {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column name \"%s\" is reserved", c.Name)
		}
		col := catalog.Column{Name: c.Name, Type: c.Type, NotNull: c.NotNull || c.PrimaryKey}
		if c.Serial {
			if c.Default != nil {
				return nil, sqlerr.New(sqlerr.SyntaxError, "multiple default values specified for column \"%s\" of table \"%s\"", c.Name, name.Name)
			}
			// SERIAL is an integer column whose default draws from a
			// sequence named as PostgreSQL names it.
			seq := name.Name + "_" + c.Name + "_seq"
			col.NotNull = true
			col.Default = "nextval('" + strings.ReplaceAll(seq, "'", "''") + "')"
		}
		if c.Default != nil && !c.Serial {
			col.Default = c.DefaultText
			if col.Default == "" {
				return nil, sqlerr.Unsupported("this DEFAULT expression is not supported")
			}
		}
		rel.Columns = append(rel.Columns, col)
	}
	if len(rel.Columns) == 0 {
		return nil, sqlerr.Unsupported("tables without columns are not supported")
	}
	for _, c := range cols {
		if c.PrimaryKey {
			if len(pk) > 0 && !(len(pk) == 1 && pk[0] == c.Name) {
				return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table \"%s\" are not allowed", rel.Name)
			}
			pk = []string{c.Name}
		}
	}
	for _, name := range pk {
		i := rel.ColumnIndex(name)
		if i < 0 {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" named in key does not exist", name)
		}
		for _, j := range rel.PrimaryKey {
			if j == i {
				return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" appears twice in primary key constraint", name)
			}
		}
		if rel.Columns[i].Type.Kind == types.KindJSONB {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "data type jsonb has no default operator class for access method \"btree\"")
		}
		rel.Columns[i].NotNull = true
		rel.PrimaryKey = append(rel.PrimaryKey, i)
	}
	if len(rel.PrimaryKey) == 0 {
		rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true})
		rel.PrimaryKey = []int{len(rel.Columns) - 1}
	}
	return rel, nil
}

// kindOf maps a DROP's object kind to the catalog kind it removes.
func kindOf(k ast.ObjectKind) (catalog.Kind, bool) {
	switch k {
	case ast.ObjTable:
		return catalog.Table, true
	case ast.ObjSource:
		return catalog.Source, true
	case ast.ObjStream:
		return catalog.Stream, true
	case ast.ObjMaterializedView:
		return catalog.MaterializedView, true
	case ast.ObjView:
		return catalog.View, true
	case ast.ObjSink:
		return catalog.Sink, true
	}
	return 0, false
}

// dropMatches reports whether DROP <kind> may drop rel. ksqlDB's DROP
// STREAM drops a stream read from a topic (a source) and one defined AS
// SELECT (kept as a materialized view).
func dropMatches(kind catalog.Kind, rel *catalog.Relation) bool {
	if kind == catalog.Stream {
		return rel.Kind == catalog.Stream || rel.Kind == catalog.Source || rel.Kind == catalog.MaterializedView
	}
	return rel.Kind == kind
}

// drop runs DROP TABLE, SOURCE, STREAM, MATERIALIZED VIEW. A relation fed
// by a connector goes with its error relation, and its source stops first.
func (s *session) drop(ctx context.Context, n *ast.Drop) (server.Result, error) {
	if n.Kind == ast.ObjSecret {
		return s.dropSecrets(ctx, n)
	}
	kind, ok := kindOf(n.Kind)
	if !ok {
		return nil, sqlerr.Unsupported("DROP %s is not supported", n.Kind)
	}
	word := strings.ToLower(n.Kind.String())
	var notices []string
	var rels []*catalog.Relation
	for _, name := range n.Names {
		rel, err := s.c.lookup(name.Schema, name.Name)
		if err != nil {
			if n.IfExists {
				notices = append(notices, fmt.Sprintf("%s \"%s\" does not exist, skipping", word, name.Name))
				continue
			}
			return nil, sqlerr.New(sqlerr.UndefinedTable, "%s \"%s\" does not exist", word, name.Name)
		}
		if of := rel.Options[optErrorsOf]; of != "" {
			return nil, sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop %s because source %s requires it", rel.Name, of).
				WithHint("It is the error relation of source %s, dropped with it.", of)
		}
		if of := rel.Options[optDeadLettersOf]; of != "" {
			return nil, sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop %s because sink %s requires it", rel.Name, of).
				WithHint("It holds what sink %s could not deliver, dropped with it.", of)
		}
		if of := rel.Options[optSinkOf]; of != "" && !n.Cascade {
			return nil, sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop %s because sink %s requires it", rel.Name, of).
				WithHint("It holds the query of sink %s, dropped with it.", of)
		}
		if !dropMatches(kind, rel) {
			return nil, sqlerr.New(sqlerr.WrongObjectType, "\"%s\" is not a %s", name.Name, word).
				WithHint("Use DROP %s to remove a %s.", strings.ToUpper(rel.Kind.String()), rel.Kind)
		}
		rels = append(rels, rel)
		if errs, _ := s.c.lookup("", errorsRelationName(rel.Name)); errs != nil && errs.Options[optErrorsOf] == rel.Name {
			rels = append(rels, errs)
		}
		if v, _ := s.c.lookup("", sinkViewName(rel.Name)); rel.Kind == catalog.Sink && v != nil && v.Options[optSinkOf] == rel.Name {
			rels = append(rels, v)
		}
		if d, _ := s.c.lookup("", deadLettersName(rel.Name)); rel.Kind == catalog.Sink && d != nil && d.Options[optDeadLettersOf] == rel.Name {
			rels = append(rels, d)
		}
	}
	// What depends on a relation dropped here too is no obstacle (a sink
	// on the view of its own query).
	dropping := map[catalog.ID]bool{}
	for _, rel := range rels {
		dropping[rel.ID] = true
	}
	blockers := func(rel *catalog.Relation) []*catalog.Relation {
		var out []*catalog.Relation
		for _, d := range s.c.dependents(rel) {
			if !dropping[d.ID] {
				out = append(out, d)
			}
		}
		return out
	}
	if !n.Cascade {
		for _, rel := range rels {
			if deps := blockers(rel); len(deps) > 0 {
				return nil, dependencyError(rel, deps)
			}
		}
	}
	// Stopped before the epoch lock: a source commits under it. One not
	// dropped after all (an error below) starts again.
	dropped := map[catalog.ID]bool{}
	var fed []*catalog.Relation
	for _, rel := range rels {
		if s.c.sources.remove(rel.ID) {
			fed = append(fed, rel)
		}
	}
	defer func() {
		for _, rel := range fed {
			if !dropped[rel.ID] {
				s.c.startSource(rel, &lazySource{c: s.c, rel: rel})
			}
		}
	}()
	vs := s.c.views
	var stopped []*sinkRunner
	defer func() {
		// Sinks end their writes after the epoch lock is released
		// (deferred next, so it runs first): other pipelines go on.
		for _, r := range stopped {
			r.wait()
		}
	}()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, rel := range rels {
		if dropped[rel.ID] {
			continue
		}
		if deps := blockers(rel); len(deps) > 0 && !n.Cascade {
			return nil, dependencyError(rel, deps)
		}
		for _, d := range s.c.dependents(rel) {
			if dropped[d.ID] {
				continue
			}
			if err := s.c.dropRelation(ctx, d); err != nil {
				return nil, err
			}
			stopped = append(stopped, vs.forgetView(d.ID))
			dropped[d.ID] = true
			notices = append(notices, fmt.Sprintf("drop cascades to %s %s", d.Kind, d.Name))
		}
		if err := s.c.dropRelation(ctx, rel); err != nil {
			return nil, err
		}
		stopped = append(stopped, vs.forgetView(rel.ID))
		dropped[rel.ID] = true
	}
	return tagOnly("DROP "+n.Kind.String(), notices...), nil
}

// truncate runs TRUNCATE: in the session's transaction when one is open.
func (s *session) truncate(ctx context.Context, n *ast.Truncate) (server.Result, error) {
	var rels []*catalog.Relation
	for _, name := range n.Tables {
		rel, err := s.c.lookup(name.Schema, name.Name)
		if err != nil {
			return nil, err
		}
		if err := checkWritable(rel); err != nil {
			return nil, err
		}
		if rel.Kind != catalog.Table {
			return nil, sqlerr.New(sqlerr.WrongObjectType, "\"%s\" is not a table", name.Name)
		}
		rels = append(rels, rel)
	}
	err := s.withTxn(ctx, func(txn *storage.Txn) error {
		for _, rel := range rels {
			if len(s.c.dependents(rel)) > 0 || s.c.views.readsPending(rel.ID) {
				// Views need the rows that go: delete them one by one;
				// but deletions below a watermark break its promise (a
				// closed window would keep them).
				if err := refuseUnlessAppend(rel); err != nil {
					return err
				}
				if err := deleteAll(ctx, txn, rel); err != nil {
					return err
				}
				continue
			}
			if err := txn.Truncate(rel); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tagOnly("TRUNCATE TABLE"), nil
}

// deleteAll deletes every row of rel in txn, recording each deletion.
func deleteAll(ctx context.Context, txn *storage.Txn, rel *catalog.Relation) error {
	var rows []types.Row
	err := txn.Scan(ctx, rel, nil, func(batch []types.Row) error {
		for _, r := range batch {
			rows = append(rows, append(types.Row(nil), r...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := txn.Delete(ctx, rel, r); err != nil {
			return err
		}
	}
	return nil
}
