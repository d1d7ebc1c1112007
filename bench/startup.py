"""Benchmark: what starting the `dbkit` command costs above starting Python (issue 19).

Whole-process wall time of each command, the ways interleaved, median of `runs`:
  * `python -c pass`: the interpreter alone (the baseline every figure is compared with);
  * `python -c "import click"` and `python -c "import psycopg"`: the two libraries a
    command cannot do without (click parses every command line; psycopg connects);
  * `python -c "import pglast"`: PostgreSQL's parser, which `dbkit apply` loads when there
    is something to check; `python -c "import dbkit.cli.main"`: dbkit's command line (click
    included; each command's module is loaded when that command runs): what it costs first;
  * `dbkit --help`, `dbkit status` and `dbkit apply` on an up-to-date database (no-op).
Each command imports only what it needs (lazy imports in dbkit.cli; `dbkit status` loads
neither pglast nor yoyo): tests/test_cli_help.py proves which packages each one loads.

Usage: python bench/startup.py [--runs 21]   (starts its own throwaway cluster)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Cluster, Section, compiled_dbkit, standalone

from dbkit import config, engine


def run(c: Cluster, runs: int = 21) -> list[Section]:
    compiled_dbkit()
    url = c.create_empty("bench_startup")
    engine.apply(config.load_settings(ROOT, database_url=url))
    python = sys.executable
    dbkit_bin = str(Path(python).with_name("dbkit"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    ways = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import click'": [python, "-c", "import click"],
        "python -c 'import psycopg'": [python, "-c", "import psycopg"],
        "python -c 'import pglast'": [python, "-c", "import pglast"],
        "python -c 'import dbkit.cli.main'": [python, "-c", "import dbkit.cli.main"],
        "dbkit --help": [dbkit_bin, "--help"],
        "dbkit status (up to date)": [dbkit_bin, "status", "--database-url", url],
        "dbkit apply (nothing pending)": [dbkit_bin, "apply", "--database-url", url],
    }
    samples: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(runs):
        for name, argv in ways.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, cwd=ROOT, env=env)
            samples[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    c.drop("bench_startup")
    base = statistics.median(samples["python -c pass"])
    cpu_base = statistics.median(cpu["python -c pass"])
    load = os.getloadavg()[0]
    section = Section(
        "Start-up: each command's whole process against Python's own start-up",
        ["command", "runs", "median ms", "min ms", "above `python -c pass`, ms", "CPU ms (user+sys)",
         "CPU above `python -c pass`, ms"],
        note=(f"Interleaved, median of {runs}; 1-minute load average {load:.1f} at the end. dbkit byte-compiled "
              "as an installed package is. 'above' subtracts the median of `python -c pass`. CPU: the "
              "process's own user+sys time, which other jobs on the machine inflate less than wall time."),
    )
    for name, values in samples.items():
        med = statistics.median(values)
        used = statistics.median(cpu[name])
        section.rows.append([name, len(values), med * 1000, min(values) * 1000, (med - base) * 1000, used * 1000,
                             (used - cpu_base) * 1000])
    return [section]


def main() -> None:
    parser = argparse.ArgumentParser(description="dbkit start-up against Python's")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    standalone(lambda c: run(c, args.runs), template=False)


if __name__ == "__main__":
    main()
