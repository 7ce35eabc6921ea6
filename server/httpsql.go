package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// maxSQLResult bounds the JSON that POST /v1/sql answers with: the answer
// is built whole before it is sent (its status depends on every
// statement), so a query returning millions of rows is refused rather
// than held in memory. 64 MiB.
const maxSQLResult = 64 << 20

// sqlRequest is the body of POST /v1/sql: statements (one or several,
// separated by semicolons) and, for a single statement, the values of its
// $1..$n.
type sqlRequest struct {
	SQL    *string           `json:"sql"`
	Params []json.RawMessage `json:"params"`
}

// errStatementTimeout is the cause of a statement cancelled by the
// request's timeout, and the error the client sees.
var errStatementTimeout = sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to statement timeout")

// serveSQL runs POST /v1/sql: the statements in order in a fresh session,
// each answered as {"columns": [{"name", "type"}], "rows": [[...]], "tag",
// "notices"} (columns and rows only for statements that return rows,
// notices only when there are some) in {"results": [...]}. The first
// error stops the statements: it is answered with the results before it,
// as {"results": [...], "error": {...}}, with status 400 (500 for an
// internal error, 503 while shutting down). ?timeout=5s bounds each
// statement (else the session's statement_timeout applies). A
// transaction block still open at the end is rolled back.
func (s *Server) serveSQL(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		status, serr := bodyError(err)
		writeAPIError(w, status, serr)
		return
	}
	req, serr := decodeSQLRequest(r.Header.Get("Content-Type"), body)
	if serr != nil {
		writeAPIError(w, http.StatusBadRequest, serr)
		return
	}
	var timeout time.Duration
	if v := r.URL.Query().Get("timeout"); v != "" {
		if timeout, serr = parseTimeout(v); serr != nil {
			writeAPIError(w, http.StatusBadRequest, serr)
			return
		}
	}
	sess, ok := s.apiSession(ctx, w)
	if !ok {
		return
	}
	defer sess.Close()

	out := sqlAnswer{buf: append(make([]byte, 0, 512), `{"results":[`...)}
	serr = s.runSQL(ctx, sess, req, timeout, &out)
	out.mark()
	out.buf = append(out.buf, ']')
	status := http.StatusOK
	if serr != nil {
		status = apiStatus(serr)
		out.buf = append(out.buf, `,"error":`...)
		out.buf = appendErrorJSON(out.buf, serr)
	}
	writeJSON(w, status, append(out.buf, '}'))
}

// decodeSQLRequest reads the body of POST /v1/sql: JSON (sqlRequest) when
// the content type says so or, without one that does, when it starts with
// '{' (no SQL does); else the SQL itself, as text/plain.
func decodeSQLRequest(contentType string, body []byte) (sqlRequest, *sqlerr.Error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if !isJSON && mt != "text/plain" && mt != "application/sql" {
		isJSON = bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))
	}
	if !isJSON {
		if !utf8.Valid(body) {
			return sqlRequest{}, sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\" in the SQL text")
		}
		text := string(body)
		return sqlRequest{SQL: &text}, nil
	}
	const shape = `Send one object: {"sql": "SELECT ...", "params": [...]}.`
	var req sqlRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, sqlerr.New(errRequest, "invalid JSON request body").WithDetail("%s", jsonErrorDetail(err)).WithHint(shape)
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, sqlerr.New(errRequest, "invalid JSON request body").WithDetail("data after the request object").WithHint(shape)
	}
	if req.SQL == nil {
		return req, sqlerr.New(errRequest, `the request has no "sql"`).WithHint(shape)
	}
	return req, nil
}

// parseTimeout reads ?timeout: a Go duration ("5s", "250ms") or, as
// statement_timeout takes it, a number of milliseconds; 0 is none.
func parseTimeout(v string) (time.Duration, *sqlerr.Error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, merr := strconv.ParseInt(v, 10, 64)
		if merr != nil || ms > int64(time.Duration(1<<63-1)/time.Millisecond) {
			return 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid timeout %q", v).WithHint(`Give a duration such as "5s" or "250ms", or milliseconds.`)
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "timeout %q is negative", v)
	}
	return d, nil
}

// runSQL runs the statements of req in sess, appending each one's result
// to out, and returns the error that stopped them (nil when all ran).
func (s *Server) runSQL(ctx context.Context, sess Session, req sqlRequest, timeout time.Duration, out *sqlAnswer) *sqlerr.Error {
	stmts, err := sess.Parse(ctx, *req.SQL, nil)
	if err != nil {
		return sqlerr.From(err)
	}
	if len(req.Params) > 0 && len(stmts) != 1 {
		return sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement").
			WithHint(`"params" apply to a request of one statement.`)
	}
	for _, st := range stmts {
		if err := s.runStatement(ctx, sess, st, req.Params, timeout, out); err != nil {
			return err
		}
	}
	if sess.TxStatus() != 'I' && out.n > 0 {
		out.notice("the request ended inside a transaction block: its changes were rolled back")
	}
	return nil
}

// runStatement runs one statement and appends its result to out; on
// error out is left as it was.
func (s *Server) runStatement(ctx context.Context, sess Session, st Statement, rawParams []json.RawMessage, timeout time.Duration, out *sqlAnswer) *sqlerr.Error {
	if p, ok := st.(PushQuery); ok && p.PushQuery() {
		return sqlerr.Unsupported("push queries (EMIT CHANGES) are not supported by /v1/sql").
			WithHint("Subscribe to the changes with GET /v1/subscribe?q=..., or over the PostgreSQL protocol.")
	}
	loc := sessionLocation(sess)
	ptypes := st.ParamTypes()
	if len(rawParams) != len(ptypes) {
		return sqlerr.New(sqlerr.UndefinedParameter, "the statement has %d parameters but %d were given", len(ptypes), len(rawParams))
	}
	params := make([]types.Datum, len(ptypes))
	for i, raw := range rawParams {
		d, err := datumFromJSON(ptypes[i], raw, loc)
		if err != nil {
			return sqlerr.From(err).WithDetail("parameter $%d", i+1)
		}
		params[i] = d
	}

	var notices []string // mid-statement ones (Notice)
	sctx := WithNotice(ctx, func(msg string) { notices = append(notices, msg) })
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeoutCause(sctx, timeout, errStatementTimeout)
		defer cancel()
	}
	start, mark := time.Now(), out.mark()
	serr := s.execStatement(sctx, sess, st, params, out, &notices)
	outcome := "ok"
	if serr != nil {
		out.buf, outcome = out.buf[:mark], "error"
	}
	kind := statementKind(st.SQL())
	s.met.statements.WithLabelValues(kind, outcome).Inc()
	s.met.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	return serr
}

func (s *Server) execStatement(ctx context.Context, sess Session, st Statement, params []types.Datum, out *sqlAnswer, notices *[]string) *sqlerr.Error {
	res, err := sess.Execute(ctx, st, params)
	if err != nil {
		return statementError(ctx, err)
	}
	defer res.Close()
	if ci := res.CopyIn(); ci != nil {
		ci.Fail("COPY FROM STDIN over HTTP")
		return sqlerr.Unsupported("COPY FROM STDIN is not supported by /v1/sql").
			WithHint("POST the rows as NDJSON to /v1/ingest/<table>.")
	}
	if res.CopyOut() != nil {
		return sqlerr.Unsupported("COPY TO STDOUT is not supported by /v1/sql").WithHint("Run the query itself.")
	}
	cols := st.Columns()
	out.begin(cols)
	loc := sessionLocation(sess)
	for first := true; ; {
		row, ok, err := res.Next(ctx)
		if err != nil {
			return statementError(ctx, err)
		}
		if !ok {
			break
		}
		if cols == nil {
			continue
		}
		out.row(row, first, loc)
		first = false
		if len(out.buf) > maxSQLResult {
			return sqlerr.New(sqlerr.ProgramLimitExceeded, "the result exceeds %d bytes", maxSQLResult).
				WithHint("Narrow the query (WHERE, LIMIT), or read large results over the PostgreSQL protocol.")
		}
	}
	out.end(cols, res.Tag(), append(*notices, res.Notices()...))
	return nil
}

// sessionLocation is the session's TimeZone, for timestamptz values.
func sessionLocation(sess Session) *time.Location {
	if l, ok := sess.(Locator); ok {
		if loc := l.Location(); loc != nil {
			return loc
		}
	}
	return time.UTC
}

// sqlAnswer builds the JSON answer of POST /v1/sql. The last result
// appended stays open (its notices and closing brace not yet written) so
// that a notice can still be added to it.
type sqlAnswer struct {
	buf     []byte
	n       int      // results appended
	open    bool     // the last result awaits its notices
	notices []string // the open result's notices
}

// mark closes the open result and returns where the next one begins: a
// statement that fails cuts the answer back to it.
func (a *sqlAnswer) mark() int {
	if a.open {
		a.buf = appendNotices(a.buf, a.notices)
		a.buf = append(a.buf, '}')
		a.open, a.notices = false, nil
	}
	return len(a.buf)
}

func (a *sqlAnswer) begin(cols []Column) {
	a.mark()
	if a.n > 0 {
		a.buf = append(a.buf, ',')
	}
	a.buf = append(a.buf, '{')
	if cols == nil {
		return
	}
	a.buf = append(a.buf, `"columns":[`...)
	for i, c := range cols {
		if i > 0 {
			a.buf = append(a.buf, ',')
		}
		a.buf = append(a.buf, `{"name":`...)
		a.buf = types.AppendJSONString(a.buf, c.Name)
		a.buf = append(a.buf, `,"type":`...)
		a.buf = types.AppendJSONString(a.buf, c.Type.String())
		a.buf = append(a.buf, '}')
	}
	a.buf = append(a.buf, `],"rows":[`...)
}

func (a *sqlAnswer) row(row types.Row, first bool, loc *time.Location) {
	if !first {
		a.buf = append(a.buf, ',')
	}
	a.buf = append(a.buf, '[')
	for i, d := range row {
		if i > 0 {
			a.buf = append(a.buf, ',')
		}
		a.buf = appendJSONValue(a.buf, d, loc)
	}
	a.buf = append(a.buf, ']')
}

func (a *sqlAnswer) end(cols []Column, tag string, notices []string) {
	if cols != nil {
		a.buf = append(a.buf, "],"...)
	}
	a.buf = append(a.buf, `"tag":`...)
	a.buf = types.AppendJSONString(a.buf, tag)
	a.open, a.notices = true, notices
	a.n++
}

// notice adds a notice to the last result.
func (a *sqlAnswer) notice(msg string) { a.notices = append(a.notices, msg) }

func appendNotices(buf []byte, notices []string) []byte {
	if len(notices) == 0 {
		return buf
	}
	buf = append(buf, `,"notices":[`...)
	for i, n := range notices {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = types.AppendJSONString(buf, n)
	}
	return append(buf, ']')
}
