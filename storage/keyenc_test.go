package storage

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// compareDatums is the test's own SQL comparator (PostgreSQL btree order,
// NULL first) for two datums of the same type family.
func compareDatums(t *testing.T, a, b types.Datum) int {
	t.Helper()
	switch {
	case a.IsNull() && b.IsNull():
		return 0
	case a.IsNull():
		return -1
	case b.IsNull():
		return 1
	}
	switch a.Kind() {
	case types.KindBool:
		return cmp.Compare(a.Int(), b.Int())
	case types.KindInt16, types.KindInt32, types.KindInt64, types.KindDate,
		types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return cmp.Compare(a.Int(), b.Int())
	case types.KindFloat32, types.KindFloat64:
		x, y := a.Float(), b.Float()
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmp.Compare(x, y)
	case types.KindNumeric:
		x, y := a.Decimal(), b.Decimal()
		xn, yn := x.Form == apd.NaN, y.Form == apd.NaN
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return x.Cmp(y)
	case types.KindInterval:
		return intervalBig(a).Cmp(intervalBig(b))
	}
	return strings.Compare(a.Str(), b.Str())
}

func intervalBig(d types.Datum) *big.Int {
	m, dd, us := d.IntervalParts()
	days := new(big.Int).Add(new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(30)), big.NewInt(int64(dd)))
	span := new(big.Int).Mul(days, big.NewInt(microsPerDay))
	return span.Add(span, big.NewInt(us))
}

func dec(s string) types.Datum {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return types.NewNumeric(d)
}

// gen returns a random datum of a kind, biased toward edge cases.
type gen func(r *rand.Rand) types.Datum

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randInt(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return pick[int64](r, math.MinInt64, math.MaxInt64, 0, -1, 1, math.MinInt32, math.MaxInt32)
	case 1:
		return r.Int64N(200) - 100
	}
	return int64(r.Uint64())
}

func randString(r *rand.Rand) string {
	alphabet := []byte{0x00, 0x01, 'a', 'b', 0xfe, 0xff}
	n := r.IntN(5)
	b := make([]byte, n)
	for i := range b {
		b[i] = pick(r, alphabet...)
	}
	return string(b)
}

func randNumeric(r *rand.Rand) types.Datum {
	switch r.IntN(8) {
	case 0:
		return dec(pick(r, "NaN", "Infinity", "-Infinity", "0", "-0", "0.000", "1", "1.0", "1.00", "-1.000", "10", "1E+2", "100"))
	case 1:
		// Big coefficients.
		var sb strings.Builder
		if r.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		for range 1 + r.IntN(40) {
			sb.WriteByte(byte('0' + r.IntN(10)))
		}
		sb.WriteString("E")
		sb.WriteString(pick(r, "-30", "-3", "0", "5", "40"))
		return dec(sb.String())
	}
	d := apd.New(r.Int64N(20001)-10000, int32(r.IntN(9)-4))
	return types.NewNumeric(d)
}

var gens = map[string]gen{
	"bool":  func(r *rand.Rand) types.Datum { return types.NewBool(r.IntN(2) == 0) },
	"int16": func(r *rand.Rand) types.Datum { return types.NewInt16(int16(randInt(r))) },
	"int32": func(r *rand.Rand) types.Datum { return types.NewInt32(int32(randInt(r))) },
	"int64": func(r *rand.Rand) types.Datum { return types.NewInt64(randInt(r)) },
	"mixed-int": func(r *rand.Rand) types.Datum {
		v := randInt(r)
		return pick(r, types.NewInt16(int16(v)), types.NewInt32(int32(v)), types.NewInt64(v))
	},
	"float64": func(r *rand.Rand) types.Datum {
		if r.IntN(3) == 0 {
			return types.NewFloat64(pick(r, math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
				math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64, 1, -1))
		}
		return types.NewFloat64(r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10)))
	},
	"float32": func(r *rand.Rand) types.Datum {
		return types.NewFloat32(pick(r, float32(math.NaN()), float32(math.Inf(-1)), 0, -1.5, 2.25, float32(r.NormFloat64())))
	},
	"numeric": randNumeric,
	"text":    func(r *rand.Rand) types.Datum { return types.NewText(randString(r)) },
	"bytea":   func(r *rand.Rand) types.Datum { return types.NewBytea([]byte(randString(r))) },
	"jsonb": func(r *rand.Rand) types.Datum {
		return types.NewJSONB(pick(r, `{}`, `[]`, `{"a": 1}`, `1`, `"x"`, `null`))
	},
	"date":      func(r *rand.Rand) types.Datum { return types.NewDate(r.Int64N(200000) - 100000) },
	"time":      func(r *rand.Rand) types.Datum { return types.NewTime(r.Int64N(microsPerDay)) },
	"timestamp": func(r *rand.Rand) types.Datum { return types.NewTimestamp(randInt(r)) },
	"timestamptz": func(r *rand.Rand) types.Datum {
		return types.NewTimestampTZ(randInt(r))
	},
	"interval": func(r *rand.Rand) types.Datum {
		if r.IntN(4) == 0 {
			return pick(r, types.NewInterval(1, 0, 0), types.NewInterval(0, 30, 0), types.NewInterval(0, 29, microsPerDay),
				types.NewInterval(math.MaxInt32, math.MaxInt32, math.MaxInt64), types.NewInterval(math.MinInt32, math.MinInt32, math.MinInt64),
				types.NewInterval(-1, 30, 0), types.NewInterval(0, 0, -1))
		}
		return types.NewInterval(int32(r.IntN(200)-100), int32(r.IntN(200)-100), r.Int64N(4*microsPerDay)-2*microsPerDay)
	},
}

func typeOf(name string) types.Type {
	switch name {
	case "mixed-int":
		return types.Int64
	case "int16":
		return types.Int16
	case "int32":
		return types.Int32
	case "int64":
		return types.Int64
	case "float32":
		return types.Float32
	case "float64":
		return types.Float64
	}
	t, ok := types.ParseTypeName(name, nil)
	if !ok {
		panic(name)
	}
	return t
}

// TestKeyOrderProperty checks, for random datum pairs of every kind, that
// the encodings compare as the values do, and that decoding yields an
// equal value.
func TestKeyOrderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, g := range gens {
		t.Run(name, func(t *testing.T) {
			typ := typeOf(name)
			for range 5000 {
				a, b := g(r), g(r)
				if r.IntN(20) == 0 {
					a = types.Null
				}
				ka, kb := AppendKeyDatum(nil, a), AppendKeyDatum(nil, b)
				want := compareDatums(t, a, b)
				if got := bytes.Compare(ka, kb); got != want {
					t.Fatalf("%v vs %v: bytes compare %d, values %d (%x vs %x)", fmtD(a), fmtD(b), got, want, ka, kb)
				}
				// Self-delimiting: a suffix must not change the order of
				// unequal values, and decoding must stop at the boundary.
				d, rest, err := DecodeKeyDatum(append(ka, 0x42), typ)
				if err != nil {
					t.Fatalf("decode %v: %v", fmtD(a), err)
				}
				if !bytes.Equal(rest, []byte{0x42}) {
					t.Fatalf("decode %v: rest %x", fmtD(a), rest)
				}
				if compareDatums(t, d, a) != 0 {
					t.Fatalf("decode %v: got %v", fmtD(a), fmtD(d))
				}
				if kd := AppendKeyDatum(nil, d); !bytes.Equal(kd, ka) {
					t.Fatalf("re-encode %v: %x != %x", fmtD(a), kd, ka)
				}
			}
		})
	}
}

func fmtD(d types.Datum) string { return formatDatum(d) }

func TestKeyEqualityClasses(t *testing.T) {
	tests := []struct {
		name string
		a, b types.Datum
	}{
		{"numeric scale", dec("1.0"), dec("1.00")},
		{"numeric exponent", dec("100"), dec("1E+2")},
		{"numeric zero", dec("0"), dec("-0.000")},
		{"float zero", types.NewFloat64(0), types.NewFloat64(math.Copysign(0, -1))},
		{"float nan", types.NewFloat64(math.NaN()), types.NewFloat64(-math.NaN())},
		{"interval month", types.NewInterval(1, 0, 0), types.NewInterval(0, 30, 0)},
		{"interval day", types.NewInterval(0, 1, 0), types.NewInterval(0, 0, microsPerDay)},
		{"int widths", types.NewInt16(7), types.NewInt64(7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ka, kb := AppendKeyDatum(nil, tt.a), AppendKeyDatum(nil, tt.b); !bytes.Equal(ka, kb) {
				t.Fatalf("%x != %x", ka, kb)
			}
		})
	}
}

func TestKeyComposite(t *testing.T) {
	// (a, b) tuples: order by a then b, even when a is a prefix string.
	rows := [][2]types.Datum{
		{types.NewText(""), types.NewInt64(5)},
		{types.NewText("a"), types.NewInt64(-1)},
		{types.NewText("a"), types.NewInt64(3)},
		{types.NewText("a\x00"), types.NewInt64(-9)},
		{types.NewText("ab"), types.NewInt64(0)},
		{types.NewText("b"), types.NewInt64(math.MinInt64)},
	}
	for i := 1; i < len(rows); i++ {
		p := AppendKeyDatum(AppendKeyDatum(nil, rows[i-1][0]), rows[i-1][1])
		q := AppendKeyDatum(AppendKeyDatum(nil, rows[i][0]), rows[i][1])
		if bytes.Compare(p, q) >= 0 {
			t.Errorf("row %d not before row %d: %x %x", i-1, i, p, q)
		}
	}
}

func TestDecodeKeyDatumBadInput(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		typ  types.Type
	}{
		{"empty", nil, types.Int64},
		{"bad marker", []byte{0x07}, types.Int64},
		{"short int", []byte{keyValue, 1, 2}, types.Int64},
		{"unterminated text", []byte{keyValue, 'a', 'b'}, types.Text},
		{"bad escape", []byte{keyValue, 'a', 0, 7}, types.Text},
		{"short interval", []byte{keyValue, 1}, types.Interval},
		{"bad numeric class", []byte{keyValue, 9}, types.Numeric},
		{"unterminated numeric", []byte{keyValue, numPos, 0x80, 0, 0, 1, 5}, types.Numeric},
		{"bad numeric digit", []byte{keyValue, numPos, 0x80, 0, 0, 1, 200, 0}, types.Numeric},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := DecodeKeyDatum(tt.b, tt.typ); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
