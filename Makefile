# trailpq: `make demo` and `make test` are the two commands; see README.md.

CARGO      ?= cargo
PYTHON     ?= python3
TOOLS      := $(CURDIR)/.tools
VENV       := $(CURDIR)/.venv
VENV_DELTA := $(CURDIR)/.venv-delta
S3S_FS     := $(TOOLS)/bin/s3s-fs
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN        := $(TARGET_DIR)/debug/trailpq
DEMO_OUT   := demo-out
BENCH_OUT  := bench-out
BENCH_EVENTS ?= 2000000
BENCH_RUNS ?= 3
TEST_FEATURES := test-hooks,slow-tests

export TRAILPQ_S3S_FS := $(S3S_FS)
export TRAILPQ_PYTHON := $(VENV)/bin/python
export TRAILPQ_DELTA_PYTHON := $(VENV_DELTA)/bin/python
export CARGO_TERM_COLOR ?= never

.PHONY: all build demo test test-ready test-deps bench lint clean

all: build

build:
	$(CARGO) build --locked

## demo: convert the sample in data/ and query it
demo: build
	rm -rf $(DEMO_OUT)
	$(BIN) convert data --out $(DEMO_OUT) --report $(DEMO_OUT).report.json
	@echo
	@echo "== Who created and deleted Amazon Connect users (a canned query):"
	$(BIN) query $(DEMO_OUT) --name connect-user-lifecycle --format markdown
	@echo
	@echo "== Amazon Chime errors by code and API:"
	$(BIN) query $(DEMO_OUT) --name chime-errors
	@echo
	@echo "== The documented AddDomain record, exported back exactly as it came in:"
	$(BIN) export $(DEMO_OUT) --where "event_name = 'AddDomain' AND event_date = DATE '2017-07-24'"
	@echo
	@echo "== More: $(BIN) query --list; $(BIN) shell $(DEMO_OUT); $(BIN) ddl duckdb $(DEMO_OUT)"

## test: install what the tests need while the tests build, then run them all
test: test-ready
	$(CARGO) test --locked --features $(TEST_FEATURES)

# The tools the tests need install while the tests build, at the lowest priority: the build
# leaves a core idle for minutes at a time (one crate alone at the end of a chain), and the
# whole of CI is otherwise CPU-bound, so they must not slow the build's longest chain.
test-ready:
	nice -n 19 $(MAKE) --no-print-directory test-deps & deps=$$!; \
	$(CARGO) test --locked --features $(TEST_FEATURES) --no-run; built=$$?; \
	wait $$deps && exit $$built

test-deps: $(S3S_FS) $(VENV)/.installed $(VENV_DELTA)/.installed

# A real S3-protocol server for the object-store tests (pure Rust, checks SigV4 signatures).
$(S3S_FS):
	$(CARGO) install s3s-fs --version 0.14.1 --features binary --locked --root $(TOOLS)

# Real DuckDB, pyarrow and Spark, to read the output back.
$(VENV)/.installed: requirements-test.txt
	@command -v java >/dev/null || { echo "The Spark tests need Java 17 or later: install a JRE (e.g. apt install openjdk-17-jre-headless) and run make test again." >&2; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# Python deltalake and DuckDB 1.4.4 with its delta extension, to read Delta tables back.
$(VENV_DELTA)/.installed: requirements-delta.txt
	test -x $(VENV_DELTA)/bin/python || $(PYTHON) -m venv $(VENV_DELTA)
	$(VENV_DELTA)/bin/pip install --quiet --disable-pip-version-check -r requirements-delta.txt
	touch $@

## bench: trailpq against DuckDB on the same BENCH_EVENTS generated events, alternating runs in the
## same process tree (convert: trailpq, trailpq --threads 1, DuckDB; then every canned query);
## prints medians and ratios, writes $(BENCH_OUT)/bench.json
bench: $(VENV)/.installed
	$(CARGO) build --release --locked
	$(VENV)/bin/python bench/bench.py $(TARGET_DIR)/release/trailpq $(BENCH_OUT) --events $(BENCH_EVENTS) --runs $(BENCH_RUNS)

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --all-features --locked -- -D warnings

clean:
	rm -rf $(DEMO_OUT) $(DEMO_OUT).report.json $(BENCH_OUT)
