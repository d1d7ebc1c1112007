"""Profile: where the milliseconds of `dbkit apply` (and of start-up) go (issue 19).

For the project's own migrations and for N trivial ones (`create table t_i (id int)`, the
project `bench/peers.py` generates), each on a fresh empty database:
  * `python -X importtime -m dbkit apply`: the import time of each top-level package;
  * `python -m cProfile -m dbkit apply`: the functions with the most cumulative time, and
    the server round trips (psycopg's wait calls);
  * `python -X importtime -m dbkit --help` / `status`: what start-up imports;
  * in process, after every import: `engine.apply` of the project against the same queries
    sent bare over one psycopg connection (`bench/peers.py`'s floor: a query per migration,
    CONCURRENTLY kept, no checks, no bookkeeping), interleaved, with the time each spends
    waiting on the server: what dbkit's engine adds to the work itself;
  * one `dbkit apply` process of the project with a clock at each phase (no profiler): the
    imports of click, psycopg, dbkit's modules and pglast, then each engine step.

Usage: python bench/apply_profile.py [--trivial 1000] [--top 25]  (starts its own throwaway cluster)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psycopg
from common import ROOT, Cluster, Section, compiled_dbkit, standalone
from peers import export_dbkit, export_units, project_steps, trivial_steps

from dbkit import config, engine

_IMPORT_LINE = re.compile(r"^import time:\s+(?P<self>\d+) \|\s+\d+ \|\s*(?P<name>\S+)")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}


def import_times(argv: list[str], cwd: Path) -> list[tuple[str, float]]:
    """(top-level package, ms) of every package a command imports, slowest first: the self time of
    all its modules (what importing that package itself costs, whoever imported it)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "dbkit", *argv], capture_output=True,
                         text=True, cwd=cwd, env=_env(), check=False)
    totals: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            totals[match["name"].split(".")[0]] += int(match["self"]) / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])


def profile(argv: list[str], cwd: Path, top: int) -> str:
    with tempfile.TemporaryDirectory(prefix="dbkit-prof-") as tmp:
        out = Path(tmp) / "apply.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "dbkit", *argv],
                       capture_output=True, cwd=cwd, env=_env(), check=True)
        stream = io.StringIO()
        stats = pstats.Stats(str(out), stream=stream)
        stats.sort_stats("cumulative").print_stats(top)
        waits = [(k, v) for k, v in stats.stats.items()  # type: ignore[attr-defined]
                 if k[2] in ("wait", "wait_conn") and "psycopg" in k[0]]
        calls = sum(v[1] for _, v in waits if v)
        seconds = sum(v[3] for _, v in waits if v)
    text = stream.getvalue()
    body = text[text.find("   ncalls"):] if "   ncalls" in text else text
    total = re.search(r"in (?P<s>[\d.]+) seconds", text)
    head = (f"total {total['s'] if total else '?'} s under the profiler; psycopg waits (server round trips "
            f"and connects): {calls} calls, {seconds:.2f} s\n")
    return head + "\n".join(line.rstrip()[:160] for line in body.splitlines())


def _waits(prof: cProfile.Profile) -> float:
    """Seconds inside psycopg's wait calls (the server's work and the round trips)."""
    stats = pstats.Stats(prof)
    return sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
               if k[2] in ("wait", "wait_conn") and "psycopg" in k[0])


def in_process(c: Cluster, runs: int = 5) -> Section:
    """engine.apply of the project against its queries sent bare, on fresh databases, interleaved."""
    with tempfile.TemporaryDirectory(prefix="dbkit-units-") as tmp:
        units = [path.read_text(encoding="utf-8") for path in sorted(export_units(project_steps(), Path(tmp)).iterdir())]
    samples: dict[str, list[tuple[float, float]]] = {"bare": [], "dbkit": []}
    for i in range(runs):
        for way in samples:
            url = c.create_empty(f"bench_inproc_{i}_{way}")
            prof = cProfile.Profile()
            started = time.perf_counter()
            if way == "bare":
                with psycopg.connect(url, autocommit=True) as conn:
                    prof.enable()
                    for unit in units:
                        conn.execute(unit)
                    prof.disable()
            else:
                prof.enable()
                engine.apply(config.load_settings(ROOT, database_url=url))
                prof.disable()
            samples[way].append((time.perf_counter() - started, _waits(prof)))
            c.drop(f"bench_inproc_{i}_{way}")
    section = Section(
        "In process: engine.apply of the project against the same queries sent bare",
        ["way", "runs", "median s", "waiting on the server, median s", "the rest (Python), median s"],
        note=(f"{len(units)} queries bare (a migration's `begin; <sql>; commit;`, each statement of a "
              "non-transactional one alone, CONCURRENTLY kept); engine.apply loads the project, checks every "
              "file with PostgreSQL's parser, sets up its bookkeeping and records each migration. Fresh database "
              f"each run, interleaved, median of {runs}; waits measured under cProfile (its overhead is in the "
              "median s column too)."))
    for way, label in (("bare", "the queries sent bare (python + psycopg)"), ("dbkit", "dbkit engine.apply")):
        total = statistics.median(t for t, _ in samples[way])
        waits = statistics.median(w for _, w in samples[way])
        section.rows.append([label, runs, total, waits, total - waits])
    return section


# One `dbkit apply` process with a clock at each phase: the libraries' imports in the order the
# command meets them (pglast, which the first file check imports, taken right after dbkit's own
# modules), then the engine's steps, timed by wrapping them. No profiler, so the figures are
# wall time at full speed; the JSON goes to the file named by argv[2].
_PHASES_SCRIPT = """
import time
T0 = time.perf_counter()
import functools, gc, json, sys
from dbkit.cli import GC_THRESHOLD, main as entry_point  # (before dbkit.cli.main, the module, shadows it)
gc.set_threshold(GC_THRESHOLD)  # the entry point's first step, before the imports
url, out = sys.argv[1], sys.argv[2]
stamps = []
import click; stamps.append(("import click", time.perf_counter()))
import psycopg; stamps.append(("import psycopg", time.perf_counter()))
import dbkit.cli.main; stamps.append(("import dbkit's modules (dbkit.cli.main)", time.perf_counter()))
import pglast; stamps.append(("import pglast", time.perf_counter()))
from dbkit import config, engine
PHASES = [
    (config, "load_settings", "settings (dbkit.toml, environment)"),
    (engine, "load_project", "loading the project (every file, includes, checksums, the plan)"),
    (engine, "connect", "connecting"),
    (engine, "_refuse_read_only", "read-only check"),
    (engine, "_acquire_lock", "advisory lock"),
    (engine, "_ensure_bookkeeping", "bookkeeping tables (created on a fresh database)"),
    (engine, "_applied", "reading what is applied"),
    (engine, "_file_checksums", "reading what is applied"),
    (engine, "_apply_plan", "checking every pending file with pglast (forward and rollback)"),
    (engine, "_run_with_retries", "the migrations, each with its record, one query each"),
]
spent = {}
def timed(module, name, label):
    original = getattr(module, name)
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
    setattr(module, name, wrapper)
for module, name, label in PHASES:
    timed(module, name, label)
sys.argv = ["dbkit", "apply", "--database-url", url]
try:
    entry_point()  # the entry point itself: its imports are done, it runs the command and exits
except SystemExit:
    pass
end = time.perf_counter()
phases, previous = [], T0
for label, at in stamps:
    phases.append((label, at - previous))
    previous = at
phases += [(label, spent.get(label, 0.0)) for label in dict.fromkeys(label for _, _, label in PHASES)]
phases.append(("the rest: the command's own imports (dbkit.engine, ...), its options, session close, the summary",
               end - previous - sum(spent.values())))
json.dump({"phases": phases, "in_process": end - T0}, open(out, "w"))
"""


_OUTSIDE = "Python's own start-up and exit (the process's wall time outside the script)"


def phases(c: Cluster, runs: int = 7) -> Section:
    """Where one `dbkit apply` process's wall time goes, phase by phase, median of runs."""
    totals: list[float] = []
    found: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="dbkit-phases-") as tmp:
        out = Path(tmp) / "phases.json"
        for i in range(runs):
            url = c.create_empty(f"bench_phases_{i}")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", _PHASES_SCRIPT, url, str(out)], cwd=ROOT, env=_env(), check=True,
                           capture_output=True)
            totals.append(time.perf_counter() - started)
            data = json.loads(out.read_text(encoding="utf-8"))
            for label, seconds in data["phases"]:
                found[label].append(seconds)
            found[_OUTSIDE].append(totals[-1] - data["in_process"])
            c.drop(f"bench_phases_{i}")
    section = Section(
        "Phases of one `dbkit apply` of the project, fresh database",
        ["phase", "median ms", "min ms", "max ms"],
        note=(f"Median of {runs} processes; whole process {statistics.median(totals) * 1000:.0f} ms (median). "
              "A clock at each phase, no profiler: the libraries' imports in the order the command meets them "
              "(pglast, which the first file check imports, timed on its own right after dbkit's modules), "
              "then the engine's steps, timed by wrapping them."))
    order = [_OUTSIDE] + [label for label in found if label != _OUTSIDE]
    for label in order:
        values = found[label]
        section.rows.append([label, statistics.median(values) * 1000, min(values) * 1000, max(values) * 1000])
    return section


def _imports_text(rows: list[tuple[str, float]], limit: int = 12) -> str:
    return ", ".join(f"{name} {ms:.0f}" for name, ms in rows[:limit])


def run(c: Cluster, trivial: int = 1000, top: int = 25) -> list[Section]:
    compiled_dbkit()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="dbkit-profile-") as tmp:
        trivial_project = export_dbkit(trivial_steps(trivial), Path(tmp))
        for label, project in (("the project's migrations", ROOT), (f"{trivial:,} trivial migrations", trivial_project)):
            url = c.create_empty("bench_profile")
            imports = import_times(["apply", "--database-url", url], project)
            url = c.create_empty("bench_profile")
            text = profile(["apply", "--database-url", url], project, top)
            sections.append(Section(
                f"Profile of `dbkit apply`, {label}, fresh database",
                [], note=f"Imports (ms of -X importtime, self time summed per top-level package): {_imports_text(imports)}.",
                raw=text))
        url = c.create_empty("bench_profile")
        subprocess.run([sys.executable, "-m", "dbkit", "apply", "--database-url", url], cwd=ROOT, env=_env(),
                       check=True, capture_output=True)
        startup = [f"{' '.join(argv[:1])}: {_imports_text(import_times(argv, ROOT))}"
                   for argv in (["--help"], ["status", "--database-url", url], ["apply", "--database-url", url])]
        sections.append(Section("Imports at start-up (ms of -X importtime, self time summed per top-level package)", [],
                                raw="\n".join(startup)))
        c.drop("bench_profile")
    sections.append(in_process(c))
    sections.append(phases(c))
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description="profile dbkit apply")
    parser.add_argument("--trivial", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    standalone(lambda c: run(c, args.trivial, args.top), template=False)


if __name__ == "__main__":
    main()
