# Everyday commands. `make` (or `make help`) lists them. Tools are run at
# pinned versions with `go run …@version`, so nothing needs installing.

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
BENCH       ?= .
BENCHTIME   ?= 1s
# PostgreSQL the tests use (storetest's default; override for another server).
CODEQR_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export CODEQR_TEST_DATABASE_URL

.DEFAULT_GOAL := help
.PHONY: help build run test test-sqlite test-postgres fuzz bench bench-check lint fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-14s %s\n", $$1, $$2 }'

build: ## compile everything
	go build ./...

run: ## run the server (SQLite under ./codeqr-data/, :8080)
	go run ./cmd/codeqr serve

test: ## the whole suite on SQLite and PostgreSQL (PostgreSQL required, as in CI)
	CODEQR_TEST_POSTGRES=required go test ./...

test-sqlite: ## the SQLite half of the suite only (no PostgreSQL needed)
	CODEQR_TEST_DATABASES=sqlite go test ./...

test-postgres: ## the PostgreSQL half of the suite only (PostgreSQL required)
	CODEQR_TEST_DATABASES=postgres CODEQR_TEST_POSTGRES=required go test ./...

fuzz: ## every fuzz target for FUZZTIME each (default 10s)
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$file); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz $$target in $$dir for $(FUZZTIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

bench: ## the benchmarks matching BENCH (figures only mean something on a quiet machine)
	go test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...

bench-check: ## run every benchmark once, to check that it still works
	go test -run '^$$' -bench . -benchtime 1x ./...

lint: ## gofmt, go vet and staticcheck (config: staticcheck.conf)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

fmt: ## gofmt every file
	gofmt -w .
