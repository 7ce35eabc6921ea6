package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/sql/sqlerr"
)

const (
	// flushThreshold is how much output is buffered before it is written
	// even though the client has not asked for it (Sync, Flush,
	// ReadyForQuery).
	flushThreshold = 32 << 10
	// startupTimeout bounds the time from accept to a completed startup
	// (PostgreSQL's authentication_timeout).
	startupTimeout = time.Minute
)

var (
	// errCanceledByUser is the cause of a statement cancelled by a
	// CancelRequest, and the error the client sees.
	errCanceledByUser = sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
	// errClientGone cancels the running statement of a client that
	// disconnected.
	errClientGone = errors.New("client disconnected")
	// errTerminate ends the connection loop on a Terminate message.
	errTerminate = errors.New("terminate")
)

// conn is one client connection. serve runs on the connection's own
// goroutine and everything but secretMatches and cancelStatement is called
// from it alone.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger
	rd  *connReader
	be  *pgproto3.Backend

	pid    uint32
	secret [4]byte

	// ctx is the connection's context: cancelled when the client goes
	// away, when the connection ends, or by a forced shutdown.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu         sync.Mutex // guards stmtCancel
	stmtCancel context.CancelCauseFunc
	// stmtBase is the parent of every statement's context: ctx with the
	// notice function, made once.
	stmtBase context.Context

	sess Session

	wbuf  []byte
	werr  error // first write error; the connection is dead after it
	fatal error // ends the loop: a FATAL error was sent, or reading failed outside loop

	stmts          map[string]*prepared
	portals        map[string]*portal
	ignoreTillSync bool

	tz  string
	loc *time.Location

	enc encoder
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		wbuf:    make([]byte, 0, 4096),
		stmts:   make(map[string]*prepared),
		portals: make(map[string]*portal),
		loc:     time.UTC,
	}
	_, _ = rand.Read(c.secret[:])
	c.ctx, c.cancel = context.WithCancelCause(s.base)
	c.rd = newConnReader(nc, func(err error) { c.cancel(errClientGone) })
	c.be = pgproto3.NewBackend(c.rd, io.Discard) // output goes through c.send
	c.be.SetMaxBodyLen(s.opts.MaxMessageSize)
	return c
}

// secretMatches compares a CancelRequest's key in constant time.
func (c *conn) secretMatches(key []byte) bool {
	return subtle.ConstantTimeCompare(c.secret[:], key) == 1
}

// cancelStatement cancels the running statement, if any, with cause.
func (c *conn) cancelStatement(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmtCancel != nil {
		c.stmtCancel(cause)
	}
}

// beginStatement returns the context of one statement execution, which a
// CancelRequest cancels and which carries the notice function (see
// Notice); endStatement must be called when it stops running.
func (c *conn) beginStatement() context.Context {
	if c.stmtBase == nil {
		c.stmtBase = WithNotice(c.ctx, c.noticeNow)
	}
	ctx, cancel := context.WithCancelCause(c.stmtBase)
	c.mu.Lock()
	c.stmtCancel = cancel
	c.mu.Unlock()
	c.rd.startStatement()
	return ctx
}

// endStatement ends the statement beginStatement began.
func (c *conn) endStatement() {
	c.rd.endStatement()
	c.mu.Lock()
	cancel := c.stmtCancel
	c.stmtCancel = nil
	c.mu.Unlock()
	cancel(nil)
}

// serve runs the connection to its end. It never panics: a panic in the
// protocol code or the engine is logged with its stack and ends only this
// connection, with FATAL XX000.
func (c *conn) serve() {
	defer func() {
		c.cancel(nil)
		c.nc.Close()
		c.rd.close()
	}()
	defer c.cleanup()
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic serving connection", "panic", p, "stack", string(debug.Stack()))
			c.wbuf = c.wbuf[:0]
			c.sendError(&sqlerr.Error{Code: sqlerr.InternalError, Severity: "FATAL",
				Message: fmt.Sprintf("internal error: %v", p)})
			_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			c.flush()
		}
	}()

	timer := time.AfterFunc(startupTimeout, func() { c.nc.Close() })
	ok := c.startup()
	if !timer.Stop() || !ok {
		return
	}
	err := c.loop()
	switch {
	case err == nil, errors.Is(err, errTerminate):
	case errors.Is(err, errShutdown):
		c.sendError(errAdminShutdown)
		c.flush()
	case isNetworkError(err):
		c.log.Debug("connection closed", "err", err)
	default:
		// A malformed, oversized or unknown message: the stream can no
		// longer be trusted to be in sync.
		c.log.Info("protocol violation", "err", err)
		c.sendError(&sqlerr.Error{Code: sqlerr.ProtocolViolation, Severity: "FATAL", Message: err.Error()})
		c.flush()
	}
}

// cleanup releases portals and the session; the engine's Close methods are
// not trusted not to panic.
func (c *conn) cleanup() {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic closing session", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	for name := range c.portals {
		c.closePortal(name)
	}
	if c.sess != nil {
		c.sess.Close()
	}
}

func isNetworkError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, errClientGone) || errors.As(err, &ne)
}

// startup runs the startup phase up to the first ReadyForQuery; false ends
// the connection.
func (c *conn) startup() bool {
	c.rd.interruptible = true
	for attempts := 0; ; attempts++ {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isNetworkError(err) && !errors.Is(err, errShutdown) {
				c.sendError(&sqlerr.Error{Code: sqlerr.ProtocolViolation, Severity: "FATAL", Message: err.Error()})
				c.flush()
			}
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// No TLS or GSSAPI encryption yet: refuse, and the client
			// continues in plain text (or gives up, if it requires it).
			if attempts > 2 {
				return false
			}
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return false
		case *pgproto3.StartupMessage:
			return c.startSession(m)
		default:
			return false
		}
	}
}

func (c *conn) startSession(m *pgproto3.StartupMessage) bool {
	params := make(map[string]string, len(m.Parameters))
	var unrecognized []string
	for k, v := range m.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unrecognized = append(unrecognized, k)
			continue
		}
		params[k] = v
	}
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unrecognized) > 0 {
		// We speak 3.0 and no protocol extensions, as PostgreSQL 15 does.
		sort.Strings(unrecognized)
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	if params["user"] == "" {
		c.sendError(&sqlerr.Error{Code: sqlerr.InvalidAuthorization, Severity: "FATAL",
			Message: "no PostgreSQL user name specified in startup packet"})
		c.flush()
		return false
	}
	if params["database"] == "" {
		params["database"] = params["user"]
	}
	if err := c.authenticate(params); err != nil {
		e := *sqlerr.From(err)
		e.Severity = "FATAL"
		c.sendError(&e)
		c.flush()
		return false
	}
	sess, err := c.srv.eng.NewSession(c.ctx, params)
	if err != nil {
		e := *sqlerr.From(err)
		e.Severity = "FATAL"
		c.sendError(&e)
		c.flush()
		return false
	}
	c.sess = sess
	c.log = c.log.With("pid", c.pid, "user", params["user"])
	c.send(&pgproto3.AuthenticationOk{})
	c.sendParameters(sess.Parameters())
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.sendReady()
	return c.flush() == nil
}

// authenticate is the seam for authentication: it runs before the session
// exists and may exchange messages with the client through c.be and
// c.send/c.flush. Today every user is accepted without a password;
// AuthenticationOk is sent by the caller.
func (c *conn) authenticate(params map[string]string) error {
	return nil
}

// sendParameters sends ParameterStatus for each entry, in name order, and
// follows TimeZone for the text encoding of timestamptz.
func (c *conn) sendParameters(ps map[string]string) {
	if len(ps) == 0 {
		return
	}
	names := make([]string, 0, len(ps))
	for k := range ps {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c.send(&pgproto3.ParameterStatus{Name: k, Value: ps[k]})
	}
	if tz, ok := ps["TimeZone"]; ok && tz != c.tz {
		c.tz = tz
		c.loc = c.location(tz)
	}
}

// location resolves a TimeZone setting: by the session when it can tell
// (it accepts offsets such as '+02:00' that Go's tz database does not), else
// by name, falling back to UTC (the coordinator validates SET TimeZone).
func (c *conn) location(tz string) *time.Location {
	if l, ok := c.sess.(Locator); ok {
		if loc := l.Location(); loc != nil {
			return loc
		}
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// reportChanged sends the session variables a statement changed.
func (c *conn) reportChanged() {
	c.sendParameters(c.sess.Changed())
}

func (c *conn) sendReady() {
	if c.fatal != nil {
		return // the connection ends; no ReadyForQuery after FATAL
	}
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
}

// send buffers msg for the client, writing out when the buffer is large.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.werr != nil {
		return
	}
	b, err := msg.Encode(c.wbuf)
	if err != nil {
		c.werr = fmt.Errorf("encoding %T: %w", msg, err)
		c.cancel(c.werr)
		return
	}
	c.wbuf = b
	if len(c.wbuf) >= flushThreshold {
		c.flush()
	}
}

// flush writes the buffered output. After a write error the connection is
// dead: the error sticks, and the running statement is cancelled.
func (c *conn) flush() error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > 1<<20 {
		c.wbuf = make([]byte, 0, 4096)
	} else {
		c.wbuf = c.wbuf[:0]
	}
	if err != nil {
		c.werr = err
		c.cancel(errClientGone)
	}
	return err
}

// sendError sends e as ErrorResponse.
func (c *conn) sendError(e *sqlerr.Error) {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	code := string(e.Code)
	if len(code) != 5 {
		code = string(sqlerr.InternalError)
	}
	if sev == "FATAL" && c.fatal == nil {
		// PostgreSQL ends the session after any FATAL error.
		c.fatal = errTerminate
	}
	msg := &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
	}
	if e.Position > 0 {
		msg.Position = int32(min(e.Position, 1<<31-1))
	}
	c.send(msg)
}

// statementError turns a statement's failure into the error the client
// sees: a statement cancelled by a CancelRequest or a shutdown reports
// that, whatever the engine made of its cancelled context.
func statementError(ctx context.Context, err error) *sqlerr.Error {
	if ctx.Err() != nil {
		var cause *sqlerr.Error
		if errors.As(context.Cause(ctx), &cause) {
			e := sqlerr.From(err)
			if errors.Is(err, context.Canceled) || e.Code == sqlerr.InternalError || e.Code == sqlerr.QueryCanceled {
				c := *cause
				c.Severity = "" // a forced shutdown cancels with FATAL, but the statement fails with ERROR first
				return &c
			}
		}
	}
	return sqlerr.From(err)
}

// loop reads and dispatches messages until the connection ends. It returns
// the reason: errTerminate, a read error or a protocol violation.
func (c *conn) loop() error {
	for {
		if c.werr != nil {
			return c.werr
		}
		if c.fatal != nil {
			return c.fatal
		}
		c.rd.interruptible = true
		msg, err := c.be.Receive()
		c.rd.interruptible = false
		if err != nil {
			return err
		}
		if c.ignoreTillSync {
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate:
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
		case *pgproto3.Parse:
			c.extended(c.parse(m))
		case *pgproto3.Bind:
			c.extended(c.bind(m))
		case *pgproto3.Describe:
			c.extended(c.describe(m))
		case *pgproto3.Execute:
			c.extended(c.execute(m))
		case *pgproto3.Close:
			c.extended(c.closeMsg(m))
		case *pgproto3.Sync:
			c.sync()
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.Terminate:
			return errTerminate
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Left over from a COPY that failed: ignored, as PostgreSQL does.
		case *pgproto3.FunctionCall:
			c.sendError(sqlerr.Unsupported("function call protocol is not supported"))
			c.sendReady()
			c.flush()
		default:
			return fmt.Errorf("unexpected message type %T", msg)
		}
	}
}

// extended finishes an extended-protocol message: on error, the error is
// sent and messages are discarded until Sync.
func (c *conn) extended(err *sqlerr.Error) {
	if err != nil {
		c.sendError(err)
		c.ignoreTillSync = true
	}
}
