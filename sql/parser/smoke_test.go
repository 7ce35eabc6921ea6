package parser

import (
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	q := os.Getenv("Q")
	st, err := Parse(q)
	if err != nil {
		t.Fatalf("%#v", err)
	}
	for _, s := range st {
		t.Logf("%s", sexp(s.AST))
	}
}
