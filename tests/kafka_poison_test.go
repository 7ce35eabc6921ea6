package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// poison is a record a source cannot decode, and a word its error must
// name ("" when the record as a whole is at fault).
type poison struct {
	value []byte
	names string
}

var jsonPoison = []poison{
	{[]byte("\xff\xfe\x00\x01 not JSON at all"), ""},
	{[]byte(`{"id":"abc","country":"NL","rate":1}`), "id"},
	{[]byte(`{"id":5,"country":"NL","rate":"high"}`), "rate"},
	{[]byte(`{"id":6,"country":"NL","rate":99999999999}`), "rate"},
	{[]byte(`[1,2,3]`), ""},
	{[]byte(`{"id":7,"country":"NL"`), ""},
	{[]byte(`{"id":8,"country":"NL","ts":"yesterday-ish"}`), "ts"},
}

func goodJSON(i int) []byte {
	return fmt.Appendf(nil, `{"id":%d,"country":"%s","rate":%d,"ts":"2026-11-26 10:00:%02d"}`, i, rateCountry(i), rateOf(i), i%60)
}

// mixed returns n good records (from goodRecord) with the bad values
// spread among them, every record keyed; bad says which keys are bad.
func mixed(n int, goodRecord func(i int) []byte, bad [][]byte) (recs []weirtest.Record, badKeys map[string][]byte) {
	badKeys = map[string][]byte{}
	every := n / (len(bad) + 1)
	for i := range n {
		if j := i/every - 1; i%every == 0 && j >= 0 && j < len(bad) {
			key := fmt.Sprintf("bad-%d", j)
			badKeys[key] = bad[j]
			recs = append(recs, weirtest.Record{Key: []byte(key), Value: bad[j]})
		}
		recs = append(recs, weirtest.Record{Key: fmt.Appendf(nil, "good-%d", i), Value: goodRecord(i)})
	}
	return recs, badKeys
}

func values(ps []poison) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = p.value
	}
	return out
}

// errorRow is a row of a <source>_errors relation.
type errorRow struct {
	topic     string
	partition int32
	offset    int64
	key       []byte
	value     []byte
	err       string
	at        time.Time
}

func errorRows(ctx context.Context, c *pgx.Conn, rel string) ([]errorRow, error) {
	rows, err := c.Query(ctx, `SELECT topic, partition, "offset", key, value, error, at FROM `+rel+` ORDER BY partition, "offset"`,
		pgx.QueryExecModeExec)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []errorRow
	for rows.Next() {
		var r errorRow
		if err := rows.Scan(&r.topic, &r.partition, &r.offset, &r.key, &r.value, &r.err, &r.at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// checkDeadLetters checks a dlq source after it consumed recs: every good
// record is a row, every bad one a row of <source>_errors (with its topic,
// partition, offset, key, value and an error naming the field at fault)
// and a record of the dead-letter topic (its key and value).
func checkDeadLetters(t *testing.T, ctx context.Context, k *weirtest.Kafka, c *pgx.Conn, source, dlq string, bad []poison, badKeys map[string][]byte, good int) {
	t.Helper()
	start := time.Now()
	waitInt(t, c, 30*time.Second, source, `SELECT count(*) FROM `+source, int64(good))
	waitInt(t, c, 20*time.Second, source, `SELECT count(*) FROM `+source+`_errors`, int64(len(bad)))
	// Where kcat finds the bad records is where the errors must say they were.
	var want []string
	for _, m := range mustConsume(t, ctx, k, source) {
		if v, ok := badKeys[string(m.Key)]; ok {
			want = append(want, fmt.Sprintf("%s %d/%d key=%s value=%q", source, m.Partition, m.Offset, m.Key, v))
		}
	}
	slices.Sort(want)
	rows, err := errorRows(ctx, c, source+"_errors")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %d/%d key=%s value=%q", r.topic, r.partition, r.offset, r.key, r.value))
		var p poison
		for _, b := range bad {
			if string(b.value) == string(r.value) {
				p = b
			}
		}
		if r.err == "" || p.names != "" && !strings.Contains(r.err, p.names) {
			t.Errorf("%s_errors: record %q has error %q; want one naming %q", source, r.value, r.err, p.names)
		}
		if r.at.Before(start.Add(-time.Minute)) || r.at.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s_errors: record %q at %v", source, r.value, r.at)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s_errors:\n%s\nwant (where kcat found the bad records):\n%s", source, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var wantDLQ []string
	for key, v := range badKeys {
		wantDLQ = append(wantDLQ, fmt.Sprintf("key=%s value=%q", key, v))
	}
	slices.Sort(wantDLQ)
	var gotDLQ []string
	waitFor(t, 20*time.Second, "the dead-letter topic "+dlq, func() error {
		gotDLQ = gotDLQ[:0]
		for _, m := range mustConsume(t, ctx, k, dlq) {
			gotDLQ = append(gotDLQ, fmt.Sprintf("key=%s value=%q", m.Key, m.Value))
		}
		slices.Sort(gotDLQ)
		if !slices.Equal(gotDLQ, wantDLQ) {
			return fmt.Errorf("holds\n%s\nwant\n%s", strings.Join(gotDLQ, "\n"), strings.Join(wantDLQ, "\n"))
		}
		return nil
	})
	st, err := getSourceStatus(ctx, c, source)
	if err != nil || st.state != "running" || st.records != int64(good) || st.errors != int64(len(bad)) {
		t.Errorf("weir_catalog.sources: %v, %v; want running, %d records, %d errors", st, err, good, len(bad))
	}
}

// TestKafkaPoisonPills mixes records that cannot be decoded into good
// streams: with on_error = 'dlq' (the default) every good record is counted
// and every bad one lands in <source>_errors and the dead-letter topic,
// and the source goes on; 'skip' counts and drops them; 'fail' stops the
// source with its error in weir_catalog.sources, and the other sources go on.
func TestKafkaPoisonPills(t *testing.T) {
	k := startKafka(t)
	reg := startRegistry(t)
	w := startWeirKafka(t, k, "--schema-registry="+reg.URL)
	ctx := testCtx(t, 3*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	const good = 400

	t.Run("json_dlq", func(t *testing.T) {
		mustTopic(t, k, "pp_json", 2)
		mustTopic(t, k, "pp_json_dlq", 1)
		recs, badKeys := mixed(good, goodJSON, values(jsonPoison))
		mustProduce(t, k, "pp_json", -1, recs[:len(recs)/2]...)
		mustExec(t, ctx, c, `CREATE SOURCE pp_json (id BIGINT, country VARCHAR, rate INT, ts TIMESTAMP)
  WITH (connector='kafka', topic='pp_json', format='json', scan.startup='earliest', dlq.topic='pp_json_dlq')`)
		mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW pp_json_by_country AS SELECT country, count(*) AS n FROM pp_json GROUP BY country`)
		mustProduce(t, k, "pp_json", -1, recs[len(recs)/2:]...)
		checkDeadLetters(t, ctx, k, c, "pp_json", "pp_json_dlq", jsonPoison, badKeys, good)
		waitInt(t, c, 10*time.Second, "pp_json", `SELECT sum(n) FROM pp_json_by_country`, good)
	})

	t.Run("avro_dlq", func(t *testing.T) {
		mustTopic(t, k, "pp_avro", 2)
		mustTopic(t, k, "pp_avro_dlq", 1)
		id := reg.Add("pp_avro-value", ratesAvroSchema)
		whole := rateAvro(id, 1).Value
		bad := []poison{
			{weirtest.ConfluentAvro(id+1000, int64(1), "c", "NL", int32(1)), "schema id"},
			{whole[:len(whole)-1], ""},
			{whole[:8], ""},
			{[]byte(`{"id":1,"country_name":"NL"}`), ""},
			{[]byte("\x00\x00"), ""},
		}
		recs, badKeys := mixed(good, func(i int) []byte { return rateAvro(id, i).Value }, values(bad))
		mustExec(t, ctx, c, `CREATE SOURCE pp_avro (id BIGINT, customer_name VARCHAR, country_name VARCHAR, rate INT)
  WITH (connector='kafka', topic='pp_avro', format='avro', scan.startup='earliest', dlq.topic='pp_avro_dlq')`)
		mustProduce(t, k, "pp_avro", -1, recs...)
		checkDeadLetters(t, ctx, k, c, "pp_avro", "pp_avro_dlq", bad, badKeys, good)
	})

	t.Run("skip", func(t *testing.T) {
		mustTopic(t, k, "pp_skip", 1)
		recs, _ := mixed(good, goodJSON, values(jsonPoison))
		mustExec(t, ctx, c, `CREATE SOURCE pp_skip (id BIGINT, country VARCHAR, rate INT, ts TIMESTAMP)
  WITH (connector='kafka', topic='pp_skip', format='json', scan.startup='earliest', on_error='skip')`)
		mustProduce(t, k, "pp_skip", -1, recs...)
		waitInt(t, c, 30*time.Second, "pp_skip", `SELECT count(*) FROM pp_skip`, good)
		waitFor(t, 10*time.Second, "pp_skip's errors counted", func() error {
			st, err := getSourceStatus(ctx, c, "pp_skip")
			if err == nil && (st.state != "running" || st.records != good || st.errors != int64(len(jsonPoison))) {
				err = fmt.Errorf("%v; want running, %d records, %d errors", st, good, len(jsonPoison))
			}
			return err
		})
		// Dropped: no error relation keeps them.
		if n, err := queryInt(ctx, c, `SELECT count(*) FROM pp_skip_errors`); err == nil && n != 0 {
			t.Errorf("on_error = 'skip' kept %d records in pp_skip_errors", n)
		}
	})

	t.Run("fail", func(t *testing.T) {
		mustTopic(t, k, "pp_fail", 1)
		mustTopic(t, k, "pp_ok", 1)
		mustExec(t, ctx, c, `CREATE SOURCE pp_ok (id BIGINT, country VARCHAR, rate INT, ts TIMESTAMP)
  WITH (connector='kafka', topic='pp_ok', format='json', scan.startup='earliest')`)
		var recs []weirtest.Record
		for i := 1; i <= 11; i++ {
			v := goodJSON(i)
			if i == 6 {
				v = []byte(`{"id":6,"country":"NL","rate":"high"}`)
			}
			recs = append(recs, weirtest.Record{Value: v})
		}
		mustExec(t, ctx, c, `CREATE SOURCE pp_fail (id BIGINT, country VARCHAR, rate INT, ts TIMESTAMP)
  WITH (connector='kafka', topic='pp_fail', format='json', scan.startup='earliest', on_error='fail')`)
		mustProduce(t, k, "pp_fail", 0, recs...)
		var st sourceStatus
		waitFor(t, 20*time.Second, "pp_fail failed", func() error {
			var err error
			st, err = getSourceStatus(ctx, c, "pp_fail")
			if err == nil && st.state != "failed" {
				err = fmt.Errorf("%v", st)
			}
			return err
		})
		if !strings.Contains(st.err, "rate") {
			t.Errorf("pp_fail failed with error %q; want one naming the field rate", st.err)
		}
		// Nothing at or after the bad record was applied.
		if n, err := queryInt(ctx, c, `SELECT count(*) FROM pp_fail WHERE id >= 6 OR id IS NULL`); err != nil || n != 0 {
			t.Errorf("pp_fail holds %d rows from the bad record on (%v)", n, err)
		}
		// The other sources go on.
		mustProduce(t, k, "pp_ok", 0, weirtest.Record{Value: goodJSON(1)}, weirtest.Record{Value: goodJSON(2)})
		waitInt(t, c, 20*time.Second, "pp_ok", `SELECT count(*) FROM pp_ok`, 2)
		if !w.Running() {
			t.Fatal("weir exited")
		}
	})
}
