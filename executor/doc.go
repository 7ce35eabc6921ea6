// Package executor runs Weir's queries: the bound expression language and
// its compiler to closures, the changelog operators, and the dataflow graph
// that connects them.
//
// Relations are changelogs. Operators exchange a *Batch of rows with signed
// weights (+1 insert, -1 delete) through Push, and emit what they
// accumulated during an epoch at Flush. A Graph owns a set of operators in
// topological order and flushes them in that order. The same graph serves
// two modes: a pull query pushes a snapshot of its inputs as +1 batches,
// flushes once and integrates the output (Integrate); the incremental engine
// keeps the graph alive and pushes every change of its inputs into it.
//
// Operator state is explicit (hash maps keyed by types.AppendKey bytes) and
// holds what is needed to retract: aggregates keep running sums with
// counts and MIN/MAX keep ordered multisets (the next extreme in O(log n)),
// joins keep both sides indexed by key, then by row, with multiplicities and outer-join match counts, DISTINCT keeps counts.
//
// Nothing here is safe for concurrent use: a graph is driven by one
// goroutine at a time. The one place work runs in parallel is inside a
// Partitioned operator: its shards (instances of a keyed stateful operator,
// each owning a partition of the keys) run on goroutines it starts and
// waits for itself, at the latest in its Flush, and what they emit goes
// downstream on the driving goroutine.
package executor
