package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzConn feeds arbitrary bytes, after a valid startup, to a connection
// served over net.Pipe, and checks that the connection's goroutines end and
// that no panic happened (recovered panics are logged; the log must not
// show one).
func FuzzConn(f *testing.F) {
	msg := func(ms ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range ms {
			b, _ = m.Encode(b)
		}
		return b
	}
	f.Add(msg(&pgproto3.Query{String: "rows 3; insert"}))
	f.Add(msg(&pgproto3.Query{String: "copy in"}, &pgproto3.CopyData{Data: []byte("1\t2\n")}, &pgproto3.CopyDone{}))
	f.Add(msg(&pgproto3.Query{String: "copy out; notice; fail 42P01"}))
	f.Add(msg(&pgproto3.Parse{Name: "a", Query: "add $1 $2"}, &pgproto3.Bind{PreparedStatement: "a", DestinationPortal: "p",
		ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}, []byte("2")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 1}, &pgproto3.Sync{}))
	f.Add(msg(&pgproto3.Parse{Query: "rows 4"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{},
		&pgproto3.Close{ObjectType: 'P'}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Flush{}, &pgproto3.Sync{}, &pgproto3.Terminate{}))
	f.Add([]byte{'Q', 0, 0, 0, 3})
	f.Add([]byte{'B', 0, 0, 0, 5, 0})
	f.Add(msg(&pgproto3.Query{String: "sleep"}))

	f.Fuzz(func(t *testing.T, data []byte) {
		var logs bytes.Buffer
		var mu sync.Mutex
		srv, err := New(Options{MaxMessageSize: 1 << 20,
			Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))},
			&fakeEngine{noPanic: true})
		if err != nil {
			t.Fatal(err)
		}
		// Serve one connection without listening.
		srv.base, srv.baseCancel = context.WithCancelCause(context.Background())
		defer srv.baseCancel(nil)
		client, server := net.Pipe()
		if !srv.serveConn(server) {
			t.Fatal("serveConn refused")
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			io.Copy(io.Discard, client)
		}()
		client.Write(startupBytes(t))
		client.Write(data)
		client.Close()
		<-drained

		done := make(chan struct{})
		go func() {
			srv.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection goroutine did not end")
		}
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("recovered panic:\n%s", logs.String())
		}
	})
}
