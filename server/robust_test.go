package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/prometheus/client_golang/prometheus"
)

// startupBytes is a valid protocol 3.0 StartupMessage.
func startupBytes(t testing.TB) []byte {
	b, err := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "raw", "database": "weir"}}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawConn dials srv, completes startup, and returns the connection and a
// frontend reading from it.
func rawConn(t *testing.T, srv *Server) (net.Conn, *pgproto3.Frontend) {
	t.Helper()
	nc, err := net.Dial("tcp", srv.PGAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(startupBytes(t)); err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return nc, fe
		}
	}
}

// expectFatal reads until an ErrorResponse and then EOF.
func expectFatal(t *testing.T, nc net.Conn, fe *pgproto3.Frontend, code string) {
	t.Helper()
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("no ErrorResponse before %v", err)
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			if e.Severity != "FATAL" || e.Code != code {
				t.Fatalf("error %s %s %s, want FATAL %s", e.Severity, e.Code, e.Message, code)
			}
			break
		}
	}
	if n, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatalf("connection still open (read %d bytes)", n)
	}
}

func TestMalformedMessages(t *testing.T) {
	srv, _ := testServer(t, Options{MaxMessageSize: 1 << 16})
	for name, b := range map[string][]byte{
		"length 3":         {'Q', 0, 0, 0, 3},
		"length 2^31":      {'Q', 0x80, 0, 0, 0},
		"oversized":        {'Q', 0, 0x10, 0, 0},
		"unknown type":     {'z', 0, 0, 0, 4},
		"bad bind":         {'B', 0, 0, 0, 6, 0, 0},
		"password message": {'p', 0, 0, 0, 5, 0},
	} {
		t.Run(name, func(t *testing.T) {
			nc, fe := rawConn(t, srv)
			if _, err := nc.Write(b); err != nil {
				t.Fatal(err)
			}
			expectFatal(t, nc, fe, "08P01")
			// The server still serves.
			c := connect(t, srv)
			if _, err := c.Exec(ctx5(t), "rows 1").ReadAll(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMalformedStartup(t *testing.T) {
	srv, _ := testServer(t, Options{})
	for name, b := range map[string][]byte{
		"length 3":      {0, 0, 0, 3},
		"huge":          {0x7f, 0, 0, 0},
		"version 2.0":   {0, 0, 0, 8, 0, 2, 0, 0},
		"no terminator": {0, 0, 0, 12, 0, 3, 0, 0, 'u', 's', 'e', 'r'},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.PGAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			nc.Write(b)
			expectFatal(t, nc, pgproto3.NewFrontend(nc, nc), "08P01")
		})
	}
}

func TestPanicEndsOnlyTheConnection(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	srv, _ := testServer(t, Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	nc, fe := rawConn(t, srv)
	fe.Send(&pgproto3.Query{String: "panic"})
	fe.Flush()
	expectFatal(t, nc, fe, "XX000")
	c := connect(t, srv)
	if _, err := c.Exec(ctx5(t), "rows 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "fake engine panic") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic not logged with stack:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestFatalFromEngineEndsConnection(t *testing.T) {
	srv, _ := testServer(t, Options{})
	nc, fe := rawConn(t, srv)
	fe.Send(&pgproto3.Query{String: "fail 57P01 fatal; rows 1"})
	fe.Flush()
	expectFatal(t, nc, fe, "57P01")
}

func TestTerminate(t *testing.T) {
	srv, eng := testServer(t, Options{})
	nc, fe := rawConn(t, srv)
	fe.Send(&pgproto3.Terminate{})
	fe.Flush()
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after Terminate: %v", err)
	}
	waitFor(t, func() bool {
		eng.mu.Lock()
		defer eng.mu.Unlock()
		return eng.closed == eng.sessions
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHTTP(t *testing.T) {
	var ready = false
	var mu sync.Mutex
	reg := prometheus.NewRegistry()
	srv, _ := testServer(t, Options{HTTPAddr: "127.0.0.1:0", Registry: reg, Ready: func() bool {
		mu.Lock()
		defer mu.Unlock()
		return ready
	}})
	c := connect(t, srv)
	c.Exec(ctx5(t), "rows 1; fail 42P01").ReadAll()
	base := "http://" + srv.HTTPAddr().String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz not ready: %d", code)
	}
	mu.Lock()
	ready = true
	mu.Unlock()
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz ready: %d", code)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		"weir_pg_connections 1", "weir_pg_connections_total 1",
		`weir_statements_total{kind="other",outcome="error"} 1`, `weir_statements_total{kind="other",outcome="ok"} 1`,
		"weir_statement_duration_seconds_bucket", "go_goroutines", "process_",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, body := get("/nope"); code != 404 || !strings.Contains(body, "not found") {
		t.Errorf("/nope %d %q", code, body)
	}
	// A second server on the same registry reuses the collectors.
	if _, err := New(Options{Registry: reg}, &fakeEngine{}); err != nil {
		t.Fatal(err)
	}
}

func TestStatementKind(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1": "select", "  /* c */ -- x\n (select 1)": "select", "insert into t": "insert",
		"frobnicate": "other", "": "other", "Begin": "begin", "COPY t FROM STDIN": "copy", "/* open": "other",
	} {
		if got := statementKind(sql); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", sql, got, want)
		}
	}
}

func TestShutdownIdleConnection(t *testing.T) {
	eng := &fakeEngine{}
	srv, err := New(Options{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	nc, fe := rawConn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	expectFatal(t, nc, fe, "57P01")
	if _, err := net.Dial("tcp", srv.PGAddr().String()); err == nil {
		t.Error("still accepting after Shutdown")
	}
	if eng.closed != eng.sessions {
		t.Errorf("sessions %d closed %d", eng.sessions, eng.closed)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestShutdownWaitsForStatementThenForces(t *testing.T) {
	eng := &fakeEngine{started: make(chan struct{}, 1)}
	srv, err := New(Options{PGAddr: "127.0.0.1:0"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := pgconn.Connect(ctx5(t), dsn(srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "sleep").ReadAll()
		errc <- err
	}()
	<-eng.started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v", err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Error("Shutdown did not wait for the running statement")
	}
	if err := <-errc; err == nil {
		t.Error("statement survived a forced shutdown")
	}
}

func TestOptions(t *testing.T) {
	o := (&Options{}).EnsureDefaults()
	if o.MaxMessageSize != DefaultMaxMessageSize || o.PGAddr == "" || o.Logger == nil || o.Registry == nil || !o.Ready() {
		t.Errorf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
	o.MaxMessageSize = 2 << 30
	if err := o.Validate(); err == nil {
		t.Error("2 GiB MaxMessageSize accepted")
	}
	if _, err := New(Options{}, nil); err == nil {
		t.Error("nil engine accepted")
	}
}

func TestProtocol32Negotiated(t *testing.T) {
	srv, _ := testServer(t, Options{})
	nc, err := net.Dial("tcp", srv.PGAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32,
		Parameters: map[string]string{"user": "u", "_pq_.x": "1"}}).Encode(nil)
	nc.Write(b)
	fe := pgproto3.NewFrontend(nc, nc)
	m, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	npv, ok := m.(*pgproto3.NegotiateProtocolVersion)
	if !ok || npv.NewestMinorProtocol != 0 || len(npv.UnrecognizedOptions) != 1 {
		t.Fatalf("got %#v", m)
	}
	_ = binary.BigEndian
}
