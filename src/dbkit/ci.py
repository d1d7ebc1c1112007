"""``dbkit ci``: the whole cycle on a throwaway PostgreSQL.

apply → verify → rollback --all → the catalog equals the empty database's again →
apply again → verify again. Each step is recorded; the first step that fails ends the cycle. The
verify report of the last verify that ran is kept for rendering.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from dbkit import engine
from dbkit.config import DatabaseTarget, Settings
from dbkit.ephemeral import Binaries, Server, ephemeral_postgres, find_binaries
from dbkit.errors import DbkitError
from dbkit.roundtrip import compare, snapshot
from dbkit.verify import VerifyReport, verify

CI_DATABASE = "dbkit_ci"

@dataclass(frozen=True)
class CiStep:
    name: str
    ok: bool
    detail: str
    duration_ms: float


@dataclass(frozen=True)
class CiResult:
    server: str
    steps: tuple[CiStep, ...]
    report: VerifyReport | None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def leftover_objects(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Every user object (the round-trip snapshot) plus pg_cron jobs, which live in rows."""
    objects = snapshot(conn)
    cron = conn.execute("select to_regclass('cron.job') is not null").fetchone()
    if cron and cron[0]:
        for jobname, command in conn.execute("select jobname, command from cron.job").fetchall():
            objects[f"cron job {jobname}"] = str(command)
    return objects


def server_settings(binaries: Binaries) -> dict[str, str]:
    """Preload pg_cron where its library is installed (pg_config --pkglibdir), so the scheduling path runs for real."""
    if binaries.has_library("pg_cron"):
        return {"shared_preload_libraries": "'pg_cron'", "cron.database_name": f"'{CI_DATABASE}'"}
    return {}


@contextmanager
def ci_database(settings: Settings) -> Iterator[tuple[Server, Settings]]:
    binaries = find_binaries()
    preload = server_settings(binaries)
    with ephemeral_postgres(preload, binaries=binaries) as server, server.database(CI_DATABASE) as url:
        if preload:
            # As on Supabase with pg_cron enabled: the extension exists before the
            # modules are applied, so the scheduling path runs (and is rolled back) for real.
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("create extension if not exists pg_cron")
        yield server, replace(settings, database=DatabaseTarget.parse(url))


def run_ci(
    settings: Settings,
    *,
    roundtrip: Callable[[Settings], tuple[bool, str]] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> CiResult:
    steps: list[CiStep] = []
    report: VerifyReport | None = None
    with ci_database(settings) as (server, db):
        target = db.require_database()

        def objects() -> dict[str, str]:
            with engine.connect(target) as conn:
                return leftover_objects(conn)

        baseline_objects = objects()

        def run(name: str, action: Callable[[], tuple[bool, str]]) -> bool:
            progress(name)
            started = time.perf_counter()
            try:
                ok, detail = action()
            except DbkitError as exc:
                ok, detail = False, str(exc)
            steps.append(CiStep(name, ok, detail, round((time.perf_counter() - started) * 1000, 1)))
            return ok

        def do_apply() -> tuple[bool, str]:
            result = engine.apply(db)
            return True, f"{len(result.steps)} migrations and files applied"

        def do_verify() -> tuple[bool, str]:
            nonlocal report
            report = verify(db)
            counts = report.counts()
            return not report.failed, ", ".join(f"{counts[k]} {k}" for k in ("pass", "fail", "warn", "skipped"))

        def do_rollback() -> tuple[bool, str]:
            result = engine.rollback(db, all_=True)
            return True, f"{len(result.steps)} migrations rolled back"

        def nothing_left() -> tuple[bool, str]:
            differences = compare(baseline_objects, objects())
            if differences:
                shown = "; ".join(d.describe() for d in differences[:20])
                return False, f"{len(differences)} differences from the empty database after rollback --all: {shown}"
            return True, "no object of any module is left (roles are kept by design)"

        cycle: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
            ("apply", do_apply),
            ("verify", do_verify),
            ("rollback --all", do_rollback),
            ("nothing left", nothing_left),
            ("apply again", do_apply),
            ("verify again", do_verify),
        ]
        if roundtrip is not None:
            cycle.append(("revert round-trip of every migration", lambda: roundtrip(db)))
        for name, action in cycle:
            if not run(name, action):
                break
        return CiResult(server=server.describe(), steps=tuple(steps), report=report)
