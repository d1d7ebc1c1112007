"""The hand-written checks of ``NNNN_name.verify.toml``: rows, behaviour, RLS matrix, plans.

By default everything here runs in READ ONLY transactions, so PostgreSQL itself
guarantees that nothing is written: ``[[rows]]`` always run; a ``[[behaviour]]`` check
runs and, when it needs to write (SQLSTATE 25006), is reported as skipped; the RLS access
matrix is skipped; ``[[plans]]`` are EXPLAINed (no ANALYZE, locking clauses removed) under
the database's own statistics. With ``writes`` (``--with-writes``, always in ``dbkit ci``)
behaviour checks and the RLS matrix run in transactions that are always rolled back;
with ``seeded_plans`` (``dbkit ci`` only: its database is throwaway) each plan's setup
generates data and ANALYZEs first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from dbkit import plans as plan_walker
from dbkit.checkfiles import BehaviourCheck, ChangeChecks, ModuleChecks, PlanCheck, RlsMatrix, cell_order
from dbkit.identity import Identity, act_as, act_as_sql
from dbkit.verify.model import Collector, Outcome, error_text, have_want
from dbkit.verify.readonly import why_it_writes

LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = "120s"
WRITES_REASON = "writes (even rolled back): runs with --with-writes and in dbkit ci"
SMALL_TABLE_PAGES = 128  # below ~1 MB the planner rightly reads a table sequentially
CRUD = ("select", "insert", "update", "delete")
# What a refused cell may answer: no privilege, a policy or a trigger (42501), or no row it may
# see (0 rows); a move or a reference may also be refused by a same-tenant foreign key (23503).
DENIED = {"42501"}
DENIED_BY_KEY = {"42501", "23503"}

Rows = tuple[tuple[str, ...], ...]
_BOUNDS = f"set local lock_timeout = '{LOCK_TIMEOUT}'; set local statement_timeout = '{STATEMENT_TIMEOUT}'"
_BOUNDS_READ_ONLY = "set transaction read only; " + _BOUNDS


@dataclass(frozen=True)
class Mode:
    writes: bool = False  # behaviour with writes and the RLS matrix run, rolled back
    seeded_plans: bool = False  # plan setups generate data (throwaway databases only)
    skip_reason: dict[str, str] | None = None  # migration id -> why its checks cannot run
    volatile: frozenset[str] = frozenset()  # volatile user functions: calling one may write

    def writes_needed(self, *texts: str | None) -> str | None:
        """Why these statements cannot run read-only (None when they can, or when writes are allowed)."""
        if self.writes:
            return None
        return why_it_writes(texts, set(self.volatile))


@contextmanager
def transaction(conn: psycopg.Connection[Any], *, read_only: bool) -> Iterator[psycopg.Cursor[Any]]:
    """A transaction that is always rolled back, READ ONLY unless told, with short timeouts."""
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        cur.execute(_BOUNDS_READ_ONLY if read_only else _BOUNDS)
        yield cur


def text_rows(cur: psycopg.Cursor[Any]) -> Rows:
    """The result as PostgreSQL's own text output ("t", "2025-01-01", "NULL" for null)."""
    result = cur.pgresult
    if result is None or cur.description is None:
        return ()
    return tuple(
        tuple("NULL" if (v := result.get_value(r, c)) is None else bytes(v).decode() for c in range(result.nfields))
        for r in range(result.ntuples)
    )


def fmt_rows(rows: Rows | None) -> str:
    if rows is None:
        return "(none)"
    return "[" + ", ".join("[" + ", ".join(f'"{v}"' for v in row) + "]" for row in rows) + "]"


def run_hand_checks(out: Collector, conn: psycopg.Connection[Any], checks: ModuleChecks, mode: Mode,
                    live_index_tables: dict[str, str]) -> None:
    module = checks.module
    for change, rows in checks.rows():
        if not _skipped(out, module, change, rows.id, "row", rows.query, mode, rows.query):
            out.add(module, rows.id, "row", rows.query, rows.source, _rows(conn, rows.query, rows.expect))
    for change, b in checks.behaviour():
        target = b.description or b.sql
        setup = checks.setup_of(b.uses, b.setup)
        if not _skipped(out, module, change, b.id, "behaviour", target, mode, setup, b.sql):
            out.add(module, b.id, "behaviour", target, b.source, _behaviour(conn, b, setup, mode, checks.identities))
    _rls_matrices(out, conn, checks, mode)
    for change, p in checks.plans():
        query = plan_walker.without_row_locks(p.query)
        if not _skipped(out, module, change, p.id, "plan", p.query, Mode(skip_reason=mode.skip_reason), query):
            out.add(module, p.id, "plan", p.query, p.source,
                    _plan(conn, p, checks.setup_of(p.uses, p.setup), mode, live_index_tables))


def _rls_matrices(out: Collector, conn: psycopg.Connection[Any], checks: ModuleChecks, mode: Mode) -> None:
    """Every access matrix of the module (a table's cells may come from several files)."""
    module = checks.module
    declared: dict[str, set[str]] = {}
    for _, table, matrix in checks.rls():
        declared.setdefault(table, set()).update(matrix.statements())
    reported: set[str] = set()
    for change, table, matrix in checks.rls():
        matrix_id = f"{module}.rls.{table}" + (f".{change.migration}" if table in reported else "")
        # the CRUD cells no file of the module declares are shown (skipped) with the table's first matrix
        undeclared = [] if table in reported else [c for c in CRUD if c not in declared[table]]
        reported.add(table)
        if _skipped(out, module, change, matrix_id, "rls", table, mode):
            continue
        if not mode.writes:
            out.add(module, matrix_id, "rls", table, matrix.source,
                    Outcome("access matrix", "(not run)", skipped=WRITES_REASON))
            continue
        _rls_matrix(out, conn, checks, table, matrix, checks.setup_of(matrix.uses, matrix.setup), undeclared)


def _skipped(out: Collector, module: str, change: ChangeChecks, check_id: str, kind: str, target: str,
             mode: Mode, *statements: str | None) -> bool:
    """Report the check as skipped when its migration is not applied/owned, or when it would write."""
    reason = (mode.skip_reason or {}).get(change.migration)
    if reason is None and statements:
        writes = mode.writes_needed(*statements)
        reason = f"{WRITES_REASON} ({writes})" if writes else None
    if reason is not None:
        out.add(module, check_id, kind, target, change.path, Outcome("(not run)", "(not run)", skipped=reason))
    return reason is not None


# ---------------------------------------------------------------- rows


def _expected_rows(expect: list[list[str]] | None) -> Rows:
    return tuple(tuple(row) for row in expect or ())


def _rows(conn: psycopg.Connection[Any], query: str, expect: list[list[str]]) -> Outcome:
    want = _expected_rows(expect)
    try:
        with transaction(conn, read_only=True) as cur:
            cur.execute(query)
            have = text_rows(cur)
    except psycopg.Error as exc:
        return Outcome(fmt_rows(want), "(error)", (f"query failed: {error_text(exc)}",))
    if have == want:
        return Outcome(fmt_rows(want), fmt_rows(have))
    missing = [r for r in want if r not in have]
    extra = [r for r in have if r not in want]
    detail = "; ".join(filter(None, [f"missing rows {fmt_rows(tuple(missing))}" if missing else "",
                                     f"extra rows {fmt_rows(tuple(extra))}" if extra else ""]))
    return Outcome(fmt_rows(want), fmt_rows(have),
                   (have_want("rows", fmt_rows(have), fmt_rows(want)) + f" ({detail or 'same rows, other order'})",))


# ---------------------------------------------------------------- behaviour


def _want_text(b: BehaviourCheck) -> str:
    if b.accepted_errors:
        return f"error SQLSTATE {' or '.join(b.accepted_errors)}"
    if b.expect_rowcount is not None:
        return f"{b.expect_rowcount} row(s) affected"
    return fmt_rows(_expected_rows(b.expect))


def _behaviour(conn: psycopg.Connection[Any], b: BehaviourCheck, setup: str | None, mode: Mode,
               identities: tuple[Identity, ...]) -> Outcome:
    want = _want_text(b)
    target = b.description or b.sql
    identity = None
    if b.as_ is not None:
        identity = next(i for i in identities if i.name == b.as_)  # checked against them when loaded
    elif b.role is not None:
        identity = Identity(b.role, b.sub)
    error: psycopg.Error | None = None
    rows: Rows | None = None
    rowcount = -1
    try:
        with transaction(conn, read_only=not mode.writes) as cur:
            if setup:
                try:
                    cur.execute(setup)
                except psycopg.Error as exc:
                    return _setup_failed(exc, want)
            if identity is not None:
                act_as(cur, identity)
            try:  # the statement's error ends the transaction, which is rolled back anyway
                cur.execute(b.sql)
                while cur.nextset():
                    pass
                rowcount = cur.rowcount
                rows = text_rows(cur) if cur.description is not None else None
            except psycopg.Error as exc:
                error = exc
    except psycopg.Error as exc:
        return Outcome(want, "(error)", (f"could not run: {error_text(exc)}",))
    return _behaviour_outcome(b, target, want, error, rows, rowcount)


def _setup_failed(exc: psycopg.Error, want: str) -> Outcome:
    return Outcome(want, "(setup failed)", (f"setup failed: {error_text(exc)}",))


def _behaviour_outcome(b: BehaviourCheck, target: str, want: str, error: psycopg.Error | None,
                       rows: Rows | None, rowcount: int) -> Outcome:
    if error is not None:
        actual = f"error {error_text(error)}"
        ok = error.sqlstate in b.accepted_errors
    elif b.expect_error is not None:
        actual, ok = "succeeded" + (f" ({rowcount} row(s))" if rowcount >= 0 else ""), False
    elif b.expect_rowcount is not None:
        actual, ok = f"{rowcount} row(s) affected", rowcount == b.expect_rowcount
    else:
        actual = fmt_rows(rows)
        ok = rows == _expected_rows(b.expect)
    return Outcome(want, actual, () if ok else (have_want(target, actual, want),))


# ---------------------------------------------------------------- RLS access matrix


def _rls_matrix(out: Collector, conn: psycopg.Connection[Any], checks: ModuleChecks, table: str, matrix: RlsMatrix,
                setup: str | None, undeclared: list[str]) -> None:
    module = checks.module
    statements = matrix.statements()
    cells = sorted([*statements, *undeclared], key=cell_order)
    try:
        with transaction(conn, read_only=False) as cur:
            setup_error = None
            if setup:
                try:
                    with conn.transaction():
                        cur.execute(setup)
                except psycopg.Error as exc:
                    setup_error = error_text(exc)
            for identity in checks.identities:
                for cell in cells:
                    outcome = _cell(conn, cur, table, matrix, identity, cell, statements.get(cell), setup_error)
                    out.add(module, f"{module}.rls.{table}.{identity.name}.{cell}", "rls", table, matrix.source,
                            outcome, cell=(identity.name, cell))
    except psycopg.Error as exc:
        out.add(module, f"{module}.rls.{table}", "rls", table, matrix.source,
                Outcome("matrix", "(error)", (f"access matrix for {table} could not run: {error_text(exc)}",)))


def _cell(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], table: str, matrix: RlsMatrix,
          identity: Identity, cell: str, statement: str | None, setup_error: str | None) -> Outcome:
    want = "allowed" if matrix.allows(identity.name, cell) else "denied"
    label = f"{identity.shown} {cell.upper()} on {table}"
    if statement is None:
        return Outcome(want, "(not run)", skipped=f"no {cell} statement declared in [rls.\"{table}\"]")
    if setup_error is not None:
        return Outcome(want, "(setup failed)", (f"{label}: setup failed: {setup_error}",))
    crosses_tenants = cell.split(".", 1)[0] in ("move", "reference")
    actual, detail = run_as(conn, cur, identity, statement,
                            denied=DENIED_BY_KEY if crosses_tenants else DENIED, at_commit=crosses_tenants)
    shown = actual + (f" ({detail})" if detail else "")
    return Outcome(want, shown, () if actual == want else (f"{label}: have: {shown} want: {want}",))


def run_as(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], identity: Identity, statement: str, *,
           denied: set[str] | frozenset[str] = frozenset(DENIED), at_commit: bool = False) -> tuple[str, str]:
    """Run one statement as ``identity`` in a savepoint that is rolled back -> (allowed|denied|error, detail).

    ``at_commit``: deferred constraints are checked right after the statement, as COMMIT would.
    Two round trips: the savepoint, the identity and the statement go as one simple query."""
    prelude = act_as_sql(identity).as_string(conn)
    try:
        cur.execute(f"savepoint dbkit_cell; {prelude}; {statement}")
        while cur.nextset():
            pass
        count = cur.rowcount
        if at_commit:
            cur.execute("set constraints all immediate")
        result = ("allowed", f"{count} row(s)") if count >= 1 else ("denied", "0 rows")
    except psycopg.Error as exc:
        result = ("denied" if exc.sqlstate in denied else "error"), error_text(exc)
    cur.execute("rollback to savepoint dbkit_cell")
    return result


# ---------------------------------------------------------------- plans


def _plan(conn: psycopg.Connection[Any], p: PlanCheck, setup: str | None, mode: Mode,
          index_tables: dict[str, str]) -> Outcome:
    want_index = p.uses_index.rsplit(".", 1)[-1]
    seeded = mode.seeded_plans and setup is not None
    method = "generated rows + ANALYZE, rolled back" if seeded else "EXPLAIN under the database's statistics"
    want = f"plan uses index {want_index} ({method})"
    query = plan_walker.without_row_locks(p.query)
    try:
        with transaction(conn, read_only=not seeded) as cur:
            if seeded and setup:
                _without_triggers(conn, cur)
                cur.execute(setup)
            cur.execute("explain (format json) " + query)
            row = cur.fetchone()
            size = _size(cur, index_tables.get(want_index)) if not seeded else None
    except psycopg.Error as exc:
        return Outcome(want, "(error)", (f"plan check failed to run: {error_text(exc)}",))
    plan = plan_walker.parse(row[0] if row else [])
    actual = "; ".join(plan_walker.scans(plan)) or "(no scan nodes)"
    if want_index in plan_walker.indexes_used(plan):
        return Outcome(want, actual)
    if size is not None and (size[0] < SMALL_TABLE_PAGES or size[1] < 0):
        return Outcome(want, actual, skipped=(
            f"{index_tables.get(want_index)} is small ({size[0]} pages, ~{max(size[1], 0):.0f} rows): the planner "
            "rightly reads it sequentially; dbkit ci checks this plan on generated data"))
    return Outcome(want, actual, (have_want(f"plan of {p.id}", actual, f"a scan using {want_index}"),))


def _without_triggers(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any]) -> None:
    """Generated plan data needs no trigger or foreign-key check: skip them where allowed (superuser,
    as in dbkit ci's throwaway cluster); the rows are rolled back with the transaction."""
    try:
        with conn.transaction():
            cur.execute("set local session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        pass


def _size(cur: psycopg.Cursor[Any], table: str | None) -> tuple[int, float] | None:
    if table is None:
        return None
    cur.execute("select relpages, reltuples from pg_catalog.pg_class where oid = pg_catalog.to_regclass(%s)", (table,))
    row = cur.fetchone()
    return (int(row[0]), float(row[1])) if row else None
