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

// The HTTP sink figures of issue 5: rows/s from a table through an HTTP
// sink into a local receiver that counts the changes it is sent, and the
// Weir CPU they cost; and rows/s of one-row transactions to a receiver
// that takes httpLatency per request, with and without batch.linger.

var (
	httpRows       = flag.Int("http-rows", 500_000, "rows of the HTTP sink figure")
	httpLingerRows = flag.Int("http-linger-rows", 600, "one-row INSERTs of the HTTP sink linger figure without linger (10 times as many with)")
)

// httpLatency is the receiver's answer time in the linger figure.
const httpLatency = 20 * time.Millisecond

type httpFigures struct {
	rowsPerSec, rowsPerCPU float64
	// One-row transactions delivered per second, batch.linger off and on.
	lingerOff, lingerOn float64
	err                 error
}

// httpSinkBench is a Weir with a table leads and an HTTP sink crm of it
// to a receiver in this process, which counts the changes it is sent.
type httpSinkBench struct {
	w        *weirtest.Weir
	c        *pgx.Conn
	received atomic.Int64
	close    func()
}

// startHTTPSinkBench starts it; the receiver answers after latency, and
// the sink has the options opts besides url.
func startHTTPSinkBench(ctx context.Context, bin string, latency time.Duration, opts string) (*httpSinkBench, error) {
	b := &httpSinkBench{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(latency)
		b.received.Add(int64(bytes.Count(body, []byte(`"op":`))))
		w.WriteHeader(http.StatusNoContent)
	}))
	var stops []func()
	b.close = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	stops = append(stops, srv.Close)
	dir, err := mkTemp()
	if err != nil {
		b.close()
		return nil, err
	}
	stops = append(stops, func() { removeAll(dir) })
	if b.w, err = weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), "--log-level=info"); err != nil {
		b.close()
		return nil, err
	}
	stops = append(stops, func() { b.w.Stop() })
	if b.c, err = pgx.Connect(ctx, b.w.DSN()); err != nil {
		b.close()
		return nil, err
	}
	stops = append(stops, func() { b.c.Close(context.Background()) })
	for _, sql := range []string{
		`CREATE TABLE leads (id BIGINT PRIMARY KEY, name TEXT, email TEXT, score INT)`,
		fmt.Sprintf(`CREATE SINK crm FROM leads WITH (connector='http', url='%s/leads', %s)`, srv.URL, opts),
	} {
		if _, err := b.c.Exec(ctx, sql); err != nil {
			b.close()
			return nil, err
		}
	}
	return b, nil
}

// waitReceived waits until the receiver got n changes.
func (b *httpSinkBench) waitReceived(ctx context.Context, n int, start time.Time) error {
	for b.received.Load() < int64(n) {
		if ctx.Err() != nil || time.Since(start) > 5*time.Minute {
			return fmt.Errorf("the receiver got %d of %d changes", b.received.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func runHTTPSinkFigure(ctx context.Context, bin string) httpFigures {
	b, err := startHTTPSinkBench(ctx, bin, 0, "batch.max_rows=500")
	if err != nil {
		return httpFigures{err: err}
	}
	defer b.close()
	n := *httpRows
	var rows [][]any
	for i := range n {
		rows = append(rows, []any{int64(i), fmt.Sprintf("lead %d", i), fmt.Sprintf("lead%d@example.com", i), int32(i % 100)})
	}
	cpu0, err := b.w.CPUTime()
	if err != nil {
		return httpFigures{err: err}
	}
	start := time.Now()
	// In COPY batches of 10,000 rows: one epoch each.
	for lo := 0; lo < n; lo += 10_000 {
		if _, err := b.c.CopyFrom(ctx, pgx.Identifier{"leads"}, []string{"id", "name", "email", "score"}, pgx.CopyFromRows(rows[lo:min(lo+10_000, n)])); err != nil {
			return httpFigures{err: err}
		}
	}
	if err := b.waitReceived(ctx, n, start); err != nil {
		return httpFigures{err: err}
	}
	wall := time.Since(start)
	cpu1, err := b.w.CPUTime()
	if err != nil {
		return httpFigures{err: err}
	}
	logf("http", "%d rows through the HTTP sink in %.2f s (%.2f Weir CPU s)", n, wall.Seconds(), (cpu1 - cpu0).Seconds())
	f := httpFigures{rowsPerSec: float64(n) / wall.Seconds(), rowsPerCPU: float64(n) / (cpu1 - cpu0).Seconds()}
	// Without linger the receiver's latency alone sets the pace: fewer
	// rows measure it as well.
	if f.lingerOff, err = runHTTPLingerFigure(ctx, bin, "0", *httpLingerRows); err == nil {
		f.lingerOn, err = runHTTPLingerFigure(ctx, bin, "50ms", 10**httpLingerRows)
	}
	f.err = err
	return f
}

// runHTTPLingerFigure returns the rows/s delivered of n one-row INSERTs,
// each its own epoch, from 4 connections to a receiver that answers in
// httpLatency, through a sink with batch.linger linger: from the first
// INSERT until the receiver got the last row.
func runHTTPLingerFigure(ctx context.Context, bin, linger string, n int) (float64, error) {
	b, err := startHTTPSinkBench(ctx, bin, httpLatency, fmt.Sprintf("batch.max_rows=500, batch.linger='%s'", linger))
	if err != nil {
		return 0, err
	}
	defer b.close()
	const conns = 4
	start := time.Now()
	errs := make(chan error, conns)
	for k := range conns {
		go func() {
			c, err := pgx.Connect(ctx, b.w.DSN())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(context.Background())
			for id := k; id < n; id += conns {
				if _, err := c.Exec(ctx, `INSERT INTO leads VALUES ($1, 'lead', 'lead@example.com', 1)`, int64(id)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	inserted := time.Since(start)
	if err := b.waitReceived(ctx, n, start); err != nil {
		return 0, err
	}
	wall := time.Since(start)
	logf("http", "linger %s: %d one-row INSERTs in %.2f s, delivered in %.2f s", linger, n, inserted.Seconds(), wall.Seconds())
	return float64(n) / wall.Seconds(), nil
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
	fmt.Printf("  one-row INSERTs (4 connections) to a receiver answering in %s, first INSERT to last row delivered:\n", httpLatency)
	fmt.Printf("  %-60s %12.0f rows/s\n", "batch.linger 0 (one request per epoch)", f.lingerOff)
	fmt.Printf("  %-60s %12.0f rows/s\n", "batch.linger '50ms'", f.lingerOn)
	return false
}
