package tests

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

// bigintKey is a BIGINT as ksqlDB's KAFKA key format writes it.
func bigintKey(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// TestKafkaKsqlKeys reads the record key as ksqlDB does: a stream's KEY
// columns and a table's PRIMARY KEY come from it (KAFKA format by
// default), and a table upserts by it, a tombstone deleting the row.
func TestKafkaKsqlKeys(t *testing.T) {
	k := startKafka(t)
	mustTopic(t, k, "pageviews", 2)
	mustTopic(t, k, "users", 1)
	w := startWeirKafka(t, k)
	ctx := testCtx(t, time.Minute)
	c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)

	mustExec(t, ctx, c, `CREATE STREAM pageviews (userid BIGINT KEY, page VARCHAR) WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON');`)
	mustExec(t, ctx, c, `CREATE TABLE users (userid BIGINT PRIMARY KEY, name VARCHAR) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');`)
	mustExec(t, ctx, c, `CREATE TABLE views_per_user AS SELECT p.userid, u.name, COUNT(*) AS n
  FROM pageviews p JOIN users u ON p.userid = u.userid GROUP BY p.userid, u.name EMIT CHANGES;`)

	mustProduce(t, k, "users", -1,
		weirtest.Record{Key: bigintKey(1), Value: []byte(`{"name":"ada"}`)},
		weirtest.Record{Key: bigintKey(2), Value: []byte(`{"name":"bo"}`)},
		weirtest.Record{Key: bigintKey(3), Value: []byte(`{"name":"cy"}`)},
		weirtest.Record{Key: bigintKey(2), Value: []byte(`{"name":"bob"}`)}, // upsert
		weirtest.Record{Key: bigintKey(3)},                                  // tombstone
	)
	var pv []weirtest.Record
	for i := range 30 {
		// The value's userid is not the key's: the key wins.
		pv = append(pv, weirtest.Record{Key: bigintKey(int64(i%3 + 1)), Value: fmt.Appendf(nil, `{"userid":99,"page":"/p%d"}`, i)})
	}
	mustProduce(t, k, "pageviews", -1, pv...)
	waitInt(t, c, 20*time.Second, "pageviews", `SELECT count(*) FROM pageviews`, 30)
	waitInt(t, c, 20*time.Second, "users", `SELECT count(*) FROM users`, 2)
	waitInt(t, c, 20*time.Second, "views_per_user", `SELECT sum(n) FROM views_per_user`, 20)
	got := queryRows(t, ctx, c, `SELECT userid || ' ' || name || ' ' || n FROM views_per_user`)
	if want := []string{"1 ada 10", "2 bob 10"}; !slices.Equal(got, want) {
		t.Fatalf("views_per_user: %q, want %q", got, want)
	}
	if n, err := queryInt(ctx, c, `SELECT count(*) FROM pageviews WHERE userid = 99`); err != nil || n != 0 {
		t.Fatalf("rows keyed by the value's userid: %d, %v", n, err)
	}
}
