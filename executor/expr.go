package executor

import (
	"fmt"
	"strings"

	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/sql/types"
)

// FuncEval evaluates a resolved function on its (cast) arguments.
type FuncEval = func(env *funcs.Env, args []types.Datum) (types.Datum, error)

// Expr is a bound scalar expression: names already resolved to column
// indexes of the input row, functions to overloads, implicit casts made
// explicit. It is plain data with a String (EXPLAIN prints it); Compile
// turns it into a closure once per run.
type Expr interface {
	Type() types.Type
	String() string
}

// ColRef is column Idx of the input row.
type ColRef struct {
	Idx  int
	Typ  types.Type
	Name string // for EXPLAIN only
}

// Const is a constant.
type Const struct {
	Value types.Datum
	Typ   types.Type
}

// ParamRef is parameter $N+1 (N is 0-based).
type ParamRef struct {
	N   int
	Typ types.Type
}

// Call calls a resolved function or operator overload; Args already have
// the overload's argument types.
type Call struct {
	Name string
	Fn   *funcs.Overload
	// Eval is the evaluator for this call site (funcs.Resolved.Evaluator).
	Eval FuncEval
	Args []Expr
	Typ  types.Type
}

// CastExpr converts X to Typ (Ctx is the cast context: implicit casts
// inserted by the binder, assignment casts of INSERT/UPDATE, or explicit
// CAST).
type CastExpr struct {
	X   Expr
	Typ types.Type
	Ctx types.CastContext
}

// BoolOp is AND / OR with SQL three-valued logic, evaluated left to right
// lazily.
type BoolOp struct {
	Or   bool
	Args []Expr
}

// Not is NOT X (NULL stays NULL).
type Not struct{ X Expr }

// IsNullExpr is X IS [NOT] NULL.
type IsNullExpr struct {
	X   Expr
	Not bool
}

// IsBoolExpr is X IS [NOT] TRUE|FALSE|UNKNOWN (Value nil: UNKNOWN).
type IsBoolExpr struct {
	X     Expr
	Not   bool
	Value *bool
}

// IsDistinctExpr is L IS [NOT] DISTINCT FROM R; Eq is the "=" overload for the
// two (cast) arguments.
type IsDistinctExpr struct {
	L, R Expr
	Eq   FuncEval
	Not  bool
}

// When is one arm of a CASE.
type When struct{ Cond, Result Expr }

// CaseExpr is a searched CASE (a simple CASE is bound to one with the
// operand compared in each Cond). Else nil means NULL.
type CaseExpr struct {
	Whens []When
	Else  Expr
	Typ   types.Type
}

// Coalesce returns its first non-NULL argument, evaluating lazily.
type Coalesce struct {
	Args []Expr
	Typ  types.Type
}

// NullIf is NULLIF(A, B): NULL when A = B, else A.
type NullIf struct {
	A, B Expr
	Eq   FuncEval
	Typ  types.Type
}

// MinMax is GREATEST (Least false) or LEAST of its non-NULL arguments.
type MinMax struct {
	Args  []Expr
	Least bool
	Typ   types.Type
}

// InListExpr is X [NOT] IN (List...), with SQL NULL semantics. When all
// items are constants of X's type the compiled form is a hash set.
type InListExpr struct {
	X    Expr
	List []Expr
	Eq   FuncEval
	Not  bool
}

// SubqueryKind is how a subquery's rows are used.
type SubqueryKind uint8

const (
	// SubScalar: the only value of the only row (NULL for no rows; 21000
	// for more than one).
	SubScalar SubqueryKind = iota
	// SubExists: whether there is a row.
	SubExists
	// SubAny: X Op ANY (rows) (IN is = ANY).
	SubAny
	// SubAll: X Op ALL (rows) (NOT IN is <> ALL).
	SubAll
)

// SubqueryExpr reads the result of an uncorrelated subquery, computed once
// per run and handed to the compiler in Compiler.Subqueries[Slot]. For
// SubAny/SubAll, X is compared with the subquery's single column by Cmp
// (X and the column already cast to Cmp's argument types: Sub casts the
// column).
type SubqueryExpr struct {
	Kind SubqueryKind
	Slot int
	X    Expr
	Cmp  FuncEval
	// CmpName is the comparison operator ("=" for IN).
	CmpName string
	// ColType is the type the subquery column is cast to before comparing.
	ColType types.Type
	Not     bool
	Typ     types.Type
}

// CardinalityCheck is X, unless N (a row count) exceeds one: then it fails
// with 21000, as a scalar subquery that returns more than one row does.
// The planner evaluates a scalar subquery as a join with the subquery's
// count(*) and any_value per correlation key, so the error is raised only
// for rows that use the subquery, as in PostgreSQL.
type CardinalityCheck struct {
	N, X Expr
}

func (e *CardinalityCheck) Type() types.Type { return e.X.Type() }
func (e *CardinalityCheck) String() string   { return e.X.String() }

func (e *ColRef) Type() types.Type         { return e.Typ }
func (e *Const) Type() types.Type          { return e.Typ }
func (e *ParamRef) Type() types.Type       { return e.Typ }
func (e *Call) Type() types.Type           { return e.Typ }
func (e *CastExpr) Type() types.Type       { return e.Typ }
func (e *BoolOp) Type() types.Type         { return types.Bool }
func (e *Not) Type() types.Type            { return types.Bool }
func (e *IsNullExpr) Type() types.Type     { return types.Bool }
func (e *IsBoolExpr) Type() types.Type     { return types.Bool }
func (e *IsDistinctExpr) Type() types.Type { return types.Bool }
func (e *CaseExpr) Type() types.Type       { return e.Typ }
func (e *Coalesce) Type() types.Type       { return e.Typ }
func (e *NullIf) Type() types.Type         { return e.Typ }
func (e *MinMax) Type() types.Type         { return e.Typ }
func (e *InListExpr) Type() types.Type     { return types.Bool }
func (e *SubqueryExpr) Type() types.Type   { return e.Typ }

func (e *ColRef) String() string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf("#%d", e.Idx)
}

func (e *Const) String() string {
	if e.Value.IsNull() {
		return "NULL"
	}
	s := string(types.AppendText(nil, e.Value, nil))
	switch e.Value.Kind() {
	case types.KindBool, types.KindInt16, types.KindInt32, types.KindInt64, types.KindNumeric, types.KindFloat64, types.KindFloat32:
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (e *ParamRef) String() string { return fmt.Sprintf("$%d", e.N+1) }

func (e *Call) String() string {
	if len(e.Args) == 2 && isOperatorName(e.Name) {
		return "(" + e.Args[0].String() + " " + e.Name + " " + e.Args[1].String() + ")"
	}
	if len(e.Args) == 1 && isOperatorName(e.Name) {
		return "(" + e.Name + e.Args[0].String() + ")"
	}
	return e.Name + "(" + joinExprs(e.Args, ", ") + ")"
}

func isOperatorName(s string) bool {
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c == '_' {
			return false
		}
	}
	return s != ""
}

func (e *CastExpr) String() string { return e.X.String() + "::" + e.Typ.String() }

func (e *BoolOp) String() string {
	op := " AND "
	if e.Or {
		op = " OR "
	}
	return "(" + joinExprs(e.Args, op) + ")"
}

func (e *Not) String() string { return "(NOT " + e.X.String() + ")" }

func (e *IsNullExpr) String() string {
	if e.Not {
		return "(" + e.X.String() + " IS NOT NULL)"
	}
	return "(" + e.X.String() + " IS NULL)"
}

func (e *IsBoolExpr) String() string {
	v := "UNKNOWN"
	if e.Value != nil {
		v = strings.ToUpper(fmt.Sprint(*e.Value))
	}
	if e.Not {
		v = "NOT " + v
	}
	return "(" + e.X.String() + " IS " + v + ")"
}

func (e *IsDistinctExpr) String() string {
	op := " IS DISTINCT FROM "
	if e.Not {
		op = " IS NOT DISTINCT FROM "
	}
	return "(" + e.L.String() + op + e.R.String() + ")"
}

func (e *CaseExpr) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for _, w := range e.Whens {
		sb.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		sb.WriteString(" ELSE " + e.Else.String())
	}
	sb.WriteString(" END")
	return sb.String()
}

func (e *Coalesce) String() string { return "COALESCE(" + joinExprs(e.Args, ", ") + ")" }
func (e *NullIf) String() string   { return "NULLIF(" + e.A.String() + ", " + e.B.String() + ")" }

func (e *MinMax) String() string {
	if e.Least {
		return "LEAST(" + joinExprs(e.Args, ", ") + ")"
	}
	return "GREATEST(" + joinExprs(e.Args, ", ") + ")"
}

func (e *InListExpr) String() string {
	op := " IN ("
	if e.Not {
		op = " NOT IN ("
	}
	return "(" + e.X.String() + op + joinExprs(e.List, ", ") + "))"
}

func (e *SubqueryExpr) String() string {
	sub := fmt.Sprintf("$subquery%d", e.Slot+1)
	switch e.Kind {
	case SubExists:
		if e.Not {
			return "(NOT EXISTS " + sub + ")"
		}
		return "(EXISTS " + sub + ")"
	case SubAny:
		return "(" + e.X.String() + " " + e.CmpName + " ANY (" + sub + "))"
	case SubAll:
		return "(" + e.X.String() + " " + e.CmpName + " ALL (" + sub + "))"
	}
	return "(" + sub + ")"
}

func joinExprs(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, sep)
}

// Children returns e's direct sub-expressions (for walks).
func Children(e Expr) []Expr {
	switch e := e.(type) {
	case *Call:
		return e.Args
	case *CastExpr:
		return []Expr{e.X}
	case *BoolOp:
		return e.Args
	case *Not:
		return []Expr{e.X}
	case *IsNullExpr:
		return []Expr{e.X}
	case *IsBoolExpr:
		return []Expr{e.X}
	case *IsDistinctExpr:
		return []Expr{e.L, e.R}
	case *CaseExpr:
		var out []Expr
		for _, w := range e.Whens {
			out = append(out, w.Cond, w.Result)
		}
		if e.Else != nil {
			out = append(out, e.Else)
		}
		return out
	case *Coalesce:
		return e.Args
	case *NullIf:
		return []Expr{e.A, e.B}
	case *MinMax:
		return e.Args
	case *InListExpr:
		return append([]Expr{e.X}, e.List...)
	case *SubqueryExpr:
		if e.X != nil {
			return []Expr{e.X}
		}
	case *CardinalityCheck:
		return []Expr{e.N, e.X}
	}
	return nil
}

// MapChildren returns a copy of e whose direct sub-expressions are
// replaced by f(child); leaves are returned as they are.
func MapChildren(e Expr, f func(Expr) (Expr, error)) (Expr, error) {
	var err error
	m := func(x Expr) Expr {
		if err != nil || x == nil {
			return x
		}
		var y Expr
		y, err = f(x)
		return y
	}
	ms := func(xs []Expr) []Expr {
		out := make([]Expr, len(xs))
		for i, x := range xs {
			out[i] = m(x)
		}
		return out
	}
	switch x := e.(type) {
	case *Call:
		c := *x
		c.Args = ms(x.Args)
		e = &c
	case *CastExpr:
		c := *x
		c.X = m(x.X)
		e = &c
	case *BoolOp:
		c := *x
		c.Args = ms(x.Args)
		e = &c
	case *Not:
		e = &Not{X: m(x.X)}
	case *IsNullExpr:
		c := *x
		c.X = m(x.X)
		e = &c
	case *IsBoolExpr:
		c := *x
		c.X = m(x.X)
		e = &c
	case *IsDistinctExpr:
		c := *x
		c.L, c.R = m(x.L), m(x.R)
		e = &c
	case *CaseExpr:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			c.Whens[i] = When{Cond: m(w.Cond), Result: m(w.Result)}
		}
		c.Else = m(x.Else)
		e = &c
	case *Coalesce:
		c := *x
		c.Args = ms(x.Args)
		e = &c
	case *NullIf:
		c := *x
		c.A, c.B = m(x.A), m(x.B)
		e = &c
	case *MinMax:
		c := *x
		c.Args = ms(x.Args)
		e = &c
	case *InListExpr:
		c := *x
		c.X = m(x.X)
		c.List = ms(x.List)
		e = &c
	case *SubqueryExpr:
		c := *x
		c.X = m(x.X)
		e = &c
	case *CardinalityCheck:
		e = &CardinalityCheck{N: m(x.N), X: m(x.X)}
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Map rebuilds e bottom-up: children first, then f on the rebuilt node.
func Map(e Expr, f func(Expr) (Expr, error)) (Expr, error) {
	e, err := MapChildren(e, func(c Expr) (Expr, error) { return Map(c, f) })
	if err != nil {
		return nil, err
	}
	return f(e)
}

// Walk calls f on e and every sub-expression, parents first.
func Walk(e Expr, f func(Expr)) {
	if e == nil {
		return
	}
	f(e)
	for _, c := range Children(e) {
		Walk(c, f)
	}
}
