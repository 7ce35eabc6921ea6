package coord

import (
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

// The exact queries psql 15 sends (captured with psql -E) and those of
// pgjdbc's DatabaseMetaData, run against the virtual pg_catalog.

func pgCatalogSession(t *testing.T) (*harness, func(q string) string) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x', v INT)")
	mustRun(t, s, "CREATE TABLE u (a TEXT)")
	return h, func(q string) string { t.Helper(); return mustRun(t, s, q) }
}

func TestPgCatalogPsql(t *testing.T) {
	_, q := pgCatalogSession(t)
	cases := []struct{ name, query, want string }{
		{`\dt`, `SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;`, "public|t|table|weir\npublic|u|table|weir\nSELECT 2\n"},
		{`\d t (find)`, `SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;`, "16384|public|t\nSELECT 1\n"},
		{`\d t (table)`, `SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '16384';`, "0|r|t|f|f|f|f|f|f||0||p|d|heap\nSELECT 1\n"},
		{`\d t (indexes)`, `SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '16384' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;`, "t_pkey|t|t|f|t|CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)|PRIMARY KEY (id)|p|f|f|f|0\nSELECT 1\n"},
		{`\l`, `SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       d.daticulocale as "ICU Locale",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;`, "weir|weir|UTF8|C|C|NULL|libc|NULL\nSELECT 1\n"},
		{`\dn`, `SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;`, "public|weir\nweir_catalog|weir\nSELECT 2\n"},
		{"columns", `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), d.adbin, a.attnotnull, a.attnum
FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = 't'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
			"id|bigint|NULL|t|1\nname|character varying(20)|'x'|t|2\nv|integer|NULL|f|3\nSELECT 3\n"},
		{"regclass", `SELECT 'pg_catalog.pg_class'::regclass, 'u'::regclass, to_regclass('nope'), 'int4'::regtype, 25::oid, pg_table_is_visible('information_schema.tables'::regclass)`,
			"1259|16385|NULL|23|25|f\nSELECT 1\n"},
		{"jdbc max_index_keys", `SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'`, "32\nSELECT 1\n"},
		{"unqualified", `SELECT count(*) FROM pg_type WHERE typname IN ('int4', 'text', 'jsonb')`, "3\nSELECT 1\n"},
	}
	for _, tc := range cases {
		if got := q(tc.query); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestInformationSchema(t *testing.T) {
	_, q := pgCatalogSession(t)
	cases := []struct{ query, want string }{
		{"SELECT * FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
			"weir|public|t|BASE TABLE|NULL|NULL|NULL|NULL|NULL|YES|NO|NULL\nweir|public|u|BASE TABLE|NULL|NULL|NULL|NULL|NULL|YES|NO|NULL\nSELECT 2\n"},
		{"SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type, character_maximum_length, numeric_precision, udt_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
			"t|id|1|NULL|NO|bigint|NULL|64|int8\nt|name|2|'x'|NO|character varying|20|NULL|varchar\nt|v|3|NULL|YES|integer|NULL|32|int4\nu|a|1|NULL|YES|text|NULL|NULL|text\nSELECT 4\n"},
		{"SELECT schema_name FROM information_schema.schemata ORDER BY 1", "information_schema\npg_catalog\npublic\nweir_catalog\nSELECT 4\n"},
		{"SELECT constraint_name, table_name, constraint_type FROM information_schema.table_constraints ORDER BY 1",
			"2200_16384_1_not_null|t|CHECK\n2200_16384_2_not_null|t|CHECK\nt_pkey|t|PRIMARY KEY\nSELECT 3\n"},
		{"SELECT constraint_name, table_name, column_name, ordinal_position FROM information_schema.key_column_usage", "t_pkey|t|id|1\nSELECT 1\n"},
		{"SELECT count(*) > 20 FROM information_schema.columns WHERE table_schema = 'pg_catalog' AND table_name = 'pg_class'", "t\nSELECT 1\n"},
	}
	for _, tc := range cases {
		if got := q(tc.query); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.query, got, tc.want)
		}
	}
}

func TestPgCatalogReadOnly(t *testing.T) {
	h, _ := pgCatalogSession(t)
	s := h.session()
	for _, q := range []string{
		"INSERT INTO pg_catalog.pg_class (oid) VALUES (1)",
		"DELETE FROM pg_namespace",
		"UPDATE pg_catalog.pg_type SET typname = 'x'",
		"DROP TABLE pg_catalog.pg_class",
		"TRUNCATE pg_class",
	} {
		wantCode(t, s, q, sqlerr.InsufficientPrivilege)
	}
	wantCode(t, s, "SELECT 'nope'::regclass", sqlerr.UndefinedTable)
	// a user table is still found, and shadows nothing in pg_catalog
	if got := mustRun(t, s, "SELECT count(*) FROM public.t"); got != "0\nSELECT 1\n" {
		t.Fatal(got)
	}
}
