package parser

import (
	"math"
	"strconv"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/types"
)

// fastInsert parses the bulk-load shape `INSERT INTO name [(cols)] VALUES
// (literal, ...), ...` straight from the tokens. Loaders send thousands of
// rows per statement, and going through the normalizer and the TiDB parser
// costs more than executing them. It produces the same AST as the full path
// and reports ok=false for anything else — any expression that is not a
// plain literal, ON CONFLICT, RETURNING — so that the caller falls back.
func fastInsert(toks []token) (ins *ast.Insert, ok bool) {
	i := 0
	at := func(j int) token {
		if j >= len(toks) {
			return token{kind: tEOF}
		}
		return toks[j]
	}
	if !at(0).is("insert") || !at(1).is("into") {
		return nil, false
	}
	i = 2
	name := func() (string, bool) {
		t := at(i)
		if t.kind != tIdent && t.kind != tQIdent {
			return "", false
		}
		i++
		return t.val, true
	}
	tn := &ast.TableName{}
	n, ok := name()
	if !ok {
		return nil, false
	}
	tn.Name = n
	if at(i).isP(".") {
		i++
		if tn.Schema, tn.Name = tn.Name, ""; true {
			if tn.Name, ok = name(); !ok {
				return nil, false
			}
		}
	}
	ins = &ast.Insert{Table: tn}
	if at(i).isP("(") {
		i++
		for {
			c, ok := name()
			if !ok {
				return nil, false
			}
			ins.Columns = append(ins.Columns, c)
			if at(i).isP(")") {
				i++
				break
			}
			if !at(i).isP(",") {
				return nil, false
			}
			i++
		}
	}
	if !at(i).is("values") {
		return nil, false
	}
	i++
	vals := &ast.Values{}
	for {
		if !at(i).isP("(") {
			return nil, false
		}
		i++
		var row []ast.Expr
		for {
			e, ok := fastLiteral(at(i))
			if !ok {
				return nil, false
			}
			i++
			row = append(row, e)
			if at(i).isP(")") {
				i++
				break
			}
			if !at(i).isP(",") {
				return nil, false
			}
			i++
		}
		if len(vals.Rows) > 0 && len(row) != len(vals.Rows[0]) {
			return nil, false // let the full path word the error
		}
		vals.Rows = append(vals.Rows, row)
		if at(i).kind == tEOF {
			break
		}
		if !at(i).isP(",") {
			return nil, false
		}
		i++
	}
	ins.Query = &ast.Query{Body: vals}
	return ins, true
}

// fastLiteral converts a literal token: an unsigned decimal number, a
// string, NULL, TRUE or FALSE; DEFAULT becomes ast.DefaultExpr.
func fastLiteral(t token) (ast.Expr, bool) {
	switch t.kind {
	case tString:
		return &ast.Literal{Value: types.NewUnknown(t.val)}, true
	case tIdent:
		switch t.val {
		case "null":
			return &ast.Literal{Value: types.Null}, true
		case "true":
			return &ast.Literal{Value: types.NewBool(true)}, true
		case "false":
			return &ast.Literal{Value: types.NewBool(false)}, true
		case "default":
			return &ast.DefaultExpr{}, true
		}
	case tNumber:
		dot := false
		for j := 0; j < len(t.val); j++ {
			switch c := t.val[j]; {
			case c == '.' && !dot:
				dot = true
			case c < '0' || c > '9':
				return nil, false // exponents, hex...: the full path decides
			}
		}
		if !dot {
			v, err := strconv.ParseInt(t.val, 10, 64)
			if err != nil {
				e, err := numericLiteral(t.val)
				return e, err == nil
			}
			if v <= math.MaxInt32 {
				return &ast.Literal{Value: types.NewInt32(int32(v))}, true
			}
			return &ast.Literal{Value: types.NewInt64(v)}, true
		}
		e, err := numericLiteral(t.val)
		return e, err == nil
	}
	return nil, false
}
