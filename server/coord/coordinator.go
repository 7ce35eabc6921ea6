package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/storage"
)

// Options configure a Coordinator.
type Options struct {
	// DB is the open storage; the coordinator does not close it.
	DB *storage.DB
	// Logger receives the coordinator's logs; nil discards them.
	Logger *slog.Logger
	// StateCacheSize bounds the memory, in bytes, that the operator state
	// of materialized views may take: past it, saved state is dropped from
	// memory after each epoch and read back from storage when next needed.
	// 0 keeps all state in memory.
	StateCacheSize int64
	// Workers is how many shards each stateful operator of a materialized
	// view or push query that keeps its state by key (a grouped aggregate,
	// a hash join, DISTINCT, a set operation) is partitioned into, each
	// shard running on a goroutine of its own. 0 means one per core
	// (runtime.GOMAXPROCS) on machines of at least minCoresToPartition
	// cores, else 1. Saved state does not depend on it.
	Workers int
	// Connectors serve the WITH (connector = '<name>') of sources, tables
	// and sinks, by lower-case name.
	Connectors map[string]executor.Connector
}

// Coordinator owns the catalog and hands out sessions. It is safe for
// concurrent use.
type Coordinator struct {
	db     *storage.DB
	logger *slog.Logger

	// ddlMu serializes DDL so that a catalog change and its storage commit
	// happen as one step.
	ddlMu sync.Mutex

	views *viewSet

	// connectors is Options.Connectors; sources and sinks the running
	// connector-fed relations and sinks.
	connectors map[string]executor.Connector
	sources    sourceSet

	// progress lists running backfills and push queries
	// (weir_catalog.progress); it has its own lock (progress.go).
	progress progressList

	seqMu sync.Mutex
	seqs  map[string]*seqRange

	// workers is Options.Workers, defaulted.
	workers int

	// testHookBackfill, if set, runs when CREATE MATERIALIZED VIEW has taken
	// its snapshot, before the backfill reads it.
	testHookBackfill func()

	mu      sync.RWMutex
	byName  map[string]*catalog.Relation
	secrets map[string]*catalog.Relation // Kind Secret, by name; guarded by mu
	version uint64                       // bumped on every catalog change; prepared plans re-plan when it moves
}

var _ server.Engine = (*Coordinator)(nil)

// minCoresToPartition is the fewest cores on which views partition their
// stateful operators by default. Routing a change to its shard costs about
// what a cheap aggregate spends on it (its key is computed twice): on 2
// cores two shards made a 1,000-group GROUP BY 10-45% slower for 1.7 times
// the CPU, a join or a 1M-group GROUP BY at most 20% faster, and view
// maintenance not measurably faster (BenchmarkPartitioned,
// BenchmarkViewWorkers). On more cores the routing, which the shards
// share, is a smaller part of what each one does.
const minCoresToPartition = 4

// defaultWorkers is the default of Options.Workers.
func defaultWorkers() int {
	if n := runtime.GOMAXPROCS(0); n >= minCoresToPartition {
		return n
	}
	return 1
}

// New loads the catalog from opts.DB.
func New(opts Options) (*Coordinator, error) {
	if opts.DB == nil {
		return nil, fmt.Errorf("coord: Options.DB is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Workers < 0 {
		return nil, fmt.Errorf("coord: Options.Workers is %d: want 0 (the default) or more", opts.Workers)
	}
	if opts.Workers == 0 {
		opts.Workers = defaultWorkers()
	}
	c := &Coordinator{db: opts.DB, logger: opts.Logger, byName: map[string]*catalog.Relation{}, secrets: map[string]*catalog.Relation{}, views: newViewSet(opts.StateCacheSize), seqs: map[string]*seqRange{}}
	c.workers = opts.Workers
	c.connectors = opts.Connectors
	entries, err := opts.DB.Catalog()
	if err != nil {
		return nil, fmt.Errorf("coord: load catalog: %w", err)
	}
	for _, e := range entries {
		var rel catalog.Relation
		if err := json.Unmarshal(e.Data, &rel); err != nil {
			return nil, fmt.Errorf("coord: catalog entry %d: %w", e.ID, err)
		}
		if rel.Kind == catalog.Secret {
			c.secrets[rel.Name] = &rel
			continue
		}
		c.byName[rel.Name] = &rel
		if rel.Watermark != nil {
			c.views.hasClocks.Store(true)
		}
	}
	c.logger.Info("catalog loaded", "relations", len(c.byName))
	live := map[catalog.ID]bool{}
	for _, sec := range c.secrets {
		live[sec.ID] = true
	}
	for _, rel := range c.byName {
		live[rel.ID] = true
	}
	orphans, err := opts.DB.DropOrphans(func(id catalog.ID) bool { return live[id] })
	if err != nil {
		return nil, fmt.Errorf("coord: drop orphaned data: %w", err)
	}
	if len(orphans) > 0 {
		c.logger.Info("dropped the data of objects whose creation did not finish", "objects", orphans)
	}
	if err := c.startViews(context.Background()); err != nil {
		return nil, fmt.Errorf("coord: start materialized views: %w", err)
	}
	if err := c.startSinks(); err != nil {
		return nil, fmt.Errorf("coord: start sinks: %w", err)
	}
	c.startSources()
	return c, nil
}

// Close stops the sources and sinks; sessions and storage are the
// caller's to close (after this).
func (c *Coordinator) Close() {
	for _, r := range c.sources.all() {
		c.sources.remove(r.rel.ID)
	}
	vs := c.views
	vs.mu.Lock()
	var stopped []*sinkRunner
	for id, r := range vs.sinks {
		r.cancel()
		delete(vs.sinks, id)
		stopped = append(stopped, r)
	}
	vs.mu.Unlock()
	for _, r := range stopped {
		r.wait()
	}
}

// NewSession implements server.Engine.
func (c *Coordinator) NewSession(ctx context.Context, params map[string]string) (server.Session, error) {
	return newSession(c, params), nil
}

// lookup returns the relation named name in the public schema.
func (c *Coordinator) lookup(schema, name string) (*catalog.Relation, error) {
	if rel := virtualRelation(schema, name); rel != nil { // pgcatalog.go
		return rel, nil
	}
	switch schema {
	case "", "public":
	default:
		return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s.%s\" does not exist", schema, name)
	}
	c.mu.RLock()
	rel := c.byName[name]
	c.mu.RUnlock()
	if rel == nil {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
	}
	return rel, nil
}

// catalogVersion is the current catalog version.
func (c *Coordinator) catalogVersion() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.version
}

// relations returns the relations of the given kinds sorted by name.
func (c *Coordinator) relations(kinds ...catalog.Kind) []*catalog.Relation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*catalog.Relation
	for _, r := range c.byName {
		for _, k := range kinds {
			if r.Kind == k {
				out = append(out, r)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// createRelation persists rel and publishes it. Its ID is assigned here,
// unless the caller already wrote data under an ID of its own (see
// storage.DB.DropOrphans).
// fill, if not nil, adds the relation's initial contents to the same batch.
func (c *Coordinator) createRelation(ctx context.Context, rel *catalog.Relation, ifNotExists bool, fill func(*storage.Txn) error) (created bool, err error) {
	created, err = c.createRelations(ctx, []*catalog.Relation{rel}, fill)
	var e *sqlerr.Error
	if ifNotExists && errors.As(err, &e) && e.Code == sqlerr.DuplicateTable {
		return false, nil
	}
	return created, err
}

// createRelations persists rels and publishes them, all or none (a
// source and its error relation). A name already taken is 42P07.
func (c *Coordinator) createRelations(ctx context.Context, rels []*catalog.Relation, fill func(*storage.Txn) error) (created bool, err error) {
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	txn := c.db.Begin()
	defer txn.Rollback()
	for _, rel := range rels {
		if existing, _ := c.lookup("", rel.Name); existing != nil {
			return false, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", rel.Name)
		}
		if rel.ID == 0 {
			id, err := c.db.NextID()
			if err != nil {
				return false, fmt.Errorf("allocate object id: %w", err)
			}
			rel.ID = catalog.ID(id)
		}
		data, err := json.Marshal(rel)
		if err != nil {
			return false, err
		}
		if err := txn.PutCatalog(uint64(rel.ID), data); err != nil {
			return false, err
		}
	}
	if fill != nil {
		if err := fill(txn); err != nil {
			return false, err
		}
	}
	if err := txn.Commit(ctx); err != nil {
		return false, err
	}
	c.mu.Lock()
	for _, rel := range rels {
		c.byName[rel.Name] = rel
		if rel.Watermark != nil {
			c.views.hasClocks.Store(true)
		}
	}
	c.version++
	c.mu.Unlock()
	return true, nil
}

// dropRelation removes rel and its data.
func (c *Coordinator) dropRelation(ctx context.Context, rel *catalog.Relation) error {
	if err := checkWritable(rel); err != nil {
		return err
	}
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	txn := c.db.Begin()
	defer txn.Rollback()
	if err := txn.DeleteCatalog(uint64(rel.ID)); err != nil {
		return err
	}
	if err := txn.DropTableData(rel); err != nil {
		return err
	}
	if err := txn.DropState(rel.ID); err != nil {
		return err
	}
	if err := txn.Commit(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	if c.byName[rel.Name] == rel {
		delete(c.byName, rel.Name)
	}
	c.version++
	c.mu.Unlock()
	return nil
}

// versionString is what version() returns.
// versionString is version()'s text, computed once: every statement's
// environment carries it.
var versionString = sync.OnceValue(func() string {
	return fmt.Sprintf("PostgreSQL %s on %s-pc-linux-gnu, compiled by %s, 64-bit", serverVersion, archName(), runtime.Version())
})

func archName() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

// seqCache is how many sequence values are reserved durably at a time; a
// crash skips at most this many (sequences may have gaps, as in
// PostgreSQL).
const seqCache = 1000

// seqRange is the reserved, unused part of a sequence: [next, limit).
type seqRange struct{ next, limit int64 }

// nextVal advances the named sequence (nextval()).
func (c *Coordinator) nextVal(name string) (int64, error) {
	if !c.sequenceExists(name) {
		return 0, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
	}
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	r := c.seqs[name]
	if r == nil || r.next >= r.limit {
		first, err := c.db.ReserveSequence(name, seqCache)
		if err != nil {
			return 0, err
		}
		r = &seqRange{next: first, limit: first + seqCache}
		c.seqs[name] = r
	}
	v := r.next
	r.next++
	return v, nil
}

// sequenceExists reports whether a SERIAL column owns the named sequence.
func (c *Coordinator) sequenceExists(name string) bool {
	want := "nextval('" + strings.ReplaceAll(name, "'", "''") + "')"
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, r := range c.byName {
		for _, col := range r.Columns {
			if col.Default == want {
				return true
			}
		}
	}
	return false
}
