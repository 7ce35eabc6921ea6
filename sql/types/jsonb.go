package types

import (
	"bytes"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/sqlerr"
)

// JSON value types, in PostgreSQL's jsonb ordering (null < string <
// number < bool < array < object).
const (
	jNull byte = iota
	jString
	jNumber
	jBool
	jArray
	jObject
)

// jnode is a parsed JSON value.
type jnode struct {
	typ  byte
	b    bool
	s    string // decoded string, or number text as written
	num  *apd.Decimal
	kids []jnode  // array elements or object values
	keys []string // object keys (decoded), parallel to kids
	raw  bool     // top-level scalar
}

const maxJSONDepth = 6000

type jsonParser struct {
	s     string
	i     int
	depth int
	err   error
}

func (p *jsonParser) fail(detail string) {
	if p.err == nil {
		p.err = sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail("%s", detail)
	}
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// token returns the invalid token at p.i for error details (PostgreSQL
// reports the run of alphanumerics, or one character).
func (p *jsonParser) token() string {
	j := p.i
	for j < len(p.s) && (isAlpha(p.s[j]) || isDigit(p.s[j]) || p.s[j] >= 0x80) {
		j++
	}
	if j == p.i && j < len(p.s) {
		j += utf8Len(p.s[j:])
	}
	return p.s[p.i:j]
}

func (p *jsonParser) value(n *jnode) {
	if p.err != nil {
		return
	}
	p.ws()
	if p.i >= len(p.s) {
		p.fail("The input string ended unexpectedly.")
		return
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.depth++
		if p.depth > maxJSONDepth {
			p.err = sqlerr.New("54001", "stack depth limit exceeded")
			return
		}
		p.i++
		n.typ = jObject
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			p.depth--
			return
		}
		for {
			p.ws()
			if p.i >= len(p.s) {
				p.fail("The input string ended unexpectedly.")
				return
			}
			if p.s[p.i] != '"' {
				p.fail("Expected string, but found \"" + p.token() + "\".")
				return
			}
			k := p.str()
			if p.err != nil {
				return
			}
			p.ws()
			if p.i >= len(p.s) {
				p.fail("The input string ended unexpectedly.")
				return
			}
			if p.s[p.i] != ':' {
				p.fail("Expected \":\", but found \"" + p.token() + "\".")
				return
			}
			p.i++
			n.keys = append(n.keys, k)
			n.kids = append(n.kids, jnode{})
			p.value(&n.kids[len(n.kids)-1])
			if p.err != nil {
				return
			}
			p.ws()
			if p.i >= len(p.s) {
				p.fail("The input string ended unexpectedly.")
				return
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == '}' {
				p.i++
				break
			}
			p.fail("Expected \",\" or \"}\", but found \"" + p.token() + "\".")
			return
		}
		p.depth--
		canonObject(n)
	case c == '[':
		p.depth++
		if p.depth > maxJSONDepth {
			p.err = sqlerr.New("54001", "stack depth limit exceeded")
			return
		}
		p.i++
		n.typ = jArray
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			p.depth--
			return
		}
		for {
			n.kids = append(n.kids, jnode{})
			p.value(&n.kids[len(n.kids)-1])
			if p.err != nil {
				return
			}
			p.ws()
			if p.i >= len(p.s) {
				p.fail("The input string ended unexpectedly.")
				return
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ']' {
				p.i++
				break
			}
			p.fail("Expected \",\" or \"]\", but found \"" + p.token() + "\".")
			return
		}
		p.depth--
	case c == '"':
		n.typ = jString
		n.s = p.str()
	case c == '-' || isDigit(c):
		p.number(n)
	default:
		tok := p.token()
		switch tok {
		case "true":
			n.typ, n.b = jBool, true
		case "false":
			n.typ = jBool
		case "null":
			n.typ = jNull
		default:
			p.fail("Token \"" + tok + "\" is invalid.")
			return
		}
		p.i += len(tok)
	}
}

func (p *jsonParser) number(n *jnode) {
	start := p.i
	j := p.i
	if p.s[j] == '-' {
		j++
	}
	intStart := j
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	bad := j == intStart || (p.s[intStart] == '0' && j-intStart > 1)
	if j < len(p.s) && p.s[j] == '.' {
		j++
		f := j
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		bad = bad || j == f
	}
	if j < len(p.s) && (p.s[j] == 'e' || p.s[j] == 'E') {
		j++
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		f := j
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		bad = bad || j == f
	}
	// A number must not run into letters ("1a", "01").
	for j < len(p.s) && (isAlpha(p.s[j]) || isDigit(p.s[j]) || p.s[j] == '.') {
		j++
		bad = true
	}
	if bad {
		p.i = start
		tok := p.s[start:j]
		p.fail("Token \"" + tok + "\" is invalid.")
		return
	}
	d, err := ParseNumeric(p.s[start:j])
	if err != nil {
		p.err = err
		return
	}
	n.typ = jNumber
	n.num = d
	p.i = j
}

// str parses a JSON string at p.i (which is '"') and returns it decoded.
func (p *jsonParser) str() string {
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			p.fail("Character with value 0x" + hex2(c) + " must be escaped.")
			return ""
		}
		p.i++
	}
	b := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b)
		case c < 0x20:
			p.fail("Character with value 0x" + hex2(c) + " must be escaped.")
			return ""
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return ""
			}
			if r == 0 {
				p.err = sqlerr.New(sqlerr.UntranslatableCharacter, "unsupported Unicode escape sequence").
					WithDetail("\\u0000 cannot be converted to text.")
				return ""
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || p.i+1 >= len(p.s) || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
					p.fail("Unicode low surrogate must follow a high surrogate.")
					return ""
				}
				p.i += 2
				r2, ok := p.hex4()
				if !ok {
					return ""
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					p.fail("Unicode low surrogate must follow a high surrogate.")
					return ""
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			p.fail("Escape sequence \"\\" + string(e) + "\" is invalid.")
			return ""
		}
	}
	p.fail("The input string ended unexpectedly.")
	return ""
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		p.fail("\"\\u\" must be followed by four hexadecimal digits.")
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		v, ok := unhex(p.s[p.i+k])
		if !ok {
			p.fail("\"\\u\" must be followed by four hexadecimal digits.")
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	p.i += 4
	return r, true
}

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&15]}) }

// jsonKeyLess is jsonb's storage order of object keys: shorter first,
// then bytewise.
func jsonKeyLess(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// canonObject sorts an object's pairs into jsonb storage order and keeps
// the last of duplicate keys.
func canonObject(n *jnode) {
	idx := make([]int, len(n.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return jsonKeyLess(n.keys[a], n.keys[b]) })
	keys := make([]string, 0, len(idx))
	kids := make([]jnode, 0, len(idx))
	for i, k := range idx {
		if i+1 < len(idx) && n.keys[idx[i+1]] == n.keys[k] {
			continue // a later duplicate wins
		}
		keys = append(keys, n.keys[k])
		kids = append(kids, n.kids[k])
	}
	n.keys, n.kids = keys, kids
}

func parseJSONTree(s string) (jnode, error) {
	p := jsonParser{s: s}
	var n jnode
	p.value(&n)
	if p.err == nil {
		p.ws()
		if p.i < len(p.s) {
			p.fail("Expected end of input, but found \"" + p.token() + "\".")
		}
	}
	if p.err != nil {
		return jnode{}, p.err
	}
	if n.typ != jArray && n.typ != jObject {
		n.raw = true
	}
	return n, nil
}

// ParseJSONB parses JSON text into a jsonb Datum holding PostgreSQL's
// canonical jsonb text: object keys sorted by (length, bytes), the last
// of duplicate keys kept, `{"a": 1, "b": [1, 2]}` spacing, numbers
// printed as numeric prints them. Invalid JSON is 22P02 with
// PostgreSQL's detail; \u0000 is 22P05.
func ParseJSONB(s string) (Datum, error) {
	if err := checkText(s); err != nil {
		return Null, err
	}
	n, err := parseJSONTree(s)
	if err != nil {
		return Null, err
	}
	return NewJSONB(string(appendJSON(nil, &n))), nil
}

func appendJSON(buf []byte, n *jnode) []byte {
	switch n.typ {
	case jNull:
		return append(buf, "null"...)
	case jBool:
		if n.b {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case jNumber:
		return AppendNumeric(buf, n.num)
	case jString:
		return AppendJSONString(buf, n.s)
	case jArray:
		buf = append(buf, '[')
		for i := range n.kids {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendJSON(buf, &n.kids[i])
		}
		return append(buf, ']')
	case jObject:
		buf = append(buf, '{')
		for i := range n.kids {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = AppendJSONString(buf, n.keys[i])
			buf = append(buf, ": "...)
			buf = appendJSON(buf, &n.kids[i])
		}
		return append(buf, '}')
	}
	return buf
}

// AppendJSONString appends s as a JSON string literal the way PostgreSQL's
// escape_json does (\" \\ \b \f \n \r \t, other controls as \u00XX).
func AppendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			if c < 0x20 {
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				buf = append(buf, c)
			}
		}
	}
	return append(buf, '"')
}

// compareJSONB orders two canonical jsonb texts as PostgreSQL's jsonb btree
// opclass does (strings bytewise, i.e. C collation).
func compareJSONB(a, b string) int {
	if a == b {
		return 0
	}
	na, errA := parseJSONTree(a)
	nb, errB := parseJSONTree(b)
	if errA != nil || errB != nil {
		return bytes.Compare([]byte(a), []byte(b))
	}
	return cmpJSONTop(&na, &nb)
}

func cmpJSONTop(a, b *jnode) int {
	// Top-level scalars are one-element "raw scalar" arrays: they sort
	// after an empty array and before any other array.
	aArr := a.raw || a.typ == jArray
	bArr := b.raw || b.typ == jArray
	if aArr && bArr && a.raw != b.raw {
		na, nb := 1, 1
		if !a.raw {
			na = len(a.kids)
		}
		if !b.raw {
			nb = len(b.kids)
		}
		if na != nb {
			return cmpInt(int64(na), int64(nb))
		}
		if a.raw {
			return -1
		}
		return 1
	}
	return cmpJSON(a, b)
}

func cmpJSON(a, b *jnode) int {
	if a.typ != b.typ {
		return cmpInt(int64(a.typ), int64(b.typ))
	}
	switch a.typ {
	case jNull:
		return 0
	case jBool:
		return cmpInt(int64(btoi(a.b)), int64(btoi(b.b)))
	case jNumber:
		return a.num.Cmp(b.num)
	case jString:
		return cmpStr(a.s, b.s)
	case jArray:
		if len(a.kids) != len(b.kids) {
			return cmpInt(int64(len(a.kids)), int64(len(b.kids)))
		}
		for i := range a.kids {
			if c := cmpJSON(&a.kids[i], &b.kids[i]); c != 0 {
				return c
			}
		}
		return 0
	case jObject:
		if len(a.kids) != len(b.kids) {
			return cmpInt(int64(len(a.kids)), int64(len(b.kids)))
		}
		for i := range a.kids {
			if c := cmpStr(a.keys[i], b.keys[i]); c != 0 {
				return c
			}
			if c := cmpJSON(&a.kids[i], &b.kids[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendJSONBKey appends canonical jsonb text with every number reduced
// to its shortest equal form (1.50 -> 1.5, 2.0 -> 2), so that jsonb
// values PostgreSQL considers equal give equal bytes.
func appendJSONBKey(buf []byte, s string) []byte {
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			buf = append(buf, c)
			if c == '\\' && i+1 < len(s) {
				i++
				buf = append(buf, s[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			buf = append(buf, c)
		case c == '-' || isDigit(c):
			j := i
			for j < len(s) && (s[j] == '-' || s[j] == '.' || isDigit(s[j])) {
				j++
			}
			buf = appendReducedNumber(buf, s[i:j])
			i = j - 1
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// appendReducedNumber appends plain decimal text without trailing
// fraction zeros and without a negative sign on zero.
func appendReducedNumber(buf []byte, num string) []byte {
	if hasByte(num, '.') {
		for len(num) > 0 && num[len(num)-1] == '0' {
			num = num[:len(num)-1]
		}
		num = trimSuffixByte(num, '.')
	}
	allZero := true
	for i := 0; i < len(num); i++ {
		if num[i] >= '1' && num[i] <= '9' {
			allZero = false
			break
		}
	}
	if allZero {
		return append(buf, '0')
	}
	return append(buf, num...)
}

func trimSuffixByte(s string, c byte) string {
	if len(s) > 0 && s[len(s)-1] == c {
		return s[:len(s)-1]
	}
	return s
}

// ---- access for operators (->, ->>) ----

// jsonSkip returns the index just past the JSON value starting at s[i]
// (canonical text assumed; no validation).
func jsonSkip(s string, i int) int {
	depth := 0
	inStr := false
	for ; i < len(s); i++ {
		c := s[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					return i + 1
				}
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// JSONBField returns the value of key in a jsonb object (PostgreSQL's
// jsonb -> text); ok is false when d is not an object or lacks the key.
func JSONBField(d Datum, key string) (Datum, bool) {
	s := d.s
	if len(s) < 2 || s[0] != '{' {
		return Null, false
	}
	i := 1
	for i < len(s) && s[i] != '}' {
		ke := jsonSkip(s, i)
		k, ok := decodeJSONStringLit(s[i:ke])
		vs := ke + 2 // ": "
		ve := jsonSkip(s, vs)
		if ok && k == key {
			return NewJSONB(s[vs:ve]), true
		}
		i = ve
		if i < len(s) && s[i] == ',' {
			i += 2
		}
	}
	return Null, false
}

// JSONBElem returns element idx of a jsonb array (negative counts from
// the end, as jsonb -> int does); ok is false when out of range or d is
// not an array.
func JSONBElem(d Datum, idx int) (Datum, bool) {
	s := d.s
	if len(s) < 2 || s[0] != '[' {
		return Null, false
	}
	var starts [8]int
	pos := starts[:0]
	var ends []int
	i := 1
	for i < len(s) && s[i] != ']' {
		e := jsonSkip(s, i)
		pos = append(pos, i)
		ends = append(ends, e)
		i = e
		if i < len(s) && s[i] == ',' {
			i += 2
		}
	}
	if idx < 0 {
		idx += len(pos)
	}
	if idx < 0 || idx >= len(pos) {
		return Null, false
	}
	return NewJSONB(s[pos[idx]:ends[idx]]), true
}

// JSONBAsText is the text PostgreSQL's ->> yields for a jsonb value: a
// string unquoted and unescaped, null as SQL NULL (ok false), anything
// else its jsonb text.
func JSONBAsText(d Datum) (string, bool) {
	s := d.s
	switch {
	case s == "null":
		return "", false
	case len(s) > 0 && s[0] == '"':
		v, ok := decodeJSONStringLit(s)
		return v, ok
	}
	return s, true
}

// JSONBTypeof is jsonb_typeof: object, array, string, number, boolean, null.
func JSONBTypeof(d Datum) string {
	s := d.s
	if s == "" {
		return "null"
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func decodeJSONStringLit(lit string) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' {
		return "", false
	}
	if !hasByte(lit, '\\') {
		return lit[1 : len(lit)-1], true
	}
	p := jsonParser{s: lit}
	v := p.str()
	return v, p.err == nil
}

// jsonbScalarNumber returns the number of a scalar jsonb, for casts.
func jsonbScalar(d Datum) (jnode, error) {
	n, err := parseJSONTree(d.s)
	if err != nil {
		return jnode{}, err
	}
	return n, nil
}

func jsonTypeName(n *jnode) string {
	switch n.typ {
	case jNull:
		return "null"
	case jString:
		return "string"
	case jNumber:
		return "numeric"
	case jBool:
		return "boolean"
	case jArray:
		return "array"
	}
	return "object"
}
