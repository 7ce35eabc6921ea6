package coord

import (
	"testing"
)

// A view created after the records of an unstored source, or rebuilt,
// reads them again from the source: it must see what the views created
// before saw, so the records they never got are skipped again: a row
// dropped as late, and a record a view refused (rejected).
func TestUnstoredReplaySkipsWhatViewsNeverSaw(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	h := fakeHarness(t, dir, log)
	s := h.session()
	mustRun(t, s, `CREATE SOURCE s (id INT, d INT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
		WITH (connector = 'fake', topic = 't', stored = 'false', on_error = 'skip')`)
	const quotients = `AS SELECT id, 10 / d AS q FROM s`
	mustRun(t, s, "CREATE MATERIALIZED VIEW before "+quotients)
	log.append(ins("1", "1", "2026-01-01 10:00:10"))
	eventually(t, s, "SELECT count(*) FROM before", "1\nSELECT 1\n")
	log.append(ins("2", "2", "2026-01-01 10:00:05")) // late: the watermark is at 10:00:10
	log.append(ins("3", "0", "2026-01-01 10:00:20")) // refused by the view
	log.append(ins("4", "5", "2026-01-01 10:00:30"))
	want := "1|10\n4|2\nSELECT 2\n"
	eventually(t, s, "SELECT * FROM before ORDER BY 1", want)
	mustRun(t, s, "CREATE MATERIALIZED VIEW after "+quotients)
	if got := mustRun(t, s, "SELECT * FROM after ORDER BY 1"); got != want {
		t.Fatalf("a view created after the records: %q, want %q", got, want)
	}
	h.close()

	h = fakeHarness(t, dir, log)
	defer h.close()
	s = h.session()
	mustRun(t, s, "CREATE MATERIALIZED VIEW later "+quotients)
	if got := mustRun(t, s, "SELECT * FROM later ORDER BY 1"); got != want {
		t.Fatalf("a view created after a restart: %q, want %q", got, want)
	}
}
