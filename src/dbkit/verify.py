"""Check a live database against every module's ``expectations.toml``.

Four families of checks, each a frozen ``Check``:

* catalog checks (tables and columns, RLS switches, indexes, constraints, policies,
  functions, triggers, pg_cron jobs, seed rows) only read, in a read-only transaction;
* behaviour checks, the RLS access matrix, index-usage plans and the comparison of
  each function/policy file with the live definition run inside a transaction that
  is always rolled back (``--catalog-only`` skips them);
* drift: objects in the modules' schemas that no module declares (warnings);
* migration status from the engine: pending migrations (fail) and applied migrations
  edited since (warn).

Comparison happens in Python, never by asking SQL for a boolean, so a check can
always fail; a failure states what is missing, extra or different as "have: … want: …".
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.adapt import Loader

import dbkit
from dbkit import catalog as cat
from dbkit import engine
from dbkit import expectations as exp
from dbkit.config import TRACKING_SCHEMA, Settings
from dbkit.errors import ConnectionFailed, InputError
from dbkit.project import load_project

Status = Literal["pass", "fail", "warn", "skipped"]
STATUSES: tuple[Status, ...] = ("fail", "warn", "pass", "skipped")

# The two users the RLS matrix and behaviour checks act as ({owner} / {stranger}).
OWNER_UUID = "00000000-0000-4000-8000-00000000d0a1"
STRANGER_UUID = "00000000-0000-4000-8000-00000000d0b2"
IDENTITY_LABELS = {
    "anon": "anon",
    "owner": "authenticated (owner)",
    "stranger": "authenticated (stranger)",
    "service_role": "service_role",
}
CATALOG_ONLY_REASON = "--catalog-only: checks that write (even in a rolled-back transaction) were not run"
# Bounds for every transaction verify opens, so it never queues behind a production lock.
LOCK_TIMEOUT = "3s"
STATEMENT_TIMEOUT = "120s"


@dataclass(frozen=True)
class Check:
    """One verified fact. ``expected``/``actual`` are catalog text; ``message`` says what differs."""

    id: str
    module: str
    source: str
    kind: str
    target: str
    expected: str
    actual: str
    status: Status
    message: str
    duration_ms: float
    cell: tuple[str, str] | None = None  # (identity, command) for RLS matrix checks


@dataclass(frozen=True)
class VerifyReport:
    database: str  # user@host:port/dbname, never a password
    server_version: str
    dbkit_version: str
    started_at: str  # ISO 8601, UTC
    duration_ms: float
    modules: tuple[str, ...]
    catalog_only: bool
    migration_status: str
    checks: tuple[Check, ...]

    @property
    def secrets(self) -> tuple[str, ...]:
        """The connection's password(s), for masking output. Not a field: asdict()/repr never show it."""
        return tuple(getattr(self, "_secrets", ()))

    def with_secrets(self, secrets: tuple[str, ...]) -> VerifyReport:
        object.__setattr__(self, "_secrets", secrets)
        return self

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {s: 0 for s in STATUSES}
        for check in self.checks:
            result[check.status] += 1
        result["total"] = len(self.checks)
        return result

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


# --------------------------------------------------------------------------- helpers


class _TextLoader(Loader):
    """Load every value as PostgreSQL's own text output (``t``, ``2025-01-01``, ...)."""

    def load(self, data: Any) -> str:
        return bytes(data).decode("utf-8")


def _n(text: str | None) -> str | None:
    return cat.normalise(text)


def _have_want(label: str, have: object, want: object) -> str:
    return f"{label}: have: {have if have is not None else '(none)'} want: {want if want is not None else '(none)'}"


class _Runner:
    """Collects checks for one module, timing each."""

    def __init__(self, module: str):
        self.module = module
        self.checks: list[Check] = []

    def add(
        self,
        *,
        id: str,
        source: str,
        kind: str,
        target: str,
        expected: str,
        actual: str,
        problems: list[str] | None = None,
        warnings: list[str] | None = None,
        status: Status | None = None,
        message: str = "",
        started: float,
        cell: tuple[str, str] | None = None,
        module: str | None = None,
    ) -> None:
        if status is None:
            if problems:
                status, message = "fail", "; ".join(problems)
            elif warnings:
                status, message = "warn", "; ".join(warnings)
            else:
                status = "pass"
        self.checks.append(
            Check(
                id=id, module=module or self.module, source=source, kind=kind, target=target,
                expected=expected, actual=actual, status=status, message=message,
                duration_ms=round((time.perf_counter() - started) * 1000, 3), cell=cell,
            )
        )


@contextmanager
def _rolled_back(conn: psycopg.Connection[Any], *, read_only: bool = False) -> Iterator[psycopg.Cursor[Any]]:
    """A transaction that is always rolled back, bounded by lock and statement timeouts."""
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        if read_only:
            cur.execute("set transaction read only")
        cur.execute("select pg_catalog.set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
        cur.execute("select pg_catalog.set_config('statement_timeout', %s, true)", (STATEMENT_TIMEOUT,))
        yield cur


def _text_cursor(conn: psycopg.Connection[Any], oids: list[int]) -> psycopg.Cursor[Any]:
    cur = conn.cursor()
    for oid in oids:
        cur.adapters.register_loader(oid, _TextLoader)
    return cur


def _as_text_rows(rows: Iterable[Iterable[Any]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple("NULL" if v is None else str(v) for v in row) for row in rows)


def _fmt_rows(rows: tuple[tuple[str, ...], ...] | None) -> str:
    if rows is None:
        return "(none)"
    return json.dumps([list(r) for r in rows])


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or "?"
        primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
        return f"{primary} [SQLSTATE {state}]"
    return str(exc)


def _set_identity(cur: psycopg.Cursor[Any], role: str | None, claims: dict[str, str] | None) -> None:
    if claims is not None:
        cur.execute(
            "select pg_catalog.set_config('request.jwt.claims', %s, true), "
            "pg_catalog.set_config('request.jwt.claim.sub', %s, true), "
            "pg_catalog.set_config('request.jwt.claim.role', %s, true)",
            (json.dumps(claims), claims.get("sub", ""), claims.get("role", "")),
        )
    if role is not None:
        cur.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))


def _placeholders(text: str) -> str:
    return text.replace("{owner}", OWNER_UUID).replace("{stranger}", STRANGER_UUID)


# --------------------------------------------------------------------------- catalog checks


def _check_tables(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for t in m.tables:
        started = time.perf_counter()
        want = {name: spec for name, spec in t.columns}
        expected = "\n".join(f"{k} {v}" for k, v in want.items()) or "(table exists)"
        info = c.tables.get(t.key)
        if info is None:
            r.add(id=f"{m.name}.table.{t.key}", source=t.source, kind="table", target=t.key, expected=expected,
                  actual="(missing)", problems=[f"table {t.key} does not exist"], started=started)
        else:
            have = info.columns
            problems = []
            for name, spec in want.items():
                if name not in have:
                    problems.append(f"missing column {name} (want: {spec})")
                elif _n(have[name]) != _n(spec):
                    problems.append(_have_want(f"column {name}", have[name], spec))
            actual = "\n".join(f"{k} {have[k]}" for k in want if k in have) or "(no declared column present)"
            r.add(id=f"{m.name}.table.{t.key}", source=t.source, kind="table", target=t.key, expected=expected,
                  actual=actual, problems=problems, started=started)
        if t.rls is not None or t.force_rls is not None:
            started = time.perf_counter()
            want_rls = f"enabled={_tf(t.rls)} forced={_tf(t.force_rls)}"
            if info is None:
                r.add(id=f"{m.name}.rls_enabled.{t.key}", source=t.source, kind="rls_enabled", target=t.key,
                      expected=want_rls, actual="(missing)", problems=[f"table {t.key} does not exist"],
                      started=started)
                continue
            problems = []
            if t.rls is not None and t.rls != info.rls:
                problems.append(_have_want("row level security (pg_tables.rowsecurity)", _onoff(info.rls), _onoff(t.rls)))
            if t.force_rls is not None and t.force_rls != info.force_rls:
                problems.append(_have_want("forced row level security", _onoff(info.force_rls), _onoff(t.force_rls)))
            r.add(id=f"{m.name}.rls_enabled.{t.key}", source=t.source, kind="rls_enabled", target=t.key,
                  expected=want_rls, actual=f"enabled={_tf(info.rls)} forced={_tf(info.force_rls)}",
                  problems=problems, started=started)


def _tf(value: bool | None) -> str:
    return "(not checked)" if value is None else ("true" if value else "false")


def _onoff(value: bool) -> str:
    return "enabled" if value else "disabled"


def _check_indexes(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for i in m.indexes:
        started = time.perf_counter()
        info = c.indexes.get(i.key)
        if info is None:
            r.add(id=f"{m.name}.index.{i.key}", source=i.source, kind="index", target=i.key, expected=i.definition,
                  actual="(missing)", problems=[f"index {i.key} does not exist (want: {i.definition})"], started=started)
            continue
        problems = [] if _n(info.definition) == _n(i.definition) else [_have_want(f"index {i.key}", info.definition, i.definition)]
        r.add(id=f"{m.name}.index.{i.key}", source=i.source, kind="index", target=i.key, expected=i.definition,
              actual=info.definition, problems=problems, started=started)


def _check_constraints(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for k in m.constraints:
        started = time.perf_counter()
        info = c.constraints.get(k.key)
        want = f"{k.type}: {k.definition}"
        if info is None:
            table = k.key.rsplit(".", 1)[0]
            where = "" if table in c.tables else f" (table {table} does not exist)"
            r.add(id=f"{m.name}.constraint.{k.key}", source=k.source, kind="constraint", target=k.key, expected=want,
                  actual="(missing)", problems=[f"{k.type} constraint {k.key} does not exist{where} (want: {k.definition})"],
                  started=started)
            continue
        problems = []
        if info.type != k.type:
            problems.append(_have_want(f"constraint {k.key} type", info.type, k.type))
        if _n(info.definition) != _n(k.definition):
            problems.append(_have_want(f"constraint {k.key}", info.definition, k.definition))
        r.add(id=f"{m.name}.constraint.{k.key}", source=k.source, kind="constraint", target=k.key, expected=want,
              actual=f"{info.type}: {info.definition}", problems=problems, started=started)


def _policy_text(command: str, roles: tuple[str, ...], permissive: bool, using: str | None, check: str | None) -> str:
    return (
        f"{'permissive' if permissive else 'restrictive'} for {command} to {', '.join(roles)}"
        f"\nusing: {using if using is not None else '(none)'}\nwith check: {check if check is not None else '(none)'}"
    )


def _check_policies(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for p in m.policies:
        started = time.perf_counter()
        want = _policy_text(p.command, p.roles, p.permissive, p.using, p.with_check)
        info = c.policies.get(p.key)
        if info is None:
            r.add(id=f"{m.name}.policy.{p.key}", source=p.source, kind="policy", target=p.key, expected=want,
                  actual="(missing)", problems=[f"policy {p.key} does not exist"], started=started)
            continue
        problems = []
        if info.command != p.command:
            problems.append(_have_want("command", info.command, p.command))
        if info.roles != p.roles:
            problems.append(_have_want("roles", ", ".join(info.roles), ", ".join(p.roles)))
        if info.permissive != p.permissive:
            problems.append(_have_want("mode", _perm(info.permissive), _perm(p.permissive)))
        if _n(info.using) != _n(p.using):
            problems.append(_have_want("using", info.using, p.using))
        if _n(info.with_check) != _n(p.with_check):
            problems.append(_have_want("with check", info.with_check, p.with_check))
        if problems:
            problems[0] = f"policy {p.key}: {problems[0]}"
        r.add(id=f"{m.name}.policy.{p.key}", source=p.source, kind="policy", target=p.key, expected=want,
              actual=_policy_text(info.command, info.roles, info.permissive, info.using, info.with_check),
              problems=problems, started=started)


def _perm(permissive: bool) -> str:
    return "PERMISSIVE" if permissive else "RESTRICTIVE"


def _function_text(returns: str | None, language: str | None, volatility: str | None, secdef: bool,
                   search_path: str | None, execute: tuple[str, ...] | None) -> str:
    parts = [
        f"returns {returns if returns is not None else '(not checked)'}",
        f"language {language if language is not None else '(not checked)'}",
        f"{volatility if volatility is not None else '(volatility not checked)'}",
        "security definer" if secdef else "security invoker",
        f"search_path {search_path!r}" if search_path is not None else "search_path not pinned",
        f"execute: {', '.join(execute) if execute else '(owner only)'}" if execute is not None else "execute: (not checked)",
    ]
    return "\n".join(parts)


def _check_functions(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog, canonical: dict[str, str | None]) -> None:
    for f in m.functions:
        started = time.perf_counter()
        want = _function_text(f.returns, f.language, f.volatility, f.security_definer, f.search_path, f.execute)
        key = canonical.get(f.key) or f.key
        info = c.functions.get(key)
        if info is None:
            r.add(id=f"{m.name}.function.{f.key}", source=f.source, kind="function", target=f.key, expected=want,
                  actual="(missing)", problems=[f"function {f.key} does not exist"], started=started)
            continue
        problems = []
        if f.returns is not None and _n(info.returns) != _n(f.returns):
            problems.append(_have_want("returns", info.returns, f.returns))
        if f.language is not None and info.language != f.language:
            problems.append(_have_want("language", info.language, f.language))
        if f.volatility is not None and info.volatility != f.volatility:
            problems.append(_have_want("volatility", info.volatility, f.volatility))
        if info.security_definer != f.security_definer:
            problems.append(_have_want("security", _sec(info.security_definer), _sec(f.security_definer)))
        if info.search_path != f.search_path:
            problems.append(_have_want(
                "pinned search_path",
                repr(info.search_path) if info.search_path is not None else "(not pinned)",
                repr(f.search_path) if f.search_path is not None else "(not pinned)",
            ))
        if f.execute is not None and tuple(sorted(info.execute)) != f.execute:
            extra = sorted(set(info.execute) - set(f.execute))
            missing = sorted(set(f.execute) - set(info.execute))
            detail = []
            if extra:
                detail.append(f"extra EXECUTE for {', '.join(extra)}")
            if missing:
                detail.append(f"missing EXECUTE for {', '.join(missing)}")
            problems.append(
                _have_want("execute", ", ".join(info.execute) or "(owner only)", ", ".join(f.execute) or "(owner only)")
                + f" ({'; '.join(detail)})"
            )
        if problems:
            problems[0] = f"function {f.key}: {problems[0]}"
        actual = _function_text(info.returns, info.language, info.volatility, info.security_definer,
                                info.search_path, info.execute)
        actual += f"\neffective EXECUTE among API roles: {', '.join(info.effective) or '(none)'}"
        r.add(id=f"{m.name}.function.{f.key}", source=f.source, kind="function", target=f.key, expected=want,
              actual=actual, problems=problems, started=started)


def _sec(definer: bool) -> str:
    return "SECURITY DEFINER" if definer else "SECURITY INVOKER"


def _check_triggers(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for t in m.triggers:
        started = time.perf_counter()
        info = c.triggers.get(t.key)
        if info is None:
            r.add(id=f"{m.name}.trigger.{t.key}", source=t.source, kind="trigger", target=t.key, expected=t.definition,
                  actual="(missing)", problems=[f"trigger {t.key} does not exist (want: {t.definition})"], started=started)
            continue
        problems = []
        if _n(info.definition) != _n(t.definition):
            problems.append(_have_want(f"trigger {t.key}", info.definition, t.definition))
        if not info.enabled:
            problems.append(f"trigger {t.key} is disabled (ALTER TABLE … DISABLE TRIGGER)")
        r.add(id=f"{m.name}.trigger.{t.key}", source=t.source, kind="trigger", target=t.key, expected=t.definition,
              actual=info.definition + ("" if info.enabled else "\n(disabled)"), problems=problems, started=started)


def _check_cron(r: _Runner, m: exp.ModuleExpectations, c: cat.Catalog) -> None:
    for j in m.cron:
        started = time.perf_counter()
        want = f"{j.schedule} {j.command}"
        if c.cron is None:
            r.add(id=f"{m.name}.cron.{j.key}", source=j.source, kind="cron", target=j.key, expected=want,
                  actual="(pg_cron not installed)", status="skipped",
                  message="pg_cron is not installed in this database (no cron.job table)", started=started)
            continue
        job = c.cron.get(j.key)
        if job is None:
            r.add(id=f"{m.name}.cron.{j.key}", source=j.source, kind="cron", target=j.key, expected=want,
                  actual="(missing)", problems=[f"pg_cron job {j.key!r} is not scheduled"], started=started)
            continue
        problems = []
        if _n(job[0]) != _n(j.schedule):
            problems.append(_have_want(f"cron job {j.key} schedule", job[0], j.schedule))
        if _n(job[1]) != _n(j.command):
            problems.append(_have_want(f"cron job {j.key} command", job[1], j.command))
        r.add(id=f"{m.name}.cron.{j.key}", source=j.source, kind="cron", target=j.key, expected=want,
              actual=f"{job[0]} {job[1]}", problems=problems, started=started)


def _check_rows(r: _Runner, m: exp.ModuleExpectations, conn: psycopg.Connection[Any], oids: list[int]) -> None:
    for row in m.rows:
        started = time.perf_counter()
        try:
            with _rolled_back(conn, read_only=True):
                cur = _text_cursor(conn, oids)
                cur.execute(row.query)
                have = _as_text_rows(cur.fetchall()) if cur.description else ()
        except psycopg.Error as exc:
            r.add(id=row.id, source=row.source, kind="row", target=row.query, expected=_fmt_rows(row.expect),
                  actual="(error)", problems=[f"query failed: {_error_text(exc)}"], started=started)
            continue
        problems = []
        if have != row.expect:
            missing = [list(x) for x in row.expect if x not in have]
            extra = [list(x) for x in have if x not in row.expect]
            detail = []
            if missing:
                detail.append(f"missing rows {json.dumps(missing)}")
            if extra:
                detail.append(f"extra rows {json.dumps(extra)}")
            if not detail:
                detail.append("same rows in a different order")
            problems.append(_have_want("rows", _fmt_rows(have), _fmt_rows(row.expect)) + f" ({'; '.join(detail)})")
        r.add(id=row.id, source=row.source, kind="row", target=row.query, expected=_fmt_rows(row.expect),
              actual=_fmt_rows(have), problems=problems, started=started)


# --------------------------------------------------------------------------- checks that write (rolled back)


def _check_behaviour(r: _Runner, m: exp.ModuleExpectations, conn: psycopg.Connection[Any], oids: list[int]) -> None:
    for b in m.behaviour:
        started = time.perf_counter()
        if b.expect_error is not None:
            want = f"error SQLSTATE {' or '.join(b.accepted_errors)}"
        elif b.expect_rowcount is not None:
            want = f"{b.expect_rowcount} row(s) affected"
        else:
            want = _fmt_rows(b.expect)
        target = b.description or b.sql
        try:
            with _rolled_back(conn) as cur:
                if b.setup:
                    try:
                        with conn.transaction():
                            cur.execute(_placeholders(b.setup))
                    except psycopg.Error as exc:
                        r.add(id=b.id, source=b.source, kind="behaviour", target=target, expected=want,
                              actual="(setup failed)", problems=[f"setup failed: {_error_text(exc)}"], started=started)
                        continue
                claims = None
                if b.role is not None or b.sub is not None:
                    claims = {"role": b.role or "authenticated"}
                    if b.sub is not None:
                        claims["sub"] = _placeholders(b.sub)
                try:
                    with conn.transaction():
                        _set_identity(cur, b.role, claims)
                except psycopg.Error as exc:
                    r.add(id=b.id, source=b.source, kind="behaviour", target=target, expected=want,
                          actual="(error)", problems=[f"cannot act as role {b.role}: {_error_text(exc)}"], started=started)
                    continue
                tcur = _text_cursor(conn, oids)
                error: psycopg.Error | None = None
                have_rows: tuple[tuple[str, ...], ...] | None = None
                rowcount = -1
                try:
                    with conn.transaction():
                        tcur.execute(_placeholders(b.sql))
                        while tcur.nextset():
                            pass
                        rowcount = tcur.rowcount
                        if tcur.description is not None:
                            have_rows = _as_text_rows(tcur.fetchall())
                except psycopg.Error as exc:
                    error = exc
        except psycopg.Error as exc:  # the transaction itself could not start or end
            r.add(id=b.id, source=b.source, kind="behaviour", target=target, expected=want,
                  actual="(error)", problems=[f"could not run: {_error_text(exc)}"], started=started)
            continue
        problems: list[str] = []
        if error is not None:
            actual = f"error {_error_text(error)}"
            if error.sqlstate not in b.accepted_errors:
                problems.append(_have_want(target, actual, want))
        elif b.expect_error is not None:
            actual = "succeeded" + (f" ({rowcount} row(s))" if rowcount >= 0 else "")
            problems.append(_have_want(target, actual, want))
        elif b.expect_rowcount is not None:
            actual = f"{rowcount} row(s) affected"
            if rowcount != b.expect_rowcount:
                problems.append(_have_want(target, actual, want))
        else:
            actual = _fmt_rows(have_rows)
            if have_rows != b.expect:
                problems.append(_have_want(target, actual, want))
        r.add(id=b.id, source=b.source, kind="behaviour", target=target, expected=want, actual=actual,
              problems=problems, started=started)


def _identity(identity: str) -> tuple[str, dict[str, str]]:
    if identity == "anon":
        return "anon", {"role": "anon"}
    if identity == "service_role":
        return "service_role", {"role": "service_role"}
    sub = OWNER_UUID if identity == "owner" else STRANGER_UUID
    return "authenticated", {"sub": sub, "role": "authenticated"}


def _check_rls_matrix(r: _Runner, m: exp.ModuleExpectations, conn: psycopg.Connection[Any]) -> None:
    declared = {x.table for x in m.rls}
    for t in m.tables:
        if t.rls and t.key not in declared:
            r.add(id=f"{m.name}.rls.{t.key}", source=t.source, kind="rls", target=t.key,
                  expected="an access matrix", actual="(none declared)", status="warn",
                  message=f"table {t.key} has row level security but no [rls.\"{t.key}\"] access matrix",
                  started=time.perf_counter())
    for x in m.rls:
        started = time.perf_counter()
        statements = dict(x.statements)
        try:
            with _rolled_back(conn) as cur:
                setup_error = None
                if x.setup:
                    try:
                        with conn.transaction():
                            cur.execute(_placeholders(x.setup))
                    except psycopg.Error as exc:
                        setup_error = _error_text(exc)
                for identity in exp.IDENTITIES:
                    for command in exp.COMMANDS:
                        cell_started = time.perf_counter() if (identity, command) != ("anon", "select") else started
                        want = "allowed" if command in x.allowed_for(identity) else "denied"
                        cid = f"{m.name}.rls.{x.table}.{identity}.{command}"
                        label = f"{IDENTITY_LABELS[identity]} {command.upper()} on {x.table}"
                        common = dict(id=cid, source=x.source, kind="rls", target=x.table, expected=want,
                                      cell=(identity, command))
                        if command not in statements:
                            r.add(**common, actual="(not run)", status="skipped",  # type: ignore[arg-type]
                                  message=f"no {command} statement declared in [rls.\"{x.table}\"]", started=cell_started)
                            continue
                        if setup_error is not None:
                            r.add(**common, actual="(setup failed)",  # type: ignore[arg-type]
                                  problems=[f"{label}: setup failed: {setup_error}"], started=cell_started)
                            continue
                        actual, detail = _run_cell(conn, cur, identity, command, _placeholders(statements[command]))
                        problems = [] if actual == want else [
                            f"{label}: have: {actual}{f' ({detail})' if detail else ''} want: {want}"
                        ]
                        r.add(**common, actual=actual + (f" ({detail})" if detail else ""),  # type: ignore[arg-type]
                              problems=problems, started=cell_started)
        except psycopg.Error as exc:
            r.add(id=f"{m.name}.rls.{x.table}", source=x.source, kind="rls", target=x.table, expected="matrix",
                  actual="(error)", problems=[f"access matrix for {x.table} could not run: {_error_text(exc)}"],
                  started=started)


class _UndoCell(Exception):
    pass


def _run_cell(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], identity: str, command: str,
              statement: str) -> tuple[str, str]:
    """Run one statement as one identity in a savepoint that is rolled back. -> (allowed|denied|error, detail)."""
    role, claims = _identity(identity)
    try:
        with conn.transaction():
            _set_identity(cur, role, claims)
            cur.execute(statement)
            count = cur.rowcount
            raise _UndoCell(str(count))
    except _UndoCell as done:
        count = int(str(done))
    except psycopg.Error as exc:
        if exc.sqlstate == "42501":
            return "denied", _error_text(exc)
        return "error", _error_text(exc)
    if count >= 1:
        return "allowed", f"{count} row(s)"
    return "denied", "0 rows"


def _plan_nodes(plan: Any) -> Iterator[dict[str, Any]]:
    if isinstance(plan, dict):
        if "Node Type" in plan:
            yield plan
        for value in plan.values():
            yield from _plan_nodes(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _plan_nodes(value)


_ANALYZE = re.compile(r"^\s*analyze\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*;", re.IGNORECASE | re.MULTILINE)


def _restore_statistics(conn: psycopg.Connection[Any], setup: str | None) -> None:
    """ANALYZE writes pg_class.reltuples/relpages in place, so the seeded rows' counts
    survive the rollback; a plain ANALYZE afterwards puts the real data's back."""
    for table in _ANALYZE.findall(setup or ""):
        with conn.transaction():
            conn.execute("select pg_catalog.set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(*table.split("."))))


def _check_plans(r: _Runner, m: exp.ModuleExpectations, conn: psycopg.Connection[Any]) -> None:
    for p in m.plans:
        started = time.perf_counter()
        want_index = p.uses_index.rsplit(".", 1)[-1]
        method = ("seeded rows + ANALYZE in the rolled-back transaction" if p.setup
                  else "enable_seqscan = off (index eligibility)")
        want = f"plan uses index {want_index} ({method})"
        try:
            with _rolled_back(conn) as cur:
                if p.setup:
                    cur.execute(_placeholders(p.setup))
                else:
                    cur.execute("set local enable_seqscan = off")
                cur.execute("explain (format json) " + _placeholders(p.query))
                row = cur.fetchone()
        except psycopg.Error as exc:
            r.add(id=p.id, source=p.source, kind="plan", target=p.query, expected=want, actual="(error)",
                  problems=[f"plan check failed to run: {_error_text(exc)}"], started=started)
            continue
        finally:
            _restore_statistics(conn, p.setup)
        raw = row[0] if row else []
        plan = json.loads(raw) if isinstance(raw, str) else raw
        nodes = list(_plan_nodes(plan))
        used = [n["Index Name"] for n in nodes if "Index Name" in n]
        scans = [
            f"{n['Node Type']}" + (f" using {n['Index Name']}" if "Index Name" in n else "")
            + (f" on {n.get('Schema', '') + '.' if n.get('Schema') else ''}{n['Relation Name']}" if "Relation Name" in n else "")
            for n in nodes if "Scan" in n["Node Type"]
        ]
        actual = "; ".join(scans) or "(no scan nodes)"
        problems = [] if want_index in used else [_have_want(f"plan of {p.id}", actual, f"a scan using {want_index}")]
        r.add(id=p.id, source=p.source, kind="plan", target=p.query, expected=want, actual=actual,
              problems=problems, started=started)


def _check_definitions(r_by_module: dict[str, _Runner], files: list[tuple[str, str, str]],
                       conn: psycopg.Connection[Any]) -> None:
    """Apply each function/policy file in a rolled-back transaction; any change means live != file."""
    for module, name, text in files:
        r = r_by_module[module]
        started = time.perf_counter()
        kind = "definition"
        try:
            with _rolled_back(conn) as cur:
                before = cat.read_definitions(conn)
                try:
                    with conn.transaction():
                        cur.execute(text)
                except psycopg.Error as exc:
                    r.add(id=f"{module}.definition.{name}", source=name, kind=kind, target=name,
                          expected="live definition equals the file", actual="(file does not apply)",
                          problems=[f"{name} cannot be applied over the live database: {_error_text(exc)}"],
                          started=started)
                    continue
                after = cat.read_definitions(conn)
        except psycopg.Error as exc:
            r.add(id=f"{module}.definition.{name}", source=name, kind=kind, target=name,
                  expected="live definition equals the file", actual="(not compared)", status="warn",
                  message=f"could not compare {name} with the live database: {_error_text(exc)}", started=started)
            continue
        problems: list[str] = []
        diffs: list[str] = []
        for label, old, new in (("function", before.functions, after.functions),
                                ("policy", before.policies, after.policies),
                                ("table", before.rls, after.rls)):
            for key in sorted(set(old) | set(new)):
                if old.get(key) == new.get(key):
                    continue
                if key not in old:
                    problems.append(f"{label} {key} is in {name} but not in the database")
                elif key not in new:
                    problems.append(f"{label} {key} is in the database but {name} drops it")
                else:
                    problems.append(f"{label} {key} differs from {name} (live definition edited or file changed since apply)")
                diffs.extend(difflib.unified_diff(
                    (old.get(key) or "").splitlines(), (new.get(key) or "").splitlines(),
                    fromfile=f"live {key}", tofile=f"{name}", lineterm="", n=1,
                ))
        actual = "\n".join(diffs[:60]) + ("\n…" if len(diffs) > 60 else "") if diffs else "live definition equals the file"
        r.add(id=f"{module}.definition.{name}", source=name, kind=kind, target=name,
              expected="live definition equals the file", actual=actual, problems=problems, started=started)


# --------------------------------------------------------------------------- drift


def _drift(runners: dict[str, _Runner], mods: list[exp.ModuleExpectations], c: cat.Catalog,
           selected: set[str], canonical: dict[str, str | None]) -> None:
    table_owner: dict[str, str] = {}
    declared_columns: dict[str, set[str]] = {}
    for m in mods:
        for t in m.tables:
            table_owner.setdefault(t.key, m.name)
            declared_columns.setdefault(t.key, set()).update(name for name, _ in t.columns)
    schema_owners: dict[str, list[str]] = {}
    for m in mods:
        for s in m.schemas:
            schema_owners.setdefault(s, []).append(m.name)

    def owner(schema: str, table: str | None) -> str:
        if table is not None and table in table_owner:
            return table_owner[table]
        owners = schema_owners.get(schema, [])
        return owners[0] if len(owners) == 1 else "shared"

    def warn(kind: str, key: str, schema: str, table: str | None, what: str, have: str) -> None:
        module = owner(schema, table)
        if module not in selected and not (module == "shared" and len(selected) > 1):
            return
        runner = runners.setdefault(module, _Runner(module))
        runner.add(id=f"drift.{kind}.{key}", source="drift", kind="drift", target=key, expected="(not declared)",
                   actual=have, status="warn",
                   message=f"{what} {key} exists in the database but no module's expectations.toml declares it",
                   started=time.perf_counter())

    idx = {i.key for m in mods for i in m.indexes}
    cons = {k.key for m in mods for k in m.constraints}
    pols = {p.key for m in mods for p in m.policies}
    trgs = {t.key for m in mods for t in m.triggers}
    funs = {canonical.get(f.key) or f.key for m in mods for f in m.functions}

    for key, info in c.tables.items():
        schema = key.split(".", 1)[0]
        if info.extension or schema == TRACKING_SCHEMA:
            continue
        if key not in table_owner:
            warn("table", key, schema, None, "table", ", ".join(info.columns))
            continue
        for col, spec in info.columns.items():
            if col not in declared_columns[key]:
                warn("column", f"{key}.{col}", schema, key, "column", spec)
    for key, iinfo in c.indexes.items():
        if iinfo.extension or iinfo.constraint_backed or key in idx:
            continue
        warn("index", key, key.split(".", 1)[0], iinfo.table, "index", iinfo.definition)
    for key, cinfo in c.constraints.items():
        if cinfo.extension or key in cons:
            continue
        warn("constraint", key, key.split(".", 1)[0], cinfo.table, f"{cinfo.type} constraint", cinfo.definition)
    for key, pinfo in c.policies.items():
        if key in pols:
            continue
        warn("policy", key, key.split(".", 1)[0], pinfo.table, "policy",
             _policy_text(pinfo.command, pinfo.roles, pinfo.permissive, pinfo.using, pinfo.with_check))
    for key, tinfo in c.triggers.items():
        if tinfo.extension or key in trgs:
            continue
        warn("trigger", key, key.split(".", 1)[0], tinfo.table, "trigger", tinfo.definition)
    for key, finfo in c.functions.items():
        if finfo.extension or key in funs:
            continue
        warn("function", key, key.split(".", 1)[0], None, "function", f"returns {finfo.returns}")


# --------------------------------------------------------------------------- migration status


def _migration_checks(settings: Settings, module: str | None, selected: set[str],
                      runners: dict[str, _Runner]) -> str:
    """Pending migrations fail; edited applied migrations and changed files warn. Returns a summary line."""
    started = time.perf_counter()
    return _status_to_checks(engine.status(settings, module=module), selected, runners, started)


def _status_to_checks(status: Any, selected: set[str], runners: dict[str, _Runner], started: float) -> str:
    """Turn ``dbkit.engine.Status`` into checks (module -> migrations/files with a state each)."""
    counts = {"applied": 0, "pending": 0, "changed": 0, "missing-file": 0}
    changed_files = 0
    for mod in status.modules:
        if mod.name not in selected:
            continue
        runner = runners.setdefault(mod.name, _Runner(mod.name))
        for mig in mod.migrations:
            counts[mig.state] = counts.get(mig.state, 0) + 1
            common = dict(id=f"{mod.name}.migration.{mig.id}", source=mig.path, kind="migration", target=mig.id,
                          started=started)
            if mig.state == "pending":
                runner.add(**common, expected="applied", actual="pending",
                           problems=[f"migration {mig.id} ({mig.path}) is not applied: run `dbkit apply`"])
            elif mig.state == "changed":
                runner.add(**common, expected="applied, file unchanged", actual="changed since applied",
                           warnings=[f"applied migration {mig.id} was edited after it was applied "
                                     f"({mig.path} checksum differs): restore the file or run `dbkit repair`"])
            elif mig.state == "applied":
                runner.add(**common, expected="applied", actual=f"applied {mig.applied_at or ''}".strip()
                           + (" (baselined)" if mig.baselined else ""))
            else:
                runner.add(**common, expected="applied", actual=mig.state,
                           warnings=[f"migration {mig.id}: {mig.state}"])
        for f in mod.files:
            if f.state == "changed":
                changed_files += 1
                runner.add(id=f"{mod.name}.file.{f.path}", source=f.path, kind="migration", target=f.path,
                           expected="applied as in the file", actual="file changed since applied",
                           warnings=[f"{f.path} changed since it was applied: `dbkit apply` re-applies it"],
                           started=started)
    line = (f"{counts['applied']} applied, {counts['pending']} pending, "
            f"{counts['changed']} changed since applied")
    if changed_files:
        line += f", {changed_files} function/policy file(s) to re-apply"
    unknown = tuple(getattr(status, "unknown_applied", ()) or ())
    if unknown:
        line += f", {len(unknown)} applied with no file in the project ({', '.join(unknown)})"
    return line


# --------------------------------------------------------------------------- entry point


def connect(settings: Settings) -> psycopg.Connection[Any]:
    """The engine's connection (one-line, masked connection errors), in transaction mode."""
    return engine.connect(settings.require_database(), autocommit=False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_expectations(project: Any) -> tuple[list[exp.ModuleExpectations], list[str]]:
    """Every module's expectations (strictly validated) and the modules that have none."""
    loaded: list[exp.ModuleExpectations] = []
    missing: list[str] = []
    for module in project.modules:
        path = module.expectations_path
        if not path.is_file():
            missing.append(module.name)
            continue
        base = exp.load(path, module=module.name, display=project.settings.relative(path))
        loaded.append(exp.with_change_checks(base, _change_check_files(project.settings, module)))
    return loaded, missing


def _change_check_files(settings: Settings, module: Any) -> list[tuple[Any, str]]:
    """``NNNN_name.verify.toml`` files of a module, each beside the migration it checks."""
    ids = {m.id for m in module.migrations}
    found = []
    for path in sorted(module.path.glob("*" + exp.CHECK_FILE_SUFFIX)):
        stem = path.name[: -len(exp.CHECK_FILE_SUFFIX)]
        if stem not in ids:
            raise InputError(f"check file has no migration {stem}.sql beside it in module {module.name}",
                             path=settings.relative(path))
        found.append((path, settings.relative(path)))
    return found


def verify(
    settings: Settings,
    *,
    module: str | None = None,
    catalog_only: bool = False,
    migration_status: bool = True,
) -> VerifyReport:
    """Run every check of every module (or of ``module``) against the live database."""
    project = load_project(settings)
    if module is not None:
        project.module(module)  # InputError for an unknown module
    mods, without = load_expectations(project)
    selected = {module} if module else {m.name for m in project.modules}
    target = settings.require_database()
    started_at = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    runners: dict[str, _Runner] = {m.name: _Runner(m.name) for m in project.modules if m.name in selected}

    for name in without:
        if name in selected:
            runners[name].add(id=f"{name}.expectations", source=f"migrations/{name}/expectations.toml",
                              kind="expectations", target=name, expected="an expectations.toml",
                              actual="(missing)", problems=[f"module {name} has no expectations.toml: nothing of it is verified"],
                              started=time.perf_counter())

    status_line = _migration_checks(settings, module, selected, runners) if migration_status else "not read"

    schemas = tuple(sorted({s for m in mods for s in m.schemas}))
    conn = connect(settings)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("set transaction read only")
            server_version = str(conn.execute("show server_version").fetchone()[0])  # type: ignore[index]
            oids = [int(r[0]) for r in conn.execute("select oid from pg_catalog.pg_type").fetchall()]
            conn.execute("select pg_catalog.set_config('search_path', '', true)")
            snapshot = cat.read(conn, schemas)
            canonical = {f.key: cat.canonical_function(conn, f.key) for m in mods for f in m.functions}
        for m in mods:
            if m.name not in selected:
                continue
            r = runners[m.name]
            _check_tables(r, m, snapshot)
            _check_indexes(r, m, snapshot)
            _check_constraints(r, m, snapshot)
            _check_policies(r, m, snapshot)
            _check_functions(r, m, snapshot, canonical)
            _check_triggers(r, m, snapshot)
            _check_cron(r, m, snapshot)
            _check_rows(r, m, conn, oids)
        _drift(runners, mods, snapshot, selected, canonical)

        files = [
            (mig.module, inc.file.name, inc.file.text)
            for mig, inc in project.repeatables() if mig.module in selected
        ]
        if catalog_only:
            for m in mods:
                if m.name not in selected:
                    continue
                for kind, items in (("behaviour", [(b.id, b.source) for b in m.behaviour]),
                                    ("rls", [(f"{m.name}.rls.{x.table}", x.source) for x in m.rls]),
                                    ("plan", [(p.id, p.source) for p in m.plans])):
                    for cid, source in items:
                        runners[m.name].add(id=cid, source=source, kind=kind, target=cid, expected="(not run)",
                                            actual="(not run)", status="skipped", message=CATALOG_ONLY_REASON,
                                            started=time.perf_counter())
            for mod_name, name, _ in files:
                runners[mod_name].add(id=f"{mod_name}.definition.{name}", source=name, kind="definition", target=name,
                                      expected="(not run)", actual="(not run)", status="skipped",
                                      message=CATALOG_ONLY_REASON, started=time.perf_counter())
        else:
            for m in mods:
                if m.name not in selected:
                    continue
                _check_behaviour(runners[m.name], m, conn, oids)
                _check_rls_matrix(runners[m.name], m, conn)
                _check_plans(runners[m.name], m, conn)
            _check_definitions(runners, files, conn)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(_first_line(exc), target=target.describe()) from None
    finally:
        conn.close()

    order = [m.name for m in project.modules if m.name in runners] + sorted(set(runners) - {m.name for m in project.modules})
    checks = tuple(c for name in order for c in runners[name].checks)
    return VerifyReport(
        database=target.describe(),
        server_version=server_version,
        dbkit_version=dbkit.__version__,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        modules=tuple(order),
        catalog_only=catalog_only,
        migration_status=status_line,
        checks=checks,
    ).with_secrets(target.secrets())


__all__ = ["Check", "VerifyReport", "verify", "OWNER_UUID", "STRANGER_UUID"]
