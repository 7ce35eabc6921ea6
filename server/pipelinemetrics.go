package server

import "github.com/prometheus/client_golang/prometheus"

// pipelineCollector reports the engine's sources and sinks, asking it at
// each scrape: the counters live in the engine, and a dropped source
// simply stops being reported.
type pipelineCollector struct {
	eng PipelineReporter

	srcRecords, srcErrors, srcBytes, srcUp, srcLast *prometheus.Desc
	sinkChanges, sinkDelivered, sinkPending, sinkUp *prometheus.Desc
}

func newPipelineCollector(eng PipelineReporter) *pipelineCollector {
	src := []string{"source"}
	sink := []string{"sink"}
	return &pipelineCollector{
		eng:           eng,
		srcRecords:    prometheus.NewDesc("weir_source_records_total", "Records a source applied.", src, nil),
		srcErrors:     prometheus.NewDesc("weir_source_errors_total", "Records a source could not decode or apply (sent to its error relation, skipped, or where it failed).", src, nil),
		srcBytes:      prometheus.NewDesc("weir_source_bytes_total", "Bytes of keys and values a source read.", src, nil),
		srcUp:         prometheus.NewDesc("weir_source_up", "1 while a source runs, 0 while it retries or after it failed.", src, nil),
		srcLast:       prometheus.NewDesc("weir_source_last_record_timestamp_seconds", "When a source last applied records.", src, nil),
		sinkChanges:   prometheus.NewDesc("weir_sink_changes_total", "Changes a sink delivered.", sink, nil),
		sinkDelivered: prometheus.NewDesc("weir_sink_delivered_epoch", "Sequence number of the last epoch a sink delivered.", sink, nil),
		sinkPending:   prometheus.NewDesc("weir_sink_pending_epochs", "Epochs waiting in a sink's log.", sink, nil),
		sinkUp:        prometheus.NewDesc("weir_sink_up", "1 while a sink delivers, 0 while it retries.", sink, nil),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.srcRecords, c.srcErrors, c.srcBytes, c.srcUp, c.srcLast, c.sinkChanges, c.sinkDelivered, c.sinkPending, c.sinkUp} {
		ch <- d
	}
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	up := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, s := range c.eng.SourceStats() {
		ch <- prometheus.MustNewConstMetric(c.srcRecords, prometheus.CounterValue, float64(s.Records), s.Name)
		ch <- prometheus.MustNewConstMetric(c.srcErrors, prometheus.CounterValue, float64(s.Errors), s.Name)
		ch <- prometheus.MustNewConstMetric(c.srcBytes, prometheus.CounterValue, float64(s.Bytes), s.Name)
		ch <- prometheus.MustNewConstMetric(c.srcUp, prometheus.GaugeValue, up(s.Running), s.Name)
		if s.LastEvent != 0 {
			ch <- prometheus.MustNewConstMetric(c.srcLast, prometheus.GaugeValue, float64(s.LastEvent)/1e9, s.Name)
		}
	}
	for _, s := range c.eng.SinkStats() {
		ch <- prometheus.MustNewConstMetric(c.sinkChanges, prometheus.CounterValue, float64(s.Changes), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkDelivered, prometheus.GaugeValue, float64(s.Delivered), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkPending, prometheus.GaugeValue, float64(s.Pending), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkUp, prometheus.GaugeValue, up(s.Running), s.Name)
	}
}
