package tests

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestViewsDifferential is the randomized differential test of incremental
// view maintenance (issue 3, "Proof"): random schemas of 2-3 tables, random
// view queries from a small grammar, random INSERT/UPDATE/DELETE batches
// (some inside BEGIN/COMMIT, some rolled back). After every batch, each
// materialized view on Weir must equal, as a multiset of rows, the same
// query run by PostgreSQL over the same rows (on PostgreSQL each view is a
// plain VIEW, so reading it runs its defining query).
//
// Half of each case's views are created before the data is loaded
// (incremental from empty), half after (backfill, then incremental).
//
// A third of the cases (those whose seed is 2 mod 3) run on a second Weir
// started with --state-cache-size=1: every epoch drops all operator state
// from memory, so each change reads its groups, rows and join keys back
// from storage.
//
//	WEIR_DIFF_SEED=n      base seed (case i uses seed n+i); printed on failure
//	WEIR_DIFF_CASES=n     number of cases (default: as many as fit in WEIR_DIFF_DURATION)
//	WEIR_DIFF_ROUNDS=n    write batches per case (default 12)
//	WEIR_DIFF_DURATION=d  time budget for the cases (default 75s; `make soak` sets minutes)
//	WEIR_DIFF_STRICT=1    treat the known failures below as failures
func TestViewsDifferential(t *testing.T) {
	seed := time.Now().UnixNano() % 1_000_000
	if s := os.Getenv("WEIR_DIFF_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_DIFF_SEED=%q: %v", s, err)
		}
		seed = v
	}
	rounds := envInt(t, "WEIR_DIFF_ROUNDS", 12)
	cases := envInt(t, "WEIR_DIFF_CASES", 0)
	budget := 75 * time.Second
	if s := os.Getenv("WEIR_DIFF_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("WEIR_DIFF_DURATION=%q: %v", s, err)
		}
		budget = d
	}
	strict := os.Getenv("WEIR_DIFF_STRICT") == "1"
	t.Logf("WEIR_DIFF_SEED=%d WEIR_DIFF_ROUNDS=%d", seed, rounds)

	pg := postgres(t)
	w := startWeir(t)
	ctx := testCtx(t, budget+5*time.Minute)
	if err := pg.CreateDB(ctx, "views_diff"); err != nil {
		t.Fatal(err)
	}
	pc := connect(t, pg.DSN("views_diff"), pgx.QueryExecModeSimpleProtocol).PgConn()
	wc := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol).PgConn()
	// The second server also partitions its views' operators into shards,
	// whatever the machine's default.
	wEvict := startWeir(t, "--state-cache-size=1", "--workers=3")
	wcEvict := connect(t, wEvict.DSN(), pgx.QueryExecModeSimpleProtocol).PgConn()

	st := &diffStats{known: map[string]int{}, refused: map[string]int{}}
	start := time.Now()
	for i := 0; ; i++ {
		if cases > 0 && i >= cases {
			break
		}
		if cases == 0 && i > 0 && time.Since(start) > budget {
			break
		}
		caseSeed := seed + int64(i)
		weir := wc
		if caseSeed%3 == 2 {
			weir = wcEvict
		}
		d := &diffCase{t: t, rng: rand.New(rand.NewSource(caseSeed)), seed: caseSeed, rounds: rounds,
			prefix: fmt.Sprintf("d%d_", i), pg: pc, weir: weir, strict: strict, stats: st}
		d.run(ctx)
		st.cases++
		if st.failures >= 10 {
			t.Errorf("stopping after %d failures", st.failures)
			break
		}
		if weir.IsClosed() {
			t.Fatalf("seed %d: Weir connection lost (crash?)", caseSeed)
		}
	}
	t.Logf("%d cases, %d views compared %d times, %d failures, %v", st.cases, st.views, st.compares, st.failures, time.Since(start).Round(time.Second))
	for k, n := range st.known {
		t.Logf("known failure (tolerated unless WEIR_DIFF_STRICT=1) x%d: %s", n, k)
	}
	for k, n := range st.refused {
		t.Logf("refused by Weir with 0A000 x%d: %s", n, k)
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

type diffStats struct {
	cases, views, compares, failures int
	known                            map[string]int // known-failure description -> occurrences
	refused                          map[string]int // 0A000 message -> occurrences
}

// knownFailures are real Weir gaps that the generator still produces: a view
// whose mismatch matches one is logged and not compared again (unless
// WEIR_DIFF_STRICT=1). Each entry names the bug; remove it when fixed.
var knownFailures = []struct {
	what  string
	match func(weirRows, pgRows []string) bool
}{
	{
		// Numerics equal in value but not in text: sum(n) over {1.5, 2} after
		// deleting 1.5 prints 2.0 (PostgreSQL: 2); avg(n) over {1.5} after
		// retractions prints 1.50000000000000000000 (PostgreSQL: 1.5000000000000000);
		// UPDATE t SET n = n * 0.5 turning 0 into 0.0 leaves 0 in a view of n.
		what:  "numeric display scale not maintained (equal value, different text: sum/avg after retractions, update 0 -> 0.0 not propagated)",
		match: func(a, b []string) bool { return equalMultiset(normNumeric(a), normNumeric(b)) },
	},
}

// knownCreateFailures are real Weir bugs at CREATE time for queries the
// generator produces: logged and counted, not failed (unless
// WEIR_DIFF_STRICT=1). Remove an entry when it is fixed.
var knownCreateFailures = []struct {
	what       string
	sql, error *regexp.Regexp
}{
	{
		what:  "FULL JOIN ... ON with IS [NOT] DISTINCT FROM in the condition is a syntax error (42601) on Weir",
		sql:   regexp.MustCompile(`FULL JOIN .* ON .*IS NOT DISTINCT FROM`),
		error: regexp.MustCompile(`SQLSTATE 42601`),
	},
}

var numTokenRE = regexp.MustCompile(`-?[0-9]+\.[0-9]+`)

// normNumeric rewrites every decimal in the rendered rows to its shortest form.
func normNumeric(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = numTokenRE.ReplaceAllStringFunc(r, func(s string) string {
			f, ok := new(big.Rat).SetString(s)
			if !ok {
				return s
			}
			return f.RatString()
		})
	}
	return out
}

func equalMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a = append([]string(nil), a...)
	b = append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Column types the generator knows; anything else is passed through only.
const (
	tInt  = "int"
	tBig  = "bigint"
	tText = "text"
	tNum  = "numeric"
	tBool = "bool"
)

type dcol struct{ name, typ string }

type drel struct {
	name   string
	cols   []dcol
	isView bool
	sql    string // defining query (views)
	broken bool   // a mismatch was reported: not compared again
	// tolerant: a known failure was seen; compared from then on with the
	// known failure's normalization, so the view still catches other bugs
	tolerant bool
}

type diffCase struct {
	t      *testing.T
	rng    *rand.Rand
	seed   int64
	rounds int
	prefix string
	pg     *pgconn.PgConn
	weir   *pgconn.PgConn
	strict bool
	stats  *diffStats

	tables []*drel
	views  []*drel // created on both
	nextID int
	log    []string // every statement sent to both, for the failure report
}

func (d *diffCase) fail(format string, args ...any) {
	d.stats.failures++
	tail := d.log
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	d.t.Errorf("seed %d (reproduce: WEIR_DIFF_SEED=%d WEIR_DIFF_CASES=1 WEIR_DIFF_ROUNDS=%d): %s\n-- last statements:\n%s",
		d.seed, d.seed, d.rounds, fmt.Sprintf(format, args...), strings.Join(tail, "\n"))
}

func (d *diffCase) run(ctx context.Context) {
	d.makeSchema(ctx)
	if d.stats.failures > 0 && d.weir.IsClosed() {
		return
	}
	nviews := 4 + d.rng.Intn(4)
	for i := 0; i < nviews/2; i++ {
		d.addView(ctx)
	}
	for _, tb := range d.tables {
		d.both(ctx, d.insertSQL(tb, 6+d.rng.Intn(10)))
	}
	d.compareAll(ctx, "after load")
	for i := nviews / 2; i < nviews; i++ {
		d.addView(ctx)
	}
	d.compareAll(ctx, "after backfill")
	for r := 0; r < d.rounds && !d.weir.IsClosed(); r++ {
		d.batch(ctx)
		d.compareAll(ctx, fmt.Sprintf("after batch %d", r))
	}
	// DROP everything: views newest first, then tables.
	for i := len(d.views) - 1; i >= 0; i-- {
		d.bothDDL(ctx, "DROP MATERIALIZED VIEW "+d.views[i].name, "DROP VIEW "+d.views[i].name)
	}
	for _, tb := range d.tables {
		d.both(ctx, "DROP TABLE "+tb.name)
	}
}

// both runs sql on both servers; an error on either (or on only one) is a failure.
func (d *diffCase) both(ctx context.Context, sql string) {
	d.bothDDL(ctx, sql, sql)
}

func (d *diffCase) bothDDL(ctx context.Context, weirSQL, pgSQL string) {
	d.log = append(d.log, weirSQL+";")
	_, _, perr := execText(ctx, d.pg, pgSQL)
	_, _, werr := execText(ctx, d.weir, weirSQL)
	if perr != nil && werr == nil {
		d.fail("PostgreSQL failed %q: %v (the generator should not produce this)", pgSQL, perr)
	} else if werr != nil && perr == nil {
		d.fail("Weir failed %q: %v (PostgreSQL accepted it)", weirSQL, werr)
	} else if perr != nil {
		var pp, wp *pgconn.PgError
		if !errors.As(perr, &pp) || !errors.As(werr, &wp) || pp.Code != wp.Code {
			d.fail("both failed %q, differently: weir %v / postgres %v", weirSQL, werr, perr)
		}
	}
}

var colTypes = []string{tInt, tBig, tText, tNum, tBool}

func (d *diffCase) makeSchema(ctx context.Context) {
	n := 2 + d.rng.Intn(2)
	for i := 0; i < n; i++ {
		tb := &drel{name: fmt.Sprintf("%st%d", d.prefix, i)}
		// every table has a small-domain int key k and a text s, so that joins
		// and set operations always find partners; then 1-3 random columns.
		tb.cols = []dcol{{"id", tInt}, {"k", tInt}, {"s", tText}}
		for j, m := 0, 1+d.rng.Intn(3); j < m; j++ {
			tb.cols = append(tb.cols, dcol{fmt.Sprintf("c%d", j), colTypes[d.rng.Intn(len(colTypes))]})
		}
		defs := make([]string, len(tb.cols))
		for j, c := range tb.cols {
			defs[j] = c.name + " " + c.typ
			if c.name == "id" {
				defs[j] += " PRIMARY KEY"
			}
		}
		d.tables = append(d.tables, tb)
		d.both(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", tb.name, strings.Join(defs, ", ")))
	}
}

// lit returns a literal of typ from a small domain (NULL about 1 in 7).
func (d *diffCase) lit(typ string, nulls bool) string {
	if nulls && d.rng.Intn(7) == 0 {
		return "NULL"
	}
	switch typ {
	case tInt:
		return strconv.Itoa(d.rng.Intn(5) - 1)
	case tBig:
		return []string{"0", "1", "2", "3", "-5", "5000000000"}[d.rng.Intn(6)]
	case tText:
		return []string{"'a'", "'b'", "'c'", "'ab'", "''", "'B'"}[d.rng.Intn(6)]
	case tNum:
		return []string{"0", "1", "1.5", "2.25", "-0.5", "3.0", "10"}[d.rng.Intn(7)]
	case tBool:
		return []string{"true", "false"}[d.rng.Intn(2)]
	}
	return "NULL"
}

func (d *diffCase) insertSQL(tb *drel, n int) string {
	rows := make([]string, n)
	for i := range rows {
		d.nextID++
		vals := []string{strconv.Itoa(d.nextID)}
		for _, c := range tb.cols[1:] {
			vals = append(vals, d.lit(c.typ, true))
		}
		rows[i] = "(" + strings.Join(vals, ", ") + ")"
	}
	return fmt.Sprintf("INSERT INTO %s VALUES %s", tb.name, strings.Join(rows, ", "))
}

// dmlSQL is one random INSERT, UPDATE or DELETE.
func (d *diffCase) dmlSQL() string {
	tb := d.tables[d.rng.Intn(len(d.tables))]
	switch d.rng.Intn(20) {
	case 0: // the primary key changes: a delete and an insert of the whole row
		d.nextID++
		return fmt.Sprintf("UPDATE %s SET id = %d WHERE id = %d", tb.name, d.nextID, 1+d.rng.Intn(d.nextID-1))
	case 1: // every group of this table vanishes (and comes back with later inserts)
		return []string{"DELETE FROM ", "TRUNCATE "}[d.rng.Intn(2)] + tb.name
	case 2, 3: // upsert: ids that may exist, some rows updated in place, some inserted
		c := tb.cols[1+d.rng.Intn(len(tb.cols)-1)]
		vals := []string{strconv.Itoa(1 + d.rng.Intn(d.nextID+2))}
		for _, c := range tb.cols[1:] {
			vals = append(vals, d.lit(c.typ, true))
		}
		if d.rng.Intn(3) == 0 {
			return fmt.Sprintf("INSERT INTO %s VALUES (%s) ON CONFLICT (id) DO NOTHING", tb.name, strings.Join(vals, ", "))
		}
		return fmt.Sprintf("INSERT INTO %s VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s = EXCLUDED.%s", tb.name, strings.Join(vals, ", "), c.name, c.name)
	case 4: // DELETE driven by another table
		o := d.tables[d.rng.Intn(len(d.tables))]
		return fmt.Sprintf("DELETE FROM %s WHERE k IN (SELECT k FROM %s WHERE %s)", tb.name, o.name, d.pred(relCols("", o.cols), 0))
	}
	switch d.rng.Intn(3) {
	case 0:
		return d.insertSQL(tb, 1+d.rng.Intn(4))
	case 1:
		c := tb.cols[1+d.rng.Intn(len(tb.cols)-1)]
		val := d.lit(c.typ, true)
		if d.rng.Intn(3) == 0 {
			val = d.scalarExpr(relCols("", tb.cols), c.typ) // SET x = f(other columns)
		}
		return fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s", tb.name, c.name, val, d.pred(relCols("", tb.cols), 1))
	default:
		return fmt.Sprintf("DELETE FROM %s WHERE %s", tb.name, d.pred(relCols("", tb.cols), 1))
	}
}

func (d *diffCase) batch(ctx context.Context) {
	n := 1 + d.rng.Intn(4)
	switch d.rng.Intn(5) {
	case 0, 1, 2:
		for i := 0; i < n; i++ {
			d.both(ctx, d.dmlSQL())
		}
	case 3:
		d.both(ctx, "BEGIN")
		for i := 0; i < n; i++ {
			d.both(ctx, d.dmlSQL())
		}
		d.both(ctx, "COMMIT")
	case 4:
		d.both(ctx, "BEGIN")
		for i := 0; i < n; i++ {
			d.both(ctx, d.dmlSQL())
		}
		d.both(ctx, "ROLLBACK")
	}
}

// qcol is a column as an expression can name it (qualified or not).
type qcol struct{ ref, typ string }

func relCols(alias string, cols []dcol) []qcol {
	out := make([]qcol, 0, len(cols))
	for _, c := range cols {
		ref := c.name
		if alias != "" {
			ref = alias + "." + c.name
		}
		out = append(out, qcol{ref, c.typ})
	}
	return out
}

func (d *diffCase) pick(cols []qcol, types ...string) (qcol, bool) {
	var ok []qcol
	for _, c := range cols {
		for _, ty := range types {
			if c.typ == ty {
				ok = append(ok, c)
			}
		}
	}
	if len(ok) == 0 {
		return qcol{}, false
	}
	return ok[d.rng.Intn(len(ok))], true
}

func (d *diffCase) known(cols []qcol) []qcol {
	var out []qcol
	for _, c := range cols {
		switch c.typ {
		case tInt, tBig, tText, tNum, tBool:
			out = append(out, c)
		}
	}
	return out
}

// pred is a random boolean expression over cols (depth bounds nesting).
func (d *diffCase) pred(cols []qcol, depth int) string {
	cols = d.known(cols)
	if depth > 0 && d.rng.Intn(4) == 0 {
		op := []string{"AND", "OR"}[d.rng.Intn(2)]
		p := fmt.Sprintf("(%s %s %s)", d.pred(cols, depth-1), op, d.pred(cols, depth-1))
		if d.rng.Intn(4) == 0 {
			p = "NOT " + p
		}
		return p
	}
	c := cols[d.rng.Intn(len(cols))]
	switch d.rng.Intn(8) {
	case 0:
		return c.ref + " IS NULL"
	case 1:
		return c.ref + " IS NOT NULL"
	}
	if c.typ == tBool {
		return []string{c.ref, "NOT " + c.ref, c.ref + " IS TRUE", c.ref + " IS NOT FALSE"}[d.rng.Intn(4)]
	}
	switch d.rng.Intn(6) {
	case 0:
		return fmt.Sprintf("%s IN (%s, %s)", c.ref, d.lit(c.typ, false), d.lit(c.typ, false))
	case 1:
		if c.typ == tText {
			return c.ref + " LIKE " + []string{"'a%'", "'%b'", "'_'"}[d.rng.Intn(3)]
		}
		return fmt.Sprintf("%s BETWEEN %s AND %s", c.ref, d.lit(c.typ, false), d.lit(c.typ, false))
	case 2:
		return fmt.Sprintf("COALESCE(%s, %s) %s %s", c.ref, d.lit(c.typ, false), d.cmp(), d.lit(c.typ, false))
	}
	return fmt.Sprintf("%s %s %s", c.ref, d.cmp(), d.lit(c.typ, false))
}

func (d *diffCase) cmp() string {
	return []string{"=", "<>", "<", "<=", ">", ">="}[d.rng.Intn(6)]
}

// scalarExpr is an expression of type typ over cols (a column when it can).
func (d *diffCase) scalarExpr(cols []qcol, typ string) string {
	c, ok := d.pick(cols, typ)
	if !ok {
		return d.lit(typ, false)
	}
	switch d.rng.Intn(5) {
	case 0:
		return c.ref
	case 1:
		return fmt.Sprintf("COALESCE(%s, %s)", c.ref, d.lit(typ, false))
	case 2:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", d.pred(cols, 0), c.ref, d.lit(typ, true))
	}
	switch typ {
	case tInt, tBig:
		return fmt.Sprintf("(%s %s %s)", c.ref, []string{"+", "-", "*"}[d.rng.Intn(3)], strconv.Itoa(1+d.rng.Intn(3)))
	case tNum:
		return fmt.Sprintf("(%s %s %s)", c.ref, []string{"+", "-", "*"}[d.rng.Intn(3)], []string{"1", "0.5", "2"}[d.rng.Intn(3)])
	case tText:
		return []string{"upper(" + c.ref + ")", c.ref + " || 'z'", "lower(" + c.ref + ")"}[d.rng.Intn(3)]
	case tBool:
		return "NOT " + c.ref
	}
	return c.ref
}

// projection: 1-4 expressions over cols, aliased o0.. .
func (d *diffCase) projection(cols []qcol) []string {
	kc := d.known(cols)
	n := 1 + d.rng.Intn(4)
	out := make([]string, n)
	for i := range out {
		c := kc[d.rng.Intn(len(kc))]
		e := c.ref
		if d.rng.Intn(2) == 0 {
			e = d.scalarExpr(kc, c.typ)
		}
		if d.rng.Intn(8) == 0 {
			e = "(" + d.pred(kc, 0) + ")"
		}
		out[i] = fmt.Sprintf("%s AS o%d", e, i)
	}
	return out
}

// agg is one random aggregate call over cols.
func (d *diffCase) agg(cols []qcol) string {
	kc := d.known(cols)
	for {
		var e string
		switch d.rng.Intn(10) {
		case 0:
			e = "count(*)"
		case 1:
			c := kc[d.rng.Intn(len(kc))]
			e = "count(" + c.ref + ")"
		case 2:
			c := kc[d.rng.Intn(len(kc))]
			e = "count(DISTINCT " + c.ref + ")"
		case 3, 4:
			c, ok := d.pick(kc, tInt, tBig, tNum)
			if !ok {
				continue
			}
			e = []string{"sum", "avg"}[d.rng.Intn(2)] + "(" + c.ref + ")"
		case 5, 6:
			c, ok := d.pick(kc, tInt, tBig, tNum, tText)
			if !ok {
				continue
			}
			e = []string{"min", "max"}[d.rng.Intn(2)] + "(" + c.ref + ")"
		case 7:
			c, ok := d.pick(kc, tBool)
			if !ok {
				continue
			}
			e = []string{"bool_and", "bool_or"}[d.rng.Intn(2)] + "(" + c.ref + ")"
		case 8:
			c, ok := d.pick(kc, tText)
			if !ok {
				continue
			}
			// ORDER BY the value itself, so that the result is determined.
			e = fmt.Sprintf("string_agg(%s, ',' ORDER BY %s)", c.ref, c.ref)
		case 9:
			c, ok := d.pick(kc, tInt, tBig, tNum)
			if !ok {
				continue
			}
			e = "sum(" + c.ref + ")"
		}
		if d.rng.Intn(5) == 0 {
			e += " FILTER (WHERE " + d.pred(kc, 0) + ")"
		}
		return e
	}
}

// source picks the FROM of a single-input query: a table or an earlier view.
func (d *diffCase) source() *drel {
	if len(d.views) > 0 && d.rng.Intn(3) == 0 {
		return d.views[d.rng.Intn(len(d.views))]
	}
	return d.tables[d.rng.Intn(len(d.tables))]
}

// fromClause returns a FROM clause (one relation, or a join of two) and the
// columns it offers.
func (d *diffCase) fromClause(joinChance int) (string, []qcol) {
	a := d.source()
	if d.rng.Intn(joinChance) != 0 {
		return a.name, relCols("", a.cols)
	}
	b := d.source()
	lc, rc := relCols("l", a.cols), relCols("r", b.cols)
	var conds []string
	for tries := 0; tries < 12 && len(conds) < 1+d.rng.Intn(2); tries++ {
		x := d.known(lc)
		if len(x) == 0 {
			break
		}
		l := x[d.rng.Intn(len(x))]
		if l.typ == tBool {
			continue
		}
		r, ok := d.pick(rc, l.typ)
		if !ok {
			continue
		}
		if d.rng.Intn(6) == 0 {
			conds = append(conds, l.ref+" IS NOT DISTINCT FROM "+r.ref)
		} else {
			conds = append(conds, l.ref+" = "+r.ref)
		}
	}
	if len(conds) == 0 { // no shared type: a cross join filtered by a predicate
		conds = append(conds, "true")
	}
	switch d.rng.Intn(4) {
	case 0: // residual on one side
		side := lc
		if d.rng.Intn(2) == 0 {
			side = rc
		}
		conds = append(conds, d.pred(side, 0))
	case 1: // residual across sides
		if l, ok := d.pick(lc, tInt, tBig); ok {
			if r, ok := d.pick(rc, tInt, tBig); ok {
				conds = append(conds, fmt.Sprintf("%s %s %s", l.ref, d.cmp(), r.ref))
			}
		}
	}
	kind := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"}[d.rng.Intn(4)]
	from := fmt.Sprintf("%s AS l %s %s AS r ON %s", a.name, kind, b.name, strings.Join(conds, " AND "))
	cols := append(lc, rc...)
	if d.rng.Intn(4) == 0 { // a third relation, joined to either side on a column of the same type
		c := d.source()
		mc := relCols("m", c.cols)
		if x, ok := d.pick(d.known(cols), tInt, tBig, tText); ok {
			if y, ok := d.pick(mc, x.typ); ok {
				kind := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"}[d.rng.Intn(4)]
				from += fmt.Sprintf(" %s %s AS m ON %s = %s", kind, c.name, x.ref, y.ref)
				cols = append(cols, mc...)
			}
		}
	}
	return from, cols
}

// viewSQL builds one random view query.
func (d *diffCase) viewSQL() string {
	if d.rng.Intn(5) == 0 {
		return d.viewSQLMore()
	}
	switch d.rng.Intn(7) {
	case 0, 1: // filter + projection (maybe over a join)
		from, cols := d.fromClause(2)
		q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(d.projection(cols), ", "), from)
		if d.rng.Intn(3) != 0 {
			q += " WHERE " + d.pred(cols, 2)
		}
		return q
	case 2, 3: // GROUP BY + aggregates (+ HAVING), maybe over a join
		from, cols := d.fromClause(3)
		kc := d.known(cols)
		var sel, groups []string
		for i, n := 0, d.rng.Intn(3); i < n; i++ {
			c := kc[d.rng.Intn(len(kc))]
			g := c.ref
			if d.rng.Intn(4) == 0 {
				g = d.scalarExpr(kc, c.typ)
			}
			groups = append(groups, g)
			sel = append(sel, fmt.Sprintf("%s AS g%d", g, i))
		}
		for i, n := 0, 1+d.rng.Intn(4); i < n; i++ {
			sel = append(sel, fmt.Sprintf("%s AS a%d", d.agg(cols), i))
		}
		q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(sel, ", "), from)
		if d.rng.Intn(3) == 0 {
			q += " WHERE " + d.pred(cols, 1)
		}
		if len(groups) > 0 {
			q += " GROUP BY " + strings.Join(groups, ", ")
		}
		if d.rng.Intn(3) == 0 {
			q += fmt.Sprintf(" HAVING %s %s %d", []string{"count(*)", "count(DISTINCT " + kc[0].ref + ")"}[d.rng.Intn(2)], d.cmp(), d.rng.Intn(3))
		}
		return q
	case 4: // DISTINCT
		from, cols := d.fromClause(3)
		q := fmt.Sprintf("SELECT DISTINCT %s FROM %s", strings.Join(d.projection(cols), ", "), from)
		if d.rng.Intn(2) == 0 {
			q += " WHERE " + d.pred(cols, 1)
		}
		return q
	case 5: // set operations
		a, b := d.source(), d.source()
		ac := d.known(relCols("", a.cols))
		n := 1 + d.rng.Intn(2)
		var left, right []string
		for i := 0; i < n; i++ {
			c := ac[d.rng.Intn(len(ac))]
			r, ok := d.pick(relCols("", b.cols), c.typ)
			if !ok {
				return d.viewSQL()
			}
			left = append(left, fmt.Sprintf("%s AS u%d", c.ref, i))
			right = append(right, r.ref)
		}
		op := []string{"UNION", "UNION ALL", "EXCEPT", "EXCEPT ALL", "INTERSECT", "INTERSECT ALL"}[d.rng.Intn(6)]
		q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(left, ", "), a.name)
		if d.rng.Intn(2) == 0 {
			q += " WHERE " + d.pred(relCols("", a.cols), 1)
		}
		q += fmt.Sprintf(" %s SELECT %s FROM %s", op, strings.Join(right, ", "), b.name)
		if d.rng.Intn(2) == 0 {
			q += " WHERE " + d.pred(relCols("", b.cols), 1)
		}
		return q
	default: // top-N: ORDER BY every output column, so the multiset is determined
		src := d.source()
		cols := relCols("", src.cols)
		proj := d.projection(cols)
		var keys []string
		for i := range proj {
			k := fmt.Sprintf("o%d", i)
			if d.rng.Intn(2) == 0 {
				k += " DESC"
			}
			if d.rng.Intn(4) == 0 {
				k += []string{" NULLS FIRST", " NULLS LAST"}[d.rng.Intn(2)]
			}
			keys = append(keys, k)
		}
		d.rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(proj, ", "), src.name)
		if d.rng.Intn(2) == 0 {
			q += " WHERE " + d.pred(cols, 1)
		}
		q += fmt.Sprintf(" ORDER BY %s LIMIT %d", strings.Join(keys, ", "), 1+d.rng.Intn(5))
		if d.rng.Intn(4) == 0 {
			q += fmt.Sprintf(" OFFSET %d", d.rng.Intn(3))
		}
		return q
	}
}

var pgTypeByOID = map[uint32]string{23: tInt, 20: tBig, 25: tText, 1043: tText, 1700: tNum, 16: tBool}

// addView creates one random view on PostgreSQL (a plain VIEW: the oracle)
// and on Weir (a MATERIALIZED VIEW). A query PostgreSQL rejects is
// regenerated; one Weir refuses with 0A000 is counted as a gap.
func (d *diffCase) addView(ctx context.Context) {
	name := fmt.Sprintf("%sv%d", d.prefix, len(d.views))
	for attempt := 0; attempt < 20; attempt++ {
		q := d.viewSQL()
		if _, _, err := execText(ctx, d.pg, "CREATE VIEW "+name+" AS "+q); err != nil {
			continue // not valid SQL for PostgreSQL (e.g. a type mismatch): try another
		}
		fds, err := describe(ctx, d.pg, "SELECT * FROM "+name)
		if err != nil { // e.g. a FULL JOIN condition PostgreSQL cannot run: try another
			execText(ctx, d.pg, "DROP VIEW "+name)
			continue
		}
		v := &drel{name: name, isView: true, sql: q}
		for _, fd := range fds {
			ty, ok := pgTypeByOID[fd.DataTypeOID]
			if !ok {
				ty = "other"
			}
			v.cols = append(v.cols, dcol{fd.Name, ty})
		}
		wsql := "CREATE MATERIALIZED VIEW " + name + " AS " + q
		d.log = append(d.log, wsql+";")
		_, _, werr := execText(ctx, d.weir, wsql)
		var pe *pgconn.PgError
		if errors.As(werr, &pe) && pe.Code == "0A000" {
			d.stats.refused[pe.Message]++
			d.t.Logf("seed %d: Weir refuses (0A000 %s): %s", d.seed, pe.Message, q)
			execText(ctx, d.pg, "DROP VIEW "+name)
			continue
		}
		if werr != nil && !d.strict {
			known := ""
			for _, k := range knownCreateFailures {
				if k.sql.MatchString(q) && k.error.MatchString(werr.Error()) {
					known = k.what
				}
			}
			if known != "" {
				d.stats.known[known]++
				d.t.Logf("seed %d: known failure (%s): %s", d.seed, known, q)
				execText(ctx, d.pg, "DROP VIEW "+name)
				continue
			}
		}
		if werr != nil {
			d.fail("CREATE MATERIALIZED VIEW failed on Weir: %v\n  %s", werr, q)
			execText(ctx, d.pg, "DROP VIEW "+name)
			return
		}
		d.views = append(d.views, v)
		d.stats.views++
		return
	}
}

func describe(ctx context.Context, c *pgconn.PgConn, sql string) ([]pgconn.FieldDescription, error) {
	rr := c.ExecParams(ctx, sql+" LIMIT 0", nil, nil, nil, nil)
	fds := append([]pgconn.FieldDescription(nil), rr.FieldDescriptions()...)
	_, err := rr.Close()
	return fds, err
}

func (d *diffCase) rows(ctx context.Context, c *pgconn.PgConn, sql string) ([]string, error) {
	rows, _, err := execText(ctx, c, sql)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = renderRow(r)
	}
	return out, nil
}

func (d *diffCase) compareAll(ctx context.Context, when string) {
	for _, v := range d.views {
		if v.broken || d.weir.IsClosed() {
			continue
		}
		d.stats.compares++
		want, err := d.rows(ctx, d.pg, "SELECT * FROM "+v.name)
		if err != nil {
			d.fail("PostgreSQL SELECT * FROM %s: %v", v.name, err)
			v.broken = true
			continue
		}
		got, err := d.rows(ctx, d.weir, "SELECT * FROM "+v.name)
		if err != nil {
			d.fail("%s: Weir SELECT * FROM %s: %v\n  view: %s", when, v.name, err, v.sql)
			v.broken = true
			continue
		}
		if equalMultiset(got, want) || (v.tolerant && equalMultiset(normNumeric(got), normNumeric(want))) {
			continue
		}
		v.broken = true
		if !d.strict && !v.tolerant {
			tolerated := false
			for _, k := range knownFailures {
				if k.match(got, want) {
					d.stats.known[k.what]++
					d.t.Logf("seed %d %s: known failure (%s) in %s: %s\n%s", d.seed, when, k.what, v.name, v.sql, rowDiff(got, want))
					tolerated = true
					v.broken, v.tolerant = false, true
					break
				}
			}
			if tolerated {
				continue
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		d.fail("%s: view %s differs from PostgreSQL\n  view: %s\n  weir %d rows, postgres %d rows:\n%s",
			when, v.name, v.sql, len(got), len(want), rowDiff(got, want))
	}
}

// rowDiff lists the rows only one side has.
func rowDiff(got, want []string) string {
	count := map[string]int{}
	for _, r := range got {
		count[r]++
	}
	for _, r := range want {
		count[r]--
	}
	var b strings.Builder
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch n := count[k]; {
		case n > 0:
			fmt.Fprintf(&b, "    only weir x%d:     %s\n", n, k)
		case n < 0:
			fmt.Fprintf(&b, "    only postgres x%d: %s\n", -n, k)
		}
	}
	return b.String()
}

// viewSQLMore builds the rest of the grammar: subqueries (EXISTS,
// NOT EXISTS, IN, NOT IN, scalar subqueries against an aggregate), subqueries
// in FROM and WITH, DISTINCT ON, non-equi joins, window functions, top-N per
// group. Weir may
// refuse some with 0A000 (counted and logged as gaps, not failures); once
// accepted, they are compared like every other view.
func (d *diffCase) viewSQLMore() string {
	a, b := d.source(), d.source()
	ac, bc := relCols("a", a.cols), relCols("b", b.cols)
	where := func() string {
		if d.rng.Intn(2) == 0 {
			return " AND " + d.pred(bc, 0)
		}
		return ""
	}
	proj := func() string { return strings.Join(d.projection(ac), ", ") }
	switch d.rng.Intn(10) {
	case 0, 1: // EXISTS / NOT EXISTS, correlated
		x, _ := d.pick(d.known(ac), tInt, tBig, tText, tNum)
		y, ok := d.pick(bc, x.typ)
		if x.ref == "" || !ok {
			return d.viewSQL()
		}
		not := []string{"", "NOT "}[d.rng.Intn(2)]
		return fmt.Sprintf("SELECT %s FROM %s AS a WHERE %sEXISTS (SELECT 1 FROM %s AS b WHERE %s = %s%s)",
			proj(), a.name, not, b.name, y.ref, x.ref, where())
	case 2: // IN / NOT IN (NOT IN with NULLs is the classic trap)
		x, _ := d.pick(d.known(ac), tInt, tBig, tText, tNum)
		y, ok := d.pick(bc, x.typ)
		if x.ref == "" || !ok {
			return d.viewSQL()
		}
		not := []string{"", "NOT "}[d.rng.Intn(2)]
		return fmt.Sprintf("SELECT %s FROM %s AS a WHERE %s %sIN (SELECT %s FROM %s AS b WHERE true%s)",
			proj(), a.name, x.ref, not, y.ref, b.name, where())
	case 3: // compared against an aggregate of another relation (maybe correlated)
		x, _ := d.pick(d.known(ac), tInt, tBig, tNum)
		y, ok := d.pick(bc, x.typ)
		if x.ref == "" || !ok {
			return d.viewSQL()
		}
		corr := ""
		if k, ok := d.pick(bc, tInt); ok && d.rng.Intn(2) == 0 {
			corr = fmt.Sprintf(" AND %s = a.k", k.ref)
		}
		return fmt.Sprintf("SELECT %s FROM %s AS a WHERE %s %s (SELECT %s(%s) FROM %s AS b WHERE true%s%s)",
			proj(), a.name, x.ref, d.cmp(), []string{"max", "min", "avg", "sum"}[d.rng.Intn(4)], y.ref, b.name, where(), corr)
	case 4: // subquery in FROM: an aggregate of an aggregate
		return fmt.Sprintf("SELECT g0, count(*) AS n, sum(a0) AS s FROM (SELECT k AS g0, count(*) AS a0 FROM %s WHERE %s GROUP BY k) AS sq GROUP BY g0",
			d.tables[d.rng.Intn(len(d.tables))].name, d.pred(relCols("", d.tables[0].cols[:3]), 1))
	case 5: // WITH
		t0 := d.tables[d.rng.Intn(len(d.tables))]
		t1 := d.tables[d.rng.Intn(len(d.tables))]
		return fmt.Sprintf("WITH c AS (SELECT k, count(*) AS n FROM %s GROUP BY k) SELECT x.id, x.s, c.n FROM %s AS x %s c ON x.k = c.k",
			t0.name, t1.name, []string{"JOIN", "LEFT JOIN"}[d.rng.Intn(2)])
	case 6: // DISTINCT ON, ordered by every output column so the result is determined
		tb := d.tables[d.rng.Intn(len(d.tables))]
		return fmt.Sprintf("SELECT DISTINCT ON (k) k, s, id FROM %s ORDER BY k, s %s, id", tb.name, []string{"", "DESC"}[d.rng.Intn(2)])
	case 7: // non-equi join only
		x, _ := d.pick(d.known(ac), tInt, tBig)
		y, ok := d.pick(bc, x.typ)
		if x.ref == "" || !ok {
			return d.viewSQL()
		}
		kind := []string{"JOIN", "LEFT JOIN"}[d.rng.Intn(2)]
		return fmt.Sprintf("SELECT a.id AS o0, b.id AS o1 FROM %s AS a %s %s AS b ON %s %s %s", a.name, kind, b.name, x.ref, []string{"<", ">=", "<>"}[d.rng.Intn(3)], y.ref)
	case 8: // window functions; ordered by id too where peers' order would show
		tb := d.tables[d.rng.Intn(len(d.tables))]
		fns := []string{
			"row_number() OVER (PARTITION BY k ORDER BY s, id)",
			"rank() OVER (PARTITION BY k ORDER BY s)",
			"dense_rank() OVER (ORDER BY s DESC)",
			"count(*) OVER (PARTITION BY k)",
			"sum(id) OVER (PARTITION BY k ORDER BY s)",
			"sum(k) OVER (PARTITION BY s ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
			"lag(s) OVER (PARTITION BY k ORDER BY id)",
			"lead(id, 2, -1) OVER (ORDER BY id)",
			"first_value(s) OVER (PARTITION BY k ORDER BY id)",
			"max(s) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)",
			"ntile(3) OVER (PARTITION BY k ORDER BY id)",
			"cume_dist() OVER (PARTITION BY k ORDER BY s)",
			"count(s) OVER (ORDER BY k GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW)",
		}
		q := fmt.Sprintf("SELECT id, k, %s AS w0, %s AS w1 FROM %s", fns[d.rng.Intn(len(fns))], fns[d.rng.Intn(len(fns))], tb.name)
		if d.rng.Intn(2) == 0 {
			q += " WHERE " + d.pred(relCols("", tb.cols[:3]), 1)
		}
		return q
	default: // top-N per group, by row_number (rows), rank (ties kept) or dense_rank
		tb := d.tables[d.rng.Intn(len(d.tables))]
		fn, order := "row_number()", []string{"s, id", "s DESC, id"}[d.rng.Intn(2)]
		switch d.rng.Intn(3) {
		case 1:
			fn, order = "rank()", []string{"s", "s DESC"}[d.rng.Intn(2)]
		case 2:
			fn, order = "dense_rank()", []string{"s", "s DESC NULLS LAST"}[d.rng.Intn(2)]
		}
		n := 1 + d.rng.Intn(2)
		cond := []string{fmt.Sprintf("rn <= %d", n), fmt.Sprintf("rn < %d", n+1), "rn = 1", fmt.Sprintf("%d >= rn", n)}[d.rng.Intn(4)]
		return fmt.Sprintf("SELECT k, s, id%s FROM (SELECT k, s, id, %s OVER (PARTITION BY k ORDER BY %s) AS rn FROM %s) AS r WHERE %s",
			[]string{"", ", rn"}[d.rng.Intn(2)], fn, order, tb.name, cond)
	}
}
