package parser

import (
	"bufio"
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	f, err := os.Open("/tmp/cases.txt")
	if err != nil {
		t.Skip()
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		st, err := Parse(sc.Text())
		if err != nil {
			t.Logf("%s\n  ERR %#v", sc.Text(), err)
			continue
		}
		for _, s := range st {
			t.Logf("%s\n  %s", sc.Text(), sexp(s.AST))
		}
	}
}
