package format

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// benchColumns is the rates source with an amount: six columns.
var benchColumns = []Column{
	{Name: "id", Type: types.Int64},
	{Name: "customer", Type: types.Varchar},
	{Name: "country", Type: types.Varchar},
	{Name: "rate", Type: types.Int32},
	{Name: "amount", Type: types.Float64},
	{Name: "ts", Type: types.Timestamp},
}

var benchCountries = []string{"Netherlands", "Belgium", "United Kingdom", "Germany", "France", "Portugal", "Norway"}

// benchJSON returns n distinct ~200-byte JSON records.
func benchJSON(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id": %d, "customer": "Customer number %06d of the west region at account desk Rotterdam", "country": "%s", "rate": %d, "amount": %d.%02d, "ts": "2024-05-%02dT10:%02d:%02d.%03dZ"}`,
			1000000+i*7919, i, benchCountries[i%len(benchCountries)], i%100, i%5000, i%100, 1+i%28, i%60, (i/60)%60, i%1000)
	}
	return out
}

// benchDecode decodes records round-robin and reports records/s.
func benchDecode(b *testing.B, d Decoder, recs [][]byte) {
	ctx := context.Background()
	var c Change
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if err := d.Decode(ctx, nil, recs[i], &c); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
	reportRates(b, cpu0)
}

// reportRates reports records per second of wall time, and per second of
// the process's CPU time (GC included): on a shared machine the second
// is the per-core figure.
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDecodeJSON(b *testing.B) {
	recs := benchJSON(1024)
	b.Logf("record: %d bytes: %s", len(recs[1]), recs[1])
	benchDecode(b, mustDecoder(b, Options{Schema: Schema{Columns: benchColumns}}), recs)
}

// toRows decodes JSON records into rows, to encode them otherwise.
func toRows(b testing.TB, recs [][]byte) []types.Row {
	d := mustDecoder(b, Options{Schema: Schema{Columns: benchColumns}})
	rows := make([]types.Row, len(recs))
	for i, r := range recs {
		var c Change
		if err := d.Decode(context.Background(), nil, r, &c); err != nil {
			b.Fatal(err)
		}
		rows[i] = c.After
	}
	return rows
}

func BenchmarkDecodeAvro(b *testing.B) {
	reg := memRegistry{}
	enc, err := NewAvroEncoder(context.Background(), reg, "rates-value", "rates", benchColumns)
	if err != nil {
		b.Fatal(err)
	}
	rows := toRows(b, benchJSON(1024))
	recs := make([][]byte, len(rows))
	for i, r := range rows {
		if recs[i], err = enc.AppendRow(nil, r); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("record: %d bytes", len(recs[1]))
	benchDecode(b, mustDecoder(b, Options{Schema: Schema{Columns: benchColumns}, Format: Avro, Registry: reg}), recs)
}

func BenchmarkDecodeCSV(b *testing.B) {
	rows := toRows(b, benchJSON(1024))
	recs := make([][]byte, len(rows))
	for i, r := range rows {
		var line []byte
		for j, d := range r {
			if j > 0 {
				line = append(line, ',')
			}
			line = types.AppendText(line, d, nil)
		}
		recs[i] = line
	}
	b.Logf("record: %d bytes: %s", len(recs[1]), recs[1])
	benchDecode(b, mustDecoder(b, Options{Schema: Schema{Columns: benchColumns}, Format: CSV}), recs)
}

func BenchmarkEncodeJSON(b *testing.B) {
	rows := toRows(b, benchJSON(1024))
	enc := NewJSONEncoder(benchColumns)
	var buf []byte
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		buf, _ = enc.AppendRow(buf[:0], rows[i])
		if i++; i == len(rows) {
			i = 0
		}
	}
	reportRates(b, cpu0)
}

// BenchmarkDecodeJSONBatch is a source's loop: records decoded into a
// batch of changes, pushed on when full.
func BenchmarkDecodeJSONBatch(b *testing.B) {
	recs := benchJSON(1024)
	d := mustDecoder(b, Options{Schema: Schema{Columns: benchColumns}})
	ctx := context.Background()
	var batch executor.Batch
	var c Change
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if err := d.Decode(ctx, nil, recs[i], &c); err != nil {
			b.Fatal(err)
		}
		c.AppendTo(&batch, nil)
		if i++; i == len(recs) {
			i = 0
			batch.Reset()
		}
	}
	reportRates(b, cpu0)
}

// The hot path allocates only the strings a row keeps (and its share of
// a row chunk): no maps, no boxing, no copy of the record.
func TestDecodeAllocations(t *testing.T) {
	recs := benchJSON(4)
	for _, f := range []Format{JSON, Avro, CSV} {
		o := Options{Schema: Schema{Columns: benchColumns}, Format: f, RowChunk: 256} // one chunk, taken by the warm-up run
		in := recs[1]
		switch f {
		case Avro:
			reg := memRegistry{}
			o.Registry = reg
			enc, err := NewAvroEncoder(context.Background(), reg, "", "rates", benchColumns)
			if err != nil {
				t.Fatal(err)
			}
			if in, err = enc.AppendRow(nil, toRows(t, recs[1:2])[0]); err != nil {
				t.Fatal(err)
			}
		case CSV:
			in = []byte("1,Customer number 000001 of the west region at account desk Rotterdam,Belgium,1,1.01,2024-05-02 10:01:00.001")
		}
		d := mustDecoder(t, o)
		var c Change
		allocs := testing.AllocsPerRun(100, func() {
			if err := d.Decode(context.Background(), nil, in, &c); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 2 { // customer and country
			t.Errorf("%s: %.1f allocations per record", f, allocs)
		}
	}
}
