"""``dbkit ci``: the whole cycle on a throwaway PostgreSQL.

apply → the committed catalog snapshots match what was applied → verify with the checks
that write (rolled back; plans on generated data) → rollback --all → the catalog equals the
empty database's again → apply again → verify again (read-only: the catalog comparison
proves the re-applied state is the same). Each step is recorded; the first step that fails
ends the cycle. The report of the verify with writes is kept for rendering.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from dbkit import engine, inspect, planfile
from dbkit.config import DatabaseTarget, Settings
from dbkit.ephemeral import Binaries, Server, ephemeral_postgres, find_binaries
from dbkit.errors import DbkitError
from dbkit.roundtrip import compare, snapshot
from dbkit.project import load_project
from dbkit.snapshot import Generated, generate, load_all, unexplained
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
    """Every user object and pg_cron job (``dbkit.inspect``) plus every table's row count."""
    return snapshot(conn)


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


Step = Callable[[], tuple[bool, str]]


class _Cycle:
    """The steps of one ci run on its throwaway database; each returns (ok, detail)."""

    def __init__(self, db: Settings) -> None:
        self.db = db
        self.target = db.require_database()
        self.report: VerifyReport | None = None
        self.empty = self.objects()

    def objects(self) -> dict[str, str]:
        with engine.connect(self.target) as conn:
            return leftover_objects(conn)

    def apply(self) -> tuple[bool, str]:
        result = engine.apply(self.db)
        return True, f"{len(result.steps)} migrations and files applied"

    def snapshots_current(self) -> tuple[bool, str]:
        expected, roles = load_all(load_project(self.db))
        with engine.connect(self.target) as conn:
            live = inspect.read(conn, roles=roles)
        problems = unexplained(expected, set(self.empty), live)
        if problems:
            return False, (f"{len(problems)} difference(s) between the SQL and the committed catalog snapshots "
                           f"(run `dbkit snapshot`): {'; '.join(problems[:10])}")
        return True, f"{len(expected)} objects: the committed catalog snapshots match the SQL"

    def plan_current(self) -> tuple[bool, str]:
        state = planfile.state(load_project(self.db))
        if state.exists and not state.current:
            return False, state.message()
        return True, f"{state.path} matches the migrations" if state.exists else "no plan file (none committed)"

    def verify(self, writes: bool) -> tuple[bool, str]:
        result = verify(self.db, writes=writes, seeded_plans=writes)
        if writes or self.report is None:
            self.report = result  # the rendered report is the complete one, with the RLS matrix
        counts = result.counts()
        return not result.failed, ", ".join(f"{counts[k]} {k}" for k in ("pass", "fail", "warn", "skipped"))

    def rollback(self) -> tuple[bool, str]:
        result = engine.rollback(self.db, all_=True)
        return True, f"{len(result.steps)} migrations rolled back"

    def nothing_left(self) -> tuple[bool, str]:
        differences = compare(self.empty, self.objects())
        if differences:
            shown = "; ".join(d.describe() for d in differences[:20])
            return False, f"{len(differences)} differences from the empty database after rollback --all: {shown}"
        return True, "no object of any module is left (roles are kept by design)"

    def steps(self, roundtrip: Callable[[Settings], tuple[bool, str]] | None) -> list[tuple[str, Step]]:
        cycle: list[tuple[str, Step]] = [
            ("plan file current", self.plan_current),
            ("apply", self.apply),
            ("catalog snapshots current", self.snapshots_current),
            ("verify (with writes, rolled back)", lambda: self.verify(True)),
            ("rollback --all", self.rollback),
            ("nothing left", self.nothing_left),
            ("apply again", self.apply),
            ("verify again (read-only)", lambda: self.verify(False)),
        ]
        if roundtrip is not None:
            cycle.append(("revert round-trip of every migration", lambda: roundtrip(self.db)))
        return cycle


def _timed(name: str, action: Step) -> CiStep:
    started = time.perf_counter()
    try:
        ok, detail = action()
    except DbkitError as exc:
        ok, detail = False, str(exc)
    return CiStep(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def run_ci(
    settings: Settings,
    *,
    roundtrip: Callable[[Settings], tuple[bool, str]] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> CiResult:
    steps: list[CiStep] = []
    with ci_database(settings) as (server, db):
        cycle = _Cycle(db)
        for name, action in cycle.steps(roundtrip):
            progress(name)
            steps.append(_timed(name, action))
            if not steps[-1].ok:
                break
        return CiResult(server=server.describe(), steps=tuple(steps), report=cycle.report)


def throwaway_snapshots(settings: Settings, *, progress: Callable[[str], None] = lambda _: None) -> Generated:
    """``dbkit snapshot``: generate every module's catalog snapshot on a throwaway PostgreSQL."""
    with ci_database(settings) as (_, db):
        return generate(db, progress=progress)
