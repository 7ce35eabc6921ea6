package funcs

import "github.com/weirdb/weir/sql/types"

func resolve(name string, args []types.Type) (*Resolved, error) { panic("funcs: not built yet") }
