// Package server is Weir's front door: it speaks the PostgreSQL wire protocol
// (version 3.0, through pgproto3) to clients and serves HTTP: the API
// (/v1/sql, /v1/ingest: JSON and NDJSON; /v1/subscribe: push queries as
// Server-Sent Events or NDJSON; http*.go) and the operational
// endpoints (/healthz, /readyz, /metrics). It owns no SQL semantics: it decodes
// messages, calls the Engine (engine.go), and encodes what comes back —
// rows, command tags, COPY streams, and *sqlerr.Error values as
// ErrorResponse. It is the only package that imports pgproto3.
//
// One goroutine serves each connection (conn.go), with one helper goroutine
// that reads the socket so that a client that disconnects mid-statement
// cancels that statement's context. Server owns both and waits for them in
// Shutdown.
package server
