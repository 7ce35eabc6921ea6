// Package parser is Weir's SQL front: it turns PostgreSQL-dialect text into
// sql/ast statements. Queries and DML go through a PostgreSQL-dialect
// normalizer into the TiDB parser and are converted from its AST; the
// streaming DDL and PostgreSQL-only statements have a small grammar of their
// own. This is the only package that imports the TiDB parser.
package parser

import "github.com/weirdb/weir/sql/ast"

// Statement is one parsed statement of a query string.
type Statement struct {
	AST ast.Statement
	// SQL is the statement's own text, as the user wrote it (no trailing
	// semicolon).
	SQL string
	// Offset is the byte offset of SQL within the query string given to
	// Parse.
	Offset int
	// NumParams is the highest $n used.
	NumParams int
}
