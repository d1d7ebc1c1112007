"""Revert round-trip: prove each migration's rollback restores the catalog exactly.

For every migration N, in plan order, on a database where nothing of the project is
applied yet: apply what N depends on, snapshot the catalog, apply N, roll N back,
snapshot again, and compare. Then N is applied again (which also proves that a
migration applies cleanly after its own rollback) and the next one is tried.

The snapshot is ``dbkit.inspect``'s catalog model, which describes every object by name,
never by OID, so a dropped and re-created object compares equal (schemas, tables, views,
sequences, columns, indexes, constraints, policies, functions, triggers, rules, types,
extensions, event triggers, default privileges, comments, owners and grants), plus each
table's row count. Roles are cluster-wide and kept by design on rollback, so they are
left out; grants to them are in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from dbkit import engine, inspect
from dbkit.config import DatabaseTarget, Settings
from dbkit.ephemeral import throwaway_database
from dbkit.errors import DbkitError, InputError
from dbkit.project import Migration, Project, load_project

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# ---------------------------------------------------------------- the snapshot


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Every user object of the database (``dbkit.inspect``) as ``"<kind> <name>" -> description``,
    plus each user table's row count (``"rows <table>"``)."""
    objects = inspect.read(conn).flat()
    with conn.transaction(force_rollback=True):
        conn.execute("set transaction read only")
        for table in inspect.user_tables(conn).values():
            row = conn.execute(sql.SQL("select count(*) from {}").format(sql.SQL(table))).fetchone()
            objects[f"rows {table}"] = str(row[0] if row else 0)
    return objects


# ---------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Difference:
    object: str  # "<kind> <name>"
    before: str | None  # None: the object is extra after the rollback
    after: str | None  # None: the rollback removed an object that existed before

    def describe(self) -> str:
        if self.before is None:
            return f"extra after rollback: {self.object}"
        if self.after is None:
            return f"missing after rollback: {self.object}"
        return f"changed by apply+rollback: {self.object}: before `{self.before}`, after `{self.after}`"


@dataclass(frozen=True)
class RoundTrip:
    migration: str
    module: str
    differences: tuple[Difference, ...] = ()
    error: str | None = None  # apply or rollback failed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences

    def describe(self) -> str:
        if self.ok:
            return f"{self.migration}: catalog identical after apply + rollback"
        problems = [d.describe() for d in self.differences]
        if self.error is not None:
            problems.append(self.error)
        return f"{self.migration}: " + "; ".join(problems)


def compare(before: dict[str, str], after: dict[str, str]) -> tuple[Difference, ...]:
    keys = sorted(set(before) | set(after))
    return tuple(Difference(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k))


# ---------------------------------------------------------------- running


def run_roundtrip(settings: Settings, *, module: str | None = None, progress: Progress = _quiet) -> tuple[RoundTrip, ...]:
    """Round-trip every migration (of ``module``, or all) on an empty database.

    Raises InputError when any migration of the project is already applied there: the
    check needs to apply each migration from the state just before it.
    """
    project = load_project(settings)
    targets = project.selected(module)
    target = settings.require_database()
    status = engine.status(settings)
    applied = [m.id for m in status.migrations("applied") + status.migrations("changed")]
    if applied:
        raise InputError(
            f"the round-trip needs a database where nothing of the project is applied; "
            f"{target.describe()} has {len(applied)} applied migration(s) ({applied[0]}, …)"
        )
    results: list[RoundTrip] = []
    done: set[str] = set()
    for migration in targets:
        progress(f"round-trip {migration.id}")
        results.append(_one(settings, project, migration, done))
    return tuple(results)


def _one(settings: Settings, project: Project, migration: Migration, done: set[str]) -> RoundTrip:
    target = settings.require_database()
    try:
        for dependency in project.closure({migration.id}):
            if dependency.id != migration.id and dependency.id not in done:
                engine.apply(settings, to=dependency.id)
                done.update(m.id for m in project.closure({dependency.id}))
        with engine.connect(target) as conn:
            before = snapshot(conn)
        engine.apply(settings, to=migration.id)
        engine.rollback(settings, module=migration.module, steps=1, force=True)
        with engine.connect(target) as conn:
            after = snapshot(conn)
    except DbkitError as exc:
        return RoundTrip(migration.id, migration.module, error=str(exc))
    differences = compare(before, after)
    try:
        engine.apply(settings, to=migration.id)  # forward again, for the migrations after it
        done.add(migration.id)
    except DbkitError as exc:
        return RoundTrip(migration.id, migration.module, differences,
                         error=f"applying it again after its rollback failed: {exc}")
    return RoundTrip(migration.id, migration.module, differences)


@contextmanager
def scratch_database(settings: Settings) -> Iterator[Settings]:
    """A fresh database beside ``settings``' database (same server), dropped afterwards."""
    target = settings.require_database()
    with throwaway_database(target.conninfo(), prefix="dbkit_roundtrip_") as name:
        yield replace(settings, database=DatabaseTarget(params={**target.params, "dbname": name},
                                                        password=target.password))


def ci_roundtrip(settings: Settings) -> tuple[bool, str]:
    """For ``dbkit ci --roundtrip``: every migration, in a scratch database on the CI server."""
    with scratch_database(settings) as scratch:
        results = run_roundtrip(scratch)
    failed = [r for r in results if not r.ok]
    if not failed:
        return True, f"{len(results)} migrations: catalog identical after each apply + rollback"
    shown = " | ".join(r.describe() for r in failed[:5])
    return False, f"{len(failed)} of {len(results)} migrations did not round-trip: {shown}"
