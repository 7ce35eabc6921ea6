package parser

import (
	"strconv"

	tast "github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

// Parse splits query into statements (on top-level semicolons, respecting
// quotes, dollar-quoted strings and comments) and parses each. Empty
// statements are skipped. Errors are *sqlerr.Error: 42601 for syntax errors
// with Position the 1-based character offset into query, 42704 for unknown
// type names, 0A000 for recognised constructs Weir does not support.
// Parse is safe for concurrent use.
func Parse(query string) (stmts []Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmts = nil
			err = sqlerr.New(sqlerr.InternalError, "parser failure: %v", r)
		}
	}()
	toks, err := tokenize(query)
	if err != nil {
		return nil, err
	}
	start := 0
	for i, t := range toks {
		if !t.isP(";") && t.kind != tEOF {
			continue
		}
		seg := toks[start:i]
		start = i + 1
		if len(seg) == 0 {
			continue
		}
		st := make([]token, len(seg), len(seg)+1)
		copy(st, seg)
		st = append(st, token{kind: tEOF, pos: t.pos, end: t.pos})
		node, err := parseStatement(query, st)
		if err != nil {
			return nil, err
		}
		s := Statement{AST: node, SQL: query[seg[0].pos:seg[len(seg)-1].end], Offset: seg[0].pos}
		for _, tk := range seg {
			if tk.kind == tParam {
				if n, err := strconv.Atoi(tk.val); err == nil && n > s.NumParams {
					s.NumParams = n
				}
			}
		}
		stmts = append(stmts, s)
	}
	return stmts, nil
}

// ParseExpr parses one scalar expression (used for column DEFAULT text).
// Errors are as for Parse, positions relative to text.
func ParseExpr(text string) (e ast.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e = nil
			err = sqlerr.New(sqlerr.InternalError, "parser failure: %v", r)
		}
	}()
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, syntaxErrorAt(text, len(text))
	}
	return parseExprToks(text, toks, 0, len(toks)-1)
}

// parseExprToks parses toks[lo:hi] as one expression.
func parseExprToks(src string, toks []token, lo, hi int) (ast.Expr, error) {
	if lo >= hi {
		return nil, syntaxErrorAt(src, toks[min(hi, len(toks)-1)].pos)
	}
	st := make([]token, 0, hi-lo+2)
	st = append(st, token{kind: tIdent, val: "select", pos: toks[lo].pos, end: toks[lo].pos})
	st = append(st, toks[lo:hi]...)
	end := toks[min(hi, len(toks)-1)]
	st = append(st, token{kind: tEOF, pos: end.pos, end: end.pos})
	q, err := parseQueryToks(src, st)
	if err != nil {
		return nil, err
	}
	sc, ok := q.Body.(*ast.SelectCore)
	if !ok || len(sc.Targets) != 1 || sc.Targets[0].Expr == nil || sc.From != nil || sc.Where != nil ||
		sc.GroupBy != nil || sc.Having != nil || q.OrderBy != nil || q.Limit != nil || q.Offset != nil || q.With != nil || sc.Targets[0].Alias != "" {
		return nil, syntaxErrorAt(src, toks[lo].pos)
	}
	return sc.Targets[0].Expr, nil
}

// runTiDB rewrites toks (ending in tEOF) and parses them with TiDB.
func runTiDB(src string, toks []token) (tast.StmtNode, *converter, error) {
	rw := newRewriter(src, toks)
	if err := rw.rewrite(0, len(rw.toks)); err != nil {
		return nil, nil, err
	}
	node, _, starts, err := rw.parseTiDB()
	if err != nil {
		return nil, nil, err
	}
	return node, &converter{rw: rw, starts: starts}, nil
}

// parseQueryToks parses toks (ending in tEOF) as a query.
func parseQueryToks(src string, toks []token) (*ast.Query, error) {
	node, c, err := runTiDB(src, toks)
	if err != nil {
		return nil, err
	}
	rs, ok := node.(tast.ResultSetNode)
	if !ok {
		return nil, syntaxErrorAt(src, toks[0].pos)
	}
	switch node.(type) {
	case *tast.SelectStmt, *tast.SetOprStmt:
	default:
		return nil, syntaxErrorAt(src, toks[0].pos)
	}
	q, err := c.query(rs)
	if err != nil {
		return nil, locate(err, src, toks[0].pos)
	}
	q.EmitChanges, q.EmitOnWindowClose = c.rw.emitChanges, c.rw.emitFinal
	return q, nil
}

// locate gives a position to a positionless conversion error.
func locate(err error, src string, off int) error {
	e := sqlerr.From(err)
	if e.Position == 0 {
		e = e.WithPosition(charPos(src, off))
	}
	return e
}

// parseStatement parses one statement's tokens (ending in tEOF).
func parseStatement(src string, toks []token) (ast.Statement, error) {
	first := toks[0]
	if first.isP("(") {
		return parseQueryToks(src, toks)
	}
	if first.kind != tIdent {
		return nil, syntaxErrorAt(src, first.pos)
	}
	switch first.val {
	case "select", "with", "values":
		return parseQueryToks(src, toks)
	case "table":
		// TABLE name = SELECT * FROM name
		if len(toks) == 3 && (toks[1].kind == tIdent || toks[1].kind == tQIdent) {
			st := []token{{kind: tIdent, val: "select", pos: first.pos}, {kind: tOp, val: "*", pos: first.pos},
				{kind: tIdent, val: "from", pos: first.pos}, toks[1], toks[2]}
			return parseQueryToks(src, st)
		}
		return nil, syntaxErrorAt(src, first.pos)
	case "insert":
		if ins, ok := fastInsert(toks); ok {
			return ins, nil
		}
		return parseDML(src, toks)
	case "update", "delete":
		return parseDML(src, toks)
	}
	p := &gp{src: src, toks: toks}
	return p.statement()
}
