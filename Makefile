# latchkey: `make run` starts the product with demo data; `make test` runs every test.
GO      ?= go
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/latchkey
DATA    ?= ./data

.PHONY: all build run test vet fmt-check bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/latchkey

# Starts latchkey on ./data with the demo organization (loaded on first start only).
run: build
	./$(BIN) --data $(DATA) --demo

test: fmt-check vet
	$(GO) test -race -timeout 20m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
