package funcs

import (
	"regexp"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// LIKE and ILIKE: the operators ~~ (LIKE), !~~ (NOT LIKE), ~~* (ILIKE) and
// !~~* (NOT ILIKE), with backslash as the escape character. `x LIKE p
// ESCAPE e` is `x ~~ like_escape(p, e)`, as in PostgreSQL; a planner with a
// constant pattern calls CompileLike once instead.

var (
	errLikeEscapeEnd = sqlerr.New(sqlerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
	errLikeEscape    = sqlerr.New(sqlerr.Code("22019"), "invalid escape string").WithHint("Escape string must be empty or one character.")
)

// likeToken is one element of a compiled LIKE pattern.
type likeToken struct {
	kind byte   // 'l' literal, '_' one character, '%' any run
	lit  string // for 'l'
}

// CompileLike compiles a LIKE pattern: % matches any run of characters, _
// any one character, and escape (empty for none, default "\" in SQL)
// makes the next character literal. With caseInsensitive it is ILIKE. The
// returned matcher is safe for concurrent use and does not allocate for
// case-sensitive matching. Errors are *sqlerr.Error (22025, 22019).
func CompileLike(pattern, escape string, caseInsensitive bool) (func(string) bool, error) {
	if utf8.RuneCountInString(escape) > 1 {
		return nil, errLikeEscape
	}
	esc, _ := utf8.DecodeRuneInString(escape)
	if escape == "" {
		esc = -1
	}
	if caseInsensitive {
		pattern = strings.ToLower(pattern)
	}
	var toks []likeToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, likeToken{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch {
		case r == esc:
			if i >= len(pattern) {
				return nil, errLikeEscapeEnd
			}
			r2, n2 := utf8.DecodeRuneInString(pattern[i:])
			i += n2
			lit.WriteRune(r2)
		case r == '%':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeToken{kind: '%'})
			}
		case r == '_':
			flush()
			toks = append(toks, likeToken{kind: '_'})
		default:
			lit.WriteRune(r)
		}
	}
	flush()
	m := likeMatcher(toks)
	if caseInsensitive {
		return func(s string) bool { return m(strings.ToLower(s)) }, nil
	}
	return m, nil
}

// likeMatcher picks a fast path for the common pattern shapes.
func likeMatcher(toks []likeToken) func(string) bool {
	isLit := func(i int) bool { return toks[i].kind == 'l' }
	switch {
	case len(toks) == 0:
		return func(s string) bool { return s == "" }
	case len(toks) == 1 && isLit(0):
		lit := toks[0].lit
		return func(s string) bool { return s == lit }
	case len(toks) == 1 && toks[0].kind == '%':
		return func(string) bool { return true }
	case len(toks) == 2 && isLit(0) && toks[1].kind == '%':
		lit := toks[0].lit
		return func(s string) bool { return strings.HasPrefix(s, lit) }
	case len(toks) == 2 && toks[0].kind == '%' && isLit(1):
		lit := toks[1].lit
		return func(s string) bool { return strings.HasSuffix(s, lit) }
	case len(toks) == 3 && toks[0].kind == '%' && isLit(1) && toks[2].kind == '%':
		lit := toks[1].lit
		return func(s string) bool { return strings.Contains(s, lit) }
	}
	return func(s string) bool { return likeMatch(toks, s) }
}

// likeMatch matches with backtracking limited to the last %: each % is
// tried at increasing positions, which is linear for patterns whose
// literals do not overlap and O(n*m) at worst.
func likeMatch(toks []likeToken, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case '%':
				// Jump to the next occurrence of the literal that follows.
				if ti+1 < len(toks) && toks[ti+1].kind == 'l' {
					idx := strings.Index(s[si:], toks[ti+1].lit)
					if idx < 0 {
						return false
					}
					si += idx
				}
				starT, starS = ti, si
				ti++
				continue
			case '_':
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case 'l':
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last % absorb one more character.
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		ti, si = starT, starS+n
	}
}

// likeEscape rewrites a pattern with escape character esc into one using
// backslash (PostgreSQL's like_escape).
func likeEscape(pattern, escape string) (string, error) {
	if utf8.RuneCountInString(escape) > 1 {
		return "", errLikeEscape
	}
	if escape == `\` {
		return pattern, nil
	}
	var b strings.Builder
	esc, _ := utf8.DecodeRuneInString(escape)
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch {
		case escape != "" && r == esc:
			if i >= len(pattern) {
				return "", errLikeEscapeEnd
			}
			r2, n2 := utf8.DecodeRuneInString(pattern[i:])
			i += n2
			b.WriteByte('\\')
			b.WriteRune(r2)
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// patternCache is a one-entry, lock-free cache of the last compiled
// pattern of a call site; a new pattern replaces it.
type patternCache struct {
	last atomic.Pointer[cachedPattern]
}

type cachedPattern struct {
	pattern string
	match   func(string) bool
	re      *regexp.Regexp // set by regexCache
}

func (c *patternCache) get(pattern string, compile func(string) (func(string) bool, error)) (func(string) bool, error) {
	if p := c.last.Load(); p != nil && p.pattern == pattern {
		return p.match, nil
	}
	m, err := compile(pattern)
	if err != nil {
		return nil, err
	}
	c.last.Store(&cachedPattern{pattern: pattern, match: m})
	return m, nil
}

// patternOp registers a (text, text) -> bool matching operator whose
// evaluator caches the compiled pattern per call site.
func patternOp(t table, name string, negate bool, compile func(string) (func(string) bool, error)) {
	eval := func(c *patternCache) evalFn {
		return func(_ *Env, a []types.Datum) (types.Datum, error) {
			m, err := c.get(a[1].Str(), compile)
			if err != nil {
				return types.Null, err
			}
			return types.NewBool(m(a[0].Str()) != negate), nil
		}
	}
	t.add(name, &Overload{
		Args: txt2, Ret: retConst(types.Bool),
		Eval: eval(&patternCache{}),
		Bind: func([]types.Type) evalFn { return eval(&patternCache{}) },
	})
}

func addPatterns(t table) {
	like := func(p string) (func(string) bool, error) { return CompileLike(p, `\`, false) }
	ilike := func(p string) (func(string) bool, error) { return CompileLike(p, `\`, true) }
	patternOp(t, "~~", false, like)
	patternOp(t, "!~~", true, like)
	patternOp(t, "~~*", false, ilike)
	patternOp(t, "!~~*", true, ilike)
	t.fn("like_escape", txt2, types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		s, err := likeEscape(a[0].Str(), a[1].Str())
		if err != nil {
			return types.Null, err
		}
		return types.NewText(s), nil
	})
	addRegex(t)
}
