package funcs

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// jsonb operators and functions (PostgreSQL docs 9.16). Values are
// types' canonical jsonb text; field and element access use
// types.JSONBField/JSONBElem, containment and construction a small tree.

func cmpJSONB(a, b types.Datum) int { return types.Compare(a, b) }

const kJ = types.KindJSONB

func addJSONB(t table) {
	field := func(asText bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			v, ok := types.JSONBField(a[0], a[1].Str())
			return jsonOut(v, ok, asText)
		}
	}
	elem := func(asText bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			v, ok := jsonElem(a[0], int(a[1].Int()))
			return jsonOut(v, ok, asText)
		}
	}
	t.fn("->", ts(kJ, kTxt), types.JSONB, field(false))
	t.fn("->>", ts(kJ, kTxt), types.Text, field(true))
	t.fn("->", ts(kJ, kI4), types.JSONB, elem(false))
	t.fn("->>", ts(kJ, kI4), types.Text, elem(true))
	path := func(asText bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			keys, err := parseTextArray(a[1].Str())
			if err != nil {
				return types.Null, err
			}
			v, ok := jsonPath(a[0], keys)
			return jsonOut(v, ok, asText)
		}
	}
	// #> and #>> take a text[] path; without arrays Weir accepts its text
	// form '{a,b,0}'.
	t.fn("#>", ts(kJ, kTxt), types.JSONB, path(false))
	t.fn("#>>", ts(kJ, kTxt), types.Text, path(true))
	t.add("jsonb_extract_path", &Overload{Args: ts(kJ, kTxt), Variadic: true, Ret: retConst(types.JSONB), Eval: func(_ *Env, a []types.Datum) (types.Datum, error) {
		v, ok := jsonPathDatums(a[0], a[1:])
		return jsonOut(v, ok, false)
	}})
	t.add("jsonb_extract_path_text", &Overload{Args: ts(kJ, kTxt), Variadic: true, Ret: retConst(types.Text), Eval: func(_ *Env, a []types.Datum) (types.Datum, error) {
		v, ok := jsonPathDatums(a[0], a[1:])
		return jsonOut(v, ok, true)
	}})
	contains := func(swap bool) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			x, y := a[0], a[1]
			if swap {
				x, y = y, x
			}
			jx, err := parseJV(x.Str())
			if err != nil {
				return types.Null, err
			}
			jy, err := parseJV(y.Str())
			if err != nil {
				return types.Null, err
			}
			return types.NewBool(jvContains(&jx, &jy, true)), nil
		}
	}
	t.fn("@>", ts(kJ, kJ), types.Bool, contains(false))
	t.fn("<@", ts(kJ, kJ), types.Bool, contains(true))
	t.fn("?", ts(kJ, kTxt), types.Bool, func(_ *Env, a []types.Datum) (types.Datum, error) {
		if _, ok := types.JSONBField(a[0], a[1].Str()); ok {
			return types.NewBool(true), nil
		}
		j, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		if j.t == '[' {
			for _, e := range j.arr {
				if e.t == '"' && e.s == a[1].Str() {
					return types.NewBool(true), nil
				}
			}
		}
		return types.NewBool(j.t == '"' && j.s == a[1].Str()), nil
	})
	t.fn("||", ts(kJ, kJ), types.JSONB, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		y, err := parseJV(a[1].Str())
		if err != nil {
			return types.Null, err
		}
		var r jv
		switch {
		case x.t == '{' && y.t == '{':
			r = jv{t: '{', keys: append(append([]string(nil), x.keys...), y.keys...), vals: append(append([]jv(nil), x.vals...), y.vals...)}
		default:
			r = jv{t: '['}
			for _, v := range []jv{x, y} {
				if v.t == '[' {
					r.arr = append(r.arr, v.arr...)
				} else {
					r.arr = append(r.arr, v)
				}
			}
		}
		return canonJSONB(appendJV(nil, &r))
	})
	t.fn("-", ts(kJ, kTxt), types.JSONB, func(_ *Env, a []types.Datum) (types.Datum, error) {
		x, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		key := a[1].Str()
		switch x.t {
		case '{':
			r := jv{t: '{'}
			for i, k := range x.keys {
				if k != key {
					r.keys, r.vals = append(r.keys, k), append(r.vals, x.vals[i])
				}
			}
			return canonJSONB(appendJV(nil, &r))
		case '[':
			r := jv{t: '['}
			for _, e := range x.arr {
				if !(e.t == '"' && e.s == key) {
					r.arr = append(r.arr, e)
				}
			}
			return canonJSONB(appendJV(nil, &r))
		}
		return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "cannot delete from scalar")
	})
	t.fn("jsonb_typeof", ts(kJ), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(types.JSONBTypeof(a[0])), nil
	})
	t.fn("jsonb_array_length", ts(kJ), types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		j, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		switch j.t {
		case '[':
			return types.NewInt32(int32(len(j.arr))), nil
		case '{':
			return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "cannot get array length of a non-array")
		}
		return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "cannot get array length of a scalar")
	})
	t.add("jsonb_build_object", &Overload{Args: ts(types.KindUnknown), Variadic: true, NullIn: true, Ret: retConst(types.JSONB), Eval: buildObject})
	t.add("jsonb_build_object", &Overload{Ret: retConst(types.JSONB), Eval: func(*Env, []types.Datum) (types.Datum, error) { return types.NewJSONB("{}"), nil }})
	t.add("jsonb_build_array", &Overload{Args: ts(types.KindUnknown), Variadic: true, NullIn: true, Ret: retConst(types.JSONB), Eval: func(env *Env, a []types.Datum) (types.Datum, error) {
		buf := []byte{'['}
		for i, d := range a {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = types.AppendJSON(buf, d, envLoc(env))
		}
		return canonJSONB(append(buf, ']'))
	}})
	t.add("jsonb_build_array", &Overload{Ret: retConst(types.JSONB), Eval: func(*Env, []types.Datum) (types.Datum, error) { return types.NewJSONB("[]"), nil }})
	t.add("to_jsonb", &Overload{Args: ts(types.KindUnknown), NullIn: false, Ret: retConst(types.JSONB), Eval: func(env *Env, a []types.Datum) (types.Datum, error) {
		return canonJSONB(types.AppendJSON(nil, a[0], envLoc(env)))
	}})
	t.fn("jsonb_pretty", ts(kJ), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		j, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		return types.NewText(string(appendPretty(nil, &j, 0))), nil
	})
	t.fn("jsonb_strip_nulls", ts(kJ), types.JSONB, func(_ *Env, a []types.Datum) (types.Datum, error) {
		j, err := parseJV(a[0].Str())
		if err != nil {
			return types.Null, err
		}
		stripNulls(&j)
		return canonJSONB(appendJV(nil, &j))
	})
}

func jsonOut(v types.Datum, ok, asText bool) (types.Datum, error) {
	if !ok {
		return types.Null, nil
	}
	if !asText {
		return v, nil
	}
	s, ok := types.JSONBAsText(v)
	if !ok {
		return types.Null, nil
	}
	return types.NewText(s), nil
}

// jsonElem is jsonb -> int: element i of an array, negative counting
// from the end.
func jsonElem(d types.Datum, i int) (types.Datum, bool) {
	if !strings.HasPrefix(d.Str(), "[") {
		return types.Null, false
	}
	j, err := parseJV(d.Str())
	if err != nil {
		return types.Null, false
	}
	if i < 0 {
		i += len(j.arr)
	}
	if i < 0 || i >= len(j.arr) {
		return types.Null, false
	}
	return types.NewJSONB(string(appendJV(nil, &j.arr[i]))), true
}

func canonJSONB(b []byte) (types.Datum, error) { return types.ParseJSONB(string(b)) }

// jsonPath follows keys (object keys, or array indexes for arrays).
func jsonPath(d types.Datum, keys []string) (types.Datum, bool) {
	for _, k := range keys {
		if strings.HasPrefix(d.Str(), "[") {
			i, err := strconv.Atoi(strings.TrimSpace(k))
			if err != nil {
				return types.Null, false
			}
			var ok bool
			if d, ok = jsonElem(d, i); !ok {
				return types.Null, false
			}
			continue
		}
		var ok bool
		if d, ok = types.JSONBField(d, k); !ok {
			return types.Null, false
		}
	}
	return d, true
}

func jsonPathDatums(d types.Datum, keys []types.Datum) (types.Datum, bool) {
	ks := make([]string, len(keys))
	for i, k := range keys {
		if k.IsNull() {
			return types.Null, false
		}
		ks[i] = k.Str()
	}
	return jsonPath(d, ks)
}

// parseTextArray parses a one-dimensional text[] literal: {a,"b c",d}.
func parseTextArray(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed array literal: \"%s\"", s).
			WithDetail("Array value must start with \"{\" or dimension information.")
	}
	body := s[1 : len(s)-1]
	var out []string
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	var cur strings.Builder
	quoted, inQuote := false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			cur.WriteByte(body[i])
		case c == '"':
			inQuote = !inQuote
			quoted = true
		case c == ',' && !inQuote:
			out = append(out, finishElem(cur.String(), quoted))
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, finishElem(cur.String(), quoted)), nil
}

func finishElem(s string, quoted bool) string {
	if quoted {
		return s
	}
	return strings.TrimSpace(s)
}

var errOddArgs = sqlerr.New(sqlerr.InvalidParameterValue, "argument list must have even number of elements").
	WithHint("The arguments of jsonb_build_object() must consist of alternating keys and values.")

func buildObject(env *Env, a []types.Datum) (types.Datum, error) {
	if len(a)%2 != 0 {
		return types.Null, errOddArgs
	}
	buf := []byte{'{'}
	for i := 0; i < len(a); i += 2 {
		if a[i].IsNull() {
			return types.Null, sqlerr.New(sqlerr.Code("22004"), "argument %d: key must not be null", i+1)
		}
		if i > 0 {
			buf = append(buf, ", "...)
		}
		key := a[i]
		if key.Kind() == types.KindJSONB {
			key = types.NewText(key.Str())
		}
		buf = types.AppendJSONString(buf, string(appendText(nil, key, envLoc(env))))
		buf = append(buf, ": "...)
		buf = types.AppendJSON(buf, a[i+1], envLoc(env))
	}
	return canonJSONB(append(buf, '}'))
}

// jv is a parsed JSON value: t is one of { [ " n(umber) t f z(null).
type jv struct {
	t    byte
	s    string // string value, or number text
	arr  []jv
	keys []string
	vals []jv
}

type jvParser struct {
	s string
	i int
}

var errBadJSONB = sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json")

func parseJV(s string) (jv, error) {
	p := jvParser{s: s}
	v, ok := p.value()
	p.ws()
	if !ok || p.i != len(s) {
		return jv{}, errBadJSONB
	}
	return v, nil
}

func (p *jvParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *jvParser) value() (jv, bool) {
	p.ws()
	if p.i >= len(p.s) {
		return jv{}, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		v := jv{t: '{'}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return v, true
		}
		for {
			p.ws()
			k, ok := p.str()
			if !ok {
				return v, false
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return v, false
			}
			p.i++
			val, ok := p.value()
			if !ok {
				return v, false
			}
			v.keys, v.vals = append(v.keys, k), append(v.vals, val)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return v, true
			}
			return v, false
		}
	case c == '[':
		p.i++
		v := jv{t: '['}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return v, true
		}
		for {
			e, ok := p.value()
			if !ok {
				return v, false
			}
			v.arr = append(v.arr, e)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return v, true
			}
			return v, false
		}
	case c == '"':
		s, ok := p.str()
		return jv{t: '"', s: s}, ok
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return jv{t: 't'}, true
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return jv{t: 'f'}, true
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return jv{t: 'z'}, true
	}
	j := p.i
	for j < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[j]) >= 0 {
		j++
	}
	if j == p.i {
		return jv{}, false
	}
	v := jv{t: 'n', s: p.s[p.i:j]}
	p.i = j
	return v, true
}

func (p *jvParser) str() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	j := p.i + 1
	for j < len(p.s) && p.s[j] != '"' {
		if p.s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(p.s) {
		return "", false
	}
	lit := p.s[p.i : j+1]
	p.i = j + 1
	if !strings.ContainsRune(lit, '\\') {
		return lit[1 : len(lit)-1], true
	}
	s, err := strconv.Unquote(strings.ReplaceAll(lit, `\/`, `/`))
	return s, err == nil
}

func appendJV(buf []byte, v *jv) []byte {
	switch v.t {
	case '{':
		buf = append(buf, '{')
		for i, k := range v.keys {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = types.AppendJSONString(buf, k)
			buf = append(buf, ": "...)
			buf = appendJV(buf, &v.vals[i])
		}
		return append(buf, '}')
	case '[':
		buf = append(buf, '[')
		for i := range v.arr {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendJV(buf, &v.arr[i])
		}
		return append(buf, ']')
	case '"':
		return types.AppendJSONString(buf, v.s)
	case 't':
		return append(buf, "true"...)
	case 'f':
		return append(buf, "false"...)
	case 'z':
		return append(buf, "null"...)
	}
	return append(buf, v.s...)
}

// appendPretty is jsonb_pretty: four-space indentation.
func appendPretty(buf []byte, v *jv, depth int) []byte {
	indent := func(d int) {
		buf = append(buf, '\n')
		for i := 0; i < d; i++ {
			buf = append(buf, "    "...)
		}
	}
	switch v.t {
	case '{':
		if len(v.keys) == 0 {
			return append(buf, "{\n}"...)
		}
		buf = append(buf, '{')
		for i, k := range v.keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			indent(depth + 1)
			buf = types.AppendJSONString(buf, k)
			buf = append(buf, ": "...)
			buf = appendPretty(buf, &v.vals[i], depth+1)
		}
		indent(depth)
		return append(buf, '}')
	case '[':
		if len(v.arr) == 0 {
			return append(buf, "[\n]"...)
		}
		buf = append(buf, '[')
		for i := range v.arr {
			if i > 0 {
				buf = append(buf, ',')
			}
			indent(depth + 1)
			buf = appendPretty(buf, &v.arr[i], depth+1)
		}
		indent(depth)
		return append(buf, ']')
	}
	return appendJV(buf, v)
}

func stripNulls(v *jv) {
	switch v.t {
	case '{':
		keys, vals := v.keys[:0:0], v.vals[:0:0]
		for i := range v.keys {
			if v.vals[i].t == 'z' {
				continue
			}
			stripNulls(&v.vals[i])
			keys, vals = append(keys, v.keys[i]), append(vals, v.vals[i])
		}
		v.keys, v.vals = keys, vals
	case '[':
		for i := range v.arr {
			stripNulls(&v.arr[i])
		}
	}
}

func jvEqualScalar(a, b *jv) bool {
	if a.t != b.t {
		return false
	}
	if a.t == 'n' {
		x, _, e1 := apd.NewFromString(a.s)
		y, _, e2 := apd.NewFromString(b.s)
		return e1 == nil && e2 == nil && x.Cmp(y) == 0
	}
	return a.s == b.s
}

// jvContains is jsonb @>: every part of b appears in a; at the top level
// an array contains a scalar that is one of its elements.
func jvContains(a, b *jv, top bool) bool {
	switch {
	case a.t == '{' && b.t == '{':
		for i, k := range b.keys {
			found := false
			for j, ak := range a.keys {
				if ak == k {
					found = jvContains(&a.vals[j], &b.vals[i], false)
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case a.t == '[' && b.t == '[':
		for i := range b.arr {
			found := false
			for j := range a.arr {
				if jvContains(&a.arr[j], &b.arr[i], false) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case a.t == '[' && top && b.t != '{' && b.t != '[':
		for j := range a.arr {
			if jvEqualScalar(&a.arr[j], b) {
				return true
			}
		}
		return false
	case a.t == '{' || a.t == '[' || b.t == '{' || b.t == '[':
		return false
	}
	return jvEqualScalar(a, b)
}
