# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench pictures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audit-xls demo --out demo-output

test: $(STAMP)
	$(BIN)/ruff check audit_xls tests benchmarks scripts
	$(BIN)/ruff format --check audit_xls tests benchmarks scripts
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check audit_xls tests benchmarks scripts
	$(BIN)/ruff format --check audit_xls tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_grade.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_monthly.py

pictures: $(STAMP)
	$(BIN)/python scripts/make_pictures.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
