package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// pushEngine is a scripted engine of push queries. Statements:
//
//	changes [N]     a push query (op, id bigint, name text): the rows (1,'a')
//	                and (2,'b') as inserts, then whatever the test feeds;
//	                N is its LIMIT
//	fail CODE       a push query that fails with that SQLSTATE at Execute
//	rows            a query that is not a push query
//	syntax          a 42601 error at Parse
type pushEngine struct {
	feed   chan pushItem // changes after the first rows
	closed chan struct{} // receives when a push query's Result is closed
	mu     sync.Mutex
	open   int // push query Results not closed
}

// pushItem is one change fed to the running push query, or its error.
type pushItem struct {
	row types.Row
	err error
}

func newPushEngine() *pushEngine {
	return &pushEngine{feed: make(chan pushItem), closed: make(chan struct{}, 16)}
}

func (e *pushEngine) NewSession(ctx context.Context, params map[string]string) (Session, error) {
	return &pushSession{eng: e}, nil
}

type pushSession struct{ eng *pushEngine }

type pushStmt struct {
	fakeStmt
	push bool
}

func (s *pushStmt) PushQuery() bool { return s.push }

var pushCols = []Column{{Name: "op", Type: types.Text}, {Name: "id", Type: types.Int64}, {Name: "name", Type: types.Text}}

func (s *pushSession) Parse(ctx context.Context, query string, oids []uint32) ([]Statement, error) {
	var out []Statement
	for part := range strings.SplitSeq(query, ";") {
		w := strings.Fields(part)
		if len(w) == 0 {
			continue
		}
		st := &pushStmt{fakeStmt: fakeStmt{sql: strings.TrimSpace(part), words: w}}
		switch w[0] {
		case "changes", "fail":
			st.push, st.cols = true, pushCols
		case "rows":
			st.cols = []Column{{Name: "n", Type: types.Int32}}
		default:
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", w[0]).WithPosition(1)
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *pushSession) Execute(ctx context.Context, stmt Statement, params []types.Datum) (Result, error) {
	st := stmt.(*pushStmt)
	switch st.words[0] {
	case "fail":
		return nil, sqlerr.New(sqlerr.Code(st.words[1]), "failure %s", st.words[1])
	case "rows":
		return &fakeResult{tag: "SELECT 0"}, nil
	}
	limit := -1
	if len(st.words) > 1 {
		limit, _ = strconv.Atoi(st.words[1])
	}
	s.eng.mu.Lock()
	s.eng.open++
	s.eng.mu.Unlock()
	return &pushRows{eng: s.eng, limit: limit, head: []types.Row{change("insert", 1, "a"), change("insert", 2, "b")}}, nil
}

func (s *pushSession) TxStatus() byte                { return 'I' }
func (s *pushSession) Parameters() map[string]string { return nil }
func (s *pushSession) Changed() map[string]string    { return nil }
func (s *pushSession) Close()                        {}

func change(op string, id int64, name string) types.Row {
	return types.Row{types.NewText(op), types.NewInt64(id), types.NewText(name)}
}

// pushRows is the Result of "changes".
type pushRows struct {
	eng      *pushEngine
	limit, n int
	head     []types.Row
}

func (r *pushRows) Next(ctx context.Context) (types.Row, bool, error) {
	if r.n == r.limit {
		return nil, false, nil
	}
	r.n++
	if len(r.head) > 0 {
		row := r.head[0]
		r.head = r.head[1:]
		return row, true, nil
	}
	select {
	case it := <-r.eng.feed:
		return it.row, it.err == nil, it.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

func (r *pushRows) Buffered() int     { return len(r.head) }
func (r *pushRows) Tag() string       { return fmt.Sprintf("SELECT %d", r.n) }
func (r *pushRows) Notices() []string { return nil }
func (r *pushRows) CopyIn() CopyIn    { return nil }
func (r *pushRows) CopyOut() CopyOut  { return nil }
func (r *pushRows) Close() {
	r.eng.mu.Lock()
	r.eng.open--
	r.eng.mu.Unlock()
	r.eng.closed <- struct{}{}
}

// pushServer starts a Server of a pushEngine with HTTP on a free port.
func pushServer(t *testing.T, opts Options) (*Server, *pushEngine, string) {
	t.Helper()
	eng := newPushEngine()
	opts.HTTPAddr = "127.0.0.1:0"
	srv := startServer(t, opts, eng)
	return srv, eng, "http://" + srv.HTTPAddr().String()
}

// sseEvent is one Server-Sent Event, or a retry or comment line.
type sseEvent struct {
	id, event, data, retry, comment string
}

// sseReader reads the events of a stream.
type sseReader struct{ sc *bufio.Scanner }

func (r sseReader) next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			return ev
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		case "retry":
			ev.retry = value
		case "":
			ev.comment = value
		default:
			t.Fatalf("unknown SSE field in %q", line)
		}
	}
	t.Fatalf("stream ended: %v", r.sc.Err())
	return ev
}

// subscribe opens a stream; the caller closes the body.
func subscribe(t *testing.T, ctx context.Context, method, target, body string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestSubscribeSSE(t *testing.T) {
	_, eng, base := pushServer(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := subscribe(t, ctx, http.MethodGet, base+"/v1/subscribe?q="+url.QueryEscape("changes"), "")
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	rd := sseReader{bufio.NewScanner(resp.Body)}
	if ev := rd.next(t); ev.retry != "2000" {
		t.Fatalf("first: %+v, want the retry hint", ev)
	}
	want := []sseEvent{
		{id: "1", event: "insert", data: `{"id":1,"name":"a"}`},
		{id: "2", event: "insert", data: `{"id":2,"name":"b"}`},
	}
	for _, w := range want {
		if ev := rd.next(t); ev != w {
			t.Fatalf("got %+v, want %+v", ev, w)
		}
	}
	// Live changes arrive as they are fed, each flushed at once.
	eng.feed <- pushItem{row: change("delete", 1, "a")}
	if ev := rd.next(t); ev != (sseEvent{id: "3", event: "delete", data: `{"id":1,"name":"a"}`}) {
		t.Fatalf("got %+v", ev)
	}
	eng.feed <- pushItem{row: types.Row{types.NewText("insert"), types.NewInt64(1 << 60), types.NewText("line\nbreak \"q\"")}}
	if ev := rd.next(t); ev != (sseEvent{id: "4", event: "insert", data: `{"id":"1152921504606846976","name":"line\nbreak \"q\""}`}) {
		t.Fatalf("got %+v", ev)
	}
	// An error mid-stream is an event, and ends the stream.
	eng.feed <- pushItem{err: sqlerr.New(sqlerr.Code("53000"), "push query dropped")}
	if ev := rd.next(t); ev.event != "error" || ev.data != `{"code":"53000","message":"push query dropped"}` {
		t.Fatalf("got %+v", ev)
	}
	<-eng.closed
	if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
		t.Fatalf("after the error: %q", b)
	}
}

func TestSubscribeDisconnect(t *testing.T) {
	_, eng, base := pushServer(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	resp := subscribe(t, ctx, http.MethodGet, base+"/v1/subscribe?q=changes", "", "Accept", "text/event-stream")
	rd := sseReader{bufio.NewScanner(resp.Body)}
	for range 3 {
		rd.next(t)
	}
	cancel()
	resp.Body.Close()
	<-eng.closed // the client gone closes the Result
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.open != 0 {
		t.Fatalf("%d push queries still open", eng.open)
	}
}

func TestSubscribeResume(t *testing.T) {
	_, eng, base := pushServer(t, Options{})
	resp := subscribe(t, context.Background(), http.MethodGet, base+"/v1/subscribe?q=changes+2", "", "Last-Event-ID", "17")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// An engine that cannot resume: a reset, then the current rows, ids
	// from 1 again.
	want := "retry: 2000\n\n" +
		"event: reset\ndata: {\"reason\":\"the stream cannot resume after Last-Event-ID (the query keeps state, or the position is too old or from before a restart): the current rows follow\"}\n\n" +
		"id: 1\nevent: insert\ndata: {\"id\":1,\"name\":\"a\"}\n\n" +
		"id: 2\nevent: insert\ndata: {\"id\":2,\"name\":\"b\"}\n\n" +
		"event: end\ndata: {\"tag\":\"SELECT 2\"}\n\n"
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	<-eng.closed
}

func TestSubscribeNDJSON(t *testing.T) {
	_, eng, base := pushServer(t, Options{})
	resp := subscribe(t, context.Background(), http.MethodPost, base+"/v1/subscribe", `{"sql": "changes 3"}`,
		"Accept", "application/x-ndjson", "Content-Type", "application/json")
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
	}
	go func() { eng.feed <- pushItem{row: change("insert", 3, "c")} }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"insert","row":{"id":1,"name":"a"}}` + "\n" +
		`{"op":"insert","row":{"id":2,"name":"b"}}` + "\n" +
		`{"op":"insert","row":{"id":3,"name":"c"}}` + "\n" +
		`{"end":{"tag":"SELECT 3"}}` + "\n"
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not JSON: %s", line)
		}
	}
	<-eng.closed
}

func TestSubscribeErrors(t *testing.T) {
	_, _, base := pushServer(t, Options{})
	for _, c := range []struct {
		method, target, body string
		header               []string
		status               int
		code                 string
	}{
		{"GET", "/v1/subscribe?q=rows", "", nil, 400, "0A000"},
		{"GET", "/v1/subscribe?q=syntax", "", nil, 400, "42601"},
		{"GET", "/v1/subscribe?q=changes%3Bchanges", "", nil, 400, "42601"},
		{"GET", "/v1/subscribe", "", nil, 400, "08P01"},
		{"GET", "/v1/subscribe?q=fail+42P01", "", nil, 400, "42P01"},
		{"GET", "/v1/subscribe?q=fail+XX000", "", nil, 500, "XX000"},
		{"GET", "/v1/subscribe?q=changes", "", []string{"Accept", "application/json"}, 406, "08P01"},
		{"POST", "/v1/subscribe", `{"sql": "changes", "params": [1]}`, nil, 400, "0A000"},
		{"POST", "/v1/subscribe", `{"sql": 1}`, nil, 400, "08P01"},
		{"PUT", "/v1/subscribe?q=changes", "", nil, 405, "08P01"},
	} {
		req, _ := http.NewRequest(c.method, base+c.target, strings.NewReader(c.body))
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var a struct{ Error struct{ Code string } }
		if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != c.status || a.Error.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.target, resp.StatusCode, b, c.status, c.code)
		}
	}
}

func TestSubscribeToken(t *testing.T) {
	_, eng, base := pushServer(t, Options{HTTPToken: "s3cret"})
	resp := subscribe(t, context.Background(), http.MethodGet, base+"/v1/subscribe?q=changes+1", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
	for _, target := range []string{"/v1/subscribe?q=changes+1&access_token=s3cre", "/v1/subscribe?access_token=&q=changes+1"} {
		resp = subscribe(t, context.Background(), http.MethodGet, base+target, "")
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="weir", error="invalid_token"` {
			t.Fatalf("%s: %d %q", target, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// POST takes no token in the URL: it can send a header.
	resp = subscribe(t, context.Background(), http.MethodPost, base+"/v1/subscribe?access_token=s3cret", `{"sql": "changes 1"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST with ?access_token: %d", resp.StatusCode)
	}
	for _, h := range [][]string{{"Authorization", "Bearer s3cret"}, nil} {
		target := base + "/v1/subscribe?q=changes+1"
		if h == nil { // what an EventSource sends
			target += "&access_token=s3cret"
		}
		resp = subscribe(t, context.Background(), http.MethodGet, target, "", h...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %v: %d", target, h, resp.StatusCode)
		}
		resp.Body.Close()
		<-eng.closed
	}
}

// A shutdown ends the streams (with 57P01, so that clients reconnect
// elsewhere) instead of waiting for them until its grace is over.
func TestSubscribeShutdown(t *testing.T) {
	srv, eng, base := pushServer(t, Options{})
	resp := subscribe(t, context.Background(), http.MethodGet, base+"/v1/subscribe?q=changes", "")
	defer resp.Body.Close()
	rd := sseReader{bufio.NewScanner(resp.Body)}
	for range 3 {
		rd.next(t)
	}
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if ev := rd.next(t); ev.event != "error" || !strings.Contains(ev.data, `"code":"57P01"`) {
		t.Fatalf("got %+v", ev)
	}
	<-eng.closed
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeHeartbeat(t *testing.T) {
	rec := httptest.NewRecorder()
	out := &changeStream{w: rec, rc: http.NewResponseController(rec), sse: true}
	stop := out.heartbeat(time.Millisecond)
	for beats := 0; beats < 2; {
		time.Sleep(time.Millisecond)
		out.mu.Lock() // the heartbeat writes under it
		beats = strings.Count(rec.Body.String(), ": heartbeat\n\n")
		out.mu.Unlock()
	}
	stop()
	if !rec.Flushed || strings.Trim(rec.Body.String(), ": heartbeat\n") != "" {
		t.Fatalf("flushed %v, body %q", rec.Flushed, rec.Body.String())
	}
}

func TestStreamFormat(t *testing.T) {
	for _, c := range []struct {
		accept []string
		want   string
	}{
		{nil, mediaSSE},
		{[]string{"*/*"}, mediaSSE},
		{[]string{"text/event-stream"}, mediaSSE},
		{[]string{"application/x-ndjson"}, mediaNDJSON},
		{[]string{"application/x-ndjson, text/event-stream"}, mediaNDJSON},
		{[]string{"application/x-ndjson;q=0.5, text/event-stream"}, mediaSSE},
		{[]string{"application/json", "application/jsonl"}, mediaNDJSON},
		{[]string{"text/html, */*;q=0.1"}, mediaSSE},
		{[]string{"application/json"}, ""},
		{[]string{"text/event-stream;q=0"}, ""},
	} {
		got, err := streamFormat(c.accept)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("%q: %q, %v; want %q", c.accept, got, err, c.want)
		}
	}
}
