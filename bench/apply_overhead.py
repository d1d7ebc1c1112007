"""Benchmark: dbkit's own overhead — `dbkit apply` of every module on an empty database
against applying the same expanded SQL with plain `psql -f`.

The psql input is every migration's expanded() text (includes inlined) from
dbkit.project.load_project, in dbkit's dependency order, in one file: each transactional
migration between BEGIN and COMMIT, a `-- transactional: false` one (CREATE INDEX
CONCURRENTLY) statement by statement, i.e. the transactions dbkit itself uses; `psql -1`
is impossible once any migration builds an index concurrently. dbkit does more: its
bookkeeping tables, a checksum per migration and included file, the advisory lock,
lock/statement timeouts.
Each run gets a fresh empty database; the three ways are interleaved; median of `runs`.

Usage: python bench/apply_overhead.py   (starts its own throwaway cluster)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, Cluster, Section, compiled_dbkit, standalone

from dbkit import config, engine
from dbkit.project import load_project


def _psql() -> str:
    found = shutil.which("psql")
    if not found:
        raise SystemExit("psql not found on PATH (apt-get install postgresql-client-15)")
    return found


def expanded_sql() -> tuple[str, int, int, int]:
    """All migrations' expanded SQL in plan order, each transactional one wrapped in
    BEGIN/COMMIT like dbkit runs it (a `-- transactional: false` migration, e.g. CREATE INDEX
    CONCURRENTLY, runs statement by statement, so the whole file cannot run under psql -1).
    Also the counts of migrations, non-transactional migrations and lines."""
    project = load_project(config.load_settings(ROOT))
    parts = []
    for m in project.plan:
        body = m.expanded().text.rstrip()
        if m.transactional:
            parts.append(f"-- {m.id}\nbegin;\n{body}\n;\ncommit;\n")
        else:
            parts.append(f"-- {m.id} (transactional: false)\n{body}\n;\n")
    text = "\n".join(parts)
    outside = sum(1 for m in project.plan if not m.transactional)
    return text, len(project.plan), outside, text.count("\n")


def run(c: Cluster, runs: int = 5) -> list[Section]:
    compiled_dbkit()
    text, migrations, outside, lines = expanded_sql()
    dbkit_bin = str(Path(sys.executable).with_name("dbkit"))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(text)
        sql_file = handle.name
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    ways: dict[str, Callable[[str], object]] = {
        "psql -f (expanded SQL, one transaction per migration)": lambda url: subprocess.run(
            [_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_file, "-d", url],
            check=True, capture_output=True, env=env),
        "dbkit apply (CLI process)": lambda url: subprocess.run(
            [dbkit_bin, "apply", "--database-url", url], check=True, capture_output=True, cwd=ROOT),
        "dbkit.engine.apply (in-process API)": lambda url: engine.apply(
            config.load_settings(ROOT, database_url=url)),
    }
    samples: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for i in range(runs):
            for j, (name, way) in enumerate(ways.items()):
                url = c.create_empty(f"bench_apply_{i}_{j}")
                started = time.perf_counter()
                way(url)
                samples[name].append(time.perf_counter() - started)
                if i < runs - 1 or j < len(ways) - 1:
                    c.drop(f"bench_apply_{i}_{j}")
        # A no-op apply on an up-to-date database: what every deploy pays when nothing changed.
        url = c.url(f"bench_apply_{runs - 1}_{len(ways) - 1}")
        noop: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([dbkit_bin, "apply", "--database-url", url], check=True, capture_output=True, cwd=ROOT)
            noop.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([dbkit_bin, "--help"], check=True, capture_output=True, cwd=ROOT)
        startup = time.perf_counter() - started
    finally:
        os.unlink(sql_file)
    base = statistics.median(samples[next(iter(ways))])
    section = Section(
        f"dbkit apply vs plain psql: all modules on an empty database ({migrations} migrations, {lines:,} lines of SQL)",
        ["way", "runs", "median s", "min s", "max s", "vs psql"],
        note=("Fresh empty database per run; the ways interleaved. The psql input is every migration's "
              "expanded() text, each transactional migration between BEGIN and COMMIT "
              f"({outside} migration(s) are `transactional: false`, so `psql -1` cannot run the file). "
              "The CLI figures include starting Python and importing dbkit "
              f"(`dbkit --help` alone took {startup:.2f} s in this run)."),
    )
    for name, values in samples.items():
        med = statistics.median(values)
        section.rows.append([name, len(values), med, min(values), max(values), f"{med / base:.2f}x"])
    med = statistics.median(noop)
    section.rows.append(["dbkit apply, nothing pending (CLI process)", len(noop), med, min(noop), max(noop),
                         f"{med / base:.2f}x"])
    return [section]


if __name__ == "__main__":
    standalone(run, template=False)
