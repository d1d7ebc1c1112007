"""How long `dbkit verify` takes on all five modules, read-only and with writes, and how long
`dbkit ci` takes end to end. `python bench/verify_speed.py` (or `bench/run.py --only verify`).

Read-only verify runs against a clone of the migrated template (empty tables, real
statistics); "with writes" adds the behaviour checks that write and the RLS access matrix
(rolled back); "ci-style" also generates each plan's data. `dbkit ci --roundtrip` and
`dbkit ci` are timed as the CLI runs them, each starting its own throwaway cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Cluster, Section, median_seconds, standalone  # noqa: E402

from dbkit import config  # noqa: E402
from dbkit.verify import verify  # noqa: E402

RUNS = 7
CI_RUNS = 3


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def run(c: Cluster) -> list[Section]:
    url = c.clone("bench_verify")
    settings = config.load_settings(ROOT, database_url=url)
    verify(settings)  # warm the catalog caches once
    rows = []
    for label, kwargs, runs in (("read-only (default)", {}, RUNS),
                                ("--with-writes", {"writes": True}, RUNS),
                                ("with writes + generated plan data (as in dbkit ci)",
                                 {"writes": True, "seeded_plans": True}, 3)):
        load = _load()
        median, samples = median_seconds(lambda _: verify(settings, **kwargs), runs)
        rows.append([f"verify {label}", f"{median:.2f}", f"{min(samples):.2f}–{max(samples):.2f}", runs, load])
    for args in (["ci"], ["ci", "--roundtrip"]):
        load = _load()
        median, samples = median_seconds(lambda _: subprocess.run(
            [sys.executable, "-m", "dbkit", *args, "--format", "json"], cwd=ROOT, capture_output=True, check=True),
            CI_RUNS)
        rows.append([f"dbkit {' '.join(args)}", f"{median:.2f}", f"{min(samples):.2f}–{max(samples):.2f}",
                     CI_RUNS, load])
    c.drop("bench_verify")
    return [Section(
        "dbkit verify and dbkit ci: wall-clock seconds", ["command", "median s", "range s", "runs", "load avg (1 min)"],
        rows, note="All five modules on this 2-core machine, shared with other work (load average when each row "
                   "started). Read-only verify: one catalog read, READ ONLY transactions; the dbkit ci rows include "
                   "starting and removing the throwaway cluster.")]


if __name__ == "__main__":
    started = time.perf_counter()
    standalone(run)
    print(f"({time.perf_counter() - started:.0f} s)")
