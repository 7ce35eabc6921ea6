package server

import (
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, registered on
// Options.Registry.
type metrics struct {
	connections      prometheus.Gauge
	connectionsTotal prometheus.Counter
	statements       *prometheus.CounterVec   // kind, outcome
	duration         *prometheus.HistogramVec // kind
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_pg_connections",
			Help: "Open PostgreSQL protocol connections.",
		}),
		connectionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_pg_connections_total",
			Help: "PostgreSQL protocol connections accepted.",
		}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_statements_total",
			Help: "Statements executed, by kind (first keyword) and outcome (ok|error).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "weir_statement_duration_seconds",
			Help:    "Statement execution time, by kind (first keyword).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 100µs .. ~26s
		}, []string{"kind"}),
	}
	var err error
	m.connections = register(reg, m.connections, &err)
	m.connectionsTotal = register(reg, m.connectionsTotal, &err)
	m.statements = register(reg, m.statements, &err)
	m.duration = register(reg, m.duration, &err)
	register[prometheus.Collector](reg, collectors.NewGoCollector(), &err)
	register[prometheus.Collector](reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &err)
	return m, err
}

// register registers c on reg, or returns the collector already registered
// under the same description (so that two Servers can share a registry).
func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = err
		}
	}
	return c
}

// statementKinds bounds the kind label's values: the first keyword of a
// statement when it is one of these, else "other".
var statementKinds = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"select", "insert", "update", "delete", "with",
		"values", "table", "create", "drop", "alter",
		"set", "reset", "show", "begin", "start",
		"commit", "rollback", "end", "abort", "copy",
		"explain", "prepare", "execute", "deallocate",
		"discard", "declare", "fetch", "close",
		"truncate", "savepoint", "release", "listen",
		"unlisten", "notify", "grant", "revoke",
		"comment", "analyze", "vacuum", "lock",
	} {
		m[k] = k
	}
	return m
}()

// statementKind is the lower-case first keyword of sql, skipping
// whitespace, comments and opening parentheses.
func statementKind(sql string) string {
	s := sql
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '(':
			s = s[1:]
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return "other"
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return "other"
			}
			s = s[i+2:]
		default:
			// Lower-cased on the stack: this runs for every statement.
			var kw [16]byte
			n := 0
			for n < len(s) && n < len(kw) && (s[n]|0x20 >= 'a' && s[n]|0x20 <= 'z') {
				kw[n] = s[n] | 0x20
				n++
			}
			if k, ok := statementKinds[string(kw[:n])]; ok {
				return k
			}
			return "other"
		}
	}
	return "other"
}
