package main

// The bounded-state figure of issue 6: Nexmark q5 (hopping windows, closed
// by the watermark) and an interval join of auctions and bids run over 30
// minutes of event time from the generator, while the views' operator
// state (keys and bytes, from /metrics) is sampled against the event time
// reached: the curve must stay flat.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirdb/weir/connectors/nexmark"
	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	nexmarkStateMinutes = flag.Int("nexmark-state-minutes", 30, "minutes of event time of the bounded-state figure")
	nexmarkStatePace    = flag.Int("nexmark-state-pace", 25_000, "events per second each source of the bounded-state figure generates: sources paced alike advance in event time together")
)

// stateSample is a view's operator state when the source had reached
// minute of event time.
type stateSample struct {
	minute      float64
	keys, bytes float64
}

type stateCurve struct {
	name    string
	samples []stateSample
	err     error
}

// nexmarkStateViews are the views of the figure.
var nexmarkStateViews = []struct{ name, sql string }{
	{"q5", nexmarkBenches[5].sql},
	{"interval_join", `SELECT B.auction, B.price, A.seller FROM auction A JOIN bid B
		ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '10' SECOND`},
}

func runNexmarkStateFigure(ctx context.Context, bin string) []stateCurve {
	const eventRate = 1000 // events per second of event time
	events := int64(*nexmarkStateMinutes) * 60 * eventRate
	var out []stateCurve
	for _, v := range nexmarkStateViews {
		c := stateCurve{name: v.name}
		c.samples, c.err = stateRun(ctx, bin, v.name, v.sql, events, eventRate)
		if c.err != nil {
			logf("nexmark-state", "%s: %v", v.name, c.err)
		}
		out = append(out, c)
	}
	return out
}

func stateRun(ctx context.Context, bin, name, sql string, events, eventRate int64) ([]stateSample, error) {
	w, c, stop, err := freshWeir(ctx, bin)
	if err != nil {
		return nil, err
	}
	defer stop()
	var bids int64
	nexmark.Generate(nexmark.Config{Seed: 1, Events: events}, 0, events, func(e *nexmark.Event) bool {
		if e.Kind == nexmark.KindBid {
			bids++
		}
		return true
	})
	var stmts []string
	for _, t := range []string{"auction", "bid"} {
		stmts = append(stmts, fmt.Sprintf(`CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table = '%s', nexmark.events = %d, nexmark.rate = %d, nexmark.event_rate = %d, nexmark.seed = 1, on_error = 'skip', stored = 'false')`, t, t, events, *nexmarkStatePace, eventRate))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", name, sql))
	if _, err := c.Exec(ctx, strings.Join(stmts, ";\n")); err != nil {
		return nil, err
	}
	var samples []stateSample
	deadline := time.Now().Add(15 * time.Minute)
	time.Sleep(time.Second) // the views exist before the first sample
	for {
		var n int64
		if err := c.QueryRow(ctx, `SELECT records FROM weir_catalog.sources WHERE name = 'bid'`).Scan(&n); err != nil {
			return nil, err
		}
		keys, bytes, err := viewState(ctx, w, name)
		if err != nil {
			return nil, err
		}
		// Bids are 46 of every 50 events, in order of event time.
		samples = append(samples, stateSample{minute: float64(n) / float64(bids) * float64(events) / float64(eventRate) / 60, keys: keys, bytes: bytes})
		if n >= bids {
			return samples, nil
		}
		if time.Now().After(deadline) {
			return samples, fmt.Errorf("%d of %d bids after 15 minutes", n, bids)
		}
		time.Sleep(250 * time.Millisecond) // sampling interval
	}
}

// viewState reads a view's operator state (keys, bytes) from /metrics.
func viewState(ctx context.Context, w *weirtest.Weir, view string) (keys, bytes float64, err error) {
	lines, err := metricLines(ctx, w)
	if err != nil {
		return 0, 0, err
	}
	label := `{view="` + view + `"} `
	for _, line := range lines {
		for _, m := range []struct {
			name string
			dst  *float64
		}{{"weir_view_state_cached_keys", &keys}, {"weir_view_state_cached_bytes", &bytes}} {
			if rest, ok := strings.CutPrefix(line, m.name+label); ok {
				if *m.dst, err = strconv.ParseFloat(rest, 64); err != nil {
					return 0, 0, err
				}
			}
		}
	}
	return keys, bytes, nil
}

// reportNexmarkState prints each curve at every fifth minute of event
// time (the sample nearest after it), and its maximum.
func reportNexmarkState(curves []stateCurve) bool {
	fmt.Printf("\nbounded state (issue 6): operator state of each view over %d minutes of event time (Nexmark, 1,000 events per second of event time, sources paced at %d events/s)\n", *nexmarkStateMinutes, *nexmarkStatePace)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	failed := false
	for _, c := range curves {
		if c.err != nil {
			failed = true
			fmt.Fprintf(tw, "%s\tFAILED: %v\t\n", c.name, c.err)
			continue
		}
		var maxKeys, maxBytes float64
		for _, s := range c.samples {
			maxKeys, maxBytes = max(maxKeys, s.keys), max(maxBytes, s.bytes)
		}
		fmt.Fprintf(tw, "%s\tminute\tkeys\tbytes\t\n", c.name)
		next := 0.0
		for _, s := range c.samples {
			if s.minute >= next {
				fmt.Fprintf(tw, "\t%.1f\t%.0f\t%.0f\t\n", s.minute, s.keys, s.bytes)
				for next <= s.minute {
					next += 5
				}
			}
		}
		fmt.Fprintf(tw, "\tmax\t%.0f\t%.0f\t\n", maxKeys, maxBytes)
	}
	tw.Flush()
	return failed
}
