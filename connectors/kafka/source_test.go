package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func sourceRelation() *catalog.Relation {
	return &catalog.Relation{
		Name: "clicks",
		Columns: []catalog.Column{
			{Name: "page", Type: types.Text},
			{Name: "n", Type: types.Int32},
			{Name: "p", Type: types.Int32},
			{Name: "o", Type: types.Int64},
			{Name: "ts", Type: types.TimestampTZ},
			{Name: "k", Type: types.Text},
			{Name: "h", Type: types.JSONB},
			{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true},
		},
		PrimaryKey: []int{7},
	}
}

func TestSourceDecodesWithMetadata(t *testing.T) {
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	at := time.UnixMilli(1764158400000)
	recs := []*kgo.Record{
		{Topic: topic, Partition: 1, Key: []byte("a"), Value: []byte(`{"page":"/x","n":1}`), Timestamp: at, Headers: []kgo.RecordHeader{{Key: "src", Value: []byte("web")}}},
		{Topic: topic, Partition: 1, Value: []byte(`{"page":"/y","n":"many"}`), Timestamp: at},
		{Topic: topic, Partition: 1, Value: []byte(`{"page":"/z"}`), Timestamp: at},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	conn := &Connector{Brokers: c.ListenAddrs()}
	src, err := conn.OpenSource(context.Background(), executor.SourceConfig{
		Name: "clicks", Relation: sourceRelation(),
		Options: map[string]string{"connector": "kafka", "topic": topic, "include.partition": "p", "include.offset": "o",
			"include.timestamp": "ts", "include.key": "k", "include.headers": "h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b executor.SourceBatch
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(b.Changes)+len(b.Rejects) < 3 {
		if err := src.Poll(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	var rows []string
	for _, ch := range b.Changes {
		var f []string
		for _, d := range ch.After[:7] {
			if d.IsNull() {
				f = append(f, "NULL")
			} else {
				f = append(f, string(types.AppendText(nil, d, time.UTC)))
			}
		}
		rows = append(rows, strings.Join(f, "|"))
	}
	want := []string{
		`/x|1|1|0|2025-11-26 12:00:00+00|a|{"src": "web"}`,
		`/z|NULL|1|2|2025-11-26 12:00:00+00|NULL|{}`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if len(b.Rejects) != 1 || b.Rejects[0].Offset != 1 || !strings.Contains(b.Rejects[0].Err, `"n"`) {
		t.Fatalf("rejects %+v", b.Rejects)
	}
	if len(b.ChangeOffsets) != 2 || b.ChangeOffsets[1].Next != 3 {
		t.Fatalf("change offsets %+v", b.ChangeOffsets)
	}
	for _, o := range b.Offsets {
		if o.Partition == 1 && o.Next != 3 {
			t.Fatalf("offsets %+v", b.Offsets)
		}
	}
}

func TestSourceOptionErrors(t *testing.T) {
	c := newCluster(t)
	conn := &Connector{Brokers: c.ListenAddrs()}
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"format": "json"}, `missing option "topic"`},
		{map[string]string{"topic": topic, "formt": "json"}, `unknown option "formt"`},
		{map[string]string{"topic": topic, "format": "xml"}, `unknown format "xml"`},
		{map[string]string{"topic": topic, "format": "avro"}, "needs a schema registry"},
		{map[string]string{"topic": topic, "include.offset": "page"}, "must be of type bigint"},
		{map[string]string{"topic": topic, "include.offset": "nope"}, `column "nope"`},
		{map[string]string{"topic": topic, "scan.startup": "yesterday"}, "scan.startup"},
		{map[string]string{"topic": topic, "envelope": "upsert"}, "needs a primary key"},
		{map[string]string{"topic": topic, "topic.pattern": "x"}, "not both"},
		{map[string]string{"topic": "absent"}, "absent"},
		{map[string]string{"topic": topic, "properties.sasl.mechanizm": "PLAIN"}, "sasl.mechanizm"},
	} {
		tc.opts["connector"] = "kafka"
		_, err := conn.OpenSource(context.Background(), executor.SourceConfig{Name: "clicks", Relation: sourceRelation(), Options: tc.opts})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.opts, err, tc.want)
			continue
		}
		if sqlerr.CodeOf(err) == sqlerr.InternalError {
			t.Errorf("%v: %v has no SQLSTATE", tc.opts, err)
		}
	}
	if _, err := (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Relation: sourceRelation(), Options: map[string]string{"topic": topic}}); err == nil || !strings.Contains(sqlerr.From(err).Hint, "--kafka-brokers") {
		t.Errorf("no brokers: %v", err)
	}
}

// TestSourceLag checks that a source's lag is what its partitions hold
// past the last committed batch: all of it after a poll, nothing once the
// polled batches are committed, and again what is produced later.
func TestSourceLag(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 10, 0)
	conn := &Connector{Brokers: c.ListenAddrs()}
	src, err := conn.OpenSource(context.Background(), executor.SourceConfig{
		Name: "clicks", Relation: sourceRelation(), OnError: executor.OnErrorSkip,
		Options: map[string]string{"connector": "kafka", "topic": topic},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lag := func() string {
		var f []string
		for _, l := range src.(executor.LagReporter).Lag() {
			f = append(f, fmt.Sprintf("%s[%d]=%d", l.Topic, l.Partition, l.Records))
		}
		return strings.Join(f, " ")
	}
	if got := lag(); got != "" {
		t.Errorf("lag before any poll: %q; want none (no end known)", got)
	}
	// pollAll polls n records without committing them.
	pollAll := func(n int) []*executor.SourceBatch {
		var bs []*executor.SourceBatch
		for got := 0; got < n; {
			b := &executor.SourceBatch{}
			if err := src.Poll(ctx, b); err != nil {
				t.Fatal(err)
			}
			got += len(b.Changes) + len(b.Rejects)
			bs = append(bs, b)
		}
		return bs
	}
	commit := func(bs []*executor.SourceBatch) {
		for _, b := range bs {
			if err := src.Committed(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	bs := pollAll(30)
	if got, want := lag(), "rates[0]=10 rates[1]=10 rates[2]=10"; got != want {
		t.Errorf("lag after polling, before the commit: %q; want %q", got, want)
	}
	commit(bs)
	if got, want := lag(), "rates[0]=0 rates[1]=0 rates[2]=0"; got != want {
		t.Errorf("lag after the commit: %q; want %q", got, want)
	}
	produce(t, c, 5, 100)
	bs = pollAll(15)
	if got, want := lag(), "rates[0]=5 rates[1]=5 rates[2]=5"; got != want {
		t.Errorf("lag after polling 5 more per partition: %q; want %q", got, want)
	}
	commit(bs)
	if got, want := lag(), "rates[0]=0 rates[1]=0 rates[2]=0"; got != want {
		t.Errorf("lag after catching up: %q; want %q", got, want)
	}
}
