package funcs

func addDateFormat(t table) {}
