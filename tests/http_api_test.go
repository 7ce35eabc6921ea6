package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// curl runs curl with args against Weir's HTTP API and returns the status
// and body of the answer.
func curl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "60", "-w", "\n%{http_code}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	i := bytes.LastIndexByte(out, '\n') // -w puts the status after the body
	var status int
	fmt.Sscan(string(out[i+1:]), &status)
	return status, strings.TrimSpace(string(out[:max(i, 0)]))
}

// apiAnswer is what /v1/sql answers, decoded with numbers kept as written.
type apiAnswer struct {
	Results []struct {
		Columns []struct{ Name, Type string }
		Rows    [][]any
		Tag     string
		Notices []string
	}
	Error *apiError
}

type apiError struct {
	Code, Message, Detail, Hint string
	Position                    int
}

// postSQL sends a /v1/sql request with Go's client and decodes the answer.
func postSQL(t *testing.T, base, body string) (int, apiAnswer) {
	t.Helper()
	resp, err := http.Post(base+"/v1/sql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var a apiAnswer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: answer %s: %v", body, raw, err)
	}
	return resp.StatusCode, a
}

func sqlBody(sql string, params ...any) string {
	b, _ := json.Marshal(map[string]any{"sql": sql, "params": params})
	return string(b)
}

// TestHTTPAPI drives /v1/sql and /v1/ingest of the real binary with curl
// and Go's client: every common type through JSON both ways, errors with
// their SQLSTATE, NDJSON ingest with good and bad rows, and ingested rows
// that survive kill -9 right after the answer.
func TestHTTPAPI(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	base := "http://" + w.HTTPAddr()

	status, a := postSQL(t, base, sqlBody(`CREATE TABLE all_types (id BIGINT PRIMARY KEY, b BOOLEAN, i2 SMALLINT, i4 INTEGER,
		i8 BIGINT, r REAL, f DOUBLE PRECISION, n NUMERIC(12,3), v VARCHAR(10), c CHAR(3), t TEXT, by BYTEA, d DATE,
		tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL, j JSONB)`))
	if status != 200 || a.Error != nil || a.Results[0].Tag != "CREATE TABLE" {
		t.Fatalf("CREATE TABLE: %d %+v", status, a)
	}
	// Parameters go in as JSON (numbers, strings, booleans, objects).
	status, a = postSQL(t, base, sqlBody(`INSERT INTO all_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		1, true, -32768, 2147483647, int64(9007199254740993), 1.5, -2.25e-10, "12345.678", "varchar", "ab", "tab\there \"q\" é",
		`\x00ff10`, "2024-02-29", "13:14:15.5", "2024-01-02 03:04:05.25", "2024-07-01 12:00:00+02", "1 day 02:03:04",
		map[string]any{"k": []any{1, "x", nil}}))
	if status != 200 || a.Error != nil || a.Results[0].Tag != "INSERT 0 1" {
		t.Fatalf("INSERT: %d %+v", status, a)
	}
	status, a = postSQL(t, base, sqlBody(`INSERT INTO all_types (id) VALUES (2); SELECT * FROM all_types ORDER BY id`))
	if status != 200 || len(a.Results) != 2 {
		t.Fatalf("SELECT: %d %+v", status, a)
	}
	res := a.Results[1]
	var types []string
	for _, c := range res.Columns {
		types = append(types, c.Name+" "+c.Type)
	}
	wantTypes := []string{"id bigint", "b boolean", "i2 smallint", "i4 integer", "i8 bigint", "r real", "f double precision",
		"n numeric(12,3)", "v character varying(10)", "c character(3)", "t text", "by bytea", "d date", "tm time without time zone",
		"ts timestamp without time zone", "tz timestamp with time zone", "iv interval", "j jsonb"}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("columns %q\nwant %q", types, wantTypes)
	}
	want := [][]any{
		{json.Number("1"), true, json.Number("-32768"), json.Number("2147483647"), "9007199254740993", json.Number("1.5"),
			json.Number("-2.25e-10"), "12345.678", "varchar", "ab ", "tab\there \"q\" é", `\x00ff10`, "2024-02-29", "13:14:15.5",
			"2024-01-02T03:04:05.25", "2024-07-01T10:00:00+00:00", "1 day 02:03:04", map[string]any{"k": []any{json.Number("1"), "x", nil}}},
		{json.Number("2"), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	if !reflect.DeepEqual(res.Rows, want) || res.Tag != "SELECT 2" {
		t.Errorf("rows\n%#v\nwant\n%#v", res.Rows, want)
	}
	// The same values through pgwire: JSON gave what PostgreSQL's text
	// output gives, but for the ISO 8601 timestamps.
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	var text string
	if err := c.QueryRow(ctx, `SELECT concat_ws('|', i8, n, by, c, iv) FROM all_types WHERE id = 1`).Scan(&text); err != nil || text != `9007199254740993|12345.678|\x00ff10|ab |1 day 02:03:04` {
		t.Errorf("over pgwire: %q %v", text, err)
	}

	// Errors: the SQLSTATE, and the results of the statements before.
	for _, e := range []struct {
		sql     string
		status  int
		results int
		err     apiError
	}{
		{"SELECT 1; SELECT * FROM nope", 400, 1, apiError{Code: "42P01", Message: `relation "nope" does not exist`}},
		{"SELECT 1 +", 400, 0, apiError{Code: "42601", Message: "syntax error at end of input", Position: 11}},
		{"SELECT 1; SELECT 2; SELECT 1/0", 400, 2, apiError{Code: "22012", Message: "division by zero"}},
		{"INSERT INTO all_types (id) VALUES (1)", 400, 0, apiError{Code: "23505", Message: `duplicate key value violates unique constraint "all_types_pkey"`, Detail: "Key (id)=(1) already exists."}},
		{"SELECT * FROM all_types EMIT CHANGES", 400, 0, apiError{Code: "0A000", Message: "push queries (EMIT CHANGES) are not supported by /v1/sql",
			Hint: "Subscribe to the changes with GET /v1/subscribe?q=..., or over the PostgreSQL protocol."}},
	} {
		status, a := postSQL(t, base, sqlBody(e.sql))
		if status != e.status || len(a.Results) != e.results || a.Error == nil || *a.Error != e.err {
			t.Errorf("%s: %d, %d results, error %+v\nwant %d, %d results, error %+v", e.sql, status, len(a.Results), a.Error, e.status, e.results, e.err)
		}
	}
	// curl sends SQL as a form body by default: taken as the SQL text.
	if status, body := curl(t, base+"/v1/sql", "-d", "SELECT 'curl' AS who"); status != 200 || body != `{"results":[{"columns":[{"name":"who","type":"text"}],"rows":[["curl"]],"tag":"SELECT 1"}]}` {
		t.Errorf("curl -d: %d %s", status, body)
	}

	// Ingest: NDJSON with good and bad rows, through curl.
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGSERIAL PRIMARY KEY, client TEXT NOT NULL, amount NUMERIC(10,2), at TIMESTAMPTZ DEFAULT now(), tags JSONB)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW per_client AS SELECT client, count(*) AS n, sum(amount) AS total FROM events GROUP BY client`)
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.ndjson")
	ndjson := strings.Join([]string{
		`{"client": "c1", "amount": 10.5, "tags": {"src": "web"}}`,
		`{"client": "c2", "amount": "2"}`,
		`{"client": "c1", "amount": "lots"}`,
		`{"client": null}`,
		`{"CLIENT": "c2", "at": "2024-01-02T03:04:05Z"}`,
		`not json`,
		`{"client": "c3", "colour": "red"}`,
		`{"id": 1, "client": "dup"}`,
	}, "\n") + "\n"
	if err := os.WriteFile(rows, []byte(ndjson), 0o644); err != nil {
		t.Fatal(err)
	}
	status, body := curl(t, base+"/v1/ingest/events", "-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+rows)
	var ing struct {
		Accepted int
		Rejected []struct {
			Line  int
			Error apiError
		}
	}
	if err := json.Unmarshal([]byte(body), &ing); err != nil || status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	var rejected []string
	for _, r := range ing.Rejected {
		rejected = append(rejected, fmt.Sprintf("%d:%s", r.Line, r.Error.Code))
	}
	if ing.Accepted != 3 || strings.Join(rejected, " ") != "3:22P02 4:23502 6:22P02 7:42703 8:23505" {
		t.Errorf("ingest: accepted %d, rejected %v: %s", ing.Accepted, rejected, body)
	}
	var got string
	if err := c.QueryRow(ctx, `SELECT string_agg(client || '=' || n || '/' || coalesce(total::text, '-'), ' ' ORDER BY client) FROM per_client`).Scan(&got); err != nil || got != "c1=1/10.50 c2=2/2.00" {
		t.Errorf("view after ingest: %q %v", got, err)
	}
	if err := c.QueryRow(ctx, `SELECT tags->>'src' || ' ' || (SELECT at::text FROM events WHERE amount IS NULL) FROM events WHERE tags IS NOT NULL`).Scan(&got); err != nil || got != "web 2024-01-02 03:04:05+00" {
		t.Errorf("ingested values: %q %v", got, err)
	}
	for _, e := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/v1/ingest/per_client", `{"client": "x"}`, 400, "42809"},
		{"/v1/ingest/nope", `{"client": "x"}`, 404, "42P01"},
		{"/v1/ingest/events", "{\"amount\": 1}\n[]\n", 400, "23502"},
	} {
		status, body := curl(t, base+e.path, "--data-binary", e.body)
		if status != e.status || !strings.Contains(body, `"error":{"code":"`+e.code+`"`) {
			t.Errorf("%s %q: %d %s", e.path, e.body, status, body)
		}
	}

	// Durability: what was acknowledged survives kill -9 right after the
	// answer.
	var batch strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&batch, `{"client": "k%d", "amount": %d}`+"\n", i%7, i)
	}
	resp, err := http.Post(base+"/v1/ingest/events", "application/x-ndjson", strings.NewReader(batch.String()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	w.Kill()
	if resp.StatusCode != 200 || string(raw) != `{"accepted":5000,"rejected":[],"rejected_count":0}`+"\n" {
		t.Fatalf("5000 rows: %d %s", resp.StatusCode, raw)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	base = "http://" + w.HTTPAddr()
	status, a = postSQL(t, base, sqlBody(`SELECT count(*), sum(amount) FROM events WHERE client LIKE 'k%'; SELECT sum(n) FROM per_client`))
	if status != 200 || fmt.Sprint(a.Results[0].Rows) != "[[5000 12497500.00]]" || fmt.Sprint(a.Results[1].Rows) != "[[5003]]" {
		t.Fatalf("after kill -9: %d %+v", status, a)
	}
}

// TestHTTPAPIToken: with --http-token, every endpoint but the health ones
// needs the bearer token.
func TestHTTPAPIToken(t *testing.T) {
	w := startWeir(t, "--http-token=t0ken")
	base := "http://" + w.HTTPAddr()
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := curl(t, base+path); status != 200 {
			t.Errorf("%s without the token: %d", path, status)
		}
	}
	status, body := curl(t, base+"/v1/sql", "-d", "SELECT 1")
	if status != 401 || !strings.Contains(body, `"code":"28000"`) {
		t.Errorf("/v1/sql without the token: %d %s", status, body)
	}
	out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-D", "-", base+"/metrics", "-H", "Authorization: Bearer wrong").Output()
	if err != nil || !strings.Contains(string(out), " 401 ") || !strings.Contains(strings.ToLower(string(out)), `www-authenticate: bearer realm="weir", error="invalid_token"`) {
		t.Errorf("/metrics with a wrong token: %v\n%s", err, out)
	}
	if status, body := curl(t, base+"/v1/sql", "-H", "Authorization: Bearer t0ken", "-d", "SELECT 1 AS one"); status != 200 || !strings.Contains(body, `"rows":[[1]]`) {
		t.Errorf("/v1/sql with the token: %d %s", status, body)
	}
	if status, body := curl(t, base+"/metrics", "-H", "Authorization: Bearer t0ken"); status != 200 || !strings.Contains(body, "weir_statements_total") {
		t.Errorf("/metrics with the token: %d %.200s", status, body)
	}
}

// TestHTTPIngestRowAViewRefuses: a row that a view over the table refuses
// (a division by zero) is rejected alone; the other rows of the request
// go in.
func TestHTTPIngestRowAViewRefuses(t *testing.T) {
	w := startWeir(t)
	base := "http://" + w.HTTPAddr()
	status, a := postSQL(t, base, sqlBody(`CREATE TABLE m (id INT PRIMARY KEY, d INT); CREATE MATERIALIZED VIEW inv AS SELECT id, 100 / d AS q FROM m`))
	if status != 200 {
		t.Fatalf("setup: %d %+v", status, a)
	}
	var rows strings.Builder
	for i := 1; i <= 40; i++ {
		d := i
		if i == 7 || i == 31 {
			d = 0
		}
		fmt.Fprintf(&rows, `{"id": %d, "d": %d}`+"\n", i, d)
	}
	resp, err := http.Post(base+"/v1/ingest/m", "application/x-ndjson", strings.NewReader(rows.String()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ing struct {
		Accepted int
		Rejected []struct {
			Line  int
			Error apiError
		}
	}
	if err := json.Unmarshal(raw, &ing); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, raw)
	}
	var rejected []string
	for _, r := range ing.Rejected {
		rejected = append(rejected, fmt.Sprintf("%d:%s", r.Line, r.Error.Code))
	}
	if ing.Accepted != 38 || strings.Join(rejected, " ") != "7:22012 31:22012" {
		t.Fatalf("accepted %d, rejected %v: %s", ing.Accepted, rejected, raw)
	}
	status, a = postSQL(t, base, sqlBody(`SELECT count(*) FROM m; SELECT count(*) FROM inv`))
	if status != 200 || fmt.Sprint(a.Results[0].Rows) != "[[38]]" || fmt.Sprint(a.Results[1].Rows) != "[[38]]" {
		t.Fatalf("after: %d %+v", status, a)
	}
}
