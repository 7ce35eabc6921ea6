package coord

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
)

// Secrets are named values (a CRM's token) that the WITH options of
// sources and sinks reference as ${secret:name}. The catalog keeps the
// reference; the value is put in only when the connector is opened, so
// that it never shows in a relation's stored statement, in SHOW or in the
// logs. A secret is stored as a catalog entry of Kind Secret, apart from
// the relations.

// createSecret runs CREATE SECRET name AS 'value'.
func (s *session) createSecret(ctx context.Context, n *ast.CreateSecret) (server.Result, error) {
	c := s.c
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	c.mu.RLock()
	_, exists := c.secrets[n.Name]
	c.mu.RUnlock()
	if exists {
		if n.IfNotExists {
			return tagOnly("CREATE SECRET", fmt.Sprintf("secret \"%s\" already exists, skipping", n.Name)), nil
		}
		return nil, sqlerr.New(sqlerr.DuplicateObject, "secret \"%s\" already exists", n.Name)
	}
	id, err := c.db.NextID()
	if err != nil {
		return nil, err
	}
	sec := &catalog.Relation{ID: catalog.ID(id), Name: n.Name, Kind: catalog.Secret, Options: map[string]string{"value": n.Value}}
	data, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	txn := c.db.Begin()
	defer txn.Rollback()
	if err := txn.PutCatalog(id, data); err != nil {
		return nil, err
	}
	if err := txn.Commit(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.secrets[n.Name] = sec
	c.mu.Unlock()
	return tagOnly("CREATE SECRET"), nil
}

// dropSecrets runs DROP SECRET.
func (s *session) dropSecrets(ctx context.Context, n *ast.Drop) (server.Result, error) {
	c := s.c
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	var notices []string
	for _, name := range n.Names {
		c.mu.RLock()
		sec := c.secrets[name.Name]
		c.mu.RUnlock()
		if sec == nil {
			if n.IfExists {
				notices = append(notices, fmt.Sprintf("secret \"%s\" does not exist, skipping", name.Name))
				continue
			}
			return nil, sqlerr.New(sqlerr.UndefinedObject, "secret \"%s\" does not exist", name.Name)
		}
		txn := c.db.Begin()
		err := txn.DeleteCatalog(uint64(sec.ID))
		if err == nil {
			err = txn.Commit(ctx)
		}
		txn.Rollback()
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		delete(c.secrets, name.Name)
		c.mu.Unlock()
	}
	return tagOnly("DROP SECRET", notices...), nil
}

// secretRef is a reference to a secret in an option's value.
var secretRef = regexp.MustCompile(`\$\{secret:([^}]*)\}`)

// withSecrets returns opts with every ${secret:name} replaced by the
// secret's value (opts itself when none is referenced). A secret that does
// not exist is 42704.
func (c *Coordinator) withSecrets(opts map[string]string) (map[string]string, error) {
	var out map[string]string
	for k, v := range opts {
		if !secretRef.MatchString(v) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(opts))
			for k2, v2 := range opts {
				out[k2] = v2
			}
		}
		var missing string
		c.mu.RLock()
		out[k] = secretRef.ReplaceAllStringFunc(v, func(ref string) string {
			name := secretRef.FindStringSubmatch(ref)[1]
			sec := c.secrets[name]
			if sec == nil {
				missing = name
				return ref
			}
			return sec.Options["value"]
		})
		c.mu.RUnlock()
		if missing != "" {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "secret \"%s\" does not exist", missing).
				WithHint("Create it with CREATE SECRET %s AS '...'.", missing)
		}
	}
	if out == nil {
		return opts, nil
	}
	return out, nil
}
