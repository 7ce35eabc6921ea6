package executor

// Stateful is implemented by operators that keep state across epochs, so
// that a live dataflow's state can be written to storage with each epoch
// and restored at startup instead of being recomputed from the inputs.
//
// State changes are tracked only once TrackState was called (by
// Graph.TrackState, before the first Push): pull queries and push-query
// subscriptions, which never save, pay nothing for it. SaveDirty calls put
// for every state entry changed since the last SaveDirty (since
// TrackState, the first time): value nil deletes the entry. key
// and value are valid only during put (put copies what it keeps). It
// allocates nothing per entry beyond its reused encoding buffers. Call it
// after Flush: state pushed but not yet flushed is not complete.
//
// Restore loads one entry written by SaveDirty into a freshly built
// operator (same definition, nothing pushed); entries come in any order,
// each key once. After the last entry, FinishRestore (if the operator
// implements RestoreFinisher) rebuilds what is derived from the entries.
// An error means the saved state cannot be used (corrupt or from another
// definition); the caller then rebuilds the operator from its inputs.
type Stateful interface {
	Operator
	TrackState()
	SaveDirty(put func(key, value []byte) error) error
	Restore(key, value []byte) error
}

// TrackState implements Stateful.
func (a *Aggregate) TrackState() { a.track = true }

// TrackState implements Stateful.
func (j *HashJoin) TrackState() { j.track = true }

// TrackState implements Stateful.
func (d *Distinct) TrackState() { d.track = true }

// TrackState implements Stateful.
func (t *TopN) TrackState() { t.track = true }

// TrackState implements Stateful.
func (s *SetOp) TrackState() { s.track = true }

// TrackState makes every stateful operator of g track its changes for
// SaveDirty. Call it before the first Push.
func (g *Graph) TrackState() {
	for _, op := range g.ops {
		if s, ok := op.(Stateful); ok {
			s.TrackState()
		}
	}
}

// RestoreFinisher is implemented by stateful operators that derive part of
// their state from all restored entries together (a top-N's emitted rows).
type RestoreFinisher interface {
	FinishRestore() error
}

// Stateful returns the graph's stateful operators with their index in the
// graph: a stable operator id as long as the graph is built from the same
// plan.
func (g *Graph) Stateful() (ids []int, ops []Stateful) {
	for i, op := range g.ops {
		if s, ok := op.(Stateful); ok {
			ids = append(ids, i)
			ops = append(ops, s)
		}
	}
	return ids, ops
}
