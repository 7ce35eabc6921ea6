package coord

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
)

// stuckConnector's sinks say on writing that a Write began, hold it until
// release is closed, and say on cancelled when its context ends: a system
// that takes its time to give up (a Kafka transaction being aborted).
type stuckConnector struct {
	fakeConnector
	writing, cancelled, release chan struct{}
}

type stuckSink struct {
	*fakeSink
	conn stuckConnector
}

func (c stuckConnector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	s, err := c.fakeConnector.OpenSink(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return stuckSink{s.(*fakeSink), c}, nil
}

func (s stuckSink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	close(s.conn.writing)
	<-ctx.Done()
	close(s.conn.cancelled)
	<-s.conn.release
	return ctx.Err()
}

// within waits for done (a value, or its closing), failing after a
// generous deadline or on an error.
func within[T any](t *testing.T, done <-chan T, what string) {
	t.Helper()
	select {
	case v := <-done:
		if err, ok := any(v).(error); ok && err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting", what)
	}
}

// DROP SINK waits for the sink's goroutine to finish its write, but not
// while holding the epoch lock: the other pipelines go on meanwhile.
func TestDropSinkDoesNotHoldUpCommits(t *testing.T) {
	conn := stuckConnector{fakeConnector{newFakeLog(), newFakeSystem()}, make(chan struct{}), make(chan struct{}), make(chan struct{})}
	h := newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"fake": conn}})
	release := sync.OnceFunc(func() { close(conn.release) })
	t.Cleanup(release) // before the harness closes, which waits for the write
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY); CREATE TABLE other (x INT)")
	mustRun(t, s, "CREATE SINK out FROM t WITH (connector = 'fake')")
	mustRun(t, s, "INSERT INTO t VALUES (1)")
	within(t, conn.writing, "the sink's write")

	dropped := make(chan error, 1)
	go func() {
		_, err := run(t, h.session(), "DROP SINK out")
		dropped <- err
	}()
	select { // DROP has the sink's write cancelled; the write lingers
	case <-conn.cancelled:
	case err := <-dropped:
		t.Fatalf("DROP SINK returned (%v) before it cancelled the sink's write", err)
	case <-time.After(10 * time.Second):
		t.Fatal("DROP SINK did not cancel the sink's write")
	}
	inserted := make(chan error, 1)
	go func() {
		_, err := run(t, h.session(), "INSERT INTO other VALUES (1)")
		inserted <- err
	}()
	within(t, inserted, "INSERT while a dropped sink finishes its write")
	select {
	case err := <-dropped:
		t.Fatalf("DROP SINK returned (%v) before its sink's goroutine ended", err)
	default:
	}
	release()
	within(t, dropped, "DROP SINK")
	eventually(t, s, "SELECT count(*) FROM weir_catalog.sinks", "0\nSELECT 1\n")
}

// logEntries lists the seqs that sink's log still holds.
func logEntries(t *testing.T, h *harness, sink string) []uint64 {
	t.Helper()
	rel, err := h.c.lookup("", sink)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	err = h.db.ScanSinkLog(rel.ID, 0, func(seq uint64, _ []byte) (bool, error) {
		seqs = append(seqs, seq)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// Entries that the sink's system holds but whose trim a crash lost are
// skipped after the restart, and removed from the log too: nothing else
// would ever remove them.
func TestSinkTrimsEntriesDeliveredBeforeACrash(t *testing.T) {
	dir := t.TempDir()
	sys := newFakeSystem()
	conn := fakeConnector{newFakeLog(), sys}
	open := func() *harness {
		return newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"fake": conn}})
	}
	h := open()
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY); CREATE SINK out FROM t WITH (connector = 'fake')")
	mustRun(t, s, "INSERT INTO t VALUES (1)")
	waitHistory(t, sys, "out", "1: insert - (1)\n")
	sys.mu.Lock()
	sys.failNext = 1 << 30
	sys.mu.Unlock()
	mustRun(t, s, "INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)")
	eventually(t, s, "SELECT pending_epochs FROM weir_catalog.sinks", "2\nSELECT 1\n")
	h.close()
	// The system holds epochs 2 and 3, written just before the crash
	// that lost their trim.
	sys.mu.Lock()
	sys.failNext = 0
	sys.epochs["out"][2] = []string{"insert - (2)"}
	sys.epochs["out"][3] = []string{"insert - (3)"}
	sys.mu.Unlock()

	h = open()
	s = h.session()
	mustRun(t, s, "INSERT INTO t VALUES (4)")
	waitHistory(t, sys, "out", "1: insert - (1)\n2: insert - (2)\n3: insert - (3)\n4: insert - (4)\n")
	eventually(t, s, "SELECT delivered_epoch, pending_epochs FROM weir_catalog.sinks", "4|0\nSELECT 1\n")
	if seqs := logEntries(t, h, "out"); len(seqs) != 0 {
		t.Fatalf("the log still holds entries %v", seqs)
	}
}
