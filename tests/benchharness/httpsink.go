package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// The HTTP sink figure of issue 5: rows/s from a table through an HTTP
// sink into a local receiver that counts the changes it is sent, and the
// Weir CPU they cost.

var httpRows = flag.Int("http-rows", 500_000, "rows of the HTTP sink figure")

type httpFigures struct {
	rowsPerSec, rowsPerCPU float64
	err                    error
}

func runHTTPSinkFigure(ctx context.Context, bin string) httpFigures {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received.Add(int64(bytes.Count(body, []byte(`"op":`))))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	dir, err := mkTemp()
	if err != nil {
		return httpFigures{err: err}
	}
	defer removeAll(dir)
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), "--log-level=info")
	if err != nil {
		return httpFigures{err: err}
	}
	defer w.Stop()
	c, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		return httpFigures{err: err}
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, `CREATE TABLE leads (id BIGINT PRIMARY KEY, name TEXT, email TEXT, score INT)`); err != nil {
		return httpFigures{err: err}
	}
	if _, err := c.Exec(ctx, fmt.Sprintf(`CREATE SINK crm FROM leads WITH (connector='http', url='%s/leads', batch.max_rows=500)`, srv.URL)); err != nil {
		return httpFigures{err: err}
	}
	n := *httpRows
	var rows [][]any
	for i := range n {
		rows = append(rows, []any{int64(i), fmt.Sprintf("lead %d", i), fmt.Sprintf("lead%d@example.com", i), int32(i % 100)})
	}
	cpu0, err := w.CPUTime()
	if err != nil {
		return httpFigures{err: err}
	}
	start := time.Now()
	// In COPY batches of 10,000 rows: one epoch each.
	for lo := 0; lo < n; lo += 10_000 {
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"leads"}, []string{"id", "name", "email", "score"}, pgx.CopyFromRows(rows[lo:min(lo+10_000, n)])); err != nil {
			return httpFigures{err: err}
		}
	}
	for received.Load() < int64(n) {
		if ctx.Err() != nil || time.Since(start) > 5*time.Minute {
			return httpFigures{err: fmt.Errorf("the receiver got %d of %d changes", received.Load(), n)}
		}
		time.Sleep(5 * time.Millisecond)
	}
	wall := time.Since(start)
	cpu1, err := w.CPUTime()
	if err != nil {
		return httpFigures{err: err}
	}
	logf("http", "%d rows through the HTTP sink in %.2f s (%.2f Weir CPU s)", n, wall.Seconds(), (cpu1 - cpu0).Seconds())
	return httpFigures{rowsPerSec: float64(n) / wall.Seconds(), rowsPerCPU: float64(n) / (cpu1 - cpu0).Seconds()}
}

func reportHTTPSink(f httpFigures) bool {
	fmt.Println()
	fmt.Println("http (issue 5): rows COPYed into a table, delivered by an HTTP sink (500-row JSON requests) to a receiver in the bench process")
	if f.err != nil {
		fmt.Println("  error:", f.err)
		return true
	}
	fmt.Printf("  %-60s %12.0f rows/s\n", "COPY to delivered, wall clock", f.rowsPerSec)
	fmt.Printf("  %-60s %12.0f rows/s\n", "the same, per Weir CPU second (COPY, sink log, delivery)", f.rowsPerCPU)
	return false
}
