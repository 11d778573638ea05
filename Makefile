# Two entry points a newcomer needs: `make demo` and `make test`.
# Both create .venv with the python3 on PATH (3.11+) and install filterlog into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/filterlog demo filterlog-demo

test: $(STAMP)
	$(BIN)/ruff check filterlog tests benchmarks
	$(BIN)/ruff format --check filterlog tests benchmarks
	$(BIN)/python -m pytest -q -n 2  # two workers: the suite is mostly CPU-bound, the machine has two cores

lint: $(STAMP)
	$(BIN)/ruff check filterlog tests benchmarks
	$(BIN)/ruff format --check filterlog tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py --lines 1000000

# GoAccess, the outside yardstick of benchmarks/bench_scale.py (Debian/Ubuntu; root, else sudo).
bench-tools:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y goaccess

clean:
	rm -rf $(VENV) filterlog-demo .pytest_cache .ruff_cache
