package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirdb/weir/connectors/format"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// The headers that tell a request's place in the sink's changes, besides
// Idempotency-Key.
const (
	hdrSink  = "X-Weir-Sink"
	hdrEpoch = "X-Weir-Epoch"
	hdrBatch = "X-Weir-Batch"
)

// maxExcerpt bounds the response body a dead letter keeps; maxDrain the
// rest that is read so that the connection can serve the next request.
const (
	maxExcerpt = 1 << 10
	maxDrain   = 64 << 10
)

// sink is an http sink (executor.Sink). Its configuration is set by
// OpenSink and never changes. Write is called from one goroutine;
// Resend and Health may be called from others at the same time.
type sink struct {
	name                     string
	id                       uint64 // the sink's object id, in idempotency keys
	url, method, contentType string
	header                   nethttp.Header // headers.<name> options
	ndjson                   bool
	maxRows                  int
	linger                   time.Duration // batch.linger: how long epochs may wait to be merged
	timeout                  time.Duration
	retries                  int
	backoff, maxBackoff      time.Duration
	enc                      *format.JSONEncoder
	client                   *nethttp.Client
	log                      *slog.Logger
	// sleep waits d, or until ctx is done (tests record the waits).
	sleep func(ctx context.Context, d time.Duration) error

	lastSize int // of the last batch's body, to size the next; Write's

	mu     sync.Mutex
	health error // the last failed attempt; nil after a delivery
}

var (
	_ executor.MergingSink    = (*sink)(nil)
	_ executor.Resender       = (*sink)(nil)
	_ executor.HealthReporter = (*sink)(nil)
)

// Delivered implements executor.Sink: an endpoint cannot say what it
// holds, so the engine resumes after what its log records as
// acknowledged.
func (s *sink) Delivered(context.Context) (uint64, bool, error) { return 0, false, nil }

// Write implements executor.Sink: it sends changes in requests of at most
// maxRows changes, in order. It returns nil when all were delivered, an
// *executor.DeadLettersError holding those that could not be, or ctx's
// error (the engine then retries the epoch whole).
func (s *sink) Write(ctx context.Context, seq uint64, changes []executor.Change) error {
	return s.write(ctx, strconv.FormatUint(seq, 10), changes)
}

// MergeLimits implements executor.MergingSink: a merged delivery is one
// request.
func (s *sink) MergeLimits() (int, time.Duration) { return s.maxRows, s.linger }

// WriteEpochs implements executor.MergingSink: Write, for the epochs
// first through last, whose requests are named "<first>..<last>".
func (s *sink) WriteEpochs(ctx context.Context, first, last uint64, changes []executor.Change) error {
	return s.write(ctx, strconv.FormatUint(first, 10)+".."+strconv.FormatUint(last, 10), changes)
}

// write sends the changes of epochs, an epoch's number or a range of
// them, as Write says.
func (s *sink) write(ctx context.Context, epochs string, changes []executor.Change) error {
	var letters []executor.DeadLetter
	for i := 0; len(changes) > 0; i++ {
		n := min(len(changes), s.maxRows)
		// A new body per request: the transport may still read the last
		// one after Do returns, and a dead letter keeps its own.
		body, err := s.encode(make([]byte, 0, s.lastSize+s.lastSize/8), changes[:n])
		if err != nil {
			return err
		}
		s.lastSize = len(body)
		changes = changes[n:]
		batch := strconv.Itoa(i)
		l := executor.DeadLetter{Payload: body, Key: idempotencyKey(s.id, epochs, batch)}
		delivered, err := s.send(ctx, &l, epochs, batch)
		if err != nil {
			return err
		}
		if !delivered {
			s.log.Warn("http sink: request not delivered, kept as a dead letter", "key", l.Key, "status", l.Status, "attempts", l.Attempts)
			letters = append(letters, l)
		}
	}
	if letters != nil {
		return &executor.DeadLettersError{Letters: letters}
	}
	return nil
}

// Resend implements executor.Resender: it sends l again with its key and
// the same retries as Write. l.Attempts counts the attempts over the
// letter's life.
func (s *sink) Resend(ctx context.Context, l *executor.DeadLetter) error {
	epoch, batch := keyParts(l.Key)
	delivered, err := s.send(ctx, l, epoch, batch)
	if err != nil {
		return err
	}
	if !delivered {
		return fmt.Errorf("http sink %q: %s not delivered: %s", s.name, l.Key, summary(l.Status, l.Response))
	}
	return nil
}

// Health implements executor.HealthReporter.
func (s *sink) Health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

func (s *sink) setHealth(err error) {
	s.mu.Lock()
	s.health = err
	s.mu.Unlock()
}

// Close implements executor.Sink.
func (s *sink) Close() { s.client.CloseIdleConnections() }

// idempotencyKey names a request by what it holds, so that it is the
// same on every retry and after a restart, and two requests of different
// content never share it: epochs is one epoch's number or first..last.
func idempotencyKey(sinkID uint64, epochs, batch string) string {
	return "weir-" + strconv.FormatUint(sinkID, 10) + "-" + epochs + "-" + batch
}

// keyParts returns the epochs and batch an idempotency key names ("" for
// a key of another form).
func keyParts(key string) (epoch, batch string) {
	parts := strings.Split(key, "-")
	if len(parts) != 4 || parts[0] != "weir" {
		return "", ""
	}
	return parts[2], parts[3]
}

// encode appends changes to buf as a JSON array or NDJSON.
func (s *sink) encode(buf []byte, changes []executor.Change) ([]byte, error) {
	if !s.ndjson {
		buf = append(buf, '[')
	}
	for i := range changes {
		c := &changes[i]
		if i > 0 && !s.ndjson {
			buf = append(buf, ',')
		}
		var op string
		switch c.Op {
		case executor.ChangeInsert:
			op = `{"op":"insert","before":`
		case executor.ChangeUpdate:
			op = `{"op":"update","before":`
		case executor.ChangeDelete:
			op = `{"op":"delete","before":`
		default:
			return nil, fmt.Errorf("http sink %q: cannot write a %s change", s.name, c.Op)
		}
		buf = append(buf, op...)
		var err error
		if buf, err = s.appendRow(buf, c.Before, c.Op != executor.ChangeInsert); err != nil {
			return nil, err
		}
		buf = append(buf, `,"after":`...)
		if buf, err = s.appendRow(buf, c.After, c.Op != executor.ChangeDelete); err != nil {
			return nil, err
		}
		buf = append(buf, '}')
		if s.ndjson {
			buf = append(buf, '\n')
		}
	}
	if !s.ndjson {
		buf = append(buf, ']')
	}
	return buf, nil
}

func (s *sink) appendRow(buf []byte, row types.Row, set bool) ([]byte, error) {
	if !set {
		return append(buf, "null"...), nil
	}
	return s.enc.AppendRow(buf, row)
}

// send delivers l.Payload, retrying what may succeed later. It returns
// true once delivered; false when it gave up, with l's Status, Response
// and Attempts saying why; or ctx's error.
func (s *sink) send(ctx context.Context, l *executor.DeadLetter, epoch, batch string) (bool, error) {
	for retry := 0; ; retry++ {
		l.Attempts++
		a := s.attempt(ctx, l, epoch, batch)
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if a.delivered {
			s.setHealth(nil)
			return true, nil
		}
		l.Status, l.Response = a.status, a.response
		s.setHealth(fmt.Errorf("http sink %q: %s (attempt %d): %s", s.name, l.Key, l.Attempts, summary(a.status, a.response)))
		if !a.retryable || retry >= s.retries {
			return false, nil
		}
		wait := s.jitter(retry)
		if a.retryAfter >= 0 {
			wait = min(a.retryAfter, s.maxBackoff)
		}
		s.log.Debug("http sink: retrying", "key", l.Key, "status", a.status, "in", wait)
		if err := s.sleep(ctx, wait); err != nil {
			return false, err
		}
	}
}

// answer is the outcome of one attempt.
type answer struct {
	delivered, retryable bool
	status               int    // 0 when there was no response
	response             string // an excerpt of the body, or the error
	retryAfter           time.Duration
}

// attempt sends one request and reads its answer, all within s.timeout.
func (s *sink) attempt(ctx context.Context, l *executor.DeadLetter, epoch, batch string) answer {
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(actx, s.method, s.url, bytes.NewReader(l.Payload))
	if err != nil {
		return answer{response: "cannot build the request", retryAfter: -1}
	}
	req.Header = s.header.Clone()
	req.Header.Set("Content-Type", s.contentType)
	req.Header.Set("Idempotency-Key", l.Key)
	req.Header.Set(hdrSink, s.name)
	if epoch != "" {
		req.Header.Set(hdrEpoch, epoch)
		req.Header.Set(hdrBatch, batch)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{retryable: true, response: s.describe(actx, err), retryAfter: -1}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		return answer{delivered: true}
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	a := answer{status: resp.StatusCode, response: text(excerpt), retryAfter: -1}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == nethttp.StatusRequestTimeout, resp.StatusCode == nethttp.StatusTooManyRequests:
		a.retryable = true
		a.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return a
}

// describe says what went wrong with a request that got no response.
func (s *sink) describe(actx context.Context, err error) string {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no response within %s (option timeout)", s.timeout)
	}
	// A *url.Error names the url, which may hold a token.
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return err.Error()
}

// text makes a response excerpt fit a text column: valid UTF-8 (the
// excerpt may end inside a character), no NULs.
func text(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// summary is one line about a failed attempt, for errors and health.
func summary(status int, response string) string {
	if status == 0 {
		return response
	}
	s := fmt.Sprintf("HTTP %d %s", status, nethttp.StatusText(status))
	if line, _, _ := strings.Cut(response, "\n"); line != "" {
		if len(line) > 200 {
			line = strings.ToValidUTF8(line[:200], "") + "..."
		}
		s += ": " + line
	}
	return s
}
