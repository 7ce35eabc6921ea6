package coord

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// The rows of each virtual relation (see pgcatalog.go).

// pgTypeInfo is one row of pg_type: the types Weir has, plus the few
// PostgreSQL types the catalog itself is described with.
type pgTypeInfo struct {
	oid      int64
	name     string
	length   int16
	byVal    bool
	category string
	align    string
	storage  string
	coll     int64
	io       string // input/output function prefix
}

var pgTypes = []pgTypeInfo{
	{16, "bool", 1, true, "B", "c", "p", 0, "bool"},
	{17, "bytea", -1, false, "U", "i", "x", 0, "bytea"},
	{18, "char", 1, true, "Z", "c", "p", 0, "char"},
	{19, "name", 64, false, "S", "c", "p", 950, "name"},
	{20, "int8", 8, true, "N", "d", "p", 0, "int8"},
	{21, "int2", 2, true, "N", "s", "p", 0, "int2"},
	{23, "int4", 4, true, "N", "i", "p", 0, "int4"},
	{25, "text", -1, false, "S", "i", "x", 100, "text"},
	{26, "oid", 4, true, "N", "i", "p", 0, "oid"},
	{114, "json", -1, false, "U", "i", "x", 0, "json"},
	{700, "float4", 4, true, "N", "i", "p", 0, "float4"},
	{701, "float8", 8, true, "N", "d", "p", 0, "float8"},
	{705, "unknown", -2, false, "X", "c", "p", 0, "unknown"},
	{1042, "bpchar", -1, false, "S", "i", "x", 100, "bpchar"},
	{1043, "varchar", -1, false, "S", "i", "x", 100, "varchar"},
	{1082, "date", 4, true, "D", "i", "p", 0, "date"},
	{1083, "time", 8, true, "D", "d", "p", 0, "time"},
	{1114, "timestamp", 8, true, "D", "d", "p", 0, "timestamp"},
	{1184, "timestamptz", 8, true, "D", "d", "p", 0, "timestamptz"},
	{1186, "interval", 16, false, "T", "d", "p", 0, "interval"},
	{1700, "numeric", -1, false, "N", "i", "m", 0, "numeric"},
	{2205, "regclass", 4, true, "N", "i", "p", 0, "regclass"},
	{2206, "regtype", 4, true, "N", "i", "p", 0, "regtype"},
	{3802, "jsonb", -1, false, "U", "i", "x", 0, "jsonb"},
}

func (v *catalogView) pgType() []types.Row {
	out := make([]types.Row, 0, len(pgTypes))
	for _, t := range pgTypes {
		preferred := t.name == "text" || t.name == "float8" || t.name == "bool" || t.name == "timestamptz" || t.name == "interval" || t.name == "oid"
		out = append(out, types.Row{
			i8(t.oid), txt(t.name), i8(nsPgCatalog), i8(ownerOID), i2(t.length), bl(t.byVal), txt("b"), txt(t.category),
			bl(preferred), bl(true), txt(","), i8(0), txt("-"), i8(0), i8(0),
			txt(t.io + "in"), txt(t.io + "out"), txt(t.io + "recv"), txt(t.io + "send"), txt("-"), txt("-"), txt("-"),
			txt(t.align), txt(t.storage), bl(false), i8(0), i4(-1), i4(0), i8(t.coll), types.Null, types.Null, types.Null,
		})
	}
	return out
}

// typeOID is the pg_type OID of a column type, and its typmod.
func typeOID(t types.Type) (int64, int32) {
	oid := int64(t.OID())
	if t.Kind == types.KindText && !t.Fixed && t.Width > 0 {
		oid = int64(types.OIDVarchar)
	}
	return oid, t.Modifier()
}

func typeInfo(oid int64) pgTypeInfo {
	for _, t := range pgTypes {
		if t.oid == oid {
			return t
		}
	}
	return pgTypeInfo{oid: oid, length: -1, align: "i", storage: "x"}
}

func (v *catalogView) pgNamespace() []types.Row {
	return []types.Row{
		{i8(nsPgCatalog), txt("pg_catalog"), i8(ownerOID), types.Null},
		{i8(nsPublic), txt("public"), i8(ownerOID), types.Null},
		{i8(nsInfoSchema), txt("information_schema"), i8(ownerOID), types.Null},
		{i8(nsWeirCatalog), txt("weir_catalog"), i8(ownerOID), types.Null},
	}
}

func (v *catalogView) pgClass() []types.Row {
	var out []types.Row
	row := func(oid int64, name string, ns int64, am int64, kind string, natts int, hasIndex bool) types.Row {
		return types.Row{
			i8(oid), txt(name), i8(ns), i8(0), i8(0), i8(ownerOID), i8(am), i8(oid), i8(0),
			i4(0), types.NewFloat32(-1), i4(0), i8(0), bl(hasIndex), bl(false), txt("p"), txt(kind),
			i2(int16(natts)), i2(0), bl(false), bl(false), bl(false), bl(false), bl(false), bl(true),
			txt("d"), bl(false), i8(0), i8(0), i8(0), types.Null, types.Null, types.Null,
		}
	}
	for _, ri := range v.all() {
		r := ri.rel
		am := int64(heapAM)
		if r.Kind == catalog.View {
			am = 0
		}
		out = append(out, row(int64(r.ID), r.Name, ri.nsOID, am, relKind(r), len(visibleColumns(r)), hasPK(r)))
		if hasPK(r) {
			out = append(out, row(int64(r.ID)|indexOIDBit, pkName(r), ri.nsOID, btreeAM, "i", len(r.PrimaryKey), false))
		}
	}
	return out
}

func (v *catalogView) pgAttribute() []types.Row {
	var out []types.Row
	for _, ri := range v.all() {
		r := ri.rel
		for _, i := range visibleColumns(r) {
			c := r.Columns[i]
			oid, mod := typeOID(c.Type)
			ti := typeInfo(oid)
			out = append(out, types.Row{
				i8(int64(r.ID)), txt(c.Name), i8(oid), i4(-1), i2(ti.length), i2(attnum(i)), i4(0), i4(-1), i4(mod),
				bl(ti.byVal), txt(ti.align), txt(ti.storage), txt(""), bl(c.NotNull), bl(c.Default != ""), bl(false),
				txt(""), txt(""), bl(false), bl(true), i4(0), i8(ti.coll), types.Null, types.Null, types.Null, types.Null,
			})
		}
		if hasPK(r) {
			for _, k := range r.PrimaryKey {
				c := r.Columns[k]
				oid, mod := typeOID(c.Type)
				ti := typeInfo(oid)
				out = append(out, types.Row{
					i8(int64(r.ID) | indexOIDBit), txt(c.Name), i8(oid), i4(-1), i2(ti.length), i2(int16(len(out))), i4(0), i4(-1), i4(mod),
					bl(ti.byVal), txt(ti.align), txt(ti.storage), txt(""), bl(false), bl(false), bl(false),
					txt(""), txt(""), bl(false), bl(true), i4(0), i8(ti.coll), types.Null, types.Null, types.Null, types.Null,
				})
			}
		}
	}
	// index attributes are numbered 1..n within their index
	var last int64
	var n int16
	for _, row := range out {
		if row[0].Int()&indexOIDBit == 0 {
			continue
		}
		if row[0].Int() != last {
			last, n = row[0].Int(), 0
		}
		n++
		row[5] = i2(n)
	}
	return out
}

func (v *catalogView) pgAttrdef() []types.Row {
	var out []types.Row
	v.load()
	for _, r := range v.rels {
		for _, i := range visibleColumns(r) {
			if d := r.Columns[i].Default; d != "" {
				out = append(out, types.Row{i8(attrdefOIDBit | int64(r.ID)<<10 | int64(i+1)), i8(int64(r.ID)), i2(attnum(i)), txt(d)})
			}
		}
	}
	return out
}

// pkKey is the primary key's attnums, space-separated (int2vector) or in
// braces (int2[]).
func pkKey(r *catalog.Relation, braces bool) string {
	parts := make([]string, len(r.PrimaryKey))
	for i, k := range r.PrimaryKey {
		parts[i] = fmt.Sprint(attnum(k))
	}
	if braces {
		return "{" + strings.Join(parts, ",") + "}"
	}
	return strings.Join(parts, " ")
}

func (v *catalogView) pgIndex() []types.Row {
	var out []types.Row
	v.load()
	for _, r := range v.rels {
		if !hasPK(r) {
			continue
		}
		n := i2(int16(len(r.PrimaryKey)))
		t, f := bl(true), bl(false)
		zeros := strings.TrimSpace(strings.Repeat("0 ", len(r.PrimaryKey)))
		out = append(out, types.Row{
			i8(int64(r.ID) | indexOIDBit), i8(int64(r.ID)), n, n, t, f, t, f, t, f, t, f, t, t, f,
			txt(pkKey(r, false)), txt(zeros), txt(zeros), txt(zeros), types.Null, types.Null,
		})
	}
	return out
}

func (v *catalogView) pgConstraint() []types.Row {
	var out []types.Row
	v.load()
	for _, r := range v.rels {
		if !hasPK(r) {
			continue
		}
		t, f := bl(true), bl(false)
		out = append(out, types.Row{
			i8(int64(r.ID) | constraintOIDBit), txt(pkName(r)), i8(nsPublic), txt("p"), f, f, t, i8(int64(r.ID)), i8(0),
			i8(int64(r.ID) | indexOIDBit), i8(0), i8(0), txt(" "), txt(" "), txt(" "), t, i4(0), t,
			txt(pkKey(r, true)), types.Null, types.Null, types.Null, types.Null, types.Null, types.Null, types.Null,
		})
	}
	return out
}

func (v *catalogView) pgDatabase() []types.Row {
	return []types.Row{{
		i8(databaseOID), txt(v.db), i8(ownerOID), i4(6), txt("c"), bl(false), bl(true), i4(-1), i8(0), i8(0), i8(1663),
		txt("C"), txt("C"), types.Null, types.Null, types.Null,
	}}
}

// staticSettings are pg_settings rows for parameters Weir does not keep
// per session but that drivers read.
var staticSettings = [][2]string{
	{"block_size", "8192"},
	{"max_identifier_length", "63"},
	{"max_index_keys", "32"},
}

func (v *catalogView) pgSettings() []types.Row {
	type kv struct{ name, val, desc string }
	var all []kv
	seen := map[string]bool{}
	for key, def := range v.s.defs {
		if strings.Contains(def.name, ".") || def.desc == "(unrecognized; accepted for compatibility)" {
			continue
		}
		all = append(all, kv{def.name, v.s.vars[key], def.desc})
		seen[key] = true
	}
	for _, s := range staticSettings {
		if !seen[s[0]] {
			all = append(all, kv{s[0], s[1], ""})
		}
	}
	sort.Slice(all, func(i, j int) bool { return strings.ToLower(all[i].name) < strings.ToLower(all[j].name) })
	out := make([]types.Row, len(all))
	for i, s := range all {
		out[i] = types.Row{
			txt(s.name), txt(s.val), types.Null, txt("Weir"), txt(s.desc), types.Null, txt("user"), txt("string"),
			txt("default"), types.Null, types.Null, types.Null, txt(s.val), txt(s.val), types.Null, types.Null, bl(false),
		}
	}
	return out
}

// ---- information_schema ----

func yesNo(b bool) types.Datum {
	if b {
		return txt("YES")
	}
	return txt("NO")
}

func (v *catalogView) isSchemata() []types.Row {
	var out []types.Row
	for _, ns := range []string{"information_schema", "pg_catalog", "public", "weir_catalog"} {
		out = append(out, types.Row{txt(v.db), txt(ns), txt(v.user), types.Null, types.Null, types.Null, types.Null})
	}
	return out
}

func (v *catalogView) isTables() []types.Row {
	var out []types.Row
	for _, ri := range v.all() {
		typ, ins := "BASE TABLE", "YES"
		if ri.rel.Kind == catalog.View || ri.rel.Kind == catalog.MaterializedView {
			typ, ins = "VIEW", "NO"
		}
		if isVirtual(ri.rel) {
			ins = "NO"
		}
		out = append(out, types.Row{
			txt(v.db), txt(ri.schema), txt(ri.rel.Name), txt(typ), types.Null, types.Null, types.Null, types.Null, types.Null,
			txt(ins), txt("NO"), types.Null,
		})
	}
	return out
}

func (v *catalogView) isColumns() []types.Row {
	var out []types.Row
	null := types.Null
	for _, ri := range v.all() {
		r := ri.rel
		for _, i := range visibleColumns(r) {
			c := r.Columns[i]
			oid, _ := typeOID(c.Type)
			dataType := funcs.FormatType(oid, -1)
			udt := typeInfo(oid).name
			var charMax, octetMax, numPrec, numRadix, numScale, dtPrec = null, null, null, null, null, null
			switch c.Type.Kind {
			case types.KindText:
				if c.Type.Width > 0 {
					charMax, octetMax = i4(c.Type.Width), i4(c.Type.Width*4)
				} else {
					octetMax = i4(1073741824)
				}
			case types.KindInt16:
				numPrec, numRadix, numScale = i4(16), i4(2), i4(0)
			case types.KindInt32:
				numPrec, numRadix, numScale = i4(32), i4(2), i4(0)
			case types.KindInt64:
				numPrec, numRadix, numScale = i4(64), i4(2), i4(0)
			case types.KindFloat32:
				numPrec, numRadix = i4(24), i4(2)
			case types.KindFloat64:
				numPrec, numRadix = i4(53), i4(2)
			case types.KindNumeric:
				numRadix = i4(10)
				if c.Type.Precision > 0 {
					numPrec, numScale = i4(int32(c.Type.Precision)), i4(int32(c.Type.Scale))
				}
			case types.KindDate:
				dtPrec = i4(0)
			case types.KindTime, types.KindTimestamp, types.KindTimestampTZ, types.KindInterval:
				dtPrec = i4(6)
			}
			def := null
			if c.Default != "" {
				def = txt(c.Default)
			}
			out = append(out, types.Row{
				txt(v.db), txt(ri.schema), txt(r.Name), txt(c.Name), i4(int32(attnum(i))), def, yesNo(!c.NotNull), txt(dataType),
				charMax, octetMax, numPrec, numRadix, numScale, dtPrec, null, null,
				null, null, null, null, null, null, null, null, null,
				txt(v.db), txt("pg_catalog"), txt(udt), null, null, null, null, txt(fmt.Sprint(attnum(i))), txt("NO"),
				txt("NO"), null, null, null, null, null, txt("NO"), txt("NEVER"), null, yesNo(!isVirtual(r) && r.Kind == catalog.Table),
			})
		}
	}
	return out
}

// notNullName is the name PostgreSQL 15 gives a NOT NULL column in
// information_schema.table_constraints.
func notNullName(r *catalog.Relation, i int) string {
	return fmt.Sprintf("%d_%d_%d_not_null", nsPublic, r.ID, attnum(i))
}

func (v *catalogView) isTableConstraints() []types.Row {
	var out []types.Row
	v.load()
	row := func(r *catalog.Relation, name, typ string) types.Row {
		return types.Row{txt(v.db), txt("public"), txt(name), txt(v.db), txt("public"), txt(r.Name), txt(typ), txt("NO"), txt("NO"), txt("YES"), types.Null}
	}
	for _, r := range v.rels {
		if hasPK(r) {
			out = append(out, row(r, pkName(r), "PRIMARY KEY"))
			out[len(out)-1][10] = txt("YES")
		}
		for _, i := range visibleColumns(r) {
			if r.Columns[i].NotNull {
				out = append(out, row(r, notNullName(r, i), "CHECK"))
			}
		}
	}
	return out
}

func (v *catalogView) isKeyColumnUsage() []types.Row {
	var out []types.Row
	v.load()
	for _, r := range v.rels {
		if !hasPK(r) {
			continue
		}
		for pos, k := range r.PrimaryKey {
			out = append(out, types.Row{
				txt(v.db), txt("public"), txt(pkName(r)), txt(v.db), txt("public"), txt(r.Name), txt(r.Columns[k].Name),
				i4(int32(pos + 1)), types.Null,
			})
		}
	}
	return out
}
