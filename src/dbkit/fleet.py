"""Fleets: one apply, status, verify or rollback over many databases, with one combined result.

A targets file lists the databases:

* a plain text file: one URL per line; blank lines and ``#`` comments are ignored;
* a TOML file (``.toml``): ``[[target]]`` tables (``name``, ``url`` or ``url_env`` — the
  name of an environment variable holding the URL, so the file holds no password —
  ``group``, ``canary``) and ``[[query]]`` tables whose ``sql`` lists targets from a
  registry database (``url``/``url_env``; columns ``name``, ``url`` and optionally
  ``group``, ``canary``), run in a read-only transaction.

The run: canaries first (all of them, up to ``parallel`` at a time); if any canary fails,
nothing else runs. Then the rest, ``parallel`` at a time. On each server (host:port) the
first target runs alone: roles are cluster-wide, and two databases of one cluster creating
the same role at once would race past the migrations' "if absent" guards (a unique
violation in pg_authid); once one target on a server has finished, its peers run in parallel. On a failure, ``stop`` starts no
further target (running ones finish) and ``continue`` runs every target; either way each
target has a row saying what happened. Secrets never reach a result: databases are named
``user@host:port/dbname`` and every error text is masked with every target's password.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import psycopg

from dbkit import engine
from dbkit.config import DatabaseTarget, Settings, mask
from dbkit.errors import DbkitError, InputError
from dbkit.verify import verify as run_verify

State = Literal["ok", "failed", "error", "not run"]
OnFailure = Literal["stop", "continue"]
COMMANDS = ("apply", "status", "verify", "rollback")


@dataclass(frozen=True)
class Target:
    name: str
    database: DatabaseTarget  # its password is kept out of repr by DatabaseTarget
    group: str | None = None
    canary: bool = False

    def describe(self) -> str:
        return self.database.describe()


@dataclass(frozen=True)
class Outcome:
    """What one command did on one database (before timing and masking)."""

    failed: bool
    done: tuple[str, ...] = ()  # migrations/files applied or rolled back (or planned, in a dry run)
    pending: int | None = None
    checks: dict[str, int] | None = None  # verify counts: fail, warn, pass, skipped, total
    failed_checks: tuple[str, ...] = ()
    detail: str = ""
    server_version: str | None = None


@dataclass(frozen=True)
class TargetResult:
    name: str
    database: str  # user@host:port/dbname, never a password
    group: str | None
    canary: bool
    state: State
    duration_ms: float
    done: tuple[str, ...] = ()
    pending: int | None = None
    checks: dict[str, int] | None = None
    failed_checks: tuple[str, ...] = ()
    detail: str = ""
    error: str = ""
    server_version: str | None = None


@dataclass(frozen=True)
class FleetResult:
    command: str
    dry_run: bool
    started_at: str
    duration_ms: float
    parallel: int
    on_failure: OnFailure
    targets: tuple[TargetResult, ...]
    stopped: str = ""  # why targets were not run, when some were not
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return all(t.state == "ok" for t in self.targets)

    def count(self, state: State) -> int:
        return sum(1 for t in self.targets if t.state == state)


Work = Callable[[Settings], Outcome]
Progress = Callable[[int, int, int], None]  # finished, total, not ok


# ---------------------------------------------------------------- the targets file


def load_targets(path: Path, *, groups: tuple[str, ...] = (), canaries: int = 0,
                 environ: dict[str, str] | None = None) -> tuple[Target, ...]:
    """The targets a file lists (only ``groups``, when given); the first ``canaries`` become canaries.

    Any problem is an ``InputError`` naming the file and line or entry, never the URL."""
    env = dict(os.environ) if environ is None else environ
    text = _read(path)
    targets = _from_toml(path, text, env) if path.suffix.lower() == ".toml" else _from_lines(path, text)
    if groups:
        targets = _in_groups(path, targets, groups)
    if not targets:
        raise InputError(f"targets file {path} lists no database")
    _refuse_same_database(path, targets)
    if canaries < 0 or canaries > len(targets):
        raise InputError(f"--canary {canaries}: the targets file lists {len(targets)} database(s)")
    return tuple(replace(t, canary=True) if n < canaries else t for n, t in enumerate(targets))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"targets file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read targets file {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _in_groups(path: Path, targets: list[Target], groups: tuple[str, ...]) -> list[Target]:
    """Only the targets of ``groups``; a group the file does not have is a typo, not an empty run."""
    known = {t.group for t in targets}
    unknown = [g for g in groups if g not in known]
    if unknown:
        raise InputError(f"targets file {path} has no group {', '.join(unknown)}; "
                         f"its groups: {', '.join(sorted(g for g in known if g)) or '(none)'}")
    return [t for t in targets if t.group in groups]


def _refuse_same_database(path: Path, targets: list[Target]) -> None:
    """Two entries for one database would run the command on it twice, concurrently."""
    seen: dict[str, str] = {}
    for t in targets:
        where = t.describe()
        if where in seen:
            raise InputError(f"targets file {path}: {t.name} and {seen[where]} are the same database ({where})")
        seen[where] = t.name


def _parse(url: str, where: str) -> DatabaseTarget:
    try:
        return DatabaseTarget.parse(url)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _from_lines(path: Path, text: str) -> list[Target]:
    targets = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        database = _parse(entry, f"{path}:{number}")
        targets.append(Target(database.describe(), database))
    return targets


def _url(entry: dict[str, Any], where: str, env: dict[str, str]) -> str:
    if ("url" in entry) == ("url_env" in entry):
        raise InputError(f"{where}: give exactly one of url and url_env")
    if "url_env" in entry:
        name = str(entry["url_env"])
        if not env.get(name):
            raise InputError(f"{where}: environment variable {name} is not set")
        return env[name]
    return str(entry["url"])


def _from_toml(path: Path, text: str, env: dict[str, str]) -> list[Target]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"targets file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"target", "query"}
    if unknown:
        raise InputError(f"targets file {path}: unknown key(s) {', '.join(sorted(unknown))}; use [[target]] "
                         "and [[query]]")
    targets: list[Target] = []
    for n, entry in enumerate(data.get("target", []), start=1):
        where = f"{path} [[target]] #{n}"
        extra = set(entry) - {"name", "url", "url_env", "group", "canary"}
        if extra:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        database = _parse(_url(entry, where, env), where)
        targets.append(Target(str(entry.get("name") or database.describe()), database,
                              entry.get("group"), bool(entry.get("canary", False))))
    for n, entry in enumerate(data.get("query", []), start=1):
        targets += _from_query(entry, f"{path} [[query]] #{n}", env)
    return targets


def _from_query(entry: dict[str, Any], where: str, env: dict[str, str]) -> list[Target]:
    extra = set(entry) - {"url", "url_env", "sql", "group"}
    if extra or "sql" not in entry:
        raise InputError(f"{where}: needs sql and url (or url_env); unknown key(s): {', '.join(sorted(extra))}")
    registry = _parse(_url(entry, where, env), where)
    try:
        with engine.connect(registry) as conn, conn.transaction(force_rollback=True):
            conn.execute("set transaction read only")
            cur = conn.execute(str(entry["sql"]))
            columns = [c.name for c in cur.description or ()]
            rows = cur.fetchall()
    except psycopg.Error as exc:
        raise InputError(f"{where}: the query failed: {mask(str(exc).splitlines()[0], registry.secrets())}") from None
    if "url" not in columns:
        raise InputError(f"{where}: the query must return a column named url (and optionally name, group, canary)")
    targets: list[Target] = []
    for row in rows:
        values = dict(zip(columns, row))
        database = _parse(str(values["url"]), f"{where}, row {values.get('name') or len(targets) + 1}")
        targets.append(Target(str(values.get("name") or database.describe()), database,
                              values.get("group") or entry.get("group"), bool(values.get("canary") or False)))
    return targets


# ---------------------------------------------------------------- the run


def run(settings: Settings, targets: tuple[Target, ...], command: str, work: Work, *, parallel: int = 4,
        on_failure: OnFailure = "stop", dry_run: bool = False, progress: Progress | None = None) -> FleetResult:
    """Run ``work`` on every target: canaries first, then the rest, ``parallel`` at a time."""
    if parallel < 1:
        raise InputError("--parallel must be at least 1")
    secrets = tuple(s for t in targets for s in t.database.secrets())
    started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    fleet = _Run(settings, targets, work, secrets, parallel, on_failure, progress)
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="dbkit-fleet") as pool:
        fleet.phase(pool, "canary", [n for n, t in enumerate(targets) if t.canary])
        fleet.phase(pool, "rest", [n for n, t in enumerate(targets) if not t.canary])
    rows = tuple(fleet.results.get(n) or TargetResult(t.name, t.describe(), t.group, t.canary, "not run", 0.0)
                 for n, t in enumerate(targets))
    return FleetResult(command=command, dry_run=dry_run, started_at=started_at,
                       duration_ms=round((time.perf_counter() - t0) * 1000, 1), parallel=parallel,
                       on_failure=on_failure, targets=rows, stopped=fleet.stopped, secrets=secrets)


@dataclass
class _Run:
    """The state of one fleet run: which targets finished, which servers are busy or warm, and
    why the run stopped starting targets (empty while it has not)."""

    settings: Settings
    targets: tuple[Target, ...]
    work: Work
    secrets: tuple[str, ...]
    parallel: int
    on_failure: OnFailure
    progress: Progress | None
    results: dict[int, TargetResult] = field(default_factory=dict)
    stopped: str = ""
    warm: set[str] = field(default_factory=set)  # servers where a target has finished: their cluster-wide objects exist
    running: dict[str, int] = field(default_factory=dict)  # server -> targets running on it now

    def phase(self, pool: ThreadPoolExecutor, phase: str, indexes: list[int]) -> None:
        """Run these targets, ``parallel`` at a time, until they are done or the run stops."""
        pending: dict[Future[TargetResult], int] = {}
        queue = list(indexes)
        while queue or pending:
            self._start(pool, queue, pending)
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                self._finish(phase, pending.pop(future), future.result())

    def _start(self, pool: ThreadPoolExecutor, queue: list[int], pending: dict[Future[TargetResult], int]) -> None:
        while queue and len(pending) < self.parallel and not self.stopped:
            chosen = self._startable(queue)
            if chosen is None:
                break
            where = _server(self.targets[chosen])
            self.running[where] = self.running.get(where, 0) + 1
            pending[pool.submit(_one, self.settings, self.targets[chosen], self.work, self.secrets)] = chosen

    def _startable(self, queue: list[int]) -> int | None:
        """The next target that may start: the first one of each server runs alone on that server."""
        for position, n in enumerate(queue):
            where = _server(self.targets[n])
            if where in self.warm or not self.running.get(where):
                return queue.pop(position)
        return None

    def _finish(self, phase: str, n: int, result: TargetResult) -> None:
        where = _server(self.targets[n])
        self.running[where] -= 1
        self.warm.add(where)
        self.results[n] = result
        if self.progress is not None:
            self.progress(len(self.results), len(self.targets),
                          sum(1 for r in self.results.values() if r.state != "ok"))
        if result.state != "ok" and not self.stopped:
            if phase == "canary":
                self.stopped = f"canary {self.targets[n].name} did not succeed; no other target was started"
            elif self.on_failure == "stop":
                self.stopped = (f"{self.targets[n].name} did not succeed and --on-failure is stop; "
                                "targets not yet started were not run")


def _server(target: Target) -> str:
    """The PostgreSQL server (cluster) a target lives on: roles and other global objects are shared there."""
    params = target.database.params
    return f"{params.get('host', '')}:{params.get('port', '5432')}"


def _one(settings: Settings, target: Target, work: Work, secrets: tuple[str, ...]) -> TargetResult:
    """One target's row: its outcome, or the error that stopped it (masked), with its time."""
    started = time.perf_counter()
    base = TargetResult(target.name, target.describe(), target.group, target.canary, "ok", 0.0)
    try:
        outcome = work(replace(settings, database=target.database))
        row = replace(base, state="failed" if outcome.failed else "ok", done=outcome.done, pending=outcome.pending,
                      checks=outcome.checks, failed_checks=outcome.failed_checks,
                      detail=mask(outcome.detail, secrets), server_version=outcome.server_version)
    except DbkitError as exc:
        row = replace(base, state="failed" if exc.exit_code == 1 else "error", error=_one_line(exc, secrets))
    except psycopg.Error as exc:
        row = replace(base, state="error", error=_one_line(exc, secrets))
    except Exception as exc:  # noqa: BLE001 — one target's bug must not hide the other rows
        row = replace(base, state="error", error=f"{type(exc).__name__}: {_one_line(exc, secrets)}")
    return replace(row, duration_ms=round((time.perf_counter() - started) * 1000, 1))


def _one_line(exc: BaseException, secrets: tuple[str, ...]) -> str:
    return mask(" ".join(str(exc).split()) or type(exc).__name__, secrets)


# ---------------------------------------------------------------- the commands' work


def apply_work(*, module: str | None = None, to: str | None = None, dry_run: bool = False,
               verify_after: bool = True) -> Work:
    """Apply, then (not in a dry run) verify read-only: a target is ok only when both are."""
    def work(settings: Settings) -> Outcome:
        result = engine.apply(settings, module=module, to=to, dry_run=dry_run)
        if dry_run or not verify_after:
            return Outcome(False, done=result.done, detail=f"{len(result.steps)} step(s)")
        checked = verify_work(module=module)(settings)
        return replace(checked, done=result.done)
    return work


def verify_work(*, module: str | None = None, writes: bool = False) -> Work:
    def work(settings: Settings) -> Outcome:
        report = run_verify(settings, module=module, writes=writes)
        counts = report.counts()
        failed = tuple(c.id for c in report.checks if c.status == "fail")
        return Outcome(report.failed, checks=counts, failed_checks=failed,
                       detail="; ".join(c.message for c in report.checks if c.status == "fail")[:500],
                       server_version=report.server_version)
    return work


def status_work(*, module: str | None = None) -> Work:
    def work(settings: Settings) -> Outcome:
        status = engine.status(settings, module=module)
        pending = len(status.migrations("pending"))
        changed = len(status.migrations("changed")) + len(status.files("changed"))
        return Outcome(False, pending=pending,
                       detail=f"{len(status.migrations('applied'))} applied, {pending} pending, {changed} changed")
    return work


def rollback_work(*, module: str | None = None, steps: int | None = None, to: str | None = None,
                  all_: bool = False, force: bool = False, dry_run: bool = False) -> Work:
    def work(settings: Settings) -> Outcome:
        result = engine.rollback(settings, module=module, steps=steps, to=to, all_=all_, force=force,
                                 dry_run=dry_run)
        return Outcome(False, done=result.done, detail=f"{len(result.steps)} step(s)")
    return work
