package types

import (
	"math"

	"github.com/weirdb/weir/sql/sqlerr"
)

const maxFloat64 = math.MaxFloat64

func nan() float64    { return math.NaN() }
func posInf() float64 { return math.Inf(1) }
func negInf() float64 { return math.Inf(-1) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// isSpace is C's isspace in the C locale, which PostgreSQL's input
// functions use to trim.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// eqFold reports whether s equals the lower-case ASCII word w, ignoring
// ASCII case.
func eqFold(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != w[i] {
			return false
		}
	}
	return true
}

// errSyntax is 22P02 invalid input syntax for type typ.
func errSyntax(typ, s string) error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", typ, s)
}

// CodeCannotCast is SQLSTATE 42846 (cannot_coerce).
const CodeCannotCast sqlerr.Code = "42846"

func errCannotCast(from, to Kind) error {
	return sqlerr.New(CodeCannotCast, "cannot cast type %s to %s", Type{Kind: from}.String(), Type{Kind: to}.String())
}

func errCannotCastType(from Kind, to Type) error {
	return sqlerr.New(CodeCannotCast, "cannot cast type %s to %s", Type{Kind: from}.String(), to.String())
}

// kindName is the name PostgreSQL uses for a kind in error messages.
func kindName(k Kind) string { return Type{Kind: k}.String() }

// String is the PostgreSQL name of the kind's unmodified type.
func (k Kind) String() string { return Type{Kind: k}.String() }
