# latchkey: `make run` starts the product with demo data; `make test` runs every test.
GO      ?= go
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/latchkey
DATA    ?= ./data

.PHONY: all build run test test-deps vet fmt-check bench gobench soak fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/latchkey

# Starts latchkey on ./data with the demo organization (loaded on first start only).
run: build
	./$(BIN) --data $(DATA) --demo

# Every test, then core's flow tests again on PostgreSQL (a throwaway
# cluster the tests start); storage/conformance runs on both stores each time.
test: test-deps fmt-check vet
	$(GO) test -race -timeout 20m ./...
	LATCHKEY_TEST_STORE=postgres $(GO) test -race -timeout 20m ./core

# The browser tests drive Debian's chromium, the terminal tests run tmux and
# the OpenSSH client; install what is missing (command:package). The
# PostgreSQL tests (storage/postgres/pgtest) run Debian's postgresql, whose
# binaries are not on PATH: it is missing when no /usr/lib/postgresql/*/bin
# has pg_ctl. The tests start their own throwaway servers and never use the
# cluster the package may create.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TEST_TOOLS := chromium:chromium tmux:tmux ssh:openssh-client ssh-keygen:openssh-client
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then echo "installing$$missing for the tests"; \
		$(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# One table of ratios against baselines measured in the same run (bench-results.json).
# PROFILE=dir also writes CPU profiles of latchkey under each load there.
# STORE=postgres measures latchkey on a durable PostgreSQL cluster instead
# (started for the run; bench-results-postgres.json).
bench: build
	$(GO) run ./cmd/latchkey-bench --latchkey $(BIN) $(if $(PROFILE),--profile $(PROFILE)) $(if $(FLOOR),--floor) \
		$(if $(STORE),--store $(STORE) --out bench-results-$(STORE).json)

# The Go benchmarks behind the README's other figures.
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./core ./storage
	$(GO) test -run '^$$' -bench LandingVsBare -benchtime 1x ./core/web
	$(GO) test -run '^$$' -bench DeliverToCatcher -benchtime 1x ./core/mail
	$(GO) test -run '^$$' -bench 'MembersScreen|FirstFrame' -benchmem ./tui
	$(GO) test -run '^$$' -bench ConcurrentConsoles -benchtime 10x ./tui/sshd

# Mixed load at a fixed rate against the real binary (not in CI): SOAK=10m RATE=200.
SOAK ?= 10m
RATE ?= 200
soak: build
	$(GO) run ./cmd/latchkey-bench soak --latchkey $(BIN) --duration $(SOAK) --rate $(RATE)

# Each fuzz target of every package for 60 s (their seed corpora run in make test).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$f ($$pkg, $(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin
