package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// fuzzAPI is a started Server over the fake engine whose API handler the
// fuzzers call directly.
func fuzzAPI(f *testing.F) http.Handler {
	srv, err := New(Options{PGAddr: "127.0.0.1:0"}, &fakeEngine{noPanic: true})
	if err != nil {
		f.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.httpHandler()
}

// checkAnswer fails unless the answer is JSON with a status the API gives.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, statuses ...int) {
	t.Helper()
	if !slices.Contains(statuses, rec.Code) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("answer is not JSON: %q", rec.Body)
	}
}

// FuzzSQLRequest sends arbitrary bodies to POST /v1/sql (statements of
// the fake engine, each bounded by a timeout): every answer is JSON with
// 200, 400, 500 or 503.
func FuzzSQLRequest(f *testing.F) {
	h := fuzzAPI(f)
	f.Add("application/json", []byte(`{"sql": "add $1 $2", "params": [1, "2"]}`))
	f.Add("application/json", []byte(`{"sql": "echo $1", "params": [{"a": [1, null]}]}`))
	f.Add("application/json", []byte(`{"sql": "rows 2; notice", "params": []}`))
	f.Add("application/json", []byte(`{"sql": "rows 1"} {}`))
	f.Add("application/json", []byte(`{"sql": null, "params": "x"}`))
	f.Add("", []byte("rows 3; nulls; fail 42P01"))
	f.Add("text/plain; charset=utf-8", []byte("begin; insert; copy in"))
	f.Add("", []byte(` {"sql": "ts"}`))
	f.Add("application/x-www-form-urlencoded", []byte("notice; syntax"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if bytes.Contains(body, []byte("progress")) || bytes.Count(body, []byte("rows")) > 2 || len(body) > 512 {
			// The fake engine's progress N sends N notices, and rows N
			// statements make results of megabytes: slow (the fuzzer
			// spends minutes minimizing such inputs), not interesting.
			t.Skip()
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/sql?timeout=5ms", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 200, 400, 500, 503)
	})
}

// FuzzIngest sends arbitrary bodies to POST /v1/ingest/t, and decodes
// each line on its own: every answer is JSON with 200, 400 or 500, and
// every line read gives its columns in order with one value each.
func FuzzIngest(f *testing.F) {
	h := fuzzAPI(f)
	f.Add([]byte("{\"id\": 1, \"v\": \"a\"}\n{\"ID\": \"2\"}\n\n{\"id\": 13}\n"))
	f.Add([]byte(`{"v": {"nested": [true, null]}, "id": -0}`))
	f.Add([]byte("[1]\n\"x\"\nnull\n{\"id\": 1.5}\n{\"id\": 1, \"id\": 2}\n{\"w\": 1}\n{\"id\": 666}"))
	f.Add([]byte(`{"v": "\u00e9\ud83d\ude00\\"}`))
	f.Add([]byte("{\"id\":\n1}\r\n{} "))
	dec := newRowDecoder("t", (&fakeIngest{}).Columns(), nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/ingest/t", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 200, 400, 500)

		for line := range bytes.SplitSeq(body, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			cols, row, err := dec.decode(line)
			if err != nil {
				if len(err.Code) != 5 {
					t.Fatalf("%q: error without a SQLSTATE: %v", line, err)
				}
				continue
			}
			if len(cols) != len(row) || !slices.IsSorted(cols) || len(slices.Compact(slices.Clone(cols))) != len(cols) {
				t.Fatalf("%q: columns %v, row %v", line, cols, row)
			}
			for i, d := range row {
				if want := dec.cols[cols[i]].Type.Kind; !d.IsNull() && d.Kind() != want {
					t.Fatalf("%q: column %d holds a %v", line, cols[i], d.Kind())
				}
				if out := appendJSONValue(nil, d, nil); !json.Valid(out) {
					t.Fatalf("%q: value %v renders as invalid JSON %s", line, d, out)
				}
			}
		}
	})
}
