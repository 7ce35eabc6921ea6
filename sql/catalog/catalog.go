// Package catalog describes the objects a user creates: relations, their
// columns and keys. It is data shared by the planner (which binds names
// against it), the coordinator (which owns and persists it) and storage
// (which lays out rows by it). Nothing here does I/O.
package catalog

import (
	"github.com/weirdb/weir/sql/types"
)

// ID identifies a catalog object. IDs are never reused. They double as the
// table OID reported in RowDescription.
type ID uint64

// Kind is the kind of a relation.
type Kind uint8

const (
	Table Kind = iota
	Source
	Stream
	MaterializedView
	View
	Sink
	// Secret is not a relation: a named value that WITH options reference
	// as ${secret:name}. Its one option "value" holds it; it has no
	// columns and is never shown back.
	Secret
)

func (k Kind) String() string {
	return [...]string{"table", "source", "stream", "materialized view", "view", "sink", "secret"}[k]
}

// RowIDColumn is the name of the hidden key column of a table declared
// without a PRIMARY KEY (PostgreSQL's ctid plays this part).
const RowIDColumn = "_weir_rowid"

// CountColumn is the name of the hidden last column of a materialized
// view's stored rows: how many times the row occurs (views are multisets).
const CountColumn = "_weir_count"

// Column is one column of a relation.
type Column struct {
	Name    string     `json:"name"`
	Type    types.Type `json:"type"`
	NotNull bool       `json:"not_null,omitempty"`
	// Default is the DEFAULT expression's SQL text ("" for none); the
	// planner parses it when it needs it.
	Default string `json:"default,omitempty"`
	// Hidden columns (the row id) are not part of SELECT * and cannot be
	// named by INSERT.
	Hidden bool `json:"hidden,omitempty"`
}

// Relation is a table, source, stream or view.
type Relation struct {
	ID      ID       `json:"id"`
	Name    string   `json:"name"`
	Kind    Kind     `json:"kind"`
	Columns []Column `json:"columns"`
	// PrimaryKey holds column indexes. Every stored relation has one: a
	// table declared without a key gets the hidden RowIDColumn as its last
	// column and key.
	PrimaryKey []int `json:"primary_key"`
	// SQL is the CREATE statement as the user wrote it.
	SQL string `json:"sql"`
	// Options are WITH (...) options, keys lower-cased.
	Options map[string]string `json:"options,omitempty"`
	// Unique marks a view whose rows never repeat (an aggregate's groups, a
	// DISTINCT): its PrimaryKey is then a key of its rows, and a lookup by
	// the whole key finds at most one row. Other views are keyed by all
	// their columns and may hold a row several times.
	Unique bool `json:"unique,omitempty"`
	// DependsOn are the relations a view reads.
	DependsOn []ID `json:"depends_on,omitempty"`
	// Watermark is the relation's event time, for an append-only table or
	// source declared WATERMARK FOR (or whose connector has one).
	Watermark *Watermark `json:"watermark,omitempty"`
}

// Watermark declares a relation's event time: WATERMARK FOR Column AS
// Expr. The relation's watermark is the largest Expr of its rows (per
// partition of a source, combined as the minimum), a promise that rows
// whose Column is below it are late: they are dropped, counted, unless
// within AllowedLateness, which then keeps the watermark that far behind.
type Watermark struct {
	Column int    `json:"column"`
	Expr   string `json:"expr"` // SQL over the row's columns
	// AllowedLateness and IdleTimeout are microseconds. A source partition
	// without records for IdleTimeout no longer holds the watermark back.
	AllowedLateness int64 `json:"allowed_lateness,omitempty"`
	IdleTimeout     int64 `json:"idle_timeout,omitempty"`
}

// ColumnIndex returns the index of the named column, or -1.
func (r *Relation) ColumnIndex(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Visible returns the indexes of the columns SELECT * shows, in order.
func (r *Relation) Visible() []int {
	out := make([]int, 0, len(r.Columns))
	for i, c := range r.Columns {
		if !c.Hidden {
			out = append(out, i)
		}
	}
	return out
}

// HasRowID reports whether the relation is keyed by a hidden row id.
func (r *Relation) HasRowID() bool {
	return len(r.PrimaryKey) == 1 && r.Columns[r.PrimaryKey[0]].Hidden
}
