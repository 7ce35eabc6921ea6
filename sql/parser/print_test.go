package parser

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// sexp prints an AST node compactly: Type{Field:value ...}, omitting zero
// fields. Literals print as kind:value, types as their SQL name.
func sexp(v any) string {
	var b strings.Builder
	writeSexp(&b, reflect.ValueOf(v))
	return b.String()
}

func writeSexp(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch x := v.Interface().(type) {
	case types.Datum:
		if x.IsNull() {
			b.WriteString("NULL")
			return
		}
		switch x.Kind() {
		case types.KindUnknown:
			fmt.Fprintf(b, "'%s'", x.Str())
		case types.KindBool:
			fmt.Fprintf(b, "%v", x.Bool())
		case types.KindInt32:
			fmt.Fprintf(b, "%d", x.Int())
		case types.KindInt64:
			fmt.Fprintf(b, "%d::int8", x.Int())
		case types.KindNumeric:
			fmt.Fprintf(b, "%s::numeric", x.Decimal().String())
		default:
			fmt.Fprintf(b, "%v", x)
		}
		return
	case types.Type:
		b.WriteString(x.String())
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		writeSexp(b, v.Elem())
	case reflect.Struct:
		b.WriteString(v.Type().Name())
		b.WriteString("{")
		first := true
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			if !first {
				b.WriteString(" ")
			}
			first = false
			b.WriteString(v.Type().Field(i).Name)
			b.WriteString(":")
			writeSexp(b, f)
		}
		b.WriteString("}")
	case reflect.Slice:
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			writeSexp(b, v.Index(i))
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}
