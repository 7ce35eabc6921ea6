package kafka

import (
	"context"
	"testing"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// openTestSink opens sink name (object id) of (k bigint, v text), upserting
// JSON by k to topic.
func openTestSink(t *testing.T, conn *Connector, name string, id catalog.ID) executor.Sink {
	t.Helper()
	rel := &catalog.Relation{ID: id, Name: name, Kind: catalog.Sink, Columns: []catalog.Column{
		{Name: "k", Type: types.Int64}, {Name: "v", Type: types.Text},
	}}
	s, err := conn.OpenSink(context.Background(), executor.SinkConfig{
		Name: name, Relation: rel, Key: []int{0}, Options: map[string]string{"connector": "kafka", "topic": topic, "mode": "upsert"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func checkDelivered(t *testing.T, s executor.Sink, want uint64, wantOK bool) {
	t.Helper()
	got, ok, err := s.Delivered(context.Background())
	if err != nil || got != want || ok != wantOK {
		t.Fatalf("Delivered = %d, %v, %v; want %d, %v", got, ok, err, want, wantOK)
	}
}

// A sink dropped and created again under the same name, writing to the
// same topic, numbers its epochs from 1 again: what the older one wrote
// must not count as delivered, or the new sink would skip its first
// epochs (the relation's contents among them).
func TestSinkRecreatedWithSameNameDeliversFromStart(t *testing.T) {
	c := newCluster(t)
	conn := &Connector{Brokers: c.ListenAddrs()}
	ctx := context.Background()
	row := func(k int64, v string) executor.Change {
		return executor.Change{Op: executor.ChangeInsert, After: types.Row{types.NewInt64(k), types.NewText(v)}}
	}
	old := openTestSink(t, conn, "out", 10)
	for seq := uint64(1); seq <= 3; seq++ {
		if err := old.Write(ctx, seq, []executor.Change{row(int64(seq), "old")}); err != nil {
			t.Fatal(err)
		}
	}
	checkDelivered(t, old, 3, true)
	old.Close()

	recreated := openTestSink(t, conn, "out", 11)
	checkDelivered(t, recreated, 0, false)
	if err := recreated.Write(ctx, 1, []executor.Change{row(1, "new")}); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, recreated, 1, true)
	got := readAll(t, c, true, 4)
	want := []string{`{"k":1,"v":"new"}`, `{"k":1,"v":"old"}`, `{"k":2,"v":"old"}`, `{"k":3,"v":"old"}`}
	if len(got) != len(want) {
		t.Fatalf("topic holds %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("topic holds %q, want %q", got, want)
		}
	}
}
