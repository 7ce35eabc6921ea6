package coord

import (
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

// timeDependent are the functions whose value depends on when they are
// evaluated. A view using them would hold values from whichever epoch last
// touched each row — neither the current answer nor a stable one — so
// views refuse them (RisingWave allows now() only in temporal filters,
// which arrive with event-time processing). PROCTIME() is refused too: a
// view joins a table as of processing time with FOR SYSTEM_TIME AS OF
// PROCTIME(), which is not a call.
var timeDependent = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "current_time": true,
	"localtime": true, "localtimestamp": true, "clock_timestamp": true, "statement_timestamp": true,
	"transaction_timestamp": true, "timeofday": true, "random": true, "age": true, "proctime": true,
}

// checkMaintainable refuses, at CREATE, what a view cannot maintain
// incrementally with PostgreSQL's answers.
func checkMaintainable(q *ast.Query) error {
	var err error
	ast.Walk(q, func(n any) bool {
		if err != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.Func:
			if timeDependent[x.Name] && !(x.Name == "age" && len(x.Args) == 2) {
				err = sqlerr.Unsupported("materialized views cannot use %s(): its value depends on when it is evaluated", x.Name).
					WithHint("Compute it when querying the view instead.")
			}
		case *ast.Query:
			if x.EmitChanges && x != q {
				err = sqlerr.Unsupported("EMIT CHANGES inside a view definition")
			}
		}
		return err == nil
	})
	return err
}
