package server

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestPipelinedDuringLongStatement: messages a client sends while a
// statement runs are read ahead by the watcher (more than it may hold, so
// it stops and TCP holds the rest) and all run, in order, after it.
func TestPipelinedDuringLongStatement(t *testing.T) {
	srv, _ := testServer(t, Options{})
	nc, fe := rawConn(t, srv)
	nc.SetDeadline(time.Now().Add(time.Minute)) // slow under -race on a busy machine
	const n = 24_000                            // ~290 KB of Query messages
	buf, _ := (&pgproto3.Query{String: "pause 100"}).Encode(nil)
	for i := 0; i < n; i++ {
		buf, _ = (&pgproto3.Query{String: "rows 1"}).Encode(buf)
	}
	if len(buf) < 2*maxAhead {
		t.Fatalf("%d bytes of messages: not more than the watcher reads ahead", len(buf))
	}
	errc := make(chan error, 1)
	go func() { // the results fill TCP's buffers before all is sent
		_, err := nc.Write(buf)
		errc <- err
	}()
	var tags []string
	for ready := 0; ready < n+1; {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("after %d results: %v", ready, err)
		}
		switch m := m.(type) {
		case *pgproto3.CommandComplete:
			tags = append(tags, string(m.CommandTag))
		case *pgproto3.ErrorResponse:
			t.Fatalf("error %s %s", m.Code, m.Message)
		case *pgproto3.ReadyForQuery:
			ready++
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(tags) != n+1 || tags[0] != "DO" || tags[1] != "SELECT 1" || tags[n] != "SELECT 1" {
		t.Fatalf("%d tags, first %q, last %q", len(tags), tags[0], tags[len(tags)-1])
	}
}

// TestClientGoneAfterPipelining: a client that sent more and then went
// away cancels the running statement; the watcher reads past what it sent.
func TestClientGoneAfterPipelining(t *testing.T) {
	srv, eng := testServer(t, Options{})
	eng.finished = make(chan struct{}, 1)
	nc, _ := rawConn(t, srv)
	buf, _ := (&pgproto3.Query{String: "pause 60000"}).Encode(nil)
	buf, _ = (&pgproto3.Query{String: "rows 1"}).Encode(buf)
	if _, err := nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	select {
	case <-eng.finished:
	case <-time.After(10 * time.Second):
		t.Fatal("statement of a gone client still runs")
	}
}

// TestReadsAfterWatchedStatements: the next message after a statement long
// enough to be watched is read once the watcher is stopped, again and again.
func TestReadsAfterWatchedStatements(t *testing.T) {
	srv, _ := testServer(t, Options{})
	c := connect(t, srv)
	for i := 0; i < 3; i++ {
		if got := rawExchange(t, c, &pgproto3.Query{String: "pause 50"}); len(got) != 2 || got[0] != "C DO" {
			t.Fatalf("pause: %v", got)
		}
		if got := rawExchange(t, c, &pgproto3.Query{String: "rows 1"}); len(got) != 4 || got[1] != "D 1" {
			t.Fatalf("rows 1: %v", got)
		}
	}
}
