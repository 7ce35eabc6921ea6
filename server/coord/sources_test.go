package coord

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
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

func TestSourceBadRecords(t *testing.T) {
	log := newFakeLog()
	h := fakeHarness(t, t.TempDir(), log)
	s := h.session()
	mustRun(t, s, "CREATE SOURCE s (id BIGINT NOT NULL, v INT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE MATERIALIZED VIEW inv AS SELECT id, 100 / v AS q FROM s")
	// A record that cannot be decoded, and one a view refuses (division
	// by zero): both rejected, the others applied.
	log.append(ins("1", "4"), fakeRecord{bad: "garbage"}, ins("2", "0"), ins("3", "5"))
	eventually(t, s, "SELECT * FROM inv ORDER BY id", "1|25\n3|20\nSELECT 2\n")
	eventually(t, s, "SELECT \"offset\", error FROM s_errors ORDER BY \"offset\"",
		"1|cannot decode garbage\n2|division by zero\nSELECT 2\n")
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
