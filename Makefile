# berth — developer entry points.
#
#   make run     build and start `berth serve` on the embedded default
#   make test    install the client tools and the build engine, vet, run every test
#   make engine  install the build engine: runc, CNI plugins, busybox-static, BuildKit
#   make bench   run the Go benchmarks with targets, then the benchmark driver
#
# Every target installs what it needs itself, so a fresh Debian 12 machine
# with Go only needs `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
BERTH := bin/berth
DATA_DIR ?= ./berth-data

# Extra arguments for `berth serve` under `make run`, e.g. RUN_ARGS='--listen 127.0.0.1:5001'.
RUN_ARGS ?=
# Extra arguments for the benchmark driver.
BENCH_ARGS ?=
# Go benchmarks, as PACKAGE:REGEXP pairs (the gate decision, GC reclaim, purge
# of 10,000 tags); berth-bench reports their results in its table beside its
# own figures.
GO_BENCHES ?= ./internal/netrules:^BenchmarkDecide100Rules$$ \
	./internal/gc:^BenchmarkCollect$$ \
	./internal/cli/purge:^BenchmarkPurge$$

# Per-package time limit. CI must finish well under 30 minutes.
TEST_TIMEOUT ?= 15m
TEST_FLAGS ?=
TEST_PKGS ?= ./...

# Short fuzz pass run by `make test`: space-separated PACKAGE:FuzzName pairs,
# e.g. FUZZ_TARGETS='./internal/oci:FuzzParseDigest'. Empty runs nothing.
FUZZ_TARGETS ?= \
	./internal/oci:FuzzParseDigest \
	./internal/oci:FuzzValidName \
	./internal/oci:FuzzValidTag \
	./internal/oci:FuzzParseManifest \
	./internal/distribution:FuzzParsePath \
	./internal/netrules:FuzzParseRule
# FuzzExtract (./internal/buildcontext) makes a directory per input, too slow
# for a 5 s pass on a busy machine; its seed corpus runs with the tests, and
# `make fuzz FUZZ_TARGETS=./internal/buildcontext:FuzzExtract FUZZ_TIME=2m`
# fuzzes it.
# A count, not a duration: a time-limited fuzz run can end in a spurious
# "context deadline exceeded" on a busy machine.
FUZZ_TIME ?= 20000x

.PHONY: all tools engine build run test vet fuzz bench clean

all: build

tools:
	@bash scripts/tools.sh

# BuildKit (built once per pinned version into ~/.cache/berth), runc, the
# CNI plugins and busybox-static (from Debian); see docs/build-engine.md.
engine:
	@bash scripts/engine.sh

build:
	$(GO) build -o $(BERTH) ./cmd/berth
	$(GO) build -o bin/docker-credential-berth ./cmd/docker-credential-berth

run: engine build
	$(BERTH) serve --data-dir $(DATA_DIR) $(RUN_ARGS)

vet:
	$(GO) vet ./...

# BERTH_BINARY hands the freshly built server to internal/testserver so each
# test package does not link its own copy.
test: tools engine build vet fuzz
	BERTH_BINARY="$(CURDIR)/$(BERTH)" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) $(TEST_PKGS)

fuzz:
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZ_TIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) "$$pkg"; \
	done

bench: build
	@: > bin/go-bench.txt
	@for b in $(GO_BENCHES); do \
		pkg=$${b%%:*}; re=$${b#*:}; \
		$(GO) test -count=1 -run '^$$' -bench "$$re" "$$pkg" | tee -a bin/go-bench.txt; \
	done
	$(GO) run ./cmd/berth-bench --berth $(BERTH) --go-bench bin/go-bench.txt $(BENCH_ARGS)

# Removes build output and the tool links; leaves $(DATA_DIR) (your registry's
# data) and the tool cache under ~/.cache/berth alone.
clean:
	rm -rf bin coverage.out
