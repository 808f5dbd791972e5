# latchkey: `make run` starts the product with demo data; `make test` runs every test.
GO      ?= go
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/latchkey
DATA    ?= ./data

.PHONY: all build run test test-deps vet fmt-check bench fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/latchkey

# Starts latchkey on ./data with the demo organization (loaded on first start only).
run: build
	./$(BIN) --data $(DATA) --demo

test: test-deps fmt-check vet
	$(GO) test -race -timeout 20m ./...

# The browser tests drive Debian's chromium, the terminal tests run tmux and
# the OpenSSH client; install what is missing (command:package).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TEST_TOOLS := chromium:chromium tmux:tmux ssh:openssh-client ssh-keygen:openssh-client
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing for the tests"; \
		$(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./core ./storage
	$(GO) test -run '^$$' -bench LandingVsBare -benchtime 1x ./core/web
	$(GO) test -run '^$$' -bench DeliverToCatcher -benchtime 1x ./core/mail
	$(GO) test -run '^$$' -bench MembersScreen -benchmem ./tui
	$(GO) test -run '^$$' -bench ConcurrentConsoles -benchtime 1x ./tui/sshd

# Each fuzz target for 60 s (their seed corpora run in make test).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzTokenRoute$$' -fuzztime $(FUZZTIME) ./core/web
	$(GO) test -run '^$$' -fuzz '^FuzzAccessForm$$' -fuzztime $(FUZZTIME) ./core/web
	$(GO) test -run '^$$' -fuzz '^FuzzEncodeHeader$$' -fuzztime $(FUZZTIME) ./core/mail
	$(GO) test -run '^$$' -fuzz '^FuzzFormatAddress$$' -fuzztime $(FUZZTIME) ./core/mail

clean:
	rm -rf bin
