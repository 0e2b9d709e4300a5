# kizashi: thin wrapper over CMake. `make demo` and `make test` do all their own set-up.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local

.PHONY: all deps build demo test test-asan test-tsan bench install clean format

all: build

deps:
	@bash scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/kizashi

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=asan $(CMAKE_ARGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=tsan $(CMAKE_ARGS)
	cmake --build $(BUILD_TSAN) -j $(JOBS)
	# The threaded code: the scheduler, the registry's follower, the GA's parallel evaluation and
	# kz_parallel_for. Other suites are single-threaded; XGBoost's OpenMP runtime is not
	# instrumented and would only add false reports.
	cd $(BUILD_TSAN) && OMP_NUM_THREADS=1 ctest --output-on-failure -j $(JOBS) \
		-R '^test_(sched|registry|ga|ga_wf|core)$$'

bench: build
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b || exit 1; done

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i include/kizashi/*.h src/*/*.[ch] cli/*.[ch] tests/*.[ch] bench/*.[ch]

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
