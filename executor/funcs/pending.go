package funcs

import "github.com/weirdb/weir/sql/types"

func addJSONB(t table)  {}
func addSystem(t table) {}

func cmpJSONB(a, b types.Datum) int { return cmpStr(a, b) }
func addDateFormat(t table)         {}
