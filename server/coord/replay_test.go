package coord

import (
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

// An unstored source keeps no rows, yet its views see every record: those
// created before its records as they come, those created after by
// reading the records again from the source, also after a restart.
func TestUnstoredSource(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	h := fakeHarness(t, dir, log)
	s := h.session()
	mustRun(t, s, `CREATE SOURCE s (id INT, country TEXT) WITH (connector = 'fake', topic = 't', stored = 'false')`)
	const byCountry = `AS SELECT country, count(*) AS n FROM s GROUP BY country`
	mustRun(t, s, "CREATE MATERIALIZED VIEW before "+byCountry)
	log.append(ins("1", "nl"), ins("2", "de"), ins("3", "nl"))
	want := "de|1\nnl|2\nSELECT 2\n"
	eventually(t, s, "SELECT * FROM before ORDER BY 1", want)
	wantCode(t, s, "SELECT * FROM s", sqlerr.FeatureNotSupported)
	wantCode(t, s, "SELECT count(*) FROM s", sqlerr.FeatureNotSupported)
	mustRun(t, s, "CREATE MATERIALIZED VIEW after "+byCountry)
	if got := mustRun(t, s, "SELECT * FROM after ORDER BY 1"); got != want {
		t.Fatalf("a view created after the records: %q, want %q", got, want)
	}
	h.close()

	h = fakeHarness(t, dir, log)
	s = h.session()
	log.append(ins("4", "be"), ins("5", "nl"))
	want = "be|1\nde|1\nnl|3\nSELECT 3\n"
	eventually(t, s, "SELECT * FROM before ORDER BY 1", want)
	eventually(t, s, "SELECT * FROM after ORDER BY 1", want)
	mustRun(t, s, "CREATE MATERIALIZED VIEW later "+byCountry)
	if got := mustRun(t, s, "SELECT * FROM later ORDER BY 1"); got != want {
		t.Fatalf("a view created after a restart: %q, want %q", got, want)
	}
	wantCode(t, s, `CREATE SOURCE k (id INT PRIMARY KEY) WITH (connector = 'fake', topic = 't', stored = 'false')`, sqlerr.FeatureNotSupported)
	wantCode(t, s, `CREATE SOURCE k (id INT) WITH (connector = 'fake', topic = 't', stored = 'maybe')`, sqlerr.InvalidParameterValue)
}
