package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// pipelineCollector reports the engine's sources, views and sinks, asking
// it at each scrape: the counters live in the engine, and a dropped source
// simply stops being reported.
type pipelineCollector struct {
	eng PipelineReporter

	srcRecords, srcErrors, srcBytes, srcUp, srcLast, srcLag *prometheus.Desc
	viewIn, viewOut, viewKeys, viewBytes                    *prometheus.Desc
	sinkChanges, sinkDelivered, sinkPending, sinkUp         *prometheus.Desc
	sinkRetries, sinkDeadLetters, sinkLatency               *prometheus.Desc
	epochCommit, subscribers                                *prometheus.Desc
	watermark, late                                         *prometheus.Desc
}

func newPipelineCollector(eng PipelineReporter) *pipelineCollector {
	src := []string{"source"}
	view := []string{"view"}
	sink := []string{"sink"}
	return &pipelineCollector{
		eng:             eng,
		srcRecords:      prometheus.NewDesc("weir_source_records_total", "Records a source applied.", src, nil),
		srcErrors:       prometheus.NewDesc("weir_source_errors_total", "Records a source could not decode or apply (sent to its error relation, skipped, or where it failed).", src, nil),
		srcBytes:        prometheus.NewDesc("weir_source_bytes_total", "Bytes of keys and values a source read.", src, nil),
		srcUp:           prometheus.NewDesc("weir_source_up", "1 while a source runs, 0 while it retries or after it failed.", src, nil),
		srcLast:         prometheus.NewDesc("weir_source_last_record_timestamp_seconds", "When a source last applied records.", src, nil),
		srcLag:          prometheus.NewDesc("weir_source_lag_records", "Records of a partition after the last one a source committed (the partition's end as of the source's last fetch).", []string{"source", "topic", "partition"}, nil),
		viewIn:          prometheus.NewDesc("weir_view_changes_in_total", "Changes of its inputs a materialized view took in, in committed epochs.", view, nil),
		viewOut:         prometheus.NewDesc("weir_view_changes_out_total", "Changes of its rows a materialized view made, in committed epochs.", view, nil),
		viewKeys:        prometheus.NewDesc("weir_view_state_cached_keys", "Keys of a materialized view's operator state held in memory (groups, join keys, distinct rows).", view, nil),
		viewBytes:       prometheus.NewDesc("weir_view_state_cached_bytes", "Estimated bytes of a materialized view's operator state held in memory (bounded together by --state-cache-size).", view, nil),
		sinkChanges:     prometheus.NewDesc("weir_sink_changes_total", "Changes a sink delivered.", sink, nil),
		sinkDelivered:   prometheus.NewDesc("weir_sink_delivered_epoch", "Sequence number of the last epoch a sink delivered.", sink, nil),
		sinkPending:     prometheus.NewDesc("weir_sink_pending_epochs", "Epochs waiting in a sink's log.", sink, nil),
		sinkUp:          prometheus.NewDesc("weir_sink_up", "1 while a sink delivers, 0 while it retries.", sink, nil),
		sinkRetries:     prometheus.NewDesc("weir_sink_retries_total", "Failed attempts of a sink to reach its system or deliver, each retried after a backoff.", sink, nil),
		sinkDeadLetters: prometheus.NewDesc("weir_sink_dead_letters_total", "Parts of epochs a sink gave up delivering, recorded in its dead-letter relation.", sink, nil),
		sinkLatency:     prometheus.NewDesc("weir_sink_delivery_latency_seconds", "Time from an epoch's commit to its delivery by a sink (epochs committed since the server started).", sink, nil),
		epochCommit:     prometheus.NewDesc("weir_epoch_commit_duration_seconds", "Time to commit an epoch: maintain the views it changes and write it durably.", nil, nil),
		subscribers:     prometheus.NewDesc("weir_push_subscribers", "Push queries (EMIT CHANGES) streaming changes to clients.", nil, nil),
		watermark:       prometheus.NewDesc("weir_watermark_seconds", "A relation's watermark: the event time (unix seconds) below which its rows are late.", []string{"relation"}, nil),
		late:            prometheus.NewDesc("weir_late_rows_total", "Rows of a relation older than its watermark: dropped, or applied as corrections within its allowed lateness.", []string{"relation", "action"}, nil),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.srcRecords, c.srcErrors, c.srcBytes, c.srcUp, c.srcLast, c.srcLag,
		c.viewIn, c.viewOut, c.viewKeys, c.viewBytes,
		c.sinkChanges, c.sinkDelivered, c.sinkPending, c.sinkUp, c.sinkRetries, c.sinkDeadLetters, c.sinkLatency,
		c.epochCommit, c.subscribers, c.watermark, c.late,
	} {
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
		for _, l := range s.Lag {
			ch <- prometheus.MustNewConstMetric(c.srcLag, prometheus.GaugeValue, float64(l.Records), s.Name, l.Topic, strconv.Itoa(int(l.Partition)))
		}
	}
	for _, v := range c.eng.ViewStats() {
		ch <- prometheus.MustNewConstMetric(c.viewIn, prometheus.CounterValue, float64(v.ChangesIn), v.Name)
		ch <- prometheus.MustNewConstMetric(c.viewOut, prometheus.CounterValue, float64(v.ChangesOut), v.Name)
		ch <- prometheus.MustNewConstMetric(c.viewKeys, prometheus.GaugeValue, float64(v.CachedKeys), v.Name)
		ch <- prometheus.MustNewConstMetric(c.viewBytes, prometheus.GaugeValue, float64(v.CachedBytes), v.Name)
	}
	for _, s := range c.eng.SinkStats() {
		ch <- prometheus.MustNewConstMetric(c.sinkChanges, prometheus.CounterValue, float64(s.Changes), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkDelivered, prometheus.GaugeValue, float64(s.Delivered), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkPending, prometheus.GaugeValue, float64(s.Pending), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkUp, prometheus.GaugeValue, up(s.Running), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkRetries, prometheus.CounterValue, float64(s.Retries), s.Name)
		ch <- prometheus.MustNewConstMetric(c.sinkDeadLetters, prometheus.CounterValue, float64(s.DeadLetters), s.Name)
		if s.DeliveryLatency != nil {
			ch <- s.DeliveryLatency.metric(c.sinkLatency, s.Name)
		}
	}
	e := c.eng.EngineStats()
	if e.EpochCommit != nil {
		ch <- e.EpochCommit.metric(c.epochCommit)
	}
	ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(e.Subscribers))
	for _, et := range e.EventTime {
		if et.HasWatermark {
			ch <- prometheus.MustNewConstMetric(c.watermark, prometheus.GaugeValue, float64(et.Watermark)/1e9, et.Relation)
		}
		ch <- prometheus.MustNewConstMetric(c.late, prometheus.CounterValue, float64(et.LateDropped), et.Relation, "dropped")
		ch <- prometheus.MustNewConstMetric(c.late, prometheus.CounterValue, float64(et.LateApplied), et.Relation, "applied")
	}
}
