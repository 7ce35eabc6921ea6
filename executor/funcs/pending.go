package funcs

import "github.com/weirdb/weir/sql/types"

func addMath(t table)          {}
func addStrings(t table)       {}
func addPatterns(t table)      {}
func addDatetimeOps(t table)   {}
func addDatetimeFuncs(t table) {}
func addJSONB(t table)         {}
func addSystem(t table)        {}

func cmpJSONB(a, b types.Datum) int { return cmpStr(a, b) }

func mathAbs(_ *Env, a []types.Datum) (types.Datum, error) {
	switch a[0].Kind() {
	case types.KindFloat32:
		f := a[0].Float()
		if f < 0 {
			return types.NewFloat32(float32(-f)), nil
		}
		return a[0], nil
	case types.KindFloat64:
		f := a[0].Float()
		if f < 0 {
			return types.NewFloat64(-f), nil
		}
		return a[0], nil
	}
	if a[0].Decimal().Negative {
		return types.NewNumeric(decNeg(a[0].Decimal())), nil
	}
	return a[0], nil
}
