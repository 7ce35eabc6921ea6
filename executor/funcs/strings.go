package funcs

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// String functions (PostgreSQL docs 9.4), on characters (UTF-8 code
// points), not bytes, except where PostgreSQL counts bytes.

var (
	txt1 = ts(types.KindText)
	txt2 = ts(types.KindText, types.KindText)
	txt3 = ts(types.KindText, types.KindText, types.KindText)
)

var (
	errNegSubstr   = sqlerr.New(sqlerr.Code("22011"), "negative substring length not allowed")
	errTooLarge    = sqlerr.New(sqlerr.ProgramLimitExceeded, "requested length too large")
	errFieldZero   = sqlerr.New(sqlerr.InvalidParameterValue, "field position must not be zero")
	errNullChar    = sqlerr.New(sqlerr.ProgramLimitExceeded, "null character not permitted")
	errCharNeg     = sqlerr.New(sqlerr.ProgramLimitExceeded, "character number must be positive")
	errNullIdent   = sqlerr.New(sqlerr.Code("22004"), "null values cannot be formatted as an SQL identifier")
	errFormatArgs  = sqlerr.New(sqlerr.InvalidParameterValue, "too few arguments for format()")
	errFormatWidth = sqlerr.New(sqlerr.InvalidParameterValue, "unterminated format() type specifier").WithHint("For a single \"%%\" use \"%%%%\".")
)

// maxStringLen bounds results built by repeat/lpad (PostgreSQL's 1GB).
const maxStringLen = 1 << 30

func textFn(f func(string) string) evalFn {
	return func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewText(f(a[0].Str())), nil }
}

func addStrings(t table) {
	charLen := func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewInt32(int32(utf8.RuneCountInString(a[0].Str()))), nil
	}
	byteLen := func(_ *Env, a []types.Datum) (types.Datum, error) { return types.NewInt32(int32(len(a[0].Str()))), nil }
	for _, n := range []string{"length", "char_length", "character_length"} {
		t.fn(n, txt1, types.Int32, charLen)
	}
	t.fn("length", ts(types.KindBytea), types.Int32, byteLen)
	t.fn("octet_length", txt1, types.Int32, byteLen)
	t.fn("octet_length", ts(types.KindBytea), types.Int32, byteLen)
	t.fn("bit_length", txt1, types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewInt32(int32(8 * len(a[0].Str()))), nil
	})
	t.fn("lower", txt1, types.Text, textFn(strings.ToLower))
	t.fn("upper", txt1, types.Text, textFn(strings.ToUpper))
	t.fn("initcap", txt1, types.Text, textFn(initcap))
	t.fn("reverse", txt1, types.Text, textFn(reverse))
	t.fn("md5", txt1, types.Text, textFn(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	t.fn("md5", ts(types.KindBytea), types.Text, textFn(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	t.fn("sha256", ts(types.KindBytea), types.Bytea, func(_ *Env, a []types.Datum) (types.Datum, error) {
		h := sha256.Sum256([]byte(a[0].Str()))
		return types.NewBytea(h[:]), nil
	})
	for _, n := range []string{"substr", "substring"} {
		t.fn(n, ts(types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return substr(a[0].Str(), a[1].Int(), -1, false)
		})
		t.fn(n, ts(types.KindText, types.KindInt32, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return substr(a[0].Str(), a[1].Int(), a[2].Int(), true)
		})
		t.fn(n, ts(types.KindBytea, types.KindInt32), types.Bytea, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return substrBytes(a[0].Str(), a[1].Int(), -1, false)
		})
		t.fn(n, ts(types.KindBytea, types.KindInt32, types.KindInt32), types.Bytea, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return substrBytes(a[0].Str(), a[1].Int(), a[2].Int(), true)
		})
	}
	// position(sub, s): the parser turns POSITION(sub IN s) into this.
	t.fn("position", txt2, types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewInt32(strpos(a[1].Str(), a[0].Str())), nil
	})
	t.fn("strpos", txt2, types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewInt32(strpos(a[0].Str(), a[1].Str())), nil
	})
	t.fn("replace", txt3, types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		if a[1].Str() == "" {
			return a[0], nil
		}
		return types.NewText(strings.ReplaceAll(a[0].Str(), a[1].Str(), a[2].Str())), nil
	})
	t.fn("translate", txt3, types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(translate(a[0].Str(), a[1].Str(), a[2].Str())), nil
	})
	for _, n := range []string{"btrim", "trim", "ltrim", "rtrim"} {
		left, right := n != "rtrim", n != "ltrim"
		t.fn(n, txt1, types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewText(trim(a[0].Str(), " ", left, right)), nil
		})
		t.fn(n, txt2, types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return types.NewText(trim(a[0].Str(), a[1].Str(), left, right)), nil
		})
	}
	for _, n := range []string{"lpad", "rpad"} {
		left := n == "lpad"
		t.fn(n, ts(types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return pad(a[0].Str(), a[1].Int(), " ", left)
		})
		t.fn(n, ts(types.KindText, types.KindInt32, types.KindText), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
			return pad(a[0].Str(), a[1].Int(), a[2].Str(), left)
		})
	}
	t.add("concat", &Overload{Args: ts(types.KindUnknown), Variadic: true, NullIn: true, Ret: retConst(types.Text),
		Eval: func(env *Env, a []types.Datum) (types.Datum, error) {
			var buf []byte
			for _, d := range a {
				buf = appendText(buf, d, env.Location)
			}
			return types.NewText(string(buf)), nil
		}})
	t.add("concat_ws", &Overload{Args: ts(types.KindText, types.KindUnknown), Variadic: true, NullIn: true, Ret: retConst(types.Text),
		Eval: func(env *Env, a []types.Datum) (types.Datum, error) {
			if a[0].IsNull() {
				return types.Null, nil
			}
			var buf []byte
			first := true
			for _, d := range a[1:] {
				if d.IsNull() {
					continue
				}
				if !first {
					buf = append(buf, a[0].Str()...)
				}
				first = false
				buf = appendText(buf, d, env.Location)
			}
			return types.NewText(string(buf)), nil
		}})
	t.fn("left", ts(types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(leftRight(a[0].Str(), a[1].Int(), true)), nil
	})
	t.fn("right", ts(types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(leftRight(a[0].Str(), a[1].Int(), false)), nil
	})
	t.fn("repeat", ts(types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		s, n := a[0].Str(), a[1].Int()
		if n <= 0 || s == "" {
			return types.NewText(""), nil
		}
		if int64(len(s))*n > maxStringLen {
			return types.Null, errTooLarge
		}
		return types.NewText(strings.Repeat(s, int(n))), nil
	})
	t.fn("split_part", ts(types.KindText, types.KindText, types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return splitPart(a[0].Str(), a[1].Str(), a[2].Int())
	})
	t.fn("starts_with", txt2, types.Bool, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBool(strings.HasPrefix(a[0].Str(), a[1].Str())), nil
	})
	t.fn("ascii", txt1, types.Int32, func(_ *Env, a []types.Datum) (types.Datum, error) {
		r, _ := utf8.DecodeRuneInString(a[0].Str())
		if a[0].Str() == "" {
			r = 0
		}
		return types.NewInt32(int32(r)), nil
	})
	t.fn("chr", ts(types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		c := a[0].Int()
		switch {
		case c == 0:
			return types.Null, errNullChar
		case c < 0:
			return types.Null, errCharNeg
		case c > unicode.MaxRune || (c >= 0xD800 && c <= 0xDFFF):
			return types.Null, sqlerr.New(sqlerr.ProgramLimitExceeded, "requested character too large for encoding: %d", c)
		}
		return types.NewText(string(rune(c))), nil
	})
	t.fn("to_hex", ts(types.KindInt32), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(strconv.FormatUint(uint64(uint32(a[0].Int())), 16)), nil
	})
	t.fn("to_hex", ts(types.KindInt64), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(strconv.FormatUint(uint64(a[0].Int()), 16)), nil
	})
	t.fn("quote_ident", txt1, types.Text, textFn(quoteIdent))
	t.fn("quote_literal", txt1, types.Text, textFn(quoteLiteral))
	t.add("quote_nullable", &Overload{Args: txt1, NullIn: true, Ret: retConst(types.Text), Eval: func(_ *Env, a []types.Datum) (types.Datum, error) {
		if a[0].IsNull() {
			return types.NewText("NULL"), nil
		}
		return types.NewText(quoteLiteral(a[0].Str())), nil
	}})
	t.fn("encode", ts(types.KindBytea, types.KindText), types.Text, encode)
	t.fn("decode", txt2, types.Bytea, decode)
	t.add("format", &Overload{Args: ts(types.KindText, types.KindUnknown), Variadic: true, NullIn: true, Ret: retConst(types.Text), Eval: format})
	t.add("format", &Overload{Args: txt1, NullIn: true, Ret: retConst(types.Text), Eval: format})
}

func initcap(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inWord := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if inWord {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			inWord = true
		} else {
			b.WriteRune(r)
			inWord = false
		}
	}
	return b.String()
}

func reverse(s string) string {
	b := make([]byte, 0, len(s))
	for i := len(s); i > 0; {
		_, n := utf8.DecodeLastRuneInString(s[:i])
		b = append(b, s[i-n:i]...)
		i -= n
	}
	return string(b)
}

// charRange returns the byte offsets of characters [from, to) (0-based,
// clamped to the string).
func charRange(s string, from, to int64) string {
	if from < 0 {
		from = 0
	}
	if to <= from {
		return ""
	}
	start, end := len(s), len(s)
	i := int64(0)
	for off := range s {
		if i == from {
			start = off
		}
		if i == to {
			end = off
			break
		}
		i++
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

// substr follows PostgreSQL: characters from position from (1-based) for
// n characters, where positions before 1 count against n.
func substr(s string, from, n int64, hasLen bool) (types.Datum, error) {
	if !hasLen {
		return types.NewText(charRange(s, from-1, int64(len(s))+1)), nil
	}
	if n < 0 {
		return types.Null, errNegSubstr
	}
	end := from + n // exclusive, 1-based
	if end < from { // overflow
		end = int64(len(s)) + 1
	}
	return types.NewText(charRange(s, from-1, end-1)), nil
}

func substrBytes(s string, from, n int64, hasLen bool) (types.Datum, error) {
	end := int64(len(s)) + 1
	if hasLen {
		if n < 0 {
			return types.Null, errNegSubstr
		}
		if e := from + n; e >= from && e < end {
			end = e
		}
	}
	start := max(from, 1)
	if start >= end {
		return types.NewBytea(nil), nil
	}
	return types.NewBytea([]byte(s[start-1 : end-1])), nil
}

// strpos is the 1-based character position of sub in s, 0 when absent.
func strpos(s, sub string) int32 {
	i := strings.Index(s, sub)
	if i < 0 {
		return 0
	}
	return int32(utf8.RuneCountInString(s[:i])) + 1
}

func translate(s, from, to string) string {
	fr, tr := []rune(from), []rune(to)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		idx := -1
		for i, f := range fr {
			if f == r {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			b.WriteRune(r)
		case idx < len(tr):
			b.WriteRune(tr[idx])
		}
	}
	return b.String()
}

func trim(s, chars string, left, right bool) string {
	if left {
		s = strings.TrimLeft(s, chars)
	}
	if right {
		s = strings.TrimRight(s, chars)
	}
	return s
}

func pad(s string, n int64, fill string, left bool) (types.Datum, error) {
	if n <= 0 {
		return types.NewText(""), nil
	}
	if n*4 > maxStringLen {
		return types.Null, errTooLarge
	}
	cur := int64(utf8.RuneCountInString(s))
	if cur >= n {
		return types.NewText(charRange(s, 0, n)), nil
	}
	if fill == "" {
		return types.NewText(s), nil
	}
	fr := []rune(fill)
	need := n - cur
	var b strings.Builder
	b.Grow(len(s) + int(need)*4)
	if !left {
		b.WriteString(s)
	}
	for i := int64(0); i < need; i++ {
		b.WriteRune(fr[i%int64(len(fr))])
	}
	if left {
		b.WriteString(s)
	}
	return types.NewText(b.String()), nil
}

func leftRight(s string, n int64, left bool) string {
	cnt := int64(utf8.RuneCountInString(s))
	switch {
	case left && n >= 0:
		return charRange(s, 0, n)
	case left:
		return charRange(s, 0, cnt+n)
	case n >= 0:
		return charRange(s, cnt-n, cnt)
	}
	return charRange(s, -n, cnt)
}

func splitPart(s, delim string, n int64) (types.Datum, error) {
	if n == 0 {
		return types.Null, errFieldZero
	}
	if delim == "" {
		if n == 1 || n == -1 {
			return types.NewText(s), nil
		}
		return types.NewText(""), nil
	}
	parts := strings.Split(s, delim)
	if n < 0 {
		n = int64(len(parts)) + n + 1
		if n < 1 {
			return types.NewText(""), nil
		}
	}
	if n > int64(len(parts)) {
		return types.NewText(""), nil
	}
	return types.NewText(parts[n-1]), nil
}

// reservedWords are the keywords quote_ident must quote (PostgreSQL's
// reserved and type/function-name keywords most likely met).
var reservedWords = map[string]bool{
	"all": true, "analyse": true, "analyze": true, "and": true, "any": true, "array": true, "as": true, "asc": true,
	"asymmetric": true, "authorization": true, "between": true, "bigint": true, "binary": true, "bit": true, "boolean": true, "both": true,
	"case": true, "cast": true, "char": true, "character": true, "check": true, "coalesce": true, "collate": true, "collation": true,
	"column": true, "concurrently": true, "constraint": true, "create": true, "cross": true, "current_catalog": true,
	"current_date": true, "current_role": true, "current_schema": true, "current_time": true, "current_timestamp": true,
	"current_user": true, "dec": true, "decimal": true, "default": true, "deferrable": true, "desc": true, "distinct": true, "do": true,
	"else": true, "end": true, "except": true, "exists": true, "extract": true, "false": true, "fetch": true, "float": true, "for": true,
	"foreign": true, "freeze": true, "from": true, "full": true, "grant": true, "greatest": true, "group": true, "grouping": true,
	"having": true, "ilike": true, "in": true, "initially": true, "inner": true, "inout": true, "int": true, "integer": true,
	"intersect": true, "interval": true, "into": true, "is": true, "isnull": true, "join": true, "lateral": true, "leading": true,
	"least": true, "left": true, "like": true, "limit": true, "localtime": true, "localtimestamp": true, "national": true,
	"natural": true, "nchar": true, "none": true, "normalize": true, "not": true, "notnull": true, "null": true, "nullif": true,
	"numeric": true, "offset": true, "on": true, "only": true, "or": true, "order": true, "out": true, "outer": true, "overlaps": true,
	"overlay": true, "placing": true, "position": true, "precision": true, "primary": true, "real": true, "references": true,
	"returning": true, "right": true, "row": true, "select": true, "session_user": true, "setof": true, "similar": true,
	"smallint": true, "some": true, "substring": true, "symmetric": true, "table": true, "tablesample": true, "then": true,
	"time": true, "timestamp": true, "to": true, "trailing": true, "treat": true, "trim": true, "true": true, "union": true,
	"unique": true, "user": true, "using": true, "values": true, "varchar": true, "variadic": true, "verbose": true, "when": true,
	"where": true, "window": true, "with": true, "xmlattributes": true, "xmlconcat": true, "xmlelement": true, "xmlexists": true,
	"xmlforest": true, "xmlnamespaces": true, "xmlparse": true, "xmlpi": true, "xmlroot": true, "xmlserialize": true, "xmltable": true,
}

// quoteIdent quotes s unless it is a lower-case identifier that is not a
// keyword, as PostgreSQL's quote_ident.
func quoteIdent(s string) string {
	safe := s != "" && (s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))
	for i := 0; safe && i < len(s); i++ {
		c := s[i]
		safe = c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	}
	if safe && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral doubles quotes and backslashes; a string with backslashes
// gets the E” form.
func quoteLiteral(s string) string {
	var b strings.Builder
	if strings.Contains(s, `\`) {
		b.WriteByte('E')
	}
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte(s[i])
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

func badEncoding(name string) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized encoding: \"%s\"", name)
}

func encode(_ *Env, a []types.Datum) (types.Datum, error) {
	b := a[0].Str()
	switch strings.ToLower(a[1].Str()) {
	case "hex":
		return types.NewText(hex.EncodeToString([]byte(b))), nil
	case "base64":
		s := base64.StdEncoding.EncodeToString([]byte(b))
		// PostgreSQL breaks base64 lines at 76 characters.
		var sb strings.Builder
		for len(s) > 76 {
			sb.WriteString(s[:76])
			sb.WriteByte('\n')
			s = s[76:]
		}
		sb.WriteString(s)
		return types.NewText(sb.String()), nil
	case "escape":
		var sb strings.Builder
		for i := 0; i < len(b); i++ {
			c := b[i]
			switch {
			case c == '\\':
				sb.WriteString(`\\`)
			case c == 0 || c >= 0x80:
				sb.WriteByte('\\')
				sb.WriteByte('0' + c>>6)
				sb.WriteByte('0' + c>>3&7)
				sb.WriteByte('0' + c&7)
			default:
				sb.WriteByte(c)
			}
		}
		return types.NewText(sb.String()), nil
	}
	return types.Null, badEncoding(a[1].Str())
}

func decode(_ *Env, a []types.Datum) (types.Datum, error) {
	s := a[0].Str()
	switch strings.ToLower(a[1].Str()) {
	case "hex":
		b, err := hex.DecodeString(strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, s))
		if err != nil {
			return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal data: %s", err)
		}
		return types.NewBytea(b), nil
	case "base64":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "invalid base64 end sequence").
				WithHint("Input data is missing padding, is truncated, or is otherwise corrupted.")
		}
		return types.NewBytea(b), nil
	case "escape":
		var b []byte
		for i := 0; i < len(s); i++ {
			if s[i] != '\\' {
				b = append(b, s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\\' {
				b = append(b, '\\')
				i++
				continue
			}
			if i+3 < len(s) && isOct(s[i+1]) && isOct(s[i+2]) && isOct(s[i+3]) {
				b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
				i += 3
				continue
			}
			return types.Null, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
		return types.NewBytea(b), nil
	}
	return types.Null, badEncoding(a[1].Str())
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// format implements format(fmt, args...): %s, %I, %L and %%, with
// optional argument positions (%2$s) and widths (%-10s, %*s).
func format(env *Env, a []types.Datum) (types.Datum, error) {
	if a[0].IsNull() {
		return types.Null, nil
	}
	f := a[0].Str()
	args := a[1:]
	var buf []byte
	next := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		i++
		if i >= len(f) {
			return types.Null, errFormatWidth
		}
		if f[i] == '%' {
			buf = append(buf, '%')
			continue
		}
		// [argpos$][flags][width]type
		argPos := -1
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j < len(f) && f[j] == '$' && j > i {
			n, _ := strconv.Atoi(f[i:j])
			if n == 0 {
				return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
			}
			argPos = n - 1
			i = j + 1
		}
		leftAlign := false
		if i < len(f) && f[i] == '-' {
			leftAlign = true
			i++
		}
		width := 0
		if i < len(f) && f[i] == '*' {
			if next >= len(args) {
				return types.Null, errFormatArgs
			}
			if !args[next].IsNull() {
				width = int(args[next].Int())
			}
			next++
			i++
		} else {
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				width = width*10 + int(f[i]-'0')
				i++
			}
		}
		if width < 0 {
			leftAlign, width = true, -width
		}
		if i >= len(f) {
			return types.Null, errFormatWidth
		}
		typ := f[i]
		if typ != 's' && typ != 'I' && typ != 'L' {
			return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized format() type specifier \"%c\"", typ).
				WithHint("For a single \"%%\" use \"%%%%\".")
		}
		if argPos >= 0 {
			next = argPos
		}
		if next >= len(args) {
			return types.Null, errFormatArgs
		}
		arg := args[next]
		next++
		var s string
		switch typ {
		case 's':
			s = string(appendText(nil, arg, env.Location))
		case 'I':
			if arg.IsNull() {
				return types.Null, errNullIdent
			}
			s = quoteIdent(string(appendText(nil, arg, env.Location)))
		case 'L':
			if arg.IsNull() {
				s = "NULL"
			} else {
				s = quoteLiteral(string(appendText(nil, arg, env.Location)))
			}
		}
		padN := width - utf8.RuneCountInString(s)
		if padN > 0 && !leftAlign {
			buf = append(buf, strings.Repeat(" ", padN)...)
		}
		buf = append(buf, s...)
		if padN > 0 && leftAlign {
			buf = append(buf, strings.Repeat(" ", padN)...)
		}
	}
	return types.NewText(string(buf)), nil
}
