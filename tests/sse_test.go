package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// sseEvent is one Server-Sent Event of /v1/subscribe.
type sseEvent struct {
	ID, Event, Data string
}

// readEvent reads the next event from sc, skipping the retry hint and
// comments; false at the end of the stream.
func readEvent(t *testing.T, sc *bufio.Scanner) (sseEvent, bool) {
	t.Helper()
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if ev.Event == "" {
				continue // a retry hint or a comment
			}
			return ev, true
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			ev.Data = value
		}
	}
	return ev, false
}

// expectEvents reads len(want) events ("op data", without ids) from sc.
func expectEvents(t *testing.T, sc *bufio.Scanner, want ...string) []sseEvent {
	t.Helper()
	var got []sseEvent
	for _, w := range want {
		ev, ok := readEvent(t, sc)
		if !ok {
			t.Fatalf("stream ended after %v, want %q: %v", got, w, sc.Err())
		}
		got = append(got, ev)
		if ev.Event+" "+ev.Data != w {
			t.Fatalf("event %d: got %q, want %q (so far %v)", len(got), ev.Event+" "+ev.Data, w, got)
		}
	}
	return got
}

// pushSubscribers is weir_push_subscribers as /metrics reports it.
func pushSubscribers(t *testing.T, w *weirtest.Weir) float64 {
	f := scrapeFamilies(t, w)["weir_push_subscribers"]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("weir_push_subscribers: %v", f)
	}
	return f.Metric[0].GetGauge().GetValue()
}

func waitSubscribers(t *testing.T, w *weirtest.Weir, n float64) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%v push subscribers", n), func() error {
		if got := pushSubscribers(t, w); got != n {
			return fmt.Errorf("%v", got)
		}
		return nil
	})
}

const c42Query = `SELECT * FROM events WHERE client_id = 'c42' EMIT CHANGES`

func subscribeURL(base, query string) string {
	return base + "/v1/subscribe?q=" + url.QueryEscape(query)
}

// TestSubscribeSSE reads the per-client live feed over Server-Sent Events
// with Go's client and with curl -N: the current rows, then the changes
// of INSERT/UPDATE/DELETE made over pgwire, only the client's; a client
// gone frees its subscription.
func TestSubscribeSSE(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	base := "http://" + w.HTTPAddr()
	c := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, client_id TEXT, payload JSONB, amount NUMERIC(10,2), at TIMESTAMPTZ)`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (1, 'c42', '{"k": [1, "x"]}', 12.50, '2024-07-01 12:00:00+00'), (2, 'c7', NULL, 1, NULL)`)

	// Go's client.
	sctx, stop := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, subscribeURL(base, c42Query), nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	first := expectEvents(t, sc, `insert {"id":1,"client_id":"c42","payload":{"k": [1, "x"]},"amount":"12.50","at":"2024-07-01T12:00:00+00:00"}`)
	// The one current row ends the current rows: its id is a position
	// to resume from (<run>.<epoch>.<row>).
	if parts := strings.Split(first[0].ID, "."); len(parts) != 3 {
		t.Fatalf("first id %q", first[0].ID)
	}

	// curl -N, alongside.
	curlCtx, stopCurl := context.WithCancel(ctx)
	defer stopCurl()
	cmd := exec.CommandContext(curlCtx, "curl", "-sSN", "-H", "Accept: text/event-stream", subscribeURL(base, c42Query))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	csc := bufio.NewScanner(out)
	expectEvents(t, csc, `insert {"id":1,"client_id":"c42","payload":{"k": [1, "x"]},"amount":"12.50","at":"2024-07-01T12:00:00+00:00"}`)
	waitSubscribers(t, w, 2)

	mustExec(t, ctx, c, `INSERT INTO events VALUES (3, 'c42', '[]', 3, NULL), (4, 'c7', NULL, 4, NULL)`)
	mustExec(t, ctx, c, `UPDATE events SET amount = amount + 1 WHERE id IN (1, 2)`)
	mustExec(t, ctx, c, `DELETE FROM events WHERE id = 3`)
	live := []string{
		`insert {"id":3,"client_id":"c42","payload":[],"amount":"3.00","at":null}`,
		`delete {"id":1,"client_id":"c42","payload":{"k": [1, "x"]},"amount":"12.50","at":"2024-07-01T12:00:00+00:00"}`,
		`insert {"id":1,"client_id":"c42","payload":{"k": [1, "x"]},"amount":"13.50","at":"2024-07-01T12:00:00+00:00"}`,
		`delete {"id":3,"client_id":"c42","payload":[],"amount":"3.00","at":null}`,
	}
	got := expectEvents(t, sc, live...)
	// Each event's id is its position: the epoch (one per statement
	// here) and its number in the epoch.
	run := strings.Split(first[0].ID, ".")[0]
	for i, want := range []string{".2.1", ".3.1", ".3.2", ".4.1"} {
		if got[i].ID != run+want {
			t.Errorf("event %q has id %q, want %s", got[i].Data, got[i].ID, run+want)
		}
	}
	expectEvents(t, csc, live...)

	// Each client gone frees its subscription.
	stopCurl()
	waitSubscribers(t, w, 1)
	stop()
	waitSubscribers(t, w, 0)
}

// TestSubscribeNDJSON reads a push query with a LIMIT as NDJSON, POSTed;
// the stream ends after the LIMIT.
func TestSubscribeNDJSON(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	base := "http://" + w.HTTPAddr()
	c := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, client_id TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (1, 'c42')`)

	body := `{"sql": "SELECT id FROM events WHERE client_id = 'c42' EMIT CHANGES LIMIT 3"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/subscribe", strings.NewReader(body))
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || line != `{"op":"insert","row":{"id":1}}`+"\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	mustExec(t, ctx, c, `INSERT INTO events VALUES (2, 'c42'), (3, 'c7')`)
	mustExec(t, ctx, c, `DELETE FROM events WHERE id = 1`)
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"insert","row":{"id":2}}` + "\n" + `{"op":"delete","row":{"id":1}}` + "\n" + `{"end":{"tag":"SELECT 3"}}` + "\n"
	if string(rest) != want {
		t.Fatalf("got\n%s\nwant\n%s", rest, want)
	}
	waitSubscribers(t, w, 0)
}

// TestSubscribeErrors: a query that is not a push query, or that fails to
// plan, is a JSON 400 with its SQLSTATE before any stream starts.
func TestSubscribeErrors(t *testing.T) {
	w := startWeir(t)
	base := "http://" + w.HTTPAddr()
	for _, c := range []struct{ query, code string }{
		{`SELECT 1`, "0A000"},
		{`SELECT * FROM nowhere EMIT CHANGES`, "42P01"},
		{`SELECT FROM WHERE EMIT CHANGES`, "42601"},
	} {
		status, body := curl(t, "-G", base+"/v1/subscribe", "--data-urlencode", "q="+c.query)
		var a struct{ Error apiError }
		if err := json.Unmarshal([]byte(body), &a); err != nil || status != 400 || a.Error.Code != c.code {
			t.Errorf("%s: %d %s, want 400 with %s", c.query, status, body, c.code)
		}
	}
	if n := pushSubscribers(t, w); n != 0 {
		t.Fatalf("%v subscribers", n)
	}
}

// TestSubscribeResume: a reconnect with Last-Event-ID resumes a query
// that keeps no state exactly after the last event it saw; a stateful
// query, or an id Weir did not give, gets a reset, then the current rows.
func TestSubscribeResume(t *testing.T) {
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	base := "http://" + w.HTTPAddr()
	c := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, client_id TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (1, 'c42'), (2, 'c42')`)
	open := func(query, lastID string) (*http.Response, *bufio.Scanner) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL(base, query), nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, bufio.NewScanner(resp.Body)
	}
	const feed = `SELECT id FROM events WHERE client_id = 'c42' EMIT CHANGES`
	resp, sc := open(feed, "")
	evs := expectEventsPrefix(t, sc, `insert {"id":`, `insert {"id":`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (3, 'c42')`)
	evs = append(evs, expectEventsPrefix(t, sc, `insert {"id":3}`)...)
	resp.Body.Close()
	last := evs[len(evs)-1].ID
	// Changes while the client is away, then the reconnect.
	mustExec(t, ctx, c, `INSERT INTO events VALUES (4, 'c42'), (5, 'c7')`)
	mustExec(t, ctx, c, `UPDATE events SET client_id = 'c7' WHERE id = 2`)
	resp, sc = open(feed, last)
	expectEventsPrefix(t, sc, `insert {"id":4}`, `delete {"id":2}`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (6, 'c42')`)
	expectEventsPrefix(t, sc, `insert {"id":6}`)
	resp.Body.Close()

	// An id Weir did not give: a reset, then the current rows.
	resp, sc = open(`SELECT id FROM events WHERE client_id = 'c42' EMIT CHANGES LIMIT 4`, "5")
	expectEventsPrefix(t, sc, `reset {"reason":"the stream cannot resume`, `insert {"id":`, `insert {"id":`, `insert {"id":`, `insert {"id":`, `end {"tag":"SELECT 4"}`)
	resp.Body.Close()
	// A query that keeps state (a count) starts over too.
	resp, sc = open(`SELECT count(*) AS n FROM events EMIT CHANGES LIMIT 1`, last)
	expectEventsPrefix(t, sc, `reset {"reason":"the stream cannot resume`, `insert {"n":6}`, `end {"tag":"SELECT 1"}`)
	resp.Body.Close()
}

// expectEventsPrefix is expectEvents where each want is a prefix of the
// event's "kind data".
func expectEventsPrefix(t *testing.T, sc *bufio.Scanner, want ...string) []sseEvent {
	t.Helper()
	var got []sseEvent
	for _, w := range want {
		ev, ok := readEvent(t, sc)
		if !ok {
			t.Fatalf("stream ended after %v, want %q: %v", got, w, sc.Err())
		}
		got = append(got, ev)
		if !strings.HasPrefix(ev.Event+" "+ev.Data, w) {
			t.Fatalf("event %d: got %q, want %q... (so far %v)", len(got), ev.Event+" "+ev.Data, w, got)
		}
	}
	return got
}

// TestSubscribeEventSource subscribes from a page in headless Chromium
// with EventSource. The test serves the page, and passes /v1/subscribe
// through to Weir, so that it can cut the first stream: EventSource
// reconnects by itself with Last-Event-ID and resumes exactly after the
// last event it saw. The page's origin is Weir's, or (cross-origin) the
// API is on another origin that Weir allows with --http-allow-origin and
// needs --http-token, which the page sends as ?access_token.
func TestSubscribeEventSource(t *testing.T) {
	t.Run("same-origin", func(t *testing.T) { testEventSource(t, false) })
	t.Run("cross-origin", func(t *testing.T) { testEventSource(t, true) })
}

func testEventSource(t *testing.T, crossOrigin bool) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: run make deps (it installs it)")
	}
	const token = "t0ken/+&="
	reports := make(chan string, 100)
	var mu sync.Mutex
	var proxy *httputil.ReverseProxy // to Weir, once it runs
	var cutFirst context.CancelFunc
	var lastEventIDs []string
	pageMux, apiMux := http.NewServeMux(), http.NewServeMux()
	page := httptest.NewServer(pageMux)
	defer page.Close()
	api := page
	if crossOrigin {
		api = httptest.NewServer(apiMux)
		defer api.Close()
	} else {
		apiMux = pageMux
	}
	var args []string
	esURL := api.URL + "/v1/subscribe?q=" + url.QueryEscape(c42Query)
	if crossOrigin {
		args = []string{"--http-token", token, "--http-allow-origin", page.URL}
		esURL += "&access_token=" + url.QueryEscape(token)
	}
	w := startWeir(t, args...)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeCacheStatement)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, client_id TEXT)`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (1, 'c42'), (2, 'c7')`)
	if crossOrigin {
		// What the page relies on: without the token, or from another
		// origin, the API refuses.
		resp, err := http.Get("http://" + w.HTTPAddr() + "/v1/subscribe?q=" + url.QueryEscape(c42Query))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("without the token: %d", resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodOptions, "http://"+w.HTTPAddr()+"/v1/subscribe", nil)
		req.Header.Set("Origin", "http://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
		}
	}

	weirURL, _ := url.Parse("http://" + w.HTTPAddr())
	proxy = httputil.NewSingleHostReverseProxy(weirURL)
	pageMux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><script>
let sent = Promise.resolve(); // one report at a time, in order
const report = s => { sent = sent.then(() => fetch('/report', {method: 'POST', body: s})); };
const es = new EventSource(%q);
for (const kind of ['insert', 'delete', 'reset', 'error']) {
  es.addEventListener(kind, e => {
    if (e.data !== undefined) report(kind + ' ' + e.lastEventId + ' ' + e.data); // not a connection error
  });
}
</script>`, esURL)
	})
	pageMux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reports <- string(b)
	})
	apiMux.HandleFunc("/v1/subscribe", func(w http.ResponseWriter, r *http.Request) {
		rctx := r.Context()
		mu.Lock()
		if r.Method == http.MethodGet {
			lastEventIDs = append(lastEventIDs, r.Header.Get("Last-Event-ID"))
			if cutFirst == nil {
				rctx, cutFirst = context.WithCancel(rctx)
			}
		}
		mu.Unlock()
		proxy.ServeHTTP(w, r.WithContext(rctx))
	})

	cctx, stopChromium := context.WithCancel(ctx)
	browser := exec.CommandContext(cctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), page.URL)
	if err := browser.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopChromium()
		browser.Wait()
	}()

	// expect waits for the page's next report, "kind id data", and
	// compares its kind and data; it returns the event's id.
	expect := func(want string) string {
		t.Helper()
		select {
		case got := <-reports:
			parts := strings.SplitN(got, " ", 3)
			if len(parts) != 3 || parts[0]+" "+parts[2] != want {
				t.Fatalf("the page got %q, want %q", got, want)
			}
			return parts[1]
		case <-ctx.Done():
			t.Fatalf("the page got nothing, want %q", want)
		}
		return ""
	}
	expect(`insert {"id":1,"client_id":"c42"}`)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (3, 'c42'), (4, 'c7')`)
	at := expect(`insert {"id":3,"client_id":"c42"}`)

	mu.Lock()
	cutFirst()
	mu.Unlock()
	// Written while the page reconnects: EventSource resumes with
	// Last-Event-ID, and the query (a filter) resumes exactly after the
	// row it saw last: no reset, nothing again, nothing missed.
	mustExec(t, ctx, c, `INSERT INTO events VALUES (5, 'c42'), (6, 'c7')`)
	expect(`insert {"id":5,"client_id":"c42"}`)
	mustExec(t, ctx, c, `DELETE FROM events WHERE id = 1`)
	expect(`delete {"id":1,"client_id":"c42"}`)
	mu.Lock()
	ids := lastEventIDs
	mu.Unlock()
	if len(ids) != 2 || ids[0] != "" || ids[1] != at {
		t.Fatalf("Last-Event-IDs sent: %q, want \"\" then %q", ids, at)
	}
	stopChromium()
	waitSubscribers(t, w, 0)
}
