package coord

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/storage"
)

// createSource runs CREATE SOURCE, and ksqlDB's CREATE STREAM name (cols)
// WITH (KAFKA_TOPIC = ...): a relation fed by a connector. Without a
// primary key it is a stream (each record appends a row); with one, each
// record upserts or deletes the row of its key.
func (s *session) createSource(ctx context.Context, n *ast.CreateSource, sql string) (server.Result, error) {
	pk := n.PrimaryKey
	var keyColumns []string
	if n.Ksql {
		// ksqlDB's KEY columns of a stream are read from the record key; a
		// stream has no primary key.
		pk, keyColumns = nil, n.PrimaryKey
	}
	cols := n.Columns
	if len(keyColumns) > 0 {
		cols = make([]*ast.ColumnDef, len(n.Columns))
		for i, c := range n.Columns {
			cp := *c
			if cp.PrimaryKey {
				// A stream's record may have no key.
				cp.PrimaryKey, cp.NotNull = false, false
			}
			cols[i] = &cp
		}
	}
	var inferred map[string]string
	// The engine's options (event time, storage) are not the connector's.
	connOpts := withoutEngineOptions(n.Options)
	if len(cols) == 0 {
		var err error
		if cols, inferred, err = s.inferColumns(ctx, connOpts, n.Ksql); err != nil {
			return nil, err
		}
	}
	rel, err := relationOf(n.Name, catalog.Source, cols, pk)
	if err != nil {
		return nil, err
	}
	rel.SQL = sql
	rel.Options = inferred
	if len(keyColumns) > 0 {
		if rel.Options == nil {
			rel.Options = map[string]string{}
		}
		rel.Options["weir.key_columns"] = strings.Join(keyColumns, ",")
	}
	opts := n.Options
	wmCol, wmText := "", ""
	if n.Watermark != nil {
		wmCol, wmText = n.Watermark.Column, n.Watermark.Text
	} else if m, err := connectorOptions(connOpts, n.Ksql); err == nil {
		if conn, err := s.c.connectorOf(m); err == nil {
			if et, ok := conn.(executor.EventTimeSource); ok {
				if col, text, ok := et.DefaultWatermark(m); ok && rel.ColumnIndex(col) >= 0 {
					wmCol, wmText = col, text
				}
			}
		}
	}
	if wmCol != "" {
		if opts, err = s.eventTime(rel, wmCol, wmText, opts); err != nil {
			return nil, err
		}
	}
	if opts, err = storedOption(rel, opts); err != nil {
		return nil, err
	}
	return s.createFedRelation(ctx, rel, opts, n.Ksql, n.IfNotExists)
}

// withoutEngineOptions is opts without the options the engine takes for
// itself (eventTime, storedOption).
func withoutEngineOptions(opts []*ast.Option) []*ast.Option {
	var out []*ast.Option
	for _, o := range opts {
		switch strings.ToLower(o.Key) {
		case optStored, optAllowedLateness, optIdleTimeout:
			continue
		}
		out = append(out, o)
	}
	return out
}

// inferColumns asks the source's connector for its columns.
func (s *session) inferColumns(ctx context.Context, opts []*ast.Option, ksql bool) ([]*ast.ColumnDef, map[string]string, error) {
	m, err := connectorOptions(opts, ksql)
	if err != nil {
		return nil, nil, err
	}
	conn, err := s.c.connectorOf(m)
	if err != nil {
		return nil, nil, err
	}
	inf, ok := conn.(executor.SchemaInferrer)
	if !ok {
		return nil, nil, sqlerr.New(sqlerr.InvalidTableDefinition, "connector \"%s\" cannot tell a source's columns", m["connector"]).
			WithHint("Declare the columns: CREATE SOURCE name (col type, ...) WITH (...).")
	}
	cols, extra, err := inf.InferColumns(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	defs := make([]*ast.ColumnDef, len(cols))
	for i, c := range cols {
		defs[i] = &ast.ColumnDef{Name: c.Name, Type: c.Type, NotNull: c.NotNull}
	}
	return defs, extra, nil
}

// ksqlOptions are ksqlDB's WITH options and the Weir options each sets.
var ksqlOptions = map[string][]string{
	"kafka_topic":  {"topic"},
	"value_format": {"format"},
	"key_format":   {"key.format"},
	"format":       {"format", "key.format"},
}

// connectorOptions turns WITH (...) into the options stored with the
// relation: keys lower-cased, ksqlDB's names translated, and the
// connector named (kafka when a topic is given and no connector).
func connectorOptions(opts []*ast.Option, ksql bool) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range opts {
		k := strings.ToLower(o.Key)
		keys := []string{k}
		if w, ok := ksqlOptions[k]; ok && (ksql || k == "kafka_topic") {
			keys = w
		}
		for _, k := range keys {
			if _, dup := out[k]; dup {
				return nil, sqlerr.New(sqlerr.SyntaxError, "option \"%s\" given more than once", k)
			}
			out[k] = o.Value
		}
	}
	if out["connector"] == "" {
		if out["topic"] == "" {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "missing option \"connector\"").
				WithHint("Name the connector: WITH (connector = 'kafka', topic = '...', format = 'json').")
		}
		out["connector"] = "kafka"
	}
	out["connector"] = strings.ToLower(out["connector"])
	for k := range out {
		if strings.HasPrefix(k, "weir.") {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "option \"%s\" is reserved", k)
		}
	}
	return out, nil
}

// createFedRelation creates rel (a source, or a table) fed by the
// connector its options name, with its error relation when bad records go
// to one, and starts feeding it. The connector is opened first, so that a
// statement whose options or system are wrong fails with nothing created.
func (s *session) createFedRelation(ctx context.Context, rel *catalog.Relation, opts []*ast.Option, ksql, ifNotExists bool) (server.Result, error) {
	c := s.c
	tag := "CREATE " + strings.ToUpper(rel.Kind.String())
	if ksql && rel.Kind == catalog.Source {
		tag = "CREATE STREAM"
	}
	if existing, _ := c.lookup("", rel.Name); existing != nil {
		if ifNotExists {
			return tagOnly(tag, fmt.Sprintf("relation \"%s\" already exists, skipping", rel.Name)), nil
		}
		return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", rel.Name)
	}
	given, err := connectorOptions(opts, ksql)
	if err != nil {
		return nil, err
	}
	// Options the source was given, and those it keeps for itself (the
	// schema its columns were inferred from).
	for k, v := range rel.Options {
		given[k] = v
	}
	rel.Options = given
	if ksql && (!rel.HasRowID() || rel.Options["weir.key_columns"] != "") && rel.Options["key.format"] == "" {
		// A ksqlDB table's PRIMARY KEY and a stream's KEY columns are the
		// record key, by default in the KAFKA format.
		rel.Options["key.format"] = "kafka"
	}
	onError, err := parseOnError(rel.Options)
	if err != nil {
		return nil, err
	}
	rels := []*catalog.Relation{rel}
	if onError == executor.OnErrorDeadLetter {
		errs := newErrorsRelation(rel.Name)
		if existing, _ := c.lookup("", errs.Name); existing != nil {
			return nil, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", errs.Name).
				WithHint("The records source \"%s\" cannot decode go to a relation of that name; rename one, or use on_error = 'skip'.", rel.Name)
		}
		rels = append(rels, errs)
	}
	src, err := c.openSource(ctx, rel)
	if err != nil {
		return nil, err
	}
	if unstored(rel) {
		// Where a view created later replays it from.
		rel.Options[optStartOffset] = encodeOffsets(src.StartOffsets())
	}
	created, err := c.createRelations(ctx, rels, func(txn *storage.Txn) error {
		for _, o := range src.StartOffsets() {
			if err := txn.PutSourceOffset(rel.ID, o.Topic, o.Partition, o.Next); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !created {
		src.Close()
		if err == nil && ifNotExists {
			return tagOnly(tag, fmt.Sprintf("relation \"%s\" already exists, skipping", rel.Name)), nil
		}
		return nil, err
	}
	c.startSource(rel, src)
	return tagOnly(tag), nil
}

// createStreamAs runs ksqlDB's CREATE STREAM name AS SELECT ...: a query
// kept up to date like a materialized view (an aggregate too, which
// ksqlDB itself would refuse as a stream).
func (s *session) createStreamAs(ctx context.Context, n *ast.CreateStream, sql string) (server.Result, error) {
	if len(n.Options) > 0 {
		return nil, sqlerr.Unsupported("CREATE STREAM ... WITH (%s) AS SELECT is not supported", n.Options[0].Key).
			WithHint("Write the stream's changes to a topic with CREATE SINK name FROM stream WITH (connector = 'kafka', ...).")
	}
	res, err := s.createMaterializedView(ctx, streamAsView(n), sql)
	if err != nil {
		return nil, err
	}
	res.tag = "CREATE STREAM"
	return res, nil
}

// streamAsView is the materialized view a CREATE STREAM AS defines.
func streamAsView(n *ast.CreateStream) *ast.CreateMaterializedView {
	return &ast.CreateMaterializedView{Name: n.Name, IfNotExists: n.IfNotExists, Query: n.Query, Ksql: true}
}
