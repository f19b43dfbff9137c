# MemoryStreamer developer entry points. `make test` is the contract CI runs (.ci/run).
#
#   make test       install what is missing, build, run every test suite (release, ASan+UBSan,
#                   TSan), the integration suite against the real binary with real Kafka clients,
#                   a bounded fuzz run, clang-format and clang-tidy
#   make run        install what is missing, build the release binary, run `memorystreamer serve`
#                   on the defaults (Kafka on 127.0.0.1:9092, data in ./data); ARGS="..." adds flags
#   make build      release build only
#   make coverage   line coverage of src/ (gcov + gcovr), summary printed, HTML in build/coverage
#   make bench      Google Benchmark micro benchmarks (release)
#   make fuzz       every fuzzer for FUZZ_SECONDS each (default 60)
#   make format     rewrite sources with clang-format
#   make lint       clang-format check + clang-tidy over src/

SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)
# ccache keys relative to the checkout, so clones in other folders (CI) reuse each other's objects.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

# Debian's python3 sees python3-confluent-kafka, python3-kafka and python3-pytest; the python3 first
# on PATH may not.
PYTHON := /usr/bin/python3
PYTEST := $(PYTHON) -m pytest -q tests/integration

.PHONY: run test-integration test-integration-asan test deps build test-release test-asan test-tsan fuzz-smoke fuzz lint format format-check tidy coverage bench clean

test: deps lint test-release test-integration test-asan test-integration-asan test-tsan fuzz-smoke
	@echo "make test: all suites passed"

deps:
	@scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

test-release: build
	ctest --preset release $(CTEST_FLAGS)

run: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target memorystreamer
	build/release/src/cli/memorystreamer serve $(ARGS)

# Real clients (kcat, confluent-kafka, kafka-python, kafkajs) against the release binary, including
# the 1M-message bulk test and SIGKILL durability cycles.
test-integration: build
	MEMORYSTREAMER_BIN=build/release/src/cli/memorystreamer $(PYTEST)

# The same suite against the ASan+UBSan binary, with smaller message counts; a sanitizer report
# makes the broker exit non-zero, which the fixture turns into a failure.
test-integration-asan: test-asan
	MEMORYSTREAMER_BIN=build/asan/src/cli/memorystreamer MS_IT_QUICK=1 $(PYTEST)

test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan $(CTEST_FLAGS)

# TSan covers the code that runs threads (fragment pool hand-offs, the storage flusher, group
# commit, shards and cross-shard calls in net); the single-threaded codec gains nothing from it and
# would double the build time.
TSAN_TESTS := base_test storage_test fault_crash_test net_test
test-tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS) --target $(TSAN_TESTS) crash_writer
	ctest --preset tsan $(CTEST_FLAGS) -R '^($(subst $(eval) ,|,$(TSAN_TESTS)))$$'

fuzz-smoke: deps
	FUZZ_SECONDS=$${FUZZ_SMOKE_SECONDS:-20} scripts/run-fuzzers

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzzers

lint: format-check tidy

format:
	git ls-files '*.h' '*.cc' | xargs clang-format-14 -i

format-check:
	@git ls-files '*.h' '*.cc' | xargs clang-format-14 --dry-run --Werror
	@echo "clang-format: clean"

# clang-tidy reads the compile commands that configuring the release preset writes.
# The generated protocol headers must exist first; generated sources themselves are not checked.
# scripts/run-tidy skips units whose preprocessed text passed before (cache beside ccache's).
tidy: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target ms_protocol_codegen >/dev/null
	scripts/run-tidy build/release '$(CURDIR)/(src|tests|bench)/.*\.cc$$' $(JOBS) > build/clang-tidy.log \
	  || { grep -E 'warning:|error:|findings in' -A3 build/clang-tidy.log | head -100; echo "clang-tidy failed (full log: build/clang-tidy.log)"; exit 1; }
	@echo "clang-tidy: clean"

coverage: deps
	scripts/coverage

bench: build
	@for b in build/release/bench/bench_*; do echo "== $$b"; $$b; done

clean:
	rm -rf build
