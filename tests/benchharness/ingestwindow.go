package main

// The windowed-ingest figure of issue 6: a 1M-line NDJSON file of events
// posted to /v1/ingest into a table with event time, counted per key in
// 1-second tumbling windows by a view; events/s on the whole machine (2
// cores), and the drops, which must be none: every event counted, none
// late.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	ingestEvents  = flag.Int("ingest-window-events", 1_000_000, "lines of the windowed-ingest figure")
	ingestClients = flag.Int("ingest-window-clients", 2, "concurrent POSTs of the windowed-ingest figure")
)

type ingestWindowFigure struct {
	events          int
	perSec, perCore float64
	counted, late   int64
	err             error
}

func runIngestWindowFigure(ctx context.Context, bin string) ingestWindowFigure {
	f := ingestWindowFigure{events: *ingestEvents}
	w, c, stop, err := freshWeir(ctx, bin)
	if err != nil {
		f.err = err
		return f
	}
	defer stop()
	// 10,000 events per second of event time, a little out of order; the
	// watermark waits 10 s, more than the chunks posted at once span.
	_, err = c.Exec(ctx, `CREATE TABLE events (key TEXT, value BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND);
CREATE MATERIALIZED VIEW per_second AS SELECT key, window_start, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' SECOND) GROUP BY key, window_start`)
	if err != nil {
		f.err = err
		return f
	}
	const chunk = 20_000
	var chunks [][]byte
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for lo := 0; lo < f.events; lo += chunk {
		var b bytes.Buffer
		for i := lo; i < min(lo+chunk, f.events); i++ {
			t := base.Add(time.Duration(i)*100*time.Microsecond - time.Duration(i%7)*time.Millisecond)
			fmt.Fprintf(&b, `{"key":"k%d","value":%d,"ts":"%s"}`+"\n", i%100, i, t.Format("2006-01-02 15:04:05.000000"))
		}
		chunks = append(chunks, b.Bytes())
	}
	cpu0, err := w.CPUTime()
	if err != nil {
		f.err = err
		return f
	}
	start := time.Now()
	next := make(chan []byte)
	errs := make(chan error, *ingestClients)
	var wg sync.WaitGroup
	for range *ingestClients {
		wg.Go(func() {
			for body := range next {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+w.HTTPAddr()+"/v1/ingest/events", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs <- fmt.Errorf("ingest: %s: %.300s", resp.Status, msg)
					return
				}
			}
		})
	}
	for _, b := range chunks {
		next <- b
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		f.err = err
		return f
	}
	cpu1, err := w.CPUTime()
	if err != nil {
		f.err = err
		return f
	}
	f.perSec = float64(f.events) / wall.Seconds()
	f.perCore = float64(f.events) / (cpu1 - cpu0).Seconds()
	if err := c.QueryRow(ctx, `SELECT sum(n) FROM per_second`).Scan(&f.counted); err != nil {
		f.err = err
		return f
	}
	f.late, f.err = lateRows(ctx, w, "events")
	return f
}

// lateRows reads weir_late_rows_total{action="dropped"} of relation.
func lateRows(ctx context.Context, w *weirtest.Weir, relation string) (int64, error) {
	lines, err := metricLines(ctx, w)
	if err != nil {
		return 0, err
	}
	prefix := `weir_late_rows_total{action="dropped",relation="` + relation + `"} `
	for _, line := range lines {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			var n float64
			_, err := fmt.Sscan(rest, &n)
			return int64(n), err
		}
	}
	return 0, fmt.Errorf("no weir_late_rows_total for %s in /metrics", relation)
}

func reportIngestWindow(f ingestWindowFigure) bool {
	fmt.Printf("\nwindowed ingest (issue 6): %d NDJSON lines POSTed to /v1/ingest (%d clients, 20,000-line requests) into a table with event time; a view counts per key in 1 s tumbling windows\n", f.events, *ingestClients)
	if f.err != nil {
		fmt.Printf("  FAILED: %v\n", f.err)
		return true
	}
	fmt.Printf("  %.0f events/s on 2 cores (target >= 1,000,000), %.0f events per Weir CPU second; counted %d, late dropped %d\n", f.perSec, f.perCore, f.counted, f.late)
	return f.counted != int64(f.events) || f.late != 0
}
