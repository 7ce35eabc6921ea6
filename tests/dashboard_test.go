package tests

// The Grafana dashboard shipped in deploy/grafana charts Weir's /metrics:
// it must be valid, take its Prometheus data source from a variable, and
// query only metrics a running Weir exports.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

const dashboardPath = "../deploy/grafana/weir.json"

type grafanaDataSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaPanel struct {
	ID         int                `json:"id"`
	Type       string             `json:"type"`
	Title      string             `json:"title"`
	DataSource *grafanaDataSource `json:"datasource"`
	Targets    []struct {
		DataSource *grafanaDataSource `json:"datasource"`
		Expr       string             `json:"expr"`
		RefID      string             `json:"refId"`
	} `json:"targets"`
}

type grafanaDashboard struct {
	Title         string         `json:"title"`
	UID           string         `json:"uid"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// loadDashboard reads the dashboard and checks its shape: what Grafana
// needs to import it, and every query on the ${datasource} variable.
func loadDashboard(t *testing.T) (grafanaDashboard, []string) {
	t.Helper()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, schemaVersion %d, %d panels", dashboardPath, d.Title, d.UID, d.SchemaVersion, len(d.Panels))
	}
	hasVar := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasVar = true
		}
	}
	if !hasVar {
		t.Errorf("%s: no Prometheus data source variable named datasource", dashboardPath)
	}
	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.DataSource == nil || p.DataSource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %+v, %d queries; want ${datasource} and a query", p.Title, p.DataSource, len(p.Targets))
		}
		for _, q := range p.Targets {
			if q.DataSource == nil || q.DataSource.UID != "${datasource}" || q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q: query %q (refId %q) on %+v", p.Title, q.Expr, q.RefID, q.DataSource)
			}
			exprs = append(exprs, q.Expr)
		}
	}
	return d, exprs
}

// metricNames are the names of Weir's, Go's and the process's metrics the
// queries read.
var metricName = regexp.MustCompile(`\b(?:weir|go|process)_[a-z0-9_]+\b`)

// scrapeFamilies parses /metrics with Prometheus's text parser.
func scrapeFamilies(t *testing.T, w *weirtest.Weir) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+w.HTTPAddr()+"/metrics", nil)
	if i := slices.Index(w.Args, "--http-token"); i >= 0 && i+1 < len(w.Args) {
		req.Header.Set("Authorization", "Bearer "+w.Args[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
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

// family is the family a queried name belongs to: a histogram's or
// summary's _bucket, _count and _sum series are its own.
func family(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f := fams[name]; f != nil {
		return f
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := fams[base]; f != nil && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				return f
			}
		}
	}
	return nil
}

// TestGrafanaDashboard runs a small pipeline (a Kafka source, a view, a
// sink) so that every labelled series exists, then checks that each
// metric the dashboard queries is one Weir exports, with a series.
func TestGrafanaDashboard(t *testing.T) {
	_, exprs := loadDashboard(t)
	k := startKafka(t)
	mustTopic(t, k, "dash", 2)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SOURCE dash (id BIGINT, g INT) WITH (connector='kafka', topic='dash', format='json')`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW dash_by_g AS SELECT g, count(*) AS n FROM dash GROUP BY g`)
	mustExec(t, ctx, c, `CREATE SINK dash_out FROM dash_by_g WITH (connector='kafka', topic='dash_out', format='json', mode='upsert')`)
	mustExec(t, ctx, c, `CREATE TABLE dash_events (ts TIMESTAMP, WATERMARK FOR ts AS ts)`)
	mustExec(t, ctx, c, `INSERT INTO dash_events VALUES ('2026-01-01 10:00:00')`)
	var recs []weirtest.Record
	for i := range 40 {
		recs = append(recs, weirtest.Record{Value: fmt.Appendf(nil, `{"id":%d,"g":%d}`, i, i%4)})
	}
	recs = append(recs, weirtest.Record{Value: []byte(`not json`)})
	mustProduce(t, k, "dash", -1, recs...)
	waitInt(t, c, 20*time.Second, "dash", `SELECT count(*) FROM dash`, 40)
	waitSinkCaughtUp(t, ctx, c, "dash_out", 20*time.Second)

	// Once the source caught up, its lag is 0 in every partition it read.
	var fams map[string]*dto.MetricFamily
	waitFor(t, 10*time.Second, "source lag 0", func() error {
		fams = scrapeFamilies(t, w)
		f := fams["weir_source_lag_records"]
		if f == nil || len(f.Metric) == 0 {
			return fmt.Errorf("no weir_source_lag_records")
		}
		var lags []string
		caughtUp := true
		for _, m := range f.Metric {
			lags = append(lags, fmt.Sprintf("%v=%v", m.GetLabel(), m.GetGauge().GetValue()))
			caughtUp = caughtUp && m.GetGauge().GetValue() == 0
		}
		if !caughtUp {
			return fmt.Errorf("lag %s", strings.Join(lags, ", "))
		}
		return nil
	})
	var names []string
	for _, e := range exprs {
		names = append(names, metricName.FindAllString(e, -1)...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 30 {
		t.Fatalf("the dashboard queries only %d metrics: %v", len(names), names)
	}
	for _, name := range names {
		f := family(fams, name)
		if f == nil {
			t.Errorf("the dashboard queries %s; /metrics has no such metric", name)
		} else if len(f.Metric) == 0 {
			t.Errorf("the dashboard queries %s; /metrics has no series of it", name)
		}
	}
}
