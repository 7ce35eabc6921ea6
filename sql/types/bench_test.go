package types

import (
	"testing"
	"time"
)

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkParseTextInt64(b *testing.B) {
	for b.Loop() {
		if _, err := ParseText(Int64, "1234567890", nil); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "values/s")
}

func BenchmarkAppendTextInt64(b *testing.B) {
	d := NewInt64(1234567890)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendText(buf[:0], d, nil)
	}
	reportRate(b, "values/s")
}

func BenchmarkParseTextTimestamp(b *testing.B) {
	for b.Loop() {
		if _, err := ParseText(Timestamp, "2024-01-02 03:04:05.123456", nil); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "values/s")
}

func BenchmarkParseTextTimestampTZ(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	for b.Loop() {
		if _, err := ParseText(TimestampTZ, "2024-01-02 03:04:05.123", loc); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "values/s")
}

func BenchmarkAppendTextTimestamp(b *testing.B) {
	d := mustParse(b, Timestamp, "2024-01-02 03:04:05.123456")
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendText(buf[:0], d, nil)
	}
	reportRate(b, "values/s")
}

func BenchmarkAppendTextTimestampTZ(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	d := mustParse(b, TimestampTZ, "2024-01-02 03:04:05.123456+00")
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendText(buf[:0], d, loc)
	}
	reportRate(b, "values/s")
}

func BenchmarkAppendTextFloat64(b *testing.B) {
	d := NewFloat64(1234.5678)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendText(buf[:0], d, nil)
	}
	reportRate(b, "values/s")
}

func BenchmarkAppendKey(b *testing.B) {
	row := Row{NewInt64(42), NewText("customer-42"), mustParse(b, Timestamp, "2024-01-02 03:04:05"), NewFloat64(3.25),
		mustParse(b, Numeric, "123.45")}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = buf[:0]
		for _, d := range row {
			buf = AppendKey(buf, d)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCompareInt(b *testing.B) {
	x, y := NewInt64(1), NewInt32(2)
	for b.Loop() {
		if Compare(x, y) != -1 {
			b.Fatal("bad")
		}
	}
	reportRate(b, "compares/s")
}
