# Telefonistka: build, run and test. Every module of go.work is covered.
SHELL := /bin/bash
GO ?= go
MODULES := $(shell $(GO) list -m -f '{{.Dir}}')
SERVICES := ingress planner promoter drift argodiff fanout bumper
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build run demo test vet unit fuzz-short lint bench bench-ingress bench-promotion clean

all: build

## build: bin/telefonistka and one binary per service
build:
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/telefonistka ./cmd/telefonistka
	@for s in $(SERVICES); do \
		echo "$(GO) build -o bin/telefonistka-$$s ./services/$$s/cmd/telefonistka-$$s"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/telefonistka-$$s ./services/$$s/cmd/telefonistka-$$s || exit 1; \
	done

## run: the demo: embedded NATS + GitHub emulator with a sample repository, promoting a change
run demo: build
	bin/telefonistka demo

## test: vet, every module's tests, and a short run of every fuzz target
test: vet unit fuzz-short

vet:
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

unit:
	@for m in $(MODULES); do \
		echo "== $${m#$(CURDIR)/}"; \
		(cd $$m && $(GO) test -count=1 ./...) || exit 1; \
	done

fuzz-short:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

lint:
	@command -v golangci-lint >/dev/null || { echo "golangci-lint missing: go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0"; exit 1; }
	@for m in $(MODULES); do (cd $$m && golangci-lint run ./...) || exit 1; done

## bench: the Go benchmarks (figures, not pass/fail)
bench:
	@for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...) || exit 1; done

## bench-ingress: webhooks/s and p50/p99 ack latency against a running server (embedded JetStream on disk)
bench-ingress: build
	scripts/bench-ingress.sh

## bench-promotion: GitHub calls per promotion PR and merge-to-PR latency (emulator counters)
bench-promotion:
	cd e2e && $(GO) test -run '^$$' -bench . -benchtime 20x

clean:
	rm -rf bin
