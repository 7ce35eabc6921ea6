package funcs

import (
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// argMatch is how one argument fits one parameter.
type argMatch uint8

const (
	matchNone    argMatch = iota
	matchExact            // same kind, or a parameter of pseudo-type "any"
	matchUnknown          // untyped literal / NULL: fits any parameter
	matchCast             // needs an implicit cast
)

// candidate is an overload that can take the arguments, with what its
// choice would cost.
type candidate struct {
	ov     *Overload
	params []types.Type // expanded to len(args)
}

// resolve implements Resolve following PostgreSQL's "Function Type
// Resolution" / "Operator Type Resolution" (docs chapter 10), simplified to
// Weir's kinds.
func resolve(name string, args []types.Type) (*Resolved, error) {
	lname := strings.ToLower(name)
	ovs := registry()[lname]
	isOp := isOperatorName(lname)

	// Binary operator with one unknown argument: for the exact-match test
	// the unknown side is assumed to have the other side's type.
	if isOp && len(args) == 2 {
		a, b := args[0].Kind, args[1].Kind
		var assumed []types.Type
		if a == types.KindUnknown && b != types.KindUnknown {
			assumed = []types.Type{args[1], args[1]}
		} else if b == types.KindUnknown && a != types.KindUnknown {
			assumed = []types.Type{args[0], args[0]}
		}
		if assumed != nil {
			for _, ov := range ovs {
				if !ov.Variadic && len(ov.Args) == 2 && ov.Args[0].Kind == assumed[0].Kind && ov.Args[1].Kind == assumed[1].Kind {
					return newResolved(ov, assumed), nil
				}
			}
		}
	}

	var cands []candidate
	for _, ov := range ovs {
		params, ok := expandParams(ov, len(args))
		if !ok {
			continue
		}
		fits := true
		for i, a := range args {
			if matchArg(a.Kind, params[i].Kind) == matchNone {
				fits = false
				break
			}
		}
		if fits {
			cands = append(cands, candidate{ov: ov, params: params})
		}
	}
	if len(cands) == 0 {
		return nil, notFound(lname, isOp, args)
	}
	if len(cands) > 1 {
		cands = narrow(cands, args)
	}
	if len(cands) != 1 {
		return nil, ambiguous(lname, isOp, args)
	}
	c := cands[0]
	resolvedArgs := make([]types.Type, len(args))
	for i, a := range args {
		p := c.params[i]
		switch {
		case p.Kind == types.KindUnknown || p.Kind == a.Kind:
			resolvedArgs[i] = a // "any", or exact: keep modifiers (varchar(n))
		default:
			resolvedArgs[i] = p
		}
	}
	return newResolved(c.ov, resolvedArgs), nil
}

func newResolved(ov *Overload, args []types.Type) *Resolved {
	argTypes := make([]types.Type, len(args))
	copy(argTypes, args)
	return &Resolved{Overload: ov, ArgTypes: argTypes, Ret: ov.Ret(argTypes)}
}

// narrow applies PostgreSQL's tie-breaking steps to several applicable
// candidates.
func narrow(cands []candidate, args []types.Type) []candidate {
	// Most exact matches.
	cands = keepMax(cands, func(c candidate) int {
		n := 0
		for i, a := range args {
			if matchArg(a.Kind, c.params[i].Kind) == matchExact {
				n++
			}
		}
		return n
	})
	if len(cands) == 1 {
		return cands
	}
	// Most preferred types where a cast is needed.
	cands = keepMax(cands, func(c candidate) int {
		n := 0
		for i, a := range args {
			if matchArg(a.Kind, c.params[i].Kind) == matchCast && isPreferred(c.params[i].Kind) {
				n++
			}
		}
		return n
	})
	if len(cands) == 1 {
		return cands
	}
	// Unknown arguments: at each unknown position pick the string category
	// if any candidate accepts it, else the one category all accept;
	// keep candidates of that category, preferring its preferred type.
	hasUnknown, hasKnown := false, false
	for _, a := range args {
		if a.Kind == types.KindUnknown {
			hasUnknown = true
		} else {
			hasKnown = true
		}
	}
	if hasUnknown {
		for i, a := range args {
			if a.Kind != types.KindUnknown {
				continue
			}
			cat := byte(0)
			for _, c := range cands {
				if category(c.params[i].Kind) == 'S' {
					cat = 'S'
					break
				}
			}
			if cat == 0 {
				cat = category(cands[0].params[i].Kind)
				for _, c := range cands[1:] {
					if category(c.params[i].Kind) != cat {
						return nil // cannot deduce: ambiguous
					}
				}
			}
			kept := cands[:0:0]
			for _, c := range cands {
				if category(c.params[i].Kind) == cat {
					kept = append(kept, c)
				}
			}
			cands = kept
			if len(cands) > 1 {
				var pref []candidate
				for _, c := range cands {
					if isPreferred(c.params[i].Kind) {
						pref = append(pref, c)
					}
				}
				if len(pref) > 0 {
					cands = pref
				}
			}
		}
		if len(cands) == 1 {
			return cands
		}
	}
	// Both unknown and known arguments, all known of one kind: assume the
	// unknowns have that kind too.
	if hasUnknown && hasKnown && len(cands) > 1 {
		k := types.KindUnknown
		same := true
		for _, a := range args {
			if a.Kind == types.KindUnknown {
				continue
			}
			if k == types.KindUnknown {
				k = a.Kind
			} else if a.Kind != k {
				same = false
			}
		}
		if same {
			var kept []candidate
			for _, c := range cands {
				ok := true
				for i, a := range args {
					if a.Kind == types.KindUnknown && matchArg(k, c.params[i].Kind) == matchNone {
						ok = false
					}
				}
				if ok {
					kept = append(kept, c)
				}
			}
			if len(kept) == 1 {
				return kept
			}
		}
	}
	return cands
}

func keepMax(cands []candidate, score func(candidate) int) []candidate {
	best := -1
	var kept []candidate
	for _, c := range cands {
		s := score(c)
		switch {
		case s > best:
			best = s
			kept = append(kept[:0], c)
		case s == best:
			kept = append(kept, c)
		}
	}
	return kept
}

// expandParams returns the parameter list of ov for n arguments.
func expandParams(ov *Overload, n int) ([]types.Type, bool) {
	if !ov.Variadic {
		return ov.Args, len(ov.Args) == n
	}
	fixed := len(ov.Args) - 1
	if n <= fixed { // a variadic parameter takes at least one argument
		return nil, false
	}
	params := make([]types.Type, n)
	copy(params, ov.Args[:fixed])
	for i := fixed; i < n; i++ {
		params[i] = ov.Args[fixed]
	}
	return params, true
}

func matchArg(arg, param types.Kind) argMatch {
	switch {
	case param == types.KindUnknown || arg == param:
		return matchExact
	case arg == types.KindUnknown:
		return matchUnknown
	case implicitCast(arg, param):
		return matchCast
	}
	return matchNone
}

// implicitCast reports whether PostgreSQL casts from to to implicitly
// (pg_cast context 'i', the table of types.CanCast) between distinct known
// kinds; the callers handle equal and unknown kinds first.
func implicitCast(from, to types.Kind) bool {
	return from != to && from != types.KindUnknown &&
		types.CanCast(types.Type{Kind: from}, types.Type{Kind: to}, types.CastImplicit)
}

// category is PostgreSQL's typcategory.
func category(k types.Kind) byte {
	switch k {
	case types.KindBool:
		return 'B'
	case types.KindInt16, types.KindInt32, types.KindInt64, types.KindFloat32, types.KindFloat64, types.KindNumeric:
		return 'N'
	case types.KindText:
		return 'S'
	case types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return 'D'
	case types.KindInterval:
		return 'T'
	case types.KindUnknown:
		return 'X'
	}
	return 'U'
}

// isPreferred is PostgreSQL's typispreferred.
func isPreferred(k types.Kind) bool {
	switch k {
	case types.KindFloat64, types.KindText, types.KindTimestampTZ, types.KindInterval, types.KindBool:
		return true
	}
	return false
}

func isOperatorName(name string) bool {
	if name == "" {
		return false
	}
	c := name[0]
	return !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
}

// typeName is the type as PostgreSQL's format_type_be prints it in errors
// (without modifiers).
func typeName(t types.Type) string {
	if t.Kind == types.KindText {
		switch {
		case t.Fixed:
			return "character"
		case t.Width != 0:
			return "character varying"
		}
	}
	return types.Type{Kind: t.Kind}.String()
}

func signature(name string, isOp bool, args []types.Type) string {
	var b strings.Builder
	if isOp {
		switch len(args) {
		case 1:
			b.WriteString(name)
			b.WriteByte(' ')
			b.WriteString(typeName(args[0]))
		case 2:
			b.WriteString(typeName(args[0]))
			b.WriteByte(' ')
			b.WriteString(name)
			b.WriteByte(' ')
			b.WriteString(typeName(args[1]))
		default:
			b.WriteString(name)
		}
		return b.String()
	}
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(typeName(a))
	}
	b.WriteByte(')')
	return b.String()
}

func notFound(name string, isOp bool, args []types.Type) error {
	if isOp {
		return sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s", signature(name, true, args)).
			WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", signature(name, false, args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func ambiguous(name string, isOp bool, args []types.Type) error {
	if isOp {
		return sqlerr.New(sqlerr.AmbiguousFunction, "operator is not unique: %s", signature(name, true, args)).
			WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
	}
	return sqlerr.New(sqlerr.AmbiguousFunction, "function %s is not unique", signature(name, false, args)).
		WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
}
