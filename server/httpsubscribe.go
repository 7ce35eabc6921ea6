package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// GET /v1/subscribe?q=<push query> (or POST with {"sql": "..."}) streams
// the changes of a push query (SELECT ... EMIT CHANGES) as they happen:
// the current rows as inserts, then every insert and delete (an update is
// a delete then an insert), until the client goes away or the query's
// LIMIT is reached. Two formats, by Accept:
//
// text/event-stream (the default), Server-Sent Events:
//
//	retry: 2000
//
//	id: 5f3a9c01b2e4.17.1
//	event: insert
//	data: {"client_id":"c42","n":1}
//
// with a comment line every sseHeartbeat while nothing changes, "event:
// end" (data {"tag": "SELECT n"}) when the LIMIT is reached and "event:
// error" (data: the API's error object) when the query fails mid-stream.
//
// application/x-ndjson, one object a line: {"op":"insert","row":{...}},
// then {"end":{"tag":"SELECT n"}} or {"error":{...}}.
//
// Event ids are the rows' positions when the engine gives them
// (Positioned), else a count. A client that reconnects with Last-Event-ID
// resumes exactly after it when the engine can (Resumer: a query that
// keeps no state, from a position still retained); otherwise it gets
// "event: reset" first (drop every row you hold), then the current rows
// as inserts again: it misses no state, but not the individual changes
// made while it was away.
//
// Errors before the stream starts are answered as JSON, like the other
// endpoints: 400 with the SQLSTATE for a statement that is not a push
// query or fails to plan.

// sseHeartbeat is how often an idle SSE stream gets a comment line, so
// that proxies and load balancers do not close it for inactivity.
const sseHeartbeat = 15 * time.Second

// sseRetry is the reconnection delay, in milliseconds, that an SSE stream
// asks EventSource to wait.
const sseRetry = 2000

// streamWriteTimeout bounds each write to a stream: a client that stops
// reading for this long is disconnected, rather than holding its request
// and its subscription (dropped anyway once it falls too far behind)
// forever.
const streamWriteTimeout = 30 * time.Second

// Media types of the two stream formats.
const (
	mediaSSE    = "text/event-stream"
	mediaNDJSON = "application/x-ndjson"
)

// errShuttingDown ends the streams of a server that is shutting down, so
// that their clients reconnect to another one instead of holding up the
// shutdown until its grace is over.
var errShuttingDown = sqlerr.New(sqlerr.AdminShutdown, "terminating the stream because the server is shutting down")

// serveSubscribe serves /v1/subscribe.
func (s *Server) serveSubscribe(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	format, serr := streamFormat(r.Header.Values("Accept"))
	if serr != nil {
		writeAPIError(w, http.StatusNotAcceptable, serr)
		return
	}
	query, serr := subscribeQuery(r)
	if serr != nil {
		writeAPIError(w, http.StatusBadRequest, serr)
		return
	}
	sess, ok := s.apiSession(ctx, w)
	if !ok {
		return
	}
	defer sess.Close()
	st, serr := parsePushQuery(ctx, sess, query)
	if serr != nil {
		writeAPIError(w, apiStatus(serr), serr)
		return
	}

	ctx, cancel := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-s.draining:
			cancel(errShuttingDown)
		case <-ctx.Done():
		}
	}()
	defer func() {
		cancel(nil)
		<-watched
	}()

	start := time.Now()
	lastID := r.Header.Get("Last-Event-ID")
	var res Result
	var err error
	resumed := false
	if rs, ok := sess.(Resumer); ok && lastID != "" {
		res, resumed, err = rs.ExecuteFrom(ctx, st, nil, lastID)
	} else {
		res, err = sess.Execute(ctx, st, nil)
	}
	if err != nil {
		e := statementError(ctx, err)
		s.countStatement(st, start, e)
		writeAPIError(w, apiStatus(e), e)
		return
	}
	defer res.Close()

	h := w.Header()
	h.Set("Content-Type", format)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through as they come
	w.WriteHeader(http.StatusOK)
	out := &changeStream{w: w, rc: http.NewResponseController(w), sse: format == mediaSSE}
	defer out.rc.SetWriteDeadline(time.Time{}) // none for the connection's next request
	if out.sse {
		out.prelude(lastID != "" && !resumed)
		stop := out.heartbeat(sseHeartbeat)
		defer stop()
	} else {
		_ = out.rc.Flush()
	}
	serr = out.copy(ctx, res, st.Columns(), sessionLocation(sess))
	var cause *sqlerr.Error
	gone := out.gone() || ctx.Err() != nil && !errors.As(context.Cause(ctx), &cause)
	if gone {
		serr = nil // nobody left to tell
	}
	s.countStatement(st, start, serr)
	switch {
	case serr != nil:
		out.fail(serr) // a shutdown's cause included
	case !gone && ctx.Err() == nil:
		out.end(res.Tag())
	}
}

// countStatement records a statement of the API in the server's metrics.
func (s *Server) countStatement(st Statement, start time.Time, serr *sqlerr.Error) {
	kind, outcome := statementKind(st.SQL()), "ok"
	if serr != nil {
		outcome = "error"
	}
	s.met.statements.WithLabelValues(kind, outcome).Inc()
	s.met.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// streamFormat picks the format of the stream from the Accept headers:
// the supported type of highest quality, the first listed on a tie, SSE
// when the client accepts anything. An Accept that admits neither format
// is refused.
func streamFormat(accept []string) (string, *sqlerr.Error) {
	if len(accept) == 0 {
		return mediaSSE, nil
	}
	best, bestQ := "", 0.0
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil {
					continue
				}
			}
			var got string
			switch mt {
			case mediaSSE, "text/*", "*/*":
				got = mediaSSE
			case mediaNDJSON, "application/jsonl":
				got = mediaNDJSON
			}
			if got != "" && q > bestQ {
				best, bestQ = got, q
			}
		}
	}
	if best == "" {
		return "", sqlerr.New(errRequest, "none of the accepted media types can carry a stream of changes").
			WithHint("Accept text/event-stream (Server-Sent Events) or application/x-ndjson.")
	}
	return best, nil
}

// subscribeQuery is the push query of a request: ?q= of a GET, the "sql"
// of a POST's JSON body (or the body itself as text, as /v1/sql takes it).
func subscribeQuery(r *http.Request) (string, *sqlerr.Error) {
	if r.Method == http.MethodGet {
		q, ok := r.URL.Query()["q"]
		if !ok || len(q) != 1 {
			return "", sqlerr.New(errRequest, "GET /v1/subscribe needs one query parameter q").
				WithHint("GET /v1/subscribe?q=SELECT+...+EMIT+CHANGES")
		}
		return q[0], nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		_, serr := bodyError(err)
		return "", serr
	}
	req, serr := decodeSQLRequest(r.Header.Get("Content-Type"), body)
	if serr != nil {
		return "", serr
	}
	if len(req.Params) > 0 {
		return "", sqlerr.Unsupported(`"params" are not supported by /v1/subscribe`).
			WithHint("Write the values into the query.")
	}
	return *req.SQL, nil
}

// parsePushQuery prepares query, which must be one push query.
func parsePushQuery(ctx context.Context, sess Session, query string) (Statement, *sqlerr.Error) {
	stmts, err := sess.Parse(ctx, query, nil)
	if err != nil {
		return nil, sqlerr.From(err)
	}
	if len(stmts) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "/v1/subscribe takes one statement, not %d", len(stmts))
	}
	st := stmts[0]
	if p, ok := st.(PushQuery); !ok || !p.PushQuery() {
		return nil, sqlerr.Unsupported("/v1/subscribe runs only push queries (SELECT ... EMIT CHANGES)").
			WithHint("End the query with EMIT CHANGES, or run it with POST /v1/sql.")
	}
	if len(st.ParamTypes()) > 0 {
		return nil, sqlerr.New(sqlerr.UndefinedParameter, "the query has %d parameters, but /v1/subscribe takes none", len(st.ParamTypes()))
	}
	cols := st.Columns()
	if len(cols) == 0 || cols[0].Name != "op" {
		return nil, sqlerr.New(sqlerr.InternalError, "a push query's rows do not start with the op column")
	}
	return st, nil
}

// changeStream writes the events of one stream. Its methods may be called
// from the request's goroutine and from the heartbeat's: mu serializes
// the writes.
type changeStream struct {
	mu   sync.Mutex
	w    http.ResponseWriter
	rc   *http.ResponseController
	sse  bool
	id   uint64 // the last event's number
	buf  []byte
	werr error // the write that failed: the client is gone or stuck
	// positioned gives each row's position, its event id (see Resumer).
	positioned Positioned
}

// position is the position of the row being written, or "".
func (c *changeStream) position() string {
	if c.positioned == nil {
		return ""
	}
	return c.positioned.Position()
}

// gone reports whether a write failed.
func (c *changeStream) gone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.werr != nil
}

// prelude starts an SSE stream: the reconnection delay and, for a client
// resuming after Last-Event-ID, the reset that tells it to drop what it
// holds, since the stream restarts from the current rows.
func (c *changeStream) prelude(resumed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf[:0], "retry: "...)
	c.buf = strconv.AppendInt(c.buf, sseRetry, 10)
	c.buf = append(c.buf, "\n\n"...)
	if resumed {
		c.buf = append(c.buf, "event: reset\ndata: {\"reason\":\"the stream cannot resume after Last-Event-ID (the query keeps state, or the position is too old or from before a restart): the current rows follow\"}\n\n"...)
	}
	c.write(true)
}

// heartbeat writes a comment line every d until stop is called; stop
// waits for the goroutine to end.
func (c *changeStream) heartbeat(d time.Duration) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.mu.Lock()
				c.buf = append(c.buf[:0], ": heartbeat\n\n"...)
				c.write(true)
				c.mu.Unlock()
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// copy streams the rows of res (op, then the columns cols[1:]) until it
// ends or fails, flushing whenever no further row is ready.
func (c *changeStream) copy(ctx context.Context, res Result, cols []Column, loc *time.Location) *sqlerr.Error {
	live, _ := res.(Live)
	c.positioned, _ = res.(Positioned)
	for {
		row, ok, err := res.Next(ctx)
		if err != nil {
			return statementError(ctx, err)
		}
		if !ok {
			return nil
		}
		c.mu.Lock()
		c.buf = c.buf[:0]
		c.change(row, cols, loc)
		c.write(live == nil || live.Buffered() == 0)
		failed := c.werr != nil
		c.mu.Unlock()
		if failed {
			return nil
		}
	}
}

// change appends one change as an event or a line.
func (c *changeStream) change(row types.Row, cols []Column, loc *time.Location) {
	op := row[0].Str()
	if c.sse {
		c.id++
		// The row's position, from which the query resumes; else a
		// count, which only tells a reconnecting client to start over.
		if pos := c.position(); pos != "" {
			c.buf = append(c.buf, "id: "...)
			c.buf = append(c.buf, pos...)
		} else {
			c.buf = append(c.buf, "id: "...)
			c.buf = strconv.AppendUint(c.buf, c.id, 10)
		}
		c.buf = append(c.buf, "\nevent: "...)
		c.buf = append(c.buf, op...)
		c.buf = append(c.buf, "\ndata: "...)
	} else {
		c.buf = append(c.buf, `{"op":`...)
		c.buf = types.AppendJSONString(c.buf, op)
		c.buf = append(c.buf, `,"row":`...)
	}
	// The JSON is one line: AppendJSONString escapes newlines, so that an
	// SSE data field needs no splitting.
	c.buf = append(c.buf, '{')
	for i, d := range row[1:] {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = types.AppendJSONString(c.buf, cols[i+1].Name)
		c.buf = append(c.buf, ':')
		c.buf = appendJSONValue(c.buf, d, loc)
	}
	c.buf = append(c.buf, '}')
	if c.sse {
		c.buf = append(c.buf, "\n\n"...)
	} else {
		c.buf = append(c.buf, "}\n"...)
	}
}

// end tells the client that the query is done (its LIMIT reached).
func (c *changeStream) end(tag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.buf[:0]
	if c.sse {
		c.buf = append(c.buf, "event: end\ndata: "...)
	} else {
		c.buf = append(c.buf, `{"end":`...)
	}
	c.buf = append(c.buf, `{"tag":`...)
	c.buf = types.AppendJSONString(c.buf, tag)
	c.buf = append(c.buf, '}')
	if !c.sse {
		c.buf = append(c.buf, '}')
	}
	c.close()
}

// fail tells the client the error that ended the stream.
func (c *changeStream) fail(e *sqlerr.Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.buf[:0]
	if c.sse {
		c.buf = append(c.buf, "event: error\ndata: "...)
		c.buf = appendErrorJSON(c.buf, e)
	} else {
		c.buf = append(c.buf, `{"error":`...)
		c.buf = appendErrorJSON(c.buf, e)
		c.buf = append(c.buf, '}')
	}
	c.close()
}

// close ends the last event or line in buf and writes it out.
func (c *changeStream) close() {
	if c.sse {
		c.buf = append(c.buf, "\n\n"...)
	} else {
		c.buf = append(c.buf, '\n')
	}
	c.write(true)
}

// write sends buf, and flushes when flush is set; after a failed write
// it does nothing. Called with mu held.
func (c *changeStream) write(flush bool) {
	if c.werr != nil {
		return
	}
	// Not supported by every ResponseWriter (a test's recorder): then
	// only a client gone ends a stuck write.
	_ = c.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := c.w.Write(c.buf); err != nil {
		c.werr = err
		return
	}
	if flush {
		c.werr = c.rc.Flush()
	}
}
