package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
)

// copyIn runs the COPY FROM STDIN sub-protocol: CopyInResponse, then
// CopyData until CopyDone or CopyFail. After a Write error the rest of the
// stream is drained and the error reported at its end, so that the
// connection stays in sync. A read failure or protocol violation while
// copying ends the connection (c.fatal).
func (c *conn) copyIn(ctx context.Context, ci CopyIn) (string, error) {
	format := int16(pgproto3.TextFormat)
	if ci.Binary() {
		format = pgproto3.BinaryFormat
	}
	cols := make([]uint16, max(ci.Columns(), 0))
	for i := range cols {
		cols[i] = uint16(format)
	}
	c.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: cols})
	if err := c.flush(); err != nil {
		ci.Fail("connection lost")
		return "", err
	}
	var werr error
	for {
		msg, err := c.be.Receive()
		if err != nil {
			ci.Fail("connection lost")
			c.fatal = err
			return "", err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if werr == nil {
				// m.Data aliases the read buffer; Write must not retain it.
				werr = ci.Write(ctx, m.Data)
			}
		case *pgproto3.CopyDone:
			if werr != nil {
				ci.Fail(werr.Error())
				return "", werr
			}
			return ci.Done(ctx)
		case *pgproto3.CopyFail:
			ci.Fail(m.Message)
			if werr != nil {
				return "", werr
			}
			return "", sqlerr.New(sqlerr.QueryCanceled, "COPY from stdin failed: %s", m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
			// Ignored during COPY, as PostgreSQL does.
		case *pgproto3.Terminate:
			ci.Fail("connection terminated")
			c.fatal = errTerminate
			return "", errTerminate
		default:
			ci.Fail("protocol violation")
			return "", sqlerr.New(sqlerr.ProtocolViolation, "unexpected message type %s during COPY from stdin", msgName(msg))
		}
	}
}

// copyOut runs the COPY TO STDOUT sub-protocol.
func (c *conn) copyOut(ctx context.Context, co CopyOut) (string, error) {
	format := int16(pgproto3.TextFormat)
	if co.Binary() {
		format = pgproto3.BinaryFormat
	}
	cols := make([]uint16, max(co.Columns(), 0))
	for i := range cols {
		cols[i] = uint16(format)
	}
	c.send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: cols})
	for {
		data, ok, err := co.Next(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		c.send(&pgproto3.CopyData{Data: data})
		if c.werr != nil {
			return "", errClientGone
		}
		if l, ok := co.(Live); ok && l.Buffered() == 0 {
			c.flush()
		}
	}
	c.send(&pgproto3.CopyDone{})
	return co.Tag(), nil
}

func msgName(msg pgproto3.FrontendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}
