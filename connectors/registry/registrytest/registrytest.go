// Package registrytest serves the schema registry's REST API from memory,
// for tests of Avro sources and sinks: register, schemas by id, a
// subject's versions and its latest schema.
package registrytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Server is an in-memory registry on an httptest server.
type Server struct {
	*httptest.Server
	// Requests counts the requests served.
	Requests atomic.Int64

	mu       sync.Mutex
	schemas  []string         // by id-1
	ids      map[string]int   // schema text -> id
	subjects map[string][]int // subject -> ids of its versions
}

// New starts a server; Close it when done.
func New() *Server {
	s := &Server{ids: map[string]int{}, subjects: map[string][]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add registers schema under subject and returns its id, as a POST would.
func (s *Server) Add(subject, schema string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[schema]
	if !ok {
		s.schemas = append(s.schemas, schema)
		id = len(s.schemas)
		s.ids[schema] = id
	}
	for _, v := range s.subjects[subject] {
		if v == id {
			return id
		}
	}
	s.subjects[subject] = append(s.subjects[subject], id)
	return id
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, _ := strconv.Atoi(parts[2])
		s.mu.Lock()
		var schema string
		ok := id >= 1 && id <= len(s.schemas)
		if ok {
			schema = s.schemas[id-1]
		}
		s.mu.Unlock()
		if !ok {
			fail(w, http.StatusNotFound, 40403, "Schema not found")
			return
		}
		reply(w, map[string]any{"schema": schema})
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Schema == "" {
			fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema")
			return
		}
		reply(w, map[string]any{"id": s.Add(parts[1], body.Schema)})
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "subjects" && parts[2] == "versions" && parts[3] == "latest":
		s.mu.Lock()
		versions := s.subjects[parts[1]]
		var id int
		var schema string
		if len(versions) > 0 {
			id = versions[len(versions)-1]
			schema = s.schemas[id-1]
		}
		s.mu.Unlock()
		if id == 0 {
			fail(w, http.StatusNotFound, 40401, "Subject not found")
			return
		}
		reply(w, map[string]any{"subject": parts[1], "version": len(versions), "id": id, "schema": schema})
	default:
		fail(w, http.StatusNotFound, 404, "Not found")
	}
}

func reply(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}
