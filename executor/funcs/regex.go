package funcs

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// POSIX regular expressions as PostgreSQL's (advanced) regexes, run on Go's
// RE2 engine: the common syntax is shared; PostgreSQL-only escapes (\y \Y
// \m \M \Z) are translated; back-references and lookaround are refused
// with 2201B. By default "." and bracket negations match newlines, as in
// PostgreSQL.

// regexFlags is the parsed flags argument.
type regexFlags struct {
	global, icase, newline, expanded bool
}

func parseRegexFlags(flags string, allowGlobal bool) (regexFlags, error) {
	var f regexFlags
	for _, c := range flags {
		switch c {
		case 'g':
			if !allowGlobal {
				return f, sqlerr.New(sqlerr.InvalidParameterValue, "regexp_like() does not support the \"global\" option")
			}
			f.global = true
		case 'i':
			f.icase = true
		case 'c':
			f.icase = false
		case 'n', 'm':
			f.newline = true
		case 's':
			f.newline = false
		case 'x':
			f.expanded = true
		case 't', 'p', 'w':
			// tight syntax (default); partial newline modes approximated
			if c != 't' {
				f.newline = true
			}
		default:
			return f, sqlerr.New(sqlerr.InvalidParameterValue, "invalid regular expression option: \"%c\"", c)
		}
	}
	return f, nil
}

// translateRegex turns a PostgreSQL regex into Go syntax.
func translateRegex(p string, f regexFlags) string {
	var b strings.Builder
	b.Grow(len(p) + 8)
	switch {
	case f.icase && f.newline:
		b.WriteString("(?im)")
	case f.icase:
		b.WriteString("(?is)")
	case f.newline:
		b.WriteString("(?m)")
	default:
		b.WriteString("(?s)")
	}
	inBracket := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			i++
			n := p[i]
			if inBracket {
				b.WriteByte('\\')
				b.WriteByte(n)
				continue
			}
			switch n {
			case 'y', 'm', 'M':
				b.WriteString(`\b`)
			case 'Y':
				b.WriteString(`\B`)
			case 'Z':
				b.WriteString(`\z`)
			case 'b':
				b.WriteString(`\x08`)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case c == '[' && !inBracket:
			inBracket = true
			b.WriteByte(c)
			// a leading ] or ^] is literal
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '[' && inBracket && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '.' || p[i+1] == '='):
			// [:class:] inside a bracket: copy through its closing
			end := strings.Index(p[i+2:], string(p[i+1])+"]")
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(p[i : i+2+end+2])
			i += 2 + end + 1
		case c == ']' && inBracket:
			inBracket = false
			b.WriteByte(c)
		case f.expanded && !inBracket && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			// ignored in expanded syntax
		case f.expanded && !inBracket && c == '#':
			for i < len(p) && p[i] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func compileRegex(pattern string, f regexFlags) (*regexp.Regexp, error) {
	re, err := regexp.Compile(translateRegex(pattern, f))
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = se.Code.String()
		}
		return nil, sqlerr.New(sqlerr.InvalidRegularExpression, "invalid regular expression: %s", msg)
	}
	return re, nil
}

// CompileRegex compiles a PostgreSQL regular expression with flags (as
// regexp_like's: i c n m s x) into a matcher, safe for concurrent use; the
// planner uses it for constant patterns of ~ and ~*. Errors are
// *sqlerr.Error (2201B, 22023).
func CompileRegex(pattern, flags string) (func(string) bool, error) {
	f, err := parseRegexFlags(flags, false)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(pattern, f)
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}

// regexCache caches the last compiled (pattern, flags) of a call site.
type regexCache struct {
	c patternCache
}

func (rc *regexCache) get(pattern, flags string) (*regexp.Regexp, regexFlags, error) {
	f, err := parseRegexFlags(flags, true)
	if err != nil {
		return nil, f, err
	}
	key := flags + "\x00" + pattern
	if p := rc.c.last.Load(); p != nil && p.pattern == key {
		return p.re, f, nil
	}
	re, err := compileRegex(pattern, f)
	if err != nil {
		return nil, f, err
	}
	rc.c.last.Store(&cachedPattern{pattern: key, match: re.MatchString, re: re})
	return re, f, nil
}

// regexFn registers a regex function whose evaluator gets a per-call-site
// cache.
func regexFn(t table, name string, args []types.Type, ret types.Type, eval func(rc *regexCache, a []types.Datum) (types.Datum, error)) {
	mk := func() evalFn {
		rc := &regexCache{}
		return func(_ *Env, a []types.Datum) (types.Datum, error) { return eval(rc, a) }
	}
	t.add(name, &Overload{Args: args, Ret: retConst(ret), Eval: mk(), Bind: func([]types.Type) evalFn { return mk() }})
}

func addRegex(t table) {
	for _, op := range []struct {
		name   string
		flags  string
		negate bool
	}{{"~", "", false}, {"~*", "i", false}, {"!~", "", true}, {"!~*", "i", true}} {
		regexFn(t, op.name, txt2, types.Bool, func(rc *regexCache, a []types.Datum) (types.Datum, error) {
			re, _, err := rc.get(a[1].Str(), op.flags)
			if err != nil {
				return types.Null, err
			}
			return types.NewBool(re.MatchString(a[0].Str()) != op.negate), nil
		})
	}
	likeFn := func(rc *regexCache, a []types.Datum) (types.Datum, error) {
		flags := ""
		if len(a) > 2 {
			flags = a[2].Str()
			if strings.ContainsRune(flags, 'g') {
				return types.Null, sqlerr.New(sqlerr.InvalidParameterValue, "regexp_like() does not support the \"global\" option")
			}
		}
		re, _, err := rc.get(a[1].Str(), flags)
		if err != nil {
			return types.Null, err
		}
		return types.NewBool(re.MatchString(a[0].Str())), nil
	}
	regexFn(t, "regexp_like", txt2, types.Bool, likeFn)
	regexFn(t, "regexp_like", txt3, types.Bool, likeFn)
	replaceFn := func(rc *regexCache, a []types.Datum) (types.Datum, error) {
		flags := ""
		if len(a) > 3 {
			flags = a[3].Str()
		}
		re, f, err := rc.get(a[1].Str(), flags)
		if err != nil {
			return types.Null, err
		}
		return types.NewText(regexReplace(re, a[0].Str(), a[2].Str(), f.global)), nil
	}
	regexFn(t, "regexp_replace", txt3, types.Text, replaceFn)
	regexFn(t, "regexp_replace", ts(types.KindText, types.KindText, types.KindText, types.KindText), types.Text, replaceFn)
	countFn := func(rc *regexCache, a []types.Datum) (types.Datum, error) {
		flags := ""
		if len(a) > 2 {
			flags = a[2].Str()
		}
		re, _, err := rc.get(a[1].Str(), flags)
		if err != nil {
			return types.Null, err
		}
		return types.NewInt32(int32(len(re.FindAllStringIndex(a[0].Str(), -1)))), nil
	}
	regexFn(t, "regexp_count", txt2, types.Int32, countFn)
	// substring(s FROM pattern): the first parenthesized group's match, or
	// the whole match; NULL when nothing matches.
	regexFn(t, "substring", txt2, types.Text, func(rc *regexCache, a []types.Datum) (types.Datum, error) {
		re, _, err := rc.get(a[1].Str(), "")
		if err != nil {
			return types.Null, err
		}
		m := re.FindStringSubmatchIndex(a[0].Str())
		if m == nil {
			return types.Null, nil
		}
		if len(m) >= 4 {
			if m[2] < 0 {
				return types.Null, nil
			}
			return types.NewText(a[0].Str()[m[2]:m[3]]), nil
		}
		return types.NewText(a[0].Str()[m[0]:m[1]]), nil
	})
}

// regexReplace replaces the first (or every, with global) match of re in
// s by repl, where \1..\9 name groups, \& the whole match and \\ a
// backslash.
func regexReplace(re *regexp.Regexp, s, repl string, global bool) string {
	n := 1
	if global {
		n = -1
	}
	matches := re.FindAllStringSubmatchIndex(s, n)
	if matches == nil {
		return s
	}
	var b strings.Builder
	prev := 0
	for _, m := range matches {
		b.WriteString(s[prev:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '\\' || i+1 == len(repl) {
				b.WriteByte(c)
				continue
			}
			i++
			switch d := repl[i]; {
			case d >= '1' && d <= '9':
				g := int(d - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					b.WriteString(s[m[2*g]:m[2*g+1]])
				}
			case d == '&':
				b.WriteString(s[m[0]:m[1]])
			case d == '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(d)
			}
		}
		prev = m[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}
