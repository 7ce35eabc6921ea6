package coord

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// The virtual pg_catalog and information_schema: read-only relations whose
// rows are computed from the in-memory catalog when a statement reads
// them, so that psql's \d commands, JDBC's DatabaseMetaData and BI tools
// find what they look for. Their columns follow PostgreSQL 15 with Weir's
// types: oid, regclass, regproc and xid are int8; name, "char", arrays,
// int2vector and pg_node_tree are text.
//
// Their relation ids are PostgreSQL's own where PostgreSQL has a fixed one
// (pg_class is 1259) and otherwise in 12000-13999; user objects start at
// firstUserOID, so rel.ID < firstUserOID is how a store tells them apart.
// Each has a hidden row-number key column; rows come in that order.

const (
	firstUserOID = 16384

	nsPgCatalog  = funcs.OIDNamespacePgCatalog
	nsPublic     = funcs.OIDNamespacePublic
	nsInfoSchema = funcs.OIDNamespaceInfoSchema
	// nsWeirCatalog is weir_catalog, Weir's own system relations.
	nsWeirCatalog = 12500
	ownerOID      = funcs.OIDOwnerRole
	databaseOID   = 5
	heapAM        = 2
	btreeAM       = 403

	// OIDs of a table's primary-key index and constraint, derived from the
	// table's id (Weir does not store them).
	indexOIDBit      = 1 << 30
	constraintOIDBit = 2 << 30
	attrdefOIDBit    = 3 << 30
)

// vrel is one virtual relation.
type vrel struct {
	rel    *catalog.Relation
	schema string
	nsOID  int64
	rows   func(v *catalogView) []types.Row // without the row number
}

// pgCatalog is the immutable table of virtual relations, built once.
type pgCatalog struct {
	byID   map[catalog.ID]*vrel
	byName map[string]*vrel // "schema.name"
	list   []*vrel          // by id
}

var virtualCatalog = sync.OnceValue(buildPgCatalog)

// virtualRelation returns the virtual relation schema.name; an empty
// schema is searched in pg_catalog only (it comes first in PostgreSQL's
// search path). It is cheap for names that cannot be virtual.
func virtualRelation(schema, name string) *catalog.Relation {
	switch schema {
	case "":
		if !strings.HasPrefix(name, "pg_") {
			return nil
		}
		schema = "pg_catalog"
	case "pg_catalog", "information_schema", "weir_catalog":
	default:
		return nil
	}
	if v := virtualCatalog().byName[schema+"."+name]; v != nil {
		return v.rel
	}
	return nil
}

// isVirtual reports whether rel is a virtual catalog relation.
func isVirtual(rel *catalog.Relation) bool { return rel.ID < firstUserOID }

// checkWritable refuses DDL and DML on the virtual catalog.
func checkWritable(rel *catalog.Relation) error {
	if isVirtual(rel) {
		return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied: \"%s\" is a system catalog", rel.Name)
	}
	return nil
}

// col is a column spec "name type".
func buildRelation(id catalog.ID, name string, kind catalog.Kind, spec string) *catalog.Relation {
	rel := &catalog.Relation{ID: id, Name: name, Kind: kind}
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		nm, typ, _ := strings.Cut(f, " ")
		var t types.Type
		switch typ {
		case "int8":
			t = types.Int64
		case "int4":
			t = types.Int32
		case "int2":
			t = types.Int16
		case "float4":
			t = types.Float32
		case "float8":
			t = types.Float64
		case "bool":
			t = types.Bool
		case "text":
			t = types.Text
		case "tstz":
			t = types.TimestampTZ
		default:
			panic("pgcatalog: bad type " + typ)
		}
		rel.Columns = append(rel.Columns, catalog.Column{Name: nm, Type: t})
	}
	rel.Columns = append(rel.Columns, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true})
	rel.PrimaryKey = []int{len(rel.Columns) - 1}
	return rel
}

func buildPgCatalog() *pgCatalog {
	pc := &pgCatalog{byID: map[catalog.ID]*vrel{}, byName: map[string]*vrel{}}
	add := func(id catalog.ID, schema, name string, kind catalog.Kind, spec string, rows func(v *catalogView) []types.Row) {
		ns := int64(nsPgCatalog)
		switch schema {
		case "information_schema":
			ns = nsInfoSchema
		case "weir_catalog":
			ns = nsWeirCatalog
		}
		v := &vrel{rel: buildRelation(id, name, kind, spec), schema: schema, nsOID: ns, rows: rows}
		pc.byID[id] = v
		pc.byName[schema+"."+name] = v
		pc.list = append(pc.list, v)
	}
	none := func(*catalogView) []types.Row { return nil }
	const pg, is = "pg_catalog", "information_schema"
	add(1247, pg, "pg_type", catalog.Table, "oid int8, typname text, typnamespace int8, typowner int8, typlen int2, typbyval bool, typtype text, typcategory text, typispreferred bool, typisdefined bool, typdelim text, typrelid int8, typsubscript text, typelem int8, typarray int8, typinput text, typoutput text, typreceive text, typsend text, typmodin text, typmodout text, typanalyze text, typalign text, typstorage text, typnotnull bool, typbasetype int8, typtypmod int4, typndims int4, typcollation int8, typdefaultbin text, typdefault text, typacl text", (*catalogView).pgType)
	add(1249, pg, "pg_attribute", catalog.Table, "attrelid int8, attname text, atttypid int8, attstattarget int4, attlen int2, attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign text, attstorage text, attcompression text, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity text, attgenerated text, attisdropped bool, attislocal bool, attinhcount int4, attcollation int8, attacl text, attoptions text, attfdwoptions text, attmissingval text", (*catalogView).pgAttribute)
	add(1255, pg, "pg_proc", catalog.Table, "oid int8, proname text, pronamespace int8, proowner int8, prolang int8, procost float4, prorows float4, provariadic int8, prosupport text, prokind text, prosecdef bool, proleakproof bool, proisstrict bool, proretset bool, provolatile text, proparallel text, pronargs int2, pronargdefaults int2, prorettype int8, proargtypes text, proallargtypes text, proargmodes text, proargnames text, proargdefaults text, protrftypes text, prosrc text, probin text, prosqlbody text, proconfig text, proacl text", none)
	add(1259, pg, "pg_class", catalog.Table, "oid int8, relname text, relnamespace int8, reltype int8, reloftype int8, relowner int8, relam int8, relfilenode int8, reltablespace int8, relpages int4, reltuples float4, relallvisible int4, reltoastrelid int8, relhasindex bool, relisshared bool, relpersistence text, relkind text, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident text, relispartition bool, relrewrite int8, relfrozenxid int8, relminmxid int8, relacl text, reloptions text, relpartbound text", (*catalogView).pgClass)
	add(1262, pg, "pg_database", catalog.Table, "oid int8, datname text, datdba int8, encoding int4, datlocprovider text, datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace int8, datcollate text, datctype text, daticulocale text, datcollversion text, datacl text", (*catalogView).pgDatabase)
	add(1213, pg, "pg_tablespace", catalog.Table, "oid int8, spcname text, spcowner int8, spcacl text, spcoptions text", func(*catalogView) []types.Row {
		return []types.Row{{i8(1663), txt("pg_default"), i8(ownerOID), types.Null, types.Null}}
	})
	add(2601, pg, "pg_am", catalog.Table, "oid int8, amname text, amhandler text, amtype text", func(*catalogView) []types.Row {
		return []types.Row{
			{i8(heapAM), txt("heap"), txt("heap_tableam_handler"), txt("t")},
			{i8(btreeAM), txt("btree"), txt("bthandler"), txt("i")},
		}
	})
	add(2604, pg, "pg_attrdef", catalog.Table, "oid int8, adrelid int8, adnum int2, adbin text", (*catalogView).pgAttrdef)
	add(2606, pg, "pg_constraint", catalog.Table, "oid int8, conname text, connamespace int8, contype text, condeferrable bool, condeferred bool, convalidated bool, conrelid int8, contypid int8, conindid int8, conparentid int8, confrelid int8, confupdtype text, confdeltype text, confmatchtype text, conislocal bool, coninhcount int4, connoinherit bool, conkey text, confkey text, conpfeqop text, conppeqop text, conffeqop text, confdelsetcols text, conexclop text, conbin text", (*catalogView).pgConstraint)
	add(2609, pg, "pg_description", catalog.Table, "objoid int8, classoid int8, objsubid int4, description text", none)
	add(2610, pg, "pg_index", catalog.Table, "indexrelid int8, indrelid int8, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey text, indcollation text, indclass text, indoption text, indexprs text, indpred text", (*catalogView).pgIndex)
	add(2611, pg, "pg_inherits", catalog.Table, "inhrelid int8, inhparent int8, inhseqno int4, inhdetachpending bool", none)
	add(2615, pg, "pg_namespace", catalog.Table, "oid int8, nspname text, nspowner int8, nspacl text", (*catalogView).pgNamespace)
	add(3456, pg, "pg_collation", catalog.Table, "oid int8, collname text, collnamespace int8, collowner int8, collprovider text, collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, collversion text", func(*catalogView) []types.Row {
		c := func(oid int64, name, prov string, enc int32, coll types.Datum) types.Row {
			return types.Row{i8(oid), txt(name), i8(nsPgCatalog), i8(ownerOID), txt(prov), types.NewBool(true), types.NewInt32(enc), coll, coll, types.Null, types.Null}
		}
		return []types.Row{c(100, "default", "d", -1, types.Null), c(950, "C", "c", -1, txt("C")), c(951, "POSIX", "c", -1, txt("POSIX"))}
	})
	add(6104, pg, "pg_publication", catalog.Table, "oid int8, pubname text, pubowner int8, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool", none)
	add(6106, pg, "pg_publication_rel", catalog.Table, "oid int8, prpubid int8, prrelid int8, prqual text, prattrs text", none)
	add(6237, pg, "pg_publication_namespace", catalog.Table, "oid int8, pnpubid int8, pnnspid int8", none)
	add(12001, pg, "pg_roles", catalog.View, "rolname text, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil tstz, rolbypassrls bool, rolconfig text, oid int8", func(v *catalogView) []types.Row {
		t := types.NewBool(true)
		return []types.Row{{txt(v.user), t, t, t, t, t, t, types.NewInt32(-1), txt("********"), types.Null, t, types.Null, i8(ownerOID)}}
	})
	add(12002, pg, "pg_user", catalog.View, "usename text, usesysid int8, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, valuntil tstz, useconfig text", func(v *catalogView) []types.Row {
		t := types.NewBool(true)
		return []types.Row{{txt(v.user), i8(ownerOID), t, t, t, t, txt("********"), types.Null, types.Null}}
	})
	add(12003, pg, "pg_settings", catalog.View, "name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals text, boot_val text, reset_val text, sourcefile text, sourceline int4, pending_restart bool", (*catalogView).pgSettings)
	add(13001, is, "schemata", catalog.View, "catalog_name text, schema_name text, schema_owner text, default_character_set_catalog text, default_character_set_schema text, default_character_set_name text, sql_path text", (*catalogView).isSchemata)
	add(13002, is, "tables", catalog.View, "table_catalog text, table_schema text, table_name text, table_type text, self_referencing_column_name text, reference_generation text, user_defined_type_catalog text, user_defined_type_schema text, user_defined_type_name text, is_insertable_into text, is_typed text, commit_action text", (*catalogView).isTables)
	add(13003, is, "columns", catalog.View, "table_catalog text, table_schema text, table_name text, column_name text, ordinal_position int4, column_default text, is_nullable text, data_type text, character_maximum_length int4, character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, datetime_precision int4, interval_type text, interval_precision int4, character_set_catalog text, character_set_schema text, character_set_name text, collation_catalog text, collation_schema text, collation_name text, domain_catalog text, domain_schema text, domain_name text, udt_catalog text, udt_schema text, udt_name text, scope_catalog text, scope_schema text, scope_name text, maximum_cardinality int4, dtd_identifier text, is_self_referencing text, is_identity text, identity_generation text, identity_start text, identity_increment text, identity_maximum text, identity_minimum text, identity_cycle text, is_generated text, generation_expression text, is_updatable text", (*catalogView).isColumns)
	add(13004, is, "table_constraints", catalog.View, "constraint_catalog text, constraint_schema text, constraint_name text, table_catalog text, table_schema text, table_name text, constraint_type text, is_deferrable text, initially_deferred text, enforced text, nulls_distinct text", (*catalogView).isTableConstraints)
	add(13005, is, "key_column_usage", catalog.View, "constraint_catalog text, constraint_schema text, constraint_name text, table_catalog text, table_schema text, table_name text, column_name text, ordinal_position int4, position_in_unique_constraint int4", (*catalogView).isKeyColumnUsage)
	// Weir's own: read without the epoch lock, so that another session
	// watches a backfill while it runs (progress.go).
	add(12501, "weir_catalog", "progress", catalog.View, "kind text, name text, phase text, rows_read int8, started_at tstz, rows_per_second float8", func(v *catalogView) []types.Row {
		return v.s.c.progress.progressRows()
	})
	// Connector-fed relations: how their input is going (sources.go).
	add(12502, "weir_catalog", "sources", catalog.View, "name text, connector text, topic text, state text, error text, records int8, errors int8, bytes int8, last_record_at tstz", func(v *catalogView) []types.Row {
		return v.s.c.sourceRows()
	})
	// Sinks: how far each has delivered its log (sinks.go).
	add(12503, "weir_catalog", "sinks", catalog.View, "name text, relation text, connector text, topic text, state text, error text, delivered_epoch int8, pending_epochs int8, changes int8", func(v *catalogView) []types.Row {
		return v.s.c.sinkRows()
	})
	// Relations with event time: their watermarks and late rows
	// (eventtime.go).
	add(12504, "weir_catalog", "watermarks", catalog.View, "name text, kind text, event_time text, watermark text, allowed_lateness text, late_dropped int8, late_applied int8", func(v *catalogView) []types.Row {
		return v.s.c.watermarkRows()
	})
	sort.Slice(pc.list, func(i, j int) bool { return pc.list[i].rel.ID < pc.list[j].rel.ID })
	return pc
}

func i8(v int64) types.Datum   { return types.NewInt64(v) }
func i4(v int32) types.Datum   { return types.NewInt32(v) }
func i2(v int16) types.Datum   { return types.NewInt16(v) }
func txt(s string) types.Datum { return types.NewText(s) }

// txtOrNull is s as text, NULL when empty (a status's error).
func txtOrNull(s string) types.Datum {
	if s == "" {
		return types.Null
	}
	return types.NewText(s)
}
func bl(b bool) types.Datum { return types.NewBool(b) }

// ---- the per-statement view of the catalog ----

// catalogView is the catalog as one statement sees it: the relations
// published when the statement first looked (virtual ones included), and
// the session's user, database and settings. It implements
// funcs.CatalogInfo and wraps the statement's TableStore. A statement runs
// on one goroutine; catalogView is not safe for concurrent use.
type catalogView struct {
	s        *session
	pc       *pgCatalog
	user, db string

	loaded bool
	rels   []*catalog.Relation // user relations, by id
	byID   map[int64]*catalog.Relation
	rows   map[catalog.ID][]types.Row // computed virtual rows, row number last
}

var _ funcs.CatalogInfo = (*catalogView)(nil)

// newCatalogView returns the view for one statement.
func (s *session) newCatalogView() *catalogView {
	return &catalogView{s: s, pc: virtualCatalog(), user: s.user, db: s.database}
}

// withCatalog makes rt's store serve the virtual catalog and rt's
// functions answer catalog questions, for one statement.
func (s *session) withCatalog(rt *executor.Runtime) {
	v := s.newCatalogView()
	if rt.Env != nil {
		rt.Env.Catalog = v
	}
	if rt.Store != nil {
		rt.Store = &catalogStore{TableStore: rt.Store, v: v}
	}
}

func (v *catalogView) load() {
	if v.loaded {
		return
	}
	v.loaded = true
	c := v.s.c
	c.mu.RLock()
	v.rels = make([]*catalog.Relation, 0, len(c.byName))
	for _, r := range c.byName {
		if r.Kind != catalog.Sink {
			v.rels = append(v.rels, r)
		}
	}
	c.mu.RUnlock()
	sort.Slice(v.rels, func(i, j int) bool { return v.rels[i].ID < v.rels[j].ID })
	v.byID = make(map[int64]*catalog.Relation, len(v.rels))
	for _, r := range v.rels {
		v.byID[int64(r.ID)] = r
	}
}

// relInfo is a relation of either kind as the catalog tables list it.
type relInfo struct {
	rel    *catalog.Relation
	schema string
	nsOID  int64
}

// all returns every relation, virtual ones first, by id.
func (v *catalogView) all() []relInfo {
	v.load()
	pc := v.pc
	out := make([]relInfo, 0, len(pc.list)+len(v.rels))
	for _, vr := range pc.list {
		out = append(out, relInfo{vr.rel, vr.schema, vr.nsOID})
	}
	for _, r := range v.rels {
		out = append(out, relInfo{r, "public", nsPublic})
	}
	return out
}

// rowsOf returns the rows of a virtual relation, computed once per view.
func (v *catalogView) rowsOf(rel *catalog.Relation) ([]types.Row, error) {
	if rows, ok := v.rows[rel.ID]; ok {
		return rows, nil
	}
	vr := virtualCatalog().byID[rel.ID]
	if vr == nil || vr.rel != rel {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", rel.Name)
	}
	rows := vr.rows(v)
	for i, r := range rows {
		rows[i] = append(r, i8(int64(i+1)))
	}
	if v.rows == nil {
		v.rows = map[catalog.ID][]types.Row{}
	}
	v.rows[rel.ID] = rows
	return rows, nil
}

// columns returns the visible columns of a relation with their attnums.
func visibleColumns(rel *catalog.Relation) []int {
	return rel.Visible()
}

// hasPK reports whether rel has a declared primary key (not the row id).
func hasPK(rel *catalog.Relation) bool {
	return rel.Kind == catalog.Table && len(rel.PrimaryKey) > 0 && !rel.HasRowID() && !isVirtual(rel)
}

func relKind(r *catalog.Relation) string {
	switch r.Kind {
	case catalog.View:
		return "v"
	case catalog.MaterializedView:
		return "m"
	}
	return "r"
}

// attnum is PostgreSQL's 1-based column number of column i; hidden
// columns come last in Weir, so visible columns keep their positions.
func attnum(i int) int16 { return int16(i + 1) }

// pkName is the name PostgreSQL gives a table's primary key.
func pkName(r *catalog.Relation) string { return r.Name + "_pkey" }

func pkColumnNames(r *catalog.Relation) string {
	names := make([]string, len(r.PrimaryKey))
	for i, k := range r.PrimaryKey {
		names[i] = quoteIdent(r.Columns[k].Name)
	}
	return strings.Join(names, ", ")
}

// quoteIdent quotes a name unless it is a plain lower-case identifier.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			plain = false
			break
		}
	}
	switch s {
	case "user", "table", "select", "from", "where", "order", "group", "check", "default", "primary", "key", "column", "all", "and", "or", "not", "null", "end", "case", "when", "then", "else", "limit", "offset", "to", "as", "on":
		plain = false
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// ---- funcs.CatalogInfo ----

// RelationOID implements funcs.CatalogInfo.
func (v *catalogView) RelationOID(name string) (int64, bool) {
	schema, rel, ok := splitQualified(name)
	if !ok {
		return 0, false
	}
	if r := virtualRelation(schema, rel); r != nil {
		return int64(r.ID), true
	}
	if schema != "" && schema != "public" {
		return 0, false
	}
	v.load()
	for _, r := range v.rels {
		if r.Name == rel {
			return int64(r.ID), true
		}
	}
	return 0, false
}

// RelationVisible implements funcs.CatalogInfo: public and pg_catalog are
// on the search path, information_schema is not.
func (v *catalogView) RelationVisible(oid int64) bool {
	if vr := virtualCatalog().byID[catalog.ID(oid)]; vr != nil {
		return vr.schema == "pg_catalog"
	}
	return true
}

// IndexDef implements funcs.CatalogInfo.
func (v *catalogView) IndexDef(oid int64) (string, bool) {
	r := v.userRel(oid, indexOIDBit)
	if r == nil {
		return "", false
	}
	return fmt.Sprintf("CREATE UNIQUE INDEX %s ON public.%s USING btree (%s)", quoteIdent(pkName(r)), quoteIdent(r.Name), pkColumnNames(r)), true
}

// ConstraintDef implements funcs.CatalogInfo.
func (v *catalogView) ConstraintDef(oid int64) (string, bool) {
	r := v.userRel(oid, constraintOIDBit)
	if r == nil {
		return "", false
	}
	return "PRIMARY KEY (" + pkColumnNames(r) + ")", true
}

func (v *catalogView) userRel(oid int64, bit int64) *catalog.Relation {
	if oid&(3<<30) != bit {
		return nil
	}
	v.load()
	r := v.byID[oid&^(3<<30)]
	if r == nil || !hasPK(r) {
		return nil
	}
	return r
}

// splitQualified parses [schema.]name as a regclass literal: unquoted
// parts are lower-cased, "quoted" ones kept.
func splitQualified(s string) (schema, name string, ok bool) {
	var parts []string
	for s != "" {
		var part string
		if s[0] == '"' {
			end := 1
			var sb strings.Builder
			for {
				i := strings.IndexByte(s[end:], '"')
				if i < 0 {
					return "", "", false
				}
				sb.WriteString(s[end : end+i])
				end += i + 1
				if end < len(s) && s[end] == '"' {
					sb.WriteByte('"')
					end++
					continue
				}
				break
			}
			part, s = sb.String(), s[end:]
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			part, s = strings.ToLower(strings.TrimSpace(s[:i])), s[i:]
		}
		parts = append(parts, part)
		if s == "" {
			break
		}
		if s[0] != '.' {
			return "", "", false
		}
		s = s[1:]
	}
	switch len(parts) {
	case 1:
		return "", parts[0], parts[0] != ""
	case 2:
		return parts[0], parts[1], true
	case 3: // database.schema.name
		return parts[1], parts[2], true
	}
	return "", "", false
}

// ---- the store ----

// catalogStore serves the virtual relations from its catalogView and
// passes everything else to the statement's store. Writes to virtual
// relations fail with 42501.
type catalogStore struct {
	executor.TableStore
	v *catalogView
}

// Scan implements executor.TableStore.
func (cs *catalogStore) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	if !isVirtual(rel) {
		return cs.TableStore.Scan(ctx, rel, prefix, yield)
	}
	rows, err := cs.v.rowsOf(rel)
	if err != nil {
		return err
	}
	if len(prefix) > 0 {
		row, ok := rowByNumber(rows, prefix[0])
		if !ok {
			return nil
		}
		return yield([]types.Row{row})
	}
	for len(rows) > 0 {
		n := min(len(rows), executor.BatchSize)
		if err := yield(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// Get implements executor.TableStore.
func (cs *catalogStore) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	if !isVirtual(rel) {
		return cs.TableStore.Get(ctx, rel, key)
	}
	rows, err := cs.v.rowsOf(rel)
	if err != nil || len(key) != 1 {
		return nil, false, err
	}
	row, ok := rowByNumber(rows, key[0])
	return row, ok, nil
}

func rowByNumber(rows []types.Row, k types.Datum) (types.Row, bool) {
	n := k.Int()
	if k.IsNull() || n < 1 || n > int64(len(rows)) {
		return nil, false
	}
	return rows[n-1], true
}

// Insert implements executor.TableStore.
func (cs *catalogStore) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	if err := checkWritable(rel); err != nil {
		return err
	}
	return cs.TableStore.Insert(ctx, rel, row)
}

// Update implements executor.TableStore.
func (cs *catalogStore) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	if err := checkWritable(rel); err != nil {
		return err
	}
	return cs.TableStore.Update(ctx, rel, old, new)
}

// Delete implements executor.TableStore.
func (cs *catalogStore) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	if err := checkWritable(rel); err != nil {
		return err
	}
	return cs.TableStore.Delete(ctx, rel, old)
}
