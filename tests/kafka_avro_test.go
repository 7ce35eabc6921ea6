package tests

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestKafkaAvroInferredColumnsAndAvroSink creates an Avro source without
// declaring its columns (they come from the registry's latest schema of
// the topic's value subject), and an Avro upsert sink, which registers its
// value schema and writes Confluent's wire format under that schema's id.
func TestKafkaAvroInferredColumnsAndAvroSink(t *testing.T) {
	k := startKafka(t)
	reg := startRegistry(t)
	mustTopic(t, k, "infer", 2)
	id := reg.Add("infer-value", ratesAvroSchema)
	w := startWeirKafka(t, k, "--schema-registry="+reg.URL)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustExec(t, ctx, c, `CREATE SOURCE inferred WITH (connector='kafka', topic='infer', format='avro')`)
	cols := queryRows(t, ctx, c, `SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'inferred' ORDER BY ordinal_position`)
	if want := []string{"country_name text", "customer_name text", "id bigint", "rate integer"}; !slices.Equal(cols, want) { // queryRows sorts
		t.Fatalf("inferred columns %q, want %q", cols, want)
	}
	const n = 40
	for i := range n {
		mustProduce(t, k, "infer", -1, rateAvro(id, i))
	}
	waitInt(t, c, 20*time.Second, "inferred", `SELECT count(*) FROM inferred WHERE customer_name IS NOT NULL`, n)
	// ksqlDB's spelling, no columns either.
	mustExec(t, ctx, c, `CREATE STREAM ks_inferred WITH (KAFKA_TOPIC='infer', VALUE_FORMAT='AVRO');`)
	waitInt(t, c, 20*time.Second, "ks_inferred", `SELECT count(*) FROM ks_inferred WHERE rate IS NOT NULL`, n)

	mustExec(t, ctx, c, `CREATE MATERIALIZED VIEW by_country AS SELECT country_name, count(*) AS n FROM inferred GROUP BY country_name`)
	mustExec(t, ctx, c, `CREATE SINK avro_out FROM by_country WITH (connector='kafka', topic='avro_out', format='avro', mode='upsert')`)
	groups := len(countryCounts(n))

	// The sink registered its value schema; every record carries its id.
	var sinkID int
	waitFor(t, 20*time.Second, "the sink's value schema", func() error {
		resp, err := http.Get(reg.URL + "/subjects/avro_out-value/versions/latest")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var v struct {
			ID     int    `json:"id"`
			Schema string `json:"schema"`
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("registry: %s", resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			return err
		}
		sinkID = v.ID
		return nil
	})
	waitFor(t, 20*time.Second, "the sink's records", func() error {
		msgs := mustConsume(t, ctx, k, "avro_out")
		if len(msgs) < groups {
			return fmt.Errorf("%d records, want at least %d", len(msgs), groups)
		}
		for _, m := range msgs {
			if len(m.Value) < 5 || m.Value[0] != 0 || int(binary.BigEndian.Uint32(m.Value[1:5])) != sinkID {
				return fmt.Errorf("record %x is not Avro of schema id %d", m.Value, sinkID)
			}
			if m.Headers["weir.sink"] != "avro_out" {
				return fmt.Errorf("record headers %v", m.Headers)
			}
		}
		return nil
	})
}
