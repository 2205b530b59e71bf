# Two commands do all set-up: `make demo` runs the main job, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tradingcore demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy --strict src
	$(BIN)/mypy --strict --platform win32 --cache-dir .mypy_cache/win32 src
	$(BIN)/mypy --strict --platform darwin --cache-dir .mypy_cache/darwin src
	$(BIN)/lint-imports

test: lint
	bash scripts/test-services
	$(BIN)/pytest -n 2 --dist loadgroup tests

bench: $(STAMP)
	$(BIN)/pytest benchmarks --benchmark-only --benchmark-columns=min,median,mean,max,ops

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
