// Package funcs is Weir's library of scalar functions and operators, with
// PostgreSQL's names, overloads and semantics. The planner resolves a call
// by name and argument types (Resolve) once, at plan time; the executor
// then calls the chosen overload's Eval per row with no further lookup.
//
// Operators are functions too: "+", "=", "||", "->>", "~~" (LIKE) ... are
// resolved the same way as "length" or "date_trunc".
package funcs

import (
	"time"

	"github.com/weirdb/weir/sql/types"
)

// Env is what evaluation may consult besides the arguments. One Env is
// shared by all rows of a statement; it is read-only during evaluation.
type Env struct {
	// StatementTime is now()/current_timestamp for the whole statement.
	StatementTime time.Time
	// Location is the session's TimeZone.
	Location *time.Location
	// Setting returns a session variable (current_setting); ok false if
	// unknown.
	Setting func(name string) (string, bool)
	// Database, User and Schema answer current_database(), current_user and
	// current_schema().
	Database, User, Schema string
	// Version is what version() returns.
	Version string
	// Catalog answers catalog functions (regclass, pg_get_indexdef ...);
	// nil when there is no catalog (they then find nothing).
	Catalog CatalogInfo
	// NextVal advances the named sequence (nextval); nil when there are no
	// sequences.
	NextVal func(name string) (int64, error)
}

// Overload is one signature of a function or operator.
type Overload struct {
	// Args are the parameter types; only their Kind matters for
	// resolution. With Variadic the last one repeats. A parameter of
	// KindUnknown is PostgreSQL's pseudo-type "any": it accepts an argument
	// of any type as is (no cast; Resolved.ArgTypes keeps the given type).
	Args     []types.Type
	Variadic bool
	// Ret computes the result type from the (resolved) argument types.
	Ret func(args []types.Type) types.Type
	// Eval computes the result. With NullIn false (the common, "strict"
	// case) Eval is never called with a NULL argument: the caller returns
	// NULL. args is owned by the caller and reused between rows.
	Eval func(env *Env, args []types.Datum) (types.Datum, error)
	// NullIn marks functions that look at NULL arguments themselves
	// (concat, concat_ws, coalesce-like functions).
	NullIn bool
	// Volatile marks functions that must not be folded at plan time
	// (random(), clock_timestamp()).
	Volatile bool
	// Bind, when set, is called once per call site at plan time with the
	// resolved argument types and returns the evaluator to use there
	// instead of Eval (same contract as Eval). It serves functions whose
	// result depends on the argument types (pg_typeof) or that precompute
	// per call site. Callers use Resolved.Evaluator rather than testing
	// Bind themselves.
	Bind func(args []types.Type) func(env *Env, args []types.Datum) (types.Datum, error)
}

// Resolved is the outcome of Resolve: the overload to call and the type
// each argument must be cast to first (equal to the given type when no cast
// is needed).
type Resolved struct {
	Overload *Overload
	ArgTypes []types.Type
	Ret      types.Type
}

// Evaluator returns the function to call per row for this call site: the
// result of Overload.Bind when set, else Overload.Eval. Call it once at
// plan time.
func (r *Resolved) Evaluator() func(env *Env, args []types.Datum) (types.Datum, error) {
	if r.Overload.Bind != nil {
		return r.Overload.Bind(r.ArgTypes)
	}
	return r.Overload.Eval
}

// Resolve picks the overload of name for argument types args the way
// PostgreSQL does: an exact match, else the one reachable by implicit casts
// (unknown-typed literals match any type, int2 < int4 < int8 < numeric <
// float4 < float8, date < timestamp < timestamptz), preferring fewer casts.
// Errors are *sqlerr.Error: 42883 (no such function / operator, with the
// argument types in the message, as PostgreSQL words it) or 42725
// (ambiguous).
func Resolve(name string, args []types.Type) (*Resolved, error) {
	return resolve(name, args)
}
