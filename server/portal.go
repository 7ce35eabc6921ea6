package server

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// prepared is a prepared statement: named by Parse, or the unnamed one.
type prepared struct {
	name string
	stmt Statement // nil for an empty query string
}

// portal is a statement bound to its parameters, possibly part-way through
// its rows. The simple protocol runs each statement as an anonymous portal.
type portal struct {
	name    string
	stmt    Statement // nil for an empty query string
	params  []types.Datum
	formats []int16 // per result column; nil means all text

	res     Result // open between the first Execute and completion
	started bool
	done    bool
	tag     string
	elapsed time.Duration
}

// runPortal executes p, or continues it: it sends up to maxRows DataRows (0:
// all) and then PortalSuspended, or the rest and CommandComplete; COPY
// statements run their sub-protocol. It returns the statement's error, the
// caller sends it.
func (c *conn) runPortal(p *portal, maxRows uint32) *sqlerr.Error {
	if p.stmt == nil {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if p.done {
		// A completed portal has no more rows (PostgreSQL answers the same).
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(exhaustedTag(p.tag))})
		return nil
	}
	ctx := c.beginStatement()
	defer c.endStatement()
	start := time.Now()

	if !p.started {
		p.started = true
		res, err := c.sess.Execute(ctx, p.stmt, p.params)
		if err != nil {
			return c.finishPortal(p, start, statementError(ctx, err))
		}
		p.res = res
		if ci := res.CopyIn(); ci != nil {
			tag, err := c.copyIn(ctx, ci)
			if err != nil {
				return c.finishPortal(p, start, statementError(ctx, err))
			}
			p.tag = tag
			c.sendNotices(res)
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
			return c.finishPortal(p, start, nil)
		}
		if co := res.CopyOut(); co != nil {
			tag, err := c.copyOut(ctx, co)
			if err != nil {
				return c.finishPortal(p, start, statementError(ctx, err))
			}
			p.tag = tag
			c.sendNotices(res)
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
			return c.finishPortal(p, start, nil)
		}
	}

	var n uint32
	for maxRows == 0 || n < maxRows {
		row, ok, err := p.res.Next(ctx)
		if err != nil {
			return c.finishPortal(p, start, statementError(ctx, err))
		}
		if !ok {
			p.tag = p.res.Tag()
			c.sendNotices(p.res)
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
			return c.finishPortal(p, start, nil)
		}
		msg, err := c.enc.dataRow(row, p.formats, c.loc)
		if err != nil {
			return c.finishPortal(p, start, statementError(ctx, err))
		}
		c.send(msg)
		if c.werr != nil {
			return c.finishPortal(p, start, sqlerr.From(errClientGone))
		}
		if l, ok := p.res.(Live); ok && l.Buffered() == 0 {
			c.flush()
		}
		n++
	}
	p.elapsed += time.Since(start)
	c.send(&pgproto3.PortalSuspended{})
	return nil
}

// finishPortal closes p's Result, records the statement's metrics and
// returns serr.
func (c *conn) finishPortal(p *portal, start time.Time, serr *sqlerr.Error) *sqlerr.Error {
	p.done = true
	p.elapsed += time.Since(start)
	if p.res != nil {
		p.res.Close()
		p.res = nil
	}
	kind := statementKind(p.stmt.SQL())
	outcome := "ok"
	if serr != nil {
		outcome = "error"
	}
	c.srv.met.statements.WithLabelValues(kind, outcome).Inc()
	c.srv.met.duration.WithLabelValues(kind).Observe(p.elapsed.Seconds())
	c.reportChanged()
	return serr
}

// exhaustedTag is the tag of a further Execute of a completed portal.
func exhaustedTag(tag string) string {
	if strings.HasPrefix(tag, "SELECT ") {
		return "SELECT 0"
	}
	return tag
}

func (c *conn) sendNotices(res Result) {
	for _, n := range res.Notices() {
		c.sendNotice(n)
	}
}

func (c *conn) sendNotice(msg string) {
	c.send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: string(sqlerr.SuccessfulCompletion), Message: msg})
}

// noticeNow is the notice function of a running statement (see Notice):
// it sends msg and flushes, so that the client sees it mid-statement. It
// runs on the connection's goroutine, as everything writing c.wbuf does.
func (c *conn) noticeNow(msg string) {
	c.sendNotice(msg)
	c.flush()
}

// closePortal destroys a portal, closing its Result if it is mid-way.
func (c *conn) closePortal(name string) {
	p := c.portals[name]
	if p == nil {
		return
	}
	delete(c.portals, name)
	if p.res != nil {
		p.res.Close()
		p.res = nil
	}
}

// closeAllPortals ends every portal, as a transaction's end does.
func (c *conn) closeAllPortals() {
	for name := range c.portals {
		c.closePortal(name)
	}
}
