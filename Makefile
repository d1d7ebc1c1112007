# dbkit — the two commands for a fresh machine are `make demo` and `make test`.
# Both create the virtualenv, install dbkit with its test dependencies, and make
# sure the PostgreSQL server binaries (and optional extensions) are installed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck dev system-deps bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

dev: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: dev system-deps
	$(BIN)/dbkit ci --roundtrip --output reports/dbkit-report.html
	@echo "HTML report: reports/dbkit-report.html"

test: dev system-deps
	$(BIN)/pytest -q

lint: dev system-deps
	$(BIN)/dbkit lint --database

typecheck: dev
	$(BIN)/mypy src tests

bench: dev system-deps
	$(BIN)/python bench/run.py

# Fault soak: kill -9, terminated backends, server restarts, timeouts and concurrent runs
# against every module; writes reports/soak.md (last result: docs/reliability.md).
soak: dev system-deps
	$(BIN)/python tests/soak.py

clean:
	rm -rf $(VENV) reports build src/*.egg-info
