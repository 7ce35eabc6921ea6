package types

import (
	"math"

	"github.com/cockroachdb/apd/v3"
)

// Datum is one SQL value: a compact tagged union, passed by value, with no
// interface boxing. The zero Datum is NULL.
//
// Representation by kind:
//
//	Bool          i = 0/1
//	Int16/32/64   i
//	Float32/64    i = math.Float64bits(value) (float32 values are widened)
//	Numeric       d (never mutated once the Datum is built; shared freely)
//	Text, JSONB   s (JSONB holds the canonical text form)
//	Bytea         s (raw bytes)
//	Date          i = days since 2000-01-01 (PostgreSQL's epoch)
//	Time          i = microseconds since midnight
//	Timestamp(TZ) i = microseconds since 2000-01-01 00:00:00 (UTC for TZ)
//	Interval      i = microseconds, j = months<<32 | uint32(days)
//
// Infinity timestamps use math.MaxInt64 / math.MinInt64.
type Datum struct {
	k Kind
	// ok is false for NULL, so that the zero Datum is NULL.
	ok bool
	i  int64
	j  int64
	s  string
	d  *apd.Decimal
}

// Row is one tuple. Rows are owned by whoever built them; operators that
// keep a row beyond a call copy the slice.
type Row []Datum

// Null is the untyped NULL.
var Null = Datum{}

// NullOf is a NULL that remembers its kind (useful for formatting only;
// typed and untyped NULLs compare equal).
func NullOf(k Kind) Datum { return Datum{k: k} }

// Constructors.
func NewBool(b bool) Datum {
	if b {
		return Datum{k: KindBool, ok: true, i: 1}
	}
	return Datum{k: KindBool, ok: true}
}
func NewInt16(v int16) Datum { return Datum{k: KindInt16, ok: true, i: int64(v)} }
func NewInt32(v int32) Datum { return Datum{k: KindInt32, ok: true, i: int64(v)} }
func NewInt64(v int64) Datum { return Datum{k: KindInt64, ok: true, i: v} }
func NewFloat32(v float32) Datum {
	return Datum{k: KindFloat32, ok: true, i: int64(math.Float64bits(float64(v)))}
}
func NewFloat64(v float64) Datum {
	return Datum{k: KindFloat64, ok: true, i: int64(math.Float64bits(v))}
}
func NewNumeric(d *apd.Decimal) Datum { return Datum{k: KindNumeric, ok: true, d: d} }
func NewText(s string) Datum          { return Datum{k: KindText, ok: true, s: s} }
func NewBytea(b []byte) Datum         { return Datum{k: KindBytea, ok: true, s: string(b)} }
func NewDate(days int64) Datum        { return Datum{k: KindDate, ok: true, i: days} }
func NewTime(micros int64) Datum      { return Datum{k: KindTime, ok: true, i: micros} }
func NewTimestamp(micros int64) Datum {
	return Datum{k: KindTimestamp, ok: true, i: micros}
}
func NewTimestampTZ(micros int64) Datum { return Datum{k: KindTimestampTZ, ok: true, i: micros} }

// NewInterval builds an interval of months, days and microseconds, kept
// apart as PostgreSQL does ('1 month' is not '30 days').
func NewInterval(months, days int32, micros int64) Datum {
	return Datum{k: KindInterval, ok: true, i: micros, j: int64(months)<<32 | int64(uint32(days))}
}

// NewJSONB wraps already-canonical JSONB text; use ParseJSONB for user input.
func NewJSONB(canonical string) Datum { return Datum{k: KindJSONB, ok: true, s: canonical} }

// NewUnknown is an untyped string literal (PostgreSQL's "unknown").
func NewUnknown(s string) Datum { return Datum{k: KindUnknown, ok: true, s: s} }

// Kind is the datum's kind (KindUnknown for the untyped NULL).
func (d Datum) Kind() Kind { return d.k }

// IsNull reports whether d is NULL.
func (d Datum) IsNull() bool { return !d.ok }

// Accessors. Each assumes the matching kind and a non-NULL value.
func (d Datum) Bool() bool            { return d.i != 0 }
func (d Datum) Int() int64            { return d.i }
func (d Datum) Float() float64        { return math.Float64frombits(uint64(d.i)) }
func (d Datum) Decimal() *apd.Decimal { return d.d }
func (d Datum) Str() string           { return d.s }
func (d Datum) Bytes() []byte         { return []byte(d.s) }
func (d Datum) Days() int64           { return d.i }
func (d Datum) Micros() int64         { return d.i }

// IntervalParts returns months, days and microseconds of an interval.
func (d Datum) IntervalParts() (months, days int32, micros int64) {
	return int32(d.j >> 32), int32(uint32(d.j)), d.i
}
