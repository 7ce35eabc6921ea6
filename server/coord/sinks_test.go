package coord

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// mergingConnector's sinks merge epochs (executor.MergingSink) up to
// option max changes, lingering option linger, and record each delivery
// as "first-last: changes". While fail is set, every Write fails; limits,
// when set, overrides the options.
type mergingConnector struct {
	fakeConnector
	mu         sync.Mutex
	deliveries []string
	fail       bool
	limits     string
}

type mergingSink struct {
	conn   *mergingConnector
	max    int
	linger time.Duration
}

func (c *mergingConnector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	s := &mergingSink{conn: c}
	s.max, _ = strconv.Atoi(cfg.Options["max"])
	s.linger, _ = time.ParseDuration(cfg.Options["linger"])
	if max, linger, ok := strings.Cut(c.limits, " "); ok {
		s.max, _ = strconv.Atoi(max)
		s.linger, _ = time.ParseDuration(linger)
	}
	return s, nil
}

func (s *mergingSink) Delivered(context.Context) (uint64, bool, error) { return 0, false, nil }
func (s *mergingSink) Close()                                          {}
func (s *mergingSink) MergeLimits() (int, time.Duration)               { return s.max, s.linger }

func (s *mergingSink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	return s.WriteEpochs(ctx, seq, seq, changes)
}

func (s *mergingSink) WriteEpochs(ctx context.Context, first, last uint64, changes []executor.Change) error {
	c := s.conn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("system unavailable")
	}
	var out []string
	for _, ch := range changes {
		out = append(out, textRow(ch.After))
	}
	c.deliveries = append(c.deliveries, fmt.Sprintf("%d-%d: %s", first, last, strings.Join(out, " ")))
	return nil
}

func (c *mergingConnector) setFail(fail bool) {
	c.mu.Lock()
	c.fail = fail
	c.mu.Unlock()
}

func waitDeliveries(t *testing.T, c *mergingConnector, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := strings.Join(c.deliveries, "\n")
		c.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries\n%s\nwant\n%s", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A merging sink gets consecutive epochs in one delivery while they fit,
// waiting (here: an hour) for more while they do not fill it; an epoch
// larger than the limit goes alone.
func TestSinkMergesEpochs(t *testing.T) {
	conn := &mergingConnector{fakeConnector: fakeConnector{newFakeLog(), newFakeSystem()}}
	h := newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"merge": conn}})
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY); CREATE SINK out FROM t WITH (connector = 'merge', max = '3', linger = '1h')")
	for k := 1; k <= 7; k++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d)", k))
	}
	mustRun(t, s, "INSERT INTO t VALUES (8), (9), (10), (11)")
	waitDeliveries(t, conn, "1-3: (1) (2) (3)\n4-6: (4) (5) (6)\n7-7: (7)\n8-8: (8) (9) (10) (11)")
	eventually(t, s, "SELECT delivered_epoch, pending_epochs FROM weir_catalog.sinks", "8|0\nSELECT 1\n")
}

// A delivery is planned durably before it is sent: after a crash the
// sink sends exactly the same epochs again first, even where it would
// now merge more (here its limits change), so that a receiver
// deduplicating by idempotency key (which names the epochs) sees every
// change once.
func TestSinkResendsPlannedDeliveryAfterACrash(t *testing.T) {
	dir := t.TempDir()
	conn := &mergingConnector{fakeConnector: fakeConnector{newFakeLog(), newFakeSystem()}}
	h := newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"merge": conn}})
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY); CREATE SINK out FROM t WITH (connector = 'merge', max = '2', linger = '1h')")
	conn.setFail(true)
	for k := 1; k <= 2; k++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d)", k))
	}
	eventually(t, s, "SELECT state FROM weir_catalog.sinks", "retrying\nSELECT 1\n")
	for k := 3; k <= 5; k++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d)", k))
	}
	h.close()

	conn.setFail(false)
	conn.limits = "10 1ms"
	h = newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"merge": conn}})
	waitDeliveries(t, conn, "1-2: (1) (2)\n3-5: (3) (4) (5)")
	eventually(t, h.session(), "SELECT delivered_epoch, pending_epochs FROM weir_catalog.sinks", "5|0\nSELECT 1\n")
}
