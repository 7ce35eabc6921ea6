// Package ast is Weir's syntax tree: what the parser front (sql/parser)
// produces from PostgreSQL-dialect text and what the planner binds. It is
// plain data; nothing here knows about the catalog or evaluates anything.
//
// Identifiers are already case-folded (unquoted names lower-cased, quoted
// names kept exactly), as PostgreSQL does.
package ast

import (
	"strings"

	"github.com/weirdb/weir/sql/types"
)

// Statement is one SQL statement.
type Statement interface{ stmt() }

// Expr is a scalar expression.
type Expr interface{ expr() }

// TableExpr is an item of a FROM clause.
type TableExpr interface{ tableExpr() }

// QueryBody is the body of a query: *SelectCore, *SetOp, *Values, or a
// parenthesized *Query with its own ORDER BY/LIMIT.
type QueryBody interface{ queryBody() }

// ---- queries ----

// Query is a full query: WITH, a body, ORDER BY, LIMIT/OFFSET. It is also
// the SELECT statement.
type Query struct {
	With        []*CTE
	Body        QueryBody
	OrderBy     []*OrderItem
	Limit       Expr // nil: no limit
	Offset      Expr // nil: no offset
	EmitChanges bool // SELECT ... EMIT CHANGES (push query)
	// EmitOnWindowClose: ... EMIT ON WINDOW CLOSE, a windowed aggregate
	// emits each window once, final, when the watermark closes it.
	EmitOnWindowClose bool
	// Locking clauses (FOR UPDATE...) are parsed and ignored.
}

// CTE is one WITH item.
type CTE struct {
	Name    string
	Columns []string
	Query   *Query
}

// SelectCore is SELECT ... FROM ... WHERE ... GROUP BY ... HAVING.
type SelectCore struct {
	Distinct   bool
	DistinctOn []Expr
	Targets    []*Target
	From       []TableExpr // comma-separated items, cross-joined
	Where      Expr
	GroupBy    []Expr
	Having     Expr
	// Windows are the WINDOW clause's named windows, in order.
	Windows []*WindowSpec
}

// Target is one item of a select list. Star is `*` (Table == "") or `t.*`.
type Target struct {
	Expr  Expr
	Alias string // "" when none was written
	Star  bool
	Table string // for t.*
	// Text is the original text of the expression, used to name unaliased
	// columns that are not column references (PostgreSQL names them by
	// function name, or "?column?").
	Text string
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind uint8

const (
	Union SetOpKind = iota
	Intersect
	Except
)

func (k SetOpKind) String() string { return [...]string{"UNION", "INTERSECT", "EXCEPT"}[k] }

// SetOp is Left op [ALL] Right.
type SetOp struct {
	Op          SetOpKind
	All         bool
	Left, Right QueryBody
}

// Values is VALUES (...), (...).
type Values struct {
	Rows [][]Expr // a nil Expr in a row is DEFAULT (INSERT only)
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr       Expr
	Desc       bool
	NullsFirst *bool // nil: the default (NULLS LAST for ASC, FIRST for DESC)
}

func (*Query) queryBody()      {}
func (*SelectCore) queryBody() {}
func (*SetOp) queryBody()      {}
func (*Values) queryBody()     {}
func (*Query) stmt()           {}

// ---- FROM ----

// TableName is a named relation in FROM.
type TableName struct {
	Schema     string // "" when unqualified
	Name       string
	Alias      string
	ColAliases []string
	// AsOfProcTime: FOR SYSTEM_TIME AS OF PROCTIME(), the table side of a
	// temporal join (the table's rows as each joined row is processed).
	AsOfProcTime bool
}

// DerivedTable is a subquery in FROM.
type DerivedTable struct {
	Query      *Query
	Alias      string
	ColAliases []string
	Lateral    bool
}

// JoinKind is the kind of a join.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

func (k JoinKind) String() string {
	return [...]string{"INNER", "LEFT", "RIGHT", "FULL", "CROSS"}[k]
}

// Join is Left <kind> JOIN Right ON/USING/NATURAL.
type Join struct {
	Kind        JoinKind
	Left, Right TableExpr
	On          Expr
	Using       []string
	Natural     bool
	// Within is ksqlDB's WITHIN (before, after): the right side's event
	// time is at most Before earlier and After later than the left's.
	Within *JoinWithin
}

// JoinWithin is the time bound of a join written ksqlDB's way.
type JoinWithin struct{ Before, After Expr }

// TableFunc is a table function in FROM: TUMBLE(t, ts, INTERVAL ...),
// generate_series(...), ...
type TableFunc struct {
	Name       string
	Args       []Expr
	Alias      string
	ColAliases []string
	// WindowClause marks a window function written as ksqlDB's WINDOW
	// clause (FROM bids [b] WINDOW TUMBLING (SIZE 1 MINUTE)): Name is
	// tumble, hop or session; Args are the relation and the intervals in
	// the table function's order, without the time column, which is the
	// relation's WATERMARK FOR column; and window_start and window_end
	// are implied in the query's GROUP BY.
	WindowClause bool
}

func (*TableName) tableExpr()    {}
func (*DerivedTable) tableExpr() {}
func (*Join) tableExpr()         {}
func (*TableFunc) tableExpr()    {}

// ---- expressions ----

// ColumnRef is [table.]name. Pos is the 1-based character offset in the
// original statement text, 0 when unknown.
type ColumnRef struct {
	Table string
	Name  string
	Pos   int
}

// Literal is a constant. Integer literals are int4 when they fit, else int8,
// else numeric; decimal literals are numeric; string literals have kind
// types.KindUnknown (resolved by context, as in PostgreSQL).
type Literal struct {
	Value types.Datum
}

// Param is $N (1-based).
type Param struct{ N int }

// Unary is a prefix operator: "-", "+", "NOT", "~" (bitwise not).
type Unary struct {
	Op string
	X  Expr
}

// Binary is an infix operator. Op is one of
// + - * / % ^ || = <> < <= > >= AND OR & | # << >>
// ~ ~* !~ !~* (regex) -> ->> #> #>> @> <@ ? ?| ?& (jsonb).
type Binary struct {
	Op   string
	L, R Expr
}

// Like is X [NOT] LIKE|ILIKE Pattern [ESCAPE e].
type Like struct {
	X, Pattern      Expr
	Escape          Expr // nil: backslash
	Not             bool
	CaseInsensitive bool
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	X   Expr
	Not bool
}

// IsBool is X IS [NOT] TRUE|FALSE|UNKNOWN. Value nil means UNKNOWN.
type IsBool struct {
	X     Expr
	Not   bool
	Value *bool
}

// IsDistinct is L IS [NOT] DISTINCT FROM R.
type IsDistinct struct {
	L, R Expr
	Not  bool
}

// Between is X [NOT] BETWEEN [SYMMETRIC] Lo AND Hi.
type Between struct {
	X, Lo, Hi Expr
	Not       bool
	Symmetric bool
}

// InList is X [NOT] IN (list).
type InList struct {
	X    Expr
	List []Expr
	Not  bool
}

// InSubquery is X [NOT] IN (SELECT ...).
type InSubquery struct {
	X     Expr
	Query *Query
	Not   bool
}

// Exists is [NOT] EXISTS (SELECT ...).
type Exists struct {
	Query *Query
	Not   bool
}

// Subquery is a scalar subquery (SELECT ...) used as a value.
type Subquery struct {
	Query *Query
}

// Quantified is X op ANY|SOME|ALL (SELECT ...), or X op ANY|ALL (array
// expression) with Array set instead of Query.
type Quantified struct {
	Op    string
	X     Expr
	All   bool
	Query *Query
	Array Expr
}

// Func is a function or aggregate call. COALESCE, NULLIF, GREATEST, LEAST,
// EXTRACT(f FROM x) (as date_part('f', x)), POSITION, SUBSTRING(... FROM ...
// FOR ...), TRIM(...) all arrive as ordinary calls with positional args.
type Func struct {
	Name     string // lower-cased, schema stripped ("pg_catalog." removed)
	Args     []Expr
	Star     bool // count(*)
	Distinct bool // agg(DISTINCT x)
	Filter   Expr // agg(...) FILTER (WHERE ...)
	OrderBy  []*OrderItem
	Over     *WindowSpec // window function call
	Pos      int
}

// WindowSpec is OVER (...), OVER name, or a WINDOW clause item. Name is
// the window OVER name uses as it is, or the name a WINDOW clause item
// defines; Ref is the window a definition starts from (OVER (w ORDER BY
// ...), WINDOW w2 AS (w ORDER BY ...)).
type WindowSpec struct {
	Name        string
	Ref         string
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *WindowFrame // nil: the default frame
}

// FrameMode is how a window frame's bounds count: ROWS, RANGE or GROUPS.
type FrameMode uint8

const (
	FrameRows FrameMode = iota
	FrameRange
	FrameGroups
)

// BoundKind is the kind of a window frame bound.
type BoundKind uint8

const (
	UnboundedPreceding BoundKind = iota
	OffsetPreceding
	CurrentRow
	OffsetFollowing
	UnboundedFollowing
)

// WindowFrame is ROWS|RANGE|GROUPS BETWEEN Start AND End (a frame written
// with only a start has End CURRENT ROW).
type WindowFrame struct {
	Mode       FrameMode
	Start, End FrameBound
}

// FrameBound is one bound of a window frame; Offset is set for
// OffsetPreceding and OffsetFollowing.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// Cast is CAST(X AS type), X::type, or a typed literal (DATE '...',
// INTERVAL '5' MINUTE arrives as Cast{Literal('5 minute'), interval}).
type Cast struct {
	X    Expr
	Type types.Type
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	Operand Expr // nil for a searched CASE
	Whens   []*When
	Else    Expr
}

// When is one WHEN Cond THEN Result arm.
type When struct {
	Cond, Result Expr
}

// RowExpr is ROW(a, b) or (a, b) in a comparison.
type RowExpr struct {
	Items []Expr
}

// DefaultExpr is DEFAULT in INSERT VALUES or UPDATE SET.
type DefaultExpr struct{}

func (*ColumnRef) expr()   {}
func (*Literal) expr()     {}
func (*Param) expr()       {}
func (*Unary) expr()       {}
func (*Binary) expr()      {}
func (*Like) expr()        {}
func (*IsNull) expr()      {}
func (*IsBool) expr()      {}
func (*IsDistinct) expr()  {}
func (*Between) expr()     {}
func (*InList) expr()      {}
func (*InSubquery) expr()  {}
func (*Exists) expr()      {}
func (*Subquery) expr()    {}
func (*Quantified) expr()  {}
func (*Func) expr()        {}
func (*Cast) expr()        {}
func (*Case) expr()        {}
func (*RowExpr) expr()     {}
func (*DefaultExpr) expr() {}

// ---- DML ----

// Insert is INSERT INTO t [(cols)] query|DEFAULT VALUES [ON CONFLICT] [RETURNING].
type Insert struct {
	Table         *TableName
	Columns       []string
	Query         *Query // nil with DefaultValues
	DefaultValues bool
	OnConflict    *OnConflict
	Returning     []*Target
}

// OnConflict is ON CONFLICT [(cols)] DO NOTHING | DO UPDATE SET ... [WHERE].
// Inside Set and Where, the proposed row is the table named "excluded".
type OnConflict struct {
	Columns   []string
	DoNothing bool
	Set       []*Assignment
	Where     Expr
}

// Assignment is col = expr in UPDATE SET or ON CONFLICT DO UPDATE.
// Value is *DefaultExpr for SET col = DEFAULT.
type Assignment struct {
	Column string
	Value  Expr
}

// Update is UPDATE t SET ... [FROM ...] [WHERE ...] [RETURNING ...].
type Update struct {
	Table     *TableName
	Set       []*Assignment
	From      []TableExpr
	Where     Expr
	Returning []*Target
}

// Delete is DELETE FROM t [USING ...] [WHERE ...] [RETURNING ...].
type Delete struct {
	Table     *TableName
	Using     []TableExpr
	Where     Expr
	Returning []*Target
}

// Truncate is TRUNCATE [TABLE] t, ...
type Truncate struct {
	Tables []*TableName
}

// CopyFormat is the data format of COPY.
type CopyFormat uint8

const (
	CopyText CopyFormat = iota
	CopyCSV
	CopyBinary
)

// Copy is COPY t [(cols)] FROM STDIN or COPY t|(query) TO STDOUT.
type Copy struct {
	Table     *TableName // nil when Query is set
	Columns   []string
	Query     *Query
	From      bool // FROM STDIN; false means TO STDOUT
	Format    CopyFormat
	Header    bool
	Delimiter string // "" for the format's default (tab, or comma for CSV)
	Null      string // nil-able by HasNull
	HasNull   bool
	Quote     string
	Escape    string
}

func (*Insert) stmt()   {}
func (*Update) stmt()   {}
func (*Delete) stmt()   {}
func (*Truncate) stmt() {}
func (*Copy) stmt()     {}

// ---- DDL ----

// ColumnDef is one column of CREATE TABLE/SOURCE.
type ColumnDef struct {
	Name       string
	Type       types.Type
	NotNull    bool
	PrimaryKey bool
	Unique     bool
	Default    Expr
	// DefaultText is the DEFAULT expression's original text, which the
	// catalog stores and the planner re-parses.
	DefaultText string
	Serial      bool // SERIAL/BIGSERIAL: NOT NULL with a sequence default
}

// Option is key = value in WITH (...). Keys are lower-cased; values keep
// their text (string literals unquoted).
type Option struct {
	Key   string
	Value string
}

// Watermark is WATERMARK FOR col AS expr.
type Watermark struct {
	Column string
	Expr   Expr
	Text   string // Expr as written
}

// CreateTable is CREATE TABLE name (cols, PRIMARY KEY (...)) [WITH (...)].
type CreateTable struct {
	Name        *TableName
	IfNotExists bool
	Columns     []*ColumnDef
	PrimaryKey  []string // from column or table constraint
	Watermark   *Watermark
	Options     []*Option // a table fed by a connector
}

// CreateSource is CREATE SOURCE name (cols) WITH (...), and ksqlDB's
// CREATE STREAM name (cols) WITH (KAFKA_TOPIC=..., VALUE_FORMAT=...)
// (Ksql set; option keys lower-cased).
type CreateSource struct {
	Name        *TableName
	IfNotExists bool
	Columns     []*ColumnDef
	PrimaryKey  []string
	Watermark   *Watermark
	Options     []*Option
	Ksql        bool
}

// CreateStream is CREATE STREAM name AS query.
type CreateStream struct {
	Name        *TableName
	IfNotExists bool
	Query       *Query
	Options     []*Option
}

// CreateMaterializedView is CREATE MATERIALIZED VIEW name AS query, and
// ksqlDB's CREATE TABLE name AS SELECT ... (Ksql set).
type CreateMaterializedView struct {
	Name        *TableName
	IfNotExists bool
	OrReplace   bool
	Columns     []string
	Query       *Query
	Ksql        bool
}

// CreateView is CREATE [OR REPLACE] VIEW name AS query (not materialized).
type CreateView struct {
	Name      *TableName
	OrReplace bool
	Columns   []string
	Query     *Query
}

// CreateSink is CREATE SINK name FROM relation | AS query WITH (...).
type CreateSink struct {
	Name        *TableName
	IfNotExists bool
	From        *TableName // set, or Query
	Query       *Query
	Options     []*Option
}

// AlterSink is ALTER SINK name RETRY DEAD LETTERS: send the sink's dead
// letters again.
type AlterSink struct {
	Name *TableName
}

// CreateSecret is CREATE SECRET [IF NOT EXISTS] name AS 'value': a value
// WITH options reference as ${secret:name}, never shown back.
type CreateSecret struct {
	Name        string
	IfNotExists bool
	Value       string
}

// ObjectKind names a kind of catalog object.
type ObjectKind uint8

const (
	ObjTable ObjectKind = iota
	ObjSource
	ObjStream
	ObjMaterializedView
	ObjView
	ObjSink
	ObjIndex
	ObjSecret
)

func (k ObjectKind) String() string {
	return [...]string{"TABLE", "SOURCE", "STREAM", "MATERIALIZED VIEW", "VIEW", "SINK", "INDEX", "SECRET"}[k]
}

// Drop is DROP kind [IF EXISTS] name, ... [CASCADE|RESTRICT].
type Drop struct {
	Kind     ObjectKind
	Names    []*TableName
	IfExists bool
	Cascade  bool
}

// ShowObjects is SHOW TABLES|SOURCES|STREAMS|MATERIALIZED VIEWS|VIEWS|SINKS.
type ShowObjects struct {
	Kind ObjectKind
}

// Show is SHOW name | SHOW ALL (Name "all").
type Show struct {
	Name string // lower-cased; "time zone" arrives as "timezone"
}

// Set is SET [SESSION|LOCAL] name {TO|=} value, SET TIME ZONE value,
// and RESET name|ALL (Reset set, Value empty). Value is the value's text as
// PostgreSQL would store it ('UTC' unquoted, lists joined by ", ").
// SET name TO DEFAULT is a reset too, with Default set: its command tag is
// SET, not RESET.
type Set struct {
	Name    string
	Value   string
	Local   bool
	Reset   bool
	Default bool
}

// TxKind is the kind of transaction-control statement.
type TxKind uint8

const (
	TxBegin TxKind = iota
	TxCommit
	TxRollback
)

// Transaction is BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT.
type Transaction struct {
	Kind TxKind
}

// Explain is EXPLAIN [ANALYZE] statement.
type Explain struct {
	Stmt    Statement
	Analyze bool
}

// Flush is FLUSH: wait until all pending changes are applied.
type Flush struct{}

// Checkpoint is CHECKPOINT: write what the store holds only in memory to
// its data files.
type Checkpoint struct{}

// Discard is DISCARD ALL|PLANS|TEMP... and DEALLOCATE [PREPARE] name|ALL.
type Discard struct {
	What string // "all", "plans", ... or "deallocate"
	Name string // for DEALLOCATE name; "" with All
	All  bool
}

// Unsupported is a statement the parser recognised but Weir does not
// run (LISTEN, CREATE INDEX, GRANT, ...); the server answers 0A000 with
// Construct in the message, or a no-op success where PostgreSQL clients
// expect one (Noop).
type Unsupported struct {
	Construct string
	Noop      bool
}

func (*CreateTable) stmt()            {}
func (*CreateSource) stmt()           {}
func (*CreateStream) stmt()           {}
func (*CreateMaterializedView) stmt() {}
func (*CreateView) stmt()             {}
func (*CreateSink) stmt()             {}
func (*AlterSink) stmt()              {}
func (*CreateSecret) stmt()           {}
func (*Drop) stmt()                   {}
func (*ShowObjects) stmt()            {}
func (*Show) stmt()                   {}
func (*Set) stmt()                    {}
func (*Transaction) stmt()            {}
func (*Explain) stmt()                {}
func (*Flush) stmt()                  {}
func (*Checkpoint) stmt()             {}
func (*Discard) stmt()                {}
func (*Unsupported) stmt()            {}

// QualifiedName is the dotted name as written.
func (t *TableName) QualifiedName() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// OptionValue returns the value of key (case-insensitive) and whether it was
// given.
func OptionValue(opts []*Option, key string) (string, bool) {
	for _, o := range opts {
		if strings.EqualFold(o.Key, key) {
			return o.Value, true
		}
	}
	return "", false
}
