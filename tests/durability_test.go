package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestKill9KeepsAcknowledgedWrites: every INSERT acknowledged before
// `kill -9` is there after a restart on the same data directory.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	mustExec(t, ctx, c, `CREATE TABLE acked (id BIGINT PRIMARY KEY, v TEXT)`)

	// a writer acknowledges rows as fast as it can; we kill -9 mid-stream
	var acked atomic.Int64
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.Exec(context.Background(), `INSERT INTO acked VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
				return // the connection dies with the server
			}
			acked.Store(i)
		}
	}()
	waitFor(t, 30*time.Second, "200 acknowledged inserts", func() error {
		if n := acked.Load(); n < 200 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	w.Kill() // SIGKILL: no chance to flush anything
	close(stop)
	<-writerDone
	n := acked.Load()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	var count, maxID int64
	if err := c2.QueryRow(ctx, `SELECT count(*), max(id) FROM acked WHERE id <= $1`, n).Scan(&count, &maxID); err != nil {
		t.Fatal(err)
	}
	if count != n || maxID != n {
		t.Fatalf("after kill -9: %d rows (max id %d) of %d acknowledged", count, maxID, n)
	}
	var total int64
	c2.QueryRow(ctx, `SELECT count(*) FROM acked`).Scan(&total)
	if total > n+1 {
		t.Errorf("%d rows present, at most %d were sent", total, n+1)
	}
	var v string
	if err := c2.QueryRow(ctx, `SELECT v FROM acked WHERE id = $1`, n).Scan(&v); err != nil || v != fmt.Sprint("v", n) {
		t.Errorf("last acked row: %q %v", v, err)
	}

	// a big multi-row INSERT then COPY, each killed right after the ack
	vals := make([]string, 1000)
	for i := range vals {
		vals[i] = fmt.Sprintf("(%d, 'batch')", 100000+i)
	}
	mustExec(t, ctx, c2, `INSERT INTO acked VALUES `+strings.Join(vals, ","))
	rows := make([][]any, 5000)
	for i := range rows {
		rows[i] = []any{int64(200000 + i), "copy"}
	}
	if _, err := c2.CopyFrom(ctx, pgx.Identifier{"acked"}, []string{"id", "v"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	w.Kill()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c3 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	var batch, copied int64
	if err := c3.QueryRow(ctx, `SELECT count(*) FROM acked WHERE v = 'batch'`).Scan(&batch); err != nil {
		t.Fatal(err)
	}
	if err := c3.QueryRow(ctx, `SELECT count(*) FROM acked WHERE v = 'copy'`).Scan(&copied); err != nil {
		t.Fatal(err)
	}
	if batch != 1000 || copied != 5000 {
		t.Errorf("after kill -9: %d batch rows (want 1000), %d copied rows (want 5000)", batch, copied)
	}
}

// TestCleanRestart: SIGTERM exits 0; tables, rows, types, defaults and
// constraints are all there after the restart; a dropped table stays dropped.
func TestCleanRestart(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE keep (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n NUMERIC(8,2) DEFAULT 1.25, at TIMESTAMP)`)
	mustExec(t, ctx, c, `INSERT INTO keep (id, name, at) VALUES (1, 'a', '2024-01-01 10:00:00'), (2, 'b', NULL)`)
	mustExec(t, ctx, c, `UPDATE keep SET name = 'b2' WHERE id = 2`)
	mustExec(t, ctx, c, `CREATE TABLE gone (id INTEGER PRIMARY KEY)`)
	mustExec(t, ctx, c, `DROP TABLE gone`)
	mustExec(t, ctx, c, `CREATE TABLE emptied (id INTEGER PRIMARY KEY)`)
	mustExec(t, ctx, c, `INSERT INTO emptied VALUES (1), (2)`)
	mustExec(t, ctx, c, `DELETE FROM emptied`)
	c.Close(ctx)

	code, err := w.Restart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("SIGTERM exit code %d, want 0", code)
	}
	c2 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	rows, err := c2.Query(ctx, `SELECT id, name, n::text, coalesce(at::text, 'null') FROM keep ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int
		var name, n, at string
		if err := rows.Scan(&id, &name, &n, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, name, n, at))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "[1a1.252024-01-01 10:00:00 2b21.25null]"; fmt.Sprint(got) != want {
		t.Errorf("after restart: %v, want %s", got, want)
	}
	// constraints survive too
	_, err = c2.Exec(ctx, `INSERT INTO keep (id, name) VALUES (1, 'dup')`)
	wantPgError(t, err, "23505", "primary key after restart")
	_, err = c2.Exec(ctx, `INSERT INTO keep (id) VALUES (3)`)
	wantPgError(t, err, "23502", "NOT NULL after restart")
	mustExec(t, ctx, c2, `INSERT INTO keep (id, name) VALUES (3, 'c')`)
	var n string
	if err := c2.QueryRow(ctx, `SELECT n::text FROM keep WHERE id = 3`).Scan(&n); err != nil || n != "1.25" {
		t.Errorf("DEFAULT after restart: %q %v", n, err)
	}
	_, err = c2.Exec(ctx, `SELECT * FROM gone`)
	wantPgError(t, err, "42P01", "dropped table after restart")
	var cnt int
	if err := c2.QueryRow(ctx, `SELECT count(*) FROM emptied`).Scan(&cnt); err != nil || cnt != 0 {
		t.Errorf("deleted rows after restart: %d %v", cnt, err)
	}
	c2.Close(ctx)
	// a second restart, after writes made by the restarted server
	if code, err := w.Restart(ctx); err != nil || code != 0 {
		t.Fatalf("second restart: exit %d, %v", code, err)
	}
	c3 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	if err := c3.QueryRow(ctx, `SELECT count(*) FROM keep`).Scan(&cnt); err != nil || cnt != 3 {
		t.Errorf("after second restart: %d rows, %v", cnt, err)
	}
}

// TestLifecycle: --help documents the flags, HTTP endpoints answer, SIGTERM
// with an idle client connected exits 0 promptly.
func TestLifecycle(t *testing.T) {
	if weirBinErr != nil {
		t.Fatal(weirBinErr)
	}
	out, _ := exec.Command(weirBin, "--help").CombinedOutput()
	for _, flag := range []string{"--data-dir", "--pg-addr", "--http-addr", "--log-level"} {
		if !strings.Contains(string(out), strings.TrimPrefix(flag, "-")) {
			t.Errorf("--help does not document %s:\n%s", flag, out)
		}
	}
	w := startWeir(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + w.HTTPAddr() + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", path, resp.Status)
		}
		if path == "/metrics" && !strings.Contains(string(body), "# TYPE") {
			t.Errorf("/metrics is not Prometheus text:\n%.500s", body)
		}
	}
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `SELECT 1`)
	start := time.Now()
	code, err := w.Stop()
	if err != nil || code != 0 {
		t.Fatalf("SIGTERM: exit %d, %v", code, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := c.Exec(ctx, `SELECT 1`); err == nil {
		t.Errorf("connection still answers after shutdown")
	}
}

// TestSynchronousCommitOff: with --synchronous-commit=off sessions default
// to synchronous_commit = off (and may turn it on); what CHECKPOINT wrote is
// there after kill -9, views agreeing with their tables.
func TestSynchronousCommitOff(t *testing.T) {
	w := startWeir(t, "--synchronous-commit=off")
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	var setting string
	if err := c.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&setting); err != nil || setting != "off" {
		t.Fatalf("SHOW synchronous_commit = %q, %v; want off", setting, err)
	}
	mustExec(t, ctx, c, `CREATE TABLE t (id BIGINT PRIMARY KEY, k BIGINT)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t GROUP BY k`)
	vals := make([]string, 1000)
	for i := range vals {
		vals[i] = fmt.Sprintf("(%d, %d)", i+1, (i+1)%10)
	}
	mustExec(t, ctx, c, `INSERT INTO t VALUES `+strings.Join(vals, ","))
	mustExec(t, ctx, c, `SET synchronous_commit = on`)
	mustExec(t, ctx, c, `INSERT INTO t VALUES (1001, 1)`)
	if tag := mustExec(t, ctx, c, `CHECKPOINT`); tag.String() != "CHECKPOINT" {
		t.Fatalf("CHECKPOINT answered %q", tag)
	}
	w.Kill()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	var rows, groups, counted int64
	if err := c2.QueryRow(ctx, `SELECT (SELECT count(*) FROM t), count(*), sum(n) FROM v`).Scan(&rows, &groups, &counted); err != nil {
		t.Fatal(err)
	}
	if rows != 1001 || groups != 10 || counted != 1001 {
		t.Fatalf("after kill -9: %d rows, view of %d groups counting %d; want 1001, 10, 1001", rows, groups, counted)
	}
}
