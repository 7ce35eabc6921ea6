package storage

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// sameDatum is exact equality (the row value keeps representation: 1.0 is
// not 1.00 here, '1 month' is not '30 days').
func sameDatum(a, b types.Datum) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull()
	}
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case types.KindNumeric:
		x, y := a.Decimal(), b.Decimal()
		return x.Form == y.Form && x.Negative == y.Negative && x.Exponent == y.Exponent && x.Coeff.Cmp(&y.Coeff) == 0
	case types.KindFloat32, types.KindFloat64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float()) || (math.IsNaN(a.Float()) && math.IsNaN(b.Float()))
	case types.KindInterval:
		am, ad, au := a.IntervalParts()
		bm, bd, bu := b.IntervalParts()
		return am == bm && ad == bd && au == bu
	}
	return a.Int() == b.Int() && a.Str() == b.Str()
}

var allKinds = []string{"bool", "int16", "int32", "int64", "float32", "float64", "numeric", "text", "bytea",
	"jsonb", "date", "time", "timestamp", "timestamptz", "interval"}

func allColumns() []catalog.Column {
	cols := make([]catalog.Column, len(allKinds))
	for i, k := range allKinds {
		cols[i] = catalog.Column{Name: "c_" + k, Type: typeOf(k)}
	}
	return cols
}

func TestRowRoundTrip(t *testing.T) {
	cols := allColumns()
	r := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	var dst types.Row
	for i := range 3000 {
		row := make(types.Row, len(cols))
		for j, k := range allKinds {
			if r.IntN(5) == 0 || i == 0 {
				continue // NULL; row 0 is all NULLs
			}
			row[j] = gens[k](r)
		}
		var err error
		if buf, err = EncodeRow(buf[:0], row, cols); err != nil {
			t.Fatal(err)
		}
		if dst, err = DecodeRow(dst, buf, cols); err != nil {
			t.Fatal(err)
		}
		if len(dst) != len(row) {
			t.Fatalf("decoded %d columns, want %d", len(dst), len(row))
		}
		for j := range row {
			if !sameDatum(row[j], dst[j]) {
				t.Fatalf("row %d column %s: %v != %v", i, allKinds[j], fmtD(row[j]), fmtD(dst[j]))
			}
		}
	}
}

func TestRowBigNumeric(t *testing.T) {
	cols := []catalog.Column{{Name: "n", Type: types.Numeric}}
	for _, s := range []string{"123456789012345678901234567890.123456789", "-1E-1000", "NaN", "-Infinity", "0.00"} {
		d, _, err := apd.NewFromString(s)
		if err != nil {
			t.Fatal(err)
		}
		row := types.Row{types.NewNumeric(d)}
		b, err := EncodeRow(nil, row, cols)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRow(nil, b, cols)
		if err != nil || !sameDatum(got[0], row[0]) {
			t.Fatalf("%s: got %v, %v", s, got, err)
		}
	}
}

func TestRowSchemaEvolution(t *testing.T) {
	old := []catalog.Column{{Name: "a", Type: types.Int64}, {Name: "b", Type: types.Text}}
	grown := append(append([]catalog.Column(nil), old...), catalog.Column{Name: "c", Type: types.Float64})
	b, err := EncodeRow(nil, types.Row{types.NewInt64(1), types.NewText("x")}, old)
	if err != nil {
		t.Fatal(err)
	}
	row, err := DecodeRow(nil, b, grown)
	if err != nil {
		t.Fatal(err)
	}
	if len(row) != 3 || row[0].Int() != 1 || row[1].Str() != "x" || !row[2].IsNull() {
		t.Fatalf("decoded %v", row)
	}
	row, err = DecodeRow(nil, b, old[:1])
	if err != nil || len(row) != 1 || row[0].Int() != 1 {
		t.Fatalf("narrow decode %v %v", row, err)
	}
}

func TestRowEncodeErrors(t *testing.T) {
	cols := []catalog.Column{{Name: "a", Type: types.Int64}}
	if _, err := EncodeRow(nil, types.Row{types.NewText("x")}, cols); err == nil {
		t.Error("text in int column: no error")
	}
	if _, err := EncodeRow(nil, types.Row{}, cols); err == nil {
		t.Error("short row: no error")
	}
	if _, err := EncodeRow(nil, types.Row{types.NewInt32(3)}, cols); err != nil {
		t.Errorf("int4 in int8 column: %v", err)
	}
}

// TestRowDecodeCorrupt feeds truncated and random values: errors, never
// panics.
func TestRowDecodeCorrupt(t *testing.T) {
	cols := allColumns()
	r := rand.New(rand.NewPCG(5, 6))
	row := make(types.Row, len(cols))
	for j, k := range allKinds {
		row[j] = gens[k](r)
	}
	b, err := EncodeRow(nil, row, cols)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := DecodeRow(nil, b[:i], cols); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
	for range 10000 {
		junk := make([]byte, r.IntN(40))
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		_, _ = DecodeRow(nil, junk, cols)
	}
}

func TestDecodeRowAllocs(t *testing.T) {
	cols := []catalog.Column{{Name: "id", Type: types.Int64}, {Name: "a", Type: types.Text},
		{Name: "b", Type: types.Text}, {Name: "f", Type: types.Float64}, {Name: "ts", Type: types.Timestamp}}
	row := types.Row{types.NewInt64(42), types.NewText("alpha"), types.NewText("beta"), types.NewFloat64(1.5), types.NewTimestamp(7)}
	b, err := EncodeRow(nil, row, cols)
	if err != nil {
		t.Fatal(err)
	}
	dst := make(types.Row, 0, len(cols))
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = DecodeRow(dst, b, cols)
	})
	if allocs > 1 {
		t.Fatalf("DecodeRow: %v allocations per row, want at most 1", allocs)
	}
}
