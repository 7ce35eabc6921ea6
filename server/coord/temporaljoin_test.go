package coord

import (
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
)

// A stream enriched by a temporal join keeps what each bid was joined
// with: a later UPDATE of the table changes only the bids that follow, also
// across a restart, which restores the table side of the join.
func TestTemporalJoinEnrichesStream(t *testing.T) {
	dir := t.TempDir()
	log := newFakeLog()
	h := fakeHarness(t, dir, log)
	s := h.session()
	mustRun(t, s, "CREATE SOURCE bids (auction BIGINT, price BIGINT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE TABLE auctions (id BIGINT PRIMARY KEY, category TEXT)")
	mustRun(t, s, "INSERT INTO auctions VALUES (1, 'books'), (2, 'toys')")
	log.append(ins("1", "10"), ins("3", "30"))
	eventually(t, s, "SELECT count(*) FROM bids", "2\nSELECT 1\n")
	mustRun(t, s, `CREATE STREAM enriched AS SELECT b.*, a.category FROM bids b
		JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id`)
	mustRun(t, s, `CREATE STREAM padded AS SELECT b.price, a.category FROM bids b
		LEFT JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() AS a ON b.auction = a.id`)
	const q = "SELECT * FROM enriched ORDER BY price"
	eventually(t, s, q, "1|10|books\nSELECT 1\n")
	if out := mustRun(t, s, "EXPLAIN SELECT * FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id"); !strings.Contains(out, "TemporalJoin Inner on b.auction = a.id") {
		t.Fatalf("EXPLAIN:\n%s", out)
	}

	mustRun(t, s, "UPDATE auctions SET category = 'music' WHERE id = 1")
	mustRun(t, s, "INSERT INTO auctions VALUES (3, 'games')")
	eventually(t, s, q, "1|10|books\nSELECT 1\n")
	log.append(ins("1", "11"), ins("3", "31"))
	eventually(t, s, q, "1|10|books\n1|11|music\n3|31|games\nSELECT 3\n")

	h.close()
	h = fakeHarness(t, dir, log)
	s = h.session()
	mustRun(t, s, "DELETE FROM auctions WHERE id = 3")
	mustRun(t, s, "UPDATE auctions SET category = 'vinyl' WHERE id = 1")
	log.append(ins("1", "12"), ins("3", "32"))
	eventually(t, s, q, "1|10|books\n1|11|music\n1|12|vinyl\n3|31|games\nSELECT 4\n")
	eventually(t, s, "SELECT * FROM padded ORDER BY price",
		"10|books\n11|music\n12|vinyl\n30|NULL\n31|games\n32|NULL\nSELECT 6\n")

	// A pull query joins the current rows.
	if out := mustRun(t, s, "SELECT b.price, a.category FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.auction = a.id ORDER BY 1"); out != "10|vinyl\n11|vinyl\n12|vinyl\nSELECT 3\n" {
		t.Fatalf("pull query:\n%s", out)
	}
}

func TestTemporalJoinRefusals(t *testing.T) {
	h := fakeHarness(t, t.TempDir(), newFakeLog())
	s := h.session()
	mustRun(t, s, "CREATE SOURCE bids (auction BIGINT, price BIGINT) WITH (connector = 'fake', topic = 't')")
	mustRun(t, s, "CREATE TABLE auctions (id BIGINT PRIMARY KEY, category TEXT)")
	mustRun(t, s, "CREATE TABLE orders (id BIGINT PRIMARY KEY, auction BIGINT)")
	mustRun(t, s, "CREATE STREAM expensive AS SELECT * FROM bids WHERE price > 100")
	mustRun(t, s, "CREATE MATERIALIZED VIEW per_auction AS SELECT auction, count(*) AS n FROM bids GROUP BY auction")
	// A stream derived by filtering a source only inserts: it can be enriched.
	mustRun(t, s, "CREATE STREAM expensive_enriched AS SELECT e.price, a.category FROM expensive e JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON e.auction = a.id")
	for q, code := range map[string]sqlerr.Code{
		"CREATE STREAM x AS SELECT * FROM orders o JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON o.auction = a.id":      sqlerr.FeatureNotSupported,
		"CREATE STREAM x AS SELECT * FROM per_auction p JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON p.auction = a.id": sqlerr.FeatureNotSupported,
		"CREATE STREAM x AS SELECT * FROM auctions FOR SYSTEM_TIME AS OF PROCTIME() a JOIN bids b ON b.auction = a.id":        sqlerr.FeatureNotSupported,
		"CREATE STREAM x AS SELECT * FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF now() a ON b.auction = a.id":             sqlerr.FeatureNotSupported,
		"CREATE STREAM x AS SELECT *, proctime() FROM bids":                                                                   sqlerr.FeatureNotSupported,
		"SELECT * FROM bids b JOIN auctions FOR SYSTEM_TIME AS OF PROCTIME() a ON b.price < a.id":                             sqlerr.FeatureNotSupported,
	} {
		wantCode(t, s, q, code)
	}
}
