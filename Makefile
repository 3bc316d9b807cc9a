# Tasks engineers expect. `make test` is the README's test command, which CI runs
# (.ci/run) after `make lint` and `make fuzz`.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME ?= 20s

.PHONY: test lint fuzz bench check

test:
	$(GO) vet ./... && $(GO) test -race -timeout 20m ./...

# gofmt, go mod tidy and staticcheck must all be clean.
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The fuzz targets, each briefly: the protocol decoder and the engine's WebSocket frame
# reader (their corpora are in protocol/testdata/fuzz and engine/testdata/fuzz).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzFrameReader$$' -fuzztime $(FUZZTIME) ./engine/

# Go benchmarks of the hot paths (whole-system load: cmd/chatbench and bench/suite).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./protocol/ ./engine/ ./engine/chat/ ./engine/store/

check: lint fuzz test
