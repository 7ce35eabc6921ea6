package tests

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// TestKafkaCrashExactlyOnce produces records while Weir consumes them and
// kills Weir with SIGKILL at random moments, restarting it each time. At
// the end the GROUP BY view equals the counts computed from the topic, the
// source holds each record once, and the sinks' topics, read with
// read_committed, hold each change exactly once: the append sink exactly
// the source's records, the upsert sink per key a strictly growing count
// ending at the view's row.
//
// WEIR_KAFKA_CRASH_RECORDS (default 100000; the figure is 1000000),
// WEIR_KAFKA_CRASH_KILLS (default 3), WEIR_KAFKA_CRASH_SEED (the kill
// moments; logged) and WEIR_KAFKA_CRASH_PRODUCE (seconds of production,
// default 12) size the run.
func TestKafkaCrashExactlyOnce(t *testing.T) {
	records := envInt(t, "WEIR_KAFKA_CRASH_RECORDS", 100_000)
	kills := envInt(t, "WEIR_KAFKA_CRASH_KILLS", 3)
	seed := envInt(t, "WEIR_KAFKA_CRASH_SEED", int(time.Now().UnixNano()%1e9))
	produceFor := time.Duration(envInt(t, "WEIR_KAFKA_CRASH_PRODUCE", 12)) * time.Second
	t.Logf("%d records over %v, %d kills, WEIR_KAFKA_CRASH_SEED=%d", records, produceFor, kills, seed)
	const groups = 100
	catchUp := time.Minute + time.Duration(records/5000)*time.Second
	ctx := testCtx(t, produceFor+2*catchUp+time.Minute)

	k := startKafka(t)
	for topic, parts := range map[string]int{"ev": 4, "ev_counts": 2, "ev_copy": 2} {
		mustTopic(t, k, topic, parts)
	}
	w := startWeirKafka(t, k)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SOURCE ev (id BIGINT, k INT, v INT) WITH (connector='kafka', topic='ev', format='json', scan.startup='earliest')`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW ev_by_k AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
	mustExec(t, ctx, c, `CREATE SINK ev_counts_out FROM ev_by_k WITH (connector='kafka', topic='ev_counts', format='json', mode='upsert')`)
	mustExec(t, ctx, c, `CREATE SINK ev_copy_out FROM ev WITH (connector='kafka', topic='ev_copy', format='json', mode='append')`)
	c.Close(ctx)

	// The producer: records at an even rate over produceFor.
	produced := make(chan error, 1)
	start := time.Now()
	go func() {
		p, err := k.StartProducer("ev", -1)
		if err != nil {
			produced <- err
			return
		}
		const step = 500
		for i := 0; i < records; i++ {
			if err := p.Send(weirtest.Record{Key: strconv.AppendInt(nil, int64(i), 10),
				Value: fmt.Appendf(nil, `{"id":%d,"k":%d,"v":%d}`, i, i*7919%groups, i%10)}); err != nil {
				p.Close()
				produced <- err
				return
			}
			if i%step == step-1 {
				if err := p.Flush(); err != nil {
					p.Close()
					produced <- err
					return
				}
				// pacing the load, not waiting for a condition
				time.Sleep(time.Until(start.Add(produceFor * time.Duration(i+1) / time.Duration(records))))
			}
		}
		produced <- p.Close()
	}()

	// The kills: at random moments while records flow, at least a second
	// apart so that each restart reads some.
	r := rand.New(rand.NewPCG(uint64(seed), 4))
	var at []time.Duration
	slot := (produceFor - time.Second) / time.Duration(max(kills, 1))
	for i := range kills {
		at = append(at, time.Second+time.Duration(i)*slot+time.Duration(r.Int64N(int64(max(slot-time.Second, 0))+1)))
	}
	for i, d := range at {
		time.Sleep(time.Until(start.Add(d))) // a random moment, not a condition
		w.Kill()
		t0 := time.Now()
		if err := w.Start(ctx); err != nil {
			t.Fatalf("restart %d after kill -9 at %v: %v", i+1, d, err)
		}
		t.Logf("kill -9 %d at %v; ready again after %v", i+1, d.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	t.Logf("produced %d records in %v", records, time.Since(start).Round(time.Millisecond))

	// The oracle: the topic as kcat reads it.
	cols := []string{"id", "k", "v"}
	var source []string
	count, sum := map[string]int{}, map[string]int{}
	for _, m := range mustConsume(t, ctx, k, "ev") {
		row, err := sinkRow(m, cols)
		if err != nil {
			t.Fatal(err)
		}
		source = append(source, row)
		f := strings.Fields(row)
		v, _ := strconv.Atoi(f[2])
		count[f[1]]++
		sum[f[1]] += v
	}
	if len(source) != records {
		t.Fatalf("the topic holds %d records, %d produced", len(source), records)
	}
	want := map[string]string{}
	for g, n := range count {
		want[g] = fmt.Sprintf("%s %d %d", g, n, sum[g])
	}

	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	waitInt(t, c, catchUp, "ev", `SELECT sum(n) FROM ev_by_k`, int64(records))
	if got := queryTable(t, ctx, c, `SELECT k, n, s FROM ev_by_k`); !maps.Equal(got, want) {
		t.Errorf("ev_by_k differs from the counts of the topic:\n%s", mapDiff(got, want))
	}
	if n, err := queryInt(ctx, c, `SELECT count(DISTINCT id) FROM ev`); err != nil || n != int64(records) {
		t.Errorf("the source holds %d distinct ids (%v), want %d", n, err, records)
	}
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM ev`); err != nil || n != int64(records) {
		t.Errorf("the source holds %d rows (%v), want %d", n, err, records)
	}

	// The upsert sink: each key ends at the view's row, its count strictly
	// growing from record to record (a change delivered twice repeats or
	// goes back).
	log := waitUpsertSink(t, ctx, k, "ev_counts", "ev_counts_out", []string{"k", "n", "s"}, want, catchUp)
	changes := 0
	for g, rows := range log {
		changes += len(rows)
		prev := -1
		for i, row := range rows {
			f := strings.Fields(row)
			n := -1
			if len(f) == 3 {
				n, _ = strconv.Atoi(f[1])
			}
			if n <= prev {
				t.Errorf("ev_counts key %s: record %d is %q after a count of %d (records: %q)", g, i, row, prev, rows)
				break
			}
			prev = n
		}
	}
	t.Logf("upsert sink: %d records for %d keys", changes, len(log))

	// The append sink: exactly the source's records.
	var copied []string
	waitFor(t, catchUp, "the append sink's topic holds every record", func() error {
		msgs, err := k.Consume(ctx, "ev_copy")
		if err != nil {
			return err
		}
		if err := checkSinkHeaders(msgs, "ev_copy_out"); err != nil {
			t.Fatal(err)
		}
		copied = copied[:0]
		for _, m := range msgs {
			row, err := sinkRow(m, cols)
			if err != nil {
				t.Fatal(err)
			}
			copied = append(copied, row)
		}
		if len(copied) < records { // more are duplicates: reported below
			return fmt.Errorf("%d of %d records", len(copied), records)
		}
		return nil
	})
	slices.Sort(source)
	slices.Sort(copied)
	if !slices.Equal(copied, source) {
		t.Errorf("the append sink's topic differs from the source topic (%d records, want %d; \"weir\" is the sink, \"postgres\" the source):\n%s",
			len(copied), len(source), limitLines(rowDiff(copied, source), 40))
	}
}

// limitLines keeps the first n lines of s.
func limitLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("... (%d more lines)\n", len(lines)-n)
}
