package tests

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// TestKafkaUnstoredReplay: an unstored source over three partitions, with
// event time, records out of order (some late), one that cannot be
// decoded and some a view refuses. Views created after the records, and
// after a restart, read them again from the topic and hold exactly what
// the views that saw them arrive hold.
func TestKafkaUnstoredReplay(t *testing.T) {
	k := startKafka(t)
	ctx := testCtx(t, 2*time.Minute)
	mustTopic(t, k, "us", 3)
	w := startWeirKafka(t, k)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SOURCE us (id BIGINT, p INT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
		WITH (connector='kafka', topic='us', format='json', stored='false', on_error='skip')`)
	views := []string{
		`AS SELECT p, window_start, count(*) AS n, sum(id) AS ids FROM TUMBLE(us, ts, INTERVAL '10' SECOND) GROUP BY p, window_start`,
		`AS SELECT window_end, count(*) AS n FROM TUMBLE(us, ts, INTERVAL '10' SECOND) GROUP BY window_end EMIT ON WINDOW CLOSE`,
		`AS SELECT id, 100 / (id % 7) AS q FROM us`,
	}
	create := func(prefix string) {
		for i, v := range views {
			mustExec(t, ctx, c, fmt.Sprintf("CREATE MATERIALIZED VIEW %s%d %s", prefix, i, v))
		}
	}
	dump := func(prefix string) []string {
		var out []string
		for i := range views {
			out = append(out, fmt.Sprintf("%s%d:", prefix, i))
			out = append(out, queryRows(t, ctx, c, fmt.Sprintf("SELECT * FROM %s%d ORDER BY 1, 2", prefix, i))...)
		}
		return out[:len(out):len(out)]
	}
	create("before")
	id, sent := 0, 0
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	// One partition after the other, as a source catching up on a
	// backlog may read them: one that has sent nothing yet holds the
	// watermark back (or the first would make the others' rows late).
	for p := range 3 {
		var recs []weirtest.Record
		for round := range 12 {
			for j := range 5 {
				id++
				// Two seconds a round, in order but every ninth, 5 s
				// early: late (the watermark is 2 s behind).
				at := base.Add(time.Duration(round)*2*time.Second + time.Duration(j)*400*time.Millisecond)
				if id%9 == 0 {
					at = at.Add(-5 * time.Second)
				}
				recs = append(recs, weirtest.Record{Value: fmt.Appendf(nil, `{"id":%d,"p":%d,"ts":"%s"}`, id, p, at.Format("2006-01-02 15:04:05"))})
			}
			if round == 5 && p == 1 {
				recs = append(recs, weirtest.Record{Value: []byte(`{"id":`)})
			}
		}
		mustProduce(t, k, "us", p, recs...)
		sent += len(recs)
	}
	waitFor(t, 30*time.Second, "every record read", func() error {
		st, err := getSourceStatus(ctx, c, "us")
		if err != nil {
			return err
		}
		if st.records+st.errors != int64(sent) {
			return fmt.Errorf("source: %v, sent %d", st, sent)
		}
		return nil
	})
	st, _ := getSourceStatus(ctx, c, "us")
	if st.errors < 2 {
		t.Fatalf("source: %v: want the bad record and some refused by view 2", st)
	}
	if n, err := queryInt(ctx, c, `SELECT sum(n) FROM before0`); err != nil || n >= int64(id) || n < int64(id)/2 {
		t.Fatalf("%d of %d rows counted (%v): want some late", n, id, err)
	}
	normalize := func(prefix string, rows []string) []string {
		out := slices.Clone(rows)
		for i, r := range out {
			for v := range views {
				if r == fmt.Sprintf("%s%d:", prefix, v) {
					out[i] = fmt.Sprintf("view%d:", v)
				}
			}
		}
		return out
	}
	want := normalize("before", dump("before"))
	create("after")
	if got := normalize("after", dump("after")); !slices.Equal(got, want) {
		t.Fatalf("views created after the records:\n%q\nbefore them:\n%q", got, want)
	}
	if _, err := w.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	create("restarted")
	if got := normalize("restarted", dump("restarted")); !slices.Equal(got, want) {
		t.Fatalf("views created after a restart:\n%q\nbefore the records:\n%q", got, want)
	}
	if got := normalize("before", dump("before")); !slices.Equal(got, want) {
		t.Fatalf("views across a restart:\n%q\nbefore it:\n%q", got, want)
	}
}
