# Weir — build, run, test, bench.  `make help` lists the targets.
#
# Everything a fresh machine needs for `make test` is installed by `make deps`
# (apt-get, when running as root).

SHELL        := /bin/bash
.SHELLFLAGS  := -euo pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/weir
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

# Time limits: the whole `make test` must stay under 15 minutes on 2 cores.
UNIT_TIMEOUT ?= 6m
E2E_TIMEOUT  ?= 7m
FUZZTIME     ?= 30s
BENCHTIME    ?= 200ms
# `make bench` defaults fit in ~6 minutes on 2 cores; issue 3's full sizes:
#   make bench BENCH_FLAGS='-groups 1000000 -restart-groups 5000000 -push-rate 10000 -view-step-timeout 10m'
# (-groups also sizes the footprint figure's view; -figures base|views,
# -view-figures agg,join,pull,push,durability,footprint,restart, -h for all.)
BENCH_FLAGS  ?=

# Debian packages the tests use, and the file or command that shows each is present.
APT_PKGS := postgresql postgresql-client kcat libpostgresql-jdbc-java default-jdk-headless python3-psycopg2 curl chromium

.PHONY: help build run test vet unit e2e soak deps bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/weir
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/weir

run: build ## build and run bin/weir in the foreground on the defaults
	exec ./$(BIN)

test: deps build vet unit e2e ## deps, go vet, unit tests, end-to-end tests (needs PostgreSQL, psql, JDK...)

vet: ## go vet ./... and gofmt
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

unit: ## unit tests (everything but tests/; no PostgreSQL needed)
	$(GO) test -timeout $(UNIT_TIMEOUT) $$($(GO) list ./... | grep -v '/weir/tests')

e2e: build ## end-to-end tests in tests/ against bin/weir and a real PostgreSQL
	WEIR_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(E2E_TIMEOUT) ./tests/...

SOAK_DURATION ?= 10m
soak: build ## long runs: views against PostgreSQL (SOAK_DURATION, WEIR_DIFF_SEED), then the Kafka crash test at 1M records and 5 kills
	WEIR_BIN=$(CURDIR)/$(BIN) WEIR_DIFF_DURATION=$(SOAK_DURATION) WEIR_DIFF_ROUNDS=$${WEIR_DIFF_ROUNDS:-40} \
		$(GO) test -count=1 -v -timeout 3h -run '^TestViewsDifferential$$' ./tests/
	WEIR_BIN=$(CURDIR)/$(BIN) E2E_TARGET=weir WEIR_KAFKA_CRASH_RECORDS=1000000 WEIR_KAFKA_CRASH_KILLS=5 WEIR_KAFKA_CRASH_PRODUCE=60 \
		$(GO) test -count=1 -v -timeout 30m -run '^TestKafkaCrashExactlyOnce$$' ./tests/

deps: ## install what the tests need (apt-get as root), quietly and idempotently
	@missing=""; \
	have() { dpkg-query -W -f='$${Status}' "$$1" 2>/dev/null | grep -q 'install ok installed'; }; \
	for p in $(APT_PKGS); do \
		case $$p in \
		  default-jdk-headless) command -v javac >/dev/null && command -v java >/dev/null || missing="$$missing $$p";; \
		  postgresql) test -x /usr/lib/postgresql/15/bin/postgres || missing="$$missing $$p";; \
		  postgresql-client) command -v psql >/dev/null || missing="$$missing $$p";; \
		  kcat) command -v kcat >/dev/null || missing="$$missing $$p";; \
		  curl) command -v curl >/dev/null || missing="$$missing $$p";; \
		  chromium) command -v chromium >/dev/null || missing="$$missing $$p";; \
		  libpostgresql-jdbc-java) test -f /usr/share/java/postgresql.jar || missing="$$missing $$p";; \
		  *) have $$p || missing="$$missing $$p";; \
		esac; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing:$$missing" >&2; \
		echo "make deps: run as root, or: sudo apt-get install -y$$missing" >&2; \
		exit 1; \
	fi; \
	echo "make deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }

bench: build ## benchmark harness (Weir vs PostgreSQL) and Go benchmarks
	$(GO) run ./tests/benchharness -weir-bin $(CURDIR)/$(BIN) $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 20m $$($(GO) list ./... | grep -v '/weir/tests')

fuzz: ## run every Go fuzz target for $(FUZZTIME) each
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean: ## remove build output and the default data dir
	rm -rf bin weir-data
	$(GO) clean -testcache
