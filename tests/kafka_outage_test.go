package tests

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// TestKafkaClusterOutage takes the cluster away under a running pipeline
// and brings it back (the same port, the same data). Meanwhile the source
// shows 'retrying' with an error naming the broker, the sink 'retrying'
// with its error and its pending epochs, and writes to the sink's
// relation go on without waiting for it: each statement returns at once,
// a view over the relation stays current, and a sink of the same relation
// to another cluster keeps delivering. Once the cluster is back the
// source reads on without loss or repeat, and the sink delivers every
// change once (read_committed), in order.
func TestKafkaClusterOutage(t *testing.T) {
	t.Parallel() // mostly waiting for the sink's timeout and backoff
	k, err := weirtest.StartKafkaDurable(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	other := startKafka(t)
	mustTopic(t, k, "feed", 2)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, 3*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustExec(t, ctx, c, `CREATE SOURCE feed (id BIGINT, v INT) WITH (connector='kafka', topic='feed', format='json')`)
	mustExec(t, ctx, c, `CREATE TABLE ledger (id BIGINT PRIMARY KEY, note TEXT)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW ledger_sum AS SELECT count(*) AS n, sum(id) AS s FROM ledger`)
	mustExec(t, ctx, c, `CREATE SINK ledger_out FROM ledger WITH (connector='kafka', topic='ledger_out', format='json', mode='upsert')`)
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK ledger_copy FROM ledger
  WITH (connector='kafka', brokers='%s', topic='ledger_copy', format='json', mode='upsert')`, other.Brokers()))
	mustExec(t, ctx, c, `CREATE SINK ledger_gone FROM ledger WITH (connector='kafka', topic='ledger_gone', format='json', mode='upsert')`)
	feed := func(from, to int) []weirtest.Record {
		var recs []weirtest.Record
		for i := from; i < to; i++ {
			recs = append(recs, weirtest.Record{Key: strconv.AppendInt(nil, int64(i), 10), Value: fmt.Appendf(nil, `{"id":%d,"v":%d}`, i, i%7)})
		}
		return recs
	}
	insert := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			start := time.Now()
			mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO ledger VALUES (%d, 'entry %d')`, i, i))
			// A statement never waits for a sink: a generous bound on a
			// loaded machine, far below the sink's 10 s timeout.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("INSERT of ledger row %d took %v while the sink's cluster is down", i, d)
			}
		}
	}
	mustProduce(t, k, "feed", -1, feed(0, 40)...)
	insert(1, 11)
	waitInt(t, c, 20*time.Second, "feed", `SELECT count(*) FROM feed`, 40)
	waitSinkCaughtUp(t, ctx, c, "ledger_out", 20*time.Second)
	waitSinkCaughtUp(t, ctx, c, "ledger_gone", 20*time.Second)

	k.Down()
	t.Logf("cluster %s down", k.Brokers())
	down := time.Now()
	waitFor(t, 30*time.Second, "the source shows the lost cluster", func() error {
		st, err := getSourceStatus(ctx, c, "feed")
		if err == nil && (st.state != "retrying" || !strings.Contains(st.err, k.Brokers())) {
			err = fmt.Errorf("%v; want retrying with an error naming %s", st, k.Brokers())
		}
		return err
	})
	insert(11, 21)
	// Dropping a sink whose write hangs waits for the write to give up,
	// but holds up no other statement meanwhile.
	dropped := make(chan error, 1)
	go func() {
		c2 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
		_, err := c2.Exec(ctx, `DROP SINK ledger_gone`)
		dropped <- err
	}()
	insert(21, 31)
	var st sinkStatus
	waitFor(t, 40*time.Second, "the sink retries", func() error {
		var err error
		st, err = getSinkStatus(ctx, c, "ledger_out")
		if err == nil && (st.state != "retrying" || st.err == "" || st.pending == 0) {
			err = fmt.Errorf("%v; want retrying, an error, epochs pending", st)
		}
		return err
	})
	t.Logf("%v after the cluster went down: %v", time.Since(down).Round(time.Millisecond), st)
	insert(31, 41) // while it retries
	if err := <-dropped; err != nil {
		t.Errorf("DROP SINK ledger_gone while its cluster is down: %v", err)
	}
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM weir_catalog.sinks WHERE name = 'ledger_gone'`); err != nil || n != 0 {
		t.Errorf("weir_catalog.sinks has %d rows of the dropped sink ledger_gone (%v)", n, err)
	}
	if got, err := queryInt(ctx, c, `SELECT s FROM ledger_sum WHERE n = 40`); err != nil || got != 40*41/2 {
		t.Errorf("ledger_sum during the outage: sum %d (%v); want 40 rows summing to %d", got, err, 40*41/2)
	}
	if st, err := getSinkStatus(ctx, c, "ledger_out"); err != nil || st.pending < 30 || st.state != "retrying" {
		t.Errorf("ledger_out after 30 writes during the outage: %v, %v; want retrying with at least 30 epochs pending", st, err)
	}
	// On the cluster that stayed up.
	waitSinkChanges(t, ctx, c, "ledger_copy", 40, 20*time.Second)
	m, err := scrapeMetrics(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	for series, ok := range map[string]func(float64) bool{
		`weir_source_up{source="feed"}`:                            func(v float64) bool { return v == 0 },
		`weir_sink_up{sink="ledger_out"}`:                          func(v float64) bool { return v == 0 },
		`weir_sink_pending_epochs{sink="ledger_out"}`:              func(v float64) bool { return v >= 30 },
		`weir_sink_up{sink="ledger_copy"}`:                         func(v float64) bool { return v == 1 },
		`weir_sink_pending_epochs{sink="ledger_copy"}`:             func(v float64) bool { return v == 0 },
		`weir_sink_changes_total{sink="ledger_copy"}`:              func(v float64) bool { return v == 40 },
		`weir_source_records_total{source="feed"}`:                 func(v float64) bool { return v == 40 },
		`weir_sink_delivered_epoch{sink="ledger_out"}`:             func(v float64) bool { return v == 10 },
		`weir_sink_delivered_epoch{sink="ledger_copy"}`:            func(v float64) bool { return v == 40 },
		`weir_source_errors_total{source="feed"}`:                  func(v float64) bool { return v == 0 },
		`weir_source_bytes_total{source="feed"}`:                   func(v float64) bool { return v > 0 },
		`weir_sink_changes_total{sink="ledger_out"}`:               func(v float64) bool { return v == 10 },
		`weir_source_last_record_timestamp_seconds{source="feed"}`: func(v float64) bool { return v > 0 },
	} {
		if v, found := m[series]; !found || !ok(v) {
			t.Errorf("/metrics during the outage: %s = %v (present %v)", series, v, found)
		}
	}

	// A crash during the outage: Weir starts without its cluster, and the
	// source and the sink retry as they did before.
	w.Kill()
	restarted := time.Now()
	if err := w.Start(ctx); err != nil {
		t.Fatalf("start while the cluster is down: %v", err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	insert(41, 46)
	waitFor(t, 40*time.Second, "after a restart, the source and the sink show the lost cluster", func() error {
		src, err := getSourceStatus(ctx, c, "feed")
		if err != nil {
			return err
		}
		if src.state != "retrying" || !strings.Contains(src.err, k.Brokers()) {
			return fmt.Errorf("source %v; want retrying with an error naming %s", src, k.Brokers())
		}
		// 35 epochs are pending; TestKafkaSinkStatusAfterRestart checks
		// the figures of a sink that has not reached its cluster since.
		sink, err := getSinkStatus(ctx, c, "ledger_out")
		if err == nil && (sink.state != "retrying" || sink.err == "" || sink.pending < 35) {
			err = fmt.Errorf("sink %v; want retrying with an error, 35 epochs pending", sink)
		}
		return err
	})
	t.Logf("%v after the restart, both retry", time.Since(restarted).Round(time.Millisecond))

	if err := k.Up(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	mustProduce(t, k, "feed", -1, feed(40, 80)...)
	insert(46, 56)
	waitInt(t, c, 30*time.Second, "feed", `SELECT count(*) FROM feed`, 80)
	if n, err := queryInt(ctx, c, `SELECT count(DISTINCT id) FROM feed`); err != nil || n != 80 {
		t.Errorf("feed holds %d distinct ids (%v); want 80", n, err)
	}
	waitFor(t, 20*time.Second, "the source runs again", func() error {
		st, err := getSourceStatus(ctx, c, "feed")
		// The counts are since the start: 40 records read before the
		// restart, 40 after.
		if err == nil && (st.state != "running" || st.err != "" || st.records != 40 && st.records != 80) {
			err = fmt.Errorf("%v; want running, no error, 40 records since the restart", st)
		}
		return err
	})
	// The changes are counted since the start: 45 after the restart.
	st = waitSink(t, ctx, c, "ledger_out", 45*time.Second, "caught up", func(st sinkStatus) bool {
		return st.state == "running" && st.pending == 0 && st.err == "" && st.delivered == 55 && (st.changes == 45 || st.changes == 55)
	})
	t.Logf("ledger_out caught up %v after the cluster came back: %v", time.Since(up).Round(time.Millisecond), st)
	waitSinkCaughtUp(t, ctx, c, "ledger_copy", 20*time.Second)
	if msgs := mustConsume(t, ctx, k, "ledger_gone"); len(msgs) != 10 {
		t.Errorf("the dropped sink's topic holds %d records; want the 10 delivered before the outage", len(msgs))
	}

	// Every row once, in the order written: one partition, one epoch per
	// INSERT.
	var want []string
	for i := 1; i <= 55; i++ {
		want = append(want, fmt.Sprintf("%d entry %d", i, i))
	}
	for _, sink := range []struct {
		name string
		k    *weirtest.Kafka
	}{{"ledger_out", k}, {"ledger_copy", other}} {
		msgs := mustConsume(t, ctx, sink.k, sink.name)
		if err := checkSinkHeaders(msgs, sink.name); err != nil {
			t.Errorf("%s: %v", sink.name, err)
		}
		var got []string
		epochs := map[string]bool{}
		for _, m := range msgs {
			row, err := sinkRow(m, []string{"id", "note"})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, row)
			epochs[m.Header("weir.epoch")] = true
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %d records (read_committed); want rows 1..55 once each, in order:\n%s", sink.name, len(got), limitLines(rowDiff(got, want), 30))
			if slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
				t.Errorf("%s: every row once, out of order: %q", sink.name, got)
			}
		}
		if len(epochs) != len(msgs) {
			t.Errorf("%s: %d records in %d epochs; want one epoch per INSERT", sink.name, len(msgs), len(epochs))
		}
	}
}

// TestKafkaSinkStatusAfterRestart restarts Weir while a sink's cluster is
// down: weir_catalog.sinks and /metrics must show the epochs the sink
// delivered before (its log was trimmed up to them) and only the rest as
// pending, not every epoch since the sink was created.
func TestKafkaSinkStatusAfterRestart(t *testing.T) {
	k := startKafka(t)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE t (id BIGINT PRIMARY KEY)`)
	mustExec(t, ctx, c, `CREATE SINK t_out FROM t WITH (connector='kafka', topic='t_out', format='json', mode='upsert')`)
	for i := 1; i <= 3; i++ {
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO t VALUES (%d)`, i))
	}
	if st := waitSinkCaughtUp(t, ctx, c, "t_out", 20*time.Second); st.delivered != 3 {
		t.Fatalf("t_out: %v; want epoch 3 delivered", st)
	}
	k.Down()
	mustExec(t, ctx, c, `INSERT INTO t VALUES (4)`)
	mustExec(t, ctx, c, `INSERT INTO t VALUES (5)`)
	w.Kill()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	var st sinkStatus
	waitFor(t, 20*time.Second, "t_out retries", func() error {
		var err error
		if st, err = getSinkStatus(ctx, c, "t_out"); err == nil && st.state != "retrying" {
			err = fmt.Errorf("%v", st)
		}
		return err
	})
	if st.delivered != 3 || st.pending != 2 {
		t.Errorf("SELECT delivered_epoch, pending_epochs FROM weir_catalog.sinks WHERE name = 't_out': %d, %d; want 3, 2 (%v)", st.delivered, st.pending, st)
	}
	m, err := scrapeMetrics(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if d, p := m[`weir_sink_delivered_epoch{sink="t_out"}`], m[`weir_sink_pending_epochs{sink="t_out"}`]; d != 3 || p != 2 {
		t.Errorf("/metrics: weir_sink_delivered_epoch %v, weir_sink_pending_epochs %v; want 3, 2", d, p)
	}
}
