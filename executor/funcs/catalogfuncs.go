package funcs

import (
	"fmt"
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// System catalog information functions (PostgreSQL docs 9.26), the ones
// psql's \d commands and JDBC's DatabaseMetaData call. Weir has no oid or
// reg* types: an object identifier is an int8, and x::regclass arrives
// here as regclass(x) (the parser rewrites casts to reg* types).

// CatalogInfo answers the questions about catalog objects that catalog
// functions ask; the coordinator implements it over the catalog as of the
// statement's start. Implementations must be safe for concurrent use.
type CatalogInfo interface {
	// RelationOID resolves a relation name as written in 't'::regclass
	// ("t", "public.t", "pg_catalog.pg_class", quoted parts allowed).
	RelationOID(name string) (oid int64, ok bool)
	// RelationVisible reports whether the relation is found by an
	// unqualified name (pg_table_is_visible).
	RelationVisible(oid int64) bool
	// IndexDef is pg_get_indexdef of an index OID.
	IndexDef(oid int64) (string, bool)
	// ConstraintDef is pg_get_constraintdef of a constraint OID.
	ConstraintDef(oid int64) (string, bool)
}

// Well-known OIDs of the objects every Weir database has.
const (
	OIDNamespacePgCatalog  = 11
	OIDNamespacePublic     = 2200
	OIDNamespaceInfoSchema = 13000
	OIDOwnerRole           = 10 // the owner of everything: the session's user
)

// typeOIDByName maps the names a reg* cast may use to type OIDs.
func typeOIDByName(name string) (int64, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "pg_catalog.")
	switch n {
	case "varchar", "character varying":
		return int64(types.OIDVarchar), true
	case "bpchar", "char", "character":
		return int64(types.OIDBpchar), true
	case "name":
		return 19, true
	case "oid", "regclass", "regtype":
		return map[string]int64{"oid": 26, "regclass": 2205, "regtype": 2206}[n], true
	}
	t, ok := types.ParseTypeName(n, nil)
	if !ok {
		return 0, false
	}
	return int64(t.OID()), true
}

// FormatType is format_type(oid, typmod): the SQL name of a type as
// PostgreSQL prints it; typmod < 0 means none.
func FormatType(oid int64, typmod int64) string {
	switch oid {
	case 0:
		return "-"
	case 19:
		return "name"
	case 26:
		return "oid"
	case 18:
		return `"char"`
	}
	t, ok := types.FromOID(uint32(oid))
	if !ok || oid == int64(types.OIDUnknown) && t.Kind == types.KindText {
		if oid == int64(types.OIDUnknown) {
			return "unknown"
		}
		return "???"
	}
	switch uint32(oid) {
	case types.OIDVarchar:
		if typmod > 4 {
			return fmt.Sprintf("character varying(%d)", typmod-4)
		}
		return "character varying"
	case types.OIDBpchar:
		if typmod > 4 {
			return fmt.Sprintf("character(%d)", typmod-4)
		}
		return "bpchar"
	case types.OIDNumeric:
		if typmod > 4 {
			m := typmod - 4
			return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff)
		}
		return "numeric"
	case 114:
		return "json"
	}
	return t.String()
}

func addCatalogFuncs(t table) {
	const kI8 = types.KindInt64
	i8 := func(v int64) types.Datum { return types.NewInt64(v) }
	yes := func(*Env, []types.Datum) (types.Datum, error) { return types.NewBool(true), nil }
	null := func(*Env, []types.Datum) (types.Datum, error) { return types.Null, nil }
	ident := func(_ *Env, a []types.Datum) (types.Datum, error) { return i8(a[0].Int()), nil }

	// x::regclass and friends: a number stays itself, a name is looked up.
	for _, n := range []string{"regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "regoperator", "regconfig", "regdictionary", "regcollation"} {
		t.fn(n, ts(kI8), types.Int64, ident)
	}
	lookupClass := func(missingOK bool) evalFn {
		return func(env *Env, a []types.Datum) (types.Datum, error) {
			name := a[0].Str()
			if env.Catalog != nil {
				if oid, ok := env.Catalog.RelationOID(name); ok {
					return i8(oid), nil
				}
			}
			if missingOK {
				return types.Null, nil
			}
			return types.Null, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
		}
	}
	t.fn("regclass", ts(kTxt), types.Int64, lookupClass(false))
	t.fn("to_regclass", ts(kTxt), types.Int64, lookupClass(true))
	lookupType := func(missingOK bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			if oid, ok := typeOIDByName(a[0].Str()); ok {
				return i8(oid), nil
			}
			if missingOK {
				return types.Null, nil
			}
			return types.Null, sqlerr.New(sqlerr.UndefinedObject, "type \"%s\" does not exist", a[0].Str())
		}
	}
	t.fn("regtype", ts(kTxt), types.Int64, lookupType(false))
	t.fn("to_regtype", ts(kTxt), types.Int64, lookupType(true))
	namespaceOID := func(missingOK bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			switch a[0].Str() {
			case "pg_catalog":
				return i8(OIDNamespacePgCatalog), nil
			case "public":
				return i8(OIDNamespacePublic), nil
			case "information_schema":
				return i8(OIDNamespaceInfoSchema), nil
			}
			if missingOK {
				return types.Null, nil
			}
			return types.Null, sqlerr.New(sqlerr.InvalidSchemaName, "schema \"%s\" does not exist", a[0].Str())
		}
	}
	t.fn("regnamespace", ts(kTxt), types.Int64, namespaceOID(false))
	t.fn("to_regnamespace", ts(kTxt), types.Int64, namespaceOID(true))
	t.fn("regrole", ts(kTxt), types.Int64, func(*Env, []types.Datum) (types.Datum, error) { return i8(OIDOwnerRole), nil })

	// Visibility in the search path.
	t.fn("pg_table_is_visible", ts(kI8), types.Bool, func(env *Env, a []types.Datum) (types.Datum, error) {
		if env.Catalog == nil {
			return types.NewBool(true), nil
		}
		return types.NewBool(env.Catalog.RelationVisible(a[0].Int())), nil
	})
	for _, n := range []string{"pg_type_is_visible", "pg_function_is_visible", "pg_opclass_is_visible", "pg_collation_is_visible", "pg_conversion_is_visible"} {
		t.fn(n, ts(kI8), types.Bool, yes)
	}

	// Owners and privileges: one role owns everything and may do anything.
	t.fn("pg_get_userbyid", ts(kI8), types.Text, func(env *Env, a []types.Datum) (types.Datum, error) {
		if a[0].Int() == OIDOwnerRole {
			return types.NewText(env.User), nil
		}
		return types.NewText(fmt.Sprintf("unknown (OID=%d)", a[0].Int())), nil
	})
	for _, n := range []string{"has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege", "has_any_column_privilege", "has_function_privilege", "has_sequence_privilege"} {
		t.add(n, &Overload{Args: ts(types.KindUnknown, kTxt), Ret: retConst(types.Bool), Eval: yes})
		t.add(n, &Overload{Args: ts(types.KindUnknown, types.KindUnknown, kTxt), Ret: retConst(types.Bool), Eval: yes})
	}
	t.add("has_column_privilege", &Overload{Args: ts(types.KindUnknown, types.KindUnknown, types.KindUnknown, kTxt), Ret: retConst(types.Bool), Eval: yes})

	// Types and expressions.
	formatType := func(_ *Env, a []types.Datum) (types.Datum, error) {
		if a[0].IsNull() {
			return types.Null, nil
		}
		mod := int64(-1)
		if len(a) > 1 && !a[1].IsNull() {
			mod = a[1].Int()
		}
		return types.NewText(FormatType(a[0].Int(), mod)), nil
	}
	t.add("format_type", &Overload{Args: ts(kI8, kI8), Ret: retConst(types.Text), Eval: formatType, NullIn: true})
	// pg_attrdef.adbin holds the DEFAULT expression's SQL text.
	getExpr := func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewText(a[0].Str()), nil }
	t.fn("pg_get_expr", ts(kTxt, kI8), types.Text, getExpr)
	t.fn("pg_get_expr", ts(kTxt, kI8, types.KindBool), types.Text, getExpr)
	def := func(get func(c CatalogInfo, oid int64) (string, bool)) evalFn {
		return func(env *Env, a []types.Datum) (types.Datum, error) {
			if env.Catalog == nil {
				return types.Null, nil
			}
			if s, ok := get(env.Catalog, a[0].Int()); ok {
				return types.NewText(s), nil
			}
			return types.Null, nil
		}
	}
	indexDef := def(CatalogInfo.IndexDef)
	t.fn("pg_get_indexdef", ts(kI8), types.Text, indexDef)
	t.fn("pg_get_indexdef", ts(kI8, kI4, types.KindBool), types.Text, func(env *Env, a []types.Datum) (types.Datum, error) {
		if a[1].Int() != 0 { // one key column: PostgreSQL prints its name
			return types.Null, nil
		}
		return indexDef(env, a)
	})
	t.fn("pg_get_constraintdef", ts(kI8), types.Text, def(CatalogInfo.ConstraintDef))
	t.fn("pg_get_constraintdef", ts(kI8, types.KindBool), types.Text, def(CatalogInfo.ConstraintDef))
	t.fn("pg_get_viewdef", ts(kI8), types.Text, null)
	t.fn("pg_get_viewdef", ts(kI8, types.KindBool), types.Text, null)
	t.fn("pg_get_triggerdef", ts(kI8), types.Text, null)
	t.fn("pg_get_function_result", ts(kI8), types.Text, null)
	t.fn("pg_get_function_arguments", ts(kI8), types.Text, null)
	t.fn("pg_get_function_identity_arguments", ts(kI8), types.Text, null)

	// Comments: Weir has none (COMMENT ON is not supported).
	t.fn("obj_description", ts(kI8), types.Text, null)
	t.fn("obj_description", ts(kI8, kTxt), types.Text, null)
	t.fn("col_description", ts(kI8, kI4), types.Text, null)
	t.fn("shobj_description", ts(kI8, kTxt), types.Text, null)

	// Sizes: storage is shared by all relations in one Pebble instance.
	for _, n := range []string{"pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size"} {
		t.fn(n, ts(kI8), types.Int64, func(*Env, []types.Datum) (types.Datum, error) { return i8(0), nil })
	}
	t.fn("pg_database_size", ts(kTxt), types.Int64, func(*Env, []types.Datum) (types.Datum, error) { return i8(0), nil })
	t.fn("pg_relation_size", ts(kI8, kTxt), types.Int64, func(*Env, []types.Datum) (types.Datum, error) { return i8(0), nil })
	t.fn("pg_size_pretty", ts(kI8), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(sizePretty(a[0].Int())), nil
	})

	// Miscellany psql and drivers call.
	t.fn("pg_encoding_to_char", ts(kI4), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		switch a[0].Int() {
		case 0:
			return types.NewText("SQL_ASCII"), nil
		case 6:
			return types.NewText("UTF8"), nil
		}
		return types.NewText(""), nil
	})
	t.fn("pg_char_to_encoding", ts(kTxt), types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		switch strings.ToUpper(a[0].Str()) {
		case "UTF8", "UTF-8", "UNICODE":
			return types.NewInt32(6), nil
		case "SQL_ASCII":
			return types.NewInt32(0), nil
		}
		return types.NewInt32(-1), nil
	})
	// Weir has no arrays; aclitem[] and the like are NULL, and a text
	// argument is taken as the one element.
	t.fn("array_to_string", ts(kTxt, kTxt), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(a[0].Str()), nil
	})
	t.fn("current_schemas", ts(types.KindBool), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		if a[0].Bool() {
			return types.NewText("{pg_catalog,public}"), nil
		}
		return types.NewText("{public}"), nil
	})
	t.fn("pg_is_in_recovery", nil, types.Bool, func(*Env, []types.Datum) (types.Datum, error) { return types.NewBool(false), nil })
	t.fn("pg_relation_is_publishable", ts(kI8), types.Bool, func(*Env, []types.Datum) (types.Datum, error) { return types.NewBool(false), nil })
	t.fn("pg_tablespace_location", ts(kI8), types.Text, func(*Env, []types.Datum) (types.Datum, error) { return types.NewText(""), nil })
}

// sizePretty is pg_size_pretty(bigint).
func sizePretty(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	v, i := n, 0
	for i < len(units)-1 && (v >= 10*1024 || v <= -10*1024) {
		// PostgreSQL rounds half away from zero at each step.
		if v >= 0 {
			v = (v + 512) / 1024
		} else {
			v = (v - 512) / 1024
		}
		i++
	}
	return fmt.Sprintf("%d %s", v, units[i])
}
