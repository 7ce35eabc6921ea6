package server

import (
	"math"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram counts observations into fixed buckets for /metrics. The
// engine keeps one for each thing it times and observes into it; the
// server reads it at every scrape, as it asks for the engine's counters.
// Observe is safe for concurrent use and takes no lock. A scrape that
// races an Observe may see the observation in the count and not yet in
// the sum: a scrape is a sample.
type Histogram struct {
	bounds []float64       // upper bounds, ascending
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // math.Float64bits of the sum
}

// NewHistogram returns a histogram of n buckets whose upper bounds grow
// from first by factor (first, first*factor, ...), and the +Inf bucket.
func NewHistogram(first, factor float64, n int) *Histogram {
	h := &Histogram{bounds: make([]float64, n), counts: make([]atomic.Uint64, n+1)}
	for i, b := 0, first; i < n; i, b = i+1, b*factor {
		h.bounds[i] = b
	}
	return h
}

// Observe counts v.
func (h *Histogram) Observe(v float64) {
	h.counts[sort.SearchFloat64s(h.bounds, v)].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// metric is h as a Prometheus histogram of desc.
func (h *Histogram) metric(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.bounds))
	var n uint64
	for i, b := range h.bounds {
		n += h.counts[i].Load()
		buckets[b] = n
	}
	n += h.counts[len(h.bounds)].Load()
	return prometheus.MustNewConstHistogram(desc, n, math.Float64frombits(h.sum.Load()), buckets, labels...)
}
