package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// receiver is a webhook receiver that fails every other request with 503,
// refuses with 400 a batch holding a row named "poison", and keeps the
// first delivery of each Idempotency-Key (deduplicating retries).
type receiver struct {
	mu      sync.Mutex
	calls   int
	byKey   map[string][]string // key -> "op id name" lines
	order   []string            // keys in order of first delivery
	auth    []string
	badKeys int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	rc.auth = append(rc.auth, r.Header.Get("Authorization"))
	if rc.calls%2 == 0 {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	var changes []struct {
		Op     string         `json:"op"`
		Before map[string]any `json:"before"`
		After  map[string]any `json:"after"`
	}
	if err := json.Unmarshal(body, &changes); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var lines []string
	for _, ch := range changes {
		row := ch.After
		if row == nil {
			row = ch.Before
		}
		if row["name"] == "poison" {
			rc.badKeys++
			http.Error(w, "poison refused", http.StatusBadRequest)
			return
		}
		lines = append(lines, fmt.Sprintf("%s %v %v", ch.Op, row["id"], row["name"]))
	}
	key := r.Header.Get("Idempotency-Key")
	if _, dup := rc.byKey[key]; !dup {
		rc.byKey[key] = lines
		rc.order = append(rc.order, key)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) delivered() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, k := range rc.order {
		out = append(out, rc.byKey[k]...)
	}
	return out
}

// TestHTTPSinkDeliversThroughFailures drives an HTTP sink into a receiver
// that fails half its requests and refuses a poisoned batch: every other
// change arrives exactly once after deduplication by Idempotency-Key, in
// order, with the secret's bearer token; the refused batch is in
// <sink>_dead_letters; a kill -9 loses nothing; and after the receiver is
// fixed, ALTER SINK ... RETRY DEAD LETTERS delivers it.
func TestHTTPSinkDeliversThroughFailures(t *testing.T) {
	rc := &receiver{byKey: map[string][]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE SECRET crm_token AS 'tok-123'`)
	mustExec(t, ctx, c, `CREATE TABLE leads (id BIGINT PRIMARY KEY, name TEXT)`)
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK crm FROM leads WITH (connector='http', url='%s/leads', format='json',
  batch.max_rows=2, retry.max=8, retry.backoff='10ms', headers.Authorization='Bearer ${secret:crm_token}')`, srv.URL))
	var want []string
	for i := 1; i <= 6; i++ {
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO leads VALUES (%d, 'lead%d')`, i, i))
		want = append(want, fmt.Sprintf("insert %d lead%d", i, i))
	}
	mustExec(t, ctx, c, `INSERT INTO leads VALUES (99, 'poison')`)
	mustExec(t, ctx, c, `UPDATE leads SET name = 'lead1b' WHERE id = 1`)
	want = append(want, "update 1 lead1b")
	waitFor(t, 30*time.Second, "the changes delivered", func() error {
		if got := rc.delivered(); !slices.Equal(got, want) {
			return fmt.Errorf("delivered %q, want %q", got, want)
		}
		return nil
	})
	waitInt(t, c, 20*time.Second, "crm_dead_letters", `SELECT count(*) FROM crm_dead_letters WHERE status = 400 AND payload LIKE '%poison%' AND response LIKE '%poison refused%'`, 1)

	// kill -9, more changes, restart: delivered once more each.
	w.Kill()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `DELETE FROM leads WHERE id = 2`)
	want = append(want, "delete 2 lead2")
	waitFor(t, 30*time.Second, "the delete delivered after a restart", func() error {
		if got := rc.delivered(); !slices.Equal(got, want) {
			return fmt.Errorf("delivered %q, want %q", got, want)
		}
		return nil
	})
	rc.mu.Lock()
	for _, a := range rc.auth {
		if a != "Bearer tok-123" {
			t.Errorf("Authorization %q", a)
		}
	}
	rc.mu.Unlock()
	// The status settles once the last attempt's answer is in (the sink
	// may still be reporting the failure of the attempt before it).
	waitFor(t, 10*time.Second, "the sink shown without an error", func() error {
		var n string
		if err := c.QueryRow(ctx, `SELECT count(*)::text FROM weir_catalog.sinks WHERE name = 'crm' AND error IS NULL`).Scan(&n); err != nil || n != "1" {
			return fmt.Errorf("weir_catalog.sinks: %v %v", n, err)
		}
		return nil
	})

	// The receiver is fixed: the dead letter goes through.
	mustExec(t, ctx, c, `DELETE FROM leads WHERE id = 99`)
	rc.mu.Lock()
	rc.badKeys = 0
	rc.mu.Unlock()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "poison") {
			w.WriteHeader(http.StatusOK)
			return
		}
		rc.ServeHTTP(w, r)
	})
	mustExec(t, ctx, c, `ALTER SINK crm RETRY DEAD LETTERS`)
	waitInt(t, c, 20*time.Second, "crm_dead_letters", `SELECT count(*) FROM crm_dead_letters`, 0)
}

// TestHTTPSinkBadEndpointDoesNotBlockOthers: a receiver that answers 400
// to everything fills its sink's dead letters, and one that sometimes
// hangs past the timeout is retried; a second and third sink of the same
// view keep delivering every change, and writes never wait for either.
func TestHTTPSinkBadEndpointDoesNotBlockOthers(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad request", http.StatusBadRequest)
	}))
	defer refusing.Close()
	var mu sync.Mutex
	calls := 0
	hanging := &receiver{byKey: map[string][]string{}}
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		hang := calls%3 == 0
		mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		hanging.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	good := &receiver{byKey: map[string][]string{}}
	goodSrv := httptest.NewServer(good)
	defer goodSrv.Close()

	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE leads (id BIGINT PRIMARY KEY, name TEXT)`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW hot AS SELECT id, name FROM leads WHERE id % 2 = 1`)
	for name, url := range map[string]string{"refused": refusing.URL, "flaky": flaky.URL, "good": goodSrv.URL} {
		mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK %s FROM hot WITH (connector='http', url='%s', batch.max_rows=1, retry.max=20, retry.backoff='5ms', timeout='200ms', key='id')`, name, url))
	}
	var want []string
	for i := 1; i <= 20; i++ {
		start := time.Now()
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO leads VALUES (%d, 'lead%d')`, i, i))
		if d := time.Since(start); d > time.Second {
			t.Errorf("INSERT %d took %v: a sink held up the write", i, d)
		}
		if i%2 == 1 {
			want = append(want, fmt.Sprintf("insert %d lead%d", i, i))
		}
	}
	for name, rc := range map[string]*receiver{"good": good, "flaky": hanging} {
		waitFor(t, 60*time.Second, name+" receiver", func() error {
			if got := rc.delivered(); !slices.Equal(got, want) {
				return fmt.Errorf("delivered %q, want %q", got, want)
			}
			return nil
		})
	}
	waitInt(t, c, 20*time.Second, "refused_dead_letters", `SELECT count(*) FROM refused_dead_letters WHERE status = 400`, int64(len(want)))
}

// lingerReceiver answers every request after latency, remembering each
// body by Idempotency-Key: it counts requests and keys that came with two
// different bodies, and keeps the rows of each key's first body.
type lingerReceiver struct {
	latency  time.Duration
	mu       sync.Mutex
	requests int
	bodies   map[string]string // key -> first body
	order    []string          // keys in order of first delivery
	conflict []string          // keys seen with another body
}

func (rc *lingerReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	rc.mu.Lock()
	rc.requests++
	if first, seen := rc.bodies[key]; !seen {
		rc.bodies[key] = string(body)
		rc.order = append(rc.order, key)
	} else if first != string(body) {
		rc.conflict = append(rc.conflict, key)
	}
	rc.mu.Unlock()
	time.Sleep(rc.latency)
	w.WriteHeader(http.StatusNoContent)
}

// ids returns the ids of the inserted rows, deduplicated by key, in order
// of first delivery, and the number of distinct keys.
func (rc *lingerReceiver) ids(t *testing.T) ([]int64, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var ids []int64
	for _, k := range rc.order {
		var changes []struct {
			Op    string `json:"op"`
			After struct {
				ID int64 `json:"id"`
			} `json:"after"`
		}
		if err := json.Unmarshal([]byte(rc.bodies[k]), &changes); err != nil {
			t.Fatalf("key %s: %v", k, err)
		}
		for _, ch := range changes {
			ids = append(ids, ch.After.ID)
		}
	}
	return ids, len(rc.order)
}

// TestHTTPSinkLingerMergesEpochs: with batch.linger, many one-row
// transactions reach a slow receiver in few requests; a kill -9 in the
// middle of delivery, then a restart, leave the receiver (deduplicating by
// Idempotency-Key) with every row exactly once and in order, and no key
// ever named two different bodies.
func TestHTTPSinkLingerMergesEpochs(t *testing.T) {
	rc := &lingerReceiver{latency: 30 * time.Millisecond, bodies: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, v TEXT)`)
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK feed FROM events WITH (connector='http', url='%s', batch.max_rows=1000, batch.linger='100ms', retry.backoff='10ms')`, srv.URL))
	want := func(n int64) []int64 {
		var ids []int64
		for id := int64(1); id <= n; id++ {
			ids = append(ids, id)
		}
		return ids
	}
	const first = 100
	for id := 1; id <= first; id++ {
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO events VALUES (%d, 'e%d')`, id, id))
	}
	waitFor(t, 30*time.Second, "the first rows delivered", func() error {
		if got, _ := rc.ids(t); !slices.Equal(got, want(first)) {
			return fmt.Errorf("delivered %v", got)
		}
		return nil
	})
	if _, keys := rc.ids(t); keys > first/4 {
		t.Errorf("%d one-row transactions took %d requests: epochs were not merged", first, keys)
	}

	// Rows keep coming while the server is killed in the middle of
	// delivering them.
	rc.mu.Lock()
	before := rc.requests
	rc.mu.Unlock()
	inserted := make(chan int64, 1) // the last id whose INSERT returned
	go func(c *pgx.Conn) {
		for id := int64(first + 1); ; id++ {
			if _, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO events VALUES (%d, 'e%d')`, id, id)); err != nil {
				inserted <- id - 1
				return
			}
		}
	}(c)
	waitFor(t, 30*time.Second, "more requests", func() error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.requests < before+5 {
			return fmt.Errorf("%d requests", rc.requests-before)
		}
		return nil
	})
	w.Kill()
	last := <-inserted
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c = connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	// The INSERT the kill interrupted may have committed.
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n < last {
		t.Fatalf("%d rows after the restart, %d inserted: %v", n, last, err)
	}
	for id := n + 1; id <= n+20; id++ {
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO events VALUES (%d, 'e%d')`, id, id))
	}
	waitFor(t, 60*time.Second, "every row delivered once", func() error {
		if got, _ := rc.ids(t); !slices.Equal(got, want(n+20)) {
			return fmt.Errorf("delivered (after deduplication) %d rows, want %d: %v", len(got), n+20, got)
		}
		return nil
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.conflict) > 0 {
		t.Errorf("keys sent with two different bodies: %v", rc.conflict)
	}
	t.Logf("%d rows in %d requests (%d keys)", n+20, rc.requests, len(rc.order))
}

// TestHTTPSinkLingerDeadLetters: a merged request the receiver refuses is
// one dead letter, named by the epochs it covers; the sink goes on, and
// ALTER SINK ... RETRY DEAD LETTERS sends it again as it was.
func TestHTTPSinkLingerDeadLetters(t *testing.T) {
	var mu sync.Mutex
	fixed := false
	rc := &lingerReceiver{bodies: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		refuse := !fixed && strings.Contains(string(body), "poison")
		mu.Unlock()
		if refuse {
			http.Error(w, "poison refused", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	w := startWeir(t)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	mustExec(t, ctx, c, `CREATE TABLE events (id BIGINT PRIMARY KEY, v TEXT)`)
	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK feed FROM events WITH (connector='http', url='%s', batch.max_rows=100, batch.linger='1s', retry.max=1, retry.backoff='10ms')`, srv.URL))
	for id := 1; id <= 4; id++ {
		v := "ok"
		if id == 2 {
			v = "poison"
		}
		mustExec(t, ctx, c, fmt.Sprintf(`INSERT INTO events VALUES (%d, '%s')`, id, v))
	}
	waitInt(t, c, 20*time.Second, "feed_dead_letters", `SELECT count(*) FROM feed_dead_letters WHERE status = 400 AND key LIKE 'weir-%-1..4-0' AND payload LIKE '%"id":3%'`, 1)
	mustExec(t, ctx, c, `INSERT INTO events VALUES (5, 'ok')`)
	waitFor(t, 20*time.Second, "the next epoch delivered", func() error {
		if got, _ := rc.ids(t); !slices.Equal(got, []int64{5}) {
			return fmt.Errorf("delivered %v", got)
		}
		return nil
	})
	mu.Lock()
	fixed = true
	mu.Unlock()
	mustExec(t, ctx, c, `ALTER SINK feed RETRY DEAD LETTERS`)
	waitInt(t, c, 20*time.Second, "feed_dead_letters", `SELECT count(*) FROM feed_dead_letters`, 0)
	if got, _ := rc.ids(t); !slices.Equal(got, []int64{5, 1, 2, 3, 4}) {
		t.Errorf("delivered %v", got)
	}
}
