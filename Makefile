# Telefonistka: build, run and test. Every module of go.work is covered.
SHELL := /bin/bash
GO ?= go
MODULES := $(shell $(GO) list -m -f '{{.Dir}}')
SERVICES := ingress planner promoter drift argodiff fanout bumper tracker
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s
HELM_VERSION := v3.21.4
CHART := deploy/helm/telefonistka
# Tools installed with go install (helm, golangci-lint) come first.
export PATH := $(shell $(GO) env GOPATH)/bin:$(PATH)

.PHONY: all build build-note image-binary run demo test vet unit fuzz-short test-deploy helm lint bench bench-ingress bench-promotion test-faults test-cluster bench-write-budget test-browser bench-tracker clean

all: build

## build: bin/telefonistka and one binary per service, all static (CGO_ENABLED=0)
build: build-note image-binary
	@for s in $(SERVICES); do \
		echo "$(GO) build -o bin/telefonistka-$$s ./services/$$s/cmd/telefonistka-$$s"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/telefonistka-$$s ./services/$$s/cmd/telefonistka-$$s || exit 1; \
	done

build-note:
	@test -x bin/telefonistka || echo "== building bin/telefonistka and bin/telefonistka-<service> (the first build downloads and compiles every dependency: a few minutes)"

## image-binary: the container image's binary, static (OUT=path, default bin/telefonistka);
## the Dockerfile runs exactly this, and deploy/image_test.go checks the result has no dynamic linking
OUT ?= bin/telefonistka
image-binary:
	@mkdir -p $(dir $(OUT))
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUT) ./cmd/telefonistka

## run: the demo: embedded NATS + GitHub emulator with a sample repository, promoting a change;
## make run KEEP=1 keeps it running afterwards, to explore with the commands it prints
run demo: build
	bin/telefonistka demo$(if $(KEEP), --keep)

## test: vet, every module's tests, the deployment checks, and a short run of every fuzz
## target. Every step runs even after a failure; a closing summary says what passed and
## failed (results in bin/test-results.txt), and the exit status is 1 if anything failed.
TEST_RESULTS := $(CURDIR)/bin/test-results.txt
test:
	@mkdir -p bin && rm -f $(TEST_RESULTS)
	@export TALLY=$(TEST_RESULTS); \
	$(MAKE) --no-print-directory vet; \
	$(MAKE) --no-print-directory unit; \
	if $(MAKE) --no-print-directory test-deploy; then scripts/test.sh record deploy pass "helm charts and the deploy module"; \
	else scripts/test.sh record deploy fail "helm charts and the deploy module"; fi; \
	$(MAKE) --no-print-directory fuzz-short; \
	FUZZTIME=$(FUZZTIME) scripts/test.sh summary

vet:
	@GO=$(GO) scripts/test.sh vet $(MODULES)

# The deploy module's tests run in test-deploy, with helm.
unit:
	@GO=$(GO) scripts/test.sh unit $(filter-out $(CURDIR)/deploy,$(MODULES))

fuzz-short:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## test-browser: the tracker's web page in headless Chromium (chromedp; apt-get install -y
## chromium); the screenshots stay in bin/tracker-browser/. Skipped, saying so, without chromium.
BROWSER_OUT := $(CURDIR)/bin/tracker-browser
test-browser:
	@mkdir -p $(BROWSER_OUT)
	cd services/tracker && $(GO) test -count=1 -run TestPageInABrowser -v -artifacts -outputdir $(BROWSER_OUT) .
	@find $(BROWSER_OUT) -name '*.png' 2>/dev/null | sed 's/^/screenshot: /'

## bench-tracker: the tracker's figures: projecting one event (in memory, and through the KV
## bucket), the repository page with 500 targets x 200 components, rebuilding the projection
## from 100,000 events (TRACKER_BENCH_EVENTS; a few minutes)
bench-tracker:
	cd services/tracker && $(GO) test -run '^$$' -bench 'ProjectInMemory' -benchmem ./internal/state/
	cd services/tracker && $(GO) test -run '^$$' -bench 'Matrix' -benchmem ./internal/render/
	cd services/tracker && $(GO) test -run '^$$' -bench 'ProjectEventKV|RepositoryPage' -benchmem .
	cd services/tracker && $(GO) test -run '^$$' -bench 'Rebuild' -benchtime 1x -timeout 30m .

## helm: install helm $(HELM_VERSION) into $$(go env GOPATH)/bin unless it is there
helm:
	@scripts/install-helm.sh $(HELM_VERSION)

## test-deploy: helm lint --strict and helm template with the default values and
## each $(CHART)/ci/*-values.yaml, then the deploy module's tests (every manifest
## decoded strictly into the Kubernetes API types, the image, the compose stack)
test-deploy: helm
	helm lint --strict $(CHART)
	helm template telefonistka $(CHART) >/dev/null
	@for f in $(CHART)/ci/*-values.yaml; do \
		echo "helm lint --strict $(CHART) -f $$f && helm template telefonistka $(CHART) -f $$f"; \
		helm lint --strict $(CHART) -f $$f >/dev/null && helm template telefonistka $(CHART) -f $$f >/dev/null || exit 1; \
	done
	cd deploy && TELEFONISTKA_REQUIRE_HELM=1 $(GO) test -count=1 ./...

lint:
	@command -v golangci-lint >/dev/null || { echo "golangci-lint missing: go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0"; exit 1; }
	@for m in $(MODULES); do (cd $$m && golangci-lint run ./...) || exit 1; done

## bench: the Go benchmarks (figures, not pass/fail)
bench:
	@for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...) || exit 1; done

## bench-ingress: webhooks/s, ack latency and server CPU per webhook: server --only ingress, then the all-in-one server with every consumer (CASES=ingress|all, RATE, DURATION, WARMUP)
bench-ingress: build
	scripts/bench-ingress.sh

## bench-write-budget: 1 and 4 promoter replicas under GitHub's real 80 writes a minute, then a WRITE_BUDGET_SOAK (10m) burst over the budget
WRITE_BUDGET_SOAK ?= 10m
bench-write-budget:
	cd e2e && WRITE_BUDGET_SOAK=$(WRITE_BUDGET_SOAK) $(GO) test -count=1 -timeout 90m -run '^TestWriteBudgetSoak$$' -v .

## bench-promotion: GitHub calls per promotion PR and merge-to-PR latency (emulator counters)
bench-promotion:
	cd e2e && $(GO) test -run '^$$' -bench . -benchtime 20x

## test-faults: repeated fault runs (GitHub 5xx, rate limits and dropped connections, promoter
## kills, merges 100 ms apart): no target may move back, the promotion promise must hold.
## make test runs a short version (3 runs of 4 merges); E2E_FAULT_SEED replays a run.
FAULT_RUNS ?= 30
FAULT_MERGES ?= 6
test-faults:
	cd e2e && E2E_FAULT_RUNS=$(FAULT_RUNS) E2E_FAULT_MERGES=$(FAULT_MERGES) E2E_FAULT_SUMMARY=1 \
		$(GO) test -count=1 -timeout 60m -run '^TestFaultRunsNeverMoveATargetBack$$'

## test-cluster: Telefonistka as shared infrastructure: a 3-node JetStream cluster (the nats-server
## binary v2.15.3: go install github.com/nats-io/nats-server/v2@v2.15.3), every service as its own
## process (two replicas of ingress, planner and promoter), a burst of merges across CLUSTER_REPOS
## repositories of the GitHub emulator; mid-burst the NATS node leading the GITHUB stream
## (CLUSTER_KILL_LEADER_OF=stream picks another) and one replica of every service are killed (SIGKILL)
## and restarted. Checks every webhook answered 2xx at its one attempt, one PR and one commit
## per plan entry, no dead letters, no pending status, the shared write budget (CLUSTER_WRITE_RATE
## a second, CLUSTER_WRITE_BURST) never exceeded, and the promotion promise; prints the figures
## (CLUSTER_REPORT=file keeps them, CLUSTER_KEEP_DIR=dir keeps the logs). .ci/run runs CLUSTER_REPOS=20.
CLUSTER_REPOS ?= 60
test-cluster: image-binary
	@command -v nats-server >/dev/null || { echo "nats-server missing: go install github.com/nats-io/nats-server/v2@v2.15.3"; exit 1; }
	cd e2e && TELEFONISTKA_CLUSTER=1 CLUSTER_TELEFONISTKA=$(CURDIR)/bin/telefonistka CLUSTER_NATS_SERVER=$$(command -v nats-server) \
		CLUSTER_REPOS=$(CLUSTER_REPOS) $(GO) test -count=1 -timeout 60m -run '^TestClusterBurstSurvivesNodeAndReplicaKills$$' -v ./cluster

clean:
	rm -rf bin
