package nexmark

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// stream is the relation CREATE SOURCE name WITH (options) makes: the
// inferred columns and a hidden row id.
func stream(t testing.TB, options map[string]string) *catalog.Relation {
	t.Helper()
	cols, extra, err := (&Connector{}).InferColumns(context.Background(), options)
	if err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		t.Fatalf("extra options %v", extra)
	}
	cols = append(cols, catalog.Column{Name: catalog.RowIDColumn, Type: types.Int64, NotNull: true, Hidden: true})
	return &catalog.Relation{Name: "s", Kind: catalog.Source, Columns: cols, PrimaryKey: []int{len(cols) - 1}, Options: options}
}

func open(t testing.TB, rel *catalog.Relation, offsets ...executor.SourceOffset) executor.Source {
	t.Helper()
	src, err := (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Name: rel.Name, Relation: rel, Options: rel.Options, Offsets: offsets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// pollAll polls src until it has n rows, checking the offsets of each
// batch.
func pollAll(t testing.TB, src executor.Source, n int) []types.Row {
	t.Helper()
	var rows []types.Row
	var b executor.SourceBatch
	for len(rows) < n {
		b.Reset()
		if err := src.Poll(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Changes) == 0 || len(b.ChangeOffsets) != len(b.Changes) || len(b.Offsets) != 1 {
			t.Fatalf("batch of %d changes, %d change offsets, offsets %v", len(b.Changes), len(b.ChangeOffsets), b.Offsets)
		}
		if last := b.ChangeOffsets[len(b.ChangeOffsets)-1]; last != b.Offsets[0] {
			t.Fatalf("last change offset %v, batch offset %v", last, b.Offsets[0])
		}
		for _, ch := range b.Changes {
			if ch.Op != executor.ChangeInsert {
				t.Fatalf("change %v", ch.Op)
			}
			rows = append(rows, ch.After)
		}
	}
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	return rows
}

// TestSource: a source yields the events of its table as rows, in
// batches of at most poll.max_records, then nothing more; resumed at an
// offset it yields the same rows from there.
func TestSource(t *testing.T) {
	opts := map[string]string{"connector": "nexmark", "nexmark.table": "bid", "nexmark.events": "10000", "nexmark.seed": "5", "poll.max_records": "1000"}
	rel := stream(t, opts)
	src := open(t, rel)
	if got := src.StartOffsets(); len(got) != 1 || got[0] != (executor.SourceOffset{Topic: "bid", Next: 0}) {
		t.Fatalf("start offsets %v", got)
	}
	rows := pollAll(t, src, 9200)
	var want []types.Row
	var offsets []int64 // the offset after each bid
	Generate(Config{Seed: 5, Events: 10000}, 0, 1<<62, func(e *Event) bool {
		if e.Kind == KindBid {
			b := e.Bid
			want = append(want, types.Row{types.NewInt64(b.Auction), types.NewInt64(b.Bidder), types.NewInt64(b.Price),
				types.NewText(b.Channel), types.NewText(b.URL), types.NewTimestamp(b.DateTime), types.NewText(b.Extra), types.Null})
			offsets = append(offsets, e.Number+1)
		}
		return true
	})
	for i := range want {
		if !executor.IdenticalRows(rows[i], want[i]) {
			t.Fatalf("row %d is %v, want %v", i, rows[i], want[i])
		}
	}
	// The sequence is over: Poll waits for its context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b executor.SourceBatch
	if err := src.Poll(ctx, &b); !errors.Is(err, context.Canceled) || len(b.Changes) > 0 {
		t.Fatalf("Poll after the end: %v, %d changes", err, len(b.Changes))
	}

	for _, k := range []int{0, 1, 45, 46, 4000, 9199} {
		resumed := open(t, rel, executor.SourceOffset{Topic: "bid", Next: offsets[k] - 1})
		tail := pollAll(t, resumed, 9200-k)
		for i := range tail {
			if !executor.IdenticalRows(tail[i], want[k+i]) {
				t.Fatalf("resumed at bid %d: row %d is %v, want %v", k, i, tail[i], want[k+i])
			}
		}
	}
}

// TestSourceColumns: declared columns may be a subset of the table's in
// any order; the others are left out.
func TestSourceColumns(t *testing.T) {
	opts := map[string]string{"connector": "nexmark", "nexmark.table": "auction", "nexmark.events": "100"}
	rel := &catalog.Relation{Name: "a", Kind: catalog.Table, Options: opts, PrimaryKey: []int{1}, Columns: []catalog.Column{
		{Name: "seller", Type: types.Int64}, {Name: "id", Type: types.Int64, NotNull: true}, {Name: "item_name", Type: types.Text},
	}}
	rows := pollAll(t, open(t, rel), 6)
	var want []types.Row
	Generate(Config{Events: 100}, 0, 100, func(e *Event) bool {
		if e.Kind == KindAuction {
			want = append(want, types.Row{types.NewInt64(e.Auction.Seller), types.NewInt64(e.Auction.ID), types.NewText(e.Auction.ItemName)})
		}
		return true
	})
	for i := range want {
		if !executor.IdenticalRows(rows[i], want[i]) {
			t.Fatalf("row %d is %v, want %v", i, rows[i], want[i])
		}
	}
}

// TestPacedSource: with a rate, events come as the clock allows, all of
// them in order.
func TestPacedSource(t *testing.T) {
	opts := map[string]string{"connector": "nexmark", "nexmark.table": "person", "nexmark.events": "5000", "nexmark.rate": "100000"}
	rows := pollAll(t, open(t, stream(t, opts)), 100)
	for i, r := range rows {
		if r[0].Int() != FirstPersonID+int64(i) {
			t.Fatalf("row %d: id %d", i, r[0].Int())
		}
	}
}

func TestDefaultWatermark(t *testing.T) {
	col, expr, ok := (&Connector{}).DefaultWatermark(map[string]string{"nexmark.table": "bid"})
	if col != "date_time" || expr != "date_time - INTERVAL '4' SECOND" || !ok {
		t.Fatalf("%q %q %v", col, expr, ok)
	}
}

// TestOptionErrors: bad options and columns are the CREATE's error, with
// its SQLSTATE.
func TestOptionErrors(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"connector": "nexmark", "nexmark.table": "bid"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		opts map[string]string
		code sqlerr.Code
		msg  string
	}{
		{base("nexmark.table", ""), sqlerr.InvalidParameterValue, `missing option "nexmark.table"`},
		{base("nexmark.table", "bids"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.table: "bids"`},
		{base("nexmark.events", "-1"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.events: "-1"`},
		{base("nexmark.events", "ten"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.events: "ten"`},
		{base("nexmark.rate", "1.5"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.rate: "1.5"`},
		{base("nexmark.rate", "2000000000"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.rate: 2000000000`},
		{base("nexmark.seed", "x"), sqlerr.InvalidParameterValue, `invalid value for option nexmark.seed: "x"`},
		{base("poll.max_records", "0"), sqlerr.InvalidParameterValue, `invalid value for option poll.max_records: "0"`},
		{base("topic", "bids"), sqlerr.InvalidParameterValue, `unknown option "topic" for a nexmark source`},
	} {
		_, _, err := (&Connector{}).InferColumns(context.Background(), tc.opts)
		checkError(t, err, tc.code, tc.msg)
		rel := stream(t, base())
		rel.Options = tc.opts
		_, err = (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Relation: rel, Options: tc.opts})
		checkError(t, err, tc.code, tc.msg)
	}
	for _, tc := range []struct {
		col  catalog.Column
		code sqlerr.Code
		msg  string
	}{
		{catalog.Column{Name: "bid_price", Type: types.Int64}, sqlerr.InvalidTableDefinition, `nexmark table bid has no column "bid_price"`},
		{catalog.Column{Name: "price", Type: types.Int32}, sqlerr.InvalidTableDefinition, `column "price" of nexmark table bid is of type bigint, not integer`},
		{catalog.Column{Name: "channel", Type: types.Type{Kind: types.KindText, Width: 3}}, sqlerr.InvalidTableDefinition, `column "channel" of nexmark table bid is of type`},
	} {
		rel := &catalog.Relation{Name: "b", Columns: []catalog.Column{{Name: "auction", Type: types.Int64}, tc.col}}
		_, err := (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Relation: rel, Options: base()})
		checkError(t, err, tc.code, tc.msg)
	}
	_, err := (&Connector{}).OpenSink(context.Background(), executor.SinkConfig{})
	checkError(t, err, sqlerr.FeatureNotSupported, "nexmark sinks")
}

func checkError(t *testing.T, err error, code sqlerr.Code, msg string) {
	t.Helper()
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if e.Code != code || len(e.Message) < len(msg) || e.Message[:len(msg)] != msg {
		t.Fatalf("want %s %q..., got %s %q", code, msg, e.Code, e.Message)
	}
}

// TestPacedSourceBehind: a paced source the engine fell behind catches
// up in full batches, at once.
func TestPacedSourceBehind(t *testing.T) {
	opts := map[string]string{"connector": "nexmark", "nexmark.table": "bid", "nexmark.rate": "1000", "poll.max_records": "300"}
	src := open(t, stream(t, opts)).(*source)
	src.paced, src.paceStart, src.paceFrom = true, time.Now().Add(-time.Second), 0
	var b executor.SourceBatch
	for _, want := range []int{300, 300, 300} {
		b.Reset()
		if err := src.Poll(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Changes) != want {
			t.Fatalf("%d rows, want %d", len(b.Changes), want)
		}
	}
	// A second's worth is 1000 events, 920 bids; what comes next is due
	// only as the clock goes on: no full batch.
	b.Reset()
	if err := src.Poll(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Changes); n == 0 || n >= 300 {
		t.Fatalf("%d rows after 900, want the few due since", n)
	}
}

// TestReplayUnpaced: read again (a view created later over an unstored
// source), a paced source's events come as fast as they are polled, the
// same events (their times are not the pace's): a replay of an hour at
// the pace took an hour.
func TestReplayUnpaced(t *testing.T) {
	opts := map[string]string{"connector": "nexmark", "nexmark.table": "bid", "nexmark.rate": "1", "poll.max_records": "300"}
	rel := stream(t, opts)
	src, err := (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Name: rel.Name, Relation: rel, Options: rel.Options, Replay: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b executor.SourceBatch
	for range 3 {
		b.Reset()
		if err := src.Poll(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Changes) != 300 {
			t.Fatalf("%d rows, want a full batch", len(b.Changes))
		}
	}
	if s := src.(*source); s.gen.rate != open(t, rel).(*source).gen.rate {
		t.Fatal("a replay changed the events' times")
	}
}

// nexmark.base_time = 'now' becomes the time the source was created, kept
// with it; a timestamp sets event 0's date_time.
func TestBaseTimeOption(t *testing.T) {
	c := &Connector{}
	before := time.Now().UTC()
	_, keep, err := c.InferColumns(context.Background(), map[string]string{"nexmark.table": "bid", "nexmark.base_time": "now"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse("2006-01-02 15:04:05.999999", keep["nexmark.base_time"])
	if err != nil || got.Before(before.Truncate(time.Microsecond)) || got.After(time.Now().UTC()) {
		t.Fatalf("kept %q (%v), want about %v", keep["nexmark.base_time"], err, before)
	}
	o, err := parseOptions(map[string]string{"nexmark.table": "bid", "nexmark.base_time": "2026-11-26 12:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	Generate(o.cfg, 0, 1, func(e *Event) bool { first = e.Person.DateTime; return false })
	if want := types.TimeToTimestamp(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)); first != want {
		t.Fatalf("event 0 at %d, want %d", first, want)
	}
	if _, err := parseOptions(map[string]string{"nexmark.table": "bid", "nexmark.base_time": "soon"}); err == nil {
		t.Fatal("nexmark.base_time = 'soon' accepted")
	}
}
