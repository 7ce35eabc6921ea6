package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

const (
	// ingestBatchRows is how many rows of the same columns go to
	// Ingest.Insert at once.
	ingestBatchRows = 1024
	// maxReportedRejects bounds the rejected rows an answer lists (all
	// are counted).
	maxReportedRejects = 1000
)

// serveIngest runs POST /v1/ingest/{relation}: the body is NDJSON, one
// JSON object per line keyed by column name (blank lines are skipped);
// columns a line leaves out get their defaults. The rows go into the
// relation in one transaction, durable (per synchronous_commit) before the
// answer:
//
//	200 {"accepted": 2, "rejected": [{"line": 3, "error": {...}}], "rejected_count": 1}
//
// A line that is not a JSON object of the relation's columns, or a row the
// relation refuses (a value of the wrong type, a NULL in a NOT NULL
// column, a duplicate key: SQLSTATE classes 22 and 23), is rejected and the
// others go in. When no row goes in and some were rejected, the answer is
// 400 with the same body and an "error". Any other error (no such
// relation: 404, one that cannot be written, a failed commit) inserts
// nothing and is answered as {"error": ...}.
func (s *Server) serveIngest(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("relation")
	sess, ok := s.apiSession(ctx, w)
	if !ok {
		return
	}
	defer sess.Close()
	ing, ok := sess.(Ingester)
	if !ok {
		writeAPIError(w, http.StatusNotImplemented, sqlerr.Unsupported("this engine does not ingest rows"))
		return
	}
	in, err := ing.Ingest(ctx, name)
	if err != nil {
		e := statementError(ctx, err)
		status := apiStatus(e)
		if e.Code == sqlerr.UndefinedTable {
			status = http.StatusNotFound
		}
		writeAPIError(w, status, e)
		return
	}
	defer in.Close()

	res := ingestResult{dec: newRowDecoder(name, in.Columns(), sessionLocation(sess))}
	if status, serr := res.run(ctx, in, r.Body); serr != nil {
		writeAPIError(w, status, serr)
		return
	}
	if res.accepted == 0 && res.rejected > 0 {
		writeJSON(w, http.StatusBadRequest, res.answer(res.noneInserted()))
		return
	}
	if res.accepted == 0 {
		writeJSON(w, http.StatusOK, res.answer(nil))
		return
	}
	if err := in.Commit(ctx); err != nil {
		e := statementError(ctx, err)
		if ctx.Err() != nil || !dataError(e) {
			writeAPIError(w, apiStatus(e), e)
			return
		}
		// A row a view over the relation refuses (a division by zero)
		// fails the commit: find it, committing the rows in halves, so
		// that it alone is rejected.
		in.Close()
		res.accepted = 0
		if serr := res.commitHalves(ctx, ing, name, res.kept); serr != nil {
			writeAPIError(w, apiStatus(serr), serr)
			return
		}
		if res.accepted == 0 {
			writeJSON(w, http.StatusBadRequest, res.answer(res.noneInserted()))
			return
		}
	}
	writeJSON(w, http.StatusOK, res.answer(nil))
}

// dataError reports whether e is the data's fault (SQLSTATE class 22 or
// 23): a row to reject, not a request to fail.
func dataError(e *sqlerr.Error) bool {
	class := string(e.Code[:min(2, len(e.Code))])
	return class == "22" || class == "23"
}

// keptRow is a row inserted, kept until the commit in case it must be
// inserted again on its own.
type keptRow struct {
	cols []int
	row  types.Row
	line int
}

// commitHalves inserts rows and commits them; when the commit fails for a
// row's fault, it does so for each half in turn, down to the row alone,
// which it rejects. A few bad rows among n cost about log n commits each.
func (res *ingestResult) commitHalves(ctx context.Context, ing Ingester, name string, rows []keptRow) *sqlerr.Error {
	if len(rows) == 0 {
		return nil
	}
	in, err := ing.Ingest(ctx, name)
	if err != nil {
		return statementError(ctx, err)
	}
	defer in.Close()
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && slices.Equal(rows[hi].cols, rows[lo].cols) {
			hi++
		}
		batch := make([]types.Row, hi-lo)
		for i := range batch {
			batch[i] = rows[lo+i].row
		}
		if _, err := in.Insert(ctx, rows[lo].cols, batch); err != nil {
			return statementError(ctx, err)
		}
		lo = hi
	}
	err = in.Commit(ctx)
	if err == nil {
		res.accepted += len(rows)
		return nil
	}
	e := statementError(ctx, err)
	if ctx.Err() != nil || !dataError(e) {
		return e
	}
	if len(rows) == 1 {
		res.reject(rows[0].line, e)
		return nil
	}
	mid := len(rows) / 2
	if e := res.commitHalves(ctx, ing, name, rows[:mid]); e != nil {
		return e
	}
	return res.commitHalves(ctx, ing, name, rows[mid:])
}

// ingestResult reads the rows of a request and inserts them in batches of
// the same columns.
type ingestResult struct {
	dec *rowDecoder

	cols  []int       // the columns of the batch's rows
	batch []types.Row // rows waiting to be inserted
	lines []int       // their line numbers

	accepted int
	rejected int
	rejects  []reject // the first maxReportedRejects rejected
	// kept are the rows inserted, until the commit (see commitHalves).
	kept []keptRow
}

// reject is a row refused, by its line.
type reject struct {
	line int
	err  *sqlerr.Error
}

// run reads body and inserts its rows; an error other than a rejected row
// ends it, with the status to answer.
func (res *ingestResult) run(ctx context.Context, in Ingest, body io.Reader) (int, *sqlerr.Error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxAPIBody+1)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		cols, row, err := res.dec.decode(text)
		if err != nil {
			res.reject(line, err)
			continue
		}
		if len(res.batch) >= ingestBatchRows || !slices.Equal(cols, res.cols) {
			if status, err := res.flush(ctx, in); err != nil {
				return status, err
			}
			res.cols = append(res.cols[:0], cols...)
		}
		res.batch = append(res.batch, row)
		res.lines = append(res.lines, line)
	}
	if err := sc.Err(); err != nil {
		return bodyError(err)
	}
	return res.flush(ctx, in)
}

// flush inserts the batch, rejecting the rows the relation refuses.
func (res *ingestResult) flush(ctx context.Context, in Ingest) (int, *sqlerr.Error) {
	rows, lines := res.batch, res.lines
	cols := slices.Clone(res.cols)
	for len(rows) > 0 {
		n, err := in.Insert(ctx, res.cols, rows)
		res.accepted += n
		for i := range n {
			res.kept = append(res.kept, keptRow{cols: cols, row: rows[i], line: lines[i]})
		}
		if err == nil {
			break
		}
		e := statementError(ctx, err)
		if ctx.Err() != nil || !dataError(e) {
			return apiStatus(e), e
		}
		res.reject(lines[n], e)
		rows, lines = rows[n+1:], lines[n+1:]
	}
	clear(res.batch)
	res.batch, res.lines = res.batch[:0], res.lines[:0]
	return 0, nil
}

func (res *ingestResult) reject(line int, e *sqlerr.Error) {
	res.rejected++
	if len(res.rejects) < maxReportedRejects {
		res.rejects = append(res.rejects, reject{line, e})
	}
}

// noneInserted is the error of a request whose every row was rejected:
// the first one's.
func (res *ingestResult) noneInserted() *sqlerr.Error {
	first := slices.MinFunc(res.rejects, func(a, b reject) int { return a.line - b.line })
	return sqlerr.New(first.err.Code, "no row was inserted: %d rejected", res.rejected).
		WithDetail("line %d: %s", first.line, first.err.Message)
}

// answer is the JSON answer, with err when the request failed as a whole.
// Rejected rows are listed by line (those the relation refused are known
// only when their batch is inserted, after later lines were read).
func (res *ingestResult) answer(err *sqlerr.Error) []byte {
	slices.SortFunc(res.rejects, func(a, b reject) int { return a.line - b.line })
	buf := append(make([]byte, 0, 64+128*len(res.rejects)), `{"accepted":`...)
	buf = strconv.AppendInt(buf, int64(res.accepted), 10)
	buf = append(buf, `,"rejected":[`...)
	for i, r := range res.rejects {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"line":`...)
		buf = strconv.AppendInt(buf, int64(r.line), 10)
		buf = append(buf, `,"error":`...)
		buf = appendErrorJSON(buf, r.err)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"rejected_count":`...)
	buf = strconv.AppendInt(buf, int64(res.rejected), 10)
	if err != nil {
		buf = append(buf, `,"error":`...)
		buf = appendErrorJSON(buf, err)
	}
	return append(buf, '}')
}

// rowDecoder turns NDJSON lines into rows of a relation's columns.
type rowDecoder struct {
	relation string
	cols     []Column
	byName   map[string]int
	loc      *time.Location

	fields  map[string]json.RawMessage // reused from line to line
	members []jsonMember               // likewise
	given   []int
	vals    []types.Datum // by column
	seen    []uint32      // by column: the last line that gave it
	line    uint32
}

func newRowDecoder(relation string, cols []Column, loc *time.Location) *rowDecoder {
	d := &rowDecoder{relation: relation, cols: cols, byName: make(map[string]int, len(cols)), loc: loc,
		fields: map[string]json.RawMessage{}, vals: make([]types.Datum, len(cols)), seen: make([]uint32, len(cols))}
	for i, c := range cols {
		d.byName[c.Name] = i
	}
	return d
}

// column finds the column of a key: its exact name, else the name
// ignoring case (as an unquoted SQL identifier matches it); -1 if none.
func (d *rowDecoder) column(key string) int {
	if i, ok := d.byName[key]; ok {
		return i
	}
	for i, c := range d.cols {
		if strings.EqualFold(c.Name, key) {
			return i
		}
	}
	return -1
}

// decode reads one line: the columns it gives (indexes into the
// relation's columns, ascending; valid until the next call) and a fresh
// row of their values. Errors are the line's.
func (d *rowDecoder) decode(line []byte) ([]int, types.Row, *sqlerr.Error) {
	if line[0] != '{' {
		return nil, nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "expected a JSON object, found %s", jsonKindOf(line)).
			WithHint("Send one JSON object per line, keyed by column name.")
	}
	var ok bool
	if d.members, ok = scanObjectHook(line, d.members[:0]); !ok || dupKeys(d.members) {
		clear(d.fields)
		if err := json.Unmarshal(line, &d.fields); err != nil {
			return nil, nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail("%s", jsonErrorDetail(err))
		}
		d.members = d.members[:0]
		for key, raw := range d.fields {
			d.members = append(d.members, jsonMember{key: []byte(key), raw: raw})
		}
	}
	d.given = d.given[:0]
	d.line++
	for _, m := range d.members {
		key, raw := m.key, m.raw
		c, found := d.byName[string(key)]
		if !found {
			c = d.column(string(key))
		}
		if c < 0 {
			return nil, nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", key, d.relation)
		}
		if d.seen[c] == d.line {
			return nil, nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", d.cols[c].Name)
		}
		d.seen[c] = d.line
		v, err := datumFromJSON(d.cols[c].Type, raw, d.loc)
		if err != nil {
			e := sqlerr.From(err)
			if e.Detail == "" {
				e = e.WithDetail("column \"%s\"", d.cols[c].Name)
			}
			return nil, nil, e
		}
		d.given = append(d.given, c)
		d.vals[c] = v
	}
	slices.Sort(d.given)
	row := make(types.Row, len(d.given))
	for i, c := range d.given {
		row[i] = d.vals[c]
	}
	return d.given, row, nil
}

// jsonKindOf names the kind of the JSON value b starts with, for errors.
func jsonKindOf(b []byte) string {
	if !json.Valid(b) {
		return "invalid JSON"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// dupKeys reports whether a key repeats in ms: encoding/json keeps the
// last of them, as the slow path does.
func dupKeys(ms []jsonMember) bool {
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if string(ms[i].key) == string(ms[j].key) {
				return true
			}
		}
	}
	return false
}

// scanObjectHook is scanObject (tests compare it with the slow path).
var scanObjectHook = scanObject
