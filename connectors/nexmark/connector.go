package nexmark

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Connector is the nexmark connector: it opens the sources of statements
// WITH (connector = 'nexmark', nexmark.table = '...', ...).
type Connector struct{}

var (
	_ executor.Connector       = (*Connector)(nil)
	_ executor.SchemaInferrer  = (*Connector)(nil)
	_ executor.EventTimeSource = (*Connector)(nil)
)

// column is a column of a Nexmark table.
type column struct {
	name string
	typ  types.Type
}

// schemas are the columns of each table (RisingWave's names), in the
// order of the fields of Person, Auction and Bid.
var schemas = [...][]column{
	KindPerson: {
		{"id", types.Int64}, {"name", types.Varchar}, {"email_address", types.Varchar},
		{"credit_card", types.Varchar}, {"city", types.Varchar}, {"state", types.Varchar},
		{"date_time", types.Timestamp}, {"extra", types.Varchar},
	},
	KindAuction: {
		{"id", types.Int64}, {"item_name", types.Varchar}, {"description", types.Varchar},
		{"initial_bid", types.Int64}, {"reserve", types.Int64}, {"date_time", types.Timestamp},
		{"expires", types.Timestamp}, {"seller", types.Int64}, {"category", types.Int64}, {"extra", types.Varchar},
	},
	KindBid: {
		{"auction", types.Int64}, {"bidder", types.Int64}, {"price", types.Int64},
		{"channel", types.Varchar}, {"url", types.Varchar}, {"date_time", types.Timestamp}, {"extra", types.Varchar},
	},
}

// maxRate bounds nexmark.rate, so that pacing arithmetic cannot overflow.
const maxRate = 1_000_000_000

// defaultMaxRecords is how many rows a Poll returns at most by default.
const defaultMaxRecords = 4096

// sourceOptions are a source's WITH options, read and checked.
type sourceOptions struct {
	table Kind
	cfg   Config
	// rate paces the source (events per second, 0: as fast as the engine
	// takes them); cfg.Rate is the same, or DefaultRate for 0.
	rate       int64
	maxRecords int
	// baseNow: nexmark.base_time = 'now', which CREATE SOURCE turns into
	// the time it was created (InferColumns), for the sequence's times to
	// be those of its pace.
	baseNow bool
}

func optionError(format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.InvalidParameterValue, format, args...)
}

// parseOptions reads the options of a source; any it does not know is an
// error.
func parseOptions(opts map[string]string) (sourceOptions, error) {
	o := sourceOptions{maxRecords: defaultMaxRecords}
	rest := map[string]string{}
	for k, v := range opts {
		rest[k] = v
	}
	take := func(k string) string {
		v := rest[k]
		delete(rest, k)
		return strings.TrimSpace(v)
	}
	delete(rest, "connector")
	delete(rest, "on_error")
	integer := func(k string, min int64) (int64, error) {
		v := take(k)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			what := "a whole number"
			if min == 0 {
				what = "a whole number of at least 0"
			}
			return 0, optionError("invalid value for option %s: \"%s\"", k, v).WithHint("Give %s.", what)
		}
		return n, nil
	}
	switch v := strings.ToLower(take("nexmark.table")); v {
	case "person":
		o.table = KindPerson
	case "auction":
		o.table = KindAuction
	case "bid":
		o.table = KindBid
	case "":
		return o, optionError("missing option \"nexmark.table\"").WithHint("Name the table to generate: nexmark.table = 'bid', 'auction' or 'person'.")
	default:
		return o, optionError("invalid value for option nexmark.table: \"%s\"", v).WithHint("Give 'bid', 'auction' or 'person'.")
	}
	var err error
	if o.cfg.Events, err = integer("nexmark.events", 0); err != nil {
		return o, err
	}
	if o.rate, err = integer("nexmark.rate", 0); err != nil {
		return o, err
	}
	if o.rate > maxRate {
		return o, optionError("invalid value for option nexmark.rate: %d", o.rate).WithHint("Give at most %d events per second, or 0 for as fast as possible.", maxRate)
	}
	o.cfg.Rate = o.rate
	// The event-time rate (date_time's spacing) may differ from the pace:
	// a test generates minutes of event time in a second.
	if v, err := integer("nexmark.event_rate", 1); err != nil || v > maxRate {
		if err == nil {
			err = optionError("invalid value for option nexmark.event_rate: %d", v).WithHint("Give at most %d events per second.", maxRate)
		}
		return o, err
	} else if v > 0 {
		o.cfg.Rate = v
	}
	if o.cfg.Seed, err = integer("nexmark.seed", -1<<63); err != nil {
		return o, err
	}
	switch v := take("nexmark.base_time"); {
	case v == "":
	case strings.EqualFold(v, "now"):
		o.baseNow = true
	default:
		t, err := time.Parse("2006-01-02 15:04:05.999999", v)
		if err != nil {
			return o, optionError("invalid value for option nexmark.base_time: \"%s\"", v).
				WithHint("Give 'now' or a timestamp such as '2024-01-01 00:00:00'.")
		}
		o.cfg.Base = types.TimeToTimestamp(t)
	}
	if v := take("poll.max_records"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, optionError("invalid value for option poll.max_records: \"%s\"", v).WithHint("Give a whole number of at least 1.")
		}
		o.maxRecords = n
	}
	if len(rest) > 0 {
		keys := make([]string, 0, len(rest))
		for k := range rest {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return o, optionError("unknown option \"%s\" for a nexmark source", keys[0]).
			WithHint("Options: nexmark.table, nexmark.events, nexmark.rate, nexmark.event_rate, nexmark.seed, nexmark.base_time, poll.max_records, on_error.")
	}
	return o, nil
}

// InferColumns implements executor.SchemaInferrer: the columns of the
// table the options name.
func (c *Connector) InferColumns(_ context.Context, opts map[string]string) ([]catalog.Column, map[string]string, error) {
	o, err := parseOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	cols := make([]catalog.Column, len(schemas[o.table]))
	for i, sc := range schemas[o.table] {
		cols[i] = catalog.Column{Name: sc.name, Type: sc.typ}
	}
	var keep map[string]string
	if o.baseNow {
		// The sequence keeps the time it was created at, across restarts.
		keep = map[string]string{"nexmark.base_time": time.Now().UTC().Format("2006-01-02 15:04:05.999999")}
	}
	return cols, keep, nil
}

// DefaultWatermark implements executor.EventTimeSource: every table's
// event time is date_time, which grows with the event number; 4 seconds
// of slack let a query mix the tables' rows (and the watermarks of
// other systems' Nexmark setups use the same).
func (c *Connector) DefaultWatermark(map[string]string) (column, expr string, ok bool) {
	return "date_time", "date_time - INTERVAL '4' SECOND", true
}

// OpenSource implements executor.Connector.
func (c *Connector) OpenSource(_ context.Context, cfg executor.SourceConfig) (executor.Source, error) {
	o, err := parseOptions(cfg.Options)
	if err != nil {
		return nil, err
	}
	if o.baseNow {
		return nil, optionError("nexmark.base_time = 'now' needs the source's columns undeclared").
			WithHint("The time is kept when the columns are taken from the connector; otherwise give a timestamp.")
	}
	cols, err := mapColumns(o.table, cfg.Relation)
	if err != nil {
		return nil, err
	}
	if cfg.Replay {
		o.rate = 0 // the pace, not the events' times (cfg.Rate)
	}
	start := int64(0)
	for _, off := range cfg.Offsets {
		if off.Topic == o.table.String() && off.Partition == 0 {
			start = off.Next
		}
	}
	return newSource(o, cols, len(cfg.Relation.Columns), start), nil
}

// mapColumns checks the columns of rel against the table's and returns,
// for each column of the table, the index of the relation's column of
// that name (-1 for none). A relation may leave columns out, but each it
// declares must be one of the table's, of its type.
func mapColumns(table Kind, rel *catalog.Relation) ([]int, error) {
	schema := schemas[table]
	cols := make([]int, len(schema))
	for i := range cols {
		cols[i] = -1
	}
	for i, rc := range rel.Columns {
		if rc.Hidden {
			continue
		}
		j := slices.IndexFunc(schema, func(c column) bool { return c.name == rc.Name })
		if j < 0 {
			return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "nexmark table %s has no column \"%s\"", table, rc.Name).
				WithHint("Its columns are %s; declare none to get them all.", columnList(schema))
		}
		if !sameType(schema[j].typ, rc.Type) {
			return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "column \"%s\" of nexmark table %s is of type %s, not %s", rc.Name, table, schema[j].typ, rc.Type).
				WithHint("Its columns are %s; declare none to get them all.", columnList(schema))
		}
		cols[j] = i
	}
	return cols, nil
}

// sameType reports whether a column declared as t can hold the values of
// a column of type want: TEXT and VARCHAR without a length alike.
func sameType(want, t types.Type) bool {
	if want.Kind == types.KindText {
		return t.Kind == types.KindText && t.Width <= 0 && !t.Fixed
	}
	return t.Kind == want.Kind
}

func columnList(schema []column) string {
	parts := make([]string, len(schema))
	for i, c := range schema {
		parts[i] = c.name + " " + c.typ.String()
	}
	return strings.Join(parts, ", ")
}

// OpenSink implements executor.Connector: the connector only generates.
func (c *Connector) OpenSink(context.Context, executor.SinkConfig) (executor.Sink, error) {
	return nil, sqlerr.Unsupported("nexmark sinks: the nexmark connector only generates events")
}
