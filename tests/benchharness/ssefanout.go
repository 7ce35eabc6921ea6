package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// The SSE fan-out figure of issue 5: -sse-subscribers clients of
// GET /v1/subscribe on one materialized view, while rows go into its
// table; changes/s delivered over all of them, and the latency of each
// change from just before its INSERT to its arrival at a subscriber.
// The subscribers run in the bench process, on the same cores as Weir.

var (
	sseSubscribers = flag.Int("sse-subscribers", 1000, "concurrent /v1/subscribe clients of the SSE fan-out figure")
	sseChanges     = flag.Int("sse-changes", 2000, "rows inserted (changes of the view) in the SSE fan-out figure")
)

// sseInsertRows is the rows of each INSERT of the figure: one epoch each.
const sseInsertRows = 50

type sseFigures struct {
	subscribers, changes int
	perSec               float64 // changes delivered per second, over all subscribers
	p50, p99             time.Duration
	err                  error
}

func runSSEFanoutFigure(ctx context.Context, bin string) sseFigures {
	f := sseFigures{subscribers: *sseSubscribers, changes: *sseChanges}
	dir, err := mkTemp()
	if err != nil {
		return sseFigures{err: err}
	}
	defer removeAll(dir)
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), "--log-level=info")
	if err != nil {
		return sseFigures{err: err}
	}
	defer w.Stop()
	c, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		return sseFigures{err: err}
	}
	defer c.Close(context.Background())
	for _, ddl := range []string{
		`CREATE TABLE ticks (id BIGINT PRIMARY KEY, sent BIGINT)`,
		`CREATE MATERIALIZED VIEW recent_ticks AS SELECT id, sent FROM ticks WHERE id >= 0`,
	} {
		if _, err := c.Exec(ctx, ddl); err != nil {
			return sseFigures{err: err}
		}
	}

	sctx, stop := context.WithCancel(ctx)
	target := "http://" + w.HTTPAddr() + "/v1/subscribe?q=" + url.QueryEscape("SELECT id, sent FROM recent_ticks EMIT CHANGES")
	client := &http.Client{Transport: &http.Transport{}} // its own connections, closed by stop
	var delivered atomic.Int64
	latencies := make([][]time.Duration, f.subscribers)
	started := make(chan error, f.subscribers)
	var wg sync.WaitGroup
	for i := range f.subscribers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(sctx, http.MethodGet, target, nil)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := client.Do(req)
			if err != nil {
				started <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				started <- fmt.Errorf("subscribe: status %d", resp.StatusCode)
				return
			}
			started <- nil // subscribed: Weir answers once the subscription is in place
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				sent, ok := sentMicros(sc.Bytes())
				if !ok {
					continue
				}
				latencies[i] = append(latencies[i], time.Duration(time.Now().UnixMicro()-sent)*time.Microsecond)
				delivered.Add(1)
			}
		}()
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	for range f.subscribers {
		if err := <-started; err != nil {
			return sseFigures{err: err}
		}
	}

	start := time.Now()
	for lo := 0; lo < f.changes; lo += sseInsertRows {
		var sql strings.Builder
		sql.WriteString("INSERT INTO ticks VALUES ")
		sent := time.Now().UnixMicro()
		for id := lo; id < min(lo+sseInsertRows, f.changes); id++ {
			if id > lo {
				sql.WriteByte(',')
			}
			fmt.Fprintf(&sql, "(%d,%d)", id, sent)
		}
		if _, err := c.Exec(ctx, sql.String()); err != nil {
			return sseFigures{err: err}
		}
	}
	want := int64(f.changes) * int64(f.subscribers)
	for delivered.Load() < want {
		if ctx.Err() != nil || time.Since(start) > 5*time.Minute {
			return sseFigures{err: fmt.Errorf("the subscribers got %d of %d changes", delivered.Load(), want)}
		}
		time.Sleep(5 * time.Millisecond)
	}
	wall := time.Since(start)
	stop()
	wg.Wait() // latencies are complete
	all := slices.Concat(latencies...)
	slices.Sort(all)
	f.perSec = float64(want) / wall.Seconds()
	f.p50, f.p99 = all[len(all)/2], all[len(all)*99/100]
	logf("sse", "%d changes to %d subscribers in %.2f s", f.changes, f.subscribers, wall.Seconds())
	return f
}

// sentMicros reads the sent column of an event's data line,
// `data: {"id":1,"sent":1700000000000000}`.
func sentMicros(line []byte) (int64, bool) {
	data, ok := bytes.CutPrefix(line, []byte("data: "))
	if !ok {
		return 0, false
	}
	_, v, ok := bytes.Cut(data, []byte(`"sent":`))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(bytes.TrimRight(v, "}")), 10, 64)
	return n, err == nil
}

func reportSSEFanout(f sseFigures) bool {
	fmt.Println()
	fmt.Printf("sse (issue 5): %d GET /v1/subscribe clients of one view (in the bench process), %d rows INSERTed %d a statement\n",
		f.subscribers, f.changes, sseInsertRows)
	if f.err != nil {
		fmt.Println("  error:", f.err)
		return true
	}
	fmt.Printf("  %-60s %12.0f changes/s\n", "delivered, over all subscribers", f.perSec)
	fmt.Printf("  %-60s %12.1f ms\n", "latency INSERT to subscriber, p50", float64(f.p50.Microseconds())/1000)
	fmt.Printf("  %-60s %12.1f ms\n", "latency INSERT to subscriber, p99", float64(f.p99.Microseconds())/1000)
	return false
}
