package parser

import "testing"

// The fast INSERT path must give exactly the AST of the full path.
func TestFastInsertMatchesFullPath(t *testing.T) {
	for _, q := range []string{
		"INSERT INTO t VALUES (1, 'a', NULL, TRUE, false, 2.50, 3000000000, DEFAULT)",
		`INSERT INTO public."T" (a, "B") VALUES (1, 'x''y'), (2, E'tab\there')`,
		"insert into t(a) values (0), (2147483647), (2147483648), (12345678901234567890)",
	} {
		toks, err := tokenize(q)
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := fastInsert(toks)
		if !ok {
			t.Errorf("%s: fast path declined", q)
			continue
		}
		full, err := parseDML(q, toks)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got, want := sexp(fast), sexp(full); got != want {
			t.Errorf("%s:\nfast %s\nfull %s", q, got, want)
		}
	}
	for _, q := range []string{
		"INSERT INTO t VALUES (-1)",
		"INSERT INTO t VALUES (1) RETURNING *",
		"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
		"INSERT INTO t VALUES (1e3)",
		"INSERT INTO t VALUES (1, 2), (3)",
		"INSERT INTO t SELECT 1",
		"INSERT INTO t VALUES ($1)",
	} {
		toks, _ := tokenize(q)
		if _, ok := fastInsert(toks); ok {
			t.Errorf("%s: fast path should decline", q)
		}
	}
}
