package main

import (
	"io"
	"slices"
	"testing"
)

func TestByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"4096", 4096}, {"512MiB", 512 << 20}, {"512MB", 512_000_000}, {"2GiB", 2 << 30},
		{"1G", 1 << 30}, {"64kB", 64_000}, {"64KiB", 64 << 10}, {" 3 GiB ", 3 << 30}, {"10B", 10},
	} {
		var b byteSize
		if err := b.Set(c.in); err != nil || int64(b) != c.want {
			t.Errorf("Set(%q) = %d, %v; want %d", c.in, int64(b), err, c.want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5GiB", "12PB", "9999999999TiB", "1 gigabyte"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, int64(b))
		}
	}
}

func TestStateCacheSizeConfig(t *testing.T) {
	env := map[string]string{"WEIR_STATE_CACHE_SIZE": "256MiB"}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.stateCacheSize != 256<<20 {
		t.Fatalf("from the environment: %d, %v", c.stateCacheSize, err)
	}
	c, err = parseConfig([]string{"--state-cache-size", "0"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.stateCacheSize != 0 {
		t.Fatalf("flag over environment: %d, %v", c.stateCacheSize, err)
	}
	c, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.stateCacheSize != 1<<30 {
		t.Fatalf("default: %d, %v", c.stateCacheSize, err)
	}
	if _, err := parseConfig([]string{"--state-cache-size", "lots"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("--state-cache-size lots: no error")
	}
}

func TestHTTPTokenConfig(t *testing.T) {
	env := map[string]string{"WEIR_HTTP_TOKEN": "from-env"}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.httpToken != "from-env" {
		t.Fatalf("from the environment: %q, %v", c.httpToken, err)
	}
	c, err = parseConfig([]string{"--http-token", "from-flag"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.httpToken != "from-flag" {
		t.Fatalf("flag over environment: %q, %v", c.httpToken, err)
	}
	c, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.httpToken != "" {
		t.Fatalf("default: %q, %v", c.httpToken, err)
	}
}

func TestHTTPAllowOriginConfig(t *testing.T) {
	env := map[string]string{"WEIR_HTTP_ALLOW_ORIGIN": "https://a.example, http://b.example:8080"}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || !slices.Equal(splitOrigins(c.httpAllowOrigin), []string{"https://a.example", "http://b.example:8080"}) {
		t.Fatalf("from the environment: %q, %v", c.httpAllowOrigin, err)
	}
	c, err = parseConfig([]string{"--http-allow-origin", "*"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || !slices.Equal(splitOrigins(c.httpAllowOrigin), []string{"*"}) {
		t.Fatalf("flag over environment: %q, %v", c.httpAllowOrigin, err)
	}
	if got := splitOrigins(""); len(got) != 0 {
		t.Fatalf("default: %q", got)
	}
}
