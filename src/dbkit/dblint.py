"""``dbkit lint --database [URL]``: the lint's two uses of a database.

* **No URL: a throwaway cluster.** sqlfluff and dbkit's rules never look inside ``$$``
  bodies; the ``plpgsql_check`` extension does, with the real catalog. dbkit starts a
  throwaway cluster, applies every migration with its engine and runs
  ``plpgsql_check_function`` on every plpgsql function (as Supabase's ``db lint`` does).
* **A URL: the target.** Read-only, it reads the size of each table a lock-taking finding
  names and which migrations the target has applied, so lint grades those findings by
  the data they would lock (``dbkit.lint.grading``). It never writes, never runs ANALYZE,
  and takes no lock stronger than ACCESS SHARE (``pg_relation_size`` opens each table with
  it), each wait bounded by ``lock_timeout``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from dbkit import engine, lint
from dbkit.config import Settings
from dbkit.ephemeral import ephemeral_postgres
from dbkit.errors import ConfigError, InputError
from dbkit.lint.grading import TableSize, Target, estimate_rows

SIZE_LOCK_TIMEOUT = "1s"  # wait at most this long for a table's ACCESS SHARE lock, then use pg_class alone


def _quiet(_: str) -> None:
    return None


def lint_project(settings: Settings, *, database: str | None = None, thresholds: lint.Thresholds | None = None,
                 cache: bool = True, jobs: int | None = None,
                 sqlfluff_progress: Callable[[int, int], None] | None = None,
                 progress: Callable[[str], None] = _quiet) -> lint.LintReport:
    """``dbkit lint``: ``database`` None lints the files alone, ``""`` adds plpgsql_check in a throwaway
    cluster, a URL grades the findings by that database's tables and applied migrations."""
    reader = functools.partial(read_target, settings.with_database(database), progress=progress) if database else None
    report = lint.lint(settings, target=reader, thresholds=thresholds, cache=cache, jobs=jobs,
                       progress=sqlfluff_progress)
    if database == "":
        report = report.merged(lint_database(settings, progress=progress), "plpgsql_check")
    return report


def lint_database(settings: Settings, *, progress: Callable[[str], None] = _quiet) -> list[lint.Finding]:
    """Apply the project to a throwaway cluster and return plpgsql_check's findings."""
    with ephemeral_postgres() as server:
        progress(f"throwaway PostgreSQL on port {server.port}: applying every migration")
        applied = settings.with_database(server.url("postgres"))
        engine.apply(applied, progress=progress)
        progress("running plpgsql_check on every plpgsql function")
        with engine.connect(applied.require_database()) as conn:
            return lint.check_functions(conn, settings)


def read_target(settings: Settings, tables: Iterable[str], *,
                progress: Callable[[str], None] = _quiet) -> Target:
    """The target's sizes of ``tables`` and its applied migrations, read-only."""
    target = settings.require_database()
    progress(f"reading the size of {len(set(tables))} table(s) on {target.describe()}")
    with engine.connect(target) as conn:
        conn.execute("set default_transaction_read_only = on")
        conn.execute("select pg_catalog.set_config('lock_timeout', %s, false)", (SIZE_LOCK_TIMEOUT,))
        conn.execute("set statement_timeout = '30s'")
        sizes = table_sizes(conn, tables)
    applied, pending_files = _applied(settings)
    return Target(description=target.describe(), sizes=sizes, applied=applied, pending_files=pending_files)


# One row per leaf of the table (itself when it is not partitioned); none when it does not exist.
_SIZE = """
    with t as (select pg_catalog.to_regclass(pg_catalog.format('%%I.%%I', %s::text, %s::text)) as oid)
    select c.reltuples::float8, c.relpages, {size}, pg_catalog.current_setting('block_size')::int
      from t
      join pg_catalog.pg_class c
        on c.oid = t.oid and c.relkind <> 'p'
        or c.oid in (select p.relid from pg_catalog.pg_partition_tree(t.oid) p
                      where p.isleaf and c.relkind <> 'p')
"""
_SIZE_LOCKED = _SIZE.format(size="pg_catalog.pg_relation_size(c.oid)")
_SIZE_UNLOCKED = _SIZE.format(size="c.relpages::bigint * pg_catalog.current_setting('block_size')::int")


def table_sizes(conn: psycopg.Connection[Any], tables: Iterable[str]) -> dict[str, TableSize]:
    """Estimated rows and bytes of each ``schema.table`` that exists (the planner's estimate).

    dbkit's one size query; it moves to the shared catalog model once that exists. A
    partitioned table is the sum of its leaf partitions. When a table's ACCESS SHARE lock is
    not granted within ``lock_timeout`` (an ACCESS EXCLUSIVE holder), its size comes from
    ``pg_class.relpages`` alone, which needs no lock.
    """
    sizes: dict[str, TableSize] = {}
    for name in sorted(set(tables)):
        schema, _, table = name.partition(".")
        locked = False
        try:
            rows = conn.execute(_SIZE_LOCKED, (schema, table)).fetchall()
        except psycopg.errors.LockNotAvailable:
            rows, locked = conn.execute(_SIZE_UNLOCKED, (schema, table)).fetchall(), True
        if not rows:
            exists = conn.execute("select pg_catalog.to_regclass(pg_catalog.format('%%I.%%I', %s::text, %s::text))",
                                  (schema, table)).fetchone()
            if exists and exists[0] is not None:  # a partitioned table without partitions holds nothing
                sizes[name] = TableSize(rows=0, bytes=0)
            continue  # else not on the target: a pending migration creates it
        estimates = [estimate_rows(float(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
        total = None if any(e is None for e in estimates) else sum(e or 0 for e in estimates)
        sizes[name] = TableSize(rows=total, bytes=sum(int(r[2]) for r in rows), locked=locked)
    return sizes


def _applied(settings: Settings) -> tuple[dict[str, str] | None, frozenset[str]]:
    """Migrations the target's record holds, and included files it would (re-)apply.

    None when the project does not load (its errors are reported as findings anyway).
    """
    try:
        status = engine.status(settings)
    except (InputError, ConfigError):
        return None, frozenset()
    applied = {m.id: m.applied_at or "an unknown time" for mod in status.modules for m in mod.migrations
               if m.state in ("applied", "changed")}
    pending = frozenset(f.path for mod in status.modules for f in mod.files if f.state != "applied")
    return applied, pending
