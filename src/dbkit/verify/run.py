"""``verify()``: one read of the catalog, compared with the snapshots; then the hand-written checks."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg

import dbkit
from dbkit import engine, inspect, snapshot
from dbkit.checkfiles import ModuleChecks, load_module
from dbkit.config import Settings
from dbkit.errors import ConnectionFailed
from dbkit.project import Project, load_project
from dbkit.snapshot import Expected
from dbkit.verify import catalog_checks
from dbkit.verify.catalog_checks import Scope
from dbkit.verify.hand_checks import LOCK_TIMEOUT, STATEMENT_TIMEOUT, Mode, run_hand_checks
from dbkit.verify.model import Check, Collector, IdentityRow, Outcome, VerifyReport, error_text
from dbkit.verify.readonly import volatile_functions

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class _Loaded:
    project: Project
    checks: dict[str, ModuleChecks]
    expected: dict[str, Expected]
    audit_roles: tuple[str, ...]
    missing_snapshots: tuple[str, ...]


def _load(settings: Settings) -> _Loaded:
    """Project, check files and snapshots: bad files fail here, before the database is touched."""
    project = load_project(settings)
    display = {}
    for module in project.modules:
        for path in module.path.glob("*.verify.toml"):
            display[path] = settings.relative(path)
    checks = {m.name: load_module(m, identities=settings.identities, display=display) for m in project.modules}
    expected: dict[str, Expected] = {}
    roles: set[str] = set()
    missing: list[str] = []
    for module in project.modules:
        snap = snapshot.load(project, module.name)
        if snap is None:
            missing.append(module.name)
            continue
        expected.update(snap.objects)
        roles.update(snap.audit_roles)
    return _Loaded(project, checks, expected, tuple(sorted(roles)), tuple(missing))


def verify(settings: Settings, *, module: str | None = None, writes: bool = False, seeded_plans: bool = False,
           progress: Progress = _quiet) -> VerifyReport:
    """Check the live database against the snapshots and the check files (all modules, or ``module``).

    Reads only, unless ``writes``: then behaviour checks and the RLS matrix also run in
    transactions that are always rolled back. ``seeded_plans`` (throwaway databases only)
    runs each plan's data setup first.
    """
    loaded = _load(settings)
    if module is not None:
        loaded.project.module(module)  # InputError for an unknown module
    selected = frozenset([module] if module else [m.name for m in loaded.project.modules])
    target = settings.require_database()
    started_at = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    out = Collector()
    progress("reading migration status")
    status = engine.status(settings, module=module, project=loaded.project)
    status_line, scope, skip = _status_checks(out, loaded, status, selected)
    for name in loaded.missing_snapshots:
        if name in selected:
            out.add(name, f"{name}.snapshot", "snapshot", name, f"migrations/{name}/{snapshot.SNAPSHOT_FILE}",
                    Outcome("a catalog snapshot", "(missing)", (
                        f"module {name} has no {snapshot.SNAPSHOT_FILE}: its catalog is not verified; "
                        "run `dbkit snapshot`",)))
    conn = engine.connect(target, autocommit=False)
    try:
        server_version = _run_checks(out, conn, loaded, scope, Mode(writes, seeded_plans, skip), progress)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(error_text(exc), target=target.describe()) from None
    finally:
        conn.close()
    order, checks = out.ordered([m.name for m in loaded.project.modules])
    return VerifyReport(
        database=target.describe(), server_version=server_version, dbkit_version=dbkit.__version__,
        started_at=started_at.isoformat(timespec="seconds"), duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        modules=order, writes=writes, migration_status=status_line, checks=checks,
        identities=tuple(IdentityRow(i.name, i.shown, i.sub) for i in settings.identities),
    ).with_secrets(target.secrets())


def _read_live(conn: psycopg.Connection[Any], loaded: _Loaded) -> tuple[str, inspect.Catalog, tuple[str, ...]]:
    """Server version, the live catalog of the modules' schemas and the login roles: one READ ONLY read."""
    with conn.transaction(force_rollback=True):
        conn.execute("set transaction read only")
        conn.execute("select pg_catalog.set_config('lock_timeout', %s, true), "
                     "pg_catalog.set_config('statement_timeout', %s, true)", (LOCK_TIMEOUT, STATEMENT_TIMEOUT))
        row = conn.execute("show server_version").fetchone()
        schemas = sorted({o.schema for o in loaded.expected.values()
                          if o.kind in ("schema", "function") or ("." in o.name and o.kind not in _UNQUALIFIED)})
        live = inspect.read(conn, schemas=schemas, roles=loaded.audit_roles, with_roles=True)
        logins = inspect.login_roles(conn)
    return (str(row[0]) if row else "?"), live, logins


_UNQUALIFIED = ("role", "channel", "cron_job", "extension", "event_trigger", "default_acl")


def _run_checks(out: Collector, conn: psycopg.Connection[Any], loaded: _Loaded, scope: Scope, mode: Mode,
                progress: Progress) -> str:
    progress("reading the catalog")
    out.start()
    try:
        version, live, logins = _read_live(conn, loaded)
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:  # e.g. a catalog the connecting role may not read: say so, go on
        out.add("verify", "verify.catalog", "catalog", "catalog", "dbkit verify", Outcome(
            "the catalog is read", "(error)", (f"could not read the catalog: {error_text(exc)}",)))
        version, live, logins = "?", inspect.Catalog(), ()
    else:
        progress("comparing the catalog")
        catalog_checks.check_catalog(out, loaded.expected, live, scope)
        catalog_checks.listen_checks(out, scope, loaded.expected, logins)
        catalog_checks.default_privilege_checks(out, scope, loaded.expected, live)
    index_tables = {o.name.split(".", 1)[1]: o.table or "" for o in live.of_kind("index")}
    # what the live database says, and what the SQL says (should the catalog be unreadable)
    volatile = volatile_functions(live.objects.values()) | volatile_functions(loaded.expected.values())
    mode = replace(mode, volatile=frozenset(volatile))
    for name, checks in loaded.checks.items():
        if name in scope.selected:
            progress(f"hand-written checks of {name}")
            out.start()
            run_hand_checks(out, conn, checks, mode, index_tables)
    return version


def _status_checks(out: Collector, loaded: _Loaded, status: engine.Status,
                   selected: frozenset[str]) -> tuple[str, Scope, dict[str, str]]:
    """Pending migrations fail; edited applied ones warn. Returns the summary line, the scope and skip reasons."""
    applied = {m.id for m in status.migrations("applied") + status.migrations("changed")}
    baselined = {m.id for mod in status.modules for m in mod.migrations if m.baselined}
    skip = {m.id: f"{m.id} is not applied" for m in status.migrations("pending")}
    skip.update({i: f"{i} was baselined: its objects are the application's own" for i in baselined})
    for mod in status.modules:
        if mod.name in selected:
            _module_status_checks(out, mod)
    project = loaded.project
    scope = Scope(
        selected=selected, module_of={m.id: m.module for m in project.plan},
        source_of={m.id: m.forward.name for m in project.plan}, applied=frozenset(applied),
        baselined=frozenset(baselined),
        prerequisite_patterns=tuple(p for c in loaded.checks.values() for p in c.prerequisite_patterns()),
        audit_roles=loaded.audit_roles)
    return _status_line(status), scope, skip


def _status_line(status: engine.Status) -> str:
    count = {state: len(status.migrations(state)) for state in ("applied", "pending", "changed")}
    line = f"{count['applied']} applied, {count['pending']} pending, {count['changed']} changed since applied"
    changed_files = len(status.files("changed"))
    if changed_files:
        line += f", {changed_files} function/policy file(s) to re-apply"
    if status.unknown_applied:
        line += f", {len(status.unknown_applied)} applied with no file in the project ({', '.join(status.unknown_applied)})"
    return line


def _module_status_checks(out: Collector, mod: engine.ModuleStatus) -> None:
    for mig in mod.migrations:
        _migration_check(out, mod.name, mig)
    for f in mod.files:
        if f.state == "changed":
            out.add(mod.name, f"{mod.name}.file.{f.path}", "migration", f.path, f.path, Outcome(
                "applied as in the file", "file changed since applied",
                warnings=(f"{f.path} changed since it was applied: `dbkit apply` re-applies it",)))


def _migration_check(out: Collector, module: str, mig: engine.MigrationStatus) -> None:
    common = (module, f"{module}.migration.{mig.id}", "migration", mig.id, mig.path)
    if mig.state == "pending":
        out.add(*common, Outcome("applied", "pending", (
            f"migration {mig.id} ({mig.path}) is not applied: run `dbkit apply`; its objects and checks were not "
            "verified",)))
    elif mig.state == "changed":
        out.add(*common, Outcome("applied, file unchanged", "changed since applied", warnings=(
            f"applied migration {mig.id} was edited after it was applied ({mig.path} checksum differs): "
            "restore the file or run `dbkit repair`",)))
    else:
        out.add(*common, Outcome("applied", f"applied {mig.applied_at or ''}".strip()
                                 + (" (baselined)" if mig.baselined else "")))


def failed_report(settings: Settings, error: str) -> VerifyReport:
    """A report for a verify that could not run at all (bad connection, bad files): one failed check."""
    target = settings.database
    check = Check(id="verify.could_not_run", module="verify", source="dbkit verify", kind="verify", target="verify",
                  expected="verify runs", actual="(did not run)", status="fail", message=error, duration_ms=0.0)
    return VerifyReport(
        database=target.describe() if target else "(no database)", server_version="?",
        dbkit_version=dbkit.__version__, started_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        duration_ms=0.0, modules=("verify",), writes=False, migration_status="not read", checks=(check,),
    ).with_secrets(target.secrets() if target else ())
