package server

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Syncer is an optional Session capability, discovered by type assertion:
// Sync is called for each extended-protocol Sync message, before
// ReadyForQuery, to end the implicit transaction the preceding messages ran
// in. An error is reported to the client before ReadyForQuery.
type Syncer interface {
	Sync(ctx context.Context) error
}

// parse handles Parse: a named statement must not exist yet; the unnamed
// one is replaced. A Parse carries at most one statement.
func (c *conn) parse(m *pgproto3.Parse) *sqlerr.Error {
	if m.Name != "" && c.stmts[m.Name] != nil {
		return sqlerr.New(sqlerr.DuplicatePreparedStatement, "prepared statement %q already exists", m.Name)
	}
	stmts, err := c.sess.Parse(c.ctx, m.Query, m.ParameterOIDs)
	if err != nil {
		return sqlerr.From(err)
	}
	if len(stmts) > 1 {
		return sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	ps := &prepared{name: m.Name}
	if len(stmts) == 1 {
		ps.stmt = stmts[0]
	}
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// bind handles Bind: decode the parameters with the statement's types and
// create the portal (a named one must not exist; the unnamed is replaced).
func (c *conn) bind(m *pgproto3.Bind) *sqlerr.Error {
	ps := c.stmts[m.PreparedStatement]
	if ps == nil {
		return sqlerr.New(sqlerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if m.DestinationPortal == "" {
		c.closePortal("")
	} else if c.portals[m.DestinationPortal] != nil {
		return sqlerr.New(sqlerr.DuplicateCursor, "portal %q already exists", m.DestinationPortal)
	}
	p := &portal{name: m.DestinationPortal, stmt: ps.stmt}
	if ps.stmt == nil {
		if len(m.Parameters) != 0 {
			return sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires 0", len(m.Parameters), ps.name)
		}
	} else {
		params, serr := decodeParams(ps.stmt.ParamTypes(), m.ParameterFormatCodes, m.Parameters, ps.name, c.loc)
		if serr != nil {
			return serr
		}
		formats, serr := resolveFormats(m.ResultFormatCodes, len(ps.stmt.Columns()))
		if serr != nil {
			return serr
		}
		p.params, p.formats = params, formats
	}
	c.portals[p.name] = p
	c.send(&pgproto3.BindComplete{})
	return nil
}

// describe handles Describe of a statement (ParameterDescription, then
// RowDescription in text format or NoData) or of a portal (RowDescription
// with the portal's formats, or NoData).
func (c *conn) describe(m *pgproto3.Describe) *sqlerr.Error {
	switch m.ObjectType {
	case 'S':
		ps := c.stmts[m.Name]
		if ps == nil {
			return sqlerr.New(sqlerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.Name)
		}
		var oids []uint32
		var cols []Column
		if ps.stmt != nil {
			pts := ps.stmt.ParamTypes()
			oids = make([]uint32, len(pts))
			for i, t := range pts {
				oids[i] = t.OID()
			}
			cols = ps.stmt.Columns()
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		c.sendRowDescription(cols, nil)
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return sqlerr.New(sqlerr.InvalidCursorName, "portal %q does not exist", m.Name)
		}
		var cols []Column
		if p.stmt != nil {
			cols = p.stmt.Columns()
		}
		c.sendRowDescription(cols, p.formats)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) sendRowDescription(cols []Column, formats []int16) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	c.send(rowDescription(cols, formats))
}

// execute handles Execute: run or continue the portal.
func (c *conn) execute(m *pgproto3.Execute) *sqlerr.Error {
	p := c.portals[m.Portal]
	if p == nil {
		return sqlerr.New(sqlerr.InvalidCursorName, "portal %q does not exist", m.Portal)
	}
	return c.runPortal(p, m.MaxRows)
}

// closeMsg handles Close; closing what does not exist is not an error.
func (c *conn) closeMsg(m *pgproto3.Close) *sqlerr.Error {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		c.closePortal(m.Name)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// sync handles Sync: the end of an extended-protocol batch and of its
// implicit transaction. Portals do not outlive their transaction: outside a
// transaction block, all are dropped.
func (c *conn) sync() {
	c.ignoreTillSync = false
	if s, ok := c.sess.(Syncer); ok {
		if err := s.Sync(c.ctx); err != nil {
			c.sendError(sqlerr.From(err))
		}
	}
	if c.sess.TxStatus() == 'I' {
		c.closeAllPortals()
	}
	c.sendReady()
	c.flush()
}
