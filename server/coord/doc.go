// Package coord is the coordinator: it owns the catalog, runs DDL, opens
// transactions on storage, plans statements with the planner and runs them
// with the executor. It implements server.Engine, so that the server stays a
// thin protocol layer: server decodes messages and calls a Session here;
// nothing here knows about pgwire.
//
// Lock order: Coordinator.mu (catalog) is never held while a storage
// transaction commits, except in DDL, which takes ddlMu first, then mu.
package coord
