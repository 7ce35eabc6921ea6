package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // unquoted identifier or keyword; val is lower-cased
	tQIdent         // "quoted" identifier; val is the name exactly
	tString         // '...', E'...', $$...$$; val is the decoded string
	tNumber         // numeric literal; val is its text
	tParam          // $n; val is n
	tOp             // operator (PostgreSQL operator characters)
	tPunct          // ( ) [ ] , ; . : ::
)

// token is one lexical token of the user's text. pos and end are byte
// offsets into the original query string.
type token struct {
	kind     tokKind
	val      string
	pos, end int
}

// is reports whether t is the unquoted keyword kw (lower-case).
func (t token) is(kw string) bool { return t.kind == tIdent && t.val == kw }

// isP reports whether t is the punctuation or operator p.
func (t token) isP(p string) bool { return (t.kind == tPunct || t.kind == tOp) && t.val == p }

// lexer tokenizes PostgreSQL-dialect SQL with standard_conforming_strings on.
type lexer struct {
	src string
	pos int
}

// opChars are the characters PostgreSQL operators are made of.
const opChars = "+-*/<>=~!@#%^&|`?"

// tokenize returns every token of src (comments and whitespace dropped),
// ending with a tEOF token at len(src). Lexical errors (unterminated
// strings, comments, quoted identifiers) are 42601 with a position.
func tokenize(src string) ([]token, error) {
	lx := &lexer{src: src}
	var toks []token
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// charPos converts a byte offset of src into PostgreSQL's 1-based character
// position.
func charPos(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

func (lx *lexer) errAt(off int, format string, args ...any) error {
	return sqlerr.New(sqlerr.SyntaxError, format, args...).WithPosition(charPos(lx.src, off))
}

func (lx *lexer) skipSpaceAndComments() error {
	s := lx.src
	for lx.pos < len(s) {
		c := s[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.pos++
		case c == '-' && lx.pos+1 < len(s) && s[lx.pos+1] == '-':
			for lx.pos < len(s) && s[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '/' && lx.pos+1 < len(s) && s[lx.pos+1] == '*':
			start := lx.pos
			depth := 0
			for {
				if lx.pos+1 >= len(s) {
					lx.pos = len(s)
					return lx.errAt(start, "unterminated /* comment at or near %q", s[start:min(len(s), start+2)])
				}
				if s[lx.pos] == '/' && s[lx.pos+1] == '*' {
					depth++
					lx.pos += 2
				} else if s[lx.pos] == '*' && s[lx.pos+1] == '/' {
					depth--
					lx.pos += 2
					if depth == 0 {
						break
					}
				} else {
					lx.pos++
				}
			}
		default:
			return nil
		}
	}
	return nil
}

func (lx *lexer) next() (token, error) {
	if err := lx.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	s := lx.src
	start := lx.pos
	if start >= len(s) {
		return token{kind: tEOF, pos: len(s), end: len(s)}, nil
	}
	c := s[start]
	switch {
	case (c == 'e' || c == 'E') && start+1 < len(s) && s[start+1] == '\'':
		lx.pos++
		v, err := lx.quoted(start, true)
		return token{kind: tString, val: v, pos: start, end: lx.pos}, err
	case (c == 'n' || c == 'N') && start+1 < len(s) && s[start+1] == '\'':
		lx.pos++
		v, err := lx.quoted(start, false)
		return token{kind: tString, val: v, pos: start, end: lx.pos}, err
	case isIdentStart(c):
		for lx.pos < len(s) && isIdentCont(s[lx.pos]) {
			lx.pos++
		}
		return token{kind: tIdent, val: strings.ToLower(s[start:lx.pos]), pos: start, end: lx.pos}, nil
	case c == '"':
		lx.pos++
		var b strings.Builder
		for {
			i := strings.IndexByte(s[lx.pos:], '"')
			if i < 0 {
				lx.pos = len(s)
				return token{}, lx.errAt(start, "unterminated quoted identifier at or near %q", s[start:])
			}
			b.WriteString(s[lx.pos : lx.pos+i])
			lx.pos += i + 1
			if lx.pos < len(s) && s[lx.pos] == '"' {
				b.WriteByte('"')
				lx.pos++
				continue
			}
			break
		}
		if b.Len() == 0 {
			return token{}, lx.errAt(start, "zero-length delimited identifier at or near %q", `""`)
		}
		return token{kind: tQIdent, val: b.String(), pos: start, end: lx.pos}, nil
	case c == '\'':
		v, err := lx.quoted(start, false)
		return token{kind: tString, val: v, pos: start, end: lx.pos}, err
	case c == '$':
		if start+1 < len(s) && isDigit(s[start+1]) {
			lx.pos++
			for lx.pos < len(s) && isDigit(s[lx.pos]) {
				lx.pos++
			}
			return token{kind: tParam, val: s[start+1 : lx.pos], pos: start, end: lx.pos}, nil
		}
		// dollar quote: $tag$ ... $tag$
		j := start + 1
		for j < len(s) && s[j] != '$' && isIdentCont(s[j]) && s[j] != '$' {
			j++
		}
		if j < len(s) && s[j] == '$' && (j == start+1 || !isDigit(s[start+1])) {
			tag := s[start : j+1]
			body := j + 1
			k := strings.Index(s[body:], tag)
			if k < 0 {
				lx.pos = len(s)
				return token{}, lx.errAt(start, "unterminated dollar-quoted string at or near %q", s[start:])
			}
			lx.pos = body + k + len(tag)
			return token{kind: tString, val: s[body : body+k], pos: start, end: lx.pos}, nil
		}
		lx.pos++
		return token{kind: tOp, val: "$", pos: start, end: lx.pos}, nil
	case isDigit(c) || (c == '.' && start+1 < len(s) && isDigit(s[start+1])):
		for lx.pos < len(s) && isDigit(s[lx.pos]) {
			lx.pos++
		}
		if lx.pos < len(s) && s[lx.pos] == '.' && !(lx.pos+1 < len(s) && s[lx.pos+1] == '.') {
			lx.pos++
			for lx.pos < len(s) && isDigit(s[lx.pos]) {
				lx.pos++
			}
		}
		if lx.pos < len(s) && (s[lx.pos] == 'e' || s[lx.pos] == 'E') {
			j := lx.pos + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				lx.pos = j
			}
		}
		if lx.pos < len(s) && isIdentStart(s[lx.pos]) {
			// PostgreSQL rejects 123abc as trailing junk.
			e := lx.pos
			for e < len(s) && isIdentCont(s[e]) {
				e++
			}
			return token{}, lx.errAt(start, "trailing junk after numeric literal at or near %q", s[start:e])
		}
		return token{kind: tNumber, val: s[start:lx.pos], pos: start, end: lx.pos}, nil
	case c == ':':
		if start+1 < len(s) && s[start+1] == ':' {
			lx.pos += 2
			return token{kind: tPunct, val: "::", pos: start, end: lx.pos}, nil
		}
		lx.pos++
		return token{kind: tPunct, val: ":", pos: start, end: lx.pos}, nil
	case strings.IndexByte("()[],;.", c) >= 0:
		lx.pos++
		return token{kind: tPunct, val: s[start:lx.pos], pos: start, end: lx.pos}, nil
	case strings.IndexByte(opChars, c) >= 0:
		j := start
		for j < len(s) && strings.IndexByte(opChars, s[j]) >= 0 {
			// a comment start ends the operator
			if j > start && j+1 < len(s) && ((s[j] == '-' && s[j+1] == '-') || (s[j] == '/' && s[j+1] == '*')) {
				break
			}
			j++
		}
		op := s[start:j]
		// PostgreSQL: a multi-character operator cannot end in + or -
		// unless it contains one of ~ ! @ # % ^ & | ` ?
		if len(op) > 1 && !strings.ContainsAny(op, "~!@#%^&|`?") {
			for len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') {
				op = op[:len(op)-1]
			}
		}
		lx.pos = start + len(op)
		return token{kind: tOp, val: op, pos: start, end: lx.pos}, nil
	}
	_, size := utf8.DecodeRuneInString(s[start:])
	lx.pos += size
	return token{}, lx.errAt(start, "syntax error at or near %q", s[start:lx.pos])
}

// quoted reads a '...' string starting at lx.pos (the opening quote),
// decoding ” and, with escapes, backslash escapes. start is the token start
// for error positions.
func (lx *lexer) quoted(start int, escapes bool) (string, error) {
	s := lx.src
	lx.pos++ // opening quote
	var b strings.Builder
	for {
		if lx.pos >= len(s) {
			return "", lx.errAt(start, "unterminated quoted string at or near %q", s[start:])
		}
		c := s[lx.pos]
		switch {
		case c == '\'':
			if lx.pos+1 < len(s) && s[lx.pos+1] == '\'' {
				b.WriteByte('\'')
				lx.pos += 2
				continue
			}
			lx.pos++
			return b.String(), nil
		case c == '\\' && escapes:
			if lx.pos+1 >= len(s) {
				return "", lx.errAt(start, "unterminated quoted string at or near %q", s[start:])
			}
			lx.pos++
			e := s[lx.pos]
			lx.pos++
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'x':
				j := lx.pos
				for j < len(s) && j < lx.pos+2 && isHex(s[j]) {
					j++
				}
				if j == lx.pos {
					b.WriteByte('x')
					continue
				}
				v, _ := strconv.ParseUint(s[lx.pos:j], 16, 8)
				b.WriteByte(byte(v))
				lx.pos = j
			case 'u', 'U':
				n := 4
				if e == 'U' {
					n = 8
				}
				if lx.pos+n > len(s) {
					return "", lx.errAt(start, "invalid Unicode escape")
				}
				v, err := strconv.ParseUint(s[lx.pos:lx.pos+n], 16, 32)
				if err != nil || !utf8.ValidRune(rune(v)) {
					return "", sqlerr.New(sqlerr.SyntaxError, "invalid Unicode escape value").WithPosition(charPos(s, lx.pos))
				}
				b.WriteRune(rune(v))
				lx.pos += n
			default:
				if e >= '0' && e <= '7' {
					j := lx.pos - 1
					k := j
					for k < len(s) && k < j+3 && s[k] >= '0' && s[k] <= '7' {
						k++
					}
					v, _ := strconv.ParseUint(s[j:k], 8, 16)
					b.WriteByte(byte(v))
					lx.pos = k
				} else {
					b.WriteByte(e)
				}
			}
		default:
			b.WriteByte(c)
			lx.pos++
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
