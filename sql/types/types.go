// Package types holds Weir's SQL types and values: the compact typed Datum,
// rows, PostgreSQL type OIDs, and (in sibling files) text and binary
// formats, casts and comparisons. It is the shared vocabulary of every
// layer and imports nothing of Weir but sqlerr.
package types

import (
	"fmt"
	"strings"
)

// Kind is the family of a SQL type.
type Kind uint8

// Kinds. KindUnknown is the type of an untyped NULL or of a string literal
// whose type is not yet resolved.
const (
	KindUnknown Kind = iota
	KindBool
	KindInt16
	KindInt32
	KindInt64
	KindFloat32
	KindFloat64
	KindNumeric
	KindText // TEXT, VARCHAR, VARCHAR(n), CHAR(n) (Width carries n)
	KindBytea
	KindDate
	KindTime
	KindTimestamp
	KindTimestampTZ
	KindInterval
	KindJSONB
	numKinds
)

// Type is a SQL type: a kind plus its modifiers.
type Type struct {
	Kind Kind
	// Width is n of VARCHAR(n)/CHAR(n). 0 is TEXT; -1 is VARCHAR without
	// a length (unbounded like TEXT, but reported as character varying).
	// Width > 0 is the only case that constrains values.
	Width int32
	// Precision and Scale are NUMERIC(p,s); Precision 0 means unconstrained.
	Precision int16
	Scale     int16
	// Fixed marks CHAR(n) (blank-padded) as opposed to VARCHAR(n).
	Fixed bool
}

// Common types.
var (
	Unknown     = Type{Kind: KindUnknown}
	Bool        = Type{Kind: KindBool}
	Int16       = Type{Kind: KindInt16}
	Int32       = Type{Kind: KindInt32}
	Int64       = Type{Kind: KindInt64}
	Float32     = Type{Kind: KindFloat32}
	Float64     = Type{Kind: KindFloat64}
	Numeric     = Type{Kind: KindNumeric}
	Text        = Type{Kind: KindText}
	Varchar     = Type{Kind: KindText, Width: -1}
	Bytea       = Type{Kind: KindBytea}
	Date        = Type{Kind: KindDate}
	Time        = Type{Kind: KindTime}
	Timestamp   = Type{Kind: KindTimestamp}
	TimestampTZ = Type{Kind: KindTimestampTZ}
	Interval    = Type{Kind: KindInterval}
	JSONB       = Type{Kind: KindJSONB}
)

// PostgreSQL type OIDs (pg_type.oid) reported in RowDescription and
// ParameterDescription.
const (
	OIDBool        uint32 = 16
	OIDBytea       uint32 = 17
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDText        uint32 = 25
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDUnknown     uint32 = 705
	OIDBpchar      uint32 = 1042
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTime        uint32 = 1083
	OIDTimestamp   uint32 = 1114
	OIDTimestampTZ uint32 = 1184
	OIDInterval    uint32 = 1186
	OIDNumeric     uint32 = 1700
	OIDJSONB       uint32 = 3802
)

// OID is the PostgreSQL type OID of t.
func (t Type) OID() uint32 {
	switch t.Kind {
	case KindBool:
		return OIDBool
	case KindInt16:
		return OIDInt2
	case KindInt32:
		return OIDInt4
	case KindInt64:
		return OIDInt8
	case KindFloat32:
		return OIDFloat4
	case KindFloat64:
		return OIDFloat8
	case KindNumeric:
		return OIDNumeric
	case KindText:
		if t.Fixed {
			return OIDBpchar
		}
		if t.Width != 0 {
			return OIDVarchar
		}
		return OIDText
	case KindBytea:
		return OIDBytea
	case KindDate:
		return OIDDate
	case KindTime:
		return OIDTime
	case KindTimestamp:
		return OIDTimestamp
	case KindTimestampTZ:
		return OIDTimestampTZ
	case KindInterval:
		return OIDInterval
	case KindJSONB:
		return OIDJSONB
	}
	return OIDText // unknown-typed results are sent as text, as PostgreSQL does
}

// FromOID maps a PostgreSQL type OID to a Type; ok is false for OIDs Weir
// does not know (0 included).
func FromOID(oid uint32) (Type, bool) {
	switch oid {
	case OIDBool:
		return Bool, true
	case OIDInt2:
		return Int16, true
	case OIDInt4:
		return Int32, true
	case OIDInt8:
		return Int64, true
	case OIDFloat4:
		return Float32, true
	case OIDFloat8:
		return Float64, true
	case OIDNumeric:
		return Numeric, true
	case OIDText, OIDUnknown:
		return Text, true
	case OIDVarchar:
		return Varchar, true
	case OIDBpchar:
		return Type{Kind: KindText, Fixed: true}, true
	case OIDBytea:
		return Bytea, true
	case OIDDate:
		return Date, true
	case OIDTime:
		return Time, true
	case OIDTimestamp:
		return Timestamp, true
	case OIDTimestampTZ:
		return TimestampTZ, true
	case OIDInterval:
		return Interval, true
	case OIDJSONB, 114: // json is accepted as jsonb
		return JSONB, true
	}
	return Unknown, false
}

// Size is the typlen PostgreSQL reports for t (-1 for variable length).
func (t Type) Size() int16 {
	switch t.Kind {
	case KindBool:
		return 1
	case KindInt16:
		return 2
	case KindInt32, KindFloat32, KindDate:
		return 4
	case KindInt64, KindFloat64, KindTime, KindTimestamp, KindTimestampTZ:
		return 8
	case KindInterval:
		return 16
	}
	return -1
}

// Modifier is the atttypmod PostgreSQL reports for t (-1 when none).
func (t Type) Modifier() int32 {
	switch t.Kind {
	case KindText:
		if t.Width > 0 {
			return t.Width + 4
		}
	case KindNumeric:
		if t.Precision > 0 {
			return (int32(t.Precision)<<16 | int32(t.Scale)) + 4
		}
	}
	return -1
}

// IsNumeric reports whether t is an integer, float or numeric type.
func (t Type) IsNumeric() bool {
	switch t.Kind {
	case KindInt16, KindInt32, KindInt64, KindFloat32, KindFloat64, KindNumeric:
		return true
	}
	return false
}

// IsInteger reports whether t is SMALLINT, INTEGER or BIGINT.
func (t Type) IsInteger() bool {
	return t.Kind == KindInt16 || t.Kind == KindInt32 || t.Kind == KindInt64
}

// String is the type as PostgreSQL prints it (format_type).
func (t Type) String() string {
	switch t.Kind {
	case KindUnknown:
		return "unknown"
	case KindBool:
		return "boolean"
	case KindInt16:
		return "smallint"
	case KindInt32:
		return "integer"
	case KindInt64:
		return "bigint"
	case KindFloat32:
		return "real"
	case KindFloat64:
		return "double precision"
	case KindNumeric:
		if t.Precision > 0 {
			return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
		}
		return "numeric"
	case KindText:
		switch {
		case t.Fixed:
			return fmt.Sprintf("character(%d)", max(t.Width, 1))
		case t.Width > 0:
			return fmt.Sprintf("character varying(%d)", t.Width)
		case t.Width < 0:
			return "character varying"
		}
		return "text"
	case KindBytea:
		return "bytea"
	case KindDate:
		return "date"
	case KindTime:
		return "time without time zone"
	case KindTimestamp:
		return "timestamp without time zone"
	case KindTimestampTZ:
		return "timestamp with time zone"
	case KindInterval:
		return "interval"
	case KindJSONB:
		return "jsonb"
	}
	return "unknown"
}

// ParseTypeName resolves a PostgreSQL type name as written in DDL or a cast
// (case-insensitive, with its modifiers already split off): "int", "int4",
// "integer", "varchar", "character varying", "timestamptz", "double
// precision", "decimal", ... mods are the numbers in parentheses.
func ParseTypeName(name string, mods []int) (Type, bool) {
	n := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	n = strings.TrimPrefix(n, "pg_catalog.")
	var t Type
	switch n {
	case "bool", "boolean":
		t = Bool
	case "int2", "smallint", "smallserial", "serial2":
		t = Int16
	case "int", "int4", "integer", "serial", "serial4":
		t = Int32
	case "int8", "bigint", "bigserial", "serial8":
		t = Int64
	case "float4", "real":
		t = Float32
	case "float8", "double precision", "double", "float":
		t = Float64
		if len(mods) == 1 && mods[0] >= 1 && mods[0] <= 24 {
			t = Float32
		}
		mods = nil
	case "numeric", "decimal", "dec":
		t = Numeric
		if len(mods) >= 1 {
			t.Precision = int16(mods[0])
		}
		if len(mods) >= 2 {
			t.Scale = int16(mods[1])
		}
		if len(mods) > 2 || (len(mods) >= 1 && (mods[0] < 1 || mods[0] > 1000)) ||
			(len(mods) == 2 && (mods[1] < 0 || mods[1] > mods[0])) {
			return Unknown, false
		}
		return t, true
	case "text", "string", "name":
		t = Text
	case "varchar", "character varying", "char varying":
		t = Varchar
		if len(mods) == 1 {
			t.Width = int32(mods[0])
		}
	case "char", "character", "bpchar":
		t = Type{Kind: KindText, Fixed: true, Width: 1}
		if len(mods) == 1 {
			t.Width = int32(mods[0])
		}
	case "bytea", "blob":
		t = Bytea
	case "date":
		t = Date
	case "time", "time without time zone":
		t = Time
	case "timestamp", "timestamp without time zone", "datetime":
		t = Timestamp
	case "timestamptz", "timestamp with time zone":
		t = TimestampTZ
	case "interval":
		t = Interval
	case "jsonb", "json":
		t = JSONB
	default:
		return Unknown, false
	}
	if len(mods) > 1 || (t.Kind != KindText && len(mods) > 0 && t.Kind != KindTime && t.Kind != KindTimestamp && t.Kind != KindTimestampTZ && t.Kind != KindInterval) {
		return Unknown, false
	}
	if t.Kind == KindText && len(mods) == 1 && mods[0] < 1 {
		return Unknown, false
	}
	return t, true
}
