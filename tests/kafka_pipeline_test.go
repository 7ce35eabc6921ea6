package tests

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/connectors/registry/registrytest"
	"github.com/weirdb/weir/tests/internal/weirtest"
)

// ratesAvroSchema is the value schema ksqlDB registers for the issue's
// RATES_STREAM: upper-case field names, every field a nullable union.
const ratesAvroSchema = `{"type":"record","name":"KsqlDataSourceSchema","namespace":"io.confluent.ksql.avro_schemas","fields":[` +
	`{"name":"ID","type":["null","long"],"default":null},` +
	`{"name":"CUSTOMER_NAME","type":["null","string"],"default":null},` +
	`{"name":"COUNTRY_NAME","type":["null","string"],"default":null},` +
	`{"name":"RATE","type":["null","int"],"default":null}]}`

// startRegistry starts the schema registry test server, closed at the end
// of the test.
func startRegistry(t testing.TB) *registrytest.Server {
	reg := registrytest.New()
	t.Cleanup(reg.Close)
	return reg
}

// rateAvro is record i of the RATES topic: countries NL, US, DE in the
// ratio 3:2:1.
func rateAvro(schemaID, i int) weirtest.Record {
	country := [...]string{"NL", "NL", "NL", "US", "US", "DE"}[i%6]
	return weirtest.Record{Value: weirtest.ConfluentAvro(schemaID, int64(i), fmt.Sprintf("customer-%d", i%17), country, int32(i%5))}
}

// countryCounts is what `SELECT COUNT(*), Country_name ... GROUP BY
// Country_name` holds after records 0..n-1 of rateAvro, as rows "count
// country", sorted.
func countryCounts(n int) []string {
	counts := map[string]int{}
	for i := range n {
		counts[[...]string{"NL", "NL", "NL", "US", "US", "DE"}[i%6]]++
	}
	var rows []string
	for c, n := range counts {
		rows = append(rows, fmt.Sprintf("%d %s", n, c))
	}
	slices.Sort(rows)
	return rows
}

// TestKafkaKsqlAvroPipeline runs the ksqlDB pipeline verbatim over
// Avro records read through the schema registry: the push query delivers
// the counts per country as records arrive, the pull query answers them.
func TestKafkaKsqlAvroPipeline(t *testing.T) {
	k := startKafka(t)
	reg := startRegistry(t)
	mustTopic(t, k, "RATES", 3)
	schemaID := reg.Add("RATES-value", ratesAvroSchema)
	w := startWeirKafka(t, k, "--schema-registry="+reg.URL)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustExec(t, ctx, c, `CREATE STREAM RATES_STREAM (id BIGINT, customer_name VARCHAR, Country_name VARCHAR, rate INT)
  WITH (KAFKA_TOPIC='RATES', VALUE_FORMAT='AVRO') EMIT CHANGES;`)
	mustExec(t, ctx, c, `CREATE STREAM RATES_COUNT AS SELECT COUNT(*), Country_name FROM RATES_STREAM GROUP BY Country_name EMIT CHANGES;`)
	// ksqlDB reads a new stream from the latest offsets by default: the
	// records go in once the source runs, so that either default reads them.
	waitFor(t, 20*time.Second, "rates_stream running", func() error {
		st, err := getSourceStatus(ctx, c, "rates_stream")
		if err == nil && st.state != "running" {
			err = fmt.Errorf("%v", st)
		}
		return err
	})
	const first, total = 60, 150
	var recs []weirtest.Record
	for i := range total {
		recs = append(recs, rateAvro(schemaID, i))
	}
	mustProduce(t, k, "RATES", -1, recs[:first]...)
	waitInt(t, c, 20*time.Second, "rates_stream", `SELECT count(*) FROM RATES_STREAM`, first)

	sub := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := startPushSimple(subCtx, sub.PgConn(), `SELECT * FROM RATES_COUNT EMIT CHANGES;`)
	// The push query's rows, applied as changes to what it showed so far,
	// must come to the counts of the records produced.
	shown := map[string]int{}
	var log []string
	follow := func(want []string, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got []string
			for r, n := range shown {
				for range n {
					got = append(got, r)
				}
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
			var row []string
			select {
			case row = <-p.rows:
			case err := <-p.done:
				t.Fatalf("%s: the push query ended (%v); rows received:\n%s", what, err, strings.Join(log, "\n"))
			case <-time.After(time.Until(deadline)):
				t.Fatalf("%s: the push query shows\n%s\nwant\n%s\nrows received:\n%s", what,
					strings.Join(got, "\n"), strings.Join(want, "\n"), strings.Join(log, "\n"))
			}
			log = append(log, strings.Join(row, " "))
			if len(row) != 3 {
				t.Fatalf("push row %q: want op, count, country_name", row)
			}
			r := row[1] + " " + row[2]
			switch row[0] {
			case "insert":
				shown[r]++
			case "delete":
				if shown[r] == 0 {
					t.Fatalf("push query deletes %q, which it did not show; rows received:\n%s", r, strings.Join(log, "\n"))
				}
				shown[r]--
				if shown[r] == 0 {
					delete(shown, r)
				}
			default:
				t.Fatalf("push row %q: op %q", row, row[0])
			}
		}
	}
	follow(countryCounts(first), "the current counts")
	mustProduce(t, k, "RATES", -1, recs[first:]...)
	follow(countryCounts(total), "the counts after more records")
	t.Logf("push query: %d rows for %d records", len(log), total)

	pull := queryRows(t, ctx, c, `SELECT * FROM RATES_COUNT;`)
	if want := countryCounts(total); !slices.Equal(pull, want) {
		t.Errorf("SELECT * FROM RATES_COUNT:\n%s\nwant\n%s", strings.Join(pull, "\n"), strings.Join(want, "\n"))
	}
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM RATES_STREAM WHERE customer_name LIKE 'customer-%' AND rate BETWEEN 0 AND 4`); err != nil || n != total {
		t.Errorf("the stream's rows with every field decoded: %d, %v; want %d", n, err, total)
	}
	st, err := getSourceStatus(ctx, c, "rates_stream")
	if err != nil || st.state != "running" || st.records != total || st.errors != 0 {
		t.Errorf("weir_catalog.sources: %v, %v; want running, %d records, 0 errors", st, err, total)
	}
}

// rateJSON is record i of the rates topic of the Weir-syntax pipeline.
func rateJSON(i int) weirtest.Record {
	return weirtest.Record{
		Key: fmt.Appendf(nil, "%d", i),
		Value: fmt.Appendf(nil, `{"id":%d,"customer":"c%d","country":"%s","rate":%d,"ts":"2026-11-26 12:%02d:%02d"}`,
			i, i%11, rateCountry(i), rateOf(i), i/60%60, i%60),
	}
}

func rateCountry(i int) string { return [...]string{"NL", "US", "DE", "NL", "FR", "US", "NL"}[i%7] }
func rateOf(i int) int         { return (i * 7) % 10 }

// ratesByCountry is rates_by_country after records 0..n-1 of rateJSON, as
// queryTable renders it.
func ratesByCountry(n int) map[string]string {
	count, sum := map[string]int{}, map[string]int{}
	for i := range n {
		count[rateCountry(i)]++
		sum[rateCountry(i)] += rateOf(i)
	}
	out := map[string]string{}
	for c, n := range count {
		out[c] = fmt.Sprintf("%s %d %s", c, n, normField(fmt.Sprint(float64(sum[c])/float64(n))))
	}
	return out
}

// debeziumEvent is a customers change event as Debezium writes it with
// schemas disabled; before and after are JSON objects or "null".
func debeziumEvent(id int, op, before, after string) weirtest.Record {
	return weirtest.Record{
		Key:   fmt.Appendf(nil, `{"id":%d}`, id),
		Value: fmt.Appendf(nil, `{"before":%s,"after":%s,"source":{"connector":"postgresql","table":"customers"},"op":"%s","ts_ms":1764158400000}`, before, after, op),
	}
}

func customer(id int, name, tier string) string {
	return fmt.Sprintf(`{"id":%d,"name":"%s","tier":"%s"}`, id, name, tier)
}

// TestKafkaSourceSinkPipeline runs the pipeline in Weir's syntax: a
// JSON stream source, a Debezium table (inserts, updates, deletes), GROUP
// BY views, and upsert sinks read by kcat with read_committed: each key's
// last record is the view's row, a deleted group's a tombstone, and a sink
// created on a view with rows starts with them.
func TestKafkaSourceSinkPipeline(t *testing.T) {
	k := startKafka(t)
	for topic, parts := range map[string]int{"rates": 3, "customers": 2, "rates_by_country": 3, "tiers": 1} {
		mustTopic(t, k, topic, parts)
	}
	const first, total = 300, 700
	var rates []weirtest.Record
	for i := range total {
		rates = append(rates, rateJSON(i))
	}
	// Records before CREATE SOURCE: read from the earliest offsets.
	mustProduce(t, k, "rates", -1, rates[:first/2]...)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, 2*time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SOURCE rates (id BIGINT, customer VARCHAR, country VARCHAR, rate INT, ts TIMESTAMP)
  WITH (connector='kafka', topic='rates', brokers='%s', format='json', scan.startup='earliest')`, k.Brokers()))
	// No brokers: the server's --kafka-brokers.
	mustExec(t, ctx, c, `CREATE TABLE customers (id BIGINT PRIMARY KEY, name VARCHAR, tier VARCHAR)
  WITH (connector='kafka', topic='customers', format='debezium', scan.startup='earliest')`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW rates_by_country AS SELECT country, COUNT(*) AS n, AVG(rate) AS avg_rate FROM rates GROUP BY country`)
	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW customers_by_tier AS SELECT tier, count(*) AS n FROM customers GROUP BY tier`)
	mustProduce(t, k, "rates", -1, rates[first/2:first]...)
	mustProduce(t, k, "customers", -1,
		debeziumEvent(1, "c", "null", customer(1, "Ada", "gold")),
		debeziumEvent(2, "c", "null", customer(2, "Grace", "gold")),
		debeziumEvent(3, "c", "null", customer(3, "Edsger", "silver")),
		debeziumEvent(4, "c", "null", customer(4, "Barbara", "bronze")),
		debeziumEvent(5, "c", "null", customer(5, "Ken", "bronze")),
		debeziumEvent(6, "c", "null", customer(6, "Dennis", "silver")),
	)
	waitInt(t, c, 20*time.Second, "rates", `SELECT count(*) FROM rates`, first)
	waitInt(t, c, 20*time.Second, "customers", `SELECT count(*) FROM customers`, 6)
	ratesCols, tierCols := []string{"country", "n", "avg_rate"}, []string{"tier", "n"}
	byCountry := queryTable(t, ctx, c, `SELECT country, n, avg_rate FROM rates_by_country`)
	if want := ratesByCountry(first); !maps.Equal(byCountry, want) {
		t.Fatalf("rates_by_country after %d records:\n%s", first, mapDiff(byCountry, want))
	}
	byTier := queryTable(t, ctx, c, `SELECT tier, n FROM customers_by_tier`)

	mustExec(t, ctx, c, fmt.Sprintf(`CREATE SINK rates_out FROM rates_by_country
  WITH (connector='kafka', topic='rates_by_country', brokers='%s', format='json', mode='upsert')`, k.Brokers()))
	mustExec(t, ctx, c, `CREATE SINK tiers_out FROM customers_by_tier WITH (connector='kafka', topic='tiers', format='json', mode='upsert')`)
	// A sink on a view with rows first emits them.
	waitUpsertSink(t, ctx, k, "rates_by_country", "rates_out", ratesCols, byCountry, 20*time.Second)
	waitUpsertSink(t, ctx, k, "tiers", "tiers_out", tierCols, byTier, 20*time.Second)

	// Changes: more rates; an update, a tier change, two deletes (each
	// followed by its tombstone, as Debezium writes them) that empty
	// the bronze tier, a snapshot read.
	mustProduce(t, k, "rates", -1, rates[first:]...)
	mustProduce(t, k, "customers", -1,
		debeziumEvent(3, "u", customer(3, "Edsger", "silver"), customer(3, "Edsger", "gold")),
		debeziumEvent(4, "d", customer(4, "Barbara", "bronze"), "null"),
		weirtest.Record{Key: []byte(`{"id":4}`)},
		debeziumEvent(6, "u", customer(6, "Dennis", "silver"), customer(6, "Dennis R.", "silver")),
		debeziumEvent(5, "d", customer(5, "Ken", "bronze"), "null"),
		weirtest.Record{Key: []byte(`{"id":5}`)},
		debeziumEvent(7, "r", "null", customer(7, "Alan", "platinum")),
	)
	waitInt(t, c, 20*time.Second, "rates", `SELECT count(*) FROM rates`, total)
	wantCustomers := []string{"1 Ada gold", "2 Grace gold", "3 Edsger gold", "6 Dennis R. silver", "7 Alan platinum"}
	waitFor(t, 20*time.Second, "customers after the changes", func() error {
		got, err := viewRows(ctx, c.PgConn(), `SELECT * FROM customers`)
		if err == nil && !slices.Equal(got, wantCustomers) {
			err = fmt.Errorf("customers:\n%s", strings.Join(got, "\n"))
		}
		return err
	})
	byCountry = queryTable(t, ctx, c, `SELECT country, n, avg_rate FROM rates_by_country`)
	if want := ratesByCountry(total); !maps.Equal(byCountry, want) {
		t.Fatalf("rates_by_country after %d records:\n%s", total, mapDiff(byCountry, want))
	}
	byTier = queryTable(t, ctx, c, `SELECT tier, n FROM customers_by_tier`)
	if want := map[string]string{"gold": "gold 3", "silver": "silver 1", "platinum": "platinum 1"}; !maps.Equal(byTier, want) {
		t.Fatalf("customers_by_tier:\n%s", mapDiff(byTier, want))
	}

	rlog := waitUpsertSink(t, ctx, k, "rates_by_country", "rates_out", ratesCols, byCountry, 20*time.Second)
	tlog := waitUpsertSink(t, ctx, k, "tiers", "tiers_out", tierCols, byTier, 20*time.Second)
	if final := tlog.final(); final["bronze"] != "" {
		t.Errorf("the emptied bronze group ends with %q, not a tombstone", final["bronze"])
	}
	for _, l := range []upsertLog{rlog, tlog} {
		if r := l.repeats(); len(r) > 0 {
			t.Errorf("changes delivered twice:\n%s", strings.Join(r, "\n"))
		}
	}
	// rates only grow: each country's counts go up, record after record.
	for country, rows := range rlog {
		prev := int64(-1)
		for _, r := range rows {
			var n int64
			if f := strings.Fields(r); len(f) == 3 {
				n, _ = strconv.ParseInt(f[1], 10, 64)
			}
			if n <= prev {
				t.Errorf("rates_by_country %s: n %d after %d (records %q)", country, n, prev, rows)
				break
			}
			prev = n
		}
	}
	st, err := getSourceStatus(ctx, c, "customers")
	if err != nil || st.state != "running" || st.errors != 0 {
		t.Errorf("customers in weir_catalog.sources: %v %v", st, err)
	}
}
