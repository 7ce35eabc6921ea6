package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirdb/weir/storage"
)

// storeCollector reports the store's numbers (storage.Stats), read at each
// scrape. It lives here because only the wiring sees both storage and the
// registry: the protocol server does not import storage.
type storeCollector struct {
	db    *storage.DB
	descs []storeMetric
}

type storeMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*storage.Stats) float64
}

func newStoreCollector(db *storage.DB) *storeCollector {
	m := func(name, help string, kind prometheus.ValueType, value func(*storage.Stats) float64) storeMetric {
		return storeMetric{prometheus.NewDesc(name, help, nil, nil), kind, value}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &storeCollector{db: db, descs: []storeMetric{
		m("weir_storage_disk_usage_bytes", "Bytes the store takes on disk: tables and write-ahead log.", gauge,
			func(s *storage.Stats) float64 { return float64(s.DiskBytes) }),
		m("weir_storage_tables", "Live tables of the store, all levels.", gauge,
			func(s *storage.Stats) float64 { return float64(s.Tables) }),
		m("weir_storage_memtable_bytes", "Bytes of the store's memtables, the mutable one and those waiting to be flushed.", gauge,
			func(s *storage.Stats) float64 { return float64(s.MemtableBytes) }),
		m("weir_storage_wal_written_bytes_total", "Bytes written to the store's write-ahead log.", counter,
			func(s *storage.Stats) float64 { return float64(s.WALBytesWritten) }),
		m("weir_storage_flushes_total", "Memtables flushed to tables.", counter,
			func(s *storage.Stats) float64 { return float64(s.Flushes) }),
		m("weir_storage_compactions_total", "Compactions of the store's tables.", counter,
			func(s *storage.Stats) float64 { return float64(s.Compactions) }),
		m("weir_storage_compactions_running", "Compactions in progress.", gauge,
			func(s *storage.Stats) float64 { return float64(s.CompactionsInProgress) }),
		m("weir_storage_compaction_debt_bytes", "Estimated bytes compactions must rewrite to bring the levels into shape.", gauge,
			func(s *storage.Stats) float64 { return float64(s.CompactionDebtBytes) }),
		m("weir_storage_read_amplification", "Tables a point read may have to search (level 0 sublevels and other non-empty levels).", gauge,
			func(s *storage.Stats) float64 { return float64(s.ReadAmplification) }),
		m("weir_storage_block_cache_bytes", "Bytes in the store's block cache.", gauge,
			func(s *storage.Stats) float64 { return float64(s.BlockCacheBytes) }),
		m("weir_storage_block_cache_hits_total", "Block cache hits.", counter,
			func(s *storage.Stats) float64 { return float64(s.BlockCacheHits) }),
		m("weir_storage_block_cache_misses_total", "Block cache misses.", counter,
			func(s *storage.Stats) float64 { return float64(s.BlockCacheMisses) }),
	}}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.descs {
		ch <- m.desc
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.db.Stats()
	for _, m := range c.descs {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&st))
	}
}
