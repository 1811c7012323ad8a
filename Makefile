# cotrain: the commands a user needs. `make test` and `make demo` run `make setup`
# first, so both work on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
export CCACHE_DIR ?= $(CURDIR)/.ccache

.PHONY: setup configure build test demo bench clean fuzz test-sanitize

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: setup configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 1200

demo: build
	bash scripts/demo.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)

# Fuzzing (issue 8): every reader of untrusted input under libFuzzer with ASan/UBSan,
# built with clang in its own folder, each target run FUZZ_SECONDS from the seed
# corpus in fuzz/corpus/. FUZZ_TARGETS picks some (default: all). Crashing inputs land
# in $(FUZZ_DIR)/fuzz-work/<target>/artifacts; a summary in $(FUZZ_DIR)/fuzz-summary.txt.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOTRAIN_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (gcc). LibTorch
# is not instrumented: its own allocations are invisible to ASan, and it keeps
# thread pools and registries alive until exit, which LeakSanitizer reports as leaks
# that are not ours, so leak detection is off. UBSan stops at the first finding.
# SANITIZE_TESTS limits the build and run to some test executables (e.g.
# "test_io test_data"); default: all. Tests that run the `cotrain` binary need
# SANITIZE_EXTRA_TARGETS=cotrain_app with a subset. Third-party findings we cannot fix are
# suppressed in fuzz/ubsan.supp (each with its reason).
SANITIZE_DIR ?= build-sanitize
SANITIZE_TESTS ?=
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/fuzz/ubsan.supp
test-sanitize: setup
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOTRAIN_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS) $(if $(SANITIZE_TESTS),--target $(SANITIZE_TESTS) $(SANITIZE_EXTRA_TARGETS))
	cd $(SANITIZE_DIR) && $(if $(SANITIZE_TESTS),\
		status=0; for t in $(SANITIZE_TESTS); do OMP_NUM_THREADS=1 $(SANITIZE_ENV) tests/$$t || status=1; done; exit $$status,\
		$(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS) --timeout 3600)
