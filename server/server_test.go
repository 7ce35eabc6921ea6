package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testServer starts a Server on free ports with a fake engine.
func testServer(t testing.TB, opts Options) (*Server, *fakeEngine) {
	t.Helper()
	eng := &fakeEngine{}
	return startServer(t, opts, eng), eng
}

// startServer starts a Server of eng, shut down at the end of the test.
func startServer(t testing.TB, opts Options, eng Engine) *Server {
	t.Helper()
	if opts.PGAddr == "" {
		opts.PGAddr = "127.0.0.1:0"
	}
	srv, err := New(opts, eng)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func dsn(srv *Server, extra string) string {
	host, port, _ := net.SplitHostPort(srv.PGAddr().String())
	return fmt.Sprintf("host=%s port=%s user=tester database=weir sslmode=disable %s", host, port, extra)
}

func connect(t *testing.T, srv *Server) *pgconn.PgConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, dsn(srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestStartup(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	for k, want := range map[string]string{
		"server_version": "15.8 (Weir 0.1.0)", "TimeZone": "UTC", "client_encoding": "UTF8",
		"integer_datetimes": "on", "standard_conforming_strings": "on", "session_authorization": "tester",
	} {
		if got := c.ParameterStatus(k); got != want {
			t.Errorf("ParameterStatus(%s) = %q, want %q", k, got, want)
		}
	}
	if c.PID() == 0 || len(c.SecretKey()) != 4 {
		t.Errorf("BackendKeyData: pid %d key %x", c.PID(), c.SecretKey())
	}
	if c.TxStatus() != 'I' {
		t.Errorf("TxStatus %c", c.TxStatus())
	}
}

func TestStartupSSLRequestRefused(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c, err := pgconn.Connect(ctx5(t), strings.Replace(dsn(srv, ""), "sslmode=disable", "sslmode=prefer", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx5(t), "rows 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
}

func TestStartupRejected(t *testing.T) {
	srv, _ := testServer(t, Options{})
	_, err := pgconn.Connect(ctx5(t), strings.Replace(dsn(srv, ""), "user=tester", "user=reject", 1))
	if pgCode(err) != "28000" {
		t.Fatalf("err = %v, want 28000", err)
	}
}

func TestSimpleMultiStatement(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	res, err := c.Exec(ctx5(t), "rows 2; insert;nulls; notice").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	if got := res[0].CommandTag.String(); got != "SELECT 2" {
		t.Errorf("tag %q", got)
	}
	if len(res[0].Rows) != 2 || string(res[0].Rows[1][0]) != "2" || res[0].FieldDescriptions[0].DataTypeOID != 23 {
		t.Errorf("rows %q fields %+v", res[0].Rows, res[0].FieldDescriptions)
	}
	if got := res[1].CommandTag.String(); got != "INSERT 0 1" || res[1].FieldDescriptions != nil {
		t.Errorf("insert: %q %v", got, res[1].FieldDescriptions)
	}
	if r := res[2].Rows[0]; r[0] != nil || r[1] == nil || len(r[1]) != 0 {
		t.Errorf("NULL and empty string: %#v", r)
	}
	// Empty query.
	if _, err := c.Exec(ctx5(t), "  ").ReadAll(); err != nil {
		t.Fatal(err)
	}
}

func TestNotice(t *testing.T) {
	srv, _ := testServer(t, Options{})
	cfg, err := pgconn.ParseConfig(dsn(srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Value
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { got.Store(n.Message) }
	c, err := pgconn.ConnectConfig(ctx5(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx5(t), "notice").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "hello" {
		t.Errorf("notice %v", got.Load())
	}
}

// TestNoticeMidStatement: a notice the engine sends while a statement runs
// (server.Notice) reaches the client before the statement completes, in
// the simple and the extended protocol. The fake statement waits after each
// notice until the client's OnNotice handler has seen it.
func TestNoticeMidStatement(t *testing.T) {
	srv, eng := testServer(t, Options{})
	eng.noticeAck = make(chan struct{})
	cfg, err := pgconn.ParseConfig(dsn(srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		got = append(got, n.Severity+" "+n.Code+" "+n.Message)
		mu.Unlock()
		select {
		case eng.noticeAck <- struct{}{}:
		case <-time.After(5 * time.Second):
		}
	}
	c, err := pgconn.ConnectConfig(ctx5(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx5(t), "progress 3").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if r := c.ExecParams(ctx5(t), "progress 2", nil, nil, nil, nil).Read(); r.Err != nil {
		t.Fatal(r.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "NOTICE 00000 step 1,NOTICE 00000 step 2,NOTICE 00000 step 3,NOTICE 00000 step 1,NOTICE 00000 step 2"
	if s := strings.Join(got, ","); s != want {
		t.Errorf("notices %s, want %s", s, want)
	}
}

func TestErrorsAndSessionContinues(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	res, err := c.Exec(ctx5(t), "rows 1; fail 42P01; rows 3").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Detail != "some detail" || pe.Hint != "some hint" || pe.Severity != "ERROR" {
		t.Fatalf("err = %#v", err)
	}
	if len(res) > 2 || len(res[0].Rows) != 1 { // the third statement never ran
		t.Errorf("results %d", len(res))
	}
	_, err = c.Exec(ctx5(t), "rows 1;\n  syntax").ReadAll()
	if !errors.As(err, &pe) || pe.Code != "42601" || pe.Position != 11 {
		t.Fatalf("syntax err = %#v", err)
	}
	// In a transaction block the status follows the session.
	if _, err := c.Exec(ctx5(t), "begin").ReadAll(); err != nil || c.TxStatus() != 'T' {
		t.Fatalf("begin: %v %c", err, c.TxStatus())
	}
	if _, err := c.Exec(ctx5(t), "fail 23505").ReadAll(); pgCode(err) != "23505" || c.TxStatus() != 'E' {
		t.Fatalf("fail in tx: %v %c", err, c.TxStatus())
	}
	if _, err := c.Exec(ctx5(t), "commit").ReadAll(); err != nil || c.TxStatus() != 'I' {
		t.Fatalf("commit: %v %c", err, c.TxStatus())
	}
	// Parameters in a simple query.
	if _, err := c.Exec(ctx5(t), "echo $1").ReadAll(); pgCode(err) != "42P02" {
		t.Fatalf("param in simple query: %v", err)
	}
	res, err = c.Exec(ctx5(t), "rows 3").ReadAll()
	if err != nil || len(res[0].Rows) != 3 {
		t.Fatalf("after errors: %v", err)
	}
}

func TestParameterStatusAfterSet(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	if _, err := c.Exec(ctx5(t), "set tz Europe/Amsterdam").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if got := c.ParameterStatus("TimeZone"); got != "Europe/Amsterdam" {
		t.Errorf("TimeZone %q", got)
	}
	// timestamptz text follows the session's TimeZone.
	res, err := c.Exec(ctx5(t), "ts").ReadAll()
	if err != nil || string(res[0].Rows[0][0]) != "2000-01-01 01:00:00+01" {
		t.Fatalf("ts: %v %q", err, res[0].Rows)
	}
}

func TestPgx(t *testing.T) {
	srv, _ := testServer(t, Options{})
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg, err := pgx.ParseConfig(dsn(srv, ""))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			c, err := pgx.ConnectConfig(ctx5(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			for i := range 3 { // the second and third use the statement cache
				var sum int64
				if err := c.QueryRow(ctx5(t), "add $1 $2", int64(40), int64(i)).Scan(&sum); err != nil {
					t.Fatal(err)
				}
				if sum != int64(40+i) {
					t.Errorf("sum %d", sum)
				}
			}
			var s string
			if err := c.QueryRow(ctx5(t), "echo $1", "hello").Scan(&s); err != nil || s != "hello" {
				t.Fatalf("echo: %q %v", s, err)
			}
			rows, err := c.Query(ctx5(t), "rows 5")
			if err != nil {
				t.Fatal(err)
			}
			n, err := pgx.CollectRows(rows, pgx.RowTo[int32])
			if err != nil || len(n) != 5 || n[4] != 5 {
				t.Fatalf("rows: %v %v", n, err)
			}
			_, err = c.Exec(ctx5(t), "fail 22P02")
			if pgCode(err) != "22P02" {
				t.Fatalf("fail: %v", err)
			}
			if _, err := c.Exec(ctx5(t), "insert"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestExtendedParams(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	// Text parameters, text results.
	r := c.ExecParams(ctx5(t), "add $1 $2", [][]byte{[]byte("2"), []byte("3")}, nil, []int16{0, 0}, nil).Read()
	if r.Err != nil || string(r.Rows[0][0]) != "5" {
		t.Fatalf("text: %v %q", r.Err, r.Rows)
	}
	// Binary parameters, binary results.
	b := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	r = c.ExecParams(ctx5(t), "add $1 $2", [][]byte{b(2), b(40)}, nil, []int16{1}, []int16{1}).Read()
	if r.Err != nil || !bytes.Equal(r.Rows[0][0], b(42)) || r.FieldDescriptions[0].Format != 1 {
		t.Fatalf("binary: %v %x", r.Err, r.Rows)
	}
	// NULL parameter.
	r = c.ExecParams(ctx5(t), "add $1 $2", [][]byte{nil, b(1)}, nil, []int16{1}, nil).Read()
	if r.Err != nil || r.Rows[0][0] != nil {
		t.Fatalf("null: %v %q", r.Err, r.Rows)
	}
	// Bad text parameter.
	r = c.ExecParams(ctx5(t), "add $1 $2", [][]byte{[]byte("x"), []byte("1")}, nil, nil, nil).Read()
	if pgCode(r.Err) != "22P02" {
		t.Fatalf("bad param: %v", r.Err)
	}
	// Wrong parameter count.
	r = c.ExecParams(ctx5(t), "add $1 $2", [][]byte{[]byte("1")}, nil, nil, nil).Read()
	if pgCode(r.Err) != "08P01" {
		t.Fatalf("param count: %v", r.Err)
	}
	// Declared parameter type.
	r = c.ExecParams(ctx5(t), "echo $1", [][]byte{[]byte("7")}, []uint32{20}, nil, nil).Read()
	if r.Err != nil || string(r.Rows[0][0]) != "7" || r.FieldDescriptions[0].DataTypeOID != 20 {
		t.Fatalf("declared: %v %q", r.Err, r.Rows)
	}
	// Prepare, describe, and a duplicate name.
	sd, err := c.Prepare(ctx5(t), "p1", "add $1 $2", nil)
	if err != nil || len(sd.ParamOIDs) != 2 || sd.ParamOIDs[0] != 20 || len(sd.Fields) != 1 || string(sd.Fields[0].Name) != "sum" {
		t.Fatalf("prepare: %v %+v", err, sd)
	}
	if _, err := c.Prepare(ctx5(t), "p1", "rows 1", nil); pgCode(err) != "42P05" {
		t.Fatalf("duplicate: %v", err)
	}
	r = c.ExecPrepared(ctx5(t), "p1", [][]byte{[]byte("1"), []byte("1")}, nil, nil).Read()
	if r.Err != nil || string(r.Rows[0][0]) != "2" {
		t.Fatalf("exec prepared: %v", r.Err)
	}
	if err := c.Deallocate(ctx5(t), "p1"); err != nil {
		t.Fatal(err)
	}
	if r := c.ExecPrepared(ctx5(t), "p1", nil, nil, nil).Read(); pgCode(r.Err) != "26000" {
		t.Fatalf("after deallocate: %v", r.Err)
	}
	if _, err := c.Prepare(ctx5(t), "p2", "rows 1; rows 2", nil); pgCode(err) != "42601" {
		t.Fatalf("multiple commands: %v", err)
	}
	sd, err = c.Prepare(ctx5(t), "p3", "insert", nil)
	if err != nil || sd.Fields != nil {
		t.Fatalf("NoData: %v %+v", err, sd)
	}
}

// rawExchange sends msgs on c's frontend and collects backend messages up
// to and including ReadyForQuery.
func rawExchange(t *testing.T, c *pgconn.PgConn, msgs ...pgproto3.FrontendMessage) []string {
	t.Helper()
	fe := c.Frontend()
	for _, m := range msgs {
		fe.Send(m)
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var out []string
	waits := 0
	for _, m := range msgs {
		switch m.(type) {
		case *pgproto3.Sync, *pgproto3.Query:
			waits++
		}
	}
	for waits > 0 {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			out = append(out, "D "+string(m.Values[0]))
		case *pgproto3.CommandComplete:
			out = append(out, "C "+string(m.CommandTag))
		case *pgproto3.ErrorResponse:
			out = append(out, "E "+m.Code)
		case *pgproto3.ReadyForQuery:
			out = append(out, "Z "+string(m.TxStatus))
			waits--
		default:
			out = append(out, strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3."))
		}
	}
	return out
}

func TestPortalSuspension(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	got := rawExchange(t, c,
		&pgproto3.Parse{Name: "s", Query: "rows 5"},
		&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"},
		&pgproto3.Describe{ObjectType: 'P', Name: "p"},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Sync{},
		// The portal ended with its implicit transaction.
		&pgproto3.Execute{Portal: "p"},
		&pgproto3.Sync{},
	)
	want := "ParseComplete BindComplete RowDescription D 1 D 2 PortalSuspended D 3 D 4 PortalSuspended D 5 C SELECT 5 C SELECT 0 Z I E 34000 Z I"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestExtendedErrorSkipsToSync(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	got := rawExchange(t, c,
		&pgproto3.Parse{Query: "rows 1"},
		&pgproto3.Bind{PreparedStatement: "nope"},
		&pgproto3.Execute{},
		&pgproto3.Parse{Query: "rows 1"},
		&pgproto3.Sync{},
		&pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'S'},
		&pgproto3.Execute{},
		&pgproto3.Close{ObjectType: 'S', Name: "missing"},
		&pgproto3.Close{ObjectType: 'P'},
		&pgproto3.Sync{},
		&pgproto3.Parse{Query: ""},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	want := "ParseComplete E 26000 Z I BindComplete ParameterDescription RowDescription D 1 C SELECT 1 CloseComplete CloseComplete Z I " +
		"ParseComplete BindComplete EmptyQueryResponse Z I"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestCancelRequest(t *testing.T) {
	srv, eng := testServer(t, Options{})
	eng.started = make(chan struct{}, 1)
	c := connect(t, srv)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "sleep").ReadAll()
		errc <- err
	}()
	<-eng.started
	if err := c.CancelRequest(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("statement not cancelled")
	}
	if _, err := c.Exec(ctx5(t), "rows 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
}

func TestClientDisconnectCancelsStatement(t *testing.T) {
	srv, eng := testServer(t, Options{})
	eng.started = make(chan struct{}, 1)
	eng.finished = make(chan struct{}, 1)
	c := connect(t, srv)
	fe := c.Frontend()
	fe.Send(&pgproto3.Query{String: "sleep"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	<-eng.started
	c.Conn().Close()
	select {
	case <-eng.finished:
	case <-time.After(5 * time.Second):
		t.Fatal("statement of a gone client still runs")
	}
}

func TestCopy(t *testing.T) {
	srv, eng := testServer(t, Options{})
	c := connect(t, srv)
	tag, err := c.CopyFrom(ctx5(t), strings.NewReader("1\ta\n2\tb\n3\tc\n"), "copy in")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("copy in: %q %v", tag, err)
	}
	if eng.copied[0] != "1\ta\n2\tb\n3\tc\n" {
		t.Errorf("copied %q", eng.copied)
	}
	_, err = c.CopyFrom(ctx5(t), strings.NewReader("1\ta\nbad\n"+strings.Repeat("x\n", 100000)), "copy in")
	if pgCode(err) != "22P04" {
		t.Fatalf("bad copy: %v", err)
	}
	var out bytes.Buffer
	tag, err = c.CopyTo(ctx5(t), &out, "copy out")
	if err != nil || tag.String() != "COPY 2" || out.String() != "1\ta\n2\tb\n" {
		t.Fatalf("copy out: %q %q %v", tag, out.String(), err)
	}
	// CopyFail from the client, and COPY messages after it are ignored.
	got := rawExchange(t, c, &pgproto3.Query{String: "copy in"}, &pgproto3.CopyData{Data: []byte("1\ta\n")},
		&pgproto3.CopyFail{Message: "changed my mind"}, &pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{},
		&pgproto3.Query{String: "rows 1"})
	want := "CopyInResponse E 57014 Z I RowDescription D 1 C SELECT 1 Z I"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}
