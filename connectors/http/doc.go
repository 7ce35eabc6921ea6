// Package http is the http connector: a sink that delivers a relation's
// changes to an HTTP endpoint (a webhook), in batches, at least once,
// with an idempotency key that lets the receiver make it exactly once.
// It has no source: rows come in through the server's POST
// /v1/ingest/<table>.
//
// # Options
//
//	url                        http:// or https:// endpoint (required)
//	method                     POST (default), PUT or PATCH
//	format                     json (the only one)
//	batch.max_rows             changes per request (default 500)
//	batch.format               array (a JSON array, default) or ndjson
//	batch.linger               how long an epoch may wait to share a request with the next ones (default 0: never)
//	timeout                    per request, response body included (default 10s)
//	retry.max                  retries of a request after its first attempt (default 8)
//	retry.backoff              first backoff (default 200ms), doubling, capped at 30s
//	headers.<Name>             a header sent with every request (any number)
//	tls.ca                     PEM file of the CAs to trust (default: the system's)
//	tls.cert, tls.key          PEM client certificate and its key
//	tls.insecure_skip_verify   true to trust any server certificate (default false)
//
// Durations are Go's ('200ms', '1m30s') or a number of milliseconds.
// Header values may hold secrets (the engine substitutes ${secret:name}
// before the connector sees them): they are never logged or put in an
// error, nor is the url, which may hold a token too. The headers the sink
// sets itself (Content-Type, Idempotency-Key, X-Weir-*) cannot be given.
//
// # Batching
//
// The unit of delivery is the engine's epoch, or with batch.linger a run
// of consecutive epochs. Write gets one epoch's changes and sends them as
// requests of at most batch.max_rows changes, one after another, in
// order, so a key's changes arrive in the order the epochs made them.
// Each change is one JSON object
//
//	{"op":"insert"|"update"|"delete","before":{...}|null,"after":{...}|null}
//
// with the rows' columns by name, encoded as the Kafka sink's JSON is
// (format.JSONEncoder: PostgreSQL's to_json). A request body is a JSON
// array of them (Content-Type application/json) or one per line
// (application/x-ndjson).
//
// With batch.linger 0 (the default) an epoch's changes are sent as soon
// as the epoch is durable, in requests of their own. A workload that
// commits many small epochs (one per INSERT) then pays one round trip
// per epoch, and a slow receiver caps the epochs delivered per second.
// With batch.linger > 0 the sink is an executor.MergingSink: the engine
// merges consecutive epochs into one request while their changes fit in
// batch.max_rows, waiting at most batch.linger after the first for more
// (an epoch larger than batch.max_rows goes alone, split as above). The
// engine records which epochs a request covers, durably, before its first
// attempt, and after a restart sends exactly that request again first:
// the same changes never come under two idempotency keys, and a key never
// names two different bodies. That record costs one fsync per request.
//
// # Delivery
//
// Every request carries Idempotency-Key: weir-<sink id>-<epochs>-<batch>,
// from the sink's object id, the epoch's sequence number (which survives
// restarts), or first..last for merged epochs, and the batch's index in
// the epoch: the same changes get the same key on every retry, Write
// retried by the engine, and after a restart. X-Weir-Sink (the sink's
// name), X-Weir-Epoch (the epoch, or first..last) and X-Weir-Batch carry
// the same facts. Delivered reports nothing: the engine resumes after the
// last epoch its own log records as acknowledged, so an epoch whose
// delivery a crash interrupted is sent again, whole (with batch.linger,
// the same epochs as before).
//
// A 2xx answer delivers a request. 5xx, 408, 429 (after Retry-After, in
// seconds or as a date, when given, capped at 30s), timeouts and network
// errors are retried, with exponential backoff and full jitter, up to
// retry.max times; other answers (4xx, 3xx other than the 307/308
// redirects, which are followed) are final. A request that cannot be
// delivered — refused for good, or failing past its retries — becomes a
// dead letter (the body, its key, the last status, the first KiB of the
// last response body or the error, the attempts), the epoch's later
// batches are still sent, and Write returns them in an
// *executor.DeadLettersError: the engine records them in <sink>_dead_letters
// and goes on. So an endpoint that is down for longer than the retries
// last fills the dead-letter relation rather than stopping the sink; the
// retries (8 by default) span about half a minute. Resend sends a letter
// again, as it was, with the same retries.
//
// Write returns as soon as its context is done (in a request or a
// backoff), with the context's error: the engine retries the epoch whole.
// Health reports the last failed attempt until a request succeeds.
package http
