package funcs

import (
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// System information functions, answered from Env.

func addSystem(t table) {
	str := func(f func(env *Env) string) evalFn {
		return func(env *Env, _ []types.Datum) (types.Datum, error) { return types.NewText(f(env)), nil }
	}
	t.fn("version", nil, types.Text, str(func(env *Env) string { return env.Version }))
	t.fn("current_database", nil, types.Text, str(func(env *Env) string { return env.Database }))
	t.fn("current_catalog", nil, types.Text, str(func(env *Env) string { return env.Database }))
	t.fn("current_schema", nil, types.Text, str(func(env *Env) string { return env.Schema }))
	for _, n := range []string{"current_user", "session_user", "user", "current_role"} {
		t.fn(n, nil, types.Text, str(func(env *Env) string { return env.User }))
	}
	setting := func(env *Env, a []types.Datum) (types.Datum, error) {
		name := a[0].Str()
		missingOK := len(a) > 1 && !a[1].IsNull() && a[1].Bool()
		if env.Setting != nil {
			if v, ok := env.Setting(strings.ToLower(name)); ok {
				return types.NewText(v), nil
			}
		}
		if missingOK {
			return types.Null, nil
		}
		return types.Null, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", name)
	}
	t.add("nextval", &Overload{Args: ts(kTxt), Ret: retConst(types.Int64), Volatile: true,
		Eval: func(env *Env, a []types.Datum) (types.Datum, error) {
			if env.NextVal == nil {
				return types.Null, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", a[0].Str())
			}
			v, err := env.NextVal(a[0].Str())
			if err != nil {
				return types.Null, err
			}
			return types.NewInt64(v), nil
		}})
	t.fn("current_setting", ts(kTxt), types.Text, setting)
	t.fn("current_setting", ts(kTxt, types.KindBool), types.Text, setting)
	// pg_typeof needs the argument's type, which only the call site knows.
	t.add("pg_typeof", &Overload{
		Args: ts(types.KindUnknown), NullIn: true, Ret: retConst(types.Text),
		Eval: func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewText(typeName(types.Type{Kind: a[0].Kind()})), nil
		},
		Bind: func(args []types.Type) evalFn {
			name := types.NewText(typeName(args[0]))
			return func(*Env, []types.Datum) (types.Datum, error) { return name, nil }
		},
	})
}
