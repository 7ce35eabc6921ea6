SELECT version()
--- next
SELECT current_database()
--- next
SELECT current_setting('server_version_num')::int
--- next
SHOW server_version
--- next
SHOW standard_conforming_strings
--- next
SET DATESTYLE TO 'ISO'
--- next
SELECT 1
--- next
SELECT NULL LIMIT 0
--- next
select typname, typtype, typelem from pg_type where oid = $1
--- next
SELECT current_schema(),session_user
--- next
SHOW search_path
--- next
select * from pg_catalog.pg_settings where name='standard_conforming_strings'
--- next
SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
--- next
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type IN ('BASE TABLE', 'VIEW') ORDER BY table_name
--- next
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public')) ORDER BY "type" ASC, "schema" ASC, "name" ASC
--- next
SELECT kcu.column_name FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_name = $1 ORDER BY kcu.ordinal_position
--- next
BEGIN ISOLATION LEVEL READ COMMITTED; SELECT 1; COMMIT
--- next
DISCARD ALL
--- next
DEALLOCATE ALL
--- next
SELECT pg_advisory_unlock_all()
--- next
SELECT COUNT(*) FILTER (WHERE rate > 3) AS hi, string_agg(customer, ',' ORDER BY customer) FROM rates
--- next
INSERT INTO rates (id, customer, rate) VALUES ($1, $2, $3) RETURNING id
--- next
COPY "public"."rates" ( "id", "customer" ) FROM STDIN BINARY
--- next
COPY rates (id, customer) FROM STDIN WITH (FORMAT csv)
--- next
SELECT EXTRACT(EPOCH FROM now())::bigint, now() - INTERVAL '1 hour', CURRENT_TIMESTAMP AT TIME ZONE 'UTC'
