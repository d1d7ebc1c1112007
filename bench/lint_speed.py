"""How long `dbkit lint` takes on this repository: cold, warm, one file changed, rules alone.

    python bench/lint_speed.py [--repeat 5] [--before "COMMAND"]

Each repeat runs every variant once, interleaved, so a busy neighbour on the shared
machine slows all of them alike; the table gives the median wall time, its spread, the
median CPU time (process and workers: what the cache saves, whatever the load) and the
ratio to sqlfluff run sequentially without a cache (what `dbkit lint` did before the cache and
the workers). `--before` adds a command to compare, e.g. an older checkout's dbkit:
`--before "/path/to/old/.venv/bin/dbkit lint"` (run from this repository's root).
Nothing here touches a database; every cache lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DBKIT = str(Path(sys.executable).with_name("dbkit"))
PROJECT_FILES = ("migrations", "sql", ".sqlfluff", "pyproject.toml", "lint-baseline.toml")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], cwd: Path, cache: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its workers)."""
    env = {**os.environ, "CI": "true", "DBKIT_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    cpu, started = _cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return elapsed, _cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description="dbkit lint timing")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", default=None, help="another lint command to time beside these")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbkit-lint-bench-") as tmp:
        work = Path(tmp)
        copy = work / "project"  # a copy whose files the "one file changed" variant edits
        copy.mkdir()
        for name in PROJECT_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name)
            elif source.exists():
                shutil.copy2(source, copy / name)
        edited = copy / "migrations/strategy_execution/0004_strategy_watchlists.sql"
        warm, changed = work / "warm-cache", work / "changed-cache"
        _run([DBKIT, "lint"], ROOT, warm)
        _run([DBKIT, "lint"], copy, changed)
        rules_only = [sys.executable, "-c", "from dbkit import lint; from dbkit.config import load_settings; "
                      "lint.lint(load_settings(), sqlfluff=False)"]
        variants: dict[str, tuple[list[str], Path, Path | None]] = {
            "sqlfluff sequential, no cache (before)": ([DBKIT, "lint", "--no-cache", "--jobs", "1"], ROOT, None),
            f"sqlfluff on {os.cpu_count()} CPUs, no cache (clean clone)": ([DBKIT, "lint", "--no-cache"], ROOT, None),
            "cache warm, nothing changed": ([DBKIT, "lint"], ROOT, warm),
            "cache warm, one migration edited": ([DBKIT, "lint"], copy, changed),
            "dbkit's rules alone (no sqlfluff)": (rules_only, ROOT, None),
        }
        if args.before:
            variants["--before command"] = (shlex.split(args.before), ROOT, None)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        load = [os.getloadavg()[0]]
        for repeat in range(args.repeat):
            for name, (command, cwd, cache) in variants.items():
                if cache is changed:
                    with edited.open("a", encoding="utf-8") as handle:
                        handle.write(f"-- bench edit {repeat}\n")
                times[name].append(_run(command, cwd, cache or work / f"cold-{repeat}-{len(times[name])}"))
            load.append(os.getloadavg()[0])
    base = statistics.median(wall for wall, _ in times["sqlfluff sequential, no cache (before)"])
    print(f"`python bench/lint_speed.py --repeat {args.repeat}` on {os.cpu_count()} CPUs, "
          f"load average {min(load):.1f}-{max(load):.1f}, {len(list((ROOT / 'migrations').rglob('*.sql'))) + len(list((ROOT / 'sql').rglob('*.sql')))} SQL files")
    print()
    print("| variant | median wall s | min-max wall s | median CPU s | wall vs before |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        walls = [wall for wall, _ in values]
        median = statistics.median(walls)
        cpu = statistics.median(c for _, c in values)
        print(f"| {name} | {median:.1f} | {min(walls):.1f}-{max(walls):.1f} | {cpu:.1f} | {median / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
