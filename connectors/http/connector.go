package http

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"maps"
	"math"
	nethttp "net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/connectors/format"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/sqlerr"
)

// Connector is the http connector: it opens the sinks of statements
// WITH (connector = 'http', ...).
type Connector struct {
	Logger *slog.Logger
}

var _ executor.Connector = (*Connector)(nil)

// OpenSource implements executor.Connector: there are no HTTP sources.
func (c *Connector) OpenSource(context.Context, executor.SourceConfig) (executor.Source, error) {
	return nil, sqlerr.Unsupported("HTTP sources: use POST /v1/ingest/<table>").
		WithHint("Create a table without a connector and send its rows as NDJSON to the server's /v1/ingest/<table> endpoint.")
}

// Defaults of the options.
const (
	defaultMaxRows = 500
	defaultTimeout = 10 * time.Second
	defaultRetries = 8
	defaultBackoff = 200 * time.Millisecond
	// maxBackoff caps a backoff and a Retry-After (unless retry.backoff
	// itself is longer).
	maxBackoff = 30 * time.Second
)

func optionError(format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.InvalidParameterValue, format, args...)
}

// options are WITH options not read yet: each read takes its key out, so
// that what is left is unknown.
type options map[string]string

func (o options) take(k string) string {
	v := o[k]
	delete(o, k)
	return v
}

func (o options) unknown() error {
	if len(o) == 0 {
		return nil
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return optionError("unknown option \"%s\" for an http sink", keys[0]).
		WithHint("Options: url, method, format, batch.max_rows, batch.format, batch.linger, timeout, retry.max, retry.backoff, headers.<name>, tls.ca, tls.cert, tls.key, tls.insecure_skip_verify.")
}

// int reads a whole number of at least min.
func (o options) int(k string, def, min int) (int, error) {
	v := o.take(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < min {
		return 0, optionError("invalid value for option %s: \"%s\"", k, v).WithHint("Give a whole number of at least %d.", min)
	}
	return n, nil
}

// duration reads a positive duration: Go's syntax, or milliseconds.
func (o options) duration(k string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(o.take(k))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if ms, merr := strconv.ParseInt(v, 10, 64); merr == nil {
		d, err = time.Duration(ms)*time.Millisecond, nil
		if ms > math.MaxInt64/int64(time.Millisecond) {
			err = strconv.ErrRange
		}
	}
	if err != nil || d <= 0 {
		return 0, optionError("invalid value for option %s: \"%s\"", k, v).WithHint("Give a positive duration such as '200ms', '10s' or '1m', or a number of milliseconds.")
	}
	return d, nil
}

// lingerDuration reads a duration that may be zero (the default).
func (o options) lingerDuration(k string) (time.Duration, error) {
	if v := strings.TrimSpace(o[k]); v == "0" || v == "0s" || v == "0ms" {
		o.take(k)
		return 0, nil
	}
	return o.duration(k, 0)
}

func (o options) bool(k string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(o.take(k))); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, optionError("invalid value for option %s: \"%s\"", k, v).WithHint("Give true or false.")
	}
}

// setByTheSink are the headers every request gets from the sink.
var setByTheSink = []string{"Content-Type", "Content-Length", "Transfer-Encoding", "Host", "Connection", "Idempotency-Key", hdrSink, hdrEpoch, hdrBatch}

// headers reads headers.<name> options into a header. Neither errors nor
// anything else name the values, which may be secrets.
func (o options) headers() (nethttp.Header, error) {
	h := nethttp.Header{}
	for k, v := range o {
		name, ok := strings.CutPrefix(k, "headers.")
		if !ok {
			continue
		}
		delete(o, k)
		if !validHeaderName(name) {
			return nil, optionError("option %s: \"%s\" is not a valid HTTP header name", k, name)
		}
		name = nethttp.CanonicalHeaderKey(name)
		if slices.ContainsFunc(setByTheSink, func(s string) bool { return strings.EqualFold(s, name) }) {
			return nil, optionError("option %s: the sink sets header %s itself", k, name)
		}
		if !validHeaderValue(v) {
			return nil, optionError("option %s: a header value cannot hold control characters such as line breaks", k)
		}
		h.Set(name, v)
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || c <= ' ' || strings.IndexByte("\"(),/:;<=>?@[\\]{}\x7f", c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v holds no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// tlsConfig reads the tls.* options; nil when there are none.
func (o options) tlsConfig() (*tls.Config, error) {
	ca, cert, key := o.take("tls.ca"), o.take("tls.cert"), o.take("tls.key")
	insecure, err := o.bool("tls.insecure_skip_verify")
	if err != nil {
		return nil, err
	}
	if ca == "" && cert == "" && key == "" && !insecure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, optionError("option tls.ca: %s", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, optionError("option tls.ca: \"%s\" holds no PEM certificate", ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, optionError("options tls.cert and tls.key go together").WithHint("Give the client certificate's PEM file and its key's.")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, optionError("client certificate (tls.cert, tls.key): %s", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// OpenSink implements executor.Connector. It checks the options and
// reads the TLS files; it does not reach the endpoint (a sink created
// while its receiver is down delivers once it is up).
func (c *Connector) OpenSink(ctx context.Context, cfg executor.SinkConfig) (executor.Sink, error) {
	o := options(maps.Clone(cfg.Options))
	o.take("connector")
	o.take("key") // the engine's: cfg.Key
	s := &sink{name: cfg.Name, id: uint64(cfg.Relation.ID), log: cfg.Logger, sleep: sleep}
	if s.log == nil {
		s.log = c.Logger
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	raw := o.take("url")
	if raw == "" {
		return nil, optionError("missing option \"url\"").WithHint("Name the endpoint: url = 'https://host/path'.")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The url is not repeated: it may hold a token.
		return nil, optionError("invalid value for option url: want an absolute http:// or https:// URL")
	}
	s.url = u.String()
	switch m := strings.ToUpper(o.take("method")); m {
	case "":
		s.method = nethttp.MethodPost
	case nethttp.MethodPost, nethttp.MethodPut, nethttp.MethodPatch:
		s.method = m
	default:
		return nil, optionError("invalid value for option method: \"%s\"", m).WithHint("Methods: POST, PUT, PATCH.")
	}
	if f := strings.ToLower(o.take("format")); f != "" && f != "json" {
		return nil, optionError("an http sink cannot write format \"%s\"", f).WithHint("Format: json.")
	}
	switch f := strings.ToLower(o.take("batch.format")); f {
	case "", "array":
	case "ndjson":
		s.ndjson = true
	default:
		return nil, optionError("invalid value for option batch.format: \"%s\"", f).WithHint("Batch formats: array (a JSON array), ndjson (one change per line).")
	}
	if s.maxRows, err = o.int("batch.max_rows", defaultMaxRows, 1); err != nil {
		return nil, err
	}
	if s.linger, err = o.lingerDuration("batch.linger"); err != nil {
		return nil, err
	}
	if s.timeout, err = o.duration("timeout", defaultTimeout); err != nil {
		return nil, err
	}
	if s.retries, err = o.int("retry.max", defaultRetries, 0); err != nil {
		return nil, err
	}
	if s.backoff, err = o.duration("retry.backoff", defaultBackoff); err != nil {
		return nil, err
	}
	s.maxBackoff = max(maxBackoff, s.backoff)
	if s.header, err = o.headers(); err != nil {
		return nil, err
	}
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil && u.Scheme != "https" {
		return nil, optionError("tls options need an https:// url")
	}
	if err := o.unknown(); err != nil {
		return nil, err
	}
	cols := make([]format.Column, len(cfg.Relation.Columns))
	for i, col := range cfg.Relation.Columns {
		cols[i] = format.Column{Name: col.Name, Type: col.Type}
	}
	s.enc = format.NewJSONEncoder(cols)
	s.contentType = "application/json"
	if s.ndjson {
		s.contentType = "application/x-ndjson"
	}
	t := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	t.TLSClientConfig = tlsCfg
	s.client = &nethttp.Client{Transport: t, CheckRedirect: checkRedirect}
	return s, nil
}

// checkRedirect follows 307 and 308 only, which resend the same method
// and body; a 301, 302 or 303 would turn the request into a GET without
// the changes, whose 2xx would count as delivered.
func checkRedirect(req *nethttp.Request, via []*nethttp.Request) error {
	if len(via) >= 10 {
		return nethttp.ErrUseLastResponse
	}
	switch req.Response.StatusCode {
	case nethttp.StatusTemporaryRedirect, nethttp.StatusPermanentRedirect:
		return nil
	}
	return nethttp.ErrUseLastResponse
}
