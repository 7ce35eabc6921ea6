package coord

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// copyBatchRows is how many decoded rows COPY FROM hands to the insert at
// once.
const copyBatchRows = 1024

// maxCopyLine bounds one COPY record so that a client cannot make the server
// buffer without limit while it waits for a line end.
const maxCopyLine = 64 << 20

// copyFormat holds the resolved options of a COPY.
type copyFormat struct {
	csv     bool
	binary  bool
	header  bool
	delim   byte
	null    string
	quote   byte
	escape  byte
	columns int
}

func resolveCopyFormat(n *ast.Copy) (copyFormat, error) {
	f := copyFormat{delim: '\t', null: `\N`, quote: '"', escape: '"'}
	switch n.Format {
	case ast.CopyBinary:
		f.binary = true
		switch {
		case n.Delimiter != "":
			return f, sqlerr.New(sqlerr.SyntaxError, "cannot specify DELIMITER in BINARY mode")
		case n.HasNull:
			return f, sqlerr.New(sqlerr.SyntaxError, "cannot specify NULL in BINARY mode")
		case n.Header:
			return f, sqlerr.New(sqlerr.SyntaxError, "cannot specify HEADER in BINARY mode")
		}
	case ast.CopyCSV:
		f.csv, f.delim, f.null = true, ',', ""
	}
	f.header = n.Header
	if n.Header && !f.csv {
		return f, sqlerr.Unsupported("COPY HEADER available only in CSV mode")
	}
	if n.Delimiter != "" {
		if len(n.Delimiter) != 1 {
			return f, sqlerr.Unsupported("COPY delimiter must be a single one-byte character")
		}
		f.delim = n.Delimiter[0]
	}
	if n.HasNull {
		f.null = n.Null
	}
	if n.Quote != "" {
		if !f.csv || len(n.Quote) != 1 {
			return f, sqlerr.Unsupported("COPY quote must be a single one-byte character, in CSV mode")
		}
		f.quote, f.escape = n.Quote[0], n.Quote[0]
	}
	if n.Escape != "" {
		if !f.csv || len(n.Escape) != 1 {
			return f, sqlerr.Unsupported("COPY escape must be a single one-byte character, in CSV mode")
		}
		f.escape = n.Escape[0]
	}
	return f, nil
}

// copy starts a COPY FROM STDIN or COPY TO STDOUT.
func (s *session) copy(ctx context.Context, n *ast.Copy) (server.Result, error) {
	f, err := resolveCopyFormat(n)
	if err != nil {
		return nil, err
	}
	if n.From {
		if n.Table == nil {
			return nil, sqlerr.New(sqlerr.SyntaxError, "COPY FROM requires a table")
		}
		ins, err := planner.PlanInsertRows(&planner.Context{Catalog: s}, n.Table, n.Columns)
		if err != nil {
			return nil, err
		}
		f.columns = len(ins.Types)
		ci := &copyIn{s: s, ins: ins, f: f, table: n.Table.Name, rt: &executor.Runtime{Env: s.env()}}
		ci.skipHeader = f.header
		ci.txn, ci.own = s.insertTxn(ci.rt)
		return &copyInResult{ci: ci}, nil
	}
	q := n.Query
	if q != nil && q.EmitChanges {
		return s.copyPush(ctx, n, f)
	}
	if q == nil {
		core := &ast.SelectCore{From: []ast.TableExpr{n.Table}}
		if len(n.Columns) == 0 {
			core.Targets = []*ast.Target{{Star: true}}
		}
		for _, c := range n.Columns {
			core.Targets = append(core.Targets, &ast.Target{Expr: &ast.ColumnRef{Name: c}})
		}
		q = &ast.Query{Body: core}
	}
	plan, err := planner.PlanStatement(&planner.Context{Catalog: s}, q)
	if err != nil {
		return nil, err
	}
	rt := &executor.Runtime{Env: s.env()}
	var release func()
	if s.tx != nil {
		rt.Store = &viewStore{base: s.tx}
	} else {
		snap := s.c.db.Snapshot()
		rt.Store, release = &viewStore{base: snap}, func() { _ = snap.Close() }
	}
	s.withCatalog(rt)
	rows, err := plan.Run(ctx, rt)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	f.columns = len(plan.Columns)
	co := &copyOut{rows: rows, f: f, loc: s.loc, release: release}
	if f.header {
		for i, c := range plan.Columns {
			if i > 0 {
				co.buf = append(co.buf, f.delim)
			}
			co.buf = appendCSVField(co.buf, c.Name, f)
		}
		co.buf = append(co.buf, '\n')
		co.pendingHeader = true
	}
	return &copyOutResult{co: co}, nil
}

// insertTxn is the transaction a bulk insert (COPY FROM, Ingest) writes
// rt's rows into: the session's transaction block, else one of its own
// (own) that the insert commits, or rolls back.
func (s *session) insertTxn(rt *executor.Runtime) (txn *storage.Txn, own bool) {
	if s.tx != nil {
		txn = s.tx
	} else {
		txn, own = s.c.db.Begin(), true
	}
	rt.Store = &viewStore{base: txn}
	s.withCatalog(rt)
	return txn, own
}

// copyPush runs COPY (SELECT ... EMIT CHANGES) TO STDOUT: the push query's
// rows as COPY lines, each written out as it happens (psql prints a COPY
// stream as it arrives, which a query result it does not).
func (s *session) copyPush(ctx context.Context, n *ast.Copy, f copyFormat) (server.Result, error) {
	st := &statement{s: s, parsed: parser.Statement{AST: n.Query}}
	if err := st.prepare(); err != nil {
		return nil, err
	}
	res, err := s.subscribe(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	push := res.(*pushResult)
	f.columns = len(st.columns)
	co := &copyOut{rows: pushRows{push}, f: f, loc: s.loc, live: push}
	return &copyOutResult{co: co}, nil
}

// pushRows adapts a push query's result to executor.Rows.
type pushRows struct{ *pushResult }

func (p pushRows) Count() int64 { return p.n }

// copyIn decodes a COPY FROM STDIN stream into rows and inserts them.
type copyIn struct {
	s          *session
	ins        *planner.InsertRows
	f          copyFormat
	table      string
	rt         *executor.Runtime
	txn        *storage.Txn
	own        bool // the COPY runs in a transaction of its own
	buf        []byte
	line       int
	skipHeader bool
	batch      []types.Row
	n          int64
	ended      bool
	fields     []field
	headerDone bool // binary: the file header has been read
}

// field is one decoded field: its text, or NULL.
type field struct {
	text string
	null bool
}

func (c *copyIn) Columns() int { return c.f.columns }
func (c *copyIn) Binary() bool { return c.f.binary }

func (c *copyIn) Write(ctx context.Context, data []byte) error {
	if c.ended {
		return nil
	}
	if c.f.binary {
		return c.writeBinary(ctx, data)
	}
	c.buf = append(c.buf, data...)
	for {
		rec, rest, ok, err := c.nextRecord(c.buf, false)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		c.buf = rest
		if err := c.record(ctx, rec); err != nil {
			return err
		}
		if c.ended {
			return nil
		}
	}
	if len(c.buf) > maxCopyLine {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "COPY line %d is longer than %d bytes", c.line+1, maxCopyLine)
	}
	// Keep the buffer from growing by its consumed prefix.
	if cap(c.buf) > 1<<20 && len(c.buf) < cap(c.buf)/4 {
		c.buf = append([]byte(nil), c.buf...)
	}
	return nil
}

// nextRecord finds the end of the next record in b. At eof a final line
// without a terminator is a record too.
func (c *copyIn) nextRecord(b []byte, eof bool) (rec, rest []byte, ok bool, err error) {
	if len(b) == 0 {
		return nil, nil, false, nil
	}
	if !c.f.csv {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if eof {
				return bytes.TrimSuffix(b, []byte{'\r'}), nil, true, nil
			}
			return nil, b, false, nil
		}
		return bytes.TrimSuffix(b[:i], []byte{'\r'}), b[i+1:], true, nil
	}
	// CSV: a newline inside quotes belongs to the field.
	inQuote := false
	for i := 0; i < len(b); i++ {
		ch := b[i]
		switch {
		case inQuote && ch == c.f.escape && c.f.escape != c.f.quote && i+1 < len(b) && (b[i+1] == c.f.quote || b[i+1] == c.f.escape):
			i++
		case ch == c.f.quote:
			inQuote = !inQuote
		case ch == '\n' && !inQuote:
			return bytes.TrimSuffix(b[:i], []byte{'\r'}), b[i+1:], true, nil
		}
	}
	if eof {
		if inQuote {
			return nil, nil, false, c.errorf(sqlerr.BadCopyFileFormat, "unterminated CSV quoted field")
		}
		return bytes.TrimSuffix(b, []byte{'\r'}), nil, true, nil
	}
	return nil, b, false, nil
}

func (c *copyIn) errorf(code sqlerr.Code, format string, args ...any) error {
	return sqlerr.New(code, format, args...).WithDetail("COPY %s, line %d", c.table, c.line)
}

// record decodes and queues one record.
func (c *copyIn) record(ctx context.Context, rec []byte) error {
	c.line++
	if c.skipHeader {
		c.skipHeader = false
		return nil
	}
	if string(rec) == `\.` {
		c.ended = true
		return nil
	}
	var err error
	if c.f.csv {
		c.fields, err = c.splitCSV(rec, c.fields[:0])
	} else {
		c.fields, err = c.splitText(rec, c.fields[:0])
	}
	if err != nil {
		return err
	}
	if len(c.fields) != len(c.ins.Types) {
		if len(c.fields) < len(c.ins.Types) {
			return c.errorf(sqlerr.BadCopyFileFormat, "missing data for column %d", len(c.fields)+1)
		}
		return c.errorf(sqlerr.BadCopyFileFormat, "extra data after last expected column")
	}
	row := make(types.Row, len(c.fields))
	for i, fld := range c.fields {
		if fld.null {
			continue
		}
		d, err := types.ParseText(c.ins.Types[i], fld.text, c.s.loc)
		if err != nil {
			e := sqlerr.From(err)
			return e.WithDetail("COPY %s, line %d, column %d: %q", c.table, c.line, i+1, fld.text)
		}
		row[i] = d
	}
	c.batch = append(c.batch, row)
	if len(c.batch) >= copyBatchRows {
		return c.flush(ctx)
	}
	return nil
}

func (c *copyIn) flush(ctx context.Context) error {
	if len(c.batch) == 0 {
		return nil
	}
	n, err := c.ins.Insert(ctx, c.rt, c.batch)
	if err != nil {
		return err
	}
	c.n += n
	c.batch = c.batch[:0]
	return nil
}

// splitText splits a text-format line, undoing its backslash escapes.
func (c *copyIn) splitText(rec []byte, out []field) ([]field, error) {
	var cur []byte
	raw := true // the field so far equals its raw text (for the NULL marker)
	start := 0
	for i := 0; i <= len(rec); i++ {
		if i == len(rec) || rec[i] == c.f.delim {
			text := string(rec[start:i])
			if raw && text == c.f.null {
				out = append(out, field{null: true})
			} else if raw {
				out = append(out, field{text: text})
			} else {
				out = append(out, field{text: string(cur)})
			}
			cur, raw, start = cur[:0], true, i+1
			continue
		}
		if rec[i] != '\\' {
			if !raw {
				cur = append(cur, rec[i])
			}
			continue
		}
		if raw {
			// \N is matched against the raw text above; only switch to
			// decoding when the field is not exactly the NULL marker.
			if string(rec[start:min(len(rec), i+2)]) == c.f.null && (i+2 == len(rec) || rec[i+2] == c.f.delim) {
				i++
				continue
			}
			cur = append(cur[:0], rec[start:i]...)
			raw = false
		}
		i++
		if i == len(rec) {
			return nil, c.errorf(sqlerr.BadCopyFileFormat, "end-of-copy marker corrupt")
		}
		switch ch := rec[i]; ch {
		case 'b':
			cur = append(cur, '\b')
		case 'f':
			cur = append(cur, '\f')
		case 'n':
			cur = append(cur, '\n')
		case 'r':
			cur = append(cur, '\r')
		case 't':
			cur = append(cur, '\t')
		case 'v':
			cur = append(cur, '\v')
		case 'x':
			j := i + 1
			for j < len(rec) && j < i+3 && isHex(rec[j]) {
				j++
			}
			if j == i+1 {
				cur = append(cur, 'x')
				continue
			}
			v, _ := strconv.ParseUint(string(rec[i+1:j]), 16, 8)
			cur = append(cur, byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(rec) && j < i+3 && rec[j] >= '0' && rec[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(string(rec[i:j]), 8, 16)
			cur = append(cur, byte(v))
			i = j - 1
		default:
			cur = append(cur, ch)
		}
	}
	return out, nil
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// splitCSV splits a CSV record. An unquoted field equal to the NULL string
// is NULL; a quoted one never is.
func (c *copyIn) splitCSV(rec []byte, out []field) ([]field, error) {
	var cur []byte
	for i := 0; ; {
		cur = cur[:0]
		quoted := false
		for i < len(rec) && rec[i] != c.f.delim {
			ch := rec[i]
			if ch != c.f.quote {
				cur = append(cur, ch)
				i++
				continue
			}
			quoted = true
			i++
			for {
				if i >= len(rec) {
					return nil, c.errorf(sqlerr.BadCopyFileFormat, "unterminated CSV quoted field")
				}
				ch = rec[i]
				if ch == c.f.escape && i+1 < len(rec) && (rec[i+1] == c.f.quote || (c.f.escape != c.f.quote && rec[i+1] == c.f.escape)) {
					cur = append(cur, rec[i+1])
					i += 2
					continue
				}
				if ch == c.f.quote {
					i++
					break
				}
				cur = append(cur, ch)
				i++
			}
		}
		if !quoted && string(cur) == c.f.null {
			out = append(out, field{null: true})
		} else {
			out = append(out, field{text: string(cur)})
		}
		if i >= len(rec) {
			return out, nil
		}
		i++ // the delimiter
	}
}

func (c *copyIn) Done(ctx context.Context) (string, error) {
	defer c.finish()
	if c.f.binary {
		if err := c.endBinary(); err != nil {
			return "", err
		}
	} else if !c.ended {
		for len(c.buf) > 0 {
			rec, rest, ok, err := c.nextRecord(c.buf, true)
			if err != nil {
				return "", err
			}
			if !ok {
				break
			}
			c.buf = rest
			if err := c.record(ctx, rec); err != nil {
				return "", err
			}
			if c.ended {
				break
			}
		}
	}
	if err := c.flush(ctx); err != nil {
		return "", err
	}
	if c.own {
		if err := c.s.commit(ctx, c.txn); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("COPY %d", c.n), nil
}

func (c *copyIn) Fail(reason string) { c.finish() }

// finish releases the transaction the COPY owns (committed or not).
func (c *copyIn) finish() {
	if c.own && c.txn != nil {
		c.txn.Rollback()
		c.txn = nil
	}
}

type copyInResult struct {
	tagResult
	ci *copyIn
}

func (r *copyInResult) CopyIn() server.CopyIn { return r.ci }
func (r *copyInResult) Close()                { r.ci.finish() }

// copyOut renders query rows in COPY's text or CSV format.
type copyOut struct {
	rows          executor.Rows
	f             copyFormat
	loc           *time.Location
	release       func()
	live          server.Live // set when rows arrive over time
	buf           []byte
	pendingHeader bool
	n             int64
	done          bool
}

func (c *copyOut) Columns() int { return c.f.columns }
func (c *copyOut) Binary() bool { return c.f.binary }

func (c *copyOut) Next(ctx context.Context) ([]byte, bool, error) {
	if c.pendingHeader {
		c.pendingHeader = false
		return c.buf, true, nil
	}
	if c.done {
		return nil, false, nil
	}
	row, ok, err := c.rows.Next(ctx)
	if err != nil {
		return nil, false, contextError(ctx, err)
	}
	if !ok {
		c.done = true
		if c.f.binary {
			c.buf = appendBinaryTrailer(c.buf[:0], c.n == 0)
			return c.buf, true, nil
		}
		return nil, false, nil
	}
	c.n++
	c.buf = c.buf[:0]
	if c.f.binary {
		if c.n == 1 {
			c.buf = appendBinaryHeader(c.buf)
		}
		if c.buf, err = appendBinaryRow(c.buf, row); err != nil {
			return nil, false, err
		}
		return c.buf, true, nil
	}
	var tmp []byte
	for i, d := range row {
		if i > 0 {
			c.buf = append(c.buf, c.f.delim)
		}
		if d.IsNull() {
			c.buf = append(c.buf, c.f.null...)
			continue
		}
		tmp = types.AppendText(tmp[:0], d, c.loc)
		if c.f.csv {
			c.buf = appendCSVField(c.buf, string(tmp), c.f)
		} else {
			c.buf = appendTextField(c.buf, tmp, c.f.delim)
		}
	}
	c.buf = append(c.buf, '\n')
	return c.buf, true, nil
}

func (c *copyOut) Tag() string { return fmt.Sprintf("COPY %d", c.n) }

// Buffered implements server.Live.
func (c *copyOut) Buffered() int {
	if c.live == nil || c.pendingHeader {
		return 1
	}
	return c.live.Buffered()
}

func (c *copyOut) close() {
	c.rows.Close()
	if c.release != nil {
		c.release()
		c.release = nil
	}
}

func appendTextField(buf, v []byte, delim byte) []byte {
	for _, ch := range v {
		switch ch {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\v':
			buf = append(buf, '\\', 'v')
		default:
			if ch == delim {
				buf = append(buf, '\\')
			}
			buf = append(buf, ch)
		}
	}
	return buf
}

func appendCSVField(buf []byte, v string, f copyFormat) []byte {
	needQuote := v == f.null || v == `\.`
	for i := 0; i < len(v) && !needQuote; i++ {
		switch v[i] {
		case f.delim, f.quote, '\n', '\r':
			needQuote = true
		}
	}
	if !needQuote {
		return append(buf, v...)
	}
	buf = append(buf, f.quote)
	for i := 0; i < len(v); i++ {
		if v[i] == f.quote || v[i] == f.escape {
			buf = append(buf, f.escape)
		}
		buf = append(buf, v[i])
	}
	return append(buf, f.quote)
}

type copyOutResult struct {
	tagResult
	co *copyOut
}

func (r *copyOutResult) CopyOut() server.CopyOut { return r.co }
func (r *copyOutResult) Tag() string             { return r.co.Tag() }
func (r *copyOutResult) Close()                  { r.co.close() }
