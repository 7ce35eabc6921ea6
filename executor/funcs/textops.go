package funcs

import (
	"github.com/weirdb/weir/sql/types"
)

// addTextOps registers ||: text || text, and text || x / x || text for
// every non-text kind x, through x's text output (PostgreSQL's
// textanycat / anytextcat). Strict: NULL || x is NULL.
func addTextOps(t table) {
	t.fn("||", ts(types.KindText, types.KindText), types.Text, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewText(a[0].Str() + a[1].Str()), nil
	})
	for _, k := range allKinds {
		if k == types.KindText {
			continue
		}
		t.fn("||", ts(types.KindText, k), types.Text, func(env *Env, a []types.Datum) (types.Datum, error) {
			s := a[0].Str()
			buf := make([]byte, 0, len(s)+24)
			buf = append(buf, s...)
			return types.NewText(string(appendText(buf, a[1], env.Location))), nil
		})
		t.fn("||", ts(k, types.KindText), types.Text, func(env *Env, a []types.Datum) (types.Datum, error) {
			s := a[1].Str()
			buf := appendText(make([]byte, 0, len(s)+24), a[0], env.Location)
			return types.NewText(string(append(buf, s...))), nil
		})
	}
	t.fn("||", ts(types.KindBytea, types.KindBytea), types.Bytea, func(_ *Env, a []types.Datum) (types.Datum, error) {
		return types.NewBytea([]byte(a[0].Str() + a[1].Str())), nil
	})
}
