package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// avroKind is the kind of an Avro type.
type avroKind uint8

const (
	avroNull avroKind = iota
	avroBoolean
	avroInt
	avroLong
	avroFloat
	avroDouble
	avroBytes
	avroString
	avroRecord
	avroEnum
	avroArray
	avroMap
	avroUnion
	avroFixed
)

var avroPrimitives = map[string]avroKind{
	"null": avroNull, "boolean": avroBoolean, "int": avroInt, "long": avroLong,
	"float": avroFloat, "double": avroDouble, "bytes": avroBytes, "string": avroString,
}

func (k avroKind) String() string {
	return [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"record", "enum", "array", "map", "union", "fixed"}[k]
}

// avroType is a parsed Avro schema. Named types are shared by pointer, so
// a recursive record refers to itself.
type avroType struct {
	kind avroKind
	// logical is the logical type when valid for the underlying type
	// (an invalid one is ignored, as the specification says).
	logical          string
	precision, scale int
	name             string   // full name of a record, enum or fixed
	aliases          []string // full names
	fields           []avroField
	symbols          []string
	items            *avroType // array items, map values
	branches         []*avroType
	size             int
}

type avroField struct {
	name    string
	aliases []string
	typ     *avroType
	def     any // the default, decoded from JSON with json.Number
	hasDef  bool
}

func (t *avroType) String() string {
	if t.logical != "" {
		return t.kind.String() + " (" + t.logical + ")"
	}
	if t.name != "" {
		return t.kind.String() + " " + t.name
	}
	return t.kind.String()
}

// parseAvroSchema parses an Avro schema in its JSON form.
func parseAvroSchema(text string) (*avroType, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("avro schema: %w", err)
	}
	p := avroParser{named: map[string]*avroType{}}
	return p.parse(v, "", 0)
}

type avroParser struct {
	named map[string]*avroType
}

func fullName(name, namespace string) string {
	if strings.Contains(name, ".") || namespace == "" {
		return name
	}
	return namespace + "." + name
}

func validAvroName(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func (p *avroParser) parse(v any, ns string, depth int) (*avroType, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("avro schema nested deeper than %d levels", maxDepth)
	}
	switch v := v.(type) {
	case string:
		if k, ok := avroPrimitives[v]; ok {
			return &avroType{kind: k}, nil
		}
		if t, ok := p.named[fullName(v, ns)]; ok {
			return t, nil
		}
		if t, ok := p.named[v]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("avro schema: unknown type %q", v)
	case []any:
		u := &avroType{kind: avroUnion}
		seen := map[string]bool{}
		for _, b := range v {
			t, err := p.parse(b, ns, depth+1)
			if err != nil {
				return nil, err
			}
			if t.kind == avroUnion {
				return nil, fmt.Errorf("avro schema: a union may not hold a union")
			}
			id := t.kind.String()
			if t.name != "" {
				id = t.name
			}
			if seen[id] {
				return nil, fmt.Errorf("avro schema: union holds %s twice", id)
			}
			seen[id] = true
			u.branches = append(u.branches, t)
		}
		if len(u.branches) == 0 {
			return nil, fmt.Errorf("avro schema: empty union")
		}
		return u, nil
	case map[string]any:
		return p.parseObject(v, ns, depth)
	}
	return nil, fmt.Errorf("avro schema: unexpected %T", v)
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func num(m map[string]any, key string) (int, bool) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i > 1<<30 {
		return 0, false
	}
	return int(i), true
}

func (p *avroParser) parseObject(m map[string]any, ns string, depth int) (*avroType, error) {
	typ, ok := m["type"]
	if !ok {
		return nil, fmt.Errorf("avro schema: object without type")
	}
	name, isStr := typ.(string)
	if !isStr {
		// {"type": {"type": "int"}} and {"type": [..]} nest a schema.
		return p.parse(typ, ns, depth+1)
	}
	switch name {
	case "record", "error", "enum", "fixed":
		return p.parseNamed(m, name, ns, depth)
	case "array", "map":
		key := "items"
		t := &avroType{kind: avroArray}
		if name == "map" {
			key, t.kind = "values", avroMap
		}
		it, ok := m[key]
		if !ok {
			return nil, fmt.Errorf("avro schema: %s without %s", name, key)
		}
		var err error
		if t.items, err = p.parse(it, ns, depth+1); err != nil {
			return nil, err
		}
		return t, nil
	}
	base, err := p.parse(name, ns, depth+1)
	if err != nil {
		return nil, err
	}
	lt := str(m, "logicalType")
	if lt == "" || base.name != "" {
		return base, nil
	}
	t := *base
	t.logical = lt
	switch {
	case lt == "decimal" && t.kind == avroBytes:
		if !p.decimal(&t, m) {
			return base, nil
		}
	case lt == "date" && t.kind == avroInt, lt == "time-millis" && t.kind == avroInt,
		lt == "time-micros" && t.kind == avroLong,
		(lt == "timestamp-millis" || lt == "timestamp-micros" || lt == "local-timestamp-millis" || lt == "local-timestamp-micros") && t.kind == avroLong,
		lt == "uuid" && t.kind == avroString:
	default:
		return base, nil // an unknown or misplaced logical type is ignored
	}
	return &t, nil
}

func (p *avroParser) decimal(t *avroType, m map[string]any) bool {
	// Beyond PostgreSQL's numeric (precision 1000) the logical type is
	// ignored: such a decimal reads as bytes.
	prec, ok := num(m, "precision")
	if !ok || prec < 1 || prec > 1000 {
		return false
	}
	scale, _ := num(m, "scale")
	if scale > prec {
		return false
	}
	t.precision, t.scale = prec, scale
	return true
}

func (p *avroParser) parseNamed(m map[string]any, kind, ns string, depth int) (*avroType, error) {
	name := str(m, "name")
	if !validAvroName(name) {
		return nil, fmt.Errorf("avro schema: invalid %s name %q", kind, name)
	}
	if n := str(m, "namespace"); n != "" && !strings.Contains(name, ".") {
		ns = n
	}
	full := fullName(name, ns)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns = full[:i]
	} else {
		ns = ""
	}
	if _, dup := p.named[full]; dup {
		return nil, fmt.Errorf("avro schema: %s defined twice", full)
	}
	t := &avroType{name: full}
	if al, ok := m["aliases"].([]any); ok {
		for _, a := range al {
			if s, ok := a.(string); ok {
				t.aliases = append(t.aliases, fullName(s, ns))
			}
		}
	}
	p.named[full] = t
	switch kind {
	case "enum":
		t.kind = avroEnum
		syms, _ := m["symbols"].([]any)
		for _, s := range syms {
			sym, ok := s.(string)
			if !ok || !validAvroName(sym) || strings.Contains(sym, ".") {
				return nil, fmt.Errorf("avro schema: enum %s: invalid symbol %v", full, s)
			}
			t.symbols = append(t.symbols, sym)
		}
		if len(t.symbols) == 0 {
			return nil, fmt.Errorf("avro schema: enum %s without symbols", full)
		}
	case "fixed":
		t.kind = avroFixed
		size, ok := num(m, "size")
		if !ok {
			return nil, fmt.Errorf("avro schema: fixed %s without a valid size", full)
		}
		t.size = size
		switch lt := str(m, "logicalType"); {
		case lt == "decimal" && p.decimal(t, m):
			t.logical = lt
		case lt == "duration" && size == 12:
			t.logical = lt
		}
	default:
		t.kind = avroRecord
		fields, ok := m["fields"].([]any)
		if !ok {
			return nil, fmt.Errorf("avro schema: record %s without fields", full)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("avro schema: record %s: a field is not an object", full)
			}
			fname := str(fm, "name")
			if !validAvroName(fname) || strings.Contains(fname, ".") || seen[fname] {
				return nil, fmt.Errorf("avro schema: record %s: invalid or repeated field name %q", full, fname)
			}
			seen[fname] = true
			ft, err := p.parse(fm["type"], ns, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%w (field %s.%s)", err, full, fname)
			}
			fd := avroField{name: fname, typ: ft}
			fd.def, fd.hasDef = fm["default"]
			if al, ok := fm["aliases"].([]any); ok {
				for _, a := range al {
					if s, ok := a.(string); ok {
						fd.aliases = append(fd.aliases, s)
					}
				}
			}
			t.fields = append(t.fields, fd)
		}
	}
	return t, nil
}

// nullable returns T of a union ["null", T] or [T, "null"] (and t itself
// for any other type), and whether null was a branch.
func (t *avroType) nullable() (*avroType, bool) {
	if t.kind != avroUnion || len(t.branches) != 2 {
		return t, false
	}
	switch {
	case t.branches[0].kind == avroNull:
		return t.branches[1], true
	case t.branches[1].kind == avroNull:
		return t.branches[0], true
	}
	return t, false
}

// minSize is the fewest bytes a value of t takes: it bounds how many
// items a block may claim, so that a forged count cannot loop forever.
func (t *avroType) minSize(depth int) int {
	switch t.kind {
	case avroNull:
		return 0
	case avroFloat:
		return 4
	case avroDouble:
		return 8
	case avroFixed:
		return t.size
	case avroRecord:
		if depth > 8 {
			return 0
		}
		n := 0
		for _, f := range t.fields {
			n += f.typ.minSize(depth + 1)
		}
		return n
	}
	return 1
}

// compactJSON is v as JSON, for a default value.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSpace(buf.String())
}
