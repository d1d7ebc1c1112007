"""A/B: `dbkit.engine.apply` of every module on a fresh empty database, one git revision
against another (default: the working tree), interleaved, each run in its own process.

Usage: python bench/apply_ab.py REV [--against REV2] [--rounds 11]

Each revision's tree is exported with `git archive` to a temporary directory and run with
PYTHONPATH pointing at its src/ (the installed dependencies are shared); the project files
(migrations, sql) are that revision's too. One throwaway cluster; a new database per run;
the time measured is engine.apply alone, without Python start-up and imports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from common import ROOT

from dbkit.ephemeral import ephemeral_postgres

CHILD = r"""
import sys, time
from pathlib import Path
from dbkit import config, engine
settings = config.load_settings(Path(sys.argv[1]), database_url=sys.argv[2])
started = time.perf_counter()
engine.apply(settings)
print(time.perf_counter() - started)
"""


def export(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev")
    parser.add_argument("--against", default=None, help="the other revision (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=11)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ephemeral_postgres() as server:
        trees = {options.rev: export(options.rev, Path(tmp) / "a")}
        trees[options.against or "working tree"] = (export(options.against, Path(tmp) / "b")
                                                    if options.against else ROOT)
        samples: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(options.rounds):
            for j, (name, tree) in enumerate(trees.items()):
                db = f"ab_{i}_{j}"
                with psycopg.connect(server.url(), autocommit=True) as conn:
                    conn.execute(f'create database "{db}"')
                env = dict(os.environ, PYTHONPATH=str(tree / "src"))
                out = subprocess.run([sys.executable, "-c", CHILD, str(tree), server.url(db)], env=env,
                                     capture_output=True, text=True, check=True)
                samples[name].append(float(out.stdout.strip()))
        print("| tree | runs | median s | min s | max s |\n|---|---|---|---|---|")
        for name, values in samples.items():
            print(f"| {name} | {len(values)} | {statistics.median(values):.3f} | {min(values):.3f} | "
                  f"{max(values):.3f} |")
        first, second = (statistics.median(v) for v in samples.values())
        print(f"\nratio (second / first): {second / first:.2f}")


if __name__ == "__main__":
    main()
