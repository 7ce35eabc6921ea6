// Package planner binds statements against the catalog, types their
// expressions and builds plans: data with a String (EXPLAIN prints it) that
// Run turns into an executor dataflow graph.
//
// A query plan is a tree of relational nodes (scan, values, filter,
// project, join, aggregate, distinct, top-N, set operations). Run builds
// the executor's changelog operators from it, pushes the scanned base rows
// in as insertions, flushes once and integrates the output: the same
// operators the incremental engine keeps alive over changes. A top-level
// ORDER BY / LIMIT is a final sort of the integrated output; below the top
// they are a TopN operator.
//
// Subqueries are dataflow too (see subquery.go): correlated ones are
// decorrelated on the equalities of their WHERE into semi/anti joins and
// left joins with grouped aggregates, uncorrelated ones are joins with a
// one-row aggregate, so one plan serves a pull query and a view.
// Plan.Incremental reports the few forms still computed once per Run.
//
// Binding resolves names (42P01, 42703, 42702), resolves functions and
// operators through funcs.Resolve with implicit casts made explicit, infers
// parameter types from context, and checks aggregate placement (42803).
package planner
