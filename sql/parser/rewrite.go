package parser

import (
	"sort"
	"strconv"
	"strings"

	tidb "github.com/pingcap/tidb/pkg/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// The normalizer rewrites PostgreSQL-dialect tokens into text the TiDB parser
// (ANSI_QUOTES + PIPES_AS_CONCAT) accepts. Constructs TiDB refuses become
// calls of reserved functions named __weir_*; the converter turns them back
// into the proper sql/ast nodes. Every emitted token remembers the byte offset
// of the user's token it came from, so TiDB's error offsets map back into the
// user's text.
//
// Reserved marker functions:
//
//	__weir_cast(x, k)            x::type / CAST(x AS type) / typed literal; k indexes rewriter.casts
//	a | __weir_op('~') | b       any PostgreSQL operator TiDB lacks, at PostgreSQL's "other operator" precedence
//	a <=> __weir_distinct() <=> b   a IS DISTINCT FROM b (a <=> b is IS NOT DISTINCT FROM)
//	__weir_num('1e5')            numeric literal with exponent
//	__weir_any(e) / __weir_all(e)   x op ANY|ALL (array expression)
//	__weir_array(a, b)           ARRAY[a, b]
//	__weir_nulls_first() / __weir_nulls_last()   an extra ORDER BY item modifying the previous one
//	__weir_order_by(x, 'desc', 'first')          aggregate ORDER BY item, a trailing argument
//	__weir_filter(agg, cond)     agg FILTER (WHERE cond)
//	__weir_distinct_on(a, b)     DISTINCT ON (a, b), an extra last select item
//	__weir_full_join()           FULL JOIN ... ON c is LEFT JOIN ... ON __weir_full_join() AND (c)
//	(select __weir_table_func('name', args)) AS alias   table function in FROM
//	__weir_subscript(x, i)       x[i]
//	__weir_at_tz(x, z)           x AT TIME ZONE z, i.e. timezone(z, x)
//	__weir_star()                the * of count(*)
//	f(__weir_agg_distinct(), x)  f(DISTINCT x) for an aggregate TiDB's grammar takes no DISTINCT for
//	max(__weir_over(f(x))) OVER w   any window call f(x) OVER w (TiDB's grammar takes OVER after few functions)
//	t AS x AS OF TIMESTAMP __weir_proctime()   t FOR SYSTEM_TIME AS OF PROCTIME() [AS] x (TiDB's stale-read clause follows the alias)
//	(select __weir_window('tumble', t, size)) AS x   ksqlDB's FROM t [AS] x WINDOW TUMBLING (SIZE ...) (ksqlwindow.go); 'hop' with advance and size, 'session' with the gap
//	ON __weir_within(before, after) AND (c)   ksqlDB's JOIN ... WITHIN (before, after) ON c (ksqlwithin.go)
const (
	mkCast      = "__weir_cast"
	mkOp        = "__weir_op"
	mkDistinct  = "__weir_distinct"
	mkNum       = "__weir_num"
	mkAny       = "__weir_any"
	mkAll       = "__weir_all"
	mkArray     = "__weir_array"
	mkNullsF    = "__weir_nulls_first"
	mkNullsL    = "__weir_nulls_last"
	mkOrderBy   = "__weir_order_by"
	mkFilter    = "__weir_filter"
	mkDistOn    = "__weir_distinct_on"
	mkFullJoin  = "__weir_full_join"
	mkTableFunc = "__weir_table_func"
	mkSubscript = "__weir_subscript"
	mkNoAlias   = "__weir_noalias"
	mkStar      = "__weir_star"
	mkAtTZ      = "__weir_at_tz"
	mkAggDist   = "__weir_agg_distinct"
	mkOver      = "__weir_over"
	mkProcTime  = "__weir_proctime"
	mkWindow    = "__weir_window"
	// aliasSep separates a FROM alias from its column aliases inside one
	// quoted TiDB identifier: AS x(a, b) becomes AS "x\x1fa\x1fb".
	aliasSep = "\x1f"
	// noLimit stands for "no LIMIT" when OFFSET is given alone (TiDB needs a
	// LIMIT before OFFSET).
	noLimit = "18446744073709551615"
)

// otok is one token of rewritten text and the byte offset of the user's
// token it stands for.
type otok struct {
	text  string
	pos   int
	kind  tokKind
	param int // $n for a ? marker
}

// frame is the rewriter's state for one parenthesis level.
type frame struct {
	funcCall    bool // the parenthesis of a function call
	inFrom      bool // inside a FROM list
	pendingFull bool // saw FULL JOIN, waiting for its ON
	sawLimit    bool
	open        int // index of the '(' in toks, -1 at top level
}

// rewriter turns the tokens of one statement (or expression) into TiDB text.
type rewriter struct {
	src   string // the whole query string, for positions
	toks  []token
	out   []otok
	casts []types.Type
	// regCasts maps a casts index to the function a cast to one of
	// PostgreSQL's object-identifier types calls (x::regclass is
	// regclass(x)); see regTypes.
	regCasts map[int]string
	frames   []*frame
	// endPos is where the statement ends (its ';' or the end of the text).
	endPos int
	// emitChanges is set when the statement ends in EMIT CHANGES or EMIT
	// FINAL, emitFinal when in EMIT FINAL.
	emitChanges, emitFinal bool
}

func newRewriter(src string, toks []token) *rewriter {
	toks = preprocess(toks)
	// pad with EOF tokens so that look-ahead past the end is always safe
	eof := token{kind: tEOF, pos: len(src), end: len(src)}
	if n := len(toks); n > 0 {
		eof = toks[n-1]
		eof.kind, eof.val = tEOF, ""
	}
	for k := 0; k < 8; k++ {
		toks = append(toks, eof)
	}
	rw := &rewriter{src: src, toks: toks, endPos: eof.pos}
	rw.frames = []*frame{{open: -1}}
	return rw
}

// preprocess folds OPERATOR(schema.op) into a plain operator token.
func preprocess(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.is("operator") && i+1 < len(toks) && toks[i+1].isP("(") {
			j := i + 2
			if j+1 < len(toks) && (toks[j].kind == tIdent || toks[j].kind == tQIdent) && toks[j+1].isP(".") {
				j += 2
			}
			if j+1 < len(toks) && toks[j].kind == tOp && toks[j+1].isP(")") {
				out = append(out, token{kind: tOp, val: toks[j].val, pos: t.pos, end: toks[j+1].end})
				i = j + 1
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

func (rw *rewriter) top() *frame { return rw.frames[len(rw.frames)-1] }

func (rw *rewriter) emit(text string, pos int, kind tokKind) {
	rw.out = append(rw.out, otok{text: text, pos: pos, kind: kind})
}

func (rw *rewriter) syntaxErr(i int) error {
	return syntaxErrorAt(rw.src, rw.toks[min(i, len(rw.toks)-1)].pos)
}

// syntaxErrorAt is PostgreSQL's syntax error at the token starting at byte
// offset off of src.
func syntaxErrorAt(src string, off int) error {
	if off >= len(src) || strings.TrimSpace(src[off:]) == "" {
		return sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input").WithPosition(charPos(src, len(src)))
	}
	lx := &lexer{src: src, pos: off}
	t, err := lx.next()
	text := ""
	if err == nil && t.kind != tEOF {
		text = src[t.pos:t.end]
		off = t.pos
	} else {
		text = src[off:min(len(src), off+1)]
	}
	return sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", text).WithPosition(charPos(src, off))
}

// render joins the output tokens and returns the text and, for each output
// token, its start offset in the text.
func (rw *rewriter) render() (string, []int) {
	var b strings.Builder
	starts := make([]int, len(rw.out))
	for i, o := range rw.out {
		if i > 0 {
			prev := rw.out[i-1]
			tight := o.text == "." || prev.text == "." ||
				(o.text == "(" && (prev.kind == tIdent || prev.kind == tQIdent))
			if !tight {
				b.WriteByte(' ')
			}
		}
		starts[i] = b.Len()
		b.WriteString(o.text)
	}
	return b.String(), starts
}

// origOffset maps a byte offset of rendered text back to the user's text.
func (rw *rewriter) origOffset(starts []int, off int) int {
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
	if i < 0 {
		if len(rw.out) == 0 {
			return len(rw.src)
		}
		return rw.out[0].pos
	}
	if i >= len(rw.out) {
		return len(rw.src)
	}
	return rw.out[i].pos
}

// matching returns the index of the bracket closing the one at i, or -1.
func (rw *rewriter) matching(i int) int {
	open, closeB := rw.toks[i].val, ")"
	if open == "[" {
		closeB = "]"
	}
	depth := 0
	for j := i; j < len(rw.toks); j++ {
		t := rw.toks[j]
		if t.kind != tPunct {
			continue
		}
		switch t.val {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				if t.val != closeB {
					return -1
				}
				return j
			}
		}
	}
	return -1
}

// scanTo returns the index of the first token in [i, hi) at bracket depth 0
// for which stop is true, or hi.
func (rw *rewriter) scanTo(i, hi int, stop func(token) bool) int {
	depth := 0
	for j := i; j < hi; j++ {
		t := rw.toks[j]
		if depth == 0 && stop(t) && !rw.distinctFrom(j) {
			return j
		}
		if t.kind == tPunct {
			switch t.val {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
				if depth < 0 {
					return j
				}
			}
		}
	}
	return hi
}

// distinctFrom reports whether toks[j] is the FROM of IS [NOT] DISTINCT
// FROM, which is no clause keyword.
func (rw *rewriter) distinctFrom(j int) bool {
	return j >= 2 && rw.toks[j].is("from") && rw.toks[j-1].is("distinct") &&
		(rw.toks[j-2].is("is") || rw.toks[j-2].is("not"))
}

// splitTop splits [lo, hi) on commas at depth 0.
func (rw *rewriter) splitTop(lo, hi int) [][2]int {
	var parts [][2]int
	for lo <= hi {
		e := rw.scanTo(lo, hi, func(t token) bool { return t.isP(",") })
		parts = append(parts, [2]int{lo, e})
		lo = e + 1
		if e >= hi {
			break
		}
	}
	return parts
}

var clauseWords = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "window": true, "order": true,
	"limit": true, "offset": true, "fetch": true, "union": true, "except": true, "intersect": true,
	"for": true, "emit": true, "returning": true, "into": true, "on": true,
}

var joinWords = map[string]bool{
	"join": true, "inner": true, "left": true, "right": true, "full": true, "cross": true, "natural": true,
}

// notFuncWords are keywords that may precede '(' without being a function
// name.
var notFuncWords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "exists": true, "any": true, "all": true,
	"some": true, "select": true, "where": true, "when": true, "then": true, "else": true,
	"on": true, "by": true, "as": true, "is": true, "from": true, "join": true, "using": true,
	"values": true, "over": true, "filter": true, "within": true, "like": true, "ilike": true,
	"between": true, "case": true, "end": true, "set": true, "into": true, "returning": true,
	"distinct": true, "having": true, "union": true, "except": true, "intersect": true,
	"limit": true, "offset": true, "lateral": true, "with": true, "recursive": true, "group": true,
	"order": true, "desc": true, "asc": true, "escape": true, "table": true, "row": false,
	"null": true, "true": true, "false": true, "interval": true, "partition": true,
}

func isNameTok(o otok) bool { return o.kind == tIdent || o.kind == tQIdent }

func isFuncName(o otok) bool {
	return o.kind == tQIdent || (o.kind == tIdent && !notFuncWords[o.text])
}

// operandStart is the index in out where the last complete operand starts
// (what a following :: applies to), or -1.
func (rw *rewriter) operandStart() int {
	j := len(rw.out) - 1
	if j < 0 {
		return -1
	}
	o := rw.out[j]
	switch {
	case o.text == ")" && o.kind == tPunct:
		depth := 0
		for ; j >= 0; j-- {
			switch rw.out[j].text {
			case ")":
				depth++
			case "(":
				depth--
			}
			if depth == 0 && rw.out[j].kind == tPunct {
				break
			}
		}
		if j < 0 {
			return -1
		}
		if j > 0 && isFuncName(rw.out[j-1]) {
			j--
			for j >= 2 && rw.out[j-1].text == "." && isNameTok(rw.out[j-2]) {
				j -= 2
			}
		}
		return j
	case o.kind == tIdent && notFuncWords[o.text] && o.text != "null" && o.text != "true" && o.text != "false":
		return -1
	case o.kind == tIdent, o.kind == tQIdent, o.kind == tString, o.kind == tNumber, o.kind == tParam, o.text == "*":
		for j >= 2 && rw.out[j-1].text == "." && isNameTok(rw.out[j-2]) {
			j -= 2
		}
		return j
	}
	return -1
}

// insertCall inserts `name(` before out[start], located at that token.
func (rw *rewriter) insertCall(start int, name string) {
	p := rw.out[start].pos
	head := []otok{{text: name, pos: p, kind: tIdent}, {text: "(", pos: p, kind: tPunct}}
	rw.out = append(rw.out[:start], append(head, rw.out[start:]...)...)
}

// wrap inserts `name(` before out[start:] and `, args... )` after it.
func (rw *rewriter) wrap(start int, name string, pos int, args ...string) {
	rw.insertCall(start, name)
	for _, a := range args {
		rw.emit(",", pos, tPunct)
		rw.emit(a, pos, tNumber)
	}
	rw.emit(")", pos, tPunct)
}

func quoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "'", "''")
	return "'" + s + "'"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tidbDistinctAggs are the aggregates whose DISTINCT TiDB's grammar
// parses; any other f(DISTINCT x) becomes f(__weir_agg_distinct(), x).
var tidbDistinctAggs = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true, "std": true, "stddev": true,
	"stddev_pop": true, "stddev_samp": true, "variance": true, "var_pop": true, "var_samp": true,
	"group_concat": true,
}

// tidbWindowFuncs are the window functions TiDB's grammar knows by name
// (and parses only with OVER).
var tidbWindowFuncs = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"ntile": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

// tidbSequenceFuncs are PostgreSQL's sequence functions, which TiDB's
// grammar parses its own way.
var tidbSequenceFuncs = map[string]bool{"nextval": true, "setval": true, "lastval": true, "currval": true}

// pgReserved are PostgreSQL 15's reserved key words, "reserved" and
// "reserved (can be function or type)" in Appendix C: the only words a
// PostgreSQL user must quote to use as a column or table name.
var pgReserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast
		check collate column constraint create current_catalog current_date current_role current_time
		current_timestamp current_user default deferrable desc distinct do else end except false fetch
		for foreign from grant group having in initially intersect into lateral leading limit localtime
		localtimestamp not null offset on only or order placing primary references returning select
		session_user some symmetric table then to trailing true union unique user using variadic when
		where window with
		authorization binary collation concurrently cross current_schema freeze full ilike inner is
		isnull join left like natural notnull outer overlaps right similar tablesample verbose`) {
		m[w] = true
	}
	return m
}()

// tidbReserved are the words TiDB reserves and PostgreSQL does not: where
// one is used as a name (a column, an alias, a CTE column) it is quoted.
// Type names are among them: a type never reaches TiDB's text (casts become
// __weir_cast), so real or dec left here is always a name. The few that
// TiDB also needs as keywords of PostgreSQL syntax are told apart by
// keywordUse.
var tidbReserved = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range tidb.Keywords {
		if k.Reserved {
			m[strings.ToLower(k.Word)] = true
		}
	}
	// reserved spellings TiDB's keyword table leaves out (aliases of
	// reserved tokens), and words its grammar treats specially
	for _, w := range []string{"dec", "schema", "schemas", "key", "keys", "index", "database", "databases", "status", "usage", "read", "write", "load", "lines", "long", "match", "release", "rename", "require", "describe", "show", "kill", "use", "dual", "separator", "spatial", "out", "return", "sql", "ssl", "starting"} {
		m[w] = true
	}
	for w := range pgReserved {
		delete(m, w)
	}
	return m
}()

// keywordUse reports whether toks[i], a word of tidbReserved, is a keyword
// of PostgreSQL syntax here that TiDB must see as such.
func (rw *rewriter) keywordUse(i int) bool {
	t := rw.toks[i]
	prev := ""
	if len(rw.out) > 0 && rw.out[len(rw.out)-1].kind == tIdent {
		prev = rw.out[len(rw.out)-1].text
	}
	switch t.val {
	case "insert", "update", "delete":
		// the statement's verb, FOR UPDATE
		return len(rw.out) == 0 || prev == "for"
	case "of":
		// FOR UPDATE OF t
		return prev == "update" || prev == "share"
	case "row":
		// CURRENT ROW of a window frame
		return prev == "current"
	case "rows", "range", "groups":
		// a window frame: ROWS BETWEEN ..., ROWS UNBOUNDED PRECEDING,
		// ROWS CURRENT ROW, ROWS 3 PRECEDING
		n := rw.at(i + 1)
		return n.is("between") || n.is("unbounded") || n.is("current") || rw.boundAhead(i)
	}
	return false
}

// boundAhead reports whether PRECEDING or FOLLOWING comes after toks[i]
// within its parentheses: toks[i] starts a window frame.
func (rw *rewriter) boundAhead(i int) bool {
	depth := 0
	for j := i + 1; j < len(rw.toks); j++ {
		t := rw.toks[j]
		switch {
		case t.kind == tEOF:
			return false
		case t.isP("("):
			depth++
		case t.isP(")"):
			if depth == 0 {
				return false
			}
			depth--
		case depth == 0 && (t.is("preceding") || t.is("following")):
			return true
		}
	}
	return false
}

// frameOffset wraps the offset before a PRECEDING or FOLLOWING just
// emitted as INTERVAL (offset) MICROSECOND: TiDB's grammar takes only a
// number or a parameter there, PostgreSQL any expression without columns.
// (PostgreSQL has no MICROSECOND interval unit, so the converter knows
// the marker.)
func (rw *rewriter) frameOffset() {
	j := len(rw.out) - 1
	for depth := 0; j >= 0; j-- {
		o := rw.out[j]
		switch {
		case o.kind == tPunct && o.text == ")":
			depth++
		case o.kind == tPunct && o.text == "(":
			depth--
		case depth == 0 && o.kind == tIdent && (o.text == "between" || o.text == "and" || o.text == "rows" || o.text == "range" || o.text == "groups"):
			start := j + 1
			if start == len(rw.out) || len(rw.out) == start+1 && (rw.out[start].kind == tNumber || rw.out[start].text == "unbounded") {
				return
			}
			p := rw.out[start].pos
			head := []otok{{text: "interval", pos: p, kind: tIdent}, {text: "(", pos: p, kind: tPunct}}
			rw.out = append(rw.out[:start], append(head, rw.out[start:]...)...)
			rw.emit(")", p, tPunct)
			rw.emit("microsecond", p, tIdent)
			return
		}
	}
}

// byKeyword reports whether a BY at this point is the keyword of GROUP
// BY, ORDER BY or PARTITION BY.
func (rw *rewriter) byKeyword() bool {
	if len(rw.out) == 0 {
		return false
	}
	o := rw.out[len(rw.out)-1]
	return o.kind == tIdent && (o.text == "group" || o.text == "order" || o.text == "partition")
}

// bareFuncs are PostgreSQL keywords that are function calls without
// parentheses.
var bareFuncs = map[string]bool{
	"current_user": true, "session_user": true, "current_schema": true, "current_catalog": true,
	"current_role": true, "user": true, "current_timestamp": true, "current_date": true,
	"current_time": true, "localtimestamp": true, "localtime": true,
}

// typeLitNames are the type names allowed before a string literal
// (DATE '2024-01-01').
var typeLitNames = map[string]bool{
	"date": true, "time": true, "timestamp": true, "timestamptz": true, "interval": true,
	"int2": true, "int4": true, "int8": true, "integer": true, "int": true, "bigint": true,
	"smallint": true, "boolean": true, "bool": true, "numeric": true, "decimal": true,
	"real": true, "float4": true, "float8": true, "text": true, "varchar": true,
	"bytea": true, "jsonb": true, "json": true, "char": true,
}

var intervalUnits = map[string]bool{
	"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true,
	"years": true, "months": true, "days": true, "hours": true, "minutes": true, "seconds": true,
}

// nativeOps are operators TiDB parses with PostgreSQL's meaning.
var nativeOps = map[string]bool{
	"+": true, "-": true, "*": true, "/": true, "%": true, "^": true,
	"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
}

var compareOps = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// rewrite rewrites toks[lo:hi].
func (rw *rewriter) rewrite(lo, hi int) error {
	for i := lo; i < hi; {
		next, err := rw.step(i, hi)
		if err != nil {
			return err
		}
		i = next
	}
	return nil
}

// prefixPosition reports whether an operator at this point is a prefix one.
func (rw *rewriter) prefixPosition() bool {
	if len(rw.out) == 0 {
		return true
	}
	o := rw.out[len(rw.out)-1]
	switch o.kind {
	case tOp:
		return true
	case tPunct:
		return o.text == "(" || o.text == ","
	case tIdent:
		return notFuncWords[o.text] && o.text != "null" && o.text != "true" && o.text != "false"
	}
	return false
}

func (rw *rewriter) step(i, hi int) (int, error) {
	t := rw.toks[i]
	switch t.kind {
	case tEOF:
		return hi, nil
	case tQIdent:
		return rw.name(i, hi)
	case tString:
		rw.emit(quoteString(t.val), t.pos, tString)
		return i + 1, nil
	case tNumber:
		if strings.ContainsAny(t.val, "eE") {
			rw.emit(mkNum, t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			rw.emit(quoteString(t.val), t.pos, tString)
			rw.emit(")", t.pos, tPunct)
		} else {
			rw.emit(t.val, t.pos, tNumber)
		}
		return i + 1, nil
	case tParam:
		n, err := strconv.Atoi(t.val)
		if err != nil || n < 1 || n > 65535 {
			return 0, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%s", t.val).WithPosition(charPos(rw.src, t.pos))
		}
		rw.out = append(rw.out, otok{text: "?", pos: t.pos, kind: tParam, param: n})
		return i + 1, nil
	case tOp:
		return rw.op(i)
	case tPunct:
		return rw.punct(i, hi)
	case tIdent:
		return rw.ident(i, hi)
	}
	return 0, rw.syntaxErr(i)
}

func (rw *rewriter) punct(i, hi int) (int, error) {
	t := rw.toks[i]
	switch t.val {
	case "::":
		start := rw.operandStart()
		if start < 0 {
			return 0, rw.syntaxErr(i)
		}
		typ, name, next, err := rw.parseType(i + 1)
		if err != nil {
			return 0, err
		}
		rw.addCast(typ, name)
		rw.wrap(start, mkCast, t.pos, strconv.Itoa(len(rw.casts)-1))
		return next, nil
	case "(":
		f := &frame{open: i}
		if len(rw.out) > 0 {
			prev := rw.out[len(rw.out)-1]
			f.funcCall = isFuncName(prev) && !(rw.top().inFrom && prevIsTableStart(rw.out, len(rw.out)-1))
		}
		rw.frames = append(rw.frames, f)
		rw.emit("(", t.pos, tPunct)
		if f.funcCall && rw.toks[i+1].isP("*") && rw.toks[i+2].isP(")") {
			// count(*): TiDB would make it count(1)
			rw.emit(mkStar, rw.toks[i+1].pos, tIdent)
			rw.emit("(", rw.toks[i+1].pos, tPunct)
			rw.emit(")", rw.toks[i+1].pos, tPunct)
			return i + 2, nil
		}
		if f.funcCall && rw.toks[i+1].is("distinct") && !tidbDistinctAggs[rw.out[len(rw.out)-2].text] {
			d := rw.toks[i+1].pos
			rw.emit(mkAggDist, d, tIdent)
			rw.emit("(", d, tPunct)
			rw.emit(")", d, tPunct)
			rw.emit(",", d, tPunct)
			return i + 2, nil
		}
		return i + 1, nil
	case ")":
		if len(rw.frames) > 1 {
			rw.frames = rw.frames[:len(rw.frames)-1]
		}
		rw.emit(")", t.pos, tPunct)
		return i + 1, nil
	case "[":
		// x[i] subscript
		start := rw.operandStart()
		e := rw.matching(i)
		if start < 0 || e < 0 || e > hi {
			return 0, rw.syntaxErr(i)
		}
		inner := rw.splitTop(i+1, e)
		if len(inner) != 1 || inner[0][0] == inner[0][1] {
			return 0, sqlerr.Unsupported("array slices are not supported").WithPosition(charPos(rw.src, t.pos))
		}
		rw.insertCall(start, mkSubscript)
		rw.emit(",", t.pos, tPunct)
		if err := rw.rewriteNested(i+1, e); err != nil {
			return 0, err
		}
		rw.emit(")", rw.toks[e].pos, tPunct)
		return e + 1, nil
	case ";":
		return 0, rw.syntaxErr(i)
	}
	rw.emit(t.val, t.pos, tPunct)
	return i + 1, nil
}

// rewriteNested rewrites a balanced range in its own frame.
func (rw *rewriter) rewriteNested(lo, hi int) error {
	n := len(rw.frames)
	rw.frames = append(rw.frames, &frame{open: lo - 1})
	err := rw.rewrite(lo, hi)
	rw.frames = rw.frames[:n]
	return err
}

// forSystemTime rewrites `FOR SYSTEM_TIME AS OF PROCTIME() [AS] alias[(cols)]`
// after a table name in FROM (toks[i] is FOR) into TiDB's `AS alias AS OF
// TIMESTAMP __weir_proctime()`, which must follow the alias. Only
// processing time is supported: Weir keeps no history of a table's rows.
func (rw *rewriter) forSystemTime(i int) (int, error) {
	n := len(rw.out)
	if n == 0 || !isNameTok(rw.out[n-1]) || !(prevIsTableStart(rw.out, n-1) || (n >= 2 && rw.out[n-2].text == ".")) {
		return 0, sqlerr.Unsupported("FOR SYSTEM_TIME AS OF applies only to a table name").WithPosition(charPos(rw.src, rw.toks[i].pos))
	}
	if !rw.at(i+2).is("as") || !rw.at(i+3).is("of") {
		return 0, rw.syntaxErr(i + 2)
	}
	if !rw.at(i+4).is("proctime") || !rw.at(i+5).isP("(") || !rw.at(i+6).isP(")") {
		return 0, sqlerr.Unsupported("FOR SYSTEM_TIME AS OF supports only PROCTIME()").
			WithDetail("Weir keeps no history of a table's rows: a stream can be joined only with a table's rows as they are when each row is processed.").
			WithPosition(charPos(rw.src, rw.at(i+4).pos))
	}
	pos := rw.toks[i].pos
	j := i + 7
	if rw.at(j).is("as") {
		j++
	}
	a := rw.at(j)
	if j > i+7 && a.kind != tIdent && a.kind != tQIdent {
		return 0, rw.syntaxErr(j)
	}
	if a.kind == tQIdent || (a.kind == tIdent && (j > i+7 || !clauseWords[a.val] && !joinWords[a.val] && a.val != "using")) {
		alias, next, err := rw.aliasWithColumns(j)
		if err != nil {
			return 0, err
		}
		rw.emit("as", a.pos, tIdent)
		rw.emit(alias, a.pos, tQIdent)
		j = next
	}
	for _, w := range []string{"as", "of", "timestamp", mkProcTime, "(", ")"} {
		k := tIdent
		if w == "(" || w == ")" {
			k = tPunct
		}
		rw.emit(w, pos, k)
	}
	return j, nil
}

// aliasWithColumns encodes the FROM alias toks[i] and its column list, if
// one follows, as one quoted TiDB identifier (see aliasSep); next is the
// token after them.
func (rw *rewriter) aliasWithColumns(i int) (alias string, next int, err error) {
	parts := []string{rw.toks[i].val}
	next = i + 1
	if rw.at(next).isP("(") {
		close := rw.matching(next)
		if close < 0 {
			return "", 0, rw.syntaxErr(next)
		}
		for _, p := range rw.splitTop(next+1, close) {
			if p[1] != p[0]+1 || (rw.toks[p[0]].kind != tIdent && rw.toks[p[0]].kind != tQIdent) {
				return "", 0, rw.syntaxErr(p[0])
			}
			parts = append(parts, rw.toks[p[0]].val)
		}
		next = close + 1
	}
	return quoteIdent(strings.Join(parts, aliasSep)), next, nil
}

func prevIsTableStart(out []otok, j int) bool {
	if j < 1 {
		return false
	}
	p := out[j-1]
	return p.text == "," || (p.kind == tIdent && (p.text == "from" || p.text == "join" || p.text == "lateral"))
}

func (rw *rewriter) op(i int) (int, error) {
	t := rw.toks[i]
	if rw.prefixPosition() {
		switch t.val {
		case "-", "+", "~", "*":
			rw.emit(t.val, t.pos, tOp)
			return i + 1, nil
		}
		return 0, rw.syntaxErr(i)
	}
	if nativeOps[t.val] {
		// x = ANY (array) / ALL (array)
		if compareOps[t.val] && i+2 < len(rw.toks) && rw.toks[i+2].isP("(") {
			nt := rw.toks[i+1]
			if nt.is("any") || nt.is("some") || nt.is("all") {
				close := rw.matching(i + 2)
				if close > 0 && !isQueryStart(rw.toks[i+3]) {
					rw.emit(t.val, t.pos, tOp)
					name := mkAny
					if nt.is("all") {
						name = mkAll
					}
					rw.emit(name, nt.pos, tIdent)
					rw.emit("(", rw.toks[i+2].pos, tPunct)
					if err := rw.rewriteNested(i+3, close); err != nil {
						return 0, err
					}
					rw.emit(")", rw.toks[close].pos, tPunct)
					return close + 1, nil
				}
			}
		}
		rw.emit(t.val, t.pos, tOp)
		return i + 1, nil
	}
	rw.emit("|", t.pos, tOp)
	rw.emit(mkOp, t.pos, tIdent)
	rw.emit("(", t.pos, tPunct)
	rw.emit(quoteString(t.val), t.pos, tString)
	rw.emit(")", t.pos, tPunct)
	rw.emit("|", t.pos, tOp)
	return i + 1, nil
}

func isQueryStart(t token) bool {
	return t.is("select") || t.is("with") || t.is("values") || t.isP("(")
}

// name emits an identifier used as a name (column, table, function).
func (rw *rewriter) name(i, hi int) (int, error) {
	t := rw.toks[i]
	f := rw.top()
	// FROM-list aliases with column lists: AS x(a, b), or f(...) x(a, b)
	if f.inFrom && i+1 < hi && rw.toks[i+1].isP("(") && len(rw.out) > 0 {
		prev := rw.out[len(rw.out)-1]
		isAlias := (prev.kind == tIdent && prev.text == "as") || (prev.text == ")" && prev.kind == tPunct) ||
			(isNameTok(prev) && !notFuncWords[prev.text] && !clauseWords[prev.text] && !joinWords[prev.text] &&
				len(rw.out) >= 2 && (prevIsTableStart(rw.out, len(rw.out)-1) || rw.out[len(rw.out)-2].text == "."))
		if isAlias {
			alias, next, err := rw.aliasWithColumns(i)
			if err != nil {
				return 0, err
			}
			rw.emit(alias, t.pos, tQIdent)
			return next, nil
		}
		// table function in FROM
		if prevIsTableStart(rw.out, len(rw.out)) && t.kind == tIdent {
			close := rw.matching(i + 1)
			if close < 0 {
				return 0, rw.syntaxErr(i + 1)
			}
			rw.emit("(", t.pos, tPunct)
			rw.emit("select", t.pos, tIdent)
			rw.emit(mkTableFunc, t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			rw.emit(quoteString(t.val), t.pos, tString)
			if close > i+2 {
				rw.emit(",", t.pos, tPunct)
			}
			if err := rw.rewriteNested(i+2, close); err != nil {
				return 0, err
			}
			rw.emit(")", rw.toks[close].pos, tPunct)
			rw.emit(")", rw.toks[close].pos, tPunct)
			n := close + 1
			if n < hi && (rw.toks[n].is("as") || (rw.toks[n].kind == tQIdent) || (rw.toks[n].kind == tIdent && !clauseWords[rw.toks[n].val] && !joinWords[rw.toks[n].val] && rw.toks[n].val != "with")) {
				return n, nil
			}
			rw.emit(mkNoAlias, rw.toks[close].pos, tIdent)
			return n, nil
		}
	}
	if t.kind == tQIdent {
		rw.emit(quoteIdent(t.val), t.pos, tQIdent)
		return i + 1, nil
	}
	if tidbSequenceFuncs[t.val] && i+1 < hi && rw.toks[i+1].isP("(") {
		// TiDB parses NEXTVAL(seq) with a table name, PostgreSQL takes a
		// string: quoted, the name is an ordinary function call.
		rw.emit(quoteIdent(t.val), t.pos, tQIdent)
		return i + 1, nil
	}
	if tidbReserved[t.val] && !(i+1 < hi && rw.toks[i+1].isP("(")) && !rw.keywordUse(i) {
		rw.emit(quoteIdent(t.val), t.pos, tQIdent)
		return i + 1, nil
	}
	if t.val == "by" && !rw.byKeyword() {
		// BY is unreserved in PostgreSQL: anywhere but after GROUP, ORDER
		// or PARTITION it is a name.
		rw.emit(quoteIdent(t.val), t.pos, tQIdent)
		return i + 1, nil
	}
	rw.emit(t.val, t.pos, tIdent)
	return i + 1, nil
}

func (rw *rewriter) ident(i, hi int) (int, error) {
	t := rw.toks[i]
	f := rw.top()
	nx := func(k int) token {
		if i+k < len(rw.toks) {
			return rw.toks[i+k]
		}
		return rw.toks[len(rw.toks)-1]
	}
	prevDot := len(rw.out) > 0 && rw.out[len(rw.out)-1].text == "."
	if prevDot {
		return rw.name(i, hi)
	}
	if tidbWindowFuncs[t.val] && nx(1).isP("(") {
		if close := rw.matching(i + 1); close > 0 && !rw.at(close+1).is("over") {
			// without OVER, a plain call (which the planner refuses)
			rw.emit(quoteIdent(t.val), t.pos, tQIdent)
			return i + 1, nil
		}
	}
	switch t.val {
	case "for":
		if f.inFrom && nx(1).is("system_time") {
			return rw.forSystemTime(i)
		}
	case "pg_catalog":
		if nx(1).isP(".") && nx(2).kind == tIdent && nx(3).isP("(") {
			return i + 2, nil
		}
	case "cast":
		if nx(1).isP("(") {
			return rw.castCall(i)
		}
	case "extract":
		if nx(1).isP("(") && nx(3).is("from") {
			return rw.extract(i)
		}
	case "substring":
		if nx(1).isP("(") {
			return rw.substring(i)
		}
	case "position":
		if nx(1).isP("(") {
			return rw.position(i)
		}
	case "trim":
		if nx(1).isP("(") {
			return rw.trim(i)
		}
	case "array":
		if nx(1).isP("[") {
			close := rw.matching(i + 1)
			if close < 0 {
				return 0, rw.syntaxErr(i + 1)
			}
			rw.emit(mkArray, t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			if err := rw.rewriteNested(i+2, close); err != nil {
				return 0, err
			}
			rw.emit(")", rw.toks[close].pos, tPunct)
			return close + 1, nil
		}
	case "distinct":
		if nx(1).is("on") && nx(2).isP("(") {
			return rw.distinctOn(i, hi)
		}
	case "is":
		// IS [NOT] DISTINCT FROM
		if nx(1).is("distinct") && nx(2).is("from") {
			rw.emit("<=>", t.pos, tOp)
			rw.emit(mkDistinct, t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			rw.emit(")", t.pos, tPunct)
			rw.emit("<=>", t.pos, tOp)
			return i + 3, nil
		}
		if nx(1).is("not") && nx(2).is("distinct") && nx(3).is("from") {
			rw.emit("<=>", t.pos, tOp)
			return i + 4, nil
		}
	case "at":
		// x AT TIME ZONE z -> __weir_at_tz(x, z), i.e. timezone(z, x)
		if nx(1).is("time") && nx(2).is("zone") {
			start := rw.operandStart()
			if start < 0 {
				return 0, rw.syntaxErr(i)
			}
			j := i + 3
			end := j + 1
			if rw.toks[j].kind == tEOF || rw.toks[j].kind == tOp || rw.toks[j].kind == tPunct && !rw.toks[j].isP("(") {
				return 0, rw.syntaxErr(j)
			}
			if rw.toks[j].isP("(") || rw.toks[end].isP("(") {
				k := end
				if rw.toks[j].isP("(") {
					k = j
				}
				m := rw.matching(k)
				if m < 0 {
					return 0, rw.syntaxErr(k)
				}
				end = m + 1
			}
			for rw.toks[end].isP(".") && rw.toks[end+1].kind != tEOF {
				end += 2
			}
			rw.insertCall(start, mkAtTZ)
			rw.emit(",", t.pos, tPunct)
			if err := rw.rewriteNested(j, end); err != nil {
				return 0, err
			}
			rw.emit(")", t.pos, tPunct)
			return end, nil
		}
	case "isnull":
		rw.emit("is", t.pos, tIdent)
		rw.emit("null", t.pos, tIdent)
		return i + 1, nil
	case "notnull":
		rw.emit("is", t.pos, tIdent)
		rw.emit("not", t.pos, tIdent)
		rw.emit("null", t.pos, tIdent)
		return i + 1, nil
	case "similar":
		if nx(1).is("to") {
			return 0, sqlerr.Unsupported("SIMILAR TO is not supported").WithPosition(charPos(rw.src, t.pos))
		}
	case "collate":
		// collations are parsed and ignored
		j := i + 1
		if nx(1).kind == tIdent || nx(1).kind == tQIdent || nx(1).kind == tString {
			j++
			if rw.toks[j].isP(".") && j+1 < len(rw.toks) {
				j += 2
			}
			return j, nil
		}
	case "nulls":
		if nx(1).is("first") || nx(1).is("last") {
			rw.emit(",", t.pos, tPunct)
			if nx(1).is("first") {
				rw.emit(mkNullsF, t.pos, tIdent)
			} else {
				rw.emit(mkNullsL, t.pos, tIdent)
			}
			rw.emit("(", t.pos, tPunct)
			rw.emit(")", t.pos, tPunct)
			return i + 2, nil
		}
	case "by":
		if !rw.byKeyword() {
			return rw.name(i, hi)
		}
	case "order":
		if f.funcCall && nx(1).is("by") {
			return rw.aggOrderBy(i)
		}
	case "filter":
		if nx(1).isP("(") && nx(2).is("where") && len(rw.out) > 0 && rw.out[len(rw.out)-1].text == ")" {
			start := rw.operandStart()
			close := rw.matching(i + 1)
			if start < 0 || close < 0 {
				return 0, rw.syntaxErr(i)
			}
			rw.insertCall(start, mkFilter)
			rw.emit(",", t.pos, tPunct)
			if err := rw.rewriteNested(i+3, close); err != nil {
				return 0, err
			}
			rw.emit(")", rw.toks[close].pos, tPunct)
			return close + 1, nil
		}
	case "from":
		f.inFrom = true
	case "values":
		f.inFrom = false
		if rw.standaloneValues() {
			return rw.valuesRows(i, hi)
		}
	case "window":
		if f.inFrom {
			if kind := rw.ksqlWindowKind(i); kind > 0 {
				f.inFrom = false
				return rw.ksqlWindow(i, kind)
			}
		}
		f.inFrom = false
	case "within":
		if f.inFrom && rw.ksqlWithinAt(i) {
			return rw.ksqlWithin(i, hi, f)
		}
	case "where", "group", "having", "union", "except", "intersect", "returning", "set", "select":
		f.inFrom = false
	case "full":
		j := i + 1
		if nx(1).is("outer") {
			j++
		}
		if rw.toks[j].is("join") {
			f.pendingFull = true
			rw.emit("left", t.pos, tIdent)
			rw.emit("join", rw.toks[j].pos, tIdent)
			return j + 1, nil
		}
	case "using":
		if f.pendingFull {
			return 0, sqlerr.Unsupported("FULL JOIN with USING is not supported").WithPosition(charPos(rw.src, t.pos))
		}
	case "on":
		if f.pendingFull {
			f.pendingFull = false
			end := rw.onConditionEnd(i+1, hi)
			rw.emit("on", t.pos, tIdent)
			rw.emit(mkFullJoin, t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			rw.emit(")", t.pos, tPunct)
			rw.emit("and", t.pos, tIdent)
			rw.emit("(", t.pos, tPunct)
			if err := rw.rewriteNested(i+1, end); err != nil {
				return 0, err
			}
			rw.emit(")", t.pos, tPunct)
			return end, nil
		}
	case "preceding", "following":
		if len(rw.frames) > 1 {
			rw.frameOffset()
		}
	case "over":
		if nx(1).isP("(") || nx(1).kind == tIdent || nx(1).kind == tQIdent {
			if start := rw.operandStart(); start >= 0 && start+1 < len(rw.out) && rw.out[start+1].text == "(" && isFuncName(rw.out[start]) {
				if o := &rw.out[start]; o.kind == tIdent && tidbWindowFuncs[o.text] {
					// a plain call to TiDB, which parses these only
					// before OVER
					o.text, o.kind = quoteIdent(o.text), tQIdent
				}
				rw.insertCall(start, mkOver)
				rw.emit(")", t.pos, tPunct)
				rw.insertCall(start, "max")
				rw.emit(")", t.pos, tPunct)
				rw.emit("over", t.pos, tIdent)
				return i + 1, nil
			}
		}
	case "limit", "fetch":
		return rw.limit(i, hi)
	case "offset":
		return rw.offset(i, hi)
	case "emit":
		if nx(1).is("changes") && len(rw.frames) == 1 {
			rw.emitChanges = true
			return i + 2, nil
		}
		if nx(1).is("final") && len(rw.frames) == 1 {
			// ksqlDB's EMIT FINAL: EMIT ON WINDOW CLOSE, and a push query
			// when the statement is a query
			rw.emitChanges, rw.emitFinal = true, true
			return i + 2, nil
		}
	}
	// typed literal: DATE '...', INTERVAL '1' DAY, TIMESTAMP WITH TIME ZONE '...'
	if typeLitNames[t.val] && !(len(rw.out) > 0 && rw.out[len(rw.out)-1].text == "as") {
		if next, ok := rw.typedLiteral(i); ok {
			return next, nil
		}
	}
	if bareFuncs[t.val] && !nx(1).isP("(") {
		rw.emit(t.val, t.pos, tIdent)
		rw.emit("(", t.pos, tPunct)
		rw.emit(")", t.pos, tPunct)
		return i + 1, nil
	}
	// PARTITION is a key word only in PARTITION BY: elsewhere a name (a
	// source's partition column), as PostgreSQL, which does not reserve it.
	if (clauseWords[t.val] || joinWords[t.val] || notFuncWords[t.val]) && (t.val != "partition" || nx(1).is("by")) {
		rw.emit(t.val, t.pos, tIdent)
		return i + 1, nil
	}
	return rw.name(i, hi)
}

// typedLiteral handles TYPE 'string'.
func (rw *rewriter) typedLiteral(i int) (int, bool) {
	t := rw.toks[i]
	j := i + 1
	name := t.val
	if (name == "timestamp" || name == "time") && (rw.toks[j].is("with") || rw.toks[j].is("without")) {
		if rw.toks[j+1].is("time") && rw.toks[j+2].is("zone") {
			if rw.toks[j].is("with") {
				name += " with time zone"
			}
			j += 3
		}
	}
	if rw.toks[j].kind != tString {
		return 0, false
	}
	s := rw.toks[j]
	typ, ok := types.ParseTypeName(name, nil)
	if !ok {
		return 0, false
	}
	val := s.val
	next := j + 1
	if name == "interval" {
		// INTERVAL '5' MINUTE [TO SECOND]
		if next < len(rw.toks) && rw.toks[next].kind == tIdent && intervalUnits[rw.toks[next].val] {
			unit := rw.toks[next].val
			next++
			if rw.toks[next].is("to") && intervalUnits[rw.toks[next+1].val] {
				next += 2
			} else if !strings.ContainsAny(strings.TrimSpace(val), " :") {
				val = strings.TrimSpace(val) + " " + unit
			}
		}
	}
	rw.castLiteral(val, typ, t.pos, s.pos)
	return next, true
}

// castLiteral emits the string val cast to typ, located at pos (the type's
// token) and valPos (the string's).
func (rw *rewriter) castLiteral(val string, typ types.Type, pos, valPos int) {
	rw.casts = append(rw.casts, typ)
	rw.emit(mkCast, pos, tIdent)
	rw.emit("(", pos, tPunct)
	rw.emit(quoteString(val), valPos, tString)
	rw.emit(",", valPos, tPunct)
	rw.emit(strconv.Itoa(len(rw.casts)-1), valPos, tNumber)
	rw.emit(")", valPos, tPunct)
}

// parseType reads a PostgreSQL type name at toks[i]: [pg_catalog.]name
// [(n[, m])], multi-word names included. It returns the type, the name as
// written (lower-cased, for SERIAL detection) and the next index.
func (rw *rewriter) parseType(i int) (types.Type, string, int, error) {
	return parseTypeTokens(rw.src, rw.toks, i)
}

func parseTypeTokens(src string, toks []token, i int) (types.Type, string, int, error) {
	at := func(k int) token {
		if k < len(toks) {
			return toks[k]
		}
		return toks[len(toks)-1]
	}
	start := at(i)
	if start.is("pg_catalog") && at(i+1).isP(".") {
		i += 2
	}
	t := at(i)
	if t.kind != tIdent && t.kind != tQIdent {
		return types.Type{}, "", 0, syntaxErrorAt(src, t.pos)
	}
	name := t.val
	i++
	switch name {
	case "double":
		if at(i).is("precision") {
			name += " precision"
			i++
		}
	case "character", "char":
		if at(i).is("varying") {
			name += " varying"
			i++
		}
	}
	var mods []int
	if at(i).isP("(") {
		j := i + 1
		for {
			m := at(j)
			if m.kind != tNumber {
				return types.Type{}, "", 0, syntaxErrorAt(src, m.pos)
			}
			n, err := strconv.Atoi(m.val)
			if err != nil {
				return types.Type{}, "", 0, syntaxErrorAt(src, m.pos)
			}
			mods = append(mods, n)
			j++
			if at(j).isP(",") {
				j++
				continue
			}
			if !at(j).isP(")") {
				return types.Type{}, "", 0, syntaxErrorAt(src, at(j).pos)
			}
			i = j + 1
			break
		}
	}
	if name == "timestamp" || name == "time" {
		if (at(i).is("with") || at(i).is("without")) && at(i+1).is("time") && at(i+2).is("zone") {
			if at(i).is("with") {
				name += " with time zone"
			}
			i += 3
		}
	}
	if name == "interval" {
		// interval field restrictions (INTERVAL DAY TO SECOND) are accepted and ignored
		for at(i).kind == tIdent && (intervalUnits[at(i).val] || at(i).val == "to") {
			i++
		}
	}
	if at(i).isP("[") {
		return types.Type{}, "", 0, sqlerr.Unsupported("array types are not supported").WithPosition(charPos(src, at(i).pos))
	}
	if regTypes[name] && mods == nil {
		return types.Int64, name, i, nil
	}
	typ, ok := types.ParseTypeName(name, mods)
	if !ok {
		if _, known := types.ParseTypeName(name, nil); known {
			return types.Type{}, "", 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid type modifier for type %s", name).WithPosition(charPos(src, t.pos))
		}
		return types.Type{}, "", 0, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", name).WithPosition(charPos(src, t.pos))
	}
	return typ, name, i, nil
}

// regTypes are PostgreSQL's object-identifier types. Weir has no such
// types: an OID is an int8, and a cast to a reg* type is a call of the
// function of that name (executor/funcs), which turns a name into its OID
// ('t'::regclass) and leaves a number as it is. oid is a plain int8 cast.
var regTypes = map[string]bool{
	"oid": true, "regclass": true, "regtype": true, "regproc": true, "regprocedure": true,
	"regnamespace": true, "regrole": true, "regoper": true, "regoperator": true,
	"regconfig": true, "regdictionary": true, "regcollation": true,
}

// addCast records the target of a cast; name is the type as written.
func (rw *rewriter) addCast(typ types.Type, name string) {
	rw.casts = append(rw.casts, typ)
	if regTypes[name] && name != "oid" {
		if rw.regCasts == nil {
			rw.regCasts = map[int]string{}
		}
		rw.regCasts[len(rw.casts)-1] = name
	}
}

// castCall rewrites CAST(x AS type).
func (rw *rewriter) castCall(i int) (int, error) {
	close := rw.matching(i + 1)
	if close < 0 {
		return 0, rw.syntaxErr(i + 1)
	}
	as := -1
	depth := 0
	for j := i + 2; j < close; j++ {
		t := rw.toks[j]
		if t.isP("(") || t.isP("[") {
			depth++
		} else if t.isP(")") || t.isP("]") {
			depth--
		} else if depth == 0 && t.is("as") {
			as = j
		}
	}
	if as < 0 {
		return 0, rw.syntaxErr(close)
	}
	typ, name, next, err := rw.parseType(as + 1)
	if err != nil {
		return 0, err
	}
	if next != close {
		return 0, rw.syntaxErr(next)
	}
	rw.addCast(typ, name)
	k := len(rw.casts) - 1 // before the operand adds casts of its own
	rw.emit(mkCast, rw.toks[i].pos, tIdent)
	rw.emit("(", rw.toks[i+1].pos, tPunct)
	if err := rw.rewriteNested(i+2, as); err != nil {
		return 0, err
	}
	rw.emit(",", rw.toks[as].pos, tPunct)
	rw.emit(strconv.Itoa(k), rw.toks[as].pos, tNumber)
	rw.emit(")", rw.toks[close].pos, tPunct)
	return close + 1, nil
}

// call emits name(arg1, arg2...) where each arg is a token range.
func (rw *rewriter) call(name string, pos int, args [][2]int, closePos int) error {
	rw.emit(quoteIdent(name), pos, tQIdent)
	rw.emit("(", pos, tPunct)
	for k, a := range args {
		if k > 0 {
			rw.emit(",", rw.toks[max(a[0]-1, 0)].pos, tPunct)
		}
		if a[0] >= a[1] {
			return rw.syntaxErr(a[0])
		}
		if err := rw.rewriteNested(a[0], a[1]); err != nil {
			return err
		}
	}
	rw.emit(")", closePos, tPunct)
	return nil
}

// extract rewrites EXTRACT(field FROM x) to extract('field', x), the
// numeric-returning function of PostgreSQL 14 and later (date_part is
// float8).
func (rw *rewriter) extract(i int) (int, error) {
	close := rw.matching(i + 1)
	if close < 0 {
		return 0, rw.syntaxErr(i + 1)
	}
	ft := rw.toks[i+2]
	if ft.kind != tIdent && ft.kind != tString {
		return 0, rw.syntaxErr(i + 2)
	}
	rw.emit(quoteIdent("extract"), rw.toks[i].pos, tQIdent)
	rw.emit("(", rw.toks[i].pos, tPunct)
	rw.emit(quoteString(strings.ToLower(ft.val)), ft.pos, tString)
	rw.emit(",", rw.toks[i+3].pos, tPunct)
	if i+4 >= close {
		return 0, rw.syntaxErr(close)
	}
	if err := rw.rewriteNested(i+4, close); err != nil {
		return 0, err
	}
	rw.emit(")", rw.toks[close].pos, tPunct)
	return close + 1, nil
}

// substring rewrites SUBSTRING(x FROM a FOR b) to substring(x, a, b).
func (rw *rewriter) substring(i int) (int, error) {
	close := rw.matching(i + 1)
	if close < 0 {
		return 0, rw.syntaxErr(i + 1)
	}
	kw := func(t token) bool { return t.is("from") || t.is("for") || t.isP(",") }
	var args [][2]int
	var words []string
	lo := i + 2
	for {
		e := rw.scanTo(lo, close, kw)
		args = append(args, [2]int{lo, e})
		if e >= close {
			break
		}
		words = append(words, rw.toks[e].val)
		lo = e + 1
	}
	if len(words) == 1 && words[0] == "for" {
		// SUBSTRING(x FOR n) = substring(x, 1, n)
		rw.emit(quoteIdent("substring"), rw.toks[i].pos, tQIdent)
		rw.emit("(", rw.toks[i].pos, tPunct)
		if err := rw.rewriteNested(args[0][0], args[0][1]); err != nil {
			return 0, err
		}
		rw.emit(",", rw.toks[i].pos, tPunct)
		rw.emit("1", rw.toks[i].pos, tNumber)
		rw.emit(",", rw.toks[i].pos, tPunct)
		if err := rw.rewriteNested(args[1][0], args[1][1]); err != nil {
			return 0, err
		}
		rw.emit(")", rw.toks[close].pos, tPunct)
		return close + 1, nil
	}
	return close + 1, rw.call("substring", rw.toks[i].pos, args, rw.toks[close].pos)
}

// position rewrites POSITION(a IN b) to position(a, b).
func (rw *rewriter) position(i int) (int, error) {
	close := rw.matching(i + 1)
	if close < 0 {
		return 0, rw.syntaxErr(i + 1)
	}
	in := rw.scanTo(i+2, close, func(t token) bool { return t.is("in") })
	if in >= close {
		return close + 1, rw.call("position", rw.toks[i].pos, rw.splitTop(i+2, close), rw.toks[close].pos)
	}
	return close + 1, rw.call("position", rw.toks[i].pos, [][2]int{{i + 2, in}, {in + 1, close}}, rw.toks[close].pos)
}

// trim rewrites TRIM([LEADING|TRAILING|BOTH] [chars] FROM s) and TRIM(s[, chars])
// to btrim/ltrim/rtrim(s[, chars]).
func (rw *rewriter) trim(i int) (int, error) {
	close := rw.matching(i + 1)
	if close < 0 {
		return 0, rw.syntaxErr(i + 1)
	}
	name := "btrim"
	lo := i + 2
	switch {
	case rw.toks[lo].is("leading"):
		name, lo = "ltrim", lo+1
	case rw.toks[lo].is("trailing"):
		name, lo = "rtrim", lo+1
	case rw.toks[lo].is("both"):
		lo++
	}
	from := rw.scanTo(lo, close, func(t token) bool { return t.is("from") })
	var args [][2]int
	switch {
	case from >= close:
		args = rw.splitTop(lo, close)
	case from == lo:
		args = rw.splitTop(from+1, close)
	default:
		args = [][2]int{{from + 1, close}, {lo, from}}
	}
	return close + 1, rw.call(name, rw.toks[i].pos, args, rw.toks[close].pos)
}

// distinctOn rewrites SELECT DISTINCT ON (a, b) list into SELECT list,
// __weir_distinct_on(a, b).
func (rw *rewriter) distinctOn(i, hi int) (int, error) {
	open := i + 2
	close := rw.matching(open)
	if close < 0 {
		return 0, rw.syntaxErr(open)
	}
	end := rw.scanTo(close+1, hi, func(t token) bool {
		return t.kind == tIdent && clauseWords[t.val] && t.val != "on"
	})
	if err := rw.rewrite(close+1, end); err != nil {
		return 0, err
	}
	rw.emit(",", rw.toks[i].pos, tPunct)
	rw.emit(mkDistOn, rw.toks[i].pos, tIdent)
	rw.emit("(", rw.toks[open].pos, tPunct)
	if err := rw.rewriteNested(open+1, close); err != nil {
		return 0, err
	}
	rw.emit(")", rw.toks[close].pos, tPunct)
	return end, nil
}

// aggOrderBy rewrites agg(x ORDER BY y DESC) into agg(x, __weir_order_by(y, 'desc', ”)).
func (rw *rewriter) aggOrderBy(i int) (int, error) {
	f := rw.top()
	close := rw.matching(f.open)
	if close < 0 {
		return 0, rw.syntaxErr(i)
	}
	for _, it := range rw.splitTop(i+2, close) {
		lo, hi := it[0], it[1]
		dir, nulls := "", ""
		if hi-2 >= lo && rw.toks[hi-2].is("nulls") {
			nulls = rw.toks[hi-1].val
			hi -= 2
		}
		if hi-1 > lo && (rw.toks[hi-1].is("asc") || rw.toks[hi-1].is("desc")) {
			dir = rw.toks[hi-1].val
			hi--
		}
		if lo >= hi {
			return 0, rw.syntaxErr(lo)
		}
		rw.emit(",", rw.toks[i].pos, tPunct)
		rw.emit(mkOrderBy, rw.toks[lo].pos, tIdent)
		rw.emit("(", rw.toks[lo].pos, tPunct)
		if err := rw.rewriteNested(lo, hi); err != nil {
			return 0, err
		}
		rw.emit(",", rw.toks[lo].pos, tPunct)
		rw.emit(quoteString(dir), rw.toks[lo].pos, tString)
		rw.emit(",", rw.toks[lo].pos, tPunct)
		rw.emit(quoteString(nulls), rw.toks[lo].pos, tString)
		rw.emit(")", rw.toks[lo].pos, tPunct)
	}
	return close, nil
}

// limitEnd is the end of a LIMIT/OFFSET/FETCH value.
func (rw *rewriter) limitEnd(i, hi int) int {
	return rw.scanTo(i, hi, func(t token) bool {
		return t.kind == tIdent && (clauseWords[t.val] || t.val == "row" || t.val == "rows" || t.val == "only")
	})
}

// at returns toks[j], or an end-of-input token past the end, so that
// look-ahead at the end of a statement's tokens needs no bounds checks.
func (rw *rewriter) at(j int) token {
	if j >= len(rw.toks) {
		return token{kind: tEOF, pos: len(rw.src), end: len(rw.src)}
	}
	return rw.toks[j]
}

// limit handles LIMIT n | LIMIT ALL | FETCH FIRST [n] ROW[S] ONLY at toks[i].
func (rw *rewriter) limit(i, hi int) (int, error) {
	t := rw.toks[i]
	f := rw.top()
	if t.is("limit") {
		if rw.at(i + 1).is("all") {
			return i + 2, nil
		}
		e := rw.limitEnd(i+1, hi)
		if e == i+1 {
			return 0, rw.syntaxErr(e)
		}
		f.sawLimit = true
		rw.emit("limit", t.pos, tIdent)
		if err := rw.rewrite(i+1, e); err != nil {
			return 0, err
		}
		return e, nil
	}
	// FETCH {FIRST|NEXT} [n] {ROW|ROWS} {ONLY|WITH TIES}
	j := i + 1
	if !rw.at(j).is("first") && !rw.at(j).is("next") {
		return 0, rw.syntaxErr(j)
	}
	j++
	e := rw.limitEnd(j, hi)
	f.sawLimit = true
	rw.emit("limit", t.pos, tIdent)
	if e == j {
		rw.emit("1", t.pos, tNumber)
	} else if err := rw.rewrite(j, e); err != nil {
		return 0, err
	}
	if !rw.at(e).is("row") && !rw.at(e).is("rows") {
		return 0, rw.syntaxErr(e)
	}
	e++
	if rw.at(e).is("only") {
		return e + 1, nil
	}
	if rw.at(e).is("with") && rw.at(e+1).is("ties") {
		return 0, sqlerr.Unsupported("FETCH ... WITH TIES is not supported").WithPosition(charPos(rw.src, rw.toks[e].pos))
	}
	return 0, rw.syntaxErr(e)
}

// offset handles OFFSET n [ROW|ROWS], reordering a following LIMIT/FETCH
// before it as TiDB requires.
func (rw *rewriter) offset(i, hi int) (int, error) {
	t := rw.toks[i]
	f := rw.top()
	e := rw.limitEnd(i+1, hi)
	if e == i+1 {
		return 0, rw.syntaxErr(e)
	}
	next := e
	if rw.at(next).is("row") || rw.at(next).is("rows") {
		next++
	}
	if !f.sawLimit && (rw.at(next).is("limit") || rw.at(next).is("fetch")) {
		n, err := rw.limit(next, hi)
		if err != nil {
			return 0, err
		}
		next = n
	}
	if !f.sawLimit {
		rw.emit("limit", t.pos, tIdent)
		rw.emit(noLimit, t.pos, tNumber)
		f.sawLimit = true
	}
	rw.emit("offset", t.pos, tIdent)
	if err := rw.rewrite(i+1, e); err != nil {
		return 0, err
	}
	return next, nil
}

// standaloneValues reports whether a VALUES here is a query of its own (not
// INSERT's), which TiDB only accepts as VALUES ROW(...).
func (rw *rewriter) standaloneValues() bool {
	if len(rw.out) == 0 {
		return true
	}
	p := rw.out[len(rw.out)-1]
	if p.kind == tPunct {
		return p.text == "("
	}
	switch p.text {
	case "union", "except", "intersect", "all", "distinct", "as":
		return true
	}
	return false
}

// valuesRows rewrites VALUES (a, b), (c, d) into VALUES ROW(a, b), ROW(c, d).
func (rw *rewriter) valuesRows(i, hi int) (int, error) {
	rw.emit("values", rw.toks[i].pos, tIdent)
	j := i + 1
	for j < hi && rw.toks[j].isP("(") {
		close := rw.matching(j)
		if close < 0 || close >= hi {
			return 0, rw.syntaxErr(j)
		}
		rw.emit("row", rw.toks[j].pos, tIdent)
		if err := rw.rewrite(j, close+1); err != nil {
			return 0, err
		}
		j = close + 1
		if !rw.toks[j].isP(",") {
			return j, nil
		}
		rw.emit(",", rw.toks[j].pos, tPunct)
		j++
	}
	return 0, rw.syntaxErr(j)
}
