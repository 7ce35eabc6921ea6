package planner

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// Catalog resolves relation names; implemented by the coordinator.
type Catalog interface {
	// Relation returns the named relation, or a *sqlerr.Error 42P01.
	Relation(schema, name string) (*catalog.Relation, error)
}

// Context is what planning consults.
type Context struct {
	Catalog Catalog
	// ParamTypes are the declared parameter types ($1 = [0]); KindUnknown
	// means infer.
	ParamTypes []types.Type
}

// Column is one result column.
type Column struct {
	Name     string
	Type     types.Type
	TableOID uint32
	Attr     int16
}

type stmtKind uint8

const (
	kindQuery stmtKind = iota
	kindInsert
	kindUpdate
	kindDelete
	kindExplain
)

// Plan is a bound, planned statement. It is immutable once built and may be
// run any number of times (each Run with its own Runtime), but not
// concurrently with itself.
type Plan struct {
	Columns    []Column
	ParamTypes []types.Type

	kind    stmtKind
	query   *queryPlan
	dml     *dmlPlan
	explain *Plan
	// subs are the statement's run-once subqueries, computed in order
	// at the start of Run (a later one may use an earlier one); subClauses
	// names where each is used.
	subs       []*queryPlan
	subClauses []string
}

// PlanStatement binds and plans stmt (Go does not allow a function and a
// type both named Plan in one package): *ast.Query, *ast.Insert, *ast.Update,
// *ast.Delete, *ast.Explain of one of those (one text column "QUERY
// PLAN"), and the query of *ast.Copy (COPY (query) TO, COPY t TO). Unknown
// parameter types are inferred from context and reported in ParamTypes.
func PlanStatement(c *Context, stmt ast.Statement) (*Plan, error) {
	b := newBinder(c)
	p, err := b.planStatement(stmt)
	if err != nil {
		return nil, err
	}
	b.finishParams()
	p.ParamTypes = b.paramTypes
	p.subs, p.subClauses = b.subs, b.subClauses
	if p.kind == kindQuery && len(p.subs) == 0 {
		p.query.direct = newDirectPlan(p.query.root)
	}
	if p.explain != nil {
		p.explain.ParamTypes, p.explain.subs, p.explain.subClauses = b.paramTypes, b.subs, b.subClauses
	}
	return p, nil
}

func (b *binder) planStatement(stmt ast.Statement) (*Plan, error) {
	switch n := stmt.(type) {
	case *ast.Query:
		q, err := b.bindTopQuery(n)
		if err != nil {
			return nil, err
		}
		if n.EmitOnWindowClose {
			if err := emitOnWindowClose(q.root); err != nil {
				return nil, err
			}
		}
		return &Plan{kind: kindQuery, query: q, Columns: q.columns()}, nil
	case *ast.Insert:
		return b.planInsert(n)
	case *ast.Update:
		return b.planUpdate(n)
	case *ast.Delete:
		return b.planDelete(n)
	case *ast.Explain:
		if n.Analyze {
			return nil, sqlerr.Unsupported("EXPLAIN ANALYZE is not supported")
		}
		inner, err := b.planStatement(n.Stmt)
		if err != nil {
			return nil, err
		}
		return &Plan{kind: kindExplain, explain: inner, Columns: []Column{{Name: "QUERY PLAN", Type: types.Text}}}, nil
	case *ast.Copy:
		q := n.Query
		if q == nil {
			if n.Table == nil || n.From {
				return nil, sqlerr.Unsupported("COPY FROM is planned with PlanInsertRows")
			}
			core := &ast.SelectCore{From: []ast.TableExpr{n.Table}}
			if len(n.Columns) == 0 {
				core.Targets = []*ast.Target{{Star: true}}
			}
			for _, c := range n.Columns {
				core.Targets = append(core.Targets, &ast.Target{Expr: &ast.ColumnRef{Name: c}})
			}
			q = &ast.Query{Body: core}
		}
		return b.planStatement(q)
	}
	return nil, sqlerr.Unsupported("statement %T cannot be planned", stmt)
}

// Run executes the plan. For DML it performs the writes through rt.Store
// (the caller owns the transaction and commits). The returned Rows yields
// the result rows (SELECT, or RETURNING).
func (p *Plan) Run(ctx context.Context, rt *executor.Runtime) (executor.Rows, error) {
	switch p.kind {
	case kindExplain:
		lines := strings.Split(strings.TrimRight(p.explain.String(), "\n"), "\n")
		rows := make([]types.Row, len(lines))
		for i, l := range lines {
			rows[i] = types.Row{types.NewText(l)}
		}
		return &executor.SliceRows{Rows: rows}, nil
	}
	comp, err := p.compiler(ctx, rt)
	if err != nil {
		return nil, err
	}
	switch p.kind {
	case kindQuery:
		rows, err := p.query.run(ctx, rt, comp)
		if err != nil {
			return nil, err
		}
		return &executor.SliceRows{Rows: rows}, nil
	default:
		return p.dml.run(ctx, rt, comp)
	}
}

// compiler computes the statement's uncorrelated subqueries and returns
// the compiler for the run.
func (p *Plan) compiler(ctx context.Context, rt *executor.Runtime) (*executor.Compiler, error) {
	comp := executor.NewCompiler(rt)
	for _, s := range p.subs {
		rows, err := s.run(ctx, rt, comp)
		if err != nil {
			return nil, err
		}
		comp.Subqueries = append(comp.Subqueries, rows)
	}
	return comp, nil
}

// Incremental reports whether the plan is pure dataflow, so that the
// incremental engine can maintain it from the changes of its inputs: it is
// a 0A000 error naming the construct when the plan computes a subquery once
// per Run instead (an uncorrelated IN or ANY/ALL subquery outside a WHERE
// conjunct, or a subquery in JOIN ... ON, LIMIT, OFFSET or VALUES).
func (p *Plan) Incremental() error {
	if len(p.subs) == 0 {
		return nil
	}
	clause := "an expression"
	if p.explain != nil {
		p = p.explain
	}
	if len(p.subClauses) > 0 {
		clause = p.subClauses[0]
	}
	return sqlerr.Unsupported("a subquery in %s cannot be maintained incrementally", clause).
		WithHint("Use EXISTS, IN or a scalar subquery as a condition of WHERE, or a scalar subquery in the select list.")
}

// ReadsOnce reports whether running the plan reads the store once at
// most: EXPLAIN, or a query of filters and projections over one relation,
// read with one Get or one Scan (a direct plan). One read of a store sees
// one consistent state by itself, so such a plan needs no snapshot.
func (p *Plan) ReadsOnce() bool {
	return p.kind == kindExplain || p.kind == kindQuery && p.query.direct != nil
}

// Tag is the command tag for n rows.
func (p *Plan) Tag(n int64) string {
	switch p.kind {
	case kindInsert:
		return "INSERT 0 " + strconv.FormatInt(n, 10)
	case kindUpdate:
		return "UPDATE " + strconv.FormatInt(n, 10)
	case kindDelete:
		return "DELETE " + strconv.FormatInt(n, 10)
	case kindExplain:
		return "EXPLAIN"
	}
	return "SELECT " + strconv.FormatInt(n, 10)
}

// String is the plan as EXPLAIN prints it: one operator per line, children
// indented under their parent.
func (p *Plan) String() string {
	var sb strings.Builder
	switch p.kind {
	case kindQuery:
		p.query.explain(&sb, 0)
	case kindExplain:
		return p.explain.String()
	default:
		p.dml.explain(&sb)
	}
	for i, s := range p.subs {
		fmt.Fprintf(&sb, "SubPlan $subquery%d\n", i+1)
		s.explain(&sb, 1)
	}
	return sb.String()
}
