package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// This file holds what the endpoints of the HTTP API (/v1/...) share:
// tracking them for Shutdown, bearer-token authentication, and errors as
// JSON. Every answer of the API is JSON, errors included:
//
//	{"error": {"code": "42P01", "message": "...", "detail": "...", "hint": "...", "position": 15}}
//
// with the SQLSTATE of the error as pgwire reports it; problems with the
// request itself (a malformed body, an unknown path or method) are 08P01,
// a missing or wrong token 28000, a body over the limit 54000.

// maxAPIBody bounds the body of an API request: 16 MiB.
const maxAPIBody = 16 << 20

// apiUser is the user name of the sessions the API opens.
const apiUser = "http"

// errRequest is the code of a request the API cannot read.
const errRequest = sqlerr.ProtocolViolation

// apiHandler serves one API endpoint, which only methods reach (POST
// when none are given): it runs serve with a context that a client gone
// or a forced shutdown cancels, with the body bounded by maxAPIBody, as
// work Shutdown waits for. A panic answers 500 (and is logged) instead of
// cutting the connection.
func (s *Server) apiHandler(serve func(ctx context.Context, w http.ResponseWriter, r *http.Request), methods ...string) http.HandlerFunc {
	if len(methods) == 0 {
		methods = []string{http.MethodPost}
	}
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", allow)
			writeAPIError(w, http.StatusMethodNotAllowed, sqlerr.New(errRequest, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
			return
		}
		s.mu.Lock()
		if s.shutdown {
			s.mu.Unlock()
			writeAPIError(w, http.StatusServiceUnavailable, sqlerr.New(sqlerr.AdminShutdown, "the server is shutting down"))
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()

		ctx, cancel := context.WithCancelCause(r.Context())
		stop := context.AfterFunc(s.base, func() { cancel(context.Cause(s.base)) })
		defer stop()
		defer cancel(nil)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving HTTP API request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeAPIError(w, http.StatusInternalServerError, sqlerr.New(sqlerr.InternalError, "internal error: %v", p))
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		serve(ctx, w, r)
	}
}

// apiSession opens the session of one request, as user apiUser; false
// when it could not (and the error is answered). The caller closes it.
func (s *Server) apiSession(ctx context.Context, w http.ResponseWriter) (Session, bool) {
	sess, err := s.eng.NewSession(ctx, map[string]string{"user": apiUser, "application_name": apiUser})
	if err != nil {
		e := sqlerr.From(err)
		writeAPIError(w, apiStatus(e), e)
		return nil, false
	}
	return sess, true
}

// bodyError is the error of a request body that could not be read.
func bodyError(err error) (int, *sqlerr.Error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, sqlerr.New(sqlerr.ProgramLimitExceeded, "request body exceeds %d bytes", tooBig.Limit)
	}
	return http.StatusBadRequest, sqlerr.New(errRequest, "reading the request body: %v", err)
}

// apiStatus is the HTTP status of a statement's error: 500 for the
// server's own faults (XX internal, 58 system), 503 for an error that
// goes away by itself (57P01 shutdown, 53 insufficient resources), 400
// for everything else (the statement's fault).
func apiStatus(e *sqlerr.Error) int {
	code := string(e.Code)
	switch {
	case strings.HasPrefix(code, "XX"), strings.HasPrefix(code, "58"), len(code) != 5:
		return http.StatusInternalServerError
	case e.Code == sqlerr.AdminShutdown, strings.HasPrefix(code, "53"):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// appendErrorJSON appends e as the API's error object.
func appendErrorJSON(buf []byte, e *sqlerr.Error) []byte {
	code := string(e.Code)
	if len(code) != 5 {
		code = string(sqlerr.InternalError)
	}
	buf = append(buf, `{"code":`...)
	buf = types.AppendJSONString(buf, code)
	buf = append(buf, `,"message":`...)
	buf = types.AppendJSONString(buf, e.Message)
	if e.Detail != "" {
		buf = append(buf, `,"detail":`...)
		buf = types.AppendJSONString(buf, e.Detail)
	}
	if e.Hint != "" {
		buf = append(buf, `,"hint":`...)
		buf = types.AppendJSONString(buf, e.Hint)
	}
	if e.Position > 0 {
		buf = append(buf, `,"position":`...)
		buf = strconv.AppendInt(buf, int64(e.Position), 10)
	}
	return append(buf, '}')
}

// writeAPIError answers {"error": e} with status.
func writeAPIError(w http.ResponseWriter, status int, e *sqlerr.Error) {
	buf := append([]byte(`{"error":`), appendErrorJSON(nil, e)...)
	writeJSON(w, status, append(buf, '}'))
}

// writeJSON answers body, a JSON document, with status.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// requireToken lets through only requests that carry "Authorization:
// Bearer <token>", but for the health endpoints, which probes reach
// without credentials. GET /v1/subscribe also takes the token as
// ?access_token=<token> (RFC 6750's URI query parameter): a browser's
// EventSource cannot set a header. A URL is more exposed than a header
// (proxies' access logs, the browser's history), which is why no other
// endpoint takes it; the parameter is removed once checked. The
// comparison takes the same time whatever the token given (SHA-256
// digests compared in constant time, so that not even the length leaks).
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, given, _ := strings.Cut(auth, " ")
		given, bearer, presented := strings.TrimSpace(given), strings.EqualFold(scheme, "Bearer"), auth != ""
		if q := r.URL.Query(); r.Method == http.MethodGet && r.URL.Path == "/v1/subscribe" && q.Has("access_token") {
			if !presented {
				given, bearer, presented = q.Get("access_token"), true, true
			}
			q.Del("access_token")
			r.URL.RawQuery = q.Encode()
		}
		got := sha256.Sum256([]byte(given))
		ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1
		if !bearer || !ok {
			challenge := `Bearer realm="weir"`
			msg := "this endpoint needs a bearer token: send Authorization: Bearer <token>"
			if presented {
				challenge += `, error="invalid_token"`
				msg = "invalid bearer token"
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeAPIError(w, http.StatusUnauthorized, sqlerr.New(sqlerr.InvalidAuthorization, "%s", msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// What a page of an allowed origin may use of the /v1 API.
const (
	corsMethods = "GET, POST"
	corsHeaders = "Authorization, Content-Type, Accept, Last-Event-ID"
	corsMaxAge  = "600" // seconds a browser may keep a preflight's answer
)

// allowOrigins answers CORS for the /v1 API: a preflight (OPTIONS with
// Access-Control-Request-Method) from an allowed origin gets 204 with the
// methods and headers the API takes, from another origin 403; any other
// request from an allowed origin gets Access-Control-Allow-Origin, so
// that the page may read the answer. origins holds scheme://host[:port]
// values, or "*" for any (then sent as "*": the API uses no cookies).
func allowOrigins(origins []string, next http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !strings.HasPrefix(r.URL.Path, "/v1/") || origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := anyOrigin || slices.Contains(origins, origin)
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if allowed {
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			writeAPIError(w, http.StatusForbidden, sqlerr.New(sqlerr.InvalidAuthorization, "origin %s may not call this API", origin).
				WithHint("Start the server with --http-allow-origin listing it."))
			return
		}
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}

// validOrigin reports whether s is an origin as browsers send it:
// scheme://host[:port], nothing after.
func validOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil &&
		s == u.Scheme+"://"+u.Host
}
