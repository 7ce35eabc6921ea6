package format

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of JSON values and Avro types a decoder
// follows: deeper records are errors, not stack overflows.
const maxDepth = 256

// jsonScanner is a streaming JSON tokenizer over one record's text. It
// never builds a tree: the row decoder asks for the next token and
// converts it straight into a Datum. Positions are byte offsets into s.
type jsonScanner struct {
	s string
	i int
}

func (p *jsonScanner) reset(s string) { p.s, p.i = s, 0 }

func (p *jsonScanner) ws() {
	s, i := p.s, p.i // locals: the loop runs in registers
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	p.i = i
}

// peek skips white space and returns the next byte (0 at the end).
func (p *jsonScanner) peek() byte {
	p.ws()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonScanner) unexpected() *Error {
	if p.i >= len(p.s) {
		return errRecord("invalid JSON: the input ended unexpectedly")
	}
	c := p.s[p.i]
	if c < 0x20 || c >= 0x7f {
		return errRecord("invalid JSON: unexpected byte 0x%02x at offset %d", c, p.i)
	}
	return errRecord("invalid JSON: unexpected %q at offset %d", c, p.i)
}

// expect consumes byte c after optional white space.
func (p *jsonScanner) expect(c byte) *Error {
	if p.peek() != c {
		return p.unexpected()
	}
	p.i++
	return nil
}

// end checks that nothing but white space follows the value.
func (p *jsonScanner) end() *Error {
	if p.peek() != 0 || p.i < len(p.s) {
		return p.unexpected()
	}
	return nil
}

// literal consumes the word w (true, false, null).
func (p *jsonScanner) literal(w string) *Error {
	if len(p.s)-p.i < len(w) || p.s[p.i:p.i+len(w)] != w {
		return p.unexpected()
	}
	p.i += len(w)
	return nil
}

// str consumes a string at p.i (which holds '"') and returns its raw
// contents, between the quotes and still escaped; esc reports whether it
// has escapes (then decode with unescape).
func (p *jsonScanner) str() (raw string, esc bool, err *Error) {
	s := p.s
	start := p.i + 1
	// The common string has no escapes: find its end, then check it.
	if n := strings.IndexByte(s[start:], '"'); n >= 0 && plainLen(s[start:start+n]) == n {
		p.i = start + n + 1
		return s[start : start+n], false, nil
	}
	i := start
	for i < len(s) {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			p.i = i + 1
			return s[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				p.i = len(s)
				return "", false, p.unexpected()
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return "", false, errRecord("invalid JSON: bad \\u escape at offset %d", i)
				}
				i += 6
			default:
				return "", false, errRecord("invalid JSON: bad escape at offset %d", i)
			}
		default: // a control character
			p.i = i
			return "", false, p.unexpected()
		}
	}
	p.i = i
	return "", false, p.unexpected()
}

// plainLen is the length of the prefix of s that holds no backslash and
// no control character, tested eight bytes at a time.
func plainLen(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8] // of known length: one load, no bounds checks
		x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		y := x ^ ('\\' * ones)
		// A byte below 0x20, or a zero byte of y (a backslash of x), sets
		// its high bit here (bytes of 0x80 and above never do).
		if ((x-0x20*ones)&^x|(y-ones)&^y)&highs != 0 {
			break
		}
	}
	for i < len(s) && plainByte[s[i]] {
		i++
	}
	return i
}

// plainByte marks the bytes a JSON string holds as they are: not the
// quote, the backslash or a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if _, ok := hexVal(s[i]); !ok {
			return false
		}
	}
	return true
}

func hexVal(c byte) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return rune(c-'A') + 10, true
	}
	return 0, false
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		v, _ := hexVal(s[i])
		r = r<<4 | v
	}
	return r
}

// unescape appends the decoded text of a raw string (as str returned it)
// to dst. \u0000 is refused, as PostgreSQL's text cannot hold it; a lone
// surrogate becomes U+FFFD.
func unescape(dst []byte, raw string) ([]byte, *Error) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if r == 0 {
				return dst, errRecord("unsupported Unicode escape sequence: \\u0000 cannot be converted to text")
			}
			if utf16.IsSurrogate(r) && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if r2 := utf16.DecodeRune(r, hex4(raw[i+2:i+6])); r2 != utf8.RuneError {
					r = r2
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		i += 2
	}
	return dst, nil
}

// number consumes a JSON number and returns its text.
func (p *jsonScanner) number() (string, *Error) {
	start := p.i
	s := p.s
	i := p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		p.i = i
		return "", p.unexpected()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			p.i = i
			return "", p.unexpected()
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			p.i = i
			return "", p.unexpected()
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	p.i = i
	return s[start:i], nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skip consumes one value of any kind, checking its syntax, and returns
// its text. depth is the nesting already entered.
func (p *jsonScanner) skip(depth int) (string, *Error) {
	start := p.i
	if err := p.skipValue(depth); err != nil {
		return "", err
	}
	return p.s[start:p.i], nil
}

func (p *jsonScanner) skipValue(depth int) *Error {
	switch p.peek() {
	case '"':
		_, _, err := p.str()
		return err
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	case '{':
		if depth >= maxDepth {
			return errRecord("JSON nested deeper than %d levels", maxDepth)
		}
		return p.members(func(string, bool) *Error { return p.skipValue(depth + 1) })
	case '[':
		if depth >= maxDepth {
			return errRecord("JSON nested deeper than %d levels", maxDepth)
		}
		p.i++
		if p.peek() == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skipValue(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return nil
			default:
				return p.unexpected()
			}
		}
	}
	_, err := p.number()
	return err
}

// members iterates over the members of the object at p.i: for each it
// calls f with the key's raw text (escaped when esc), positioned at the
// value, which f must consume.
func (p *jsonScanner) members(f func(key string, esc bool) *Error) *Error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.unexpected()
		}
		key, esc, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		p.ws()
		if err := f(key, esc); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.unexpected()
		}
	}
}
