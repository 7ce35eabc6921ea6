package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// request is what a receiver got.
type request struct {
	method string
	header nethttp.Header
	body   string
}

// receiver is an endpoint that records its requests and answers the n-th
// (from 0) with answer.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(n int, w nethttp.ResponseWriter, r *nethttp.Request)
}

func newReceiver(t *testing.T, answer func(n int, w nethttp.ResponseWriter, r *nethttp.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(nethttp.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, request{method: r.Method, header: r.Header.Clone(), body: string(body)})
	rc.mu.Unlock()
	if rc.answer != nil {
		rc.answer(n, w, r)
	}
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// statuses answers the n-th request with codes[n], and 200 after them.
func statuses(codes ...int) func(int, nethttp.ResponseWriter, *nethttp.Request) {
	return func(n int, w nethttp.ResponseWriter, _ *nethttp.Request) {
		if n < len(codes) {
			w.WriteHeader(codes[n])
		}
	}
}

// testRelation is the sink alerts (object id 42) of (id bigint, name text).
var testRelation = &catalog.Relation{ID: 42, Name: "alerts", Kind: catalog.Sink, Columns: []catalog.Column{
	{Name: "id", Type: types.Int64}, {Name: "name", Type: types.Text},
}}

// openSink opens an http sink of testRelation to url with opts (and a
// 1ms backoff). Its waits are recorded in *waits, not waited.
func openSink(t testing.TB, url string, opts map[string]string, waits *[]time.Duration) *sink {
	t.Helper()
	o := map[string]string{"connector": "http", "url": url, "retry.backoff": "1ms"}
	for k, v := range opts {
		o[k] = v
	}
	es, err := (&Connector{}).OpenSink(context.Background(), executor.SinkConfig{Name: testRelation.Name, Relation: testRelation, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	s := es.(*sink)
	if waits != nil {
		var mu sync.Mutex
		s.sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			*waits = append(*waits, d)
			mu.Unlock()
			return ctx.Err()
		}
	}
	return s
}

func row(id int64, name string) types.Row { return types.Row{types.NewInt64(id), types.NewText(name)} }

// inserts returns n inserts of rows 1..n.
func inserts(n int) []executor.Change {
	out := make([]executor.Change, n)
	for i := range out {
		out[i] = executor.Change{Op: executor.ChangeInsert, After: row(int64(i+1), "r"+strconv.Itoa(i+1))}
	}
	return out
}

// deadLetters returns the letters of a Write's error (none for nil).
func deadLetters(t *testing.T, err error) []executor.DeadLetter {
	t.Helper()
	if err == nil {
		return nil
	}
	var dl *executor.DeadLettersError
	if !errors.As(err, &dl) {
		t.Fatalf("Write: %v, want dead letters or nil", err)
	}
	return dl.Letters
}

func TestBatchesArray(t *testing.T) {
	rc := newReceiver(t, nil)
	s := openSink(t, rc.URL+"/alerts", map[string]string{
		"batch.max_rows": "2", "method": "put", "headers.authorization": "Bearer t0ken", "headers.x-tenant": "acme",
	}, nil)
	changes := []executor.Change{
		{Op: executor.ChangeInsert, After: row(1, "a")},
		{Op: executor.ChangeUpdate, Before: row(2, "b"), After: row(2, "B")},
		{Op: executor.ChangeDelete, Before: row(3, `"c"`)},
		{Op: executor.ChangeInsert, After: types.Row{types.NewInt64(4), types.Null}},
		{Op: executor.ChangeInsert, After: row(5, "é")},
	}
	if err := s.Write(context.Background(), 7, changes); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`[{"op":"insert","before":null,"after":{"id":1,"name":"a"}},{"op":"update","before":{"id":2,"name":"b"},"after":{"id":2,"name":"B"}}]`,
		`[{"op":"delete","before":{"id":3,"name":"\"c\""},"after":null},{"op":"insert","before":null,"after":{"id":4,"name":null}}]`,
		`[{"op":"insert","before":null,"after":{"id":5,"name":"é"}}]`,
	}
	reqs := rc.requests()
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.body != want[i] {
			t.Errorf("request %d: body\n%s\nwant\n%s", i, r.body, want[i])
		}
		if !json.Valid([]byte(r.body)) {
			t.Errorf("request %d: invalid JSON", i)
		}
		h := r.header
		for name, v := range map[string]string{
			"Content-Type": "application/json", "Idempotency-Key": "weir-42-7-" + strconv.Itoa(i),
			"X-Weir-Sink": "alerts", "X-Weir-Epoch": "7", "X-Weir-Batch": strconv.Itoa(i),
			"Authorization": "Bearer t0ken", "X-Tenant": "acme",
		} {
			if got := h.Get(name); got != v {
				t.Errorf("request %d: %s = %q, want %q", i, name, got, v)
			}
		}
		if r.method != "PUT" {
			t.Errorf("request %d: method %s", i, r.method)
		}
	}
	// An epoch whose changes all cancelled out sends nothing.
	if err := s.Write(context.Background(), 8, nil); err != nil || len(rc.requests()) != 3 {
		t.Fatalf("empty epoch: %v, %d requests", err, len(rc.requests()))
	}
}

func TestBatchesNDJSON(t *testing.T) {
	rc := newReceiver(t, nil)
	s := openSink(t, rc.URL, map[string]string{"batch.format": "ndjson", "batch.max_rows": "500"}, nil)
	if err := s.Write(context.Background(), 1, inserts(1200)); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	id := 0
	for i, r := range reqs {
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type %q", ct)
		}
		lines := strings.Split(strings.TrimSuffix(r.body, "\n"), "\n")
		if want := []int{500, 500, 200}[i]; len(lines) != want || !strings.HasSuffix(r.body, "\n") {
			t.Fatalf("request %d: %d lines, want %d, newline-terminated", i, len(lines), want)
		}
		for _, line := range lines {
			var c struct {
				Op     string
				Before *struct{}
				After  struct {
					ID   int
					Name string
				}
			}
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			id++
			if c.Op != "insert" || c.Before != nil || c.After.ID != id || c.After.Name != "r"+strconv.Itoa(id) {
				t.Fatalf("change %d: %s", id, line)
			}
		}
	}
}

// A Write retried by the engine, and the same epoch written after a
// restart (a new sink of the same object), send the same requests under
// the same keys, so that the receiver can drop the repeats.
func TestIdempotencyKeysStable(t *testing.T) {
	rc := newReceiver(t, nil)
	opts := map[string]string{"batch.max_rows": "3"}
	changes := inserts(7)
	for range 2 {
		if err := openSink(t, rc.URL, opts, nil).Write(context.Background(), 12, changes); err != nil {
			t.Fatal(err)
		}
	}
	s := openSink(t, rc.URL, opts, nil)
	if err := s.Write(context.Background(), 12, changes); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 9 {
		t.Fatalf("%d requests, want 9", len(reqs))
	}
	for i := 3; i < 9; i++ {
		a, b := reqs[i%3], reqs[i]
		if a.body != b.body || a.header.Get("Idempotency-Key") != b.header.Get("Idempotency-Key") {
			t.Errorf("request %d differs from %d", i, i%3)
		}
	}
	if k := reqs[2].header.Get("Idempotency-Key"); k != "weir-42-12-2" {
		t.Errorf("key %q", k)
	}
}

func TestRetries(t *testing.T) {
	date := time.Now().Add(20 * time.Second).UTC().Format(nethttp.TimeFormat)
	for _, tc := range []struct {
		name    string
		answers []func(nethttp.ResponseWriter)
		waits   []time.Duration // exact waits; -1 for a jittered one
	}{
		{"500 then 503", []func(nethttp.ResponseWriter){status(500, ""), status(503, "")}, []time.Duration{-1, -1}},
		{"408", []func(nethttp.ResponseWriter){status(408, "")}, []time.Duration{-1}},
		{"429 Retry-After seconds", []func(nethttp.ResponseWriter){status(429, "7")}, []time.Duration{7 * time.Second}},
		{"503 Retry-After date", []func(nethttp.ResponseWriter){status(503, date)}, []time.Duration{-2}},
		{"429 Retry-After capped", []func(nethttp.ResponseWriter){status(429, "3600")}, []time.Duration{maxBackoff}},
		{"429 Retry-After unreadable", []func(nethttp.ResponseWriter){status(429, "soon")}, []time.Duration{-1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(n int, w nethttp.ResponseWriter, _ *nethttp.Request) {
				if n < len(tc.answers) {
					tc.answers[n](w)
				}
			})
			var waits []time.Duration
			s := openSink(t, rc.URL, nil, &waits)
			if err := s.Write(context.Background(), 1, inserts(3)); err != nil {
				t.Fatal(err)
			}
			reqs := rc.requests()
			if len(reqs) != len(tc.answers)+1 {
				t.Fatalf("%d requests, want %d", len(reqs), len(tc.answers)+1)
			}
			for _, r := range reqs[1:] {
				if r.body != reqs[0].body || r.header.Get("Idempotency-Key") != "weir-42-1-0" {
					t.Fatalf("a retry differs: %q %q", r.header.Get("Idempotency-Key"), r.body)
				}
			}
			if len(waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %d", waits, len(tc.waits))
			}
			for i, w := range tc.waits {
				switch {
				case w == -1: // full jitter under the doubling ceiling
					if waits[i] < 0 || waits[i] > time.Millisecond<<i {
						t.Errorf("wait %d: %s", i, waits[i])
					}
				case w == -2: // the date, to the second
					if waits[i] < 18*time.Second || waits[i] > 20*time.Second {
						t.Errorf("wait %d: %s", i, waits[i])
					}
				case waits[i] != w:
					t.Errorf("wait %d: %s, want %s", i, waits[i], w)
				}
			}
			if err := s.Health(); err != nil {
				t.Errorf("Health after delivery: %v", err)
			}
		})
	}
}

// status answers with code, and a Retry-After when retryAfter is set.
func status(code int, retryAfter string) func(nethttp.ResponseWriter) {
	return func(w nethttp.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
	}
}

// Requests that get no response (the connection closed, no answer within
// the timeout) are retried.
func TestRetryNetworkErrors(t *testing.T) {
	rc := newReceiver(t, func(n int, w nethttp.ResponseWriter, r *nethttp.Request) {
		switch n {
		case 0:
			conn, _, err := w.(nethttp.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case 1:
			<-r.Context().Done() // past the sink's timeout
		}
	})
	s := openSink(t, rc.URL, map[string]string{"timeout": "50ms"}, nil)
	var healths []string
	s.sleep = func(ctx context.Context, d time.Duration) error {
		healths = append(healths, s.Health().Error())
		return nil
	}
	if err := s.Write(context.Background(), 1, inserts(2)); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.requests()); n < 3 {
		t.Fatalf("%d requests, want at least 3", n)
	}
	if len(healths) != 2 || !strings.Contains(healths[1], "no response within 50ms") {
		t.Fatalf("health while retrying: %q", healths)
	}
	if strings.Contains(healths[0], rc.URL) {
		t.Errorf("health names the url: %s", healths[0])
	}
	if err := s.Health(); err != nil {
		t.Fatalf("Health after delivery: %v", err)
	}
}

// A request refused for good (400) is not retried: it becomes a dead
// letter, and the epoch's later requests are still sent, in order.
func TestNoRetryOn400(t *testing.T) {
	rc := newReceiver(t, func(n int, w nethttp.ResponseWriter, _ *nethttp.Request) {
		if n == 0 {
			w.WriteHeader(400)
			io.WriteString(w, "bad record: id 1\n")
		}
	})
	var waits []time.Duration
	s := openSink(t, rc.URL, map[string]string{"batch.max_rows": "1"}, &waits)
	letters := deadLetters(t, s.Write(context.Background(), 5, inserts(3)))
	reqs := rc.requests()
	if len(reqs) != 3 || len(waits) != 0 {
		t.Fatalf("%d requests, waits %v; want 3, none", len(reqs), waits)
	}
	for i, r := range reqs {
		if k := r.header.Get("Idempotency-Key"); k != "weir-42-5-"+strconv.Itoa(i) {
			t.Errorf("request %d: key %s", i, k)
		}
	}
	if len(letters) != 1 {
		t.Fatalf("letters %+v", letters)
	}
	l := letters[0]
	if l.Status != 400 || l.Response != "bad record: id 1\n" || l.Attempts != 1 || l.Key != "weir-42-5-0" || string(l.Payload) != reqs[0].body {
		t.Fatalf("letter %+v", l)
	}
	if err := s.Health(); err != nil {
		t.Errorf("Health after the later deliveries: %v", err)
	}
}

// Past retry.max, a request that keeps failing is a dead letter: with the
// last status and the first KiB of its body, or the error.
func TestDeadLetterAfterRetries(t *testing.T) {
	long := strings.Repeat("x", 1001) + strings.Repeat("é", 100)
	rc := newReceiver(t, func(_ int, w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.WriteHeader(503)
		io.WriteString(w, long)
	})
	var waits []time.Duration
	s := openSink(t, rc.URL, map[string]string{"retry.max": "2", "batch.max_rows": "2"}, &waits)
	letters := deadLetters(t, s.Write(context.Background(), 9, inserts(3)))
	if len(letters) != 2 || len(rc.requests()) != 6 || len(waits) != 4 {
		t.Fatalf("%d letters, %d requests, waits %v", len(letters), len(rc.requests()), waits)
	}
	for i, l := range letters {
		if l.Status != 503 || l.Attempts != 3 || l.Key != "weir-42-9-"+strconv.Itoa(i) {
			t.Errorf("letter %d: %d %d %s", i, l.Status, l.Attempts, l.Key)
		}
		// 1024 bytes cut inside an "é": the half character is replaced.
		if want := long[:1024-1] + "\uFFFD"; l.Response != want {
			t.Errorf("letter %d: response of %d bytes, want %d", i, len(l.Response), len(want))
		}
	}
	if h := s.Health(); h == nil || !strings.Contains(h.Error(), "HTTP 503 Service Unavailable: xxx") {
		t.Errorf("Health: %v", h)
	}

	// No server at all.
	rc.Close()
	letters = deadLetters(t, openSink(t, rc.URL, map[string]string{"retry.max": "1"}, &waits).Write(context.Background(), 10, inserts(1)))
	if len(letters) != 1 || letters[0].Status != 0 || letters[0].Attempts != 2 || !strings.Contains(letters[0].Response, "refused") {
		t.Fatalf("letters %+v", letters)
	}
}

// Redirects that keep the method and body (307, 308) are followed; the
// others would turn the request into a GET without the changes.
func TestRedirects(t *testing.T) {
	rc := newReceiver(t, func(_ int, w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/307":
			nethttp.Redirect(w, r, "/ok", nethttp.StatusTemporaryRedirect)
		case "/302":
			nethttp.Redirect(w, r, "/ok", nethttp.StatusFound)
		}
	})
	if err := openSink(t, rc.URL+"/307", nil, nil).Write(context.Background(), 1, inserts(1)); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[1].method != "POST" || reqs[1].body != reqs[0].body || reqs[1].header.Get("Idempotency-Key") != "weir-42-1-0" {
		t.Fatalf("307: %+v", reqs)
	}
	letters := deadLetters(t, openSink(t, rc.URL+"/302", nil, nil).Write(context.Background(), 1, inserts(1)))
	if len(letters) != 1 || letters[0].Status != 302 || len(rc.requests()) != 3 {
		t.Fatalf("302: %+v, %d requests", letters, len(rc.requests()))
	}
}

// Write returns at once when its context is done, in a backoff or in a
// request, with the context's error (the engine retries the epoch).
func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(nethttp.ResponseWriter, *nethttp.Request)
	}{
		{"backoff", func(w nethttp.ResponseWriter, _ *nethttp.Request) { status(503, "3600")(w) }},
		{"request", func(_ nethttp.ResponseWriter, r *nethttp.Request) { <-r.Context().Done() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan struct{}, 10)
			rc := newReceiver(t, func(_ int, w nethttp.ResponseWriter, r *nethttp.Request) {
				got <- struct{}{}
				tc.answer(w, r)
			})
			s := openSink(t, rc.URL, map[string]string{"retry.backoff": "1h", "timeout": "1h"}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Write(ctx, 1, inserts(1)) }()
			<-got
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Write: %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Write did not return after its context was cancelled")
			}
		})
	}
}

// Resend sends a dead letter as it was: same body, key and epoch headers.
func TestResend(t *testing.T) {
	var mu sync.Mutex
	refuse := true
	rc := newReceiver(t, func(_ int, w nethttp.ResponseWriter, _ *nethttp.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			w.WriteHeader(422)
			io.WriteString(w, "unknown customer")
		}
	})
	s := openSink(t, rc.URL, map[string]string{"retry.max": "3"}, nil)
	letters := deadLetters(t, s.Write(context.Background(), 4, inserts(2)))
	if len(letters) != 1 {
		t.Fatalf("letters %+v", letters)
	}
	l := letters[0]
	if err := s.Resend(context.Background(), &l); err == nil || l.Attempts != 2 || l.Status != 422 {
		t.Fatalf("Resend to a refusing receiver: %v, %+v", err, l)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if err := s.Resend(context.Background(), &l); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 3 || l.Attempts != 3 {
		t.Fatalf("%d requests, %d attempts", len(reqs), l.Attempts)
	}
	for _, name := range []string{"Idempotency-Key", "X-Weir-Epoch", "X-Weir-Batch", "Content-Type"} {
		if a, b := reqs[0].header.Get(name), reqs[2].header.Get(name); a != b || a == "" {
			t.Errorf("%s: %q then %q", name, a, b)
		}
	}
	if reqs[2].body != reqs[0].body {
		t.Errorf("body %q, want %q", reqs[2].body, reqs[0].body)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                               -1,
		"0":                              0,
		" 12 ":                           12 * time.Second,
		"99999999999999":                 (1 << 32) * time.Second,
		"-3":                             -1,
		"1.5":                            -1,
		"Fri, 02 Jan 2026 03:04:35 GMT":  30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT":  0, // past
		"Friday, 02-Jan-26 03:04:15 GMT": 10 * time.Second,
		"later":                          -1,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestJitter(t *testing.T) {
	s := &sink{backoff: 200 * time.Millisecond, maxBackoff: maxBackoff}
	for n, ceil := range []time.Duration{200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000} {
		for range 50 {
			if d := s.jitter(n); d < 0 || d > ceil*time.Millisecond {
				t.Fatalf("jitter(%d) = %s, want at most %dms", n, d, ceil)
			}
		}
	}
}

// With batch.linger the sink merges epochs: MergeLimits says how far, and
// WriteEpochs names the requests by the epochs they cover, the same on
// every attempt and distinct from any one epoch's.
func TestWriteEpochs(t *testing.T) {
	rc := newReceiver(t, statuses(503))
	if max, linger := openSink(t, rc.URL, nil, nil).MergeLimits(); max != defaultMaxRows || linger != 0 {
		t.Errorf("default limits %d, %s: want %d, no merging", max, linger, defaultMaxRows)
	}
	s := openSink(t, rc.URL, map[string]string{"batch.max_rows": "4", "batch.linger": "20ms"}, nil)
	if max, linger := s.MergeLimits(); max != 4 || linger != 20*time.Millisecond {
		t.Errorf("limits %d, %s", max, linger)
	}
	if err := s.WriteEpochs(context.Background(), 7, 10, inserts(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), 7, inserts(1)); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (one retried)", len(reqs))
	}
	for i, want := range []string{"weir-42-7..10-0", "weir-42-7..10-0", "weir-42-7-0"} {
		if k := reqs[i].header.Get("Idempotency-Key"); k != want {
			t.Errorf("request %d: key %q, want %q", i, k, want)
		}
	}
	if e := reqs[0].header.Get("X-Weir-Epoch"); e != "7..10" {
		t.Errorf("X-Weir-Epoch %q", e)
	}
	if reqs[0].body != reqs[1].body || !strings.Contains(reqs[0].body, `"id":3`) {
		t.Errorf("bodies %q, %q", reqs[0].body, reqs[1].body)
	}
}

// A merged request that cannot be delivered is a dead letter that Resend
// sends again under its key.
func TestResendMerged(t *testing.T) {
	rc := newReceiver(t, statuses(400))
	s := openSink(t, rc.URL, map[string]string{"batch.linger": "1s"}, nil)
	letters := deadLetters(t, s.WriteEpochs(context.Background(), 3, 5, inserts(3)))
	if len(letters) != 1 || letters[0].Key != "weir-42-3..5-0" {
		t.Fatalf("letters %+v", letters)
	}
	if err := s.Resend(context.Background(), &letters[0]); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[1].header.Get("X-Weir-Epoch") != "3..5" || reqs[1].header.Get("X-Weir-Batch") != "0" || reqs[1].body != reqs[0].body {
		t.Fatalf("resent %+v", reqs)
	}
}
