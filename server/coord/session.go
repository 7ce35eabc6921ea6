package coord

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/executor/funcs"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/parser"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// Transaction states, as ReadyForQuery reports them.
const (
	txIdle   = 'I'
	txOpen   = 'T'
	txFailed = 'E'
)

// session is one client's state. Its methods run on the connection's
// goroutine; nothing here is shared with other sessions but the
// Coordinator.
type session struct {
	c        *Coordinator
	user     string
	database string

	defs    map[string]*variable // by lower-case name
	vars    map[string]string    // by lower-case name
	changed map[string]string
	loc     *time.Location

	txState byte
	tx      *storage.Txn
	txStart time.Time

	// envBase is what every statement's environment shares (see env).
	envBase funcs.Env
	// stmtCache holds recently parsed statements by text (see Parse).
	stmtCache map[stmtKey]*statement
}

func newSession(c *Coordinator, params map[string]string) *session {
	s := &session{
		c:        c,
		user:     params["user"],
		database: params["database"],
		defs:     map[string]*variable{},
		vars:     map[string]string{},
		changed:  map[string]string{},
		loc:      time.UTC,
		txState:  txIdle,
	}
	if s.user == "" {
		s.user = "weir"
	}
	if s.database == "" {
		s.database = s.user
	}
	for _, v := range variables() {
		s.defs[strings.ToLower(v.name)] = v
		s.vars[strings.ToLower(v.name)] = v.def
	}
	s.vars["session_authorization"] = s.user
	if c.db.AsynchronousCommit() { // --synchronous-commit=off is every session's default
		s.defs["synchronous_commit"].def = "off"
		s.vars["synchronous_commit"] = "off"
	}
	// Startup parameters other than user/database are SETs (libpq sends
	// application_name, client_encoding, options this way). A bad one is
	// ignored rather than refusing the connection.
	for k, v := range params {
		switch k {
		case "user", "database", "options", "replication":
			continue
		}
		if err := s.set(k, v); err == nil {
			clear(s.changed)
		}
	}
	return s
}

// Parameters implements server.Session.
func (s *session) Parameters() map[string]string {
	out := map[string]string{}
	for _, v := range s.defs {
		if v.report {
			out[v.name] = s.vars[strings.ToLower(v.name)]
		}
	}
	return out
}

// Changed implements server.Session.
func (s *session) Changed() map[string]string {
	if len(s.changed) == 0 {
		return nil
	}
	out := s.changed
	s.changed = map[string]string{}
	return out
}

// TxStatus implements server.Session.
func (s *session) TxStatus() byte { return s.txState }

// Close implements server.Session.
func (s *session) Close() { s.endTx() }

func (s *session) setting(name string) (string, bool) {
	v, ok := s.vars[strings.ToLower(name)]
	return v, ok
}

// set assigns a session variable; unknown names are accepted (drivers set
// variables Weir has no use for) unless they are qualified custom ones,
// which PostgreSQL also accepts.
func (s *session) set(name, value string) error {
	key := strings.ToLower(name)
	def := s.defs[key]
	if def == nil {
		def = &variable{name: key, desc: "(unrecognized; accepted for compatibility)"}
		s.defs[key] = def
	}
	if def.readOnly {
		if value == s.vars[key] {
			return nil
		}
		return sqlerr.New(sqlerr.CantChangeRuntimeParam, "parameter \"%s\" cannot be changed", def.name)
	}
	if value == "" && def.check != nil || strings.EqualFold(value, "default") {
		value = def.def
	}
	if def.check != nil {
		v, err := def.check(value)
		if err != nil {
			return err
		}
		value = v
	}
	if key == "timezone" {
		loc, err := loadLocation(value)
		if err != nil {
			return err
		}
		s.loc = loc
	}
	s.vars[key] = value
	if def.report {
		s.changed[def.name] = value
	}
	return nil
}

// stmtCacheSize bounds how many statements a session keeps by their text;
// maxCachedText is the longest text kept (longer ones are bulk statements,
// not repeated).
const (
	stmtCacheSize = 32
	maxCachedText = 4 << 10
)

// stmtKey is a statement's text and the parameter types declared with it.
type stmtKey struct{ text, oids string }

// Parse implements server.Session.
//
// A lone query or DML statement that this session parsed before with the
// same text and declared parameter types is not parsed and planned again
// (which costs several times its execution): the same statement is
// returned, re-planned only if the catalog changed. Drivers that send
// every query as an unnamed Parse (node-postgres, psycopg, JDBC below its
// prepareThreshold, pgx's exec mode) and repeated simple queries get the
// plan reuse of a named prepared statement.
func (s *session) Parse(ctx context.Context, query string, paramOIDs []uint32) ([]server.Statement, error) {
	var key stmtKey
	if len(query) <= maxCachedText {
		key = stmtKey{text: query, oids: oidsKey(paramOIDs)}
		if st := s.stmtCache[key]; st != nil {
			if err := st.prepare(); err != nil {
				return nil, err
			}
			return []server.Statement{st}, nil
		}
	}
	parsed, err := parser.Parse(query)
	if err != nil {
		return nil, err
	}
	out := make([]server.Statement, len(parsed))
	for i, p := range parsed {
		st := &statement{s: s, parsed: p}
		if len(paramOIDs) > 0 && len(parsed) == 1 {
			st.declared = make([]types.Type, len(paramOIDs))
			for j, oid := range paramOIDs {
				t, ok := types.FromOID(oid)
				if !ok && oid != 0 {
					return nil, sqlerr.New(sqlerr.UndefinedObject, "type with OID %d does not exist", oid)
				}
				st.declared[j] = t
			}
		}
		// A lone statement is planned now, so that Describe can tell its
		// parameter and result types and errors surface at Parse, as in
		// PostgreSQL. Statements of a multi-statement string are planned
		// when they run: an earlier one may create what a later one uses.
		if len(parsed) == 1 {
			if err := st.prepare(); err != nil {
				return nil, err
			}
		}
		out[i] = st
	}
	if len(out) == 1 && key.text != "" && cacheable(parsed[0].AST) {
		if len(s.stmtCache) >= stmtCacheSize || s.stmtCache == nil {
			s.stmtCache = make(map[stmtKey]*statement, stmtCacheSize)
		}
		s.stmtCache[key] = out[0].(*statement)
	}
	return out, nil
}

// cacheable reports whether a statement runs entirely from its plan, so
// that Parse may hand it out again for the same text.
func cacheable(n ast.Statement) bool {
	switch n := n.(type) {
	case *ast.Query:
		return !n.EmitChanges
	case *ast.Insert, *ast.Update, *ast.Delete, *ast.Explain:
		return true
	}
	return false
}

func oidsKey(oids []uint32) string {
	if len(oids) == 0 {
		return ""
	}
	b := make([]byte, 0, 4*len(oids))
	for _, o := range oids {
		b = binary.BigEndian.AppendUint32(b, o)
	}
	return string(b)
}

// statement is a prepared statement: the AST and, for statements the
// planner handles, a plan bound to a catalog version.
type statement struct {
	s        *session
	parsed   parser.Statement
	declared []types.Type

	mu         sync.Mutex
	plan       *planner.Plan
	planVer    uint64
	columns    []server.Column
	paramTypes []types.Type
	prepared   bool
}

func (st *statement) SQL() string { return st.parsed.SQL }

func (st *statement) ParamTypes() []types.Type {
	_ = st.prepare()
	return st.paramTypes
}

func (st *statement) Columns() []server.Column {
	_ = st.prepare()
	return st.columns
}

// prepare plans the statement against the current catalog, again if the
// catalog changed since the last plan.
func (st *statement) prepare() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	ver := st.s.c.catalogVersion()
	if st.prepared && (st.plan == nil || st.planVer == ver) {
		return nil
	}
	switch n := st.parsed.AST.(type) {
	case *ast.Query, *ast.Insert, *ast.Update, *ast.Delete, *ast.Explain:
		var stmt ast.Statement = n
		if ex, ok := n.(*ast.Explain); ok {
			// EXPLAIN CREATE MATERIALIZED VIEW shows the plan its dataflow
			// is built from.
			if mv, ok := ex.Stmt.(*ast.CreateMaterializedView); ok {
				stmt = &ast.Explain{Stmt: mv.Query, Analyze: ex.Analyze}
			}
		}
		q, push := n.(*ast.Query)
		if push = push && q.EmitChanges; push {
			// Plan once for the columns and parameter types; the push query
			// itself is planned when it starts.
			cp := *q
			cp.EmitChanges, cp.Limit, cp.Offset, cp.OrderBy = false, nil, nil, nil
			stmt = &cp
		}
		p, err := planner.PlanStatement(&planner.Context{Catalog: st.s, ParamTypes: st.declaredTypes()}, stmt)
		if err != nil {
			return err
		}
		st.plan, st.planVer = p, ver
		st.paramTypes = p.ParamTypes
		st.columns = planColumns(p.Columns)
		if push {
			st.columns = pushColumns(st.columns)
		}
	case *ast.Show:
		st.columns = []server.Column{{Name: showColumnName(n.Name), Type: types.Text}}
		if n.Name == "all" {
			st.columns = []server.Column{{Name: "name", Type: types.Text}, {Name: "setting", Type: types.Text}, {Name: "description", Type: types.Text}}
		}
		st.paramTypes = st.declaredTypes()
	case *ast.ShowObjects:
		st.columns = []server.Column{{Name: "name", Type: types.Text}}
		st.paramTypes = st.declaredTypes()
	default:
		st.paramTypes = st.declaredTypes()
	}
	st.prepared = true
	return nil
}

func (st *statement) declaredTypes() []types.Type {
	n := max(st.parsed.NumParams, len(st.declared))
	out := make([]types.Type, n)
	copy(out, st.declared)
	return out
}

func planColumns(cols []planner.Column) []server.Column {
	if cols == nil {
		return nil
	}
	out := make([]server.Column, len(cols))
	for i, c := range cols {
		out[i] = server.Column{Name: c.Name, Type: c.Type, TableOID: c.TableOID, Attr: c.Attr}
	}
	return out
}

// Relation implements planner.Catalog for this session.
func (s *session) Relation(schema, name string) (*catalog.Relation, error) {
	return s.c.lookup(schema, name)
}

// Execute implements server.Session.
func (s *session) Execute(ctx context.Context, st server.Statement, params []types.Datum) (server.Result, error) {
	res, _, err := s.executeFrom(ctx, st, params, "")
	return res, err
}

// executeFrom is Execute of a push query resuming after pos (resume.go),
// or of any statement when pos is "".
func (s *session) executeFrom(ctx context.Context, st server.Statement, params []types.Datum, pos string) (server.Result, bool, error) {
	stmt, ok := st.(*statement)
	if !ok || stmt.s != s {
		return nil, false, sqlerr.New(sqlerr.InvalidSQLStatementName, "prepared statement does not belong to this session")
	}
	if s.txState == txFailed {
		if tx, ok := stmt.parsed.AST.(*ast.Transaction); !ok || tx.Kind == ast.TxBegin {
			return nil, false, sqlerr.New(sqlerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
		}
	}
	ctx, cancel, err := s.statementContext(ctx)
	if err != nil {
		return nil, false, err
	}
	var res server.Result
	resumed := false
	if q, ok := stmt.parsed.AST.(*ast.Query); ok && q.EmitChanges && pos != "" {
		res, resumed, err = s.subscribeFrom(ctx, stmt, params, pos)
	} else {
		res, err = s.execute(ctx, stmt, params)
	}
	if err != nil {
		cancel()
		err = contextError(ctx, err)
		if s.txState == txOpen {
			s.txState = txFailed
		}
		return nil, false, err
	}
	return withCancel(res, cancel, s), resumed, nil
}

// statementContext applies statement_timeout. Without one the statement
// runs in ctx itself: a context of its own would hold nothing to release,
// and costs an allocation and a registration with ctx per statement.
func (s *session) statementContext(ctx context.Context) (context.Context, context.CancelFunc, error) {
	d, err := parseDurationSetting(s.vars["statement_timeout"])
	if err != nil || d <= 0 {
		return ctx, noCancel, nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d, errStatementTimeout)
	return ctx, cancel, nil
}

func noCancel() {}

var errStatementTimeout = errors.New("statement timeout")

// contextError turns a cancellation into the SQLSTATE PostgreSQL uses.
func contextError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())) {
		if context.Cause(ctx) == errStatementTimeout {
			return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to statement timeout")
		}
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
	}
	return err
}

func (s *session) env() *funcs.Env {
	now := time.Now()
	if s.txState != txIdle {
		now = s.txStart
	}
	if s.envBase.Setting == nil {
		// Made once: method values are allocations of their own.
		s.envBase = funcs.Env{
			Setting:  s.setting,
			Database: s.database,
			User:     s.user,
			Schema:   "public",
			Version:  versionString(),
			NextVal:  s.c.nextVal,
		}
	}
	env := s.envBase
	env.StatementTime, env.Location = now, s.loc
	return &env
}

func (s *session) execute(ctx context.Context, st *statement, params []types.Datum) (server.Result, error) {
	switch n := st.parsed.AST.(type) {
	case *ast.Query:
		if n.EmitChanges {
			return s.subscribe(ctx, st, params)
		}
		return s.runPlan(ctx, st, params)
	case *ast.Insert, *ast.Update, *ast.Delete, *ast.Explain:
		return s.runPlan(ctx, st, params)
	case *ast.Transaction:
		return s.transaction(ctx, n)
	case *ast.Set:
		return s.execSet(n)
	case *ast.Show:
		return s.execShow(n)
	case *ast.ShowObjects:
		return s.execShowObjects(n)
	case *ast.CreateTable:
		return s.createTable(ctx, n, st.parsed.SQL)
	case *ast.Drop:
		return s.drop(ctx, n)
	case *ast.Truncate:
		return s.truncate(ctx, n)
	case *ast.Copy:
		return s.copy(ctx, n)
	case *ast.Flush:
		// Every write is applied synchronously by the time its statement
		// returns; there is nothing pending to wait for.
		return tagOnly("FLUSH"), nil
	case *ast.Checkpoint:
		if err := s.c.db.Checkpoint(ctx); err != nil {
			return nil, err
		}
		return tagOnly("CHECKPOINT"), nil
	case *ast.Discard:
		if n.What == "deallocate" {
			return tagOnly("DEALLOCATE"), nil
		}
		if n.What == "all" || n.What == "plans" {
			s.stmtCache = nil
		}
		return tagOnly("DISCARD " + strings.ToUpper(n.What)), nil
	case *ast.CreateSource:
		return s.createSource(ctx, n, st.parsed.SQL)
	case *ast.CreateStream:
		return s.createStreamAs(ctx, n, st.parsed.SQL)
	case *ast.CreateMaterializedView:
		return s.createMaterializedView(ctx, n, st.parsed.SQL)
	case *ast.CreateView:
		return nil, sqlerr.Unsupported("CREATE VIEW is not supported yet")
	case *ast.CreateSink:
		return s.createSink(ctx, n, st.parsed.SQL)
	case *ast.AlterSink:
		return s.alterSink(ctx, n)
	case *ast.CreateSecret:
		return s.createSecret(ctx, n)
	case *ast.Unsupported:
		if n.Noop {
			return tagOnly(strings.ToUpper(n.Construct)), nil
		}
		return nil, sqlerr.Unsupported("%s is not supported", n.Construct)
	}
	return nil, sqlerr.Unsupported("statement %T is not supported", st.parsed.AST)
}

// runPlan executes a planned query or DML statement.
func (s *session) runPlan(ctx context.Context, st *statement, params []types.Datum) (server.Result, error) {
	if err := st.prepare(); err != nil {
		return nil, err
	}
	st.mu.Lock()
	plan := st.plan
	st.mu.Unlock()
	rt := &executor.Runtime{Params: params, Env: s.env()}
	_, isQuery := st.parsed.AST.(*ast.Query)
	if ex, ok := st.parsed.AST.(*ast.Explain); ok && !ex.Analyze {
		isQuery = true
	}
	if isQuery {
		// Reads: the block's own transaction inside a transaction block
		// (so it sees its own writes), else a snapshot of what is
		// committed.
		var release func()
		switch {
		case s.tx != nil:
			rt.Store = &viewStore{base: s.tx}
		case plan.ReadsOnce():
			// One read sees one committed state by itself (the latest,
			// with the session's own commits): no snapshot to pay for.
			rt.Store = &viewStore{base: s.c.db.Latest()}
		default:
			snap := s.c.db.Snapshot()
			rt.Store, release = &viewStore{base: snap}, func() { _ = snap.Close() }
		}
		s.withCatalog(rt)
		rows, err := plan.Run(ctx, rt)
		if err != nil {
			if release != nil {
				release()
			}
			return nil, err
		}
		return &rowsResult{rows: rows, plan: plan, release: release}, nil
	}
	// Writes: run to completion, then commit (outside a block), and only
	// then hand back RETURNING rows: a client never sees rows of a
	// statement that did not commit.
	txn, autocommit := s.tx, false
	if txn == nil {
		txn, autocommit = s.c.db.Begin(), true
		defer txn.Rollback()
	}
	rt.Store = &viewStore{base: txn}
	s.withCatalog(rt)
	rows, err := plan.Run(ctx, rt)
	if err != nil {
		return nil, err
	}
	buf, err := drain(ctx, rows)
	n := rows.Count()
	rows.Close()
	if err != nil {
		return nil, err
	}
	if autocommit {
		if err := s.commit(ctx, txn); err != nil {
			return nil, err
		}
	}
	return &bufferedResult{rows: buf, tag: plan.Tag(n)}, nil
}

func drain(ctx context.Context, rows executor.Rows) ([]types.Row, error) {
	var out []types.Row
	for {
		r, ok, err := rows.Next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, append(types.Row(nil), r...))
	}
}

// transaction runs BEGIN/COMMIT/ROLLBACK.
func (s *session) transaction(ctx context.Context, n *ast.Transaction) (server.Result, error) {
	switch n.Kind {
	case ast.TxBegin:
		if s.txState != txIdle {
			return tagOnly("BEGIN", "there is already a transaction in progress"), nil
		}
		s.tx, s.txState, s.txStart = s.c.db.Begin(), txOpen, time.Now()
		return tagOnly("BEGIN"), nil
	case ast.TxCommit:
		switch s.txState {
		case txIdle:
			return tagOnly("COMMIT", "there is no transaction in progress"), nil
		case txFailed:
			s.endTx()
			return tagOnly("ROLLBACK"), nil
		}
		tx := s.tx
		s.tx, s.txState = nil, txIdle
		defer tx.Rollback()
		if err := s.commit(ctx, tx); err != nil {
			return nil, err
		}
		return tagOnly("COMMIT"), nil
	default:
		if s.txState == txIdle {
			return tagOnly("ROLLBACK", "there is no transaction in progress"), nil
		}
		s.endTx()
		return tagOnly("ROLLBACK"), nil
	}
}

func (s *session) endTx() {
	if s.tx != nil {
		s.tx.Rollback()
		s.tx = nil
	}
	s.txState = txIdle
}

// commit commits txn (see Coordinator.commit), waiting for its fsync
// unless the session's synchronous_commit is off. As in PostgreSQL, the
// setting in force at COMMIT decides.
func (s *session) commit(ctx context.Context, txn *storage.Txn) error {
	txn.SetAsynchronousCommit(s.vars["synchronous_commit"] == "off")
	return s.c.commit(ctx, txn)
}

// withTxn runs fn in the session's transaction block, or in a transaction
// of its own that commits when fn succeeds.
func (s *session) withTxn(ctx context.Context, fn func(txn *storage.Txn) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	txn := s.c.db.Begin()
	defer txn.Rollback()
	if err := fn(txn); err != nil {
		return err
	}
	return s.commit(ctx, txn)
}

// Location implements server.Locator: the session's TimeZone.
func (s *session) Location() *time.Location { return s.loc }

// defaultEnv is the evaluation environment of work done outside any
// session (views rebuilt at startup).
func defaultEnv() *funcs.Env {
	return &funcs.Env{
		StatementTime: time.Now(),
		Location:      time.UTC,
		Setting:       func(string) (string, bool) { return "", false },
		Database:      "weir",
		User:          "weir",
		Schema:        "public",
		Version:       versionString(),
	}
}
