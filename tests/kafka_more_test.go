package tests

// More end-to-end tests of Kafka sources and sinks: the Debezium sink
// mode, CSV sources, scan.startup, append sinks and CREATE SINK ... AS
// SELECT, and the pipeline metrics of /metrics.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// sinkStatus is a sink's row of weir_catalog.sinks.
type sinkStatus struct {
	relation, connector, topic, state, err string
	delivered, pending, changes            int64
}

func (s sinkStatus) String() string {
	return fmt.Sprintf("relation %s, topic %s, state %q, delivered epoch %d, pending %d, changes %d, error %q",
		s.relation, s.topic, s.state, s.delivered, s.pending, s.changes, s.err)
}

func getSinkStatus(ctx context.Context, c *pgx.Conn, name string) (sinkStatus, error) {
	var s sinkStatus
	var errText *string
	err := c.QueryRow(ctx, `SELECT relation, connector, topic, state, error, delivered_epoch, pending_epochs, changes
  FROM weir_catalog.sinks WHERE name = $1`, name).
		Scan(&s.relation, &s.connector, &s.topic, &s.state, &errText, &s.delivered, &s.pending, &s.changes)
	if err != nil {
		return s, fmt.Errorf("weir_catalog.sinks of %s: %w", name, err)
	}
	if errText != nil {
		s.err = *errText
	}
	return s, nil
}

// waitSink waits until the sink's status satisfies ok, and returns it.
func waitSink(t testing.TB, ctx context.Context, c *pgx.Conn, sink string, d time.Duration, what string, ok func(sinkStatus) bool) sinkStatus {
	t.Helper()
	var st sinkStatus
	waitFor(t, d, "sink "+sink+" "+what, func() error {
		var err error
		st, err = getSinkStatus(ctx, c, sink)
		if err == nil && !ok(st) {
			err = fmt.Errorf("%v", st)
		}
		return err
	})
	return st
}

// waitSinkCaughtUp waits until the sink runs with nothing pending.
func waitSinkCaughtUp(t testing.TB, ctx context.Context, c *pgx.Conn, sink string, d time.Duration) sinkStatus {
	t.Helper()
	return waitSink(t, ctx, c, sink, d, "caught up", func(st sinkStatus) bool { return st.state == "running" && st.pending == 0 })
}

// waitSinkChanges waits until the sink runs with nothing pending and has
// counted changes delivered: the count moves just after the epoch that
// the sink marks delivered.
func waitSinkChanges(t testing.TB, ctx context.Context, c *pgx.Conn, sink string, changes int64, d time.Duration) sinkStatus {
	t.Helper()
	return waitSink(t, ctx, c, sink, d, fmt.Sprintf("caught up with %d changes delivered", changes), func(st sinkStatus) bool {
		return st.state == "running" && st.pending == 0 && st.changes == changes
	})
}

// canonicalJSON renders b with its object keys sorted and its numbers as
// written: two encodings of the same value compare equal. nil is "null".
func canonicalJSON(b []byte) (string, error) {
	if b == nil {
		return "null", nil
	}
	v, err := decodeJSON(b)
	if err != nil {
		return "", fmt.Errorf("%q: %w", b, err)
	}
	out, err := json.Marshal(v)
	return string(out), err
}

// debeziumChange renders a Debezium record's value as "op before after"
// (canonical JSON), and returns its ts_ms.
func debeziumChange(m weirtest.Message) (string, int64, error) {
	v, err := decodeJSON(m.Value)
	o, ok := v.(map[string]any)
	if err != nil || !ok {
		return "", 0, fmt.Errorf("record %d/%d: value %q is not a JSON object (%v)", m.Partition, m.Offset, m.Value, err)
	}
	for _, f := range []string{"before", "after", "op", "ts_ms"} {
		if _, ok := o[f]; !ok {
			return "", 0, fmt.Errorf("record %d/%d: value %s has no field %q", m.Partition, m.Offset, m.Value, f)
		}
	}
	op, _ := o["op"].(string)
	ts, _ := o["ts_ms"].(json.Number)
	ms, err := ts.Int64()
	if err != nil {
		return "", 0, fmt.Errorf("record %d/%d: ts_ms %v is not an integer", m.Partition, m.Offset, o["ts_ms"])
	}
	before, _ := json.Marshal(o["before"])
	after, _ := json.Marshal(o["after"])
	return fmt.Sprintf("%s %s %s", op, before, after), ms, nil
}

// TestKafkaDebeziumSink writes a table's changes as Debezium envelopes:
// each INSERT is an op "c" with the row after, each UPDATE an op "u" with
// the row before and after, each DELETE an op "d" with the row before; an
// UPDATE of the key is a delete of the old key and a create of the new;
// a transaction's changes are its net effect; per key in the order made.
func TestKafkaDebeziumSink(t *testing.T) {
	k := startKafka(t)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	start := time.Now()

	mustExec(t, ctx, c, `CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT, tier TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO customers VALUES (1, 'Ada', 'gold')`)
	mustExec(t, ctx, c, `CREATE SINK customers_cdc FROM customers
  WITH (connector='kafka', topic='customers_cdc', format='json', mode='debezium')`)
	for _, sql := range []string{
		`INSERT INTO customers VALUES (2, 'Grace', 'silver'), (3, 'Edsger', NULL)`,
		`UPDATE customers SET tier = 'platinum' WHERE id = 1`,
		`UPDATE customers SET name = 'Grace H.', tier = 'gold' WHERE id = 2`,
		`DELETE FROM customers WHERE id = 3`,
		`UPDATE customers SET id = 10 WHERE id = 1`,
		`BEGIN; INSERT INTO customers VALUES (4, 'Barbara', 'bronze'); UPDATE customers SET tier = 'silver' WHERE id = 4; COMMIT`,
		`BEGIN; INSERT INTO customers VALUES (5, 'Ken', 'gold'); DELETE FROM customers WHERE id = 5; COMMIT`,
		`UPDATE customers SET tier = tier WHERE id = 4`, // no change: no record
		`INSERT INTO customers VALUES (2, 'Grace Hopper', 'gold') ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	row := func(id int, name, tier string) string {
		t := `null`
		if tier != "" {
			t = strconv.Quote(tier)
		}
		return fmt.Sprintf(`{"id":%d,"name":%q,"tier":%s}`, id, name, t)
	}
	want := map[string][]string{
		`{"id":1}`: {
			"c null " + row(1, "Ada", "gold"),
			"u " + row(1, "Ada", "gold") + " " + row(1, "Ada", "platinum"),
			"d " + row(1, "Ada", "platinum") + " null",
		},
		`{"id":2}`: {
			"c null " + row(2, "Grace", "silver"),
			"u " + row(2, "Grace", "silver") + " " + row(2, "Grace H.", "gold"),
			"u " + row(2, "Grace H.", "gold") + " " + row(2, "Grace Hopper", "gold"),
		},
		`{"id":3}`: {
			"c null " + row(3, "Edsger", ""),
			"d " + row(3, "Edsger", "") + " null",
		},
		`{"id":4}`:  {"c null " + row(4, "Barbara", "silver")},
		`{"id":10}`: {"c null " + row(10, "Ada", "platinum")},
	}
	total := 0
	for _, l := range want {
		total += len(l)
	}
	waitSinkChanges(t, ctx, c, "customers_cdc", int64(total), 20*time.Second)
	msgs := mustConsume(t, ctx, k, "customers_cdc")
	if err := checkSinkHeaders(msgs, "customers_cdc"); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, m := range msgs {
		key, err := canonicalJSON(m.Key)
		if err != nil {
			t.Fatalf("record %d/%d key: %v", m.Partition, m.Offset, err)
		}
		ch, ts, err := debeziumChange(m)
		if err != nil {
			t.Fatal(err)
		}
		if at := time.UnixMilli(ts); at.Before(start.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("record %d/%d: ts_ms %d is %v, not during the test", m.Partition, m.Offset, ts, at)
		}
		// The row a sink starts with is a snapshot read in Debezium's
		// terms; a create says the same.
		if strings.HasPrefix(ch, "r ") && key == `{"id":1}` && len(got[key]) == 0 {
			ch = "c" + ch[1:]
		}
		got[key] = append(got[key], ch)
	}
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, key := range keys {
		if !slices.Equal(got[key], want[key]) {
			t.Errorf("key %s: records\n  %s\nwant\n  %s", key, strings.Join(got[key], "\n  "), strings.Join(want[key], "\n  "))
		}
	}
	if len(msgs) != total {
		t.Errorf("%d records; want %d", len(msgs), total)
	}
}

// TestKafkaCSVSource reads CSV records: fields in column order, RFC 4180
// quoting (commas, line breaks and "" inside quotes), an empty field NULL
// and a quoted empty one the empty string, a trailing line break ignored;
// malformed records go to <source>_errors with an error naming the field
// at fault, and the source goes on.
func TestKafkaCSVSource(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "csv_in", 1)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SOURCE csv_in (id BIGINT, name TEXT, amount NUMERIC(10,2), seen TIMESTAMP, ok BOOLEAN)
  WITH (connector='kafka', topic='csv_in', format='csv')`)

	lines := []struct {
		value string
		row   string // as renderRow shows it; "" for a bad record
		names string // for a bad record: a word its error must hold
	}{
		{`1,Ada,12.50,2026-01-02 03:04:05,true`, `1 Ada 12.50 2026-01-02 03:04:05 t`, ""},
		{`2,"Smith, J.",3,2026-01-02 03:04:06,false`, `2 Smith, J. 3.00 2026-01-02 03:04:06 f`, ""},
		{`3,"say ""hi""",,2026-01-02 03:04:07,t`, `3 say "hi" NULL 2026-01-02 03:04:07 t`, ""},
		{`4,"",0.10,,f`, `4 (empty) 0.10 NULL f`, ""},
		{"5,\"two\nlines\",-7.25,2026-01-02 03:04:08,true\n", "5 two\nlines -7.25 2026-01-02 03:04:08 t", ""},
		{"6,crlf,1,2026-01-02 03:04:09,false\r\n", `6 crlf 1.00 2026-01-02 03:04:09 f`, ""},
		{`,,,,`, `NULL NULL NULL NULL NULL`, ""},
		{`7,Ada,1.0`, "", "fields"},
		{`8,Ada,1.0,2026-01-02 03:04:05,true,extra`, "", "fields"},
		{`x9,Ada,1.0,2026-01-02 03:04:05,true`, "", "id"},
		{`10,"unterminated,1.0,2026-01-02 03:04:05,true`, "", "unterminated"},
		{`11,Ada,lots,2026-01-02 03:04:05,true`, "", "amount"},
		{`12,Ada,1.0,2026-13-45 03:04:05,true`, "", "seen"},
		{`13,Ada,1.0,2026-01-02 03:04:05,maybe`, "", "ok"},
		{`14,Ad"a,1.0,2026-01-02 03:04:05,true`, "", "quote"},
		{`15,Ada,99999999999.99,2026-01-02 03:04:05,true`, "", "amount"},
		{`16,last,0,2026-01-02 03:04:10,true`, `16 last 0.00 2026-01-02 03:04:10 t`, ""},
	}
	var recs []weirtest.Record
	var wantRows []string
	wantErrs := map[int64]string{} // by offset
	for i, l := range lines {
		recs = append(recs, weirtest.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte(l.value)})
		if l.row != "" {
			wantRows = append(wantRows, l.row)
		} else {
			wantErrs[int64(i)] = l.names
		}
	}
	slices.Sort(wantRows)
	mustProduce(t, k, "csv_in", 0, recs...)
	waitInt(t, c, 20*time.Second, "csv_in", `SELECT count(*) FROM csv_in`, int64(len(wantRows)))
	waitInt(t, c, 20*time.Second, "csv_in", `SELECT count(*) FROM csv_in_errors`, int64(len(wantErrs)))
	if got := queryRows(t, ctx, c, `SELECT id, name, amount, seen, ok FROM csv_in`); !slices.Equal(got, wantRows) {
		t.Errorf("csv_in differs (\"weir\" is what it holds, \"postgres\" what it should):\n%s", rowDiff(got, wantRows))
	}
	rows, err := errorRows(ctx, c, "csv_in_errors")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		names, ok := wantErrs[r.offset]
		if !ok || r.partition != 0 || r.topic != "csv_in" {
			t.Errorf("csv_in_errors has %s[%d] offset %d (%q): not a bad record", r.topic, r.partition, r.offset, r.value)
			continue
		}
		delete(wantErrs, r.offset)
		if string(r.value) != lines[r.offset].value || string(r.key) != fmt.Sprintf("k%d", r.offset) {
			t.Errorf("csv_in_errors offset %d: key %q value %q, want k%d %q", r.offset, r.key, r.value, r.offset, lines[r.offset].value)
		}
		if !strings.Contains(r.err, names) {
			t.Errorf("csv_in_errors: %q has error %q; want one naming %q", r.value, r.err, names)
		}
	}
	for off := range wantErrs {
		t.Errorf("bad record %q (offset %d) is not in csv_in_errors", lines[off].value, off)
	}
	// The counts move just after the epoch commits.
	waitFor(t, 5*time.Second, "csv_in's counts", func() error {
		st, err := getSourceStatus(ctx, c, "csv_in")
		if err == nil && (st.state != "running" || st.records != int64(len(wantRows)) || st.errors != int64(len(lines)-len(wantRows))) {
			err = fmt.Errorf("weir_catalog.sources: %v; want running, %d records, %d errors", st, len(wantRows), len(lines)-len(wantRows))
		}
		return err
	})
}

// seqRecords returns records whose values are {"id":i} for i in [from, to),
// keyed by i.
func seqRecords(from, to int) []weirtest.Record {
	var recs []weirtest.Record
	for i := from; i < to; i++ {
		recs = append(recs, weirtest.Record{Key: strconv.AppendInt(nil, int64(i), 10), Value: fmt.Appendf(nil, `{"id":%d}`, i)})
	}
	return recs
}

// idRange renders the ids [from, to) as queryRows returns them.
func idRange(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	slices.Sort(out)
	return out
}

// TestKafkaScanStartup reads from where scan.startup says: 'latest' skips
// what the topic held at CREATE and reads what came after, and after a
// restart resumes where it was (records produced while Weir was down are
// read), not at the new latest; a timestamp (milliseconds, or RFC 3339)
// starts at the first record stamped at or after it.
func TestKafkaScanStartup(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "su", 3)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustProduce(t, k, "su", -1, seqRecords(0, 30)...)
	// The records after this moment; the ones before are stamped earlier.
	time.Sleep(5 * time.Millisecond) // a clock tick between two batches, not a wait for a condition
	at := time.Now()
	time.Sleep(5 * time.Millisecond)
	mustProduce(t, k, "su", -1, seqRecords(30, 50)...)
	var wantAt []string
	for _, m := range mustConsume(t, ctx, k, "su") {
		if !m.Timestamp.Before(at.Truncate(time.Millisecond)) {
			wantAt = append(wantAt, strings.Trim(string(m.Key), `"`))
		}
	}
	slices.Sort(wantAt)
	if !slices.Equal(wantAt, idRange(30, 50)) {
		t.Fatalf("kcat stamped the records after %v: %q; want ids 30..49 (clock?)", at, wantAt)
	}

	mustExec(t, ctx, c, `CREATE SOURCE su_latest (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='latest')`)
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE su_ms (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='%d')`, at.UnixMilli()))
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE su_rfc (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='%s')`,
		at.UTC().Format("2006-01-02T15:04:05.000Z")))
	mustExec(t, ctx, c, `CREATE SOURCE su_earliest (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='earliest')`)
	// Before every record: from the start.
	mustExec(t, ctx, c, `CREATE SOURCE su_1970 (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='1000')`)
	_, err := c.Exec(ctx, `CREATE SOURCE su_bad (id BIGINT) WITH (connector='kafka', topic='su', format='json', scan.startup='yesterday')`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code == "" || !strings.Contains(pgErr.Message, "scan.startup") {
		t.Errorf("scan.startup = 'yesterday': got %v; want an error naming scan.startup", err)
	}

	waitInt(t, c, 20*time.Second, "su_earliest", `SELECT count(*) FROM su_earliest`, 50)
	waitInt(t, c, 20*time.Second, "su_1970", `SELECT count(*) FROM su_1970`, 50)
	waitInt(t, c, 20*time.Second, "su_ms", `SELECT count(*) FROM su_ms`, 20)
	waitInt(t, c, 20*time.Second, "su_rfc", `SELECT count(*) FROM su_rfc`, 20)
	for _, src := range []string{"su_ms", "su_rfc"} {
		if got := queryRows(t, ctx, c, `SELECT id FROM `+src); !slices.Equal(got, wantAt) {
			t.Errorf("%s holds ids %q; want those stamped at or after %v: %q", src, got, at, wantAt)
		}
	}
	// Nothing of what the topic held at CREATE.
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM su_latest`); err != nil || n != 0 {
		t.Errorf("su_latest holds %d rows (%v) before any record came after it", n, err)
	}

	// Restart before su_latest read anything: it resumes at the offsets it
	// started at, so the records produced meanwhile are read.
	if code, err := w.Stop(); err != nil || code != 0 {
		t.Fatalf("stop: exit %d, %v", code, err)
	}
	mustProduce(t, k, "su", -1, seqRecords(50, 70)...)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	// latestHolds checks that su_latest holds the ids [from, to).
	latestHolds := func(from, to int) {
		t.Helper()
		waitInt(t, c, 20*time.Second, "su_latest", `SELECT count(*) FROM su_latest`, int64(to-from))
		if got := queryRows(t, ctx, c, `SELECT id FROM su_latest`); !slices.Equal(got, idRange(from, to)) {
			t.Errorf("su_latest holds ids %q; want %d..%d", got, from, to-1)
		}
	}
	mustProduce(t, k, "su", -1, seqRecords(70, 80)...)
	latestHolds(50, 80)
	waitInt(t, c, 20*time.Second, "su_ms", `SELECT count(*) FROM su_ms`, 50)
	waitInt(t, c, 20*time.Second, "su_earliest", `SELECT count(*) FROM su_earliest`, 80)
	if n, err := queryInt(ctx, c, `SELECT count(DISTINCT id) FROM su_earliest`); err != nil || n != 80 {
		t.Errorf("su_earliest holds %d distinct ids (%v), want 80", n, err)
	}

	// A restart after it read: it goes on after what it read.
	if _, err := w.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustProduce(t, k, "su", -1, seqRecords(80, 85)...)
	latestHolds(50, 85)
}

// TestKafkaAppendSinkAndSinkAsSelect copies a source stream to a topic
// with an append sink (each row once, in the order read, without a key)
// and keeps a query's result in a topic with CREATE SINK ... AS SELECT,
// whose query is the materialized view <sink>_view, dropped with the sink.
func TestKafkaAppendSinkAndSinkAsSelect(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "clicks", 1)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	click := func(i int) weirtest.Record {
		return weirtest.Record{Value: fmt.Appendf(nil, `{"id":%d,"page":"/p%d","ms":%d}`, i, i%4, i*10)}
	}
	var recs []weirtest.Record
	for i := range 120 {
		recs = append(recs, click(i))
	}
	mustProduce(t, k, "clicks", 0, recs[:50]...)
	mustExec(t, ctx, c, `CREATE SOURCE clicks (id BIGINT, page TEXT, ms INT) WITH (connector='kafka', topic='clicks', format='json')`)
	waitInt(t, c, 20*time.Second, "clicks", `SELECT count(*) FROM clicks`, 50)
	mustExec(t, ctx, c, `CREATE SINK clicks_copy FROM clicks WITH (connector='kafka', topic='clicks_copy', format='json', mode='append')`)
	// A sink that cannot be created leaves no view behind.
	_, err := c.Exec(ctx, `CREATE SINK page_counts AS SELECT page, count(*) AS n, max(ms) AS last_ms FROM clicks GROUP BY page
  WITH (connector='kafka', topic='page_counts', format='json', mode='upsert', frobnicate='yes')`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22023" || !strings.Contains(pgErr.Message, "frobnicate") {
		t.Errorf("CREATE SINK ... AS SELECT with an unknown option: %v; want 22023 naming the option", err)
	}
	if _, err := c.Exec(ctx, `SELECT * FROM page_counts_view`); !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Errorf("SELECT from the view of a sink that failed to be created: %v; want 42P01", err)
	}
	mustExec(t, ctx, c, `CREATE SINK page_counts AS SELECT page, count(*) AS n, max(ms) AS last_ms FROM clicks GROUP BY page
  WITH (connector='kafka', topic='page_counts', format='json', mode='upsert')`)
	mustProduce(t, k, "clicks", 0, recs[50:]...)
	waitInt(t, c, 20*time.Second, "clicks", `SELECT count(*) FROM clicks`, 120)

	// The query is a materialized view of its own, up to date.
	views := queryRows(t, ctx, c, `SHOW MATERIALIZED VIEWS`)
	if !slices.ContainsFunc(views, func(r string) bool { return strings.Contains(r, "page_counts_view") }) {
		t.Errorf("SHOW MATERIALIZED VIEWS: %q; want page_counts_view among them", views)
	}
	view := queryTable(t, ctx, c, `SELECT page, n, last_ms FROM page_counts_view`)
	want := map[string]string{}
	for p := range 4 {
		n, last := 0, 0
		for i := p; i < 120; i += 4 {
			n, last = n+1, i*10
		}
		want[fmt.Sprintf("/p%d", p)] = fmt.Sprintf("/p%d %d %d", p, n, last)
	}
	if !maps.Equal(view, want) {
		t.Errorf("page_counts_view:\n%s", mapDiff(view, want))
	}
	log := waitUpsertSink(t, ctx, k, "page_counts", "page_counts", []string{"page", "n", "last_ms"}, want, 20*time.Second)
	if r := log.repeats(); len(r) > 0 {
		t.Errorf("page_counts: changes delivered twice:\n%s", strings.Join(r, "\n"))
	}

	// The append sink: the 50 rows it found, then the 70 that came, each
	// once; one partition keeps them in the order read.
	st := waitSinkChanges(t, ctx, c, "clicks_copy", 120, 20*time.Second)
	msgs := mustConsume(t, ctx, k, "clicks_copy")
	if err := checkSinkHeaders(msgs, "clicks_copy"); err != nil {
		t.Fatal(err)
	}
	var got, first []string
	for i, m := range msgs {
		if m.Key != nil {
			t.Errorf("record %d/%d of a stream has key %q", m.Partition, m.Offset, m.Key)
		}
		row, err := sinkRow(m, []string{"id", "page", "ms"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 50 {
			first = append(first, row)
		} else {
			got = append(got, row)
		}
	}
	var wantFirst, wantLater []string
	for i := range 120 {
		row := fmt.Sprintf("%d /p%d %d", i, i%4, i*10)
		if i < 50 {
			wantFirst = append(wantFirst, row)
		} else {
			wantLater = append(wantLater, row)
		}
	}
	// The rows at CREATE come in the relation's order, not necessarily the
	// topic's; the changes after, in the order the source read them.
	slices.Sort(first)
	slices.Sort(wantFirst)
	if !slices.Equal(first, wantFirst) || !slices.Equal(got, wantLater) {
		t.Errorf("clicks_copy holds %d records; first 50 (sorted):\n%s\nthen:\n%s", len(msgs),
			limitLines(rowDiff(first, wantFirst), 20), limitLines(rowDiff(got, wantLater), 20))
		if len(got) == len(wantLater) && !slices.Equal(got, wantLater) {
			t.Errorf("the later records are out of order: %q", got)
		}
	}
	if st.relation != "clicks" || st.connector != "kafka" || st.topic != "clicks_copy" {
		t.Errorf("weir_catalog.sinks: %v; want relation clicks, kafka, topic clicks_copy", st)
	}

	// Dropping the sink drops its view.
	mustExec(t, ctx, c, `DROP SINK page_counts`)
	if _, err := c.Exec(ctx, `SELECT * FROM page_counts_view`); !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Errorf("SELECT from the dropped sink's view: %v; want 42P01", err)
	}
}

// scrapeMetrics returns /metrics as series ("name{labels}" as written) to
// values.
func scrapeMetrics(ctx context.Context, w *weirtest.Weir) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.HTTPAddr()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("/metrics: line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// TestKafkaPipelineMetrics checks /metrics after a small pipeline: each
// source's records and errors, each sink's changes delivered, pending
// epochs and delivered epoch, and up, as weir_catalog shows them.
func TestKafkaPipelineMetrics(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "mx", 2)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SOURCE mx (id BIGINT, g INT) WITH (connector='kafka', topic='mx', format='json')`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW mx_by_g AS SELECT g, count(*) AS n FROM mx GROUP BY g`)
	mustExec(t, ctx, c, `CREATE SINK mx_out FROM mx_by_g WITH (connector='kafka', topic='mx_out', format='json', mode='upsert')`)
	const good, bad = 90, 4
	var recs []weirtest.Record
	for i := range good {
		recs = append(recs, weirtest.Record{Value: fmt.Appendf(nil, `{"id":%d,"g":%d}`, i, i%3)})
		if i%25 == 0 {
			recs = append(recs, weirtest.Record{Value: fmt.Appendf(nil, `{"id":"not a number %d"}`, i)})
		}
	}
	// Three batches, each read before the next, so that the sink delivers
	// several epochs.
	prev := 0
	for _, end := range []int{30, 60, len(recs)} {
		mustProduce(t, k, "mx", -1, recs[prev:end]...)
		prev = end
		waitInt(t, c, 20*time.Second, "mx", `SELECT count(*) + (SELECT count(*) FROM mx_errors) FROM mx`, int64(end))
	}
	waitInt(t, c, 20*time.Second, "mx", `SELECT count(*) FROM mx`, good)
	waitInt(t, c, 20*time.Second, "mx", `SELECT count(*) FROM mx_errors`, bad)
	waitSinkCaughtUp(t, ctx, c, "mx_out", 20*time.Second)
	msgs := mustConsume(t, ctx, k, "mx_out")
	st := waitSinkChanges(t, ctx, c, "mx_out", int64(len(msgs)), 5*time.Second)

	want := map[string]float64{
		`weir_source_records_total{source="mx"}`:   good,
		`weir_source_errors_total{source="mx"}`:    bad,
		`weir_source_up{source="mx"}`:              1,
		`weir_sink_changes_total{sink="mx_out"}`:   float64(len(msgs)),
		`weir_sink_pending_epochs{sink="mx_out"}`:  0,
		`weir_sink_delivered_epoch{sink="mx_out"}`: float64(st.delivered),
		`weir_sink_up{sink="mx_out"}`:              1,
	}
	// The source's counts move just after the epoch commits.
	var m map[string]float64
	waitFor(t, 5*time.Second, "/metrics", func() error {
		var err error
		if m, err = scrapeMetrics(ctx, w); err != nil {
			return err
		}
		var wrong []string
		for series, v := range want {
			if got, ok := m[series]; !ok {
				wrong = append(wrong, series+" missing")
			} else if got != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v", series, got, v))
			}
		}
		if len(wrong) > 0 {
			return errors.New(strings.Join(wrong, "; "))
		}
		return nil
	})
	if st.delivered < 3 {
		t.Errorf("mx_out delivered epoch %d after three batches", st.delivered)
	}
	if v := m[`weir_source_bytes_total{source="mx"}`]; v <= 0 {
		t.Errorf("/metrics: weir_source_bytes_total{source=\"mx\"} = %v", v)
	}
	if v := m[`weir_source_last_record_timestamp_seconds{source="mx"}`]; v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("/metrics: weir_source_last_record_timestamp_seconds{source=\"mx\"} = %v", v)
	}

	// A dropped sink and source are no longer reported.
	mustExec(t, ctx, c, `DROP SINK mx_out`)
	mustExec(t, ctx, c, `DROP SOURCE mx CASCADE`)
	m, err := scrapeMetrics(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	for series := range m {
		if strings.Contains(series, `"mx"`) || strings.Contains(series, `"mx_out"`) {
			t.Errorf("/metrics still has %s after DROP", series)
		}
	}
}

// TestKafkaAppendSinkOfUpdates gives an append sink a relation whose rows
// change. An append sink cannot write an update or a delete: CREATE SINK
// must refuse such a relation, or the sink must go on past the change it
// cannot write; what it must not do is retry that change for ever while
// every later change waits behind it.
func TestKafkaAppendSinkOfUpdates(t *testing.T) {
	k := startKafka(t)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance INT)`)
	mustExec(t, ctx, c, `INSERT INTO accounts VALUES (1, 10)`)
	_, err := c.Exec(ctx, `CREATE SINK accounts_log FROM accounts WITH (connector='kafka', topic='accounts_log', format='json', mode='append')`)
	if err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code == "" || !strings.Contains(pgErr.Message, "append") {
			t.Fatalf("CREATE SINK mode = 'append' of a table: %v; want an error with a SQLSTATE that names the append mode", err)
		}
		// Refused; force_append_only writes inserts and the new rows of
		// updates, and drops deletes.
		mustExec(t, ctx, c, `CREATE SINK accounts_log FROM accounts WITH (connector='kafka', topic='accounts_log', format='json', mode='append', force_append_only='true')`)
	}
	mustExec(t, ctx, c, `UPDATE accounts SET balance = 20 WHERE id = 1`)
	mustExec(t, ctx, c, `DELETE FROM accounts WHERE id = 1`)
	mustExec(t, ctx, c, `INSERT INTO accounts VALUES (2, 5)`)
	waitFor(t, 15*time.Second, "the insert after the update delivered", func() error {
		var rows []string
		for _, m := range mustConsume(t, ctx, k, "accounts_log") {
			row, err := sinkRow(m, []string{"id", "balance"})
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		if want := []string{"1 10", "1 20", "2 5"}; !slices.Equal(rows, want) {
			st, err := getSinkStatus(ctx, c, "accounts_log")
			return fmt.Errorf("the topic holds %q, want %q; the sink: %v, %v", rows, want, st, err)
		}
		return nil
	})
}
