package types

import (
	"math"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
)

// CastContext is where a conversion happens, ordered from the most to the
// least restrictive (PostgreSQL's pg_cast.castcontext): a cast allowed in
// a context is allowed in every later one.
type CastContext uint8

const (
	// CastImplicit: inside expressions (operator/function arguments).
	CastImplicit CastContext = iota
	// CastAssignment: storing into a column (INSERT/UPDATE).
	CastAssignment
	// CastExplicit: CAST(x AS t) and x::t.
	CastExplicit
)

// castNone marks a pair of kinds with no cast at all.
const castNone CastContext = 0xFF

// castRule returns the least restrictive context in which from -> to is
// allowed (castNone if never). Same kinds are implicit (length coercion).
func castRule(from, to Kind) CastContext {
	if from == to || from == KindUnknown {
		return CastImplicit
	}
	switch to {
	case KindText:
		// Every type has an I/O conversion to text: assignment.
		return CastAssignment
	case KindUnknown:
		return castNone
	}
	switch from {
	case KindText:
		return CastExplicit // I/O conversion from text
	case KindInt16:
		switch to {
		case KindInt32, KindInt64, KindFloat32, KindFloat64, KindNumeric:
			return CastImplicit
		}
	case KindInt32:
		switch to {
		case KindInt64, KindFloat32, KindFloat64, KindNumeric:
			return CastImplicit
		case KindInt16:
			return CastAssignment
		case KindBool:
			return CastExplicit
		}
	case KindInt64:
		switch to {
		case KindFloat32, KindFloat64, KindNumeric:
			return CastImplicit
		case KindInt16, KindInt32:
			return CastAssignment
		}
	case KindFloat32:
		switch to {
		case KindFloat64:
			return CastImplicit
		case KindInt16, KindInt32, KindInt64, KindNumeric:
			return CastAssignment
		}
	case KindFloat64:
		switch to {
		case KindInt16, KindInt32, KindInt64, KindFloat32, KindNumeric:
			return CastAssignment
		}
	case KindNumeric:
		switch to {
		case KindFloat32, KindFloat64:
			return CastImplicit
		case KindInt16, KindInt32, KindInt64:
			return CastAssignment
		}
	case KindBool:
		if to == KindInt32 {
			return CastExplicit
		}
	case KindDate:
		switch to {
		case KindTimestamp, KindTimestampTZ:
			return CastImplicit
		}
	case KindTimestamp:
		switch to {
		case KindTimestampTZ:
			return CastImplicit
		case KindDate, KindTime:
			return CastAssignment
		}
	case KindTimestampTZ:
		switch to {
		case KindTimestamp, KindDate, KindTime:
			return CastAssignment
		}
	case KindTime:
		if to == KindInterval {
			return CastImplicit
		}
	case KindInterval:
		if to == KindTime {
			return CastAssignment
		}
	case KindJSONB:
		switch to {
		case KindBool, KindInt16, KindInt32, KindInt64, KindFloat32, KindFloat64, KindNumeric:
			return CastExplicit
		}
	}
	return castNone
}

// CanCast reports whether a value of type from can be converted to to in
// context ctx, following PostgreSQL's pg_cast: int2 -> int4 -> int8 ->
// numeric -> float4 -> float8 implicit (narrowing is assignment), text
// types implicit among themselves, date -> timestamp -> timestamptz
// implicit, unknown (a string literal) -> anything implicit, anything ->
// text assignment, text -> anything explicit, int4 <-> bool explicit,
// jsonb -> bool/number explicit.
func CanCast(from, to Type, ctx CastContext) bool {
	r := castRule(from.Kind, to.Kind)
	return r != castNone && r <= ctx
}

// Cast converts d to type t. ctx selects PostgreSQL's context-dependent
// behaviour (an explicit cast to VARCHAR(n)/CHAR(n) truncates silently,
// other contexts fail with 22001); it does not re-check permission — use
// CanCast for that. A NULL casts to NULL. Conversions with no cast at all
// fail with 42846 "cannot cast type x to y". loc is the session time zone
// for conversions involving timestamptz. Errors follow PostgreSQL:
// 22003 "integer out of range", "numeric field overflow", 22P02 for text
// that does not parse, 0A000 "cannot convert NaN to integer".
func Cast(d Datum, t Type, ctx CastContext, loc *time.Location) (Datum, error) {
	if !d.ok {
		return Datum{k: t.Kind}, nil
	}
	from := d.k
	if from == KindUnknown {
		if t.Kind != KindText || t.Width <= 0 {
			return ParseText(t, d.s, loc)
		}
		// As PostgreSQL's coerce_type: the input function sees no length,
		// which is then applied in ctx (an explicit cast truncates).
		v, err := ParseText(Text, d.s, loc)
		if err != nil {
			return Null, err
		}
		return applyTypmod(v, t, ctx)
	}
	if from == t.Kind {
		return applyTypmod(d, t, ctx)
	}
	switch t.Kind {
	case KindText:
		var s string
		if from == KindBool {
			// bool::text is 'true'/'false', unlike its output function.
			if d.i != 0 {
				s = "true"
			} else {
				s = "false"
			}
		} else {
			s = TextString(d, loc)
		}
		v, err := applyTextWidth(s, t, ctx == CastExplicit)
		if err != nil {
			return Null, err
		}
		return NewText(v), nil
	case KindUnknown:
		return Null, errCannotCastType(from, t)
	}
	if from == KindText {
		return ParseText(t, d.s, loc)
	}
	switch {
	case isNumberKind(from) && isNumberKind(t.Kind):
		return castNumber(d, t)
	case from == KindBool && t.Kind == KindInt32:
		return NewInt32(int32(d.i)), nil
	case from == KindInt32 && t.Kind == KindBool:
		return NewBool(d.i != 0), nil
	case from == KindJSONB:
		return castFromJSONB(d, t)
	}
	switch from {
	case KindDate:
		switch t.Kind {
		case KindTimestamp:
			return NewTimestamp(dateTimeMicros(d)), nil
		case KindTimestampTZ:
			return NewTimestampTZ(LocalToUTC(dateTimeMicros(d), loc)), nil
		}
	case KindTimestamp, KindTimestampTZ:
		local := d.i
		if from == KindTimestampTZ {
			local = UTCToLocal(d.i, loc)
		}
		switch t.Kind {
		case KindTimestamp:
			return NewTimestamp(local), nil
		case KindTimestampTZ:
			v := LocalToUTC(local, loc)
			if !IsInfiniteTimestamp(v) && (v < MinTimestamp || v >= MaxTimestampExcl) {
				return Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
			}
			return NewTimestampTZ(v), nil
		case KindDate:
			switch local {
			case TimestampInfinity:
				return NewDate(DateInfinity), nil
			case TimestampNegInfinity:
				return NewDate(DateNegInfinity), nil
			}
			return NewDate(floorDiv(local, MicrosPerDay)), nil
		case KindTime:
			if IsInfiniteTimestamp(local) {
				return Null, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
			}
			return NewTime(floorMod(local, MicrosPerDay)), nil
		}
	case KindTime:
		if t.Kind == KindInterval {
			return NewInterval(0, 0, d.i), nil
		}
	case KindInterval:
		if t.Kind == KindTime {
			_, _, us := d.IntervalParts()
			return NewTime(floorMod(us, MicrosPerDay)), nil
		}
	}
	return Null, errCannotCastType(from, t)
}

// applyTypmod coerces a value already of t's kind to t's modifiers.
func applyTypmod(d Datum, t Type, ctx CastContext) (Datum, error) {
	switch t.Kind {
	case KindText:
		if t.Width > 0 {
			v, err := applyTextWidth(d.s, t, ctx == CastExplicit)
			if err != nil {
				return Null, err
			}
			return NewText(v), nil
		}
	case KindNumeric:
		if t.Precision > 0 {
			v, err := ApplyNumericTypmod(d.d, t.Precision, t.Scale)
			if err != nil {
				return Null, err
			}
			return NewNumeric(v), nil
		}
	}
	return d, nil
}

func errIntRange(k Kind) error {
	switch k {
	case KindInt16:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "smallint out of range")
	case KindInt32:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
	}
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
}

func intFits(v int64, k Kind) bool {
	switch k {
	case KindInt16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case KindInt32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

func makeInt(v int64, k Kind) Datum {
	return Datum{k: k, ok: true, i: v}
}

// castNumber converts among int2/4/8, float4/8 and numeric with
// PostgreSQL's rounding and range errors.
func castNumber(d Datum, t Type) (Datum, error) {
	from, to := d.k, t.Kind
	switch {
	case isIntKind(to):
		var v int64
		switch {
		case isIntKind(from):
			v = d.i
		case from == KindNumeric:
			iv, ok, err := NumericToInt64(d.d, kindName(to))
			if err != nil {
				return Null, err
			}
			if !ok {
				return Null, errIntRange(to)
			}
			v = iv
		default: // float: rint (half to even), then range check
			f := math.RoundToEven(d.Float())
			if f != f || f < -9223372036854775808.0 || f >= 9223372036854775808.0 {
				return Null, errIntRange(to)
			}
			v = int64(f)
		}
		if !intFits(v, to) {
			return Null, errIntRange(to)
		}
		return makeInt(v, to), nil
	case to == KindFloat64:
		f, err := DatumToFloat(d)
		if err != nil {
			return Null, err
		}
		return NewFloat64(f), nil
	case to == KindFloat32 && from == KindNumeric:
		// numeric_float4 goes through float4in of the numeric's text.
		f, err := ParseFloat(NumericString(d.d), 32)
		if err != nil {
			return Null, err
		}
		return NewFloat32(float32(f)), nil
	case to == KindFloat32:
		f, err := DatumToFloat(d)
		if err != nil {
			return Null, err
		}
		if from == KindFloat64 || from == KindNumeric {
			if !math.IsInf(f, 0) && f == f {
				f32 := float32(f)
				if math.IsInf(float64(f32), 0) {
					return Null, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
				}
				if f32 == 0 && f != 0 {
					return Null, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
				}
			}
		}
		return NewFloat32(float32(f)), nil
	case to == KindNumeric:
		var dec *apd.Decimal
		var err error
		switch {
		case isIntKind(from):
			dec = apd.New(d.i, 0)
		case from == KindFloat32:
			dec, err = Float64ToNumeric(d.Float(), 6)
		case from == KindFloat64:
			dec, err = Float64ToNumeric(d.Float(), 15)
		default:
			dec = d.d
		}
		if err != nil {
			return Null, err
		}
		dec, err = ApplyNumericTypmod(dec, t.Precision, t.Scale)
		if err != nil {
			return Null, err
		}
		return NewNumeric(dec), nil
	}
	return Null, errCannotCastType(from, t)
}

// castFromJSONB implements jsonb::bool and jsonb::numeric/int/float.
func castFromJSONB(d Datum, t Type) (Datum, error) {
	n, err := jsonbScalar(d)
	if err != nil {
		return Null, err
	}
	want := "boolean"
	if t.Kind != KindBool {
		want = t.String()
	}
	if !n.raw || (t.Kind == KindBool && n.typ != jBool) || (t.Kind != KindBool && n.typ != jNumber) {
		tn := jsonTypeName(&n)
		return Null, sqlerr.New(sqlerr.InvalidParameterValue, "cannot cast jsonb %s to type %s", tn, want)
	}
	if t.Kind == KindBool {
		return NewBool(n.b), nil
	}
	return castNumber(NewNumeric(n.num), t)
}
