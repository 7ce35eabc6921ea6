package coord

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/server"
)

// TestBackfillProgress: a CREATE MATERIALIZED VIEW over enough rows sends
// progress notices while it runs (through the statement's notice function,
// as the server installs it), and another session sees the backfill in
// weir_catalog.progress meanwhile, although the backfill holds the epoch
// lock.
func TestBackfillProgress(t *testing.T) {
	old := noticeInterval
	noticeInterval = 0 // a notice per scanned batch
	defer func() { noticeInterval = old }()

	h := newHarness(t, t.TempDir())
	s1, s2 := h.session(), h.session()
	mustRun(t, s1, "CREATE TABLE t (id BIGINT PRIMARY KEY, g BIGINT)")
	const n = 10000
	var data strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&data, "%d\t%d\n", i, i%7)
	}
	if tag, err := feedCopy(t, s1, "COPY t FROM STDIN", data.String()); err != nil || tag != fmt.Sprintf("COPY %d", n) {
		t.Fatalf("copy: %q %v", tag, err)
	}

	const watch = "SELECT kind, name, phase, rows_read > 0, started_at <= now(), rows_per_second >= 0 FROM weir_catalog.progress"
	var notices []string
	var seen string // the progress view from s2, read during the first notice
	finished := false
	ctx := server.WithNotice(context.Background(), func(msg string) {
		if finished {
			t.Errorf("notice after the statement completed: %s", msg)
		}
		notices = append(notices, msg)
		if len(notices) > 1 {
			return
		}
		got := make(chan string, 1)
		go func() {
			out, err := run(t, s2, watch)
			if err != nil {
				out = err.Error()
			}
			got <- out
		}()
		select {
		case seen = <-got:
		case <-time.After(10 * time.Second):
			t.Error("reading weir_catalog.progress waited for the backfill (epoch lock?)")
		}
	})
	stmts, err := s1.Parse(ctx, "CREATE MATERIALIZED VIEW v AS SELECT g, count(*) AS c FROM t GROUP BY g", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s1.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	finished = true

	if want := "materialized view|v|backfill|t|t|t\nSELECT 1\n"; seen != want {
		t.Errorf("progress view during the backfill:\n got  %q\n want %q", seen, want)
	}
	re := regexp.MustCompile(`^materialized view "v": backfill read (\d+) rows \(\d+ rows/s, \d+s elapsed\)$`)
	if len(notices) < 2 {
		t.Fatalf("want a notice per batch, got %q", notices)
	}
	last := int64(0)
	for _, msg := range notices {
		m := re.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("notice %q does not match %s", msg, re)
		}
		rows, _ := strconv.ParseInt(m[1], 10, 64)
		if rows <= last || rows > n {
			t.Errorf("rows read %d after %d (of %d)", rows, last, n)
		}
		last = rows
	}
	if got := mustRun(t, s2, watch); got != "SELECT 0\n" {
		t.Errorf("progress view after the backfill: %q", got)
	}
	if got := mustRun(t, s2, "SELECT sum(c) FROM v"); got != fmt.Sprintf("%d\nSELECT 1\n", n) {
		t.Errorf("view: %q", got)
	}
}

// TestPushQueryProgress: a running push query is listed, streaming, with
// the rows it sent, until it ends.
func TestPushQueryProgress(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s1, s2 := h.session(), h.session()
	mustRun(t, s1, "CREATE TABLE t (id BIGINT PRIMARY KEY)")
	mustRun(t, s1, "INSERT INTO t VALUES (1), (2)")
	ctx := context.Background()
	stmts, err := s1.Parse(ctx, "SELECT * FROM t EMIT CHANGES", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s1.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, ok, err := res.Next(ctx); !ok || err != nil {
			t.Fatalf("row %d: %v %v", i, ok, err)
		}
	}
	const q = "SELECT kind, name, phase, rows_read FROM weir_catalog.progress"
	if got, want := mustRun(t, s2, q), "push query|SELECT * FROM t EMIT CHANGES|streaming|2\nSELECT 1\n"; got != want {
		t.Errorf("progress:\n got  %q\n want %q", got, want)
	}
	res.Close()
	if got := mustRun(t, s2, q); got != "SELECT 0\n" {
		t.Errorf("progress after Close: %q", got)
	}
}
