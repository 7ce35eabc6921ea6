package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// benchValue is a JSON record of about 200 bytes.
var benchValue = fmt.Appendf(nil, `{"id":%d,"customer":"%s","country":"%s","rate":%d}`, 123456, "customer-with-a-longish-name-0000000000000000000000000000", "Country-name-that-pads-the-record-to-about-two-hundred-bytes-000000000000000", 42)

// BenchmarkReader reads 1M records of ~200 bytes (3 partitions) from an
// in-process cluster, from earliest to the end, with a fresh Reader each
// iteration.
func BenchmarkReader(b *testing.B) {
	const total = 1_000_000
	c := newCluster(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	value := benchValue
	batch := make([]*kgo.Record, 0, 10_000)
	for i := 0; i < total; i += cap(batch) {
		batch = batch[:0]
		for j := range cap(batch) {
			batch = append(batch, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "%d", i+j), Value: value})
		}
		if err := cl.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	cl.Close()

	var read int
	for b.Loop() {
		r, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{topic}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n := 0
		for n < total {
			batch, err := r.Poll(ctx, 4096)
			if err != nil {
				b.Fatalf("after %d records: %v", n, err)
			}
			n += len(batch.Records)
		}
		cancel()
		r.Close()
		read += n
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteEpoch writes epochs of 1,000 keyed records of ~200 bytes to
// an in-process cluster (3 partitions): each one Kafka transaction, or, for
// a dead-letter writer, acknowledged records without one.
func BenchmarkWriteEpoch(b *testing.B) {
	const perEpoch = 1000
	msgs := make([]Message, perEpoch)
	var bytes int
	for i := range msgs {
		msgs[i] = Message{Key: fmt.Appendf(nil, "key-%d", i), Value: benchValue}
		bytes += len(msgs[i].Key) + len(msgs[i].Value)
	}
	for _, bc := range []struct{ name, txn string }{{"transactional", txnID}, {"idempotent", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newCluster(b)
			w := newWriter(b, c, WriterOptions{TransactionalID: bc.txn})
			var seq uint64
			for b.Loop() {
				seq++
				if err := w.WriteEpoch(context.Background(), seq, msgs); err != nil {
					b.Fatal(err)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(seq*perEpoch)/secs, "records/s")
			b.ReportMetric(float64(seq)*float64(bytes)/secs/1e6, "MB/s")
		})
	}
}
