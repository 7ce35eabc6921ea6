package planner

import (
	"fmt"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// implicitCast reports whether PostgreSQL casts from to to implicitly
// (pg_cast context 'i'; the table is types.CanCast's).
func implicitCast(from, to types.Kind) bool {
	return types.CanCast(types.Type{Kind: from}, types.Type{Kind: to}, types.CastImplicit)
}

// assignCast reports whether a value of kind from may be stored into a
// column of kind to (pg_cast contexts 'i' and 'a').
func assignCast(from, to types.Kind) bool {
	return types.CanCast(types.Type{Kind: from}, types.Type{Kind: to}, types.CastAssignment)
}

// commonType is PostgreSQL's select_common_type for UNION, CASE, VALUES,
// COALESCE, IN: all unknown -> text; otherwise the first known type,
// replaced by a later one it casts to implicitly (and not back). The
// result keeps a modifier (VARCHAR(n), NUMERIC(p,s)) only when every input
// has exactly that type, as select_common_typmod does: an unknown input
// (a NULL, a string literal) or any differing input drops it.
func commonType(ts []types.Type, what string) (types.Type, error) {
	var cand types.Type
	found, same, allVarchar := false, true, true
	for _, t := range ts {
		if t.Kind == types.KindUnknown {
			same = false
			continue
		}
		if t.Kind != types.KindText || t.Fixed || t.Width == 0 {
			allVarchar = false
		}
		if !found {
			cand, found = t, true
			continue
		}
		if t != cand {
			same = false
		}
		if t.Kind == cand.Kind {
			continue
		}
		switch {
		case implicitCast(cand.Kind, t.Kind) && !implicitCast(t.Kind, cand.Kind):
			cand = t
		case implicitCast(t.Kind, cand.Kind):
		default:
			return types.Unknown, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", what, cand, t)
		}
	}
	if !found {
		return types.Text, nil
	}
	if !same {
		switch {
		case cand.Kind == types.KindText && allVarchar:
			cand = types.Varchar
		default:
			cand = types.Type{Kind: cand.Kind}
		}
	}
	return cand, nil
}

// withoutTypmod is t without the length of VARCHAR(n) or the precision
// and scale of NUMERIC(p,s). CHAR(n) is kept: its blank padding is part of
// its comparison semantics.
func withoutTypmod(t types.Type) types.Type {
	switch {
	case t.Kind == types.KindText && !t.Fixed && t.Width > 0:
		return types.Varchar
	case t.Kind == types.KindNumeric:
		return types.Numeric
	}
	return t
}

// typeName is the name PostgreSQL gives an unaliased cast column
// (FigureColname uses the type's internal name).
func typeName(t types.Type) string {
	switch t.Kind {
	case types.KindBool:
		return "bool"
	case types.KindInt16:
		return "int2"
	case types.KindInt32:
		return "int4"
	case types.KindInt64:
		return "int8"
	case types.KindFloat32:
		return "float4"
	case types.KindFloat64:
		return "float8"
	case types.KindNumeric:
		return "numeric"
	case types.KindText:
		if t.Fixed {
			return "bpchar"
		}
		if t.Width != 0 {
			return "varchar"
		}
		return "text"
	case types.KindBytea:
		return "bytea"
	case types.KindDate:
		return "date"
	case types.KindTime:
		return "time"
	case types.KindTimestamp:
		return "timestamp"
	case types.KindTimestampTZ:
		return "timestamptz"
	case types.KindInterval:
		return "interval"
	case types.KindJSONB:
		return "jsonb"
	}
	return fmt.Sprint(t)
}
