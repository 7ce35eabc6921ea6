package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// fakeEngine is a tiny scripted engine. Statements are separated by ';' and
// are one of:
//
//	rows N          column n int4, rows 1..N
//	nulls           one row (NULL::int4, ''::text)
//	echo $1         column v, the parameter as given (text by default)
//	add $1 $2       column sum int8 = $1 + $2 (int8 parameters)
//	fail CODE       an error with that SQLSTATE at Execute
//	syntax          a 42601 error with position at Parse
//	sleep           blocks until its context is cancelled
//	pause MS        tag DO after MS milliseconds (an error if cancelled first)
//	insert          no rows, tag INSERT 0 1
//	notice          tag DO, notice "hello"
//	progress N      tag DO after N mid-statement notices "step i" (server.Notice),
//	                each waiting for a receive on noticeAck, if set
//	set tz NAME     sets TimeZone (reported through Changed)
//	begin | commit  transaction status T / I
//	copy in | copy out
//	panic           panics in Execute
type fakeEngine struct {
	mu       sync.Mutex
	copied   []string // data received by COPY IN, per Write
	sessions int
	closed   int
	started  chan struct{} // receives when a sleep statement starts, if set
	finished chan struct{} // receives when a sleep statement ends, if set
	noPanic  bool          // "panic" fails instead (for the fuzzer)
	// noticeAck, if set, is received from after each notice of a progress
	// statement: the test proves the notice reached the client mid-statement.
	noticeAck chan struct{}
}

func (e *fakeEngine) NewSession(ctx context.Context, params map[string]string) (Session, error) {
	if params["user"] == "reject" {
		return nil, sqlerr.New(sqlerr.InvalidAuthorization, "role %q is not permitted to log in", params["user"])
	}
	e.mu.Lock()
	e.sessions++
	e.mu.Unlock()
	return &fakeSession{eng: e, params: map[string]string{
		"server_version":              "15.8 (Weir 0.1.0)",
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"TimeZone":                    "UTC",
		"application_name":            params["application_name"],
		"is_superuser":                "on",
		"session_authorization":       params["user"],
		"IntervalStyle":               "postgres",
	}, tx: 'I'}, nil
}

type fakeSession struct {
	eng     *fakeEngine
	params  map[string]string
	changed map[string]string
	tx      byte
}

type fakeStmt struct {
	sql    string
	words  []string
	ptypes []types.Type
	cols   []Column
}

func (s *fakeStmt) SQL() string              { return s.sql }
func (s *fakeStmt) ParamTypes() []types.Type { return s.ptypes }
func (s *fakeStmt) Columns() []Column        { return s.cols }

func (s *fakeSession) Parse(ctx context.Context, query string, oids []uint32) ([]Statement, error) {
	var out []Statement
	offset := 0
	for _, part := range strings.Split(query, ";") {
		text := strings.TrimSpace(part)
		pos := offset + strings.Index(part, text) + 1
		offset += len(part) + 1
		if text == "" {
			continue
		}
		st := &fakeStmt{sql: text, words: strings.Fields(text)}
		need := map[string]int{"progress": 2, "rows": 2, "echo": 2, "add": 2, "fail": 2, "set": 3, "copy": 2}[st.words[0]]
		if len(st.words) < need || (st.words[0] == "add" && len(st.words) < 3 && !strings.HasPrefix(st.words[1], "$")) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "too few arguments").WithPosition(pos)
		}
		switch st.words[0] {
		case "rows":
			st.cols = []Column{{Name: "n", Type: types.Int32}}
		case "ts":
			st.cols = []Column{{Name: "t", Type: types.TimestampTZ}}
		case "nulls":
			st.cols = []Column{{Name: "a", Type: types.Int32}, {Name: "b", Type: types.Text}}
		case "echo", "add":
			if len(st.words) > 1 && !strings.HasPrefix(st.words[1], "$") {
				// Literal arguments (the simple protocol with client-side
				// interpolation).
				st.cols = []Column{{Name: "v", Type: types.Text}}
				if st.words[0] == "add" {
					st.cols = []Column{{Name: "sum", Type: types.Int64}}
				}
				break
			}
			if st.words[0] == "add" {
				st.ptypes = []types.Type{types.Int64, types.Int64}
				st.cols = []Column{{Name: "sum", Type: types.Int64}}
				break
			}
			t := types.Text
			if len(oids) > 0 && oids[0] != 0 {
				t, _ = types.FromOID(oids[0])
			}
			st.ptypes = []types.Type{t}
			st.cols = []Column{{Name: "v", Type: t}}
		case "syntax":
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"syntax\"").WithPosition(pos)
		case "fail", "sleep", "pause", "insert", "notice", "progress", "set", "begin", "commit", "copy", "panic":
		default:
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", st.words[0]).WithPosition(pos)
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *fakeSession) Execute(ctx context.Context, stmt Statement, params []types.Datum) (Result, error) {
	st := stmt.(*fakeStmt)
	w := st.words
	switch w[0] {
	case "rows":
		n, _ := strconv.Atoi(w[1])
		n = max(0, min(n, 10000))
		rows := make([]types.Row, n)
		for i := range rows {
			rows[i] = types.Row{types.NewInt32(int32(i + 1))}
		}
		return &fakeResult{rows: rows, tag: fmt.Sprintf("SELECT %d", n)}, nil
	case "pause":
		ms, _ := strconv.Atoi(w[1])
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return &fakeResult{tag: "DO"}, nil
		case <-ctx.Done():
			if s.eng.finished != nil {
				s.eng.finished <- struct{}{}
			}
			return nil, ctx.Err()
		}
	case "progress":
		n, _ := strconv.Atoi(w[1])
		for i := 1; i <= n; i++ {
			if !Notice(ctx, fmt.Sprintf("step %d", i)) {
				return nil, sqlerr.New(sqlerr.InternalError, "no notice function in the statement's context")
			}
			if s.eng.noticeAck != nil {
				select {
				case <-s.eng.noticeAck:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
		return &fakeResult{tag: "DO"}, nil
	case "ts":
		return &fakeResult{rows: []types.Row{{types.NewTimestampTZ(0)}}, tag: "SELECT 1"}, nil
	case "nulls":
		return &fakeResult{rows: []types.Row{{types.NullOf(types.KindInt32), types.NewText("")}}, tag: "SELECT 1"}, nil
	case "echo":
		if len(params) == 0 {
			return &fakeResult{rows: []types.Row{{types.NewText(strings.Trim(w[1], "'"))}}, tag: "SELECT 1"}, nil
		}
		return &fakeResult{rows: []types.Row{{params[0]}}, tag: "SELECT 1"}, nil
	case "add":
		if len(params) == 0 {
			a, _ := strconv.ParseInt(strings.Trim(w[1], "'() "), 10, 64)
			b, _ := strconv.ParseInt(strings.Trim(w[2], "'() "), 10, 64)
			return &fakeResult{rows: []types.Row{{types.NewInt64(a + b)}}, tag: "SELECT 1"}, nil
		}
		if params[0].IsNull() || params[1].IsNull() {
			return &fakeResult{rows: []types.Row{{types.NullOf(types.KindInt64)}}, tag: "SELECT 1"}, nil
		}
		return &fakeResult{rows: []types.Row{{types.NewInt64(params[0].Int() + params[1].Int())}}, tag: "SELECT 1"}, nil
	case "fail":
		if s.tx == 'T' {
			s.tx = 'E'
		}
		e := sqlerr.New(sqlerr.Code(w[1][:min(5, len(w[1]))]), "failure %s", w[1]).WithDetail("some detail").WithHint("some hint")
		if len(w) > 2 && w[2] == "fatal" {
			e.Severity = "FATAL"
		}
		return nil, e
	case "sleep":
		if s.eng.started != nil {
			s.eng.started <- struct{}{}
		}
		<-ctx.Done()
		if s.eng.finished != nil {
			s.eng.finished <- struct{}{}
		}
		return nil, ctx.Err()
	case "insert":
		return &fakeResult{tag: "INSERT 0 1"}, nil
	case "notice":
		return &fakeResult{tag: "DO", notices: []string{"hello"}}, nil
	case "set":
		s.params["TimeZone"] = w[2]
		s.changed = map[string]string{"TimeZone": w[2]}
		return &fakeResult{tag: "SET"}, nil
	case "begin":
		s.tx = 'T'
		return &fakeResult{tag: "BEGIN"}, nil
	case "commit":
		s.tx = 'I'
		return &fakeResult{tag: "COMMIT"}, nil
	case "copy":
		if w[1] == "in" {
			return &fakeResult{copyIn: &fakeCopyIn{eng: s.eng}}, nil
		}
		return &fakeResult{copyOut: &fakeCopyOut{lines: []string{"1\ta\n", "2\tb\n"}}}, nil
	case "panic":
		if s.eng.noPanic {
			return nil, sqlerr.New(sqlerr.InternalError, "no panic")
		}
		panic("fake engine panic")
	}
	return nil, fmt.Errorf("fake: %q", st.sql)
}

func (s *fakeSession) TxStatus() byte                { return s.tx }
func (s *fakeSession) Parameters() map[string]string { return s.params }
func (s *fakeSession) Changed() map[string]string {
	c := s.changed
	s.changed = nil
	return c
}
func (s *fakeSession) Close() {
	s.eng.mu.Lock()
	s.eng.closed++
	s.eng.mu.Unlock()
}

type fakeResult struct {
	rows    []types.Row
	i       int
	tag     string
	notices []string
	copyIn  *fakeCopyIn
	copyOut *fakeCopyOut
}

func (r *fakeResult) Next(ctx context.Context) (types.Row, bool, error) {
	if r.i >= len(r.rows) {
		return nil, false, nil
	}
	r.i++
	return r.rows[r.i-1], true, nil
}
func (r *fakeResult) Tag() string       { return r.tag }
func (r *fakeResult) Notices() []string { return r.notices }
func (r *fakeResult) CopyIn() CopyIn {
	if r.copyIn == nil {
		return nil
	}
	return r.copyIn
}
func (r *fakeResult) CopyOut() CopyOut {
	if r.copyOut == nil {
		return nil
	}
	return r.copyOut
}
func (r *fakeResult) Close() {}

type fakeCopyIn struct {
	eng  *fakeEngine
	data strings.Builder
}

func (c *fakeCopyIn) Columns() int { return 2 }
func (c *fakeCopyIn) Binary() bool { return false }
func (c *fakeCopyIn) Write(ctx context.Context, data []byte) error {
	c.data.Write(data)
	if strings.Contains(c.data.String(), "bad") {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "bad line")
	}
	return nil
}
func (c *fakeCopyIn) Done(ctx context.Context) (string, error) {
	lines := strings.Count(c.data.String(), "\n")
	c.eng.mu.Lock()
	c.eng.copied = append(c.eng.copied, c.data.String())
	c.eng.mu.Unlock()
	return fmt.Sprintf("COPY %d", lines), nil
}
func (c *fakeCopyIn) Fail(reason string) {}

type fakeCopyOut struct {
	lines []string
	i     int
}

func (c *fakeCopyOut) Columns() int { return 2 }
func (c *fakeCopyOut) Binary() bool { return false }
func (c *fakeCopyOut) Next(ctx context.Context) ([]byte, bool, error) {
	if c.i >= len(c.lines) {
		return nil, false, nil
	}
	c.i++
	return []byte(c.lines[c.i-1]), true, nil
}
func (c *fakeCopyOut) Tag() string { return fmt.Sprintf("COPY %d", len(c.lines)) }
