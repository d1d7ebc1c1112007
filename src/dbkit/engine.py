"""Apply, roll back, baseline and repair migrations; report their status.

yoyo-migrations supplies the file conventions, the dependency ordering and the
record of applied migrations (``_yoyo_migration`` / ``_yoyo_log``, kept in schema
``dbkit`` so that ``yoyo list`` agrees with ``dbkit status``). dbkit adds what yoyo
9 does not guarantee:

* a migration's effects and its records commit in one transaction;
* a content checksum per applied migration and per included function/policy file:
  edited migrations are refused, changed function/policy files are re-applied;
* a session advisory lock, released by the server when its holder dies, instead of
  yoyo's lock row that survives ``kill -9``;
* ``lock_timeout``/``statement_timeout`` while DDL runs, with retries;
* a rollback that would drop tables holding rows is refused without ``force``.
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib import resources
from typing import Any
import uuid

import psycopg
import sqlparse
from psycopg import sql
from yoyo.migrations import get_migration_hash

from dbkit.config import TRACKING_SCHEMA, DatabaseTarget, Settings, mask
from dbkit.errors import (
    ChangedSinceApplied,
    ConnectionFailed,
    DataLossRefused,
    InputError,
    LockTimeout,
    MigrationFailed,
    PrivilegeMissing,
)
from dbkit.project import ExpandedSql, Include, Migration, Project, load_project

Progress = Callable[[str], None]
ADVISORY_LOCK_KEY = 0x64626B6974  # "dbkit"
LOCK_NOT_AVAILABLE = "55P03"


def _quiet(_: str) -> None:
    return None


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Step:
    action: str  # apply | rollback | reapply | baseline
    target: str  # migration id or file path
    module: str
    path: str
    sql: str = field(default="", repr=False)


@dataclass(frozen=True)
class RunResult:
    database: str
    dry_run: bool
    steps: tuple[Step, ...]
    notices: tuple[str, ...] = ()

    @property
    def done(self) -> tuple[str, ...]:
        return tuple(step.target for step in self.steps)


@dataclass(frozen=True)
class MigrationStatus:
    id: str
    module: str
    path: str
    state: str  # applied | pending | changed | missing-file
    applied_at: str | None = None
    baselined: bool = False


@dataclass(frozen=True)
class FileStatus:
    path: str
    owner: str
    state: str  # applied | changed | pending


@dataclass(frozen=True)
class ModuleStatus:
    name: str
    migrations: tuple[MigrationStatus, ...]
    files: tuple[FileStatus, ...]

    def count(self, state: str) -> int:
        return sum(1 for m in self.migrations if m.state == state)


@dataclass(frozen=True)
class Status:
    database: str
    modules: tuple[ModuleStatus, ...]
    unknown_applied: tuple[str, ...]  # recorded in the database, no file in the project
    cron_jobs: tuple[tuple[str, str, str], ...] | None = None  # (job, schedule, command); None: no pg_cron


    def migrations(self, state: str) -> tuple[MigrationStatus, ...]:
        return tuple(m for mod in self.modules for m in mod.migrations if m.state == state)

    def files(self, state: str) -> tuple[FileStatus, ...]:
        return tuple(f for mod in self.modules for f in mod.files if f.state == state)


# ---------------------------------------------------------------- connections


def connect(target: DatabaseTarget, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """Open a connection; failures become ConnectionFailed with a one-line reason."""
    try:
        conn = psycopg.connect(target.conninfo(connect_timeout="10", application_name="dbkit"),
                               autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(_connect_reason(exc, target), target=target.describe()) from None
    return conn


def _connect_reason(exc: psycopg.OperationalError, target: DatabaseTarget) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc).__name__
    # libpq prefixes 'connection failed: connection to server at "h" (ip), port p failed: '
    if "failed:" in reason:
        reason = reason.rsplit("failed:", 1)[1].strip() or reason
    return mask(reason, target.secrets())


@dataclass
class _Session:
    settings: Settings
    project: Project
    conn: psycopg.Connection[Any]
    progress: Progress
    notices: list[str] = field(default_factory=list)

    @property
    def target(self) -> DatabaseTarget:
        return self.settings.require_database()


@contextmanager
def _session(settings: Settings, progress: Progress, *, locked: bool, project: Project | None = None) -> Iterator[_Session]:
    project = project or load_project(settings)  # bad files fail before we touch the database
    target = settings.require_database()
    conn = connect(target)
    session = _Session(settings=settings, project=project, conn=conn, progress=progress)
    conn.add_notice_handler(lambda diag: _keep_notice(session.notices, diag.message_primary or ""))
    if conn.info.server_version >= 140000:
        # Let the server notice a killed client during a long statement, so its
        # advisory lock and open transaction go away within a second, not at the
        # statement's end.
        conn.execute("set client_connection_check_interval = 1000")
    try:
        if locked:
            _acquire_lock(session)
            _ensure_bookkeeping(session)
        yield session
    finally:
        conn.close()  # also releases the advisory lock


def _keep_notice(notices: list[str], message: str) -> None:
    # "... does not exist, skipping" / "already exists, skipping" come from IF [NOT] EXISTS
    # guards doing their job; what a migration RAISEs NOTICE about is worth showing.
    if not message.endswith(", skipping"):
        notices.append(message)


def _acquire_lock(session: _Session) -> None:
    deadline = time.monotonic() + session.settings.migration_lock_wait
    announced = False
    while True:
        got = session.conn.execute("select pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
        if got and got[0]:
            return
        if not announced:
            session.progress("waiting for another dbkit process to finish (advisory lock)")
            announced = True
        if time.monotonic() >= deadline:
            holder = session.conn.execute(
                "select pid from pg_locks where locktype = 'advisory' and granted "
                "and classid = %s and objid = %s limit 1",
                (ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFFFFFF),
            ).fetchone()
            who = f" (held by backend pid {holder[0]})" if holder else ""
            raise LockTimeout(
                f"another dbkit apply/rollback holds the migration lock{who}; waited "
                f"{session.settings.migration_lock_wait:g}s — retry later or raise --migration-lock-wait"
            )
        time.sleep(0.2)


def _ensure_bookkeeping(session: _Session) -> None:
    conn = session.conn
    exists = _schema_exists(conn)
    if not exists:
        can_create = conn.execute("select has_database_privilege(current_database(), 'CREATE')").fetchone()
        if not (can_create and can_create[0]):
            user = conn.execute("select current_user").fetchone()
            raise PrivilegeMissing(
                f"role {user[0] if user else '?'} may not create schema {TRACKING_SCHEMA} in this database: "
                f"GRANT CREATE ON DATABASE {session.target.dbname} TO that role, or have the owner run "
                f"CREATE SCHEMA {TRACKING_SCHEMA} AUTHORIZATION <role>"
            )
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(TRACKING_SCHEMA)))
    can_use = conn.execute("select has_schema_privilege(%s, 'CREATE') and has_schema_privilege(%s, 'USAGE')",
                           (TRACKING_SCHEMA, TRACKING_SCHEMA)).fetchone()
    if not (can_use and can_use[0]):
        raise PrivilegeMissing(
            f"the connecting role needs USAGE and CREATE on schema {TRACKING_SCHEMA}: "
            f"GRANT USAGE, CREATE ON SCHEMA {TRACKING_SCHEMA} TO <role>"
        )
    _init_yoyo_tables(session)
    conn.execute(resources.files("dbkit").joinpath("sql/bookkeeping.sql").read_text(encoding="utf-8"))


def _init_yoyo_tables(session: _Session) -> None:
    """Let yoyo create/upgrade its own tables, so `yoyo list` reads what we write."""
    have = session.conn.execute(
        "select count(*) from information_schema.tables where table_schema = %s "
        "and table_name in ('_yoyo_migration', '_yoyo_log', '_yoyo_version')",
        (TRACKING_SCHEMA,),
    ).fetchone()
    if have and have[0] == 3:
        return
    from yoyo import get_backend

    try:
        backend = get_backend(session.target.yoyo_uri(TRACKING_SCHEMA))
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(_connect_reason(exc, session.target), target=session.target.describe()) from None
    try:
        backend.ensure_internal_schema_updated()
    finally:
        backend.connection.close()


def _schema_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regnamespace(%s) is not null", (TRACKING_SCHEMA,)).fetchone()
    return bool(row and row[0])


def _bookkeeping_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regclass(%s) is not null and to_regclass(%s) is not null",
                       (f"{TRACKING_SCHEMA}.migration_checksum", f"{TRACKING_SCHEMA}._yoyo_migration")).fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class _Applied:
    checksum: str | None  # None: recorded by yoyo alone (applied outside dbkit)
    applied_at: str
    baselined: bool


def _applied(conn: psycopg.Connection[Any]) -> dict[str, _Applied]:
    if not _bookkeeping_exists(conn):
        return {}
    rows = conn.execute(
        f"""select y.migration_id, c.checksum, to_char(y.applied_at_utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   coalesce(c.baselined, false)
              from {TRACKING_SCHEMA}._yoyo_migration y
              left join {TRACKING_SCHEMA}.migration_checksum c on c.migration_id = y.migration_id
             order by y.applied_at_utc, y.migration_id"""
    ).fetchall()
    return {r[0]: _Applied(checksum=r[1], applied_at=r[2], baselined=r[3]) for r in rows}


def _file_checksums(conn: psycopg.Connection[Any]) -> dict[str, str]:
    if not _bookkeeping_exists(conn):
        return {}
    rows = conn.execute(f"select path, checksum from {TRACKING_SCHEMA}.file_checksum").fetchall()
    return {r[0]: r[1] for r in rows}


def _record_applied(conn: psycopg.Connection[Any], migration: Migration, *, baselined: bool = False) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    conn.execute(
        f"insert into {TRACKING_SCHEMA}._yoyo_migration (migration_hash, migration_id, applied_at_utc) "
        "values (%s, %s, %s)",
        (get_migration_hash(migration.id), migration.id, now),
    )
    _log(conn, migration, "mark" if baselined else "apply", now)
    conn.execute(
        f"""insert into {TRACKING_SCHEMA}.migration_checksum (migration_id, module, checksum, baselined)
            values (%s, %s, %s, %s)
            on conflict (migration_id) do update
               set checksum = excluded.checksum, module = excluded.module, baselined = excluded.baselined,
                   applied_at = now(), applied_by = current_user""",
        (migration.id, migration.module, migration.checksum, baselined),
    )
    for inc in migration.includes:
        _record_file(conn, migration, inc)


def _record_file(conn: psycopg.Connection[Any], owner: Migration, inc: Include) -> None:
    conn.execute(
        f"""insert into {TRACKING_SCHEMA}.file_checksum (path, owner_migration, checksum)
            values (%s, %s, %s)
            on conflict (path) do update
               set checksum = excluded.checksum, owner_migration = excluded.owner_migration,
                   applied_at = now(), applied_by = current_user""",
        (inc.file.name, owner.id, inc.file.checksum),
    )


def _record_rolled_back(conn: psycopg.Connection[Any], migration: Migration) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    conn.execute(f"delete from {TRACKING_SCHEMA}._yoyo_migration where migration_hash = %s",
                 (get_migration_hash(migration.id),))
    _log(conn, migration, "rollback", now)
    conn.execute(f"delete from {TRACKING_SCHEMA}.migration_checksum where migration_id = %s", (migration.id,))
    conn.execute(f"delete from {TRACKING_SCHEMA}.file_checksum where owner_migration = %s", (migration.id,))


def _log(conn: psycopg.Connection[Any], migration: Migration, operation: str, when: datetime) -> None:
    conn.execute(
        f"""insert into {TRACKING_SCHEMA}._yoyo_log
            (id, migration_hash, migration_id, operation, username, hostname, created_at_utc)
            values (%s, %s, %s, %s, %s, %s, %s)""",
        (str(uuid.uuid1()), get_migration_hash(migration.id), migration.id, operation,
         getpass.getuser(), socket.getfqdn(), when),
    )


# ---------------------------------------------------------------- status


def status(settings: Settings, *, module: str | None = None) -> Status:
    project = load_project(settings)
    if module is not None:
        project.module(module)
    with _session(settings, _quiet, locked=False, project=project) as session:
        return _status(session, module)


def _status(session: _Session, module: str | None) -> Status:
    applied = _applied(session.conn)
    files = _file_checksums(session.conn)
    project = session.project
    modules: list[ModuleStatus] = []
    for mod in project.modules:
        if module is not None and mod.name != module:
            continue
        states: list[MigrationStatus] = []
        file_states: list[FileStatus] = []
        for m in mod.migrations:
            record = applied.get(m.id)
            if record is None:
                state = "pending"
            elif record.checksum is not None and record.checksum != m.checksum:
                state = "changed"
            else:
                state = "applied"
            states.append(MigrationStatus(id=m.id, module=m.module, path=m.forward.name, state=state,
                                          applied_at=record.applied_at if record else None,
                                          baselined=record.baselined if record else False))
            for inc in m.includes:
                recorded = files.get(inc.file.name)
                if record is None:
                    fstate = "pending"
                elif recorded != inc.file.checksum:
                    fstate = "changed"
                else:
                    fstate = "applied"
                file_states.append(FileStatus(path=inc.file.name, owner=m.id, state=fstate))
        modules.append(ModuleStatus(name=mod.name, migrations=tuple(states), files=tuple(file_states)))
    known = {m.id for m in project.plan}
    unknown = tuple(i for i in applied if i not in known)
    return Status(database=session.target.describe(), modules=tuple(modules), unknown_applied=unknown,
                  cron_jobs=_cron_jobs(session.conn))


def _cron_jobs(conn: psycopg.Connection[Any]) -> tuple[tuple[str, str, str], ...] | None:
    """pg_cron's jobs, so status shows what a module scheduled (or that nothing can be)."""
    present = conn.execute("select to_regclass('cron.job') is not null").fetchone()
    if not (present and present[0]):
        return None
    rows = conn.execute("select coalesce(jobname, jobid::text), schedule, command from cron.job order by 1").fetchall()
    return tuple((str(r[0]), str(r[1]), str(r[2])) for r in rows)


# ---------------------------------------------------------------- apply


def apply(
    settings: Settings,
    *,
    module: str | None = None,
    to: str | None = None,
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> RunResult:
    """Apply pending migrations (in dependency order), then changed function/policy files."""
    project = load_project(settings)
    targets = _apply_targets(project, module, to)
    with _session(settings, progress, locked=not dry_run, project=project) as session:
        applied = _applied(session.conn)
        changed = [m.forward.name for m in project.plan
                   if m.id in applied and applied[m.id].checksum not in (None, m.checksum)]
        if changed:
            raise ChangedSinceApplied(changed)
        pending = [m for m in targets if m.id not in applied]
        steps: list[Step] = [Step("apply", m.id, m.module, m.forward.name, m.expanded().text) for m in pending]
        will_be_applied = set(applied) | {m.id for m in pending}
        recorded_files = _file_checksums(session.conn)
        fresh_files = {inc.file.name for m in pending for inc in m.includes}
        for owner, inc in project.repeatables():
            if owner.id not in will_be_applied or owner not in targets or inc.file.name in fresh_files:
                continue
            if recorded_files.get(inc.file.name) != inc.file.checksum:
                steps.append(Step("reapply", inc.file.name, owner.module, inc.file.name, inc.file.text))
        if dry_run:
            return RunResult(database=session.target.describe(), dry_run=True, steps=tuple(steps))
        by_id = {m.id: m for m in project.plan}
        for step in steps:
            if step.action == "apply":
                migration = by_id[step.target]
                progress(f"applying {migration.id} ({migration.module})")
                _run_with_retries(session, partial(_apply_one, session, migration))
            else:
                owner, inc = next((o, i) for o, i in project.repeatables() if i.file.name == step.target)
                progress(f"re-applying changed {inc.file.name}")
                _run_with_retries(session, partial(_reapply_file, session, owner, inc))
        return RunResult(database=session.target.describe(), dry_run=False, steps=tuple(steps),
                         notices=tuple(session.notices))


def _apply_targets(project: Project, module: str | None, to: str | None) -> tuple[Migration, ...]:
    selected = project.selected(module)
    if to is not None:
        target = project.migration(to)
        if module is not None and target.module != module:
            raise InputError(f"migration {to!r} belongs to module {target.module}, not {module}")
        return project.closure({to})
    return project.closure({m.id for m in selected})


def _run_with_retries(session: _Session, action: Callable[[], None]) -> None:
    attempts = max(session.settings.retries, 0) + 1  # validated in config; never zero attempts
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except MigrationFailed as exc:
            if exc.sqlstate != LOCK_NOT_AVAILABLE or attempt == attempts:
                raise
            delay = min(2 ** attempt * 0.5, 30.0)
            session.progress(f"lock not available; retry {attempt} of {attempts - 1} in {delay:g}s")
            time.sleep(delay)


def _set_timeouts(session: _Session) -> None:
    session.conn.execute("select set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                         (session.settings.ddl_lock_wait, session.settings.statement_timeout))


def _apply_one(session: _Session, migration: Migration) -> None:
    _run_and_record(session, migration, migration.expanded(), _record_applied)


def _run_and_record(session: _Session, migration: Migration, expanded: ExpandedSql,
                    record: Callable[[psycopg.Connection[Any], Migration], None]) -> None:
    """Run one direction of a migration; its effects and its record commit together."""
    conn = session.conn
    if not migration.transactional:
        _run_statements_outside_transaction(session, expanded, migration.id)
        with conn.transaction():
            record(conn, migration)
        return
    try:
        with conn.transaction():
            _set_timeouts(session)
            _execute(conn, expanded, migration.id)
            record(conn, migration)
    except psycopg.Error as exc:
        raise _migration_failed(exc, expanded, migration.id, session) from None


def _reapply_file(session: _Session, owner: Migration, inc: Include) -> None:
    expanded = inc.expanded()
    try:
        with session.conn.transaction():
            _set_timeouts(session)
            _execute(session.conn, expanded, owner.id)
            _record_file(session.conn, owner, inc)
    except psycopg.Error as exc:
        raise _migration_failed(exc, expanded, owner.id, session) from None


def _execute(conn: psycopg.Connection[Any], expanded: ExpandedSql, migration_id: str) -> None:
    # One simple-protocol query string: PostgreSQL runs the statements in order and
    # reports an error position into this text, which ExpandedSql maps back to a file.
    conn.execute(expanded.text.encode("utf-8"), prepare=False)


def _run_statements_outside_transaction(session: _Session, expanded: ExpandedSql, migration_id: str) -> None:
    offset = 0
    text = expanded.text
    for statement in sqlparse.split(text):
        start = text.index(statement, offset)
        offset = start + len(statement)
        if not sqlparse.format(statement, strip_comments=True).strip():
            continue
        try:
            _set_session_timeouts(session)
            session.conn.execute(statement.encode("utf-8"), prepare=False)
        except psycopg.Error as exc:
            failed = _migration_failed(exc, expanded, migration_id, session, base_offset=start)
            raise MigrationFailed(
                f"{failed.args[0].split(': ', 1)[-1]} (non-transactional migration: the statements "
                "before this one stay applied; it is not recorded)",
                path=failed.path, line=failed.line, sqlstate=failed.sqlstate, migration_id=migration_id,
            ) from None


def _set_session_timeouts(session: _Session) -> None:
    session.conn.execute("select set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                         (session.settings.ddl_lock_wait, session.settings.statement_timeout))


def _migration_failed(exc: psycopg.Error, expanded: ExpandedSql, migration_id: str, session: _Session,
                      base_offset: int = 0) -> MigrationFailed:
    diag = exc.diag
    message = diag.message_primary or str(exc).splitlines()[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    if diag.message_hint:
        message += f" Hint: {diag.message_hint}"
    if exc.sqlstate == LOCK_NOT_AVAILABLE:
        message += (f" — waited --ddl-lock-wait {session.settings.ddl_lock_wait} (lock_timeout) behind another "
                    "transaction holding the table")
    line: int | None = None
    path = expanded.segments[0].source
    position = diag.statement_position
    if position and position.isdigit():
        char_index = base_offset + int(position) - 1
        line_in_expanded = expanded.text[:char_index].count("\n") + 1
        path, line = expanded.locate(line_in_expanded)
    elif base_offset:
        path, line = expanded.locate(expanded.text[:base_offset].count("\n") + 1)
    return MigrationFailed(mask(message, session.target.secrets()), path=path, line=line,
                           sqlstate=exc.sqlstate, migration_id=migration_id)


# ---------------------------------------------------------------- rollback


def rollback(
    settings: Settings,
    *,
    module: str | None = None,
    steps: int | None = None,
    to: str | None = None,
    all_: bool = False,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> RunResult:
    """Roll back applied migrations, newest (in dependency order) first."""
    if sum(x is not None and x is not False for x in (steps, to, all_ or None)) != 1:
        raise InputError("say how far to roll back: exactly one of --steps N, --to ID or --all")
    if steps is not None and steps < 1:
        raise InputError("--steps must be at least 1")
    project = load_project(settings)
    scope = project.selected(module)
    if to is not None:
        target = project.migration(to)
        if target not in scope:
            raise InputError(f"migration {to!r} is not in module {module}")
    with _session(settings, progress, locked=not dry_run, project=project) as session:
        applied = _applied(session.conn)
        applied_scope = [m for m in scope if m.id in applied]
        if to is not None:
            if to not in applied:
                raise InputError(f"migration {to!r} is not applied; nothing to roll back to")
            index = [m.id for m in scope].index(to)
            victims = [m for m in scope[index + 1:] if m.id in applied]
        elif steps is not None:
            victims = applied_scope[-steps:]
        else:
            victims = applied_scope
        victim_ids = {m.id for m in victims}
        blockers = [m for m in project.dependents(victim_ids) if m.id in applied and m.id not in victim_ids]
        if blockers:
            names = ", ".join(f"{m.id} ({m.module})" for m in blockers)
            raise InputError(f"cannot roll back: applied migrations depend on it: {names}; roll those back first")
        ordered = list(reversed(victims))
        plan = tuple(
            Step("unbaseline", m.id, m.module, m.forward.name) if applied[m.id].baselined
            else Step("rollback", m.id, m.module, m.rollback.name, m.rollback.text)
            for m in ordered
        )
        if dry_run:
            return RunResult(database=session.target.describe(), dry_run=True, steps=plan)
        if not force:
            _probe_data_loss(session, [m for m in ordered if not applied[m.id].baselined])
        for migration in ordered:
            if applied[migration.id].baselined:
                # dbkit never created these objects: forget the record, drop nothing.
                progress(f"removing the baseline record of {migration.id} ({migration.module})")
                with session.conn.transaction():
                    _record_rolled_back(session.conn, migration)
                continue
            progress(f"rolling back {migration.id} ({migration.module})")
            _run_with_retries(session, partial(_rollback_one, session, migration))
        return RunResult(database=session.target.describe(), dry_run=False, steps=plan,
                         notices=tuple(session.notices))


_USER_TABLES = """
    select c.oid::bigint, format('%I.%I', n.nspname, c.relname)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', 'dbkit')
       and n.nspname not like 'pg_toast%%' and n.nspname not like 'pg_temp%%'
"""


def _probe_data_loss(session: _Session, ordered: list[Migration]) -> None:
    """Run the whole rollback plan in a transaction that is always undone, to refuse
    before anything changes when any step would drop a table holding rows."""
    conn = session.conn
    current: Migration | None = None
    expanded: ExpandedSql | None = None
    try:
        with conn.transaction(force_rollback=True):
            _set_timeouts(session)
            for current in ordered:
                if not current.transactional:
                    continue  # cannot run inside a transaction: not probed (docs/decisions.md)
                expanded = current.expanded_rollback()
                _refuse_data_loss(session, current, expanded)
                _execute(conn, expanded, current.id)
    except psycopg.Error as exc:
        assert current is not None and expanded is not None
        raise _migration_failed(exc, expanded, current.id, session) from None


def _rollback_one(session: _Session, migration: Migration) -> None:
    _run_and_record(session, migration, migration.expanded_rollback(), _record_rolled_back)


def _refuse_data_loss(session: _Session, migration: Migration, expanded: ExpandedSql) -> None:
    """Dry-run the rollback in a savepoint to learn which tables it drops; refuse if any hold rows."""
    conn = session.conn
    before = dict(conn.execute(_USER_TABLES).fetchall())
    with conn.transaction(savepoint_name="dbkit_probe", force_rollback=True):
        _execute(conn, expanded, migration.id)
        after = {row[0] for row in conn.execute(_USER_TABLES).fetchall()}
    dropped = [name for oid, name in before.items() if oid not in after]
    counts: dict[str, int] = {}
    for name in dropped:
        schema, table = _split_qualified(conn, name)
        row = conn.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))).fetchone()
        if row and row[0]:
            counts[name] = int(row[0])
    if counts:
        raise DataLossRefused(migration.id, counts)


def _split_qualified(conn: psycopg.Connection[Any], name: str) -> tuple[str, str]:
    row = conn.execute("select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                       "where c.oid = %s::regclass", (name,)).fetchone()
    assert row is not None
    return row[0], row[1]


# ---------------------------------------------------------------- baseline and repair


def baseline(settings: Settings, *, module: str, through: str, progress: Progress = _quiet) -> RunResult:
    """Record a module's migrations up to ``through`` as applied without running them."""
    project = load_project(settings)
    scope = project.selected(module)
    target = project.migration(through)
    if target.module != module:
        raise InputError(f"migration {through!r} belongs to module {target.module}, not {module}")
    wanted = scope[: scope.index(target) + 1]
    with _session(settings, progress, locked=True, project=project) as session:
        applied = _applied(session.conn)
        wanted_ids = {m.id for m in wanted}
        for migration in wanted:
            missing = [d for d in migration.depends if d not in applied and d not in wanted_ids]
            if missing:
                raise InputError(f"cannot baseline {migration.id}: it depends on {', '.join(missing)}, which is "
                                 "not applied; apply or baseline that first")
        steps = tuple(Step("baseline", m.id, m.module, m.forward.name) for m in wanted if m.id not in applied)
        with session.conn.transaction():
            for step in steps:
                progress(f"marking {step.target} as applied (baseline)")
                _record_applied(session.conn, next(m for m in wanted if m.id == step.target), baselined=True)
        return RunResult(database=session.target.describe(), dry_run=False, steps=steps)


def repair(settings: Settings, *, progress: Progress = _quiet) -> RunResult:
    """Accept deliberate edits: re-record the checksums of applied migrations that changed."""
    project = load_project(settings)
    with _session(settings, progress, locked=True, project=project) as session:
        applied = _applied(session.conn)
        changed = [m for m in project.plan if m.id in applied and applied[m.id].checksum not in (None, m.checksum)]
        with session.conn.transaction():
            for migration in changed:
                progress(f"re-recording checksum of {migration.forward.name}")
                session.conn.execute(
                    f"update {TRACKING_SCHEMA}.migration_checksum set checksum = %s, applied_at = now(), "
                    "applied_by = current_user where migration_id = %s",
                    (migration.checksum, migration.id),
                )
        steps = tuple(Step("repair", m.id, m.module, m.forward.name) for m in changed)
        return RunResult(database=session.target.describe(), dry_run=False, steps=steps)
