package tests

// End-to-end tests of Kafka sources and sinks (issue 4): a kfake cluster
// in the test process, records produced and consumed with kcat
// (librdkafka), bin/weir started with --kafka-brokers pointing at it.

import (
	"context"
	"fmt"
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
