package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// apiServer starts a Server with HTTP on a free port and returns its base
// URL.
func apiServer(t *testing.T, opts Options) (*Server, *fakeEngine, string) {
	t.Helper()
	opts.HTTPAddr = "127.0.0.1:0"
	srv, eng := testServer(t, opts)
	return srv, eng, "http://" + srv.HTTPAddr().String()
}

// post sends body to url and returns the status and the body of the answer.
func post(t *testing.T, ctx context.Context, url, contentType, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if !json.Valid(b) {
		t.Errorf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, strings.TrimSuffix(string(b), "\n"), resp.Header
}

func TestHTTPSQL(t *testing.T) {
	_, _, base := apiServer(t, Options{})
	const detail = `,"detail":"some detail","hint":"some hint"`
	for _, c := range []struct {
		contentType, body string
		status            int
		want              string
	}{
		{"text/plain", "rows 2", 200, `{"results":[{"columns":[{"name":"n","type":"integer"}],"rows":[[1],[2]],"tag":"SELECT 2"}]}`},
		{"", "nulls; insert; notice", 200, `{"results":[{"columns":[{"name":"a","type":"integer"},{"name":"b","type":"text"}],"rows":[[null,""]],"tag":"SELECT 1"},` +
			`{"tag":"INSERT 0 1"},{"tag":"DO","notices":["hello"]}]}`},
		{"", "rows 0", 200, `{"results":[{"columns":[{"name":"n","type":"integer"}],"rows":[],"tag":"SELECT 0"}]}`},
		{"", "", 200, `{"results":[]}`},
		{"", "ts", 200, `{"results":[{"columns":[{"name":"t","type":"timestamp with time zone"}],"rows":[["2000-01-01T00:00:00+00:00"]],"tag":"SELECT 1"}]}`},
		{"", "progress 2", 200, `{"results":[{"tag":"DO","notices":["step 1","step 2"]}]}`},
		{"application/json", `{"sql": "add $1 $2", "params": [40, "2"]}`, 200, `{"results":[{"columns":[{"name":"sum","type":"bigint"}],"rows":[[42]],"tag":"SELECT 1"}]}`},
		{"", ` {"sql": "add $1 $2", "params": [null, 1]}`, 200, `{"results":[{"columns":[{"name":"sum","type":"bigint"}],"rows":[[null]],"tag":"SELECT 1"}]}`},
		{"application/json", `{"sql": "echo $1", "params": [{"a": [1, "x"]}]}`, 200, `{"results":[{"columns":[{"name":"v","type":"text"}],"rows":[["{\"a\": [1, \"x\"]}"]],"tag":"SELECT 1"}]}`},
		{"", "begin; insert", 200, `{"results":[{"tag":"BEGIN"},{"tag":"INSERT 0 1","notices":["the request ended inside a transaction block: its changes were rolled back"]}]}`},
		// Errors: the results before, then the error.
		{"", "rows 1; fail 42P01; rows 1", 400, `{"results":[{"columns":[{"name":"n","type":"integer"}],"rows":[[1]],"tag":"SELECT 1"}],"error":{"code":"42P01","message":"failure 42P01"` + detail + `}}`},
		{"", "rows 1;\n syntax", 400, `{"results":[],"error":{"code":"42601","message":"syntax error at or near \"syntax\"","position":10}}`},
		{"", "fail XX000", 500, `{"results":[],"error":{"code":"XX000","message":"failure XX000"` + detail + `}}`},
		{"", "fail 53200", 503, `{"results":[],"error":{"code":"53200","message":"failure 53200"` + detail + `}}`},
		{"", "copy in", 400, `{"results":[],"error":{"code":"0A000","message":"COPY FROM STDIN is not supported by /v1/sql","hint":"POST the rows as NDJSON to /v1/ingest/<table>."}}`},
		{"", "panic", 500, `{"error":{"code":"XX000","message":"internal error: fake engine panic"}}`},
		{"application/json", `{"sql": "add $1 $2", "params": [1]}`, 400, `{"results":[],"error":{"code":"42P02","message":"the statement has 2 parameters but 1 were given"}}`},
		{"application/json", `{"sql": "add $1 $2", "params": [1, "x"]}`, 400, `{"results":[],"error":{"code":"22P02","message":"invalid input syntax for type bigint: \"x\"","detail":"parameter $2"}}`},
		{"application/json", `{"sql": "rows 1; rows 2", "params": [1]}`, 400, `{"results":[],"error":{"code":"42601","message":"cannot insert multiple commands into a prepared statement","hint":"\"params\" apply to a request of one statement."}}`},
		// Requests that cannot be read.
		{"application/json", `{"query": "rows 1"}`, 400, `{"error":{"code":"08P01","message":"invalid JSON request body","detail":"json: unknown field \"query\"","hint":"Send one object: {\"sql\": \"SELECT ...\", \"params\": [...]}."}}`},
		{"application/json", `{"sql": 1}`, 400, `{"error":{"code":"08P01","message":"invalid JSON request body","detail":"field \"sql\": found a JSON number","hint":"Send one object: {\"sql\": \"SELECT ...\", \"params\": [...]}."}}`},
		{"application/json", `{"sql": "rows 1"`, 400, `{"error":{"code":"08P01","message":"invalid JSON request body","detail":"unexpected EOF","hint":"Send one object: {\"sql\": \"SELECT ...\", \"params\": [...]}."}}`},
		{"application/json", `{}`, 400, `{"error":{"code":"08P01","message":"the request has no \"sql\"","hint":"Send one object: {\"sql\": \"SELECT ...\", \"params\": [...]}."}}`},
		{"text/plain", "rows 1 \xff", 400, `{"error":{"code":"22021","message":"invalid byte sequence for encoding \"UTF8\" in the SQL text"}}`},
	} {
		status, got, _ := post(t, ctx5(t), base+"/v1/sql", c.contentType, c.body)
		if status != c.status || got != c.want {
			t.Errorf("%q:\n got %d %s\nwant %d %s", c.body, status, got, c.status, c.want)
		}
	}
}

func TestHTTPSQLTimeoutAndCancel(t *testing.T) {
	_, eng, base := apiServer(t, Options{})
	eng.started = make(chan struct{}, 1)
	eng.finished = make(chan struct{}, 1)

	status, got, _ := post(t, ctx5(t), base+"/v1/sql?timeout=20ms", "", "rows 1; sleep")
	<-eng.started
	<-eng.finished
	if want := `{"results":[{"columns":[{"name":"n","type":"integer"}],"rows":[[1]],"tag":"SELECT 1"}],"error":{"code":"57014","message":"canceling statement due to statement timeout"}}`; status != 400 || got != want {
		t.Errorf("timeout: %d %s", status, got)
	}
	if status, got, _ := post(t, ctx5(t), base+"/v1/sql?timeout=soon", "", "rows 1"); status != 400 || !strings.Contains(got, `"code":"22023"`) {
		t.Errorf("bad timeout: %d %s", status, got)
	}

	// A client that goes away cancels its statement.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/sql", strings.NewReader("sleep"))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Error("a cancelled request was answered")
		}
	}()
	<-eng.started
	cancel()
	select {
	case <-eng.finished:
	case <-time.After(5 * time.Second):
		t.Fatal("the statement of a gone client still runs")
	}
	<-done
}

func TestHTTPShutdownCancelsAPIRequests(t *testing.T) {
	eng := &fakeEngine{started: make(chan struct{}, 1), finished: make(chan struct{}, 1)}
	srv, err := New(Options{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.Post("http://"+srv.HTTPAddr().String()+"/v1/sql", "text/plain", strings.NewReader("sleep"))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-eng.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want it to wait for the running request", err)
	}
	select {
	case <-eng.finished:
	default:
		t.Fatal("Shutdown returned before the request's statement ended")
	}
}

func TestHTTPPathsMethodsLimits(t *testing.T) {
	_, _, base := apiServer(t, Options{})
	for _, path := range []string{"/v1/sql", "/v1/ingest/t"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || !strings.Contains(string(b), `"code":"08P01"`) {
			t.Errorf("GET %s: %d Allow=%q %s", path, resp.StatusCode, resp.Header.Get("Allow"), b)
		}
	}
	for _, path := range []string{"/v1/nope", "/v1/ingest/", "/v1/ingest/a/b", "/v1/sql/x"} {
		if status, got, _ := post(t, ctx5(t), base+path, "", "rows 1"); status != 404 || !strings.Contains(got, "not found") {
			t.Errorf("POST %s: %d %s", path, status, got)
		}
	}
	big := strings.Repeat("x", maxAPIBody+1)
	for _, path := range []string{"/v1/sql", "/v1/ingest/t"} {
		if status, got, _ := post(t, ctx5(t), base+path, "", big); status != 413 || !strings.Contains(got, `"code":"54000"`) {
			t.Errorf("%s, %d bytes: %d %s", path, len(big), status, got)
		}
	}
}

// request sends body to url with method and the headers given as name,
// value pairs; it returns the answer's status and headers.
func request(t *testing.T, method, url, body string, header ...string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestHTTPToken(t *testing.T) {
	_, _, base := apiServer(t, Options{HTTPToken: "s3cret"})
	get := func(path string, header ...string) (int, http.Header) {
		t.Helper()
		return request(t, http.MethodGet, base+path, "", header...)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := get(path); status != 200 {
			t.Errorf("%s without a token: %d", path, status)
		}
	}
	if status, h := get("/metrics"); status != 401 || h.Get("WWW-Authenticate") != `Bearer realm="weir"` {
		t.Errorf("/metrics without a token: %d %q", status, h.Get("WWW-Authenticate"))
	}
	if status, _ := get("/metrics", "Authorization", "Bearer s3cret"); status != 200 {
		t.Errorf("/metrics with the token: %d", status)
	}
	const unauthorized = `{"error":{"code":"28000","message":"this endpoint needs a bearer token: send Authorization: Bearer <token>"}}`
	if status, got, h := post(t, ctx5(t), base+"/v1/sql", "", "rows 1"); status != 401 || got != unauthorized || h.Get("WWW-Authenticate") == "" {
		t.Errorf("/v1/sql without a token: %d %s", status, got)
	}
	for _, auth := range []string{"Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret", "Bearer"} {
		status, got, h := post(t, ctx5(t), base+"/v1/sql", "", "rows 1", "Authorization", auth)
		if status != 401 || !strings.Contains(got, "invalid bearer token") || h.Get("WWW-Authenticate") != `Bearer realm="weir", error="invalid_token"` {
			t.Errorf("Authorization %q: %d %s %q", auth, status, got, h.Get("WWW-Authenticate"))
		}
	}
	for _, auth := range []string{"Bearer s3cret", "bearer s3cret"} {
		if status, got, _ := post(t, ctx5(t), base+"/v1/sql", "", "rows 1", "Authorization", auth); status != 200 {
			t.Errorf("Authorization %q: %d %s", auth, status, got)
		}
	}
	if status, _, _ := post(t, ctx5(t), base+"/nope", "", "", "Authorization", "Bearer s3cret"); status != 404 {
		t.Errorf("unknown path with the token: %d", status)
	}
}

// The fake engine ingests into "t" (id bigint, v text): a row with id 13
// is a duplicate key, one with id 666 breaks the engine; "ro" cannot be
// written; anything else does not exist.
func (s *fakeSession) Ingest(ctx context.Context, relation string) (Ingest, error) {
	switch relation {
	case "t":
		return &fakeIngest{eng: s.eng}, nil
	case "ro":
		return nil, sqlerr.New(sqlerr.WrongObjectType, "cannot change source \"ro\"")
	}
	return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", relation)
}

type fakeIngest struct {
	eng  *fakeEngine
	rows []string
}

func (in *fakeIngest) Columns() []Column {
	return []Column{{Name: "id", Type: types.Int64}, {Name: "v", Type: types.Text}}
}

func (in *fakeIngest) Insert(ctx context.Context, cols []int, rows []types.Row) (int, error) {
	for i, r := range rows {
		var text []string
		for j, d := range r {
			if cols[j] == 0 && d.Int() == 13 {
				return i, sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"t_pkey\"")
			}
			if cols[j] == 0 && d.Int() == 666 {
				return i, errors.New("disk on fire")
			}
			text = append(text, in.Columns()[cols[j]].Name+"="+types.TextString(d, nil))
		}
		in.rows = append(in.rows, strings.Join(text, ","))
	}
	return len(rows), nil
}

func (in *fakeIngest) Commit(ctx context.Context) error {
	in.eng.mu.Lock()
	defer in.eng.mu.Unlock()
	in.eng.copied = append(in.eng.copied, in.rows...)
	return nil
}

func (in *fakeIngest) Close() {}

func TestHTTPIngest(t *testing.T) {
	_, eng, base := apiServer(t, Options{})
	committed := func() string {
		eng.mu.Lock()
		defer eng.mu.Unlock()
		out := strings.Join(eng.copied, ";")
		eng.copied = nil
		return out
	}
	body := strings.Join([]string{
		`{"id": 1, "v": "a"}`,
		`{"ID": "2"}`,
		``,
		`{"id": 13, "v": "dup"}`,
		`{"id": 3, "v": "b"}`,
		`{"id": 4, "w": "x"}`,
		`[1, 2]`,
		`{"id": 1.5}`,
		`{"id": 5, "v": {"nested": true}}`,
		`{"id": 6, "id": 7} `,
		`{"id": 8, "Id": 9}`,
		`{"v": null}`,
		`{"id": 10,`,
	}, "\n")
	status, got, _ := post(t, ctx5(t), base+"/v1/ingest/t", "application/x-ndjson", body)
	want := `{"accepted":6,"rejected":[` +
		`{"line":4,"error":{"code":"23505","message":"duplicate key value violates unique constraint \"t_pkey\""}},` +
		`{"line":6,"error":{"code":"42703","message":"column \"w\" of relation \"t\" does not exist"}},` +
		`{"line":7,"error":{"code":"22P02","message":"expected a JSON object, found an array","hint":"Send one JSON object per line, keyed by column name."}},` +
		`{"line":8,"error":{"code":"22P02","message":"invalid input syntax for type bigint: \"1.5\"","detail":"column \"id\""}},` +
		`{"line":11,"error":{"code":"42701","message":"column \"id\" specified more than once"}},` +
		`{"line":13,"error":{"code":"22P02","message":"invalid input syntax for type json","detail":"unexpected end of JSON input (at byte 10)"}}` +
		`],"rejected_count":6}`
	if status != 200 || got != want {
		t.Errorf("mixed rows:\n got %d %s\nwant 200 %s", status, got, want)
	}
	if got, want := committed(), `id=1,v=a;id=2;id=3,v=b;id=5,v={"nested": true};id=7;v=`; got != want {
		t.Errorf("committed %s, want %s", got, want)
	}

	status, got, _ = post(t, ctx5(t), base+"/v1/ingest/t", "", "{\"id\": 13}\n\"x\"\n")
	want = `{"accepted":0,"rejected":[{"line":1,"error":{"code":"23505","message":"duplicate key value violates unique constraint \"t_pkey\""}},` +
		`{"line":2,"error":{"code":"22P02","message":"expected a JSON object, found a string","hint":"Send one JSON object per line, keyed by column name."}}],"rejected_count":2,` +
		`"error":{"code":"23505","message":"no row was inserted: 2 rejected","detail":"line 1: duplicate key value violates unique constraint \"t_pkey\""}}`
	if status != 400 || got != want {
		t.Errorf("no good rows:\n got %d %s\nwant 400 %s", status, got, want)
	}
	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/v1/ingest/t", "", 200, `{"accepted":0,"rejected":[],"rejected_count":0}`},
		{"/v1/ingest/t", "{\"id\": 1}\n{\"id\": 666}", 500, `{"error":{"code":"XX000","message":"disk on fire"}}`},
		{"/v1/ingest/ro", `{"id": 1}`, 400, `{"error":{"code":"42809","message":"cannot change source \"ro\""}}`},
		{"/v1/ingest/nope", `{"id": 1}`, 404, `{"error":{"code":"42P01","message":"relation \"nope\" does not exist"}}`},
	} {
		if status, got, _ := post(t, ctx5(t), base+c.path, "", c.body); status != c.status || got != c.want {
			t.Errorf("%s %q:\n got %d %s\nwant %d %s", c.path, c.body, status, got, c.status, c.want)
		}
	}
	if got := committed(); got != "" {
		t.Errorf("failed requests committed %s", got)
	}

	// Many rows go in batches; a rejected row in the middle of one keeps
	// the rest of it.
	var many bytes.Buffer
	for i := range 3000 {
		id := i + 1000
		if i == 1500 {
			id = 13
		}
		many.WriteString(`{"id":` + itoa(id) + "}\n")
	}
	status, got, _ = post(t, ctx5(t), base+"/v1/ingest/t", "", many.String())
	if want := `{"accepted":2999,"rejected":[{"line":1501,"error":{"code":"23505","message":"duplicate key value violates unique constraint \"t_pkey\""}}],"rejected_count":1}`; status != 200 || got != want {
		t.Errorf("3000 rows: %d %s", status, got)
	}
	if n := strings.Count(committed(), "id="); n != 2999 {
		t.Errorf("committed %d rows, want 2999", n)
	}
}

func itoa(i int) string { return strings.TrimSpace(types.TextString(types.NewInt64(int64(i)), nil)) }

func TestJSONValues(t *testing.T) {
	for _, c := range []struct {
		d    types.Datum
		want string
	}{
		{types.NullOf(types.KindInt64), `null`},
		{types.NewBool(true), `true`},
		{types.NewInt32(-7), `-7`},
		{types.NewInt64(1 << 53), `9007199254740992`},
		{types.NewInt64(1<<53 + 1), `"9007199254740993"`},
		{types.NewInt64(-1<<53 - 1), `"-9007199254740993"`},
		{types.NewFloat64(1.5e300), `1.5e+300`},
		{types.NewText("a\"\n"), `"a\"\n"`},
		{types.NewBytea([]byte{0, 255}), `"\\x00ff"`},
		{types.NewDate(0), `"2000-01-01"`},
		{types.NewTimestamp(1_500_000), `"2000-01-01T00:00:01.5"`},
	} {
		if got := string(appendJSONValue(nil, c.d, nil)); got != c.want {
			t.Errorf("%v: got %s, want %s", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		t    types.Type
		in   string
		want string // the datum's text, or ERR:code
	}{
		{types.Int64, `12`, "12"},
		{types.Int64, `"12"`, "12"},
		{types.Int64, `12.5`, "ERR:22P02"},
		{types.Int64, `true`, "ERR:22P02"},
		{types.Int64, `null`, "NULL"},
		{types.Bool, `true`, "t"},
		{types.Bool, `"off"`, "f"},
		{types.Text, `"a\u00e9\ud83d\ude00"`, "aé😀"},
		{types.Text, `{"b": 1}`, `{"b": 1}`},
		{types.Text, `12.50`, "12.50"},
		{types.JSONB, `"x"`, `"x"`},
		{types.JSONB, `{"b": [1, {"a": null}]}`, `{"b": [1, {"a": null}]}`},
		{types.JSONB, `null`, "NULL"},
		{types.Bytea, `"\\x0aff"`, `\x0aff`},
		{types.TimestampTZ, `"2024-01-02T03:04:05+02:00"`, "2024-01-02 01:04:05+00"},
		{types.Float64, `1e400`, "ERR:22003"},
	} {
		d, err := datumFromJSON(c.t, []byte(c.in), nil)
		got := "NULL"
		if err != nil {
			got = "ERR:" + string(sqlerr.CodeOf(err))
		} else if !d.IsNull() {
			got = types.TextString(d, nil)
		}
		if got != c.want {
			t.Errorf("%s from %s: got %s, want %s", c.t, c.in, got, c.want)
		}
	}
}

// requireToken takes ?access_token on GET /v1/subscribe only, and the
// handler behind it never sees the token.
func TestAccessTokenParameter(t *testing.T) {
	var seen string
	h := requireToken("s3cret", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.URL.RawQuery }))
	for _, tc := range []struct {
		method, target string
		status         int
		query          string // what the handler sees
	}{
		{http.MethodGet, "/v1/subscribe?q=x&access_token=s3cret", 200, "q=x"},
		{http.MethodGet, "/v1/subscribe?access_token=s3cret&q=a%26b", 200, "q=a%26b"},
		{http.MethodGet, "/v1/subscribe?q=x&access_token=wrong", 401, ""},
		{http.MethodPost, "/v1/subscribe?access_token=s3cret", 401, ""},
		{http.MethodGet, "/v1/sql?access_token=s3cret", 401, ""},
		{http.MethodGet, "/metrics?access_token=s3cret", 401, ""},
	} {
		seen = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != tc.status || seen != tc.query {
			t.Errorf("%s %s: %d, handler saw %q; want %d, %q", tc.method, tc.target, rec.Code, seen, tc.status, tc.query)
		}
	}
}

func TestCORS(t *testing.T) {
	_, _, base := apiServer(t, Options{HTTPToken: "s3cret", HTTPAllowOrigins: []string{"http://app.example:8080", "https://b.example"}})
	do := func(method, path string, header ...string) (int, http.Header) {
		t.Helper()
		return request(t, method, base+path, "rows 1", header...)
	}
	// A preflight needs no token.
	status, h := do(http.MethodOptions, "/v1/sql", "Origin", "http://app.example:8080", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if status != 204 || h.Get("Access-Control-Allow-Origin") != "http://app.example:8080" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Vary") != "Origin" {
		t.Errorf("preflight: %d %v", status, h)
	}
	if status, h := do(http.MethodOptions, "/v1/subscribe", "Origin", "http://evil.example", "Access-Control-Request-Method", "GET"); status != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", status, h)
	}
	// The answers, 401 included, tell an allowed page it may read them.
	for _, auth := range []string{"Bearer s3cret", ""} {
		status, h := do(http.MethodPost, "/v1/sql", "Origin", "https://b.example", "Authorization", auth)
		if want := map[string]int{"": 401}[auth]; (want != 0 && status != want) || (want == 0 && status != 200) || h.Get("Access-Control-Allow-Origin") != "https://b.example" {
			t.Errorf("POST with Authorization %q: %d %v", auth, status, h)
		}
	}
	if _, h := do(http.MethodPost, "/v1/sql", "Origin", "http://evil.example", "Authorization", "Bearer s3cret"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin: %v", h)
	}
	if _, h := do(http.MethodGet, "/metrics", "Origin", "https://b.example", "Authorization", "Bearer s3cret"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/metrics is not the API: %v", h)
	}

	_, _, base = apiServer(t, Options{HTTPAllowOrigins: []string{"*"}})
	if status, h := do(http.MethodOptions, "/v1/subscribe", "Origin", "null", "Access-Control-Request-Method", "GET"); status != 204 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("any origin: %d %v", status, h)
	}
	if _, h := do(http.MethodPost, "/v1/sql", "Origin", "http://x.example"); h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("any origin: %v", h)
	}
	if _, h := do(http.MethodPost, "/v1/sql"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no Origin: %v", h)
	}
}

func TestAllowOriginsValidated(t *testing.T) {
	for _, origin := range []string{"example.com", "http://a.example/", "http://a.example/path", "http://u@a.example", ""} {
		o := (&Options{HTTPAllowOrigins: []string{origin}}).EnsureDefaults()
		if err := o.Validate(); err == nil {
			t.Errorf("origin %q accepted", origin)
		}
	}
	o := (&Options{HTTPAllowOrigins: []string{"*", "https://a.example", "http://127.0.0.1:8080"}}).EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}
