package tests

// End-to-end tests of Kafka sources and sinks (issue 4): a kfake cluster
// in the test process, records produced and consumed with kcat
// (librdkafka), bin/weir started with --kafka-brokers pointing at it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// startKafka starts the in-process cluster, closed at the end of the test.
func startKafka(t testing.TB) *weirtest.Kafka {
	t.Helper()
	k, err := weirtest.StartKafka()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

func mustTopic(t testing.TB, k *weirtest.Kafka, topic string, partitions int) {
	t.Helper()
	if err := k.CreateTopic(topic, partitions); err != nil {
		t.Fatal(err)
	}
}

// mustProduce produces recs with kcat to partition (-1: by key).
func mustProduce(t testing.TB, k *weirtest.Kafka, topic string, partition int, recs ...weirtest.Record) {
	t.Helper()
	if err := k.Produce(topic, partition, recs...); err != nil {
		t.Fatal(err)
	}
}

func mustConsume(t testing.TB, ctx context.Context, k *weirtest.Kafka, topic string) []weirtest.Message {
	t.Helper()
	msgs, err := k.Consume(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// startWeirKafka starts Weir with k as its default brokers.
func startWeirKafka(t testing.TB, k *weirtest.Kafka, args ...string) *weirtest.Weir {
	t.Helper()
	return startWeir(t, append([]string{"--kafka-brokers=" + k.Brokers()}, args...)...)
}

// queryInt runs a query of one integer (NULL is 0).
func queryInt(ctx context.Context, c *pgx.Conn, sql string, args ...any) (int64, error) {
	var n *int64
	if err := c.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", sql, err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// sourceStatus is a source's row of weir_catalog.sources.
type sourceStatus struct {
	state, err      string
	records, errors int64
}

func (s sourceStatus) String() string {
	return fmt.Sprintf("state %q, records %d, errors %d, error %q", s.state, s.records, s.errors, s.err)
}

func getSourceStatus(ctx context.Context, c *pgx.Conn, name string) (sourceStatus, error) {
	var s sourceStatus
	var errText *string
	err := c.QueryRow(ctx, `SELECT state, error, records, errors FROM weir_catalog.sources WHERE name = $1`, name).
		Scan(&s.state, &errText, &s.records, &s.errors)
	if err != nil {
		return s, fmt.Errorf("weir_catalog.sources of %s: %w", name, err)
	}
	if errText != nil {
		s.err = *errText
	}
	return s, nil
}

// waitInt waits until the query of one integer answers want; the error
// names what the source reported meanwhile.
func waitInt(t testing.TB, c *pgx.Conn, d time.Duration, source, sql string, want int64) {
	t.Helper()
	ctx := testCtx(t, d+10*time.Second)
	waitFor(t, d, fmt.Sprintf("%s = %d", sql, want), func() error {
		n, err := queryInt(ctx, c, sql)
		if err == nil && n == want {
			return nil
		}
		st, serr := getSourceStatus(ctx, c, source)
		if serr != nil {
			return fmt.Errorf("got %d, %v (source %s: %v)", n, err, source, serr)
		}
		return fmt.Errorf("got %d, %v (source %s: %v)", n, err, source, st)
	})
}

// queryRows returns a query's rows rendered as by renderRow, sorted.
func queryRows(t testing.TB, ctx context.Context, c *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := viewRows(ctx, c.PgConn(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rows
}

// quoteBytes renders a key or value: NULL, or Go-quoted.
func quoteBytes(b []byte) string {
	if b == nil {
		return "NULL"
	}
	return strconv.Quote(string(b))
}

// TestKafkaFixture checks the fixture the other tests trust: what kcat
// produces (binary values, null keys, tombstones) is read back exactly,
// and the read_committed consumer sees committed transactions only, with
// their headers.
func TestKafkaFixture(t *testing.T) {
	k := startKafka(t)
	ctx := testCtx(t, time.Minute)
	mustTopic(t, k, "fx", 2)
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	mustProduce(t, k, "fx", 0,
		weirtest.Record{Key: []byte("k1"), Value: binary},
		weirtest.Record{Value: []byte(`{"a":1}`)},
		weirtest.Record{Key: []byte("k1")},
	)
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(k.Brokers(), ",")...), kgo.TransactionalID("fixture"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, commit := range []bool{true, false, true} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: "fx", Partition: 1, Value: fmt.Appendf(nil, "txn%d", i),
			Headers: []kgo.RecordHeader{{Key: "weir.epoch", Value: fmt.Appendf(nil, "%d", i)}, {Key: "weir.sink", Value: []byte("s")}}}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := mustConsume(t, ctx, k, "fx")
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%d/%d key=%s value=%s epoch=%q sink=%q", m.Partition, m.Offset,
			quoteBytes(m.Key), quoteBytes(m.Value), m.Header("weir.epoch"), m.Header("weir.sink")))
	}
	sort.Strings(got)
	// Offsets 1 and 3 of partition 1 are the commit and abort markers.
	want := []string{
		fmt.Sprintf(`0/0 key="k1" value=%q epoch="" sink=""`, binary),
		`0/1 key=NULL value="{\"a\":1}" epoch="" sink=""`,
		`0/2 key="k1" value=NULL epoch="" sink=""`,
		`1/0 key=NULL value="txn0" epoch="0" sink="s"`,
		`1/4 key=NULL value="txn2" epoch="2" sink="s"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if end := k.EndOffsets("fx"); !slices.Equal(end, []int64{3, 6}) {
		t.Fatalf("end offsets %v", end)
	}
}

// checkSinkHeaders checks that every record of a sink's topic names the
// sink and its epoch (weir.sink, weir.epoch), and that within a partition
// the epochs never go back: an epoch written again after a later one is a
// change delivered twice.
func checkSinkHeaders(msgs []weirtest.Message, sink string) error {
	last := map[int32]int64{}
	for _, m := range msgs {
		if got := m.Header("weir.sink"); got != sink {
			return fmt.Errorf("record %d/%d: header weir.sink %q, want %q", m.Partition, m.Offset, got, sink)
		}
		e, err := strconv.ParseInt(m.Header("weir.epoch"), 10, 64)
		if err != nil {
			return fmt.Errorf("record %d/%d: header weir.epoch %q: not a number", m.Partition, m.Offset, m.Header("weir.epoch"))
		}
		if prev, ok := last[m.Partition]; ok && e < prev {
			return fmt.Errorf("record %d/%d: epoch %d after epoch %d", m.Partition, m.Offset, e, prev)
		}
		last[m.Partition] = e
	}
	return nil
}

// jsonText renders a decoded JSON value as a row field: NULL, a string or
// a number as normField leaves it (a NUMERIC may be written as either),
// anything else as JSON.
func jsonText(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return normField(v)
	case json.Number:
		return normField(v.String())
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// normField writes a number with 12 significant digits, so that a view's
// NUMERIC text and the same value in JSON compare equal; other text stays.
func normField(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', 12, 64)
	}
	return s
}

// decodeJSON decodes b with numbers kept as json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// sinkKey renders the JSON key of an upsert sink's record: a key of one
// column may be written bare ("NL") or as an object ({"country":"NL"}).
func sinkKey(m weirtest.Message) (string, error) {
	if m.Key == nil {
		return "", fmt.Errorf("record %d/%d has no key", m.Partition, m.Offset)
	}
	v, err := decodeJSON(m.Key)
	if err != nil {
		return "", fmt.Errorf("record %d/%d: key %q: %w", m.Partition, m.Offset, m.Key, err)
	}
	if o, ok := v.(map[string]any); ok && len(o) == 1 {
		for _, f := range o {
			return jsonText(f), nil
		}
	}
	return jsonText(v), nil
}

// sinkRow renders a JSON value's fields cols as a row "a b c"; a
// tombstone is "".
func sinkRow(m weirtest.Message, cols []string) (string, error) {
	if m.Value == nil {
		return "", nil
	}
	v, err := decodeJSON(m.Value)
	o, ok := v.(map[string]any)
	if err != nil || !ok {
		return "", fmt.Errorf("record %d/%d: value %q is not a JSON object (%v)", m.Partition, m.Offset, m.Value, err)
	}
	fields := make([]string, len(cols))
	for i, c := range cols {
		f, ok := o[c]
		if !ok {
			return "", fmt.Errorf("record %d/%d: value %s has no field %q", m.Partition, m.Offset, m.Value, c)
		}
		fields[i] = jsonText(f)
	}
	return strings.Join(fields, " "), nil
}

// upsertLog is an upsert sink's topic by key: the rows (sinkRow) each key
// took, in order. A key's records must all be in one partition, or their
// order is lost.
type upsertLog map[string][]string

func readUpsertLog(msgs []weirtest.Message, cols []string) (upsertLog, error) {
	log := upsertLog{}
	partition := map[string]int32{}
	for _, m := range msgs {
		key, err := sinkKey(m)
		if err != nil {
			return nil, err
		}
		if p, ok := partition[key]; ok && p != m.Partition {
			return nil, fmt.Errorf("key %s has records in partitions %d and %d", key, p, m.Partition)
		}
		partition[key] = m.Partition
		row, err := sinkRow(m, cols)
		if err != nil {
			return nil, err
		}
		log[key] = append(log[key], row)
	}
	return log, nil
}

// final returns each key's last row, tombstones ("") included.
func (l upsertLog) final() map[string]string {
	out := map[string]string{}
	for k, rows := range l {
		out[k] = rows[len(rows)-1]
	}
	return out
}

// queryTable returns a query's rows, fields normalized by normField and
// NULL as "NULL", keyed by the first column.
func queryTable(t testing.TB, ctx context.Context, c *pgx.Conn, sql string) map[string]string {
	t.Helper()
	rows, _, err := execText(ctx, c.PgConn(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := map[string]string{}
	for _, r := range rows {
		fields := make([]string, len(r))
		for i, v := range r {
			fields[i] = "NULL"
			if v != nil {
				fields[i] = normField(*v)
			}
		}
		out[fields[0]] = strings.Join(fields, " ")
	}
	return out
}

// mapDiff lists how got and want differ, one key a line.
func mapDiff(got, want map[string]string) string {
	var b strings.Builder
	keys := slices.Sorted(maps.Keys(got))
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "    %s: missing, want %q\n", k, w)
		case !wok:
			fmt.Fprintf(&b, "    %s: %q, want none\n", k, g)
		case g != w:
			fmt.Fprintf(&b, "    %s: %q, want %q\n", k, g, w)
		}
	}
	return b.String()
}

// waitUpsertSink waits until the sink's topic, read with read_committed,
// holds view's rows as each key's last record and a tombstone as the last
// record of every other key; it returns the log.
func waitUpsertSink(t testing.TB, ctx context.Context, k *weirtest.Kafka, topic, sink string, cols []string, view map[string]string, d time.Duration) upsertLog {
	t.Helper()
	var log upsertLog
	waitFor(t, d, fmt.Sprintf("sink %s's topic %s holds the view", sink, topic), func() error {
		msgs, err := k.Consume(ctx, topic)
		if err != nil {
			return err
		}
		if err := checkSinkHeaders(msgs, sink); err != nil {
			t.Fatal(err)
		}
		if log, err = readUpsertLog(msgs, cols); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for k := range log {
			want[k] = "" // a tombstone, unless the view has the key
		}
		maps.Copy(want, view)
		if got := log.final(); !maps.Equal(got, want) {
			return fmt.Errorf("%d records; the last record of each key differs from the view (\"\" is a tombstone):\n%s", len(msgs), mapDiff(got, want))
		}
		return nil
	})
	return log
}

// repeats lists the keys whose log holds the same row twice in a row: a
// change delivered twice.
func (l upsertLog) repeats() []string {
	var out []string
	for k, rows := range l {
		for i := 1; i < len(rows); i++ {
			if rows[i] == rows[i-1] {
				out = append(out, fmt.Sprintf("%s: %q at records %d and %d of the key", k, rows[i], i-1, i))
			}
		}
	}
	slices.Sort(out)
	return out
}
