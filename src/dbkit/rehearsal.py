"""Rehearse every migration on populated tables under a live workload (``dbkit rehearse``).

On a throwaway PostgreSQL (the one ``dbkit ci`` uses):

1. apply the prerequisites: the migrations that create what an application already has
   before it adopts the modules (by default each module's first migration, the one an
   existing application baselines, with what it depends on);
2. load every table that exists then with ``rows`` rows (``dbkit.rowgen``: derived from the
   catalog, references kept within one owner), then VACUUM ANALYZE;
3. start the workload: ``clients`` connections, each running a paced mix of reads by key,
   updates by key and inserts on those tables, every statement timed;
4. apply the rest of the plan one migration at a time while a second session samples
   ``pg_stat_activity``, ``pg_blocking_pids()`` and ``pg_locks`` every few milliseconds.

Per migration the result says which locks its session was seen holding on the loaded
tables, and the longest time a workload statement spent in a statement that was seen
waiting (directly or behind another waiting statement) on the migration's session. A
statement that was merely slow (a busy machine) is reported separately and never counts
against the bound.

Nothing here prints or imports click; ``dbkit.cli.rehearse`` renders the result.
"""

from __future__ import annotations

import itertools
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from dbkit import ci, engine, rowgen
from dbkit.config import Settings
from dbkit.errors import DbkitError, InputError
from dbkit.project import Migration, Project, load_project

Progress = Callable[[str], None]
WORKLOAD_APP = "dbkit-rehearsal"
MONITOR_APP = "dbkit-rehearsal-monitor"
MIGRATION_APP = "dbkit"  # engine.connect's application_name
# Lock modes from weakest to strongest (PostgreSQL's order of the table-level modes).
LOCK_MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
              "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
# Modes that queue an application's writes (they conflict with RowExclusiveLock).
BLOCKS_WRITES = frozenset(LOCK_MODES[4:])


def _quiet(_: str) -> None:
    return None


# ---------------------------------------------------------------- options and results


@dataclass(frozen=True)
class Options:
    rows: int = 1_000_000  # rows loaded into each prerequisite table
    bound_ms: float = 200.0  # longest acceptable wait of a workload statement behind a migration
    clients: int = 4  # workload connections
    rate: float = 100.0  # statements per second per client
    sample_ms: float = 5.0  # pg_locks / pg_stat_activity sampling interval
    prerequisites: tuple[str, ...] = ()  # migration ids applied before loading; () = each module's first
    warmup_s: float = 1.0  # workload alone before the first migration (the baseline latency)

    def check(self) -> None:
        if self.rows < 1:
            raise InputError("--rows must be at least 1")
        if self.bound_ms <= 0:
            raise InputError("--bound must be a positive duration, e.g. 200ms")
        if self.clients < 1:
            raise InputError("--clients must be at least 1")
        if self.rate <= 0:
            raise InputError("--rate must be a positive number of statements per second")


@dataclass(frozen=True)
class LockHeld:
    relation: str
    mode: str
    observed_ms: float  # the longest run of consecutive samples that saw it (0: one sample)

    @property
    def blocks_writes(self) -> bool:
        return self.mode in BLOCKS_WRITES

    def describe(self) -> str:
        mode = self.mode.removesuffix("Lock")
        return f"{mode} {self.relation} ({self.observed_ms:.0f} ms)"


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class MigrationRun:
    id: str
    module: str
    duration_ms: float
    locks: tuple[LockHeld, ...]  # the strongest lock seen per loaded table
    longest_wait_ms: float  # the longest workload statement that waited on this migration
    waited: int  # workload statements seen waiting on it
    slowest_ms: float  # the slowest workload statement overlapping it, whatever the cause
    statements: int  # workload statements overlapping it
    errors: tuple[str, ...] = ()  # distinct workload errors from its start until the next migration's
    failed: str | None = None  # the migration's own error

    def over(self, bound_ms: float) -> bool:
        return self.longest_wait_ms > bound_ms


@dataclass(frozen=True)
class Rehearsal:
    server: str
    rows: int
    bound_ms: float
    clients: int
    tables: tuple[str, ...]
    load_s: float
    baseline: Latency
    migrations: tuple[MigrationRun, ...]
    prerequisites: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[MigrationRun, ...]:
        return tuple(m for m in self.migrations if m.over(self.bound_ms))

    @property
    def failed(self) -> tuple[MigrationRun, ...]:
        return tuple(m for m in self.migrations if m.failed or m.errors)

    @property
    def ok(self) -> bool:
        return bool(self.migrations) and not self.blocking and not self.failed


# ---------------------------------------------------------------- the prerequisite stage


def prerequisites(project: Project, chosen: tuple[str, ...] = ()) -> tuple[Migration, ...]:
    """What the application has before it adopts the modules, in plan order."""
    if chosen:
        for migration_id in chosen:
            project.migration(migration_id)
        return project.closure(set(chosen))
    firsts = {module.migrations[0].id for module in project.modules if module.migrations}
    return project.closure(firsts)


_USER_TABLES = """
select format('%%I.%%I', n.nspname, c.relname)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p') and not c.relispartition
   and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'cron')
   and n.nspname <> all(%s)
   and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid
                    and d.deptype = 'e')
 order by 1
"""


def load(conn: psycopg.Connection[Any], rows: int, *, exclude_schemas: tuple[str, ...],
         progress: Progress = _quiet) -> rowgen.Generator:
    """Fill every user table with ``rows`` rows (triggers and foreign-key checks off while loading)."""
    names = [r[0] for r in conn.execute(_USER_TABLES, (list(exclude_schemas),)).fetchall()]
    if not names:
        raise InputError("the prerequisite migrations create no table: there is nothing to load")
    tables = rowgen.read_tables(conn, names)
    generator = rowgen.Generator(tables, rows)
    conn.execute("set session_replication_role = replica")
    try:
        for name in rowgen.load_order(tables):
            progress(f"loading {rows:,} rows into {name}")
            rowgen.fill(conn, generator, name)
    finally:
        conn.execute("set session_replication_role = origin")
    progress("vacuum analyze")
    for name in names:
        conn.execute(f"vacuum (analyze) {name}")
    return generator


# ---------------------------------------------------------------- the workload


@dataclass(frozen=True)
class _Op:
    table: str
    kind: str  # read | update | insert
    statement: str  # takes one parameter: the row number


@dataclass(frozen=True)
class _Statement:
    pid: int
    op: _Op
    start: float
    end: float
    error: str | None

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000.0


def workload_ops(generator: rowgen.Generator) -> list[_Op]:
    """A read, an update and an insert per loaded table, each addressing a row number.

    Reads name the loaded columns (an application's prepared ``select *`` fails with 0A000
    after any ADD COLUMN, which says nothing about locks). A table whose key comes from a
    reference (a profile row per user) gets no inserts: its rows appear with its parent's.
    """
    ops: list[_Op] = []
    row = "%s::bigint"
    for name, shape in sorted(generator.tables.items()):
        in_fks = {c for fk in shape.foreign_keys for c in fk.columns}
        if shape.key:
            where = generator.key_match(name, row)
            listed = ", ".join(psycopg.sql.Identifier(c.name).as_string(None) for c in shape.columns)
            ops.append(_Op(name, "read", f"select {listed} from {name} where {where}"))
            plain = [c for c in shape.columns
                     if c.name not in set(shape.key) | in_fks and not c.generated and not c.identity]
            if plain:
                quoted = psycopg.sql.Identifier(plain[0].name).as_string(None)
                ops.append(_Op(name, "update", f"update {name} set {quoted} = {quoted} where {where}"))
        if not shape.unique & in_fks:
            ops.append(_Op(name, "insert", generator.insert(name, f"(select {row} as i)")))
    return ops


class _Client(threading.Thread):
    """One application connection running a paced random mix of the workload's statements."""

    def __init__(self, url: str, ops: list[_Op], rows: int, counters: dict[str, itertools.count[int]],
                 rate: float, stop: threading.Event, log: list[_Statement], seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.ops, self.rows, self.counters = url, ops, rows, counters
        self.interval = 1.0 / rate
        self.stop, self.log = stop, log
        self.random = random.Random(seed)
        self.ready = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True, application_name=WORKLOAD_APP) as conn:
                pid = conn.info.backend_pid
                shuffled = list(self.ops)
                self.random.shuffle(shuffled)
                order = itertools.cycle(shuffled)  # every table touched at an even pace
                self.ready.set()
                due = time.perf_counter()
                while not self.stop.is_set():
                    op = next(order)
                    n = next(self.counters[op.table]) if op.kind == "insert" else self.random.randint(1, self.rows)
                    start = time.perf_counter()
                    error: str | None = None
                    try:
                        conn.execute(op.statement, (n,), prepare=True).fetchall() if op.kind == "read" \
                            else conn.execute(op.statement, (n,), prepare=True)
                    except psycopg.Error as exc:
                        error = f"{op.kind} on {op.table}: {exc.sqlstate or ''} {(exc.diag.message_primary or str(exc))}"
                    self.log.append(_Statement(pid, op, start, time.perf_counter(), error))
                    due = max(due + self.interval, time.perf_counter() - self.interval)
                    self.stop.wait(max(0.0, due - time.perf_counter()))
        except psycopg.Error as exc:
            self.failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.ready.set()


# ---------------------------------------------------------------- the monitor


_SAMPLE = """
select
  (select coalesce(json_agg(json_build_array(a.pid, a.application_name, a.wait_event_type, pg_blocking_pids(a.pid))),
                   '[]')
     from pg_stat_activity a
    where a.datname = current_database() and a.application_name in (%(migration)s, %(workload)s)),
  (select coalesce(json_agg(json_build_array(l.relation::bigint, l.mode)), '[]')
     from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where a.application_name = %(migration)s and l.locktype = 'relation' and l.granted
      and l.relation = any(%(tables)s))
"""


@dataclass
class _Sample:
    at: float
    migration_pids: frozenset[int]
    waiting_on_migration: frozenset[int]  # workload pids waiting, directly or not, on a migration session
    locks: tuple[tuple[int, str], ...]  # (relation oid, mode) held by a migration session


class _Monitor(threading.Thread):
    def __init__(self, url: str, table_oids: list[int], interval: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.table_oids, self.interval, self.stop = url, table_oids, interval, stop
        self.samples: list[_Sample] = []
        self.failure: str | None = None

    def run(self) -> None:
        params = {"migration": MIGRATION_APP, "workload": WORKLOAD_APP, "tables": self.table_oids}
        try:
            with psycopg.connect(self.url, autocommit=True, application_name=MONITOR_APP) as conn:
                while not self.stop.is_set():
                    before = time.perf_counter()
                    row = conn.execute(_SAMPLE, params, prepare=True).fetchone()
                    at = (before + time.perf_counter()) / 2
                    assert row is not None
                    self.samples.append(_sample(at, row[0], row[1]))
                    self.stop.wait(self.interval)
        except psycopg.Error as exc:
            self.failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _sample(at: float, sessions: list[list[Any]], locks: list[list[Any]]) -> _Sample:
    migration = frozenset(int(pid) for pid, app, _, _ in sessions if app == MIGRATION_APP)
    blockers = {int(pid): {int(b) for b in (blocking or [])} for pid, app, wait, blocking in sessions
                if app == WORKLOAD_APP and wait == "Lock"}
    waiting: set[int] = set()
    for pid in blockers:
        seen: set[int] = set()
        frontier = set(blockers[pid])
        while frontier:
            if frontier & migration:
                waiting.add(pid)
                break
            seen |= frontier
            frontier = {b for p in frontier for b in blockers.get(p, set())} - seen
    return _Sample(at, migration, frozenset(waiting), tuple((int(rel), str(mode)) for rel, mode in locks))


# ---------------------------------------------------------------- the run


@dataclass
class _Window:
    migration: Migration
    start: float
    end: float = 0.0
    failed: str | None = None


def rehearse(settings: Settings, options: Options = Options(), *, progress: Progress = _quiet) -> Rehearsal:
    """Run the rehearsal on a throwaway PostgreSQL and return what each migration did to the workload."""
    options.check()
    project = load_project(settings)
    before = prerequisites(project, options.prerequisites)
    rest = [m for m in project.plan if m not in before]
    if not rest:
        raise InputError("every migration is a prerequisite: there is nothing to rehearse")
    with ci.ci_database(settings) as (server, db):
        target = db.require_database()
        url = target.conninfo()
        progress(f"applying the {len(before)} prerequisite migration(s)")
        for migration in before:
            engine.apply(db, to=migration.id)
        load_started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            generator = load(conn, options.rows, exclude_schemas=("dbkit",), progress=progress)
            oids = [shape.oid for shape in generator.tables.values()]
        load_s = time.perf_counter() - load_started
        names = {shape.oid: name for name, shape in generator.tables.items()}
        windows, log, samples = _run_under_workload(db, url, rest, generator, oids, options, progress)
        runs = _results(windows, log, samples, names)
        warm = [s.ms for s in log if not s.error and all(s.end < w.start or s.start > w.end for w in windows)]
        return Rehearsal(
            server=f"PostgreSQL on 127.0.0.1:{server.port}", rows=options.rows, bound_ms=options.bound_ms,
            clients=options.clients, tables=tuple(sorted(generator.tables)), load_s=round(load_s, 1),
            baseline=_latency(warm), migrations=tuple(runs), prerequisites=tuple(m.id for m in before),
        )


def _run_under_workload(db: Settings, url: str, rest: list[Migration], generator: rowgen.Generator,
                        oids: list[int], options: Options, progress: Progress
                        ) -> tuple[list[_Window], list[_Statement], list[_Sample]]:
    stop = threading.Event()
    log: list[_Statement] = []
    counters = {name: itertools.count(options.rows + 1) for name in generator.tables}
    ops = workload_ops(generator)
    clients = [_Client(url, ops, options.rows, counters, options.rate, stop, log, seed)
               for seed in range(options.clients)]
    monitor = _Monitor(url, oids, options.sample_ms / 1000.0, stop)
    windows: list[_Window] = []
    monitor.start()
    for client in clients:
        client.start()
    try:
        for client in clients:
            client.ready.wait(30)
            if client.failure:
                raise InputError(f"a workload connection failed: {client.failure}")
        progress(f"workload running: {options.clients} clients, {options.rate:g} statements/s each")
        time.sleep(options.warmup_s)
        for migration in rest:
            progress(f"rehearsing {migration.id} ({migration.module})")
            window = _Window(migration, time.perf_counter())
            windows.append(window)
            try:
                engine.apply(db, to=migration.id)
            except DbkitError as exc:
                window.failed = str(exc)
            window.end = time.perf_counter()
            if window.failed:
                break
            time.sleep(0.05)  # let statements queued behind the migration finish inside its slot
        time.sleep(options.warmup_s / 2)
    finally:
        stop.set()
        for client in clients:
            client.join(30)
        monitor.join(30)
    if monitor.failure:
        raise InputError(f"the lock monitor's connection failed: {monitor.failure}")
    return windows, sorted(log, key=lambda s: s.start), monitor.samples


def _results(windows: list[_Window], log: list[_Statement], samples: list[_Sample],
             names: dict[int, str]) -> list[MigrationRun]:
    waits = _waits(samples)
    starts = [w.start for w in windows[1:]] + [float("inf")]
    return [_run_of(window, next_start, log, waits, samples, names) for window, next_start in zip(windows, starts)]


def _waits(samples: list[_Sample]) -> dict[int, list[float]]:
    """Workload pid -> the times it was seen waiting on a migration."""
    waits: dict[int, list[float]] = {}
    for sample in samples:
        for pid in sample.waiting_on_migration:
            waits.setdefault(pid, []).append(sample.at)
    return waits


def _run_of(window: _Window, next_start: float, log: list[_Statement], waits: dict[int, list[float]],
            samples: list[_Sample], names: dict[int, str]) -> MigrationRun:
    """One migration's result. Its slot runs 50 ms past its end (the statements queued behind
    it finish then) but never into the next migration's."""
    slot_end = min(next_start, window.end + 0.05)
    overlapping = [s for s in log if s.start <= slot_end and s.end >= window.start]
    waited = [s for s in overlapping if _seen_waiting(s, waits.get(s.pid, ()), window.start, slot_end)]
    errors = sorted({s.error for s in log if s.error and window.start <= s.end < next_start})
    return MigrationRun(
        id=window.migration.id, module=window.migration.module,
        duration_ms=round((window.end - window.start) * 1000.0, 1),
        locks=_locks(samples, window.start, slot_end, names),
        longest_wait_ms=round(max((s.ms for s in waited), default=0.0), 1),
        waited=len(waited),
        slowest_ms=round(max((s.ms for s in overlapping), default=0.0), 1),
        statements=len(overlapping),
        errors=tuple(errors[:5]),
        failed=window.failed,
    )


def _seen_waiting(statement: _Statement, times: Iterable[float], start: float, end: float) -> bool:
    """Whether its session was sampled waiting on a migration while it ran, within the slot."""
    return any(statement.start <= t <= statement.end and start <= t <= end for t in times)


def _locks(samples: list[_Sample], start: float, end: float, names: dict[int, str]) -> tuple[LockHeld, ...]:
    """The strongest lock seen per table, with how long it was seen held without a break.

    The time of a mode is the longest run of consecutive samples that all saw it (0 for one
    sample): a lock taken twice briefly, seconds apart, is two short holds, not one long one.
    """
    window = [sample for sample in samples if start <= sample.at <= end]
    strongest: dict[int, str] = {}
    for sample in window:
        for rel, mode in sample.locks:
            if mode in LOCK_MODES and (rel not in strongest
                                       or LOCK_MODES.index(mode) > LOCK_MODES.index(strongest[rel])):
                strongest[rel] = mode
    held: list[LockHeld] = []
    for rel, mode in strongest.items():
        longest = 0.0
        run_start: float | None = None
        for sample in window:
            if (rel, mode) in sample.locks:
                run_start = sample.at if run_start is None else run_start
                longest = max(longest, sample.at - run_start)
            else:
                run_start = None
        held.append(LockHeld(names[rel], mode, round(longest * 1000.0, 1)))
    return tuple(sorted(held, key=lambda h: (-LOCK_MODES.index(h.mode), h.relation)))


def _latency(values: list[float]) -> Latency:
    if not values:
        return Latency(0, 0.0, 0.0, 0.0)
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Latency(len(ordered), round(statistics.median(ordered), 2), round(p99, 2), round(ordered[-1], 1))


# ---------------------------------------------------------------- rendering


def _held(run: MigrationRun) -> str:
    """The locks that queue the application's writes, else the strongest lock seen, else none."""
    blocking = [lock for lock in run.locks if lock.blocks_writes]
    shown = blocking or list(run.locks[:1])
    return "; ".join(lock.describe() for lock in shown) if shown else "none sampled"


def _verdict(run: MigrationRun, bound_ms: float) -> str:
    if run.failed:
        return "FAILED"
    if run.over(bound_ms):
        return "BLOCKS"
    return "errors" if run.errors else "ok"


def render_text(result: Rehearsal) -> str:
    lines = [
        f"rehearsal on a throwaway {result.server}: {len(result.tables)} tables x {result.rows:,} rows "
        f"(loaded in {result.load_s:g} s), {result.clients} workload clients, bound {result.bound_ms:g} ms",
        f"workload alone: p50 {result.baseline.p50_ms:g} ms, p99 {result.baseline.p99_ms:g} ms, "
        f"max {result.baseline.max_ms:g} ms over {result.baseline.count} statements",
        "",
        f"  {'verdict':<7} {'migration':<46} {'took ms':>8} {'longest wait ms':>16} {'waited':>6}  lock held",
    ]
    for run in result.migrations:
        lines.append(f"  {_verdict(run, result.bound_ms):<7} {run.id:<46} {run.duration_ms:>8.0f} "
                     f"{run.longest_wait_ms:>16.1f} {run.waited:>6}  {_held(run)}")
        if run.failed:
            lines.append(f"          {run.failed}")
        for error in run.errors:
            lines.append(f"          workload error: {error}")
    return "\n".join(lines) + "\n"


def render_markdown(result: Rehearsal) -> str:
    lines = [
        f"{len(result.tables)} prerequisite tables x {result.rows:,} rows; {result.clients} workload clients; "
        f"bound {result.bound_ms:g} ms. Workload alone: p50 {result.baseline.p50_ms:g} ms, "
        f"p99 {result.baseline.p99_ms:g} ms, max {result.baseline.max_ms:g} ms.",
        "",
        "| migration | lock held (sampled; write-blocking first) | longest wait of the workload (ms) "
        "| statements that waited | slowest statement overall (ms) | took (ms) | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for run in result.migrations:
        lines.append(f"| {run.id} | {_held(run)} | {run.longest_wait_ms:.1f} | {run.waited} | {run.slowest_ms:.1f} "
                     f"| {run.duration_ms:.0f} | {_verdict(run, result.bound_ms)} |")
    return "\n".join(lines) + "\n"
