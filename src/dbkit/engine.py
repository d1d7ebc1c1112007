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
* a rollback that would drop tables or columns holding data is refused without
  ``force`` (and says which functions, policies and triggers it drops on the way);
* files that cannot run as one unit (no statement, a COMMIT inside, a statement
  PostgreSQL refuses in a transaction, a syntax error) are refused before anything runs;
* a failure names the file and line of the failing statement, also for runtime errors;
* a read-only target or a standby is refused, and Ctrl-C says what was committed.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
import uuid

import psycopg
from psycopg import errors as pg_errors
from psycopg import generators, pq, sql

from dbkit.config import TRACKING_SCHEMA, DatabaseTarget, Settings, mask
from dbkit import replicas
from dbkit.errors import (
    ChangedSinceApplied,
    ConnectionLost,
    DbkitError,
    ConnectionFailed,
    DataLossRefused,
    InputError,
    Interrupted,
    LockTimeout,
    MigrationFailed,
    PrivilegeMissing,
    ReadOnlyTarget,
)
from dbkit.project import ExpandedSql, Include, Migration, Project, load_project

if TYPE_CHECKING:
    from dbkit import guard
    from dbkit.project import Module
    from dbkit.statements import Statements

# dbkit.statements and dbkit.guard (PostgreSQL's parser, pglast) are imported by the functions
# that split or probe SQL: `dbkit status` never needs them.

Progress = Callable[[str], None]
T = TypeVar("T")
ADVISORY_LOCK_KEY = 0x64626B6974  # "dbkit"
LOCK_NOT_AVAILABLE = "55P03"
READ_ONLY_TRANSACTION = "25006"


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
    drops: tuple[str, ...] = ()  # functions, policies, triggers ... a rollback step dropped


@dataclass(frozen=True)
class RunResult:
    database: str
    dry_run: bool
    steps: tuple[Step, ...]
    notices: tuple[str, ...] = ()
    replication: tuple[replicas.StepLag, ...] = ()  # per applied step, when standbys are connected

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
    #: lock_timeout and statement_timeout are set on the session (see _ensure_timeouts)
    timeouts_in_effect: bool = False

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
            _refuse_read_only(session)
            _acquire_lock(session)
            _ensure_bookkeeping(session)
        yield session
    finally:
        conn.close()  # also releases the advisory lock


def _refuse_read_only(session: _Session) -> None:
    """A standby or a read-only database cannot take a migration: say so, before the lock."""
    row = session.conn.execute(
        "select pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')").fetchone()
    if row and row[0]:
        raise ReadOnlyTarget(f"target is read-only: {session.target.describe()} is a standby in recovery; "
                             "run this against the primary — nothing was changed")
    if row and row[1] == "on":
        raise ReadOnlyTarget(f"target is read-only: transactions on {session.target.describe()} default to read "
                             "only (default_transaction_read_only); use a writable database or role — nothing was "
                             "changed")


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
        if time.monotonic() >= deadline:  # (Ctrl-C here: nothing was changed)
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
    conn.execute(_packaged_sql("bookkeeping.sql"))


def _init_yoyo_tables(session: _Session) -> None:
    """yoyo's tables, so `yoyo list` reads what we write: on a database without them, dbkit
    creates them as yoyo does (sql/yoyo_tables.sql, without importing yoyo); tables an older
    yoyo made are upgraded by yoyo itself."""
    have = session.conn.execute(
        "select count(*) from information_schema.tables where table_schema = %s "
        "and table_name in ('_yoyo_migration', '_yoyo_log', '_yoyo_version')",
        (TRACKING_SCHEMA,),
    ).fetchone()
    if have and have[0] == 3:
        return
    if have and have[0] == 0:
        session.conn.execute(_packaged_sql("yoyo_tables.sql"))
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


def _packaged_sql(name: str) -> str:
    """A file of dbkit's own SQL (src/dbkit/sql/). importlib.resources is imported here, by the
    commands that set up bookkeeping: `dbkit status` does not pay for its import."""
    from importlib import resources

    return resources.files("dbkit").joinpath("sql", name).read_text(encoding="utf-8")


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


def migration_hash(migration_id: str) -> str:
    """The key yoyo-migrations gives a migration in its tables (``yoyo.migrations.get_migration_hash``:
    sha256 of the id), so `yoyo list` reads what dbkit records. Computed here: importing
    yoyo costs every command a third of its start-up. A test compares the two."""
    return hashlib.sha256(migration_id.encode("utf-8")).hexdigest()


def _record_applied(conn: psycopg.Connection[Any], migration: Migration, *, baselined: bool = False) -> None:
    """yoyo's row and log entry, the migration's checksum and its included files' checksums:
    one round trip per migration (``_record_applied_sql``)."""
    conn.execute(_record_applied_sql(conn, migration, baselined=baselined).encode("utf-8"), prepare=False)


def _record_applied_sql(conn: psycopg.Connection[Any], migration: Migration, *, baselined: bool = False) -> str:
    """The statements ``_record_applied`` runs, their values quoted in, so that they can travel in
    the same simple query as the migration itself (``_run_unit``): plain INSERTs, which the server
    plans in a third of the time of one statement of data-modifying CTEs, and the file checksums
    only when the migration includes files. ``applied_at_utc`` is the server's clock when the
    record is written (UTC, as yoyo writes it): the record orders migrations as they committed,
    which rollback follows."""
    files = {inc.file.name: inc.file.checksum for inc in migration.includes}  # a path once: the last wins
    user, host = _who()
    q = _quoter(conn)
    migration_id, key = q(migration.id), q(migration_hash(migration.id))
    now = "pg_catalog.clock_timestamp() at time zone 'UTC'"
    statements = [
        f"""insert into {TRACKING_SCHEMA}._yoyo_migration (migration_hash, migration_id, applied_at_utc)
            values ({key}, {migration_id}, {now})""",
        f"""insert into {TRACKING_SCHEMA}._yoyo_log
                (id, migration_hash, migration_id, operation, username, hostname, created_at_utc)
            values ({q(str(uuid.uuid1()))}, {key}, {migration_id}, {q("mark" if baselined else "apply")}, {q(user)},
                    {q(host)}, {now})""",
        f"""insert into {TRACKING_SCHEMA}.migration_checksum (migration_id, module, checksum, baselined)
            values ({migration_id}, {q(migration.module)}, {q(migration.checksum)}, {"true" if baselined else "false"})
            on conflict (migration_id) do update
               set checksum = excluded.checksum, module = excluded.module, baselined = excluded.baselined,
                   applied_at = now(), applied_by = current_user""",
    ]
    if files:
        rows = ", ".join(f"({q(path)}, {migration_id}, {q(checksum)})" for path, checksum in files.items())
        statements.append(f"""insert into {TRACKING_SCHEMA}.file_checksum (path, owner_migration, checksum)
            values {rows}
            on conflict (path) do update
               set checksum = excluded.checksum, owner_migration = excluded.owner_migration,
                   applied_at = now(), applied_by = current_user""")
    return ";\n".join(statements)


def _quoter(conn: psycopg.Connection[Any]) -> Callable[[str], str]:
    """A string as an SQL literal, quoted by libpq for this connection (PQescapeLiteral)."""
    escaping = pq.Escaping(conn.pgconn)
    return lambda text: escaping.escape_literal(text.encode("utf-8")).decode("utf-8")


def _record_file_sql(conn: psycopg.Connection[Any], owner: Migration, inc: Include) -> str:
    q = _quoter(conn)
    return f"""insert into {TRACKING_SCHEMA}.file_checksum (path, owner_migration, checksum)
            values ({q(inc.file.name)}, {q(owner.id)}, {q(inc.file.checksum)})
            on conflict (path) do update
               set checksum = excluded.checksum, owner_migration = excluded.owner_migration,
                   applied_at = now(), applied_by = current_user"""


def _record_rolled_back(conn: psycopg.Connection[Any], migration: Migration) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    conn.execute(f"delete from {TRACKING_SCHEMA}._yoyo_migration where migration_hash = %s",
                 (migration_hash(migration.id),))
    _log(conn, migration.id, "rollback", now)
    conn.execute(f"delete from {TRACKING_SCHEMA}.migration_checksum where migration_id = %s", (migration.id,))
    conn.execute(f"delete from {TRACKING_SCHEMA}.file_checksum where owner_migration = %s", (migration.id,))


@functools.cache
def _who() -> tuple[str, str]:
    """The OS user and host yoyo's log records, looked up once per process (getfqdn may ask DNS)."""
    return getpass.getuser(), socket.getfqdn()


def _log(conn: psycopg.Connection[Any], migration_id: str, operation: str, when: datetime) -> None:
    conn.execute(
        f"""insert into {TRACKING_SCHEMA}._yoyo_log
            (id, migration_hash, migration_id, operation, username, hostname, created_at_utc)
            values (%s, %s, %s, %s, %s, %s, %s)""",
        (str(uuid.uuid1()), migration_hash(migration_id), migration_id, operation, *_who(), when),
    )


# ---------------------------------------------------------------- status


def status(settings: Settings, *, module: str | None = None, project: Project | None = None) -> Status:
    project = project or load_project(settings)
    if module is not None:
        project.module(module)
    with _session(settings, _quiet, locked=False, project=project) as session:
        return _status(session, module)


def _status(session: _Session, module: str | None) -> Status:
    applied = _applied(session.conn)
    files = _file_checksums(session.conn)
    project = session.project
    modules = tuple(_module_status(mod, applied, files) for mod in project.modules
                    if module is None or mod.name == module)
    known = {m.id for m in project.plan}
    unknown = tuple(i for i in applied if i not in known)
    return Status(database=session.target.describe(), modules=modules, unknown_applied=unknown,
                  cron_jobs=_cron_jobs(session.conn))


def _module_status(mod: Module, applied: dict[str, _Applied], files: dict[str, str]) -> ModuleStatus:
    """One module's migrations and the function/policy files they include, each with its state."""
    states: list[MigrationStatus] = []
    file_states: list[FileStatus] = []
    for m in mod.migrations:
        record = applied.get(m.id)
        states.append(MigrationStatus(id=m.id, module=m.module, path=m.forward.name,
                                      state=_migration_state(record, m.checksum),
                                      applied_at=record.applied_at if record else None,
                                      baselined=record.baselined if record else False))
        # An included file is pending with its migration, whatever its own record says.
        file_states += [FileStatus(path=inc.file.name, owner=m.id,
                                   state="pending" if record is None
                                   else _file_state(files.get(inc.file.name), inc.file.checksum))
                        for inc in m.includes]
    return ModuleStatus(name=mod.name, migrations=tuple(states), files=tuple(file_states))


def _migration_state(record: _Applied | None, checksum: str) -> str:
    """pending, changed (edited since applied) or applied; a record without a checksum (yoyo's
    own, from before dbkit) cannot be compared and counts as applied."""
    if record is None:
        return "pending"
    if record.checksum is not None and record.checksum != checksum:
        return "changed"
    return "applied"


def _file_state(recorded: str | None, checksum: str) -> str:
    return "applied" if recorded == checksum else "changed"


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
        recorded_files = _file_checksums(session.conn)
        runs = _apply_plan(session, targets, applied, recorded_files)
        steps = tuple(step for step, _ in runs)
        if dry_run:
            return RunResult(database=session.target.describe(), dry_run=True, steps=steps)
        replication: list[replicas.StepLag] = []
        with _interruptible(session, "apply", applied, recorded_files):
            last: Lags | None = None
            for step, run in runs:
                before, waited = _standbys_before(session, step.target, last)
                progress(f"{'applying' if step.action == 'apply' else 're-applying changed'} {step.target}")
                last = _run_with_retries(session, run)
                replication.append(replicas.StepLag(step.target, before, last, waited))
        seen = any(lag.before or lag.after for lag in replication)
        return RunResult(database=session.target.describe(), dry_run=False, steps=steps,
                         notices=tuple(session.notices), replication=tuple(replication) if seen else ())


Lags = tuple[replicas.StandbyLag, ...]


def _standbys_before(session: _Session, target: str, last: Lags | None) -> tuple[Lags, float]:
    """The standbys' lag before a step: the sample taken right after the previous step (in its
    query, ``_run_unit``), or a fresh one; with wait_replica_lag_below, first wait for it to fall."""
    bound = session.settings.wait_replica_lag_below
    if bound is None:
        return (replicas.sample(session.conn) if last is None else last), 0.0
    return replicas.wait_below(session.conn, bound, session.settings.replica_wait_limit, before=target,
                               progress=session.progress)


def _apply_plan(session: _Session, targets: tuple[Migration, ...], applied: dict[str, _Applied],
                recorded_files: dict[str, str]) -> list[tuple[Step, Callable[[], Lags]]]:
    """Each step of an apply with what runs it: pending migrations, then changed files.

    Every file is checked (statements.check) before the first step runs."""
    pending = [m for m in targets if m.id not in applied]
    runs: list[tuple[Step, Callable[[], Lags]]] = []
    conn = session.conn
    for m in pending:
        # A migration with a safer form (a later migration saying `-- replaces: <id>`) runs
        # that form in its place and is recorded under its own id and checksum.
        runner = session.project.replacement(m.id) or m
        forward = _check(runner.expanded(), transactional=runner.transactional, migration_id=m.id)
        _check(m.expanded_rollback(), transactional=m.transactional, migration_id=m.id)
        run = partial(_apply_step, session, m.id, forward, _record_applied_sql(conn, m),
                      transactional=runner.transactional)
        runs.append((Step("apply", m.id, m.module, runner.forward.name, forward.expanded.text),
                     run if runner is m else partial(_run_in_place_of, m, runner, run)))
    will_be_applied = set(applied) | {m.id for m in pending}
    fresh_files = {inc.file.name for m in pending for inc in m.includes}
    for owner, inc in session.project.repeatables():
        if owner.id not in will_be_applied or owner not in targets or inc.file.name in fresh_files:
            continue
        if recorded_files.get(inc.file.name) != inc.file.checksum:
            statements = _check(inc.expanded(), transactional=True, migration_id=owner.id)
            runs.append((Step("reapply", inc.file.name, owner.module, inc.file.name, inc.file.text),
                         partial(_apply_step, session, owner.id, statements, _record_file_sql(conn, owner, inc),
                                 transactional=True)))
    return runs


def _check(expanded: ExpandedSql, *, transactional: bool, migration_id: str) -> Statements:
    """``statements.check``, imported when there is something to check: an apply with nothing
    pending does not load PostgreSQL's parser (pglast)."""
    from dbkit import statements

    return statements.check(expanded, transactional=transactional, migration_id=migration_id)


def _run_in_place_of(old: Migration, safer: Migration, run: Callable[[], Lags]) -> Lags:
    """Run ``old`` through its safer form; a failure names both."""
    try:
        return run()
    except MigrationFailed as exc:
        raise MigrationFailed(f"{old.id}, run as its safer form {safer.id}: {exc.reason}", path=exc.path,
                              line=exc.line, sqlstate=exc.sqlstate, migration_id=exc.migration_id) from None


def _apply_step(session: _Session, migration_id: str, statements: Statements, record: str, *,
                transactional: bool) -> Lags:
    """One step of an apply: its statements and its ``record`` commit together. Notices count
    only once the work they speak of is committed. Returns the standbys sampled after it."""
    kept = len(session.notices)
    try:
        if transactional:
            return _run_unit(session, statements, record, migration_id)
        _run_statements_outside_transaction(session, statements, migration_id)
        return _run_unit(session, statements, record, migration_id, run_statements=False)
    except BaseException:
        del session.notices[kept:]
        raise


_UNIT_HEAD = "begin;\n"


def _run_unit(session: _Session, statements: Statements, record: str, migration_id: str, *,
              run_statements: bool = True) -> Lags:
    """BEGIN, the statements, their record, COMMIT and whether any standby streams, as one simple
    query: one round trip per migration instead of five (a second one samples the standbys'
    lag when there are any). The server stops at the first error and runs nothing after it;
    the transaction is then rolled back here.

    A statement's error position counts from the start of the whole query, so the length of
    what precedes the migration's text is taken off before mapping it to file and line.
    """
    conn = session.conn
    _ensure_timeouts(session)
    body = statements.expanded.text if run_statements else ""
    count = len(statements.items) if run_statements else 0
    text = f"{_UNIT_HEAD}{body}\n;\n{record};\ncommit;\n{replicas.SENDERS}"
    with conn.lock:
        conn.pgconn.send_query(text.encode("utf-8"))
        results = conn.wait(generators.fetch_many(conn.pgconn))
    for index, result in enumerate(results):
        if result.status == pq.ExecStatus.FATAL_ERROR:
            error = pg_errors.error_from_result(result, encoding=conn.info.encoding)
            if _lost(error, conn):
                raise error
            if conn.pgconn.transaction_status == pq.TransactionStatus.INERROR:
                conn.execute("rollback")
            position = error.diag.statement_position or ""
            in_body = position.isdigit() and 0 <= int(position) - 1 - len(_UNIT_HEAD) < len(body)
            statement = index - 1  # after BEGIN: the migration's statements, then the record
            if not 0 <= statement < count:  # BEGIN (the server could not parse the query), the record, COMMIT
                statement = 0 if index == 0 and in_body else -1
            raise _migration_failed(error, statements, statement, migration_id, session,
                                    base_offset=-len(_UNIT_HEAD) if in_body else None)
    if "timeout" in body.lower():
        session.timeouts_in_effect = False  # it set one of ours itself: ours again before the next
    return replicas.sample(conn) if results[-1].ntuples else ()  # a standby streams: sample it


def _apply_targets(project: Project, module: str | None, to: str | None) -> tuple[Migration, ...]:
    selected = project.selected(module)
    if to is not None:
        target = project.migration(to)
        if module is not None and target.module != module:
            raise InputError(f"migration {to!r} belongs to module {target.module}, not {module}")
        return project.closure({to})
    return project.closure({m.id for m in selected})


def _run_with_retries(session: _Session, action: Callable[[], T]) -> T:
    attempts = max(session.settings.retries, 0) + 1  # validated in config; never zero attempts
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except MigrationFailed as exc:
            if exc.sqlstate != LOCK_NOT_AVAILABLE or attempt == attempts:
                raise
            delay = min(2 ** attempt * 0.5, 30.0)
            session.progress(f"lock not available; retry {attempt} of {attempts - 1} in {delay:g}s")
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


@contextmanager
def _interruptible(session: _Session, verb: str, applied: dict[str, _Applied],
                   files: dict[str, str]) -> Iterator[None]:
    """Turn Ctrl-C and a lost connection into one line saying what was committed before.

    The record in the database is the truth (the interrupt or the lost connection may
    come while COMMIT is on the wire), so it is read again on a fresh connection once
    this one — and with it any open transaction — is closed.
    """
    try:
        yield
    except KeyboardInterrupt:
        session.conn.close()
        raise Interrupted(f"interrupted during {verb}: "
                          f"{_what_was_committed(session, applied, files, 'the interrupt')}") from None
    except psycopg.OperationalError as exc:
        session.conn.close()
        reason = exc.diag.message_primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConnectionLost(f"lost the connection during {verb} ({mask(reason, session.target.secrets())}): "
                             f"{_what_was_committed(session, applied, files, 'the connection went')}") from None


def _what_was_committed(session: _Session, applied: dict[str, _Applied], files: dict[str, str], event: str) -> str:
    try:
        with connect(session.target) as conn:
            now, now_files = _applied(conn), _file_checksums(conn)
    except (DbkitError, psycopg.Error):
        return "could not read what was committed — run `dbkit status`"
    applied_now = [i for i in now if i not in applied]
    rolled_back = [i for i in applied if i not in now]
    reapplied = [p for p, c in now_files.items() if files.get(p) not in (None, c)]
    done = ([f"applied {', '.join(applied_now)}"] if applied_now else []) + \
           ([f"rolled back {', '.join(rolled_back)}"] if rolled_back else []) + \
           ([f"re-applied {', '.join(reapplied)}"] if reapplied else [])
    if not done:
        return "nothing was changed"
    return (f"committed before {event}: {'; '.join(done)}; nothing else was changed — "
            "`dbkit status` shows where it stands")


def _lost(exc: BaseException, conn: psycopg.Connection[Any]) -> bool:
    """The connection itself failed (server gone, backend terminated): not the migration's fault."""
    error = exc.error if isinstance(exc, _StatementFailed) else exc
    return isinstance(error, psycopg.OperationalError) and (conn.closed or conn.broken
                                                            or (error.sqlstate or "").startswith(("08", "57P")))


def _set_timeouts(session: _Session) -> None:
    session.conn.execute("select set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                         (session.settings.ddl_lock_wait, session.settings.statement_timeout))


def _run_and_record(session: _Session, migration: Migration, statements: Statements,
                    record: Callable[[psycopg.Connection[Any], Migration], None], *,
                    transactional: bool | None = None) -> None:
    """Run one direction of a migration; its effects and its record commit together.

    ``transactional`` overrides the migration's own header (its safer form's, when that
    runs in its place). Notices count only once the work they speak of is committed.
    """
    conn = session.conn
    kept = len(session.notices)
    try:
        if not (migration.transactional if transactional is None else transactional):
            _run_statements_outside_transaction(session, statements, migration.id)
            with conn.transaction():
                record(conn, migration)
            return
        try:
            _ensure_timeouts(session)
            with conn.transaction():
                _execute(conn, statements)
                record(conn, migration)
            _forget_timeouts_if_set_by(session, statements)
        except (_StatementFailed, psycopg.Error) as exc:
            raise _failure(exc, statements, migration.id, session) from None
    except BaseException:
        del session.notices[kept:]
        raise


class _StatementFailed(Exception):
    """Statement number ``index`` of a multi-statement query failed with ``error``."""

    def __init__(self, index: int, error: psycopg.Error):
        super().__init__(str(error))
        self.index = index
        self.error = error


def _execute(conn: psycopg.Connection[Any], statements: Statements) -> None:
    """Run the whole text as one simple-protocol query: one round trip, the statements in order.

    The server answers each statement with its own result, so the result list says which
    statement failed (a runtime error has no position to map). psycopg's cursor keeps
    only the error, so this reads the results the way psycopg itself does (its wait
    loop, which also cancels the query on Ctrl-C).
    """
    _send(conn, statements.expanded.text)


def _send(conn: psycopg.Connection[Any], text: str) -> None:
    """``text`` as one simple-protocol query; a failing statement raises ``_StatementFailed``
    with its number in ``text``."""
    data = text.encode("utf-8")
    with conn.lock:
        conn.pgconn.send_query(data)
        results = conn.wait(generators.fetch_many(conn.pgconn))
    for index, result in enumerate(results):
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise _StatementFailed(index, pg_errors.error_from_result(result, encoding=conn.info.encoding))


def _execute_each(conn: psycopg.Connection[Any], texts: list[str]) -> None:
    """Run statements one by one (the probe's form of a non-transactional rollback)."""
    for index, text in enumerate(texts):
        try:
            conn.execute(text.encode("utf-8"), prepare=False)
        except psycopg.Error as exc:
            raise _StatementFailed(index, exc) from None


def _run_statements_outside_transaction(session: _Session, statements: Statements, migration_id: str) -> None:
    for first, text in _autocommit_units(statements):
        try:
            _ensure_timeouts(session)
            # One simple query: several statements (an included file) run as one implicit transaction.
            _send(session.conn, text)
            if "timeout" in text.lower():
                session.timeouts_in_effect = False  # it set one of ours itself: ours again before the next
        except (_StatementFailed, psycopg.Error) as failure:
            exc = failure.error if isinstance(failure, _StatementFailed) else failure
            index = first + (failure.index if isinstance(failure, _StatementFailed) else 0)
            if _lost(exc, session.conn):
                raise exc from None
            failed = _migration_failed(exc, statements, index, migration_id, session,
                                       base_offset=statements.items[index].start)
            raise MigrationFailed(
                f"{failed.reason} (non-transactional migration: the statements "
                "before this one stay applied; it is not recorded)",
                path=failed.path, line=failed.line, sqlstate=failed.sqlstate, migration_id=migration_id,
            ) from None


def _autocommit_units(statements: Statements) -> list[tuple[int, str]]:
    """What a non-transactional migration runs, in order: each of its own statements alone, and
    each included function or policy file as one unit, so that no other session ever sees a
    function between its CREATE and its REVOKE/GRANT (EXECUTE through PUBLIC) or between a
    REVOKE and the GRANT after it (the API role without EXECUTE; found by the fault soak).
    Returns (index of the unit's first statement, the text to run)."""
    own = statements.locate(statements.items[0].start)[0] if statements.items else ""
    units: list[tuple[int, str]] = []
    current: str | None = None
    for index, statement in enumerate(statements.items):
        source = statements.locate(statement.start)[0]
        if source != own and source == current:
            first = units[-1][0]
            units[-1] = (first, statements.expanded.text[statements.items[first].start:statement.end])
        else:
            units.append((index, statement.text))
        current = source
    return units


def _ensure_timeouts(session: _Session) -> None:
    """Set lock_timeout and statement_timeout on the session once, outside a transaction (so no
    rollback undoes them), instead of a SET LOCAL round trip in every migration's transaction."""
    if not session.timeouts_in_effect:
        _set_session_timeouts(session)
        session.timeouts_in_effect = True


def _forget_timeouts_if_set_by(session: _Session, statements: Statements) -> None:
    """A committed migration that SETs a timeout itself changed the session's: set ours again
    before the next one."""
    if "timeout" in statements.expanded.text.lower():
        session.timeouts_in_effect = False


def _set_session_timeouts(session: _Session) -> None:
    session.conn.execute("select set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                         (session.settings.ddl_lock_wait, session.settings.statement_timeout))


def _failure(exc: _StatementFailed | psycopg.Error, statements: Statements, migration_id: str,
             session: _Session) -> BaseException:
    """What to raise for a failed run: the driver's error when the connection itself went
    (``_interruptible`` says what was committed), else MigrationFailed at file and line."""
    if _lost(exc, session.conn):
        return exc.error if isinstance(exc, _StatementFailed) else exc
    if isinstance(exc, _StatementFailed):
        return _migration_failed(exc.error, statements, exc.index, migration_id, session)
    return _migration_failed(exc, statements, -1, migration_id, session)


def _migration_failed(exc: psycopg.Error, statements: Statements, index: int, migration_id: str,
                      session: _Session, base_offset: int | None = 0) -> MigrationFailed:
    """The server's error as one MigrationFailed at the failing statement's file and line.

    ``base_offset``: where the query the server saw starts relative to the expanded text
    (its error position counts from there); None when the failing statement is not part of it."""
    if exc.sqlstate == READ_ONLY_TRANSACTION:
        raise ReadOnlyTarget(f"target is read-only: {session.target.describe()} refused a write; "
                             f"{migration_id} was rolled back")
    diag = exc.diag
    message = diag.message_primary or str(exc).splitlines()[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    if diag.message_hint:
        message += f" Hint: {diag.message_hint}"
    if diag.context:
        message += " (context: " + " / ".join(line.strip() for line in diag.context.splitlines() if line.strip()) + ")"
    if exc.sqlstate == LOCK_NOT_AVAILABLE:
        message += (f" — waited --ddl-lock-wait {session.settings.ddl_lock_wait} (lock_timeout) behind another "
                    "transaction holding the table")
    position = diag.statement_position
    offset = (base_offset + int(position) - 1 if base_offset is not None and position and position.isdigit()
              else None)
    path, line = statements.where_failed(index, offset, diag.context)
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
    """Roll back applied migrations, the most recently applied first.

    ``steps``: the last N applied (of ``module``, if given). ``to``: what follows ``to`` in
    its module, plus (without ``module``) whatever depends on that. ``all_``: everything
    applied (of ``module``). Applied migrations outside the plan that depend on a victim
    block the rollback.
    """
    _check_rollback_request(steps, to, all_)
    project = load_project(settings)
    scope = project.selected(module)
    if to is not None and project.migration(to) not in scope:
        raise InputError(f"migration {to!r} is not in module {module}")
    with _session(settings, progress, locked=not dry_run, project=project) as session:
        applied = _applied(session.conn)
        victims = _victims(project, scope, applied, module=module, steps=steps, to=to)
        plan = _rollback_plan(_newest_first(victims, applied), applied)
        if dry_run:
            return RunResult(database=session.target.describe(), dry_run=True, steps=tuple(s for _, _, s in plan))
        with _interruptible(session, "rollback", applied, _file_checksums(session.conn)):
            done = _run_rollback(session, plan, force=force)
        return RunResult(database=session.target.describe(), dry_run=False, steps=done,
                         notices=tuple(session.notices))


def _check_rollback_request(steps: int | None, to: str | None, all_: bool) -> None:
    """Exactly one way of saying how far, checked before anything connects."""
    if sum(x is not None and x is not False for x in (steps, to, all_ or None)) != 1:
        raise InputError("say how far to roll back: exactly one of --steps N, --to ID or --all")
    if steps is not None and steps < 1:
        raise InputError("--steps must be at least 1")


# One rollback step: the migration, its checked rollback SQL (None for a baselined one,
# whose objects dbkit never created) and the Step a result reports.
_RollbackItem = tuple[Migration, "Statements | None", Step]


def _rollback_plan(ordered: list[Migration], applied: dict[str, _Applied]) -> list[_RollbackItem]:
    from dbkit.statements import check

    plan: list[_RollbackItem] = []
    for m in ordered:
        baselined = applied[m.id].baselined
        statements = None if baselined else check(m.expanded_rollback(), transactional=m.transactional,
                                                  migration_id=m.id)
        plan.append((m, statements, _rollback_step(m, baselined)))
    return plan


def _run_rollback(session: _Session, plan: list[_RollbackItem], *, force: bool) -> tuple[Step, ...]:
    """Probe the whole plan first (refusing data loss without ``force``), then run it step by step."""
    drops = _probe(session, [(m, s) for m, s, _ in plan if s is not None], force=force)
    done: list[Step] = []
    for migration, statements, step in plan:
        if statements is None:
            # dbkit never created these objects: forget the record, drop nothing.
            session.progress(f"removing the baseline record of {migration.id} ({migration.module})")
            with session.conn.transaction():
                _record_rolled_back(session.conn, migration)
        else:
            session.progress(f"rolling back {migration.id} ({migration.module})")
            _run_with_retries(session, partial(_run_and_record, session, migration, statements,
                                               _record_rolled_back))
        done.append(replace(step, drops=drops.get(migration.id, ())))
    return tuple(done)


def _rollback_step(migration: Migration, baselined: bool) -> Step:
    if baselined:
        return Step("unbaseline", migration.id, migration.module, migration.forward.name)
    return Step("rollback", migration.id, migration.module, migration.rollback.name, migration.rollback.text)


def _victims(project: Project, scope: tuple[Migration, ...], applied: dict[str, _Applied], *,
             module: str | None, steps: int | None, to: str | None) -> list[Migration]:
    """What a rollback undoes: never more than asked, never leaving a dependent behind."""
    order = {mid: n for n, mid in enumerate(applied)}
    applied_scope = sorted((m for m in scope if m.id in applied), key=lambda m: order[m.id])
    if to is not None:
        victims = _after(project, applied_scope, applied, to, whole_plan=module is None)
    elif steps is not None:
        victims = _last(applied_scope, steps, module)
    else:
        victims = applied_scope
    _refuse_blocked(project, victims, applied)
    return victims


def _after(project: Project, applied_scope: list[Migration], applied: dict[str, _Applied], to: str, *,
           whole_plan: bool) -> list[Migration]:
    """``--to``: what follows ``to`` in its module and, across the whole plan, what depends on that."""
    if to not in applied:
        raise InputError(f"migration {to!r} is not applied; nothing to roll back to")
    target = project.migration(to)
    wanted = {m.id for m in project.plan if m.module == target.module and m.number > target.number}
    if whole_plan:
        wanted |= {m.id for m in project.dependents(wanted)}
    return [m for m in applied_scope if m.id in wanted]


def _last(applied_scope: list[Migration], steps: int, module: str | None) -> list[Migration]:
    """``--steps N``: the last N applied; more than there are is a mistake, not --all."""
    if steps > len(applied_scope):
        where = f" in module {module}" if module else ""
        raise InputError(f"--steps {steps} is more than the {len(applied_scope)} applied migration(s){where}; "
                         "use --all to roll back every one")
    return applied_scope[-steps:]


def _refuse_blocked(project: Project, victims: list[Migration], applied: dict[str, _Applied]) -> None:
    """An applied migration left standing must not depend on one rolled back."""
    victim_ids = {m.id for m in victims}
    blockers = [m for m in project.dependents(victim_ids) if m.id in applied and m.id not in victim_ids]
    if blockers:
        names = ", ".join(f"{m.id} ({m.module})" for m in blockers)
        raise InputError(f"cannot roll back: applied migrations depend on it: {names}; roll those back first")


def _newest_first(victims: list[Migration], applied: dict[str, _Applied]) -> list[Migration]:
    """Most recently applied first, and never a migration before one that depends on it."""
    order = {mid: n for n, mid in enumerate(applied)}
    remaining = sorted(victims, key=lambda m: order[m.id], reverse=True)
    result: list[Migration] = []
    while remaining:
        ready = next(m for m in remaining if not any(m.id in d.depends for d in remaining))
        result.append(ready)
        remaining.remove(ready)
    return result


def _probe(session: _Session, plan: list[tuple[Migration, Statements]], *, force: bool) -> dict[str, tuple[str, ...]]:
    """Run the whole rollback plan in a transaction that is always undone, to learn what each
    step drops; refuse, before anything changes, when data would go and ``force`` is not set.

    Returns the objects each migration's rollback drops. What the probe's statements
    RAISE NOTICE about is forgotten: that work is undone.
    """
    from dbkit import guard

    conn = session.conn
    kept = len(session.notices)
    found: dict[str, guard.Drops] = {}
    current: tuple[Migration, Statements] | None = None
    try:
        with conn.transaction(force_rollback=True):
            _set_timeouts(session)
            for current in plan:
                run = _probe_runner(conn, *current)
                if run is None:
                    break  # a statement only PostgreSQL's autocommit can run: later steps are not probed
                found[current[0].id] = guard.probe(conn, run)
                run()  # for real (still undone): the next step sees its effect
    except (_StatementFailed, psycopg.Error) as exc:
        assert current is not None
        raise _failure(exc, current[1], current[0].id, session) from None
    finally:
        del session.notices[kept:]
    return _drops_unless_data(found, force=force)


def _probe_runner(conn: psycopg.Connection[Any], migration: Migration,
                  statements: Statements) -> Callable[[], None] | None:
    """How the probe runs one rollback step inside its transaction; None when it cannot."""
    from dbkit.statements import transaction_form

    if migration.transactional:
        return partial(_execute, conn, statements)
    texts = [transaction_form(item) for item in statements.items]
    if None in texts:
        return None
    # Its transaction form: a step a killed run left half done is completed here too, so the
    # steps after it are probed against the state they will meet.
    return partial(_execute_each, conn, [t for t in texts if t is not None])


def _drops_unless_data(found: dict[str, guard.Drops], *, force: bool) -> dict[str, tuple[str, ...]]:
    """What each step drops; DataLossRefused when a table holding rows would go without ``force``."""
    data = {mid: drops.data for mid, drops in found.items() if drops.data}
    if data and not force:
        raise DataLossRefused(data, tuple(o for drops in found.values() for o in drops.objects))
    return {mid: drops.data + drops.objects for mid, drops in found.items()}


# ---------------------------------------------------------------- baseline and repair


def baseline(settings: Settings, *, module: str, through: str, progress: Progress = _quiet) -> RunResult:
    """Record a module's migrations up to ``through`` as applied without running them.

    Refused when an object they create (schema, table, view, sequence, type, function)
    does not exist: marking it applied would make every later migration fail.
    """
    from dbkit import guard
    from dbkit.statements import split

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
        todo = [m for m in wanted if m.id not in applied]
        absent = guard.missing_objects(session.conn, [(m.id, split(m.expanded(), m.id)) for m in todo])
        if absent:
            listed = "; ".join(f"{mid}: {', '.join(objects)}" for mid, objects in absent.items())
            raise InputError(f"cannot baseline: objects these migrations create do not exist in this database "
                             f"({listed}); apply them instead, or create the objects first — nothing was changed")
        steps = tuple(Step("baseline", m.id, m.module, m.forward.name) for m in todo)
        with session.conn.transaction():
            for migration in todo:
                progress(f"marking {migration.id} as applied (baseline)")
                _record_applied(session.conn, migration, baselined=True)
        return RunResult(database=session.target.describe(), dry_run=False, steps=steps)


def repair(settings: Settings, *, forget: tuple[str, ...] = (), progress: Progress = _quiet) -> RunResult:
    """Accept deliberate edits (re-record the checksums of applied migrations that changed),
    or, with ``forget``, clear the records of applied migrations whose files were deleted."""
    project = load_project(settings)
    with _session(settings, progress, locked=True, project=project) as session:
        applied = _applied(session.conn)
        if forget:
            return _forget(session, applied, forget)
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


def _forget(session: _Session, applied: dict[str, _Applied], ids: tuple[str, ...]) -> RunResult:
    """Remove the records of orphans: applied migrations with no file in the project."""
    known = {m.id for m in session.project.plan}
    for mid in ids:
        if mid in known:
            raise InputError(f"{mid} has a file in this project: roll it back instead of forgetting it")
        if mid not in applied:
            raise InputError(f"{mid} is not recorded as applied; `dbkit status` lists the orphans")
    conn = session.conn
    with conn.transaction():
        for mid in ids:
            session.progress(f"forgetting the record of {mid}")
            conn.execute(f"delete from {TRACKING_SCHEMA}._yoyo_migration where migration_id = %s", (mid,))
            _log(conn, mid, "unmark", datetime.now(timezone.utc).replace(tzinfo=None))
            conn.execute(f"delete from {TRACKING_SCHEMA}.migration_checksum where migration_id = %s", (mid,))
            conn.execute(f"delete from {TRACKING_SCHEMA}.file_checksum where owner_migration = %s", (mid,))
    steps = tuple(Step("forget", mid, "", "") for mid in ids)
    return RunResult(database=session.target.describe(), dry_run=False, steps=steps)
