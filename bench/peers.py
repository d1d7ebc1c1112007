"""Benchmark: `dbkit apply` against the migration runners a user would pick instead.

Peers, installed by this benchmark's own setup when missing (`ensure_peers`):
  * psql -1 -f      one file, one transaction (the floor: no runner does less)
  * python+psycopg  `python -c` with psycopg 3 and nothing else, two ways: the psql -1 file in
                    one execute (the least a Python runner on psycopg can do), and one query
                    per migration with CONCURRENTLY kept (`begin; <sql>; commit;`, a
                    non-transactional migration statement by statement): dbkit's own work
                    without its checks and bookkeeping, the floor of dbkit's stack; and
                    the latter with click and pglast imported too: the floor of the
                    libraries dbkit starts with
  * psql -f         one file, one transaction per migration (what dbkit's transactions are)
  * psql per file   one psql process per migration, `-1` each
  * dbmate          npm package `dbmate` (installed under bench/.peers/)
  * sqitch          Debian package `sqitch` (+ libdbd-pg-perl), a plan and deploy scripts
  * yoyo            plain yoyo-migrations, the library dbkit's bookkeeping descends from
  * dbkit           `dbkit apply`, the CLI process, as a user runs it

Two workloads: the project's own migrations, exported in dbkit's plan order with their
`-- include:` files expanded (the same SQL for every tool, one transaction each; a
`-- transactional: false` migration, CREATE INDEX CONCURRENTLY, runs outside a transaction
where the tool allows it: dbmate `transaction:false`, yoyo `-- transactional: false`, sqitch
scripts without BEGIN/COMMIT; `psql -1` cannot run CONCURRENTLY at all, so its file has the
word removed, which only an empty database allows), and N trivial migrations
(`create table t_i (id int)`), which measure each tool's per-migration overhead.

Whole-command wall time from process start to exit; a fresh empty database for every run;
the tools interleaved in each round (a different order each round); the median of the rounds.

Usage: python bench/peers.py [--trivial 1000] [--small 100] [--runs 3] [--only dbkit,dbmate,...]
       (starts its own throwaway cluster; bench/run.py --only peers runs it too)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlparse

from common import ROOT, Cluster, Section, compiled_dbkit, standalone

from dbkit import config
from dbkit.project import load_project

PEERS_DIR = ROOT / "bench" / ".peers"
DBMATE = PEERS_DIR / "node_modules" / ".bin" / "dbmate"


# ------------------------------------------------------------------ setup


def _run_quiet(argv: list[str]) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def ensure_peers() -> list[str]:
    """Install the peers that are missing (Debian packages with apt-get when root, dbmate
    with npm under bench/.peers); return a note for each peer that is still missing."""
    missing: list[str] = []
    if not (shutil.which("sqitch") and _run_quiet(["perl", "-MDBD::Pg", "-e", "1"])):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "sqitch", "libdbd-pg-perl"],
                           capture_output=True, check=False, env=env)
        if not shutil.which("sqitch"):
            missing.append("sqitch (apt-get install sqitch libdbd-pg-perl)")
    if not DBMATE.exists():
        if shutil.which("npm"):
            PEERS_DIR.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEERS_DIR), "dbmate"],
                           capture_output=True, check=False)
        if not DBMATE.exists():
            missing.append("dbmate (npm install dbmate)")
    if not shutil.which("psql"):
        missing.append("psql (apt-get install postgresql-client-15)")
    return missing


def _versions() -> str:
    def first_line(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False)
        except OSError:
            return "missing"
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"

    from importlib.metadata import version
    return "; ".join([
        first_line(["psql", "--version"]),
        "dbmate " + first_line([str(DBMATE), "--version"]).split()[-1] if DBMATE.exists() else "dbmate missing",
        first_line(["sqitch", "--version"]),
        f"yoyo-migrations {version('yoyo-migrations')}",
        f"dbkit {version('dbkit')}",
    ])


# ------------------------------------------------------------------ workloads


@dataclass(frozen=True)
class Step:
    name: str  # a-z0-9_ identifier, unique, sortable in plan order
    sql: str
    transactional: bool


_DIRECTIVE = re.compile(r"^\s*--\s*(depends|transactional)\s*:.*$", re.MULTILINE)


def project_steps() -> list[Step]:
    """The project's migrations in dbkit's plan order, includes expanded, without dbkit's
    directive lines (yoyo would read `-- depends:` naming ids it does not know)."""
    project = load_project(config.load_settings(ROOT))
    return [Step(f"m{i:04d}_{m.id}", _DIRECTIVE.sub("--", m.expanded().text).rstrip() + "\n", m.transactional)
            for i, m in enumerate(project.plan, start=1)]


def trivial_steps(count: int) -> list[Step]:
    return [Step(f"m{i:04d}_t{i}", f"create table public.t_{i} (id int);\n", True) for i in range(1, count + 1)]


def _without_concurrently(sql: str) -> str:
    return sql.replace(" concurrently ", " ").replace(" CONCURRENTLY ", " ")


# ------------------------------------------------------------------ exports, one per tool


def export_psql_single(steps: list[Step], out: Path) -> Path:
    path = out / "all_single.sql"
    path.write_text("".join(f"-- {s.name}\n{_without_concurrently(s.sql)};\n" for s in steps), encoding="utf-8")
    return path


def export_psql_file(steps: list[Step], out: Path) -> Path:
    path = out / "all.sql"
    parts = [f"-- {s.name}\nbegin;\n{s.sql};\ncommit;\n" if s.transactional else f"-- {s.name}\n{s.sql};\n"
             for s in steps]
    path.write_text("".join(parts), encoding="utf-8")
    return path


def export_per_file(steps: list[Step], out: Path) -> Path:
    folder = out / "per_file"
    folder.mkdir()
    for s in steps:
        (folder / f"{s.name}.{'tx' if s.transactional else 'notx'}.sql").write_text(s.sql, encoding="utf-8")
    return folder


def _statements(sql: str) -> list[str]:
    return [st for st in sqlparse.split(sql) if sqlparse.format(st, strip_comments=True).strip()]


def export_units(steps: list[Step], out: Path) -> Path:
    """One file per query a runner sends, in order: a transactional migration wrapped in
    begin/commit, each statement of a non-transactional one alone (CONCURRENTLY kept)."""
    folder = out / "units"
    folder.mkdir()
    n = 0
    for s in steps:
        for body in [f"begin;\n{s.sql};\ncommit;\n"] if s.transactional else _statements(s.sql):
            n += 1
            (folder / f"{n:06d}.sql").write_text(body, encoding="utf-8")
    return folder


def export_dbmate(steps: list[Step], out: Path) -> Path:
    """dbmate sends a migration file as one query string, which PostgreSQL runs as one implicit
    transaction, so a `transaction:false` migration becomes one dbmate migration per statement."""
    folder = out / "dbmate"
    folder.mkdir()
    n = 0
    for s in steps:
        bodies = [s.sql] if s.transactional else _statements(s.sql)
        for k, body in enumerate(bodies):
            n += 1
            up = "-- migrate:up" + ("" if s.transactional else " transaction:false")
            (folder / f"{n:06d}_{s.name}_{k}.sql").write_text(f"{up}\n{body}\n-- migrate:down\n", encoding="utf-8")
    return folder


def export_sqitch(steps: list[Step], out: Path) -> Path:
    folder = out / "sqitch"
    (folder / "deploy").mkdir(parents=True)
    (folder / "sqitch.conf").write_text("[core]\n\tengine = pg\n[user]\n\tname = bench\n\temail = bench@example.invalid\n",
                                        encoding="utf-8")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for s in steps:
        plan.append(f"{s.name} 2026-01-01T00:00:00Z bench <bench@example.invalid> # {s.name}")
        body = f"begin;\n{s.sql};\ncommit;\n" if s.transactional else s.sql
        (folder / "deploy" / f"{s.name}.sql").write_text(body, encoding="utf-8")
    (folder / "sqitch.plan").write_text("\n".join(plan) + "\n", encoding="utf-8")
    return folder


def export_yoyo(steps: list[Step], out: Path) -> Path:
    folder = out / "yoyo"
    folder.mkdir()
    previous = ""
    for s in steps:
        header = ([f"-- depends: {previous}"] if previous else []) + ([] if s.transactional else ["-- transactional: false"])
        (folder / f"{s.name}.sql").write_text("\n".join(header) + ("\n" if header else "") + s.sql, encoding="utf-8")
        previous = s.name
    return folder


def export_dbkit(steps: list[Step], out: Path) -> Path:
    """A dbkit project holding steps as one module (for the trivial workload)."""
    folder = out / "dbkit"
    module = folder / "migrations" / "bench"
    module.mkdir(parents=True)
    (folder / "dbkit.toml").write_text('migrations = "migrations"\nmodules = ["bench"]\n', encoding="utf-8")
    for i, s in enumerate(steps, start=1):
        stem = f"{i:04d}_bench_t{i}"
        (module / f"{stem}.sql").write_text(f"-- Trivial migration {i}.\n{s.sql}", encoding="utf-8")
        (module / f"{stem}.rollback.sql").write_text(f"drop table public.t_{i};\n", encoding="utf-8")
    return folder


# ------------------------------------------------------------------ runners

Runner = Callable[[str], None]
FLOOR = "python+psycopg, a query per migration, CONCURRENTLY kept (dbkit's floor)"
# The same, with the two other libraries `dbkit apply` starts with imported first: click (the
# command line) and pglast (PostgreSQL's parser, which checks every file before the first one
# runs). What dbkit adds above this row is its own code: its modules, loading the project,
# the checks themselves, the lock and the bookkeeping.
NAMED_FLOOR = "python+psycopg, the same with click and pglast imported (the floor of dbkit's libraries)"


def _psql_url(url: str) -> list[str]:
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]


def _check(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} … failed ({result.returncode}): {(result.stderr or result.stdout)[-400:]}")


def runners(steps: list[Step], out: Path, *, dbkit_project: Path) -> dict[str, Runner]:
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    single = export_psql_single(steps, out)
    whole = export_psql_file(steps, out)
    per_file = export_per_file(steps, out)
    dbmate_dir = export_dbmate(steps, out)
    sqitch_dir = export_sqitch(steps, out)
    yoyo_dir = export_yoyo(steps, out)
    dbkit_bin = str(Path(sys.executable).with_name("dbkit"))
    yoyo_bin = str(Path(sys.executable).with_name("yoyo"))

    def psql_per_file(url: str) -> None:
        for path in sorted(per_file.iterdir()):
            one = ["-1"] if path.name.endswith(".tx.sql") else []
            _check(_psql_url(url) + one + ["-f", str(path)], env=quiet)

    units = export_units(steps, out)

    # No parameters, so psycopg sends each text as one simple query (all its statements, one
    # round trip). In one execute: inside the transaction the connection opens, committed on
    # leaving the block. Per migration: autocommit, each unit's own begin/commit.
    def python_psycopg_once(url: str) -> None:
        script = ("import sys, psycopg\n"
                  "with psycopg.connect(sys.argv[1]) as conn:\n"
                  "    conn.execute(open(sys.argv[2], encoding='utf-8').read())\n")
        _check([sys.executable, "-c", script, url, str(single)], env=quiet)

    def python_units(libraries: str) -> Runner:
        script = (f"import sys, os, {libraries}\n"
                  "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
                  "    for name in sorted(os.listdir(sys.argv[2])):\n"
                  "        conn.execute(open(os.path.join(sys.argv[2], name), encoding='utf-8').read())\n")
        return lambda url: _check([sys.executable, "-c", script, url, str(units)], env=quiet)

    def sqitch(url: str) -> None:
        target = "db:" + url.replace("postgresql://", "pg://")
        _check(["sqitch", "--quiet", "deploy", "--target", target], cwd=sqitch_dir, env=quiet)

    def yoyo(url: str) -> None:
        _check([yoyo_bin, "apply", "--batch", "--no-config-file", "--database",
                url.replace("postgresql://", "postgresql+psycopg://"), str(yoyo_dir)], env=quiet)

    return {
        "psql -1 -f (one file, one transaction)": lambda url: _check(_psql_url(url) + ["-1", "-f", str(single)], env=quiet),
        "psql -f (one file, a transaction per migration)": lambda url: _check(_psql_url(url) + ["-f", str(whole)], env=quiet),
        "python+psycopg, the psql -1 file in one execute": python_psycopg_once,
        FLOOR: python_units("psycopg"),
        NAMED_FLOOR: python_units("psycopg, click, pglast"),
        "dbkit apply": lambda url: _check([dbkit_bin, "apply", "--database-url", url], cwd=dbkit_project),
        "dbmate up": lambda url: _check([str(DBMATE), "--url", url + "?sslmode=disable", "--migrations-dir",
                                         str(dbmate_dir), "--no-dump-schema", "up"], env=quiet),
        "yoyo apply": yoyo,
        "psql per file (-1 each)": psql_per_file,
        "sqitch deploy": sqitch,
    }


def measure(c: Cluster, ways: dict[str, Runner], runs: int, tag: str) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in ways}
    order = list(ways)
    rng = random.Random(19)
    for i in range(runs):
        rng.shuffle(order)
        for j, name in enumerate(order):
            db = f"bench_peers_{tag}_{i}_{j}"
            url = c.create_empty(db)
            started = time.perf_counter()
            ways[name](url)
            samples[name].append(time.perf_counter() - started)
            c.drop(db)
    return samples


def _section(title: str, note: str, samples: dict[str, list[float]], count: int) -> Section:
    base = statistics.median(samples[next(iter(samples))])
    # The floor of a runner in Python on psycopg, where it was measured: how far each tool is
    # from what dbkit's own stack cannot go below.
    floor = statistics.median(samples[FLOOR]) if FLOOR in samples else None
    section = Section(title, ["tool", "runs", "median s", "min s", "max s", "vs psql -1 -f"]
                      + (["vs python+psycopg per migration"] if floor else []) + ["per migration ms"], note=note)
    for name, values in sorted(samples.items(), key=lambda kv: statistics.median(kv[1])):
        med = statistics.median(values)
        section.rows.append([name, len(values), med, min(values), max(values), f"{med / base:.2f}x"]
                            + ([f"{med / floor:.2f}x"] if floor else []) + [med / count * 1000])
    return section


def run(c: Cluster, runs: int = 3, trivial: int = 1000, only: tuple[str, ...] = (), small: int = 100) -> list[Section]:
    compiled_dbkit()
    missing = ensure_peers()
    if missing:
        raise RuntimeError("peers missing after setup: " + ", ".join(missing))
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="dbkit-peers-") as tmp:
        out = Path(tmp)
        modules = project_steps()
        sections.append(_modules_section(modules, _measure_steps(c, out, "modules", modules, ROOT, runs, only), runs))
        many = _measure_steps(c, out, "trivial", trivial_steps(trivial), None, runs, only)
        few = _measure_steps(c, out, "trivial_small", trivial_steps(small), None, runs, only) if small else {}
        sections.append(_trivial_section(many, few, trivial, small, runs))
    return sections


def _measure_steps(c: Cluster, out: Path, tag: str, steps: list[Step], project: Path | None, runs: int,
                   only: tuple[str, ...]) -> dict[str, list[float]]:
    folder = out / tag
    folder.mkdir()
    ways = runners(steps, folder, dbkit_project=project or export_dbkit(steps, folder))
    if only:
        ways = {k: v for k, v in ways.items() if k.startswith(("psql -1", "python+psycopg")) or k.split()[0] in only}
    return measure(c, ways, runs, tag)


def _modules_section(steps: list[Step], samples: dict[str, list[float]], runs: int) -> Section:
    lines = sum(s.sql.count("\n") for s in steps)
    return _section(
        f"dbkit against its peers: the project's {len(steps)} migrations ({lines:,} lines of SQL)",
        ("Whole-command wall time on a fresh empty database, tools interleaved in a shuffled order "
         f"each round, median of {runs}. {sum(not s.transactional for s in steps)} migrations are "
         "`transactional: false` (CREATE INDEX CONCURRENTLY); `psql -1 -f` runs them without CONCURRENTLY. "
         f"Versions: {_versions()}."),
        samples, len(steps))


def _trivial_section(many: dict[str, list[float]], few: dict[str, list[float]], count: int, small: int,
                     runs: int) -> Section:
    """The trivial workload's table; with a second, smaller run, each tool's cost of one more
    migration: the slope between the two medians, which leaves out the tool's fixed start-up
    (an interpreter's imports, a Go binary's none) that whole-command time divided by the count
    keeps in."""
    section = _section(
        f"dbkit against its peers: {count:,} trivial migrations (`create table t_i (id int)`)",
        ("Per-migration overhead: each tool records every migration in its own table, one "
         f"transaction each (psql -1 -f: one transaction for all). Median of {runs}."
         + (f" 'ms per added migration' is (median at {count:,} − median at {small:,}) / {count - small:,}, "
            f"both workloads measured in this run, interleaved the same way: each tool's cost of one more "
            "migration, its fixed start-up left out." if few else "")),
        many, count)
    if few:
        section.headers.append("ms per added migration")
        for row in section.rows:
            slope = (statistics.median(many[row[0]]) - statistics.median(few[row[0]])) / (count - small) * 1000
            row.append(slope)
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description="dbkit against its peers")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trivial", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100,
                        help="a second trivial workload of this many migrations, for each tool's cost per added "
                             "migration (0: skip)")
    parser.add_argument("--only", default="", help="comma-separated first words of tools (dbkit,dbmate,yoyo,psql,sqitch)")
    args = parser.parse_args()
    only = tuple(x for x in args.only.split(",") if x)
    standalone(lambda c: run(c, args.runs, args.trivial, only, args.small), template=False)


if __name__ == "__main__":
    main()
