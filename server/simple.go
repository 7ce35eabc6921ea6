package server

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
)

// simpleQuery runs a Query message: every statement of the string in
// order, each as RowDescription, DataRows and CommandComplete, stopping at
// the first error; then ReadyForQuery.
func (c *conn) simpleQuery(query string) {
	// A Query drops the unnamed statement and portal, as in PostgreSQL.
	delete(c.stmts, "")
	c.closePortal("")
	defer func() {
		if c.sess.TxStatus() == 'I' {
			c.closeAllPortals()
		}
		c.sendReady()
		c.flush()
	}()

	stmts, err := c.sess.Parse(c.ctx, query, nil)
	if err != nil {
		c.sendError(sqlerr.From(err))
		c.reportChanged()
		return
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, stmt := range stmts {
		p := &portal{stmt: stmt}
		if n := len(stmt.ParamTypes()); n > 0 {
			c.sendError(sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", n))
			return
		}
		if cols := stmt.Columns(); cols != nil {
			c.send(rowDescription(cols, nil))
		}
		if serr := c.runPortal(p, 0); serr != nil {
			c.sendError(serr)
			return
		}
		if c.werr != nil || c.fatal != nil {
			return
		}
	}
}
