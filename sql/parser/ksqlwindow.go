package parser

import (
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// ksqlDB's WINDOW clause, which follows the FROM item it windows:
//
//	FROM bids [[AS] b] WINDOW TUMBLING (SIZE 1 MINUTE [, RETENTION n unit])
//	FROM bids [[AS] b] WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS [, RETENTION n unit])
//	FROM clicks [[AS] c] WINDOW SESSION (30 MINUTES [, RETENTION n unit])
//
// is Weir's window table function over the relation's event time, written
// as the marker __weir_window (see rewrite.go): an ast.TableFunc with
// WindowClause set, which the planner completes with the WATERMARK FOR
// column and whose window columns it adds to GROUP BY.
//
// RETENTION (how long ksqlDB keeps a window's rows for pull queries) is
// accepted and has no effect: a view keeps its rows until it is dropped.
// GRACE PERIOD is refused: Weir's lateness is a property of the source (its
// watermark's delay and allowed_lateness), and no per-query bound drops
// exactly the rows ksqlDB drops.

// ksqlWindowKinds maps ksqlDB's window kinds to Weir's window functions.
var ksqlWindowKinds = map[string]string{"tumbling": "tumble", "hopping": "hop", "session": "session"}

// ksqlWindowUnits are the time units of ksqlDB's window clause; each is
// also a unit of Weir's interval text.
var ksqlWindowUnits = map[string]bool{
	"millisecond": true, "milliseconds": true, "second": true, "seconds": true,
	"minute": true, "minutes": true, "hour": true, "hours": true, "day": true, "days": true,
}

// ksqlWindowKind returns the index of the kind word (TUMBLING, HOPPING,
// SESSION) when toks[i], a WINDOW, starts ksqlDB's window clause
// (WINDOW [name] kind (...)), else 0.
func (rw *rewriter) ksqlWindowKind(i int) int {
	for k := i + 1; k <= i+2; k++ {
		t := rw.at(k)
		if t.kind != tIdent {
			return 0
		}
		if ksqlWindowKinds[t.val] != "" && rw.at(k+1).isP("(") {
			return k
		}
	}
	return 0
}

// ksqlWindow rewrites the window clause toks[i:] (WINDOW at i, its kind at
// kind) together with the FROM item emitted before it, and returns the
// index after the clause.
func (rw *rewriter) ksqlWindow(i, kind int) (int, error) {
	win := rw.toks[i]
	kindWord := strings.ToUpper(rw.toks[kind].val)
	fn := ksqlWindowKinds[rw.toks[kind].val]
	closeP := rw.matching(kind + 1)
	if closeP < 0 {
		return 0, rw.syntaxErr(kind + 1)
	}
	name, alias, ok := rw.windowedItem()
	if !ok {
		return 0, sqlerr.Unsupported("WINDOW %s applies to one table, source or stream in FROM, not to a join, a subquery or a list", kindWord).
			WithHint("Window the relation itself with %s(relation, time_column, ...) in FROM.", strings.ToUpper(fn)).
			WithPosition(charPos(rw.src, win.pos))
	}

	// the intervals, in the table function's order (HOP: advance, size)
	type interval struct {
		text string
		pos  int
	}
	var ivs []interval
	j := kind + 2
	word := func(w ...string) bool {
		for k, x := range w {
			if t := rw.toks[j+k]; !t.is(x) && !t.isP(x) {
				return false
			}
		}
		j += len(w)
		return true
	}
	duration := func() (interval, error) {
		n, u := rw.toks[j], rw.toks[j+1]
		if n.kind != tNumber || strings.ContainsAny(n.val, ".eE") {
			return interval{}, rw.syntaxErr(j)
		}
		if u.kind != tIdent || !ksqlWindowUnits[u.val] {
			return interval{}, sqlerr.New(sqlerr.SyntaxError, "unknown window unit %q", rw.src[u.pos:u.end]).
				WithHint("Write MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS.").WithPosition(charPos(rw.src, u.pos))
		}
		j += 2
		return interval{text: n.val + " " + u.val, pos: n.pos}, nil
	}
	need := func(w ...string) error {
		if !word(w...) {
			return rw.syntaxErr(j)
		}
		iv, err := duration()
		ivs = append(ivs, iv)
		return err
	}
	var err error
	switch fn {
	case "tumble":
		err = need("size")
	case "hop":
		if err = need("size"); err == nil {
			if !word(",") {
				return 0, rw.syntaxErr(j)
			}
			if err = need("advance", "by"); err == nil {
				ivs[0], ivs[1] = ivs[1], ivs[0]
			}
		}
	case "session":
		err = need()
	}
	if err != nil {
		return 0, err
	}
	for j < closeP {
		if !word(",") {
			return 0, rw.syntaxErr(j)
		}
		switch {
		case word("retention"):
			if _, err := duration(); err != nil {
				return 0, err
			}
		case rw.toks[j].is("grace") && rw.toks[j+1].is("period"):
			return 0, sqlerr.Unsupported("GRACE PERIOD is not supported: lateness is set per source, not per query").
				WithHint("Drop GRACE PERIOD. A source's WATERMARK FOR delay and its allowed_lateness option decide which late rows still count.").
				WithPosition(charPos(rw.src, rw.toks[j].pos))
		default:
			return 0, rw.syntaxErr(j)
		}
	}
	if j != closeP {
		return 0, rw.syntaxErr(j)
	}

	rw.emit("(", win.pos, tPunct)
	rw.emit("select", win.pos, tIdent)
	rw.emit(mkWindow, win.pos, tIdent)
	rw.emit("(", win.pos, tPunct)
	rw.emit(quoteString(fn), win.pos, tString)
	rw.emit(",", name[0].pos, tPunct)
	rw.out = append(rw.out, name...)
	for _, iv := range ivs {
		rw.emit(",", iv.pos, tPunct)
		rw.castLiteral(iv.text, types.Interval, iv.pos, iv.pos)
	}
	rw.emit(")", rw.toks[closeP].pos, tPunct)
	rw.emit(")", rw.toks[closeP].pos, tPunct)
	if alias.text == "" {
		alias = otok{text: mkNoAlias, pos: win.pos, kind: tIdent}
	}
	rw.out = append(rw.out, alias)
	return closeP + 1, nil
}

// windowedItem takes the FROM item the window clause follows off the end
// of out: a relation name, [schema.]name, and its alias (text "" when
// none). ok is false unless the FROM list is just that.
func (rw *rewriter) windowedItem() (name []otok, alias otok, ok bool) {
	from := -1
	for k := len(rw.out) - 1; k >= 0; k-- {
		if o := rw.out[k]; o.kind == tIdent && o.text == "from" {
			from = k
			break
		}
	}
	if from < 0 {
		return nil, otok{}, false
	}
	item := rw.out[from+1:]
	n := 1
	if len(item) >= 3 && item[1].text == "." {
		n = 3
	}
	if len(item) < n || !isNameTok(item[0]) || !isNameTok(item[n-1]) {
		return nil, otok{}, false
	}
	name, rest := append([]otok(nil), item[:n]...), item[n:]
	if len(rest) > 0 && rest[0].kind == tIdent && rest[0].text == "as" {
		rest = rest[1:]
		if len(rest) == 0 {
			return nil, otok{}, false
		}
	}
	switch {
	case len(rest) == 1 && isNameTok(rest[0]) && !clauseWords[rest[0].text] && !joinWords[rest[0].text]:
		alias = rest[0]
	case len(rest) > 0:
		return nil, otok{}, false
	}
	rw.out = rw.out[:from+1]
	return name, alias, true
}
