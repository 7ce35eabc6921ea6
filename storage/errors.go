package storage

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// errDuplicateKey is PostgreSQL's unique violation for rel's primary key,
// with key holding the key column values in key order.
func errDuplicateKey(rel *catalog.Relation, key []types.Datum) error {
	var cols, vals strings.Builder
	for i, c := range rel.PrimaryKey {
		if i > 0 {
			cols.WriteString(", ")
			vals.WriteString(", ")
		}
		cols.WriteString(rel.Columns[c].Name)
		if i < len(key) {
			vals.WriteString(formatDatum(key[i]))
		}
	}
	return sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", rel.Name).
		WithDetail("Key (%s)=(%s) already exists.", cols.String(), vals.String())
}

func errNullKey(rel *catalog.Relation, col int) error {
	return sqlerr.New(sqlerr.NotNullViolation, "null value in column \"%s\" of relation \"%s\" violates not-null constraint",
		rel.Columns[col].Name, rel.Name)
}

func errReadOnly(op string) error {
	return sqlerr.New(sqlerr.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", op)
}

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const pgEpochUnixMicros = 946_684_800_000_000

// formatDatum is a small text formatter for error details (PostgreSQL's
// output format for the common cases).
func formatDatum(d types.Datum) string {
	if d.IsNull() {
		return "null"
	}
	switch d.Kind() {
	case types.KindBool:
		if d.Bool() {
			return "t"
		}
		return "f"
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return strconv.FormatInt(d.Int(), 10)
	case types.KindFloat32:
		return strconv.FormatFloat(d.Float(), 'g', -1, 32)
	case types.KindFloat64:
		return strconv.FormatFloat(d.Float(), 'g', -1, 64)
	case types.KindNumeric:
		if d.Decimal() == nil {
			return "NaN"
		}
		return d.Decimal().Text('f')
	case types.KindBytea:
		return `\x` + hex.EncodeToString([]byte(d.Str()))
	case types.KindDate:
		return pgEpoch.AddDate(0, 0, int(d.Int())).Format("2006-01-02")
	case types.KindTime:
		return time.UnixMicro(d.Int()).UTC().Format("15:04:05.999999")
	case types.KindTimestamp, types.KindTimestampTZ:
		switch d.Int() {
		case math.MaxInt64:
			return "infinity"
		case math.MinInt64:
			return "-infinity"
		}
		t := time.UnixMicro(d.Int() + pgEpochUnixMicros).UTC()
		if d.Kind() == types.KindTimestampTZ {
			return t.Format("2006-01-02 15:04:05.999999-07")
		}
		return t.Format("2006-01-02 15:04:05.999999")
	case types.KindInterval:
		m, dd, us := d.IntervalParts()
		return strconv.Itoa(int(m)) + " mons " + strconv.Itoa(int(dd)) + " days " +
			(time.Duration(us) * time.Microsecond).String()
	}
	return d.Str()
}
