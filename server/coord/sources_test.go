package coord

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// fakeLog is a one-partition topic in memory: records are a row of text
// values (or a bad record, which decodes to a reject).
type fakeLog struct {
	mu      sync.Mutex
	records []fakeRecord
	grew    chan struct{}
	opened  []int64 // the offset each OpenSource started at
}

type fakeRecord struct {
	op  executor.ChangeOp
	row []string // column values as text ("" is NULL)
	bad string   // set: the record cannot be decoded
}

func newFakeLog() *fakeLog { return &fakeLog{grew: make(chan struct{})} }

func (l *fakeLog) append(recs ...fakeRecord) {
	l.mu.Lock()
	l.records = append(l.records, recs...)
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
}

func (l *fakeLog) OpenSource(ctx context.Context, cfg executor.SourceConfig) (executor.Source, error) {
	if cfg.Options["topic"] == "" {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "missing option \"topic\"")
	}
	var next int64
	for _, o := range cfg.Offsets {
		next = o.Next
	}
	l.mu.Lock()
	l.opened = append(l.opened, next)
	l.mu.Unlock()
	return &fakeSource{log: l, rel: cfg, next: next, onError: cfg.OnError}, nil
}

func (l *fakeLog) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	return nil, sqlerr.Unsupported("no sinks")
}

type fakeSource struct {
	log     *fakeLog
	rel     executor.SourceConfig
	next    int64
	onError executor.OnError
}

func (s *fakeSource) Poll(ctx context.Context, b *executor.SourceBatch) error {
	for {
		s.log.mu.Lock()
		recs, grew := s.log.records[s.next:], s.log.grew
		s.log.mu.Unlock()
		if len(recs) > 0 {
			for _, r := range recs {
				if r.bad != "" {
					b.Rejects = append(b.Rejects, executor.Reject{Topic: "t", Offset: s.next, Value: []byte(r.bad), Err: "cannot decode " + r.bad, Timestamp: time.Unix(0, 0)})
					if s.onError == executor.OnErrorFail {
						b.Failed = true
						break
					}
				} else {
					row := make(types.Row, len(s.rel.Relation.Columns))
					for i, v := range r.row {
						if v == "" {
							continue
						}
						d, err := types.ParseText(s.rel.Relation.Columns[i].Type, v, time.UTC)
						if err != nil {
							return err
						}
						row[i] = d
					}
					ch := executor.Change{Op: r.op}
					if r.op == executor.ChangeDeleteKey || r.op == executor.ChangeDelete {
						ch.Before = row
					} else {
						ch.After = row
					}
					b.Changes = append(b.Changes, ch)
					b.ChangeOffsets = append(b.ChangeOffsets, executor.SourceOffset{Topic: "t", Next: s.next + 1})
				}
				s.next++
			}
			b.Offsets = append(b.Offsets, executor.SourceOffset{Topic: "t", Next: s.next})
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-grew:
		}
	}
}

func (s *fakeSource) Committed(context.Context, *executor.SourceBatch) error { return nil }
func (s *fakeSource) StartOffsets() []executor.SourceOffset {
	return []executor.SourceOffset{{Topic: "t", Next: s.next}}
}
func (s *fakeSource) Close() {}

func ins(vals ...string) fakeRecord { return fakeRecord{op: executor.ChangeInsert, row: vals} }

// eventually runs query until it answers want.
func eventually(t *testing.T, s server.Session, query, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := run(t, s, query)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %q (err %v), want %q", query, got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fakeHarness(t *testing.T, dir string, log *fakeLog) *harness {
	return newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"fake": log}})
}

func TestSourceAppendsAndResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	log.append(ins("1", "nl"), ins("2", "de"), ins("3", "nl"))
	h := fakeHarness(t, dir, log)
	s := h.session()
	mustRun(t, s, "CREATE SOURCE rates (id BIGINT, country TEXT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE MATERIALIZED VIEW by_country AS SELECT country, count(*) AS n FROM rates GROUP BY country")
	eventually(t, s, "SELECT * FROM by_country ORDER BY country", "de|1\nnl|2\nSELECT 2\n")
	log.append(ins("4", "fr"))
	eventually(t, s, "SELECT count(*) FROM rates", "4\nSELECT 1\n")
	eventually(t, s, "SELECT name, state, records, errors FROM weir_catalog.sources", "rates|running|4|0\nSELECT 1\n")
	if st := h.c.SourceStats(); len(st) != 1 || st[0].Name != "rates" || !st[0].Running || st[0].Records != 4 || st[0].LastEvent == 0 {
		t.Fatalf("SourceStats: %+v", st)
	}
	h.close()

	// The restarted source resumes after the 4 records committed: none is
	// read twice.
	log.append(ins("5", "nl"))
	h = fakeHarness(t, dir, log)
	s = h.session()
	eventually(t, s, "SELECT * FROM by_country ORDER BY country", "de|1\nfr|1\nnl|3\nSELECT 3\n")
	if got := log.opened[len(log.opened)-1]; got != 4 {
		t.Fatalf("restarted at offset %d, want 4", got)
	}
	mustRun(t, s, "DROP SOURCE rates CASCADE")
	wantCode(t, s, "SELECT * FROM rates_errors", sqlerr.UndefinedTable)
}

func TestSourceTableUpsertsByKey(t *testing.T) {
	log := newFakeLog()
	h := fakeHarness(t, t.TempDir(), log)
	s := h.session()
	mustRun(t, s, "CREATE TABLE customers (id BIGINT PRIMARY KEY, tier TEXT) WITH (connector = 'fake', topic = 't')")
	log.append(ins("1", "gold"), ins("2", "silver"), fakeRecord{op: executor.ChangeUpsert, row: []string{"1", "bronze"}},
		fakeRecord{op: executor.ChangeDeleteKey, row: []string{"2"}}, ins("3", "gold"), ins("3", "gold"))
	eventually(t, s, "SELECT * FROM customers ORDER BY id", "1|bronze\n3|gold\nSELECT 2\n")
}

// feedBadRecords creates source s of log and a view inv on it, and feeds
// them a record that cannot be decoded and one the view refuses (division
// by zero): both rejected, the others applied.
func feedBadRecords(t *testing.T, s server.Session, log *fakeLog) {
	t.Helper()
	mustRun(t, s, "CREATE SOURCE s (id BIGINT NOT NULL, v INT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE MATERIALIZED VIEW inv AS SELECT id, 100 / v AS q FROM s")
	log.append(ins("1", "4"), fakeRecord{bad: "garbage"}, ins("2", "0"), ins("3", "5"))
	eventually(t, s, "SELECT * FROM inv ORDER BY id", "1|25\n3|20\nSELECT 2\n")
	eventually(t, s, "SELECT \"offset\", error FROM s_errors ORDER BY \"offset\"",
		"1|cannot decode garbage\n2|division by zero\nSELECT 2\n")
}

func TestSourceBadRecords(t *testing.T) {
	log := newFakeLog()
	h := fakeHarness(t, t.TempDir(), log)
	s := h.session()
	feedBadRecords(t, s, log)
	eventually(t, s, "SELECT records, errors FROM weir_catalog.sources", "2|2\nSELECT 1\n")
	wantCode(t, s, "DROP SOURCE s_errors", sqlerr.DependentObjectsStillExist)
	wantCode(t, s, "INSERT INTO s VALUES (9, 9)", sqlerr.WrongObjectType)

	mustRun(t, s, "CREATE SOURCE f (id BIGINT) WITH (connector = 'fake', topic = 't', on_error = 'fail')")
	eventually(t, s, "SELECT state, error FROM weir_catalog.sources WHERE name = 'f'",
		"failed|record at t[0] offset 1: cannot decode garbage\nSELECT 1\n")
	eventually(t, s, "SELECT count(*) FROM f", "1\nSELECT 1\n")
	wantCode(t, s, "SELECT * FROM f_errors", sqlerr.UndefinedTable)
}

func TestSourceOptionErrors(t *testing.T) {
	h := fakeHarness(t, t.TempDir(), newFakeLog())
	s := h.session()
	wantCode(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'nope', topic = 't')", sqlerr.FeatureNotSupported)
	wantCode(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'fake')", sqlerr.InvalidParameterValue)
	wantCode(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'fake', topic = 't', on_error = 'later')", sqlerr.InvalidParameterValue)
	mustRun(t, s, "CREATE TABLE s_errors (x INT)")
	wantCode(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'fake', topic = 't')", sqlerr.DuplicateTable)
	// Nothing was left behind by the failed statements.
	mustRun(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'fake', topic = 't', on_error = 'skip')")
	wantCode(t, s, "CREATE SOURCE s (id BIGINT) WITH (connector = 'fake', topic = 't')", sqlerr.DuplicateTable)
}

// fakeSystem is the external system of fake sinks: what each holds, by
// seq, like a transactional Kafka topic.
type fakeSystem struct {
	mu       sync.Mutex
	epochs   map[string]map[uint64][]string // sink -> seq -> changes
	failNext int                            // Writes to fail before one succeeds
	written  chan struct{}
}

func newFakeSystem() *fakeSystem {
	return &fakeSystem{epochs: map[string]map[uint64][]string{}, written: make(chan struct{}, 1000)}
}

type fakeSink struct {
	sys  *fakeSystem
	name string
}

func (s *fakeSink) Delivered(ctx context.Context) (uint64, bool, error) {
	s.sys.mu.Lock()
	defer s.sys.mu.Unlock()
	var last uint64
	for seq := range s.sys.epochs[s.name] {
		last = max(last, seq)
	}
	return last, last > 0, nil
}

func (s *fakeSink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	s.sys.mu.Lock()
	defer s.sys.mu.Unlock()
	if s.sys.failNext > 0 {
		s.sys.failNext--
		return fmt.Errorf("system unavailable")
	}
	if s.sys.epochs[s.name] == nil {
		s.sys.epochs[s.name] = map[uint64][]string{}
	}
	if _, dup := s.sys.epochs[s.name][seq]; dup {
		return fmt.Errorf("epoch %d written twice", seq)
	}
	var out []string
	for _, ch := range changes {
		out = append(out, fmt.Sprintf("%s %v %v", ch.Op, textRow(ch.Before), textRow(ch.After)))
	}
	s.sys.epochs[s.name][seq] = out
	return nil
}

func textRow(r types.Row) string {
	if r == nil {
		return "-"
	}
	var parts []string
	for _, d := range r {
		parts = append(parts, string(types.AppendText(nil, d, nil)))
	}
	return "(" + strings.Join(parts, ",") + ")"
}

func (s *fakeSink) Close() {}

// history is what sink holds, epoch by epoch.
func (sys *fakeSystem) history(sink string) string {
	sys.mu.Lock()
	defer sys.mu.Unlock()
	var seqs []uint64
	for seq := range sys.epochs[sink] {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var b strings.Builder
	for _, seq := range seqs {
		// Within an epoch, changes of different keys have no order.
		changes := slices.Sorted(slices.Values(sys.epochs[sink][seq]))
		fmt.Fprintf(&b, "%d: %s\n", seq, strings.Join(changes, "; "))
	}
	return b.String()
}

type fakeConnector struct {
	*fakeLog
	sys *fakeSystem
}

func (f fakeConnector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	if cfg.Options["mode"] == "upsert" && len(cfg.Key) == 0 {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "an upsert sink needs a key")
	}
	return &fakeSink{sys: f.sys, name: cfg.Name}, nil
}

func waitHistory(t *testing.T, sys *fakeSystem, sink, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := sys.history(sink)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink %s holds\n%s\nwant\n%s", sink, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSinkDeliversContentsThenChangesExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	sys := newFakeSystem()
	conn := fakeConnector{newFakeLog(), sys}
	open := func() *harness {
		return newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"fake": conn}})
	}
	h := open()
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	mustRun(t, s, "CREATE MATERIALIZED VIEW n AS SELECT v, count(*) AS c FROM t GROUP BY v")
	wantCode(t, s, "CREATE SINK bad FROM t WITH (connector = 'fake', mode = 'upsert', key = 'nope')", sqlerr.UndefinedColumn)
	mustRun(t, s, "CREATE SINK out FROM t WITH (connector = 'fake', mode = 'upsert')")
	mustRun(t, s, "CREATE SINK counts FROM n WITH (connector = 'fake', mode = 'upsert')")
	waitHistory(t, sys, "out", "1: insert - (1,a); insert - (2,b)\n")
	mustRun(t, s, "UPDATE t SET v = 'a' WHERE k = 2")
	sys.mu.Lock()
	sys.failNext = 3
	sys.mu.Unlock()
	mustRun(t, s, "DELETE FROM t WHERE k = 1")
	waitHistory(t, sys, "out", "1: insert - (1,a); insert - (2,b)\n2: update (2,b) (2,a)\n3: delete (1,a) -\n")
	waitHistory(t, sys, "counts", "1: insert - (a,1); insert - (b,1)\n2: delete (b,1) -; update (a,1) (a,2)\n3: update (a,2) (a,1)\n")
	eventually(t, s, "SELECT name, relation, state, delivered_epoch, pending_epochs FROM weir_catalog.sinks ORDER BY name",
		"counts|n|running|3|0\nout|t|running|3|0\nSELECT 2\n")
	wantCode(t, s, "DROP TABLE t", sqlerr.DependentObjectsStillExist)
	for _, st := range h.c.SinkStats() {
		if !st.Running || st.Delivered != 3 || st.Pending != 0 || st.Changes == 0 {
			t.Fatalf("SinkStats: %+v", st)
		}
	}
	h.close()

	// Changes made while the sink's system is down wait in the log; after a
	// restart the sink goes on after what its system holds.
	sys.mu.Lock()
	sys.failNext = 1 << 30
	sys.mu.Unlock()
	h = open()
	s = h.session()
	mustRun(t, s, "INSERT INTO t VALUES (3, 'c')")
	eventually(t, s, "SELECT state, pending_epochs FROM weir_catalog.sinks WHERE name = 'out'", "retrying|1\nSELECT 1\n")
	h.close()
	sys.mu.Lock()
	sys.failNext = 0
	sys.mu.Unlock()
	h = open()
	s = h.session()
	mustRun(t, s, "INSERT INTO t VALUES (4, 'd')")
	waitHistory(t, sys, "out", "1: insert - (1,a); insert - (2,b)\n2: update (2,b) (2,a)\n3: delete (1,a) -\n4: insert - (3,c)\n5: insert - (4,d)\n")
	mustRun(t, s, "DROP SINK out")
	mustRun(t, s, "DROP TABLE t CASCADE")
	eventually(t, s, "SELECT count(*) FROM weir_catalog.sinks", "0\nSELECT 1\n")
}

func TestSinkAsSelect(t *testing.T) {
	dir := t.TempDir()
	sys := newFakeSystem()
	conn := fakeConnector{newFakeLog(), sys}
	open := func() *harness {
		return newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"fake": conn}})
	}
	h := open()
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'a')")
	mustRun(t, s, "CREATE SINK counts AS SELECT v, count(*) AS n FROM t GROUP BY v WITH (connector = 'fake', mode = 'upsert')")
	waitHistory(t, sys, "counts", "1: insert - (a,2); insert - (b,1)\n")
	wantCode(t, s, "DROP MATERIALIZED VIEW counts_view", sqlerr.DependentObjectsStillExist)
	h.close()
	h = open()
	s = h.session()
	mustRun(t, s, "DELETE FROM t WHERE k = 2")
	waitHistory(t, sys, "counts", "1: insert - (a,2); insert - (b,1)\n2: delete (b,1) -\n")
	mustRun(t, s, "DROP SINK counts")
	wantCode(t, s, "SELECT * FROM counts_view", sqlerr.UndefinedTable)
	mustRun(t, s, "DROP TABLE t")
}

func TestShowStreamingObjects(t *testing.T) {
	sys := newFakeSystem()
	h := newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"fake": fakeConnector{newFakeLog(), sys}}})
	s := h.session()
	mustRun(t, s, "CREATE STREAM clicks (id BIGINT, page TEXT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT) WITH (connector = 'fake', topic = 'u')")
	mustRun(t, s, "CREATE STREAM per_page AS SELECT page, count(*) FROM clicks GROUP BY page EMIT CHANGES")
	mustRun(t, s, "CREATE SINK out FROM per_page WITH (connector = 'fake')")
	for q, want := range map[string]string{
		"SHOW STREAMS":            "clicks\nper_page\nSHOW\n",
		"SHOW SOURCES":            "clicks\nSHOW\n",
		"SHOW TABLES":             "users\nSHOW\n",
		"SHOW SINKS":              "out\nSHOW\n",
		"SHOW MATERIALIZED VIEWS": "per_page\nSHOW\n",
	} {
		if got := mustRun(t, s, q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	mustRun(t, s, "DROP STREAM clicks CASCADE")
	if got := mustRun(t, s, "SHOW SINKS"); got != "SHOW\n" {
		t.Errorf("after DROP STREAM CASCADE: %q", got)
	}
}

// A DROP that fails after it stopped the source's runner (a view came to
// depend on the source meanwhile) leaves the source running.
func TestFailedDropKeepsSourceRunning(t *testing.T) {
	log := newFakeLog()
	h := fakeHarness(t, t.TempDir(), log)
	s := h.session()
	mustRun(t, s, "CREATE SOURCE src (id BIGINT) WITH (connector = 'fake', topic = 't')")
	src, err := h.c.lookup("", "src")
	if err != nil {
		t.Fatal(err)
	}
	h.c.views.mu.Lock()
	locked := true
	defer func() {
		if locked {
			h.c.views.mu.Unlock()
		}
	}()
	dropped := make(chan error, 1)
	go func() {
		_, err := run(t, h.session(), "DROP SOURCE src")
		dropped <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); len(h.c.sources.all()) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("DROP did not stop the source")
		}
	}
	// A view on src is created while DROP waits for the epoch lock.
	view := &catalog.Relation{Name: "v", Kind: catalog.MaterializedView, DependsOn: []catalog.ID{src.ID},
		Columns: []catalog.Column{{Name: "id", Type: types.Int64}}}
	if _, err := h.c.createRelations(context.Background(), []*catalog.Relation{view}, nil); err != nil {
		t.Fatal(err)
	}
	h.c.views.mu.Unlock()
	locked = false
	if err := <-dropped; sqlerr.CodeOf(err) != sqlerr.DependentObjectsStillExist {
		t.Fatalf("DROP: %v", err)
	}
	log.append(ins("1"))
	eventually(t, s, "SELECT count(*) FROM src", "1\nSELECT 1\n")
	eventually(t, s, "SELECT name, state FROM weir_catalog.sources", "src|running\nSELECT 1\n")
}

// deadLetterSource is a fake source with a dead-letter destination that
// fails its first send, and records, for each reject sent, the offset the
// source had committed then.
type deadLetterSource struct {
	*fakeSource
	db    *storage.DB
	rel   *catalog.Relation // its ID is set after OpenSource, by the CREATE
	mu    sync.Mutex
	fails int
	sent  []string
}

func (s *deadLetterSource) DeadLetter(ctx context.Context, rejects []executor.Reject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return fmt.Errorf("dead-letter topic unavailable")
	}
	var committed int64
	if err := s.db.ScanSourceOffsets(s.rel.ID, func(_ string, _ int32, next int64) error {
		committed = next
		return nil
	}); err != nil {
		return err
	}
	for _, rj := range rejects {
		s.sent = append(s.sent, fmt.Sprintf("%d (committed %d): %s", rj.Offset, committed, rj.Err))
	}
	return nil
}

type deadLetterConnector struct {
	*fakeLog
	db  func() *storage.DB
	src *deadLetterSource
}

func (c *deadLetterConnector) OpenSource(ctx context.Context, cfg executor.SourceConfig) (executor.Source, error) {
	src, err := c.fakeLog.OpenSource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.src = &deadLetterSource{fakeSource: src.(*fakeSource), db: c.db(), rel: cfg.Relation, fails: 1}
	return c.src, nil
}

// Rejects reach the dead-letter destination before the offsets past them
// commit, so that a crash in between sends them again rather than never;
// a destination that fails holds the source up until it takes them.
func TestSourceDeadLettersBeforeCommit(t *testing.T) {
	log := newFakeLog()
	var h *harness
	conn := &deadLetterConnector{fakeLog: log, db: func() *storage.DB { return h.db }}
	h = newHarnessWith(t, t.TempDir(), Options{Connectors: map[string]executor.Connector{"fake": conn}})
	feedBadRecords(t, h.session(), log)
	conn.src.mu.Lock()
	sent := strings.Join(conn.src.sent, "\n")
	conn.src.mu.Unlock()
	// The refused change at offset 2 is sent after the change before it
	// committed (with the decoded reject), before its own offset.
	if want := "1 (committed 0): cannot decode garbage\n2 (committed 1): division by zero"; sent != want {
		t.Fatalf("dead letters:\n%s\nwant\n%s", sent, want)
	}
}

// letterSink is a fake sink that gives up on every change whose row
// holds "bad" (and accepts it when resent once fixed), and records the
// options it was opened with.
type letterSink struct {
	fakeSink
	fixed *bool
}

func (s *letterSink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	var good []executor.Change
	var letters []executor.DeadLetter
	for _, ch := range changes {
		if ch.After != nil && strings.Contains(textRow(ch.After), "bad") {
			letters = append(letters, executor.DeadLetter{Key: fmt.Sprintf("k-%d", seq), Payload: []byte(textRow(ch.After)), Status: 400, Response: "no", Attempts: 1})
			continue
		}
		good = append(good, ch)
	}
	if err := s.fakeSink.Write(ctx, seq, good); err != nil {
		return err
	}
	if len(letters) > 0 {
		return &executor.DeadLettersError{Letters: letters}
	}
	return nil
}

func (s *letterSink) Resend(ctx context.Context, l *executor.DeadLetter) error {
	if *s.fixed {
		return nil
	}
	l.Attempts++
	l.Status = 422
	return fmt.Errorf("still refused")
}

type letterConnector struct {
	fakeConnector
	fixed   *bool
	options chan map[string]string
}

func (f letterConnector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	f.options <- cfg.Options
	return &letterSink{fakeSink: fakeSink{sys: f.sys, name: cfg.Name}, fixed: f.fixed}, nil
}

func TestSinkDeadLettersAndSecrets(t *testing.T) {
	dir := t.TempDir()
	sys := newFakeSystem()
	fixed := false
	conn := letterConnector{fakeConnector{newFakeLog(), sys}, &fixed, make(chan map[string]string, 10)}
	open := func() *harness {
		return newHarnessWith(t, dir, Options{Connectors: map[string]executor.Connector{"letters": conn}})
	}
	h := open()
	s := h.session()
	mustRun(t, s, "CREATE TABLE t (k INT PRIMARY KEY, v TEXT)")
	wantCode(t, s, "CREATE SINK out FROM t WITH (connector = 'letters', token = 'Bearer ${secret:tok}')", sqlerr.UndefinedObject)
	mustRun(t, s, "CREATE SECRET tok AS 's3cret'")
	wantCode(t, s, "CREATE SECRET tok AS 'again'", sqlerr.DuplicateObject)
	mustRun(t, s, "CREATE SINK out FROM t WITH (connector = 'letters', token = 'Bearer ${secret:tok}')")
	if got := (<-conn.options)["token"]; got != "Bearer s3cret" {
		t.Fatalf("the connector got token %q", got)
	}
	// The secret's value is nowhere in the catalog's statements.
	for _, rel := range h.c.relations(catalog.Sink) {
		if strings.Contains(rel.SQL, "s3cret") || strings.Contains(fmt.Sprint(rel.Options), "s3cret") {
			t.Fatalf("sink %s keeps the secret: %q %v", rel.Name, rel.SQL, rel.Options)
		}
	}
	mustRun(t, s, "INSERT INTO t VALUES (1, 'ok'), (2, 'bad'); INSERT INTO t VALUES (3, 'ok')")
	waitHistory(t, sys, "out", "1: insert - (1,ok)\n2: insert - (3,ok)\n")
	eventually(t, s, "SELECT key, payload, status, attempts FROM out_dead_letters", "k-1|(2,bad)|400|1\nSELECT 1\n")
	if got := mustRun(t, s, "ALTER SINK out RETRY DEAD LETTERS"); got != "ALTER SINK\n" {
		t.Fatalf("ALTER SINK: %q", got)
	}
	eventually(t, s, "SELECT key, status, attempts FROM out_dead_letters", "k-1|422|2\nSELECT 1\n")
	wantCode(t, s, "DROP SOURCE out_dead_letters", sqlerr.DependentObjectsStillExist)
	h.close()

	fixed = true
	h = open()
	s = h.session()
	<-conn.options
	mustRun(t, s, "ALTER SINK out RETRY DEAD LETTERS")
	eventually(t, s, "SELECT count(*) FROM out_dead_letters", "0\nSELECT 1\n")
	wantCode(t, s, "ALTER SINK nope RETRY DEAD LETTERS", sqlerr.UndefinedObject)
	mustRun(t, s, "DROP SINK out")
	wantCode(t, s, "SELECT * FROM out_dead_letters", sqlerr.UndefinedTable)
	mustRun(t, s, "DROP SECRET tok")
	wantCode(t, s, "DROP SECRET tok", sqlerr.UndefinedObject)
	mustRun(t, s, "DROP SECRET IF EXISTS tok")
}

// With on_error = 'fail', a change a view refuses stops the source there:
// what came before it is applied, it and what follows are not, and a
// restart stops at it again.
func TestSourceFailsAtRefusedChange(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	h := fakeHarness(t, dir, log)
	s := h.session()
	mustRun(t, s, "CREATE SOURCE s (id BIGINT NOT NULL, v INT) WITH (connector = 'fake', topic = 't', on_error = 'fail')")
	mustRun(t, s, "CREATE MATERIALIZED VIEW inv AS SELECT id, 100 / v AS q FROM s")
	log.append(ins("1", "4"), ins("2", "0"), ins("3", "5"))
	eventually(t, s, "SELECT state, error FROM weir_catalog.sources", "failed|record at t[0] offset 1: division by zero\nSELECT 1\n")
	eventually(t, s, "SELECT * FROM inv ORDER BY id", "1|25\nSELECT 1\n")
	h.close()
	h = fakeHarness(t, dir, log)
	s = h.session()
	eventually(t, s, "SELECT state FROM weir_catalog.sources", "failed\nSELECT 1\n")
	eventually(t, s, "SELECT count(*) FROM s", "1\nSELECT 1\n")
}
