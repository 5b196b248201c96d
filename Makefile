# streamgauge — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DATA_DIR ?= data
HOST ?= 127.0.0.1

.PHONY: run demo test lint typecheck unit bench bench-compare system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml clients/python/pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]' -e 'clients/python[test]'
	touch $@

## Start the embedded pipeline: ingest on :8787, queries and dashboard on :8788.
run: $(STAMP)
	@echo "streamgauge: ingest http://$(HOST):8787  dashboard http://$(HOST):8788/  data in ./$(DATA_DIR)"
	@echo "(first time? fill a week of demo traffic first: make demo)"
	$(BIN)/streamgauge serve --data-dir $(DATA_DIR) --host $(HOST)

## A realistic, seeded week of traffic in a fresh data directory, for the dashboard.
demo: $(STAMP)
	$(BIN)/streamgauge demo --data-dir $(DATA_DIR)

## Debian packages the suite drives for real (browser, S3 server); skipped where apt is absent.
system-deps:
	@bash scripts/system-deps.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests clients/python bench
	$(BIN)/ruff format --check src tests clients/python bench

typecheck: $(TEST_STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file clients/python/pyproject.toml clients/python/src

## Everything: lint, types, and the whole test suite (service, browser and slow tests included).
test: $(TEST_STAMP) system-deps lint typecheck
	$(BIN)/pytest -p no:cacheprovider -n 3 --dist loadfile tests clients/python/tests

## Every benchmark against its baseline (results in bench/results/, quoted in BENCHMARKS.md).
bench: $(TEST_STAMP) system-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

## streamgauge against DuckDB, PostgreSQL and ClickHouse (chdb) on the same data: docs/bench-compare.md.
bench-compare: $(TEST_STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.compare --docs $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
