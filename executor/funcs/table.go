package funcs

import (
	"sync"

	"github.com/weirdb/weir/sql/types"
)

// evalFn is the per-row evaluator of an overload.
type evalFn = func(env *Env, args []types.Datum) (types.Datum, error)

// registry is the read-only table of every function and operator, keyed by
// lower-case name, built once on first use.
var registry = sync.OnceValue(buildRegistry)

// table accumulates overloads while the registry is built.
type table map[string][]*Overload

func buildRegistry() map[string][]*Overload {
	t := table{}
	addComparisons(t)
	addArithmetic(t)
	addTextOps(t)
	addMath(t)
	addStrings(t)
	addPatterns(t)
	addDatetimeOps(t)
	addDatetimeFuncs(t)
	addJSONB(t)
	addSystem(t)
	// ---- catalog information functions (catalogfuncs.go) ----
	addCatalogFuncs(t)
	// ---- end catalog information functions ----
	return t
}

func (t table) add(name string, ov *Overload) { t[name] = append(t[name], ov) }

// fn registers a strict, fixed-arity overload with a constant result type.
func (t table) fn(name string, args []types.Type, ret types.Type, eval evalFn) *Overload {
	ov := &Overload{Args: args, Ret: retConst(ret), Eval: eval}
	t.add(name, ov)
	return ov
}

func retConst(t types.Type) func([]types.Type) types.Type {
	return func([]types.Type) types.Type { return t }
}

// retArg returns the (resolved) type of argument i, without modifiers
// that an operation would not preserve.
func retArg(i int) func([]types.Type) types.Type {
	return func(a []types.Type) types.Type { return types.Type{Kind: a[i].Kind} }
}

func ts(k ...types.Kind) []types.Type {
	r := make([]types.Type, len(k))
	for i, x := range k {
		r[i] = types.Type{Kind: x}
	}
	return r
}

// allKinds lists every concrete kind.
var allKinds = [...]types.Kind{
	types.KindBool, types.KindInt16, types.KindInt32, types.KindInt64,
	types.KindFloat32, types.KindFloat64, types.KindNumeric, types.KindText,
	types.KindBytea, types.KindDate, types.KindTime, types.KindTimestamp,
	types.KindTimestampTZ, types.KindInterval, types.KindJSONB,
}

var intKinds = [...]types.Kind{types.KindInt16, types.KindInt32, types.KindInt64}
