package main

// The latency figure of issue 6: Nexmark q0 and q1 as views over a bid
// source paced at its event rate with event times of the present
// (nexmark.base_time = 'now'), so that an event's date_time is when the
// generator makes it; a push query on each view receives its changes, and
// the time from an event's date_time to its arrival at the client is the
// latency from generation to view change (plus the push to the client).

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

var nexmarkLatencyRate = flag.Int("nexmark-latency-rate", 100_000, "events per second of the latency figure (paced; its event rate too)")

type latencyFigure struct {
	query         string
	rate          int
	rows          int
	p50, p99, max time.Duration
	err           error
}

func runNexmarkLatencyFigure(ctx context.Context, bin string) []latencyFigure {
	var out []latencyFigure
	for _, q := range []string{"q0", "q1"} {
		f := latencyRun(ctx, bin, q, *nexmarkLatencyRate, 10*time.Second)
		if f.err != nil {
			logf("nexmark-latency", "%s: %v", q, f.err)
		}
		out = append(out, f)
	}
	return out
}

func latencyRun(ctx context.Context, bin, q string, rate int, run time.Duration) latencyFigure {
	f := latencyFigure{query: q, rate: rate}
	w, c, stop, err := freshWeir(ctx, bin)
	if err != nil {
		f.err = err
		return f
	}
	defer stop()
	var sql string
	for _, b := range nexmarkBenches {
		if b.name == q {
			sql = b.sql
		}
	}
	events := int64(rate) * int64(run/time.Second)
	_, err = c.Exec(ctx, fmt.Sprintf(`CREATE SOURCE bid WITH (connector = 'nexmark', nexmark.table = 'bid', nexmark.events = %d,
		nexmark.rate = %d, nexmark.event_rate = %d, nexmark.base_time = 'now', nexmark.seed = 1, on_error = 'skip', stored = 'false');
CREATE MATERIALIZED VIEW %s AS %s`, events, rate, rate, q, sql))
	if err != nil {
		f.err = err
		return f
	}
	push, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		f.err = err
		return f
	}
	defer push.Close(context.Background())
	pctx, cancel := context.WithTimeout(ctx, run+5*time.Second)
	defer cancel()
	rows, err := push.Query(pctx, fmt.Sprintf("SELECT date_time FROM %s EMIT CHANGES", q), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		f.err = err
		return f
	}
	from := time.Now().UTC()
	var lat []time.Duration
	for rows.Next() {
		var op string // a push query's rows lead with the change's kind
		var t time.Time
		if err := rows.Scan(&op, &t); err != nil {
			f.err = err
			return f
		}
		if t.Before(from) {
			continue // the view's rows before the push began
		}
		lat = append(lat, time.Now().UTC().Sub(t))
	}
	rows.Close()
	if len(lat) == 0 {
		f.err = fmt.Errorf("no changes arrived (%v)", rows.Err())
		return f
	}
	slices.Sort(lat)
	f.rows = len(lat)
	f.p50, f.p99, f.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	return f
}

func reportNexmarkLatency(fs []latencyFigure) bool {
	fmt.Printf("\nnexmark latency (issue 6): a bid source paced at its event rate with event times of the present; a push query on the view; from an event's date_time to its change at the client\n")
	failed := false
	for _, f := range fs {
		if f.err != nil {
			failed = true
			fmt.Printf("  %s: FAILED: %v\n", f.query, f.err)
			continue
		}
		fmt.Printf("  %s at %d events/s: %d changes, p50 %v, p99 %v, max %v\n", f.query, f.rate, f.rows, f.p50.Round(time.Millisecond), f.p99.Round(time.Millisecond), f.max.Round(time.Millisecond))
	}
	return failed
}
