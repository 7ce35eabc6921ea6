package funcs

import (
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func TestResolve(t *testing.T) {
	varchar := types.Type{Kind: types.KindText, Width: 10}
	cases := []struct {
		name     string
		args     []types.Type
		wantArgs []types.Type
		wantRet  types.Type
		code     sqlerr.Code
		msg      string
	}{
		{name: "+", args: ts(kI4, types.KindInt64), wantArgs: ts(kI4, types.KindInt64), wantRet: types.Int64},
		{name: "+", args: ts(kI4, types.KindNumeric), wantArgs: ts(types.KindNumeric, types.KindNumeric), wantRet: types.Numeric},
		{name: "+", args: ts(types.KindUnknown, kI4), wantArgs: ts(kI4, kI4), wantRet: types.Int32},
		{name: "+", args: ts(types.KindInt16, types.KindInt16), wantArgs: ts(types.KindInt16, types.KindInt16), wantRet: types.Int16},
		{name: "+", args: ts(types.KindInt64, types.KindFloat32), wantArgs: ts(kF8, types.KindFloat32), wantRet: types.Float64},
		{name: "/", args: ts(kI4, kI4), wantArgs: ts(kI4, kI4), wantRet: types.Int32},
		{name: "=", args: []types.Type{types.Text, types.Unknown}, wantArgs: ts(kTxt, kTxt), wantRet: types.Bool},
		{name: "=", args: []types.Type{varchar, types.Unknown}, wantArgs: []types.Type{varchar, varchar}, wantRet: types.Bool},
		{name: "=", args: ts(types.KindUnknown, types.KindUnknown), wantArgs: ts(kTxt, kTxt), wantRet: types.Bool},
		{name: ">", args: ts(kTS, types.KindUnknown), wantArgs: ts(kTS, kTS), wantRet: types.Bool},
		{name: "<", args: ts(kDate, kTS), wantArgs: ts(kTS, kTS), wantRet: types.Bool},
		{name: "<", args: ts(kDate, kTZ), wantArgs: ts(kTZ, kTZ), wantRet: types.Bool},
		{name: "=", args: ts(kI4, types.KindNumeric), wantArgs: ts(types.KindNumeric, types.KindNumeric), wantRet: types.Bool},
		{name: "||", args: ts(types.KindUnknown, kI4), wantArgs: ts(kTxt, kI4), wantRet: types.Text},
		{name: "||", args: ts(kJ, types.KindUnknown), wantArgs: ts(kJ, kJ), wantRet: types.JSONB},
		{name: "-", args: ts(kTS, kTS), wantArgs: ts(kTS, kTS), wantRet: types.Interval},
		{name: "+", args: ts(kDate, kI4), wantArgs: ts(kDate, kI4), wantRet: types.Date},
		{name: "length", args: ts(types.KindUnknown), wantArgs: ts(kTxt), wantRet: types.Int32},
		{name: "round", args: ts(kI4), wantArgs: ts(kF8), wantRet: types.Float64},
		{name: "round", args: ts(types.KindNumeric, kI4), wantArgs: ts(types.KindNumeric, kI4), wantRet: types.Numeric},
		{name: "ROUND", args: ts(types.KindNumeric), wantArgs: ts(types.KindNumeric), wantRet: types.Numeric},
		{name: "date_trunc", args: ts(types.KindUnknown, kTS), wantArgs: ts(kTxt, kTS), wantRet: types.Timestamp},
		{name: "date_trunc", args: ts(types.KindUnknown, kDate), wantArgs: ts(kTxt, kTZ), wantRet: types.TimestampTZ},
		{name: "greatest", args: ts(kI4, types.KindNumeric), wantArgs: ts(types.KindNumeric, types.KindNumeric), wantRet: types.Numeric},
		{name: "concat", args: ts(kI4, types.KindUnknown), wantArgs: ts(kI4, types.KindUnknown), wantRet: types.Text},
		{name: "substring", args: ts(kTxt, types.KindUnknown), wantArgs: ts(kTxt, kTxt), wantRet: types.Text},
		{name: "substring", args: ts(kTxt, kI4), wantArgs: ts(kTxt, kI4), wantRet: types.Text},
		{name: "=", args: ts(kI4, kTxt), code: sqlerr.UndefinedFunction, msg: "operator does not exist: integer = text"},
		{name: "-", args: ts(kTxt), code: sqlerr.UndefinedFunction, msg: "operator does not exist: - text"},
		{name: "foo", args: ts(kI4), code: sqlerr.UndefinedFunction, msg: "function foo(integer) does not exist"},
		{name: "length", args: ts(kI4), code: sqlerr.UndefinedFunction, msg: "function length(integer) does not exist"},
		{name: "+", args: ts(types.KindUnknown, types.KindUnknown), code: sqlerr.AmbiguousFunction, msg: "operator is not unique: unknown + unknown"},
	}
	for _, c := range cases {
		r, err := Resolve(c.name, c.args)
		if c.code != "" {
			e := sqlerr.From(err)
			if err == nil || e.Code != c.code || e.Message != c.msg {
				t.Errorf("%s%v: got %v (%v), want %s %q", c.name, c.args, err, sqlerr.CodeOf(err), c.code, c.msg)
			}
			if e != nil && e.Hint == "" {
				t.Errorf("%s%v: no hint", c.name, c.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", c.name, c.args, err)
			continue
		}
		if len(r.ArgTypes) != len(c.wantArgs) {
			t.Errorf("%s%v: args %v", c.name, c.args, r.ArgTypes)
			continue
		}
		for i := range r.ArgTypes {
			if r.ArgTypes[i] != c.wantArgs[i] {
				t.Errorf("%s%v: args %v, want %v", c.name, c.args, r.ArgTypes, c.wantArgs)
				break
			}
		}
		if r.Ret != c.wantRet {
			t.Errorf("%s%v: ret %v, want %v", c.name, c.args, r.Ret, c.wantRet)
		}
	}
}

// TestRegistryComplete checks every overload is fully described.
func TestRegistryComplete(t *testing.T) {
	for name, ovs := range registry() {
		for _, ov := range ovs {
			if ov.Ret == nil || ov.Eval == nil {
				t.Errorf("%s: overload %v lacks Ret or Eval", name, ov.Args)
			}
		}
	}
}

func TestJSONBAndSystem(t *testing.T) {
	doc := jb(`{"a": {"b": [1, 2, {"c": "x"}]}, "n": null, "s": "str"}`)
	runCases(t, []evalCase{
		{"->", A{doc, tx("s")}, `"str"`},
		{"->>", A{doc, tx("s")}, `str`},
		{"->>", A{doc, tx("n")}, `NULL`},
		{"->", A{doc, tx("zz")}, `NULL`},
		{"->", A{jb(`[1, 2, 3]`), i4(-1)}, `3`},
		{"->>", A{jb(`[1, 2, 3]`), i4(0)}, `1`},
		{"#>", A{doc, tx("{a,b,2}")}, `{"c": "x"}`},
		{"#>>", A{doc, tx("{a,b,2,c}")}, `x`},
		{"#>", A{doc, tx("a,b")}, `ERR:22P02`},
		{"@>", A{doc, jb(`{"a": {"b": [2]}}`)}, `true`},
		{"@>", A{doc, jb(`{"a": {"b": [5]}}`)}, `false`},
		{"<@", A{jb(`{"s": "str"}`), doc}, `true`},
		{"@>", A{jb(`[1, 2, 3]`), jb(`3`)}, `true`},
		{"@>", A{jb(`{"x": 1.0}`), jb(`{"x": 1}`)}, `true`},
		{"?", A{doc, tx("n")}, `true`},
		{"?", A{jb(`["a", "b"]`), tx("b")}, `true`},
		{"?", A{doc, tx("q")}, `false`},
		{"=", A{jb(`{"a": 1}`), jb(`{"a": 1}`)}, `true`},
		{"||", A{jb(`{"a": 1}`), jb(`{"b": 2, "a": 3}`)}, `{"a": 3, "b": 2}`},
		{"||", A{jb(`[1]`), jb(`2`)}, `[1, 2]`},
		{"-", A{jb(`{"a": 1, "b": 2}`), tx("a")}, `{"b": 2}`},
		{"jsonb_typeof", A{doc}, `object`},
		{"jsonb_typeof", A{jb(`1.5`)}, `number`},
		{"jsonb_extract_path", A{doc, tx("a"), tx("b"), tx("0")}, `1`},
		{"jsonb_extract_path_text", A{doc, tx("s")}, `str`},
		{"jsonb_array_length", A{jb(`[1, [2], 3]`)}, `3`},
		{"jsonb_array_length", A{jb(`{}`)}, `ERR:22023`},
		{"jsonb_build_object", A{tx("b"), i4(1), tx("a"), tx("x"), tx("c"), null(kI4)}, `{"a": "x", "b": 1, "c": null}`},
		{"jsonb_build_object", A{tx("a")}, `ERR:22023`},
		{"jsonb_build_object", A{null(kTxt), i4(1)}, `ERR:22004`},
		{"jsonb_build_array", A{i4(1), tx("a"), bo(true), null(kI4), num("1.50")}, `[1, "a", true, null, 1.50]`},
		{"to_jsonb", A{tsv("2024-01-02 03:04:05")}, `"2024-01-02T03:04:05"`},
		{"to_jsonb", A{tx(`a"b`)}, `"a\"b"`},
		{"jsonb_pretty", A{jb(`{"a": [1, 2]}`)}, "{\n    \"a\": [\n        1,\n        2\n    ]\n}"},
		{"jsonb_strip_nulls", A{jb(`{"a": null, "b": {"c": null, "d": 1}}`)}, `{"b": {"d": 1}}`},
		{"version", A{}, "PostgreSQL 15.0 (Weir 0.1)"},
		{"current_database", A{}, "weir"},
		{"current_schema", A{}, "public"},
		{"current_user", A{}, "alice"},
		{"session_user", A{}, "alice"},
		{"current_setting", A{tx("TimeZone")}, "Europe/Amsterdam"},
		{"current_setting", A{tx("nope")}, "ERR:42704"},
		{"current_setting", A{tx("nope"), bo(true)}, "NULL"},
		{"pg_typeof", A{num("1")}, "numeric"},
		{"pg_typeof", A{null(kTS)}, "timestamp without time zone"},
	})
	r, err := Resolve("pg_typeof", []types.Type{{Kind: kTxt, Width: 5}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.Evaluator()(testEnv(), []types.Datum{types.Null})
	if d.Str() != "character varying" {
		t.Errorf("pg_typeof(varchar) = %q", d.Str())
	}
}
