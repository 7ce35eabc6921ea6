package registry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/weirdb/weir/connectors/registry"
	"github.com/weirdb/weir/connectors/registry/registrytest"
)

func TestRegistryClient(t *testing.T) {
	srv := registrytest.New()
	defer srv.Close()
	reg, err := registry.New(registry.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	schema := `{"type":"record","name":"r","fields":[]}`
	id, err := reg.Register(ctx, "s-value", schema)
	if err != nil {
		t.Fatal(err)
	}
	if id2, _ := reg.Register(ctx, "s-value", schema); id2 != id {
		t.Fatalf("registered twice: %d, %d", id, id2)
	}
	n := srv.Requests.Load()
	if got, err := reg.SchemaByID(ctx, id); err != nil || got != schema {
		t.Fatalf("SchemaByID: %q %v", got, err)
	}
	if srv.Requests.Load() != n {
		t.Errorf("a registered schema was fetched again")
	}
	if _, err := reg.SchemaByID(ctx, 42); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, _, err := reg.Latest(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "Subject not found") {
		t.Errorf("unknown subject: %v", err)
	}
	if _, err := registry.New(registry.Options{URL: "localhost:8081"}); err == nil {
		t.Errorf("a URL without a scheme was taken")
	}
	// A registry that does not answer in time is an error, not a hang.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer slow.Close()
	defer close(block)
	sc, _ := registry.New(registry.Options{URL: slow.URL, Timeout: 50e6})
	if _, err := sc.SchemaByID(ctx, 1); err == nil || errors.Is(err, registry.ErrNotFound) {
		t.Errorf("slow registry: %v", err)
	}
}
