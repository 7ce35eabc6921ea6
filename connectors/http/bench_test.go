package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// BenchmarkWrite writes epochs of 5,000 inserts of (id, customer,
// country, rate, ts) to a local receiver that reads and drops the
// bodies: 10 requests of 500 changes per epoch.
func BenchmarkWrite(b *testing.B) {
	for _, batchFormat := range []string{"array", "ndjson"} {
		b.Run(batchFormat, func(b *testing.B) {
			var bytes atomic.Int64
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				n, _ := io.Copy(io.Discard, r.Body)
				bytes.Add(n)
				w.WriteHeader(nethttp.StatusNoContent)
			}))
			defer srv.Close()
			rel := &catalog.Relation{ID: 7, Name: "rates", Kind: catalog.Sink, Columns: []catalog.Column{
				{Name: "id", Type: types.Int64}, {Name: "customer", Type: types.Text}, {Name: "country", Type: types.Text},
				{Name: "rate", Type: types.Int32}, {Name: "ts", Type: types.Timestamp},
			}}
			s, err := (&Connector{}).OpenSink(context.Background(), executor.SinkConfig{Name: rel.Name, Relation: rel, Options: map[string]string{
				"connector": "http", "url": srv.URL, "batch.max_rows": "500", "batch.format": batchFormat,
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			changes := make([]executor.Change, 5000)
			for i := range changes {
				changes[i] = executor.Change{Op: executor.ChangeInsert, After: types.Row{
					types.NewInt64(int64(i)), types.NewText("customer-" + strconv.Itoa(i%977)), types.NewText("NL"),
					types.NewInt32(int32(i % 10)), types.NewTimestamp(1_767_225_600_000_000 + int64(i)*1000),
				}}
			}
			var seq uint64
			for b.Loop() {
				seq++
				if err := s.Write(context.Background(), seq, changes); err != nil {
					b.Fatal(err)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(seq)*float64(len(changes))/secs, "rows/s")
			b.ReportMetric(float64(bytes.Load())/secs/1e6, "MB/s")
		})
	}
}
