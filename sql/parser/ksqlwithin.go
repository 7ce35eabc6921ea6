package parser

import (
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// ksqlDB's join window, between a join's right item and its ON:
//
//	FROM clicks c JOIN orders o WITHIN 1 HOUR ON c.user_id = o.user_id
//	FROM clicks c JOIN orders o WITHIN (1 HOUR, 2 HOURS) ON ...
//
// joins the rows whose event times are at most before (the first, or
// only, duration) apart with the right one earlier, and at most after
// apart with it later. It is written as the marker __weir_within(before,
// after) ANDed in front of the ON condition (see rewrite.go), which the
// converter takes out into ast.Join's Within; the planner turns it into
// bounds on the two sides' WATERMARK FOR columns: an interval join.
// GRACE PERIOD is refused as in the WINDOW clause (ksqlwindow.go).

const mkWithin = "__weir_within"

// ksqlWithinAt reports whether toks[i], a WITHIN in FROM, starts ksqlDB's
// join window (a duration or a parenthesized pair follows) rather than,
// say, WITHIN GROUP.
func (rw *rewriter) ksqlWithinAt(i int) bool {
	n := rw.at(i + 1)
	if n.isP("(") {
		n = rw.at(i + 2)
	}
	return n.kind == tNumber
}

// ksqlWithin rewrites the join window at toks[i] and the ON condition
// after it (up to hi), and returns the index after the condition.
func (rw *rewriter) ksqlWithin(i, hi int, f *frame) (int, error) {
	within := rw.toks[i]
	if f.pendingFull {
		return 0, sqlerr.Unsupported("FULL JOIN with WITHIN is not supported").
			WithHint("Use an inner or left join, or write the time bounds in ON.").WithPosition(charPos(rw.src, within.pos))
	}
	j := i + 1
	duration := func() (string, int, error) {
		n, u := rw.at(j), rw.at(j+1)
		if n.kind != tNumber || strings.ContainsAny(n.val, ".eE") {
			return "", 0, rw.syntaxErr(j)
		}
		if u.kind != tIdent || !ksqlWindowUnits[u.val] {
			return "", 0, sqlerr.New(sqlerr.SyntaxError, "unknown time unit %q in WITHIN", rw.src[u.pos:u.end]).
				WithHint("Write MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS.").WithPosition(charPos(rw.src, u.pos))
		}
		j += 2
		return n.val + " " + u.val, n.pos, nil
	}
	var texts [2]string
	var poss [2]int
	var err error
	if rw.at(j).isP("(") {
		j++
		if texts[0], poss[0], err = duration(); err != nil {
			return 0, err
		}
		if !rw.at(j).isP(",") {
			return 0, rw.syntaxErr(j)
		}
		j++
		if texts[1], poss[1], err = duration(); err != nil {
			return 0, err
		}
		if !rw.at(j).isP(")") {
			return 0, rw.syntaxErr(j)
		}
		j++
	} else {
		if texts[0], poss[0], err = duration(); err != nil {
			return 0, err
		}
		texts[1], poss[1] = texts[0], poss[0]
	}
	if rw.at(j).is("grace") && rw.at(j+1).is("period") {
		return 0, sqlerr.Unsupported("GRACE PERIOD is not supported: lateness is set per source, not per query").
			WithHint("Drop GRACE PERIOD. A source's WATERMARK FOR delay and its allowed_lateness option decide which late rows still count.").
			WithPosition(charPos(rw.src, rw.at(j).pos))
	}
	on := rw.at(j)
	if !on.is("on") {
		return 0, sqlerr.New(sqlerr.SyntaxError, "WITHIN must be followed by the join's ON condition").WithPosition(charPos(rw.src, on.pos))
	}
	end := rw.onConditionEnd(j+1, hi)
	rw.emit("on", on.pos, tIdent)
	rw.emit(mkWithin, within.pos, tIdent)
	rw.emit("(", within.pos, tPunct)
	for k := range texts {
		if k > 0 {
			rw.emit(",", poss[k], tPunct)
		}
		rw.castLiteral(texts[k], types.Interval, poss[k], poss[k])
	}
	rw.emit(")", within.pos, tPunct)
	rw.emit("and", on.pos, tIdent)
	rw.emit("(", on.pos, tPunct)
	if err := rw.rewriteNested(j+1, end); err != nil {
		return 0, err
	}
	rw.emit(")", on.pos, tPunct)
	return end, nil
}

// onConditionEnd returns where the ON condition starting at toks[i] ends:
// at the next join, clause, comma or semicolon outside brackets, or hi.
func (rw *rewriter) onConditionEnd(i, hi int) int {
	return rw.scanTo(i, hi, func(t token) bool {
		return t.kind == tIdent && (joinWords[t.val] || (clauseWords[t.val] && t.val != "on")) || t.isP(",") || t.isP(";")
	})
}
