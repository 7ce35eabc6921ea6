package server

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// reportingEngine is a fakeEngine that reports fixed pipeline stats.
type reportingEngine struct {
	fakeEngine
	sources []SourceStats
	views   []ViewStats
	sinks   []SinkStats
	engine  EngineStats
}

func (e *reportingEngine) SourceStats() []SourceStats { return e.sources }
func (e *reportingEngine) ViewStats() []ViewStats     { return e.views }
func (e *reportingEngine) SinkStats() []SinkStats     { return e.sinks }
func (e *reportingEngine) EngineStats() EngineStats   { return e.engine }

func TestHistogramBuckets(t *testing.T) {
	h := NewHistogram(1, 2, 3) // 1, 2, 4, +Inf
	for _, v := range []float64{0.5, 1, 1.5, 4, 5} {
		h.Observe(v)
	}
	eng := &reportingEngine{engine: EngineStats{EpochCommit: h}}
	fams := scrapeEngine(t, eng)
	m := fams["weir_epoch_commit_duration_seconds"].GetMetric()[0].GetHistogram()
	var got []string
	for _, b := range m.GetBucket() {
		got = append(got, model.SampleValue(b.GetUpperBound()).String()+":"+model.SampleValue(b.GetCumulativeCount()).String())
	}
	// A bound holds the values equal to it (le).
	if want := "1:2 2:3 4:4 +Inf:5"; strings.Join(got, " ") != want || m.GetSampleCount() != 5 || m.GetSampleSum() != 12 {
		t.Errorf("buckets %s, count %d, sum %v; want %s, 5, 12", strings.Join(got, " "), m.GetSampleCount(), m.GetSampleSum(), want)
	}
}

// TestPipelineMetrics checks that /metrics says what the engine reports,
// under the names and labels the dashboard queries.
func TestPipelineMetrics(t *testing.T) {
	latency := NewHistogram(0.001, 2, 18)
	latency.Observe(0.25)
	eng := &reportingEngine{
		sources: []SourceStats{{Name: "rates", Running: true, Records: 10, Bytes: 300, Lag: []PartitionLag{{Topic: "r", Partition: 0, Records: 0}, {Topic: "r", Partition: 2, Records: 7}}}},
		views:   []ViewStats{{Name: "by_country", ChangesIn: 12, ChangesOut: 5, CachedKeys: 3, CachedBytes: 900}},
		sinks:   []SinkStats{{Name: "out", Running: true, Changes: 5, Retries: 2, DeadLetters: 1, DeliveryLatency: latency}},
		engine:  EngineStats{EpochCommit: NewHistogram(0.0001, 2, 18), Subscribers: 4},
	}
	fams := scrapeEngine(t, eng)
	var got []string
	for _, name := range []string{
		"weir_source_records_total", "weir_source_lag_records",
		"weir_view_changes_in_total", "weir_view_changes_out_total", "weir_view_state_cached_keys", "weir_view_state_cached_bytes",
		"weir_sink_retries_total", "weir_sink_dead_letters_total", "weir_sink_delivery_latency_seconds", "weir_epoch_commit_duration_seconds", "weir_push_subscribers",
	} {
		f := fams[name]
		if f == nil {
			t.Errorf("/metrics has no %s", name)
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Histogram != nil:
				v = float64(m.Histogram.GetSampleCount()) // count
			}
			got = append(got, name+"{"+strings.Join(labels, ",")+"} "+f.GetType().String()+" "+model.SampleValue(v).String())
		}
	}
	want := []string{
		"weir_source_records_total{source=rates} COUNTER 10",
		"weir_source_lag_records{partition=0,source=rates,topic=r} GAUGE 0",
		"weir_source_lag_records{partition=2,source=rates,topic=r} GAUGE 7",
		"weir_view_changes_in_total{view=by_country} COUNTER 12",
		"weir_view_changes_out_total{view=by_country} COUNTER 5",
		"weir_view_state_cached_keys{view=by_country} GAUGE 3",
		"weir_view_state_cached_bytes{view=by_country} GAUGE 900",
		"weir_sink_retries_total{sink=out} COUNTER 2",
		"weir_sink_dead_letters_total{sink=out} COUNTER 1",
		"weir_sink_delivery_latency_seconds{sink=out} HISTOGRAM 1",
		"weir_epoch_commit_duration_seconds{} HISTOGRAM 0",
		"weir_push_subscribers{} GAUGE 4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("/metrics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// scrapeEngine serves eng and parses its /metrics with Prometheus's text
// parser.
func scrapeEngine(t *testing.T, eng *reportingEngine) map[string]*dto.MetricFamily {
	t.Helper()
	srv, err := New(Options{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx5(t)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(ctx) })
	resp, err := http.Get("http://" + srv.HTTPAddr().String() + "/metrics")
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
