package parser

import (
	tast "github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

// topIndex is the index of the first depth-0 token in toks[lo:hi] for
// which match is true (given the index), or -1.
func topIndex(toks []token, lo, hi int, match func(i int) bool) int {
	depth := 0
	for i := lo; i < hi; i++ {
		t := toks[i]
		if depth == 0 && match(i) {
			return i
		}
		if t.isP("(") || t.isP("[") {
			depth++
		} else if t.isP(")") || t.isP("]") {
			depth--
		}
	}
	return -1
}

func withEOF(toks []token, end int) []token {
	out := make([]token, 0, len(toks)+1)
	out = append(out, toks...)
	return append(out, token{kind: tEOF, pos: end, end: end})
}

// parseDML parses INSERT, UPDATE and DELETE. The PostgreSQL-only clauses
// (RETURNING, ON CONFLICT, DEFAULT VALUES, UPDATE ... FROM, DELETE ...
// USING) are cut off and parsed here; the rest goes through TiDB.
func parseDML(src string, toks []token) (ast.Statement, error) {
	eof := len(toks) - 1
	at := func(i int) token { return toks[min(i, eof)] }
	// RETURNING targets
	var returning []*ast.Target
	if r := topIndex(toks, 0, eof, func(i int) bool { return toks[i].is("returning") }); r >= 0 {
		st := withEOF(append([]token{{kind: tIdent, val: "select", pos: toks[r].pos, end: toks[r].pos}}, toks[r+1:eof]...), toks[eof].pos)
		q, err := parseQueryToks(src, st)
		if err != nil {
			return nil, err
		}
		sc, ok := q.Body.(*ast.SelectCore)
		if !ok || sc.From != nil || sc.Where != nil || q.OrderBy != nil || q.Limit != nil {
			return nil, syntaxErrorAt(src, toks[r].pos)
		}
		returning = sc.Targets
		toks = withEOF(toks[:r], toks[r].pos)
		eof = r
	}
	var onConflict *ast.OnConflict
	if toks[0].is("insert") {
		if r := topIndex(toks, 0, eof, func(i int) bool { return toks[i].is("on") && at(i+1).is("conflict") }); r >= 0 {
			oc, err := parseOnConflict(src, toks, r+2, eof)
			if err != nil {
				return nil, err
			}
			onConflict = oc
			toks = withEOF(toks[:r], toks[r].pos)
			eof = r
		}
		// INSERT INTO t DEFAULT VALUES
		if eof >= 2 && toks[eof-2].is("default") && toks[eof-1].is("values") {
			p := &gp{src: src, toks: toks, i: 1}
			if err := p.expect("into"); err != nil {
				return nil, err
			}
			tn, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			if p.i != eof-2 {
				return nil, p.errHere()
			}
			return &ast.Insert{Table: tn, DefaultValues: true, OnConflict: onConflict, Returning: returning}, nil
		}
	}
	// UPDATE t SET ... FROM list WHERE ... -> update t, list set ... where ...
	var updateFrom int
	if toks[0].is("update") {
		if s := topIndex(toks, 0, eof, func(i int) bool { return toks[i].is("set") }); s >= 0 {
			if f := topIndex(toks, s, eof, func(i int) bool { return toks[i].is("from") }); f >= 0 {
				w := topIndex(toks, f, eof, func(i int) bool { return toks[i].is("where") })
				if w < 0 {
					w = eof
				}
				var nt []token
				nt = append(nt, toks[:s]...)
				nt = append(nt, token{kind: tPunct, val: ",", pos: toks[f].pos, end: toks[f].pos})
				nt = append(nt, toks[f+1:w]...)
				nt = append(nt, toks[s:f]...)
				nt = append(nt, toks[w:]...)
				toks = nt
				updateFrom = 1
			}
		}
	}
	// DELETE FROM t [AS a] USING list -> delete from a using t as a, list
	var deleteUsing bool
	if toks[0].is("delete") && at(1).is("from") {
		if u := topIndex(toks, 2, eof, func(i int) bool { return toks[i].is("using") }); u >= 0 {
			target := toks[2:u]
			alias := target[len(target)-1]
			var nt []token
			nt = append(nt, toks[0], toks[1], alias)
			nt = append(nt, toks[u])
			nt = append(nt, target...)
			nt = append(nt, token{kind: tPunct, val: ",", pos: toks[u].pos, end: toks[u].pos})
			nt = append(nt, toks[u+1:]...)
			toks = nt
			deleteUsing = true
		}
	}
	node, c, err := runTiDB(src, toks)
	if err != nil {
		return nil, err
	}
	var out ast.Statement
	switch n := node.(type) {
	case *tast.InsertStmt:
		s, err := c.insert(n)
		if err != nil {
			return nil, locate(err, src, toks[0].pos)
		}
		ins := s.(*ast.Insert)
		ins.OnConflict, ins.Returning = onConflict, returning
		out = ins
	case *tast.UpdateStmt:
		if updateFrom == 1 && n.TableRefs != nil && n.TableRefs.TableRefs != nil {
			list, err := c.fromList(n.TableRefs.TableRefs)
			if err != nil {
				return nil, locate(err, src, toks[0].pos)
			}
			tn, ok := list[0].(*ast.TableName)
			if !ok || len(list) < 2 {
				return nil, syntaxErrorAt(src, toks[0].pos)
			}
			u := &ast.Update{Table: tn, From: list[1:], Returning: returning}
			if u.Set, err = c.assignments(n.List); err != nil {
				return nil, locate(err, src, toks[0].pos)
			}
			if u.Where, err = c.exprOpt(n.Where); err != nil {
				return nil, locate(err, src, toks[0].pos)
			}
			return u, nil
		}
		s, err := c.update(n)
		if err != nil {
			return nil, locate(err, src, toks[0].pos)
		}
		s.(*ast.Update).Returning = returning
		out = s
	case *tast.DeleteStmt:
		if deleteUsing {
			list, err := c.fromList(n.TableRefs.TableRefs)
			if err != nil {
				return nil, locate(err, src, toks[0].pos)
			}
			tn, ok := list[0].(*ast.TableName)
			if !ok {
				return nil, syntaxErrorAt(src, toks[0].pos)
			}
			d := &ast.Delete{Table: tn, Using: list[1:], Returning: returning}
			if d.Where, err = c.exprOpt(n.Where); err != nil {
				return nil, locate(err, src, toks[0].pos)
			}
			return d, nil
		}
		s, err := c.delete(n)
		if err != nil {
			return nil, locate(err, src, toks[0].pos)
		}
		s.(*ast.Delete).Returning = returning
		out = s
	default:
		return nil, syntaxErrorAt(src, toks[0].pos)
	}
	return out, nil
}

// parseOnConflict parses the tokens after ON CONFLICT, up to hi.
func parseOnConflict(src string, toks []token, lo, hi int) (*ast.OnConflict, error) {
	p := &gp{src: src, toks: withEOF(toks[:hi], toks[hi].pos), i: lo}
	oc := &ast.OnConflict{}
	if p.peek().isP("(") {
		cols, err := p.nameList()
		if err != nil {
			return nil, err
		}
		oc.Columns = cols
		if p.peek().is("where") {
			return nil, sqlerr.Unsupported("ON CONFLICT with an index predicate is not supported").WithPosition(charPos(src, p.peek().pos))
		}
	} else if p.peek().is("on") {
		return nil, sqlerr.Unsupported("ON CONFLICT ON CONSTRAINT is not supported").WithPosition(charPos(src, p.peek().pos))
	}
	if err := p.expect("do"); err != nil {
		return nil, err
	}
	if p.accept("nothing") {
		oc.DoNothing = true
		return oc, p.end()
	}
	if err := p.expect("update"); err != nil {
		return nil, err
	}
	if err := p.expect("set"); err != nil {
		return nil, err
	}
	eof := len(p.toks) - 1
	w := topIndex(p.toks, p.i, eof, func(i int) bool { return p.toks[i].is("where") })
	setEnd := eof
	if w >= 0 {
		setEnd = w
	}
	for _, part := range splitTopToks(p.toks, p.i, setEnd) {
		a, b := part[0], part[1]
		if b-a < 3 || (p.toks[a].kind != tIdent && p.toks[a].kind != tQIdent) || !p.toks[a+1].isP("=") {
			return nil, syntaxErrorAt(src, p.toks[min(a+1, eof)].pos)
		}
		var v ast.Expr
		if b-a == 3 && p.toks[a+2].is("default") {
			v = &ast.DefaultExpr{}
		} else {
			e, err := parseExprToks(src, p.toks, a+2, b)
			if err != nil {
				return nil, err
			}
			v = e
		}
		oc.Set = append(oc.Set, &ast.Assignment{Column: p.toks[a].val, Value: v})
	}
	if w >= 0 {
		e, err := parseExprToks(src, p.toks, w+1, eof)
		if err != nil {
			return nil, err
		}
		oc.Where = e
	}
	return oc, nil
}

// splitTopToks splits toks[lo:hi] on depth-0 commas.
func splitTopToks(toks []token, lo, hi int) [][2]int {
	var parts [][2]int
	start := lo
	depth := 0
	for i := lo; i < hi; i++ {
		t := toks[i]
		switch {
		case t.isP("(") || t.isP("["):
			depth++
		case t.isP(")") || t.isP("]"):
			depth--
		case depth == 0 && t.isP(","):
			parts = append(parts, [2]int{start, i})
			start = i + 1
		}
	}
	return append(parts, [2]int{start, hi})
}
