package coord

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
)

// metricsURL serves h's coordinator with the protocol server and returns
// the address of its /metrics.
func metricsURL(t *testing.T, h *harness) string {
	t.Helper()
	srv, err := server.New(server.Options{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, h.c)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + srv.HTTPAddr().String() + "/metrics"
}

// scraped is one scrape of /metrics, parsed by Prometheus's text parser.
type scraped map[string]*dto.MetricFamily

func scrape(t *testing.T, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return fams
}

// get returns the value of the series of name with the label pairs
// labels (a histogram's count and sum), and whether it is there.
func (s scraped) get(name string, labels ...string) (value, sum float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), 0, true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), 0, true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum(), true
		}
	}
	return 0, 0, false
}

func (s scraped) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, _, ok := s.get(name, labels...)
	if !ok {
		t.Fatalf("/metrics has no %s %v", name, labels)
	}
	return v
}

// TestMetricsMove checks that /metrics follows the engine: a view's
// changes and state, the epochs committed, push subscribers, and a sink's
// retries and delivery latency.
func TestMetricsMove(t *testing.T) {
	sys := newFakeSystem()
	h := newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"fake": fakeConnector{newFakeLog(), sys}}})
	url := metricsURL(t, h)
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY, g INT)")
	mustRun(t, s, "CREATE MATERIALIZED VIEW byg AS SELECT g, count(*) AS n FROM t GROUP BY g")

	m := scrape(t, url)
	view := []string{"view", "byg"}
	if in, out := m.value(t, "weir_view_changes_in_total", view...), m.value(t, "weir_view_changes_out_total", view...); in != 0 || out != 0 {
		t.Fatalf("new view: %v changes in, %v out", in, out)
	}
	// step runs sql, one epoch, and checks how the view's counters moved.
	step := func(sql string, in, out, keys float64) {
		t.Helper()
		before := scrape(t, url)
		mustRun(t, s, sql)
		after := scrape(t, url)
		for _, c := range []struct {
			name string
			want float64
		}{{"weir_view_changes_in_total", in}, {"weir_view_changes_out_total", out}} {
			if got := after.value(t, c.name, view...) - before.value(t, c.name, view...); got != c.want {
				t.Errorf("%s: %s moved by %v, want %v", sql, c.name, got, c.want)
			}
		}
		if got := after.value(t, "weir_epoch_commit_duration_seconds") - before.value(t, "weir_epoch_commit_duration_seconds"); got != 1 {
			t.Errorf("%s: %v epochs timed, want 1", sql, got)
		}
		if got := after.value(t, "weir_view_state_cached_keys", view...); got != keys {
			t.Errorf("%s: %v keys of state, want %v", sql, got, keys)
		}
		if got := after.value(t, "weir_view_state_cached_bytes", view...); got <= 0 {
			t.Errorf("%s: %v bytes of state", sql, got)
		}
	}
	step("INSERT INTO t VALUES (1, 1), (2, 1), (3, 2)", 3, 2, 2)
	// The row's move is a delete and an insert; each group's row changes.
	step("UPDATE t SET g = 2 WHERE k = 1", 2, 4, 2)
	step("INSERT INTO t VALUES (4, 3)", 1, 1, 3)

	// A statement that writes nothing commits no epoch.
	m = scrape(t, url)
	epochs := m.value(t, "weir_epoch_commit_duration_seconds")
	mustRun(t, s, "SELECT * FROM byg")
	mustRun(t, s, "DELETE FROM t WHERE k = 99")
	if got := scrape(t, url).value(t, "weir_epoch_commit_duration_seconds"); got != epochs {
		t.Errorf("statements that change nothing timed %v epochs", got-epochs)
	}

	// A push query is a subscriber while it streams.
	if got := m.value(t, "weir_push_subscribers"); got != 0 {
		t.Fatalf("%v push subscribers before any", got)
	}
	ctx := context.Background()
	push := h.session()
	stmts, err := push.Parse(ctx, "SELECT * FROM byg EMIT CHANGES", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := scrape(t, url).value(t, "weir_push_subscribers"); got != 1 {
		t.Errorf("%v push subscribers while one streams", got)
	}
	res.Close()
	if got := scrape(t, url).value(t, "weir_push_subscribers"); got != 0 {
		t.Errorf("%v push subscribers after it closed", got)
	}

	// A sink times each epoch from its commit to its delivery (not the
	// contents it starts with), and counts its failed writes.
	mustRun(t, s, "CREATE SINK out FROM byg WITH (connector = 'fake', mode = 'upsert')")
	waitHistory(t, sys, "out", "1: insert - (1,1); insert - (2,2); insert - (3,1)\n")
	sink := []string{"sink", "out"}
	waitMetric(t, url, func(m scraped) error {
		if n, _, ok := m.get("weir_sink_delivery_latency_seconds", sink...); !ok || n != 0 {
			return fmt.Errorf("%v deliveries timed (present %v), want 0", n, ok)
		}
		return nil
	})
	sys.mu.Lock()
	sys.failNext = 2
	sys.mu.Unlock()
	mustRun(t, s, "INSERT INTO t VALUES (5, 3)")
	waitMetric(t, url, func(m scraped) error {
		n, sum, _ := m.get("weir_sink_delivery_latency_seconds", sink...)
		retries := m.value(t, "weir_sink_retries_total", sink...)
		// Two failed writes wait 100ms and 200ms before the third.
		if n != 1 || sum < 0.3 || retries != 2 {
			return fmt.Errorf("%v deliveries timed (%vs in all), %v retries; want 1 (at least 0.3s), 2", n, sum, retries)
		}
		return nil
	})
}

// waitMetric scrapes url until cond holds: a sink's counters move just
// after its delivery.
func waitMetric(t *testing.T, url string, cond func(scraped) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond(scrape(t, url))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSinkDeadLettersMetric checks that /metrics counts what a sink gave
// up delivering.
func TestSinkDeadLettersMetric(t *testing.T) {
	sys := newFakeSystem()
	conn := letterConnector{fakeConnector{newFakeLog(), sys}, new(bool), make(chan map[string]string, 1)}
	h := newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"letters": conn}})
	url := metricsURL(t, h)
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY, v TEXT)")
	mustRun(t, s, "CREATE SINK out FROM t WITH (connector = 'letters')")
	mustRun(t, s, "INSERT INTO t VALUES (1, 'ok'), (2, 'bad'), (3, 'bad')")
	waitMetric(t, url, func(m scraped) error {
		if n := m.value(t, "weir_sink_dead_letters_total", "sink", "out"); n != 2 {
			return fmt.Errorf("%v dead letters, want 2", n)
		}
		return nil
	})
}
