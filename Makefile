# Tasks engineers expect. `make test` is the README's test command, which CI runs
# (.ci/run) after `make lint`, `make fuzz` and the release checks (`make check-release
# check-units`).
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
# A duration or a count (100000x); .ci/run uses a count (see there).
FUZZTIME ?= 20s
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: test lint fuzz bench check release check-release check-units

test:
	$(GO) vet ./... && $(GO) test -race -timeout 20m ./...

# gofmt, go mod tidy and staticcheck must all be clean.
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The fuzz targets, each briefly: the protocol decoder, the decoder against the
# encoding/json one it replaced, and the engine's WebSocket frame reader (their corpora
# are in protocol/testdata/fuzz and engine/testdata/fuzz).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEquivalence$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzFrameReader$$' -fuzztime $(FUZZTIME) ./engine/

# Go benchmarks of the hot paths (whole-system load: cmd/chatbench and bench/suite).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./protocol/ ./engine/ ./engine/chat/ ./engine/store/

check: lint fuzz check-release check-units test

# The VPS binary: pure Go (modernc.org/sqlite needs no cgo), so CGO_ENABLED=0 links it
# statically and it runs on any Linux of the same architecture, whatever its libc.
release:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o chatd ./cmd/chatd

# What the README promises of the release binary: static, and built without cgo.
check-release: release
	@file chatd | grep -q 'statically linked' || { file chatd; echo "check-release: chatd is not statically linked"; exit 1; }
	@$(GO) version -m chatd | grep -q 'CGO_ENABLED=0' || { $(GO) version -m chatd; echo "check-release: chatd was built with cgo"; exit 1; }
	@echo "check-release: chatd is static, CGO_ENABLED=0"

# deploy/'s systemd unit, alone and with the :443 drop-in: loads without a warning and
# scores at most 2.0 in `systemd-analyze security` (deploy/check-units).
check-units: release
	deploy/check-units chatd
