package parser

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	tidb "github.com/pingcap/tidb/pkg/parser"
	tast "github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values in TiDB's AST
	"github.com/weirdb/weir/sql/sqlerr"
)

// tidbNear matches the position part of a TiDB syntax error:
// `line 1 column 14 near "rest of text"`.
var tidbNear = regexp.MustCompile(`(?s)line \d+ column \d+ near "(.*)"\s*(\(total length (\d+)\))?\s*$`)

// parseTiDB parses the rewritten text of rw as exactly one TiDB statement.
// Errors are 42601 located in the user's text.
func (rw *rewriter) parseTiDB() (node tast.StmtNode, text string, starts []int, err error) {
	text, starts = rw.render()
	defer func() {
		if r := recover(); r != nil {
			node = nil
			err = sqlerr.New(sqlerr.SyntaxError, "syntax error (internal parser failure: %v)", r)
		}
	}()
	p := tidb.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
	stmts, _, perr := p.ParseSQL(text)
	if perr != nil {
		return nil, text, starts, rw.tidbError(perr, text, starts)
	}
	if len(stmts) != 1 {
		return nil, text, starts, syntaxErrorAt(rw.src, rw.endPos)
	}
	return stmts[0], text, starts, nil
}

// tidbError maps a TiDB parse error into a 42601 in the user's text.
func (rw *rewriter) tidbError(err error, text string, starts []int) error {
	msg := err.Error()
	m := tidbNear.FindStringSubmatch(msg)
	if m == nil {
		return sqlerr.New(sqlerr.SyntaxError, "syntax error: %s", strings.TrimPrefix(msg, "[parser:1064]"))
	}
	rest := len(m[1])
	if m[3] != "" {
		if n, perr := strconv.Atoi(m[3]); perr == nil {
			rest = n
		}
	}
	off := len(text) - rest
	if off >= len(text) {
		return syntaxErrorAt(rw.src, rw.endPos)
	}
	return syntaxErrorAt(rw.src, rw.origOffset(starts, off))
}

// internalErr is for TiDB AST shapes the converter does not expect.
func internalErr(format string, args ...any) error {
	return sqlerr.New(sqlerr.SyntaxError, "%s", fmt.Sprintf(format, args...))
}
