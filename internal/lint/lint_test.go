// Package lint holds tests that keep the code base's shape: which package
// may import which (ARCHITECTURE.md), and which package alone may use each
// third-party library.
package lint

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/weirdb/weir"

// allowed lists, for each package prefix, the Weir package prefixes its
// non-test code may import. The most specific prefix applies. Dependencies
// point one way: cmd -> server/coord -> planner -> executor -> storage ->
// sql; server (the protocol layer) sees only the engine interface it
// declares and sql's vocabulary.
var allowed = []struct {
	pkg     string
	imports []string
}{
	{"sql/sqlerr", nil},
	{"sql/types", []string{"sql/sqlerr"}},
	{"sql/ast", []string{"sql/types"}},
	{"sql/catalog", []string{"sql/types"}},
	{"sql/parser", []string{"sql/ast", "sql/types", "sql/sqlerr"}},
	{"sql", []string{"sql/"}},
	{"storage", []string{"sql/types", "sql/catalog", "sql/sqlerr"}},
	{"connectors", []string{"sql/", "executor", "connectors"}},
	{"executor", []string{"sql/", "storage", "executor"}},
	{"planner", []string{"sql/", "executor", "planner"}},
	{"server/coord", []string{"sql/", "planner", "executor", "storage", "server"}},
	{"server", []string{"sql/"}},
	{"cmd/weir", []string{"server", "storage", "sql/", "planner", "executor", "connectors"}},
	{"internal/lint", nil},
	// Tests compute reference results with the Nexmark generator.
	{"tests", []string{"tests/", "connectors/registry/registrytest", "connectors/nexmark"}},
}

// thirdParty lists libraries that exactly one package of the server may
// import. tests/ is outside the server, a client of the binary: its
// fixtures and bench may use any of them (kfake is the tests' Kafka
// cluster, a bare franz-go consumer the bench's baseline).
var thirdParty = map[string]string{
	"github.com/pingcap/tidb/pkg/parser":   "sql/parser",
	"github.com/jackc/pgx/v5/pgproto3":     "server",
	"github.com/cockroachdb/pebble":        "storage",
	"github.com/twmb/franz-go":             "connectors/kafka",
	"github.com/prometheus/client_golang/": "", // anyone, through a passed Registerer
}

func isTests(pkg string) bool { return pkg == "tests" || strings.HasPrefix(pkg, "tests/") }

func rulesFor(pkg string) ([]string, bool) {
	best, found := -1, false
	var imports []string
	for _, r := range allowed {
		if (pkg == r.pkg || strings.HasPrefix(pkg, r.pkg+"/")) && len(r.pkg) > best {
			best, imports, found = len(r.pkg), r.imports, true
		}
	}
	return imports, found
}

func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rules, ok := rulesFor(pkg)
		if !ok {
			t.Errorf("package %s has no import rule: add it to allowed in internal/lint", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			for lib, owner := range thirdParty {
				if owner != "" && strings.HasPrefix(imp, lib) && pkg != owner && !strings.HasPrefix(pkg, owner+"/") && !isTests(pkg) {
					t.Errorf("%s imports %s; only %s may", pkg, imp, owner)
				}
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			ok := false
			for _, a := range rules {
				if dep == a || strings.HasPrefix(dep, strings.TrimSuffix(a, "/")+"/") {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s may not import %s (see ARCHITECTURE.md)", pkg, dep)
			}
		}
	}
}
