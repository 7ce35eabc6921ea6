package coord

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/server"
)

// BenchmarkIngestHTTP measures POST /v1/ingest over loopback HTTP into a
// table, 10,000 NDJSON rows per request, each request one transaction
// (committed with its fsync): JSON decoding, typing, the insert and the
// commit, as a client sees them.
func BenchmarkIngestHTTP(b *testing.B) {
	const rows = 10_000
	h := newHarness(&testing.T{}, b.TempDir())
	defer h.close()
	if _, err := run(&testing.T{}, h.session(), "CREATE TABLE bench (id BIGINT PRIMARY KEY, grp INTEGER, name TEXT, amount DOUBLE PRECISION)"); err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Options{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, h.c)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	url := "http://" + srv.HTTPAddr().String() + "/v1/ingest/bench"
	next, bytes := 0, 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		var sb strings.Builder
		for range rows {
			fmt.Fprintf(&sb, `{"id": %d, "grp": %d, "name": "name-%d", "amount": %d.5}`+"\n", next, next%1000, next%977, next%100)
			next++
		}
		body := sb.String()
		bytes += len(body)
		b.StartTimer()
		resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf(`{"accepted":%d,"rejected":[],"rejected_count":0}`+"\n", rows); resp.StatusCode != 200 || string(answer) != want {
			b.Fatalf("%d %s", resp.StatusCode, answer)
		}
	}
	b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(bytes)/(1<<20)/b.Elapsed().Seconds(), "MiB/s")
}
