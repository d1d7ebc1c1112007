"""Fault soak: faults at random moments while dbkit applies and rolls back every module.

Trials (each on the project's full module set, against a throwaway cluster of its own):

* ``kill-apply`` / ``kill-rollback``: ``kill -9`` of ``dbkit apply`` / ``dbkit rollback
  --all --force`` at a random moment of its run;
* ``terminate``: the server terminates dbkit's backend mid-run (``pg_terminate_backend``);
* ``restart``: an immediate server restart (``pg_ctl restart -m immediate``) mid-apply;
* ``statement-timeout``: ``--statement-timeout`` of a few milliseconds, hit inside a migration;
* ``concurrent-apply``: 8 ``dbkit apply`` at once on an empty database;
* ``apply-vs-rollback``: ``dbkit apply`` and ``dbkit rollback --all`` started together;
* ``verify-vs-apply``: ``dbkit verify`` on a database applied half-way (it must fail and
  name what is pending), then ``dbkit verify`` and ``dbkit apply`` together (the apply must
  not be held up past its default ``--ddl-lock-wait``; verify must not pass on a
  half-applied view).

After each trial: ``dbkit status`` agrees with the record and the record with the catalog
(every user object compared with the catalog the same migrations leave on a fresh database),
nothing is half-applied (a ``-- transactional: false`` migration may stand half-way: that
is documented, and the next command must complete it), no index is left invalid, every
command that failed said so in one line without a traceback, and the next command
(apply or rollback to the end) completes and leaves an exact state.

``make soak`` runs ``python tests/soak.py`` (104 trials); ``tests/test_soak.py``
runs a short schedule inside ``make test``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbkit import engine
from dbkit.config import Settings, load_settings
from dbkit.ephemeral import Server, ephemeral_postgres
from dbkit.project import Migration, Project, load_project
from dbkit.roundtrip import snapshot
from helpers import REPO_ROOT, dbkit_process

State = dict[str, str]
LOCK_WAIT = "120"  # --migration-lock-wait for the command after a fault: a stale lock would show as a timeout


@dataclass
class Trial:
    kind: str
    detail: str = ""
    applied_after_fault: int | None = None  # migrations recorded when the fault hit
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Run:
    """A dbkit subprocess and what it said."""

    args: tuple[str, ...]
    proc: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)
    code: int | None = None
    stdout: str = ""
    stderr: str = ""

    def finish(self, timeout: float = 300) -> Run:
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        self.code = self.proc.returncode
        return self

    def kill(self) -> Run:
        self.proc.send_signal(signal.SIGKILL)
        return self.finish()


class Soak:
    def __init__(self, server: Server, root: Path = REPO_ROOT, seed: int | None = None):
        self.server = server
        self.root = root
        self.project: Project = load_project(load_settings(root, environ={}))
        self.plan = self.project.plan
        self.random = random.Random(seed)
        self.references: dict[frozenset[str], State] = {}
        self.windows: dict[str, tuple[float, float]] = {}
        self._build_references()

    # ------------------------------------------------------------ databases

    def new_database(self) -> str:
        name = f"soak_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return self.server.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')

    def settings(self, url: str) -> Settings:
        return load_settings(self.root, database_url=url, environ={})

    def _build_references(self) -> None:
        """The catalog after each prefix of the plan, applied one migration at a time."""
        url = self.new_database()
        try:
            self.references[frozenset()] = _catalog(url)
            done: set[str] = set()
            for migration in self.plan:
                engine.apply(self.settings(url), to=migration.id)
                done.add(migration.id)
                self.references[frozenset(done)] = _catalog(url)
        finally:
            self.drop_database(url)

    def reference(self, applied: frozenset[str]) -> State:
        if applied not in self.references:  # not a prefix of the plan: build it
            url = self.new_database()
            try:
                for migration in self.plan:
                    if migration.id in applied:
                        engine.apply(self.settings(url), to=migration.id)
                self.references[applied] = _catalog(url)
            finally:
                self.drop_database(url)
        return self.references[applied]

    # ------------------------------------------------------------ commands

    def start(self, url: str, *args: str) -> Run:
        return Run(args, dbkit_process(*args, url=url, cwd=self.root))

    def wait_for_backend(self, url: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("select count(*) from pg_stat_activity where application_name = 'dbkit' "
                                   "and datname = current_database()").fetchone()
                if row and row[0]:
                    return True
                time.sleep(0.01)
        return False

    def calibrate(self) -> None:
        """When an uninterrupted apply and rollback first change the record, and when they
        end, counted from dbkit's connection: the time of one migration, for fault_moment
        (a rollback first probes the whole plan in a transaction it undoes)."""
        url = self.new_database()
        try:
            for kind, args in (("apply", ("apply",)), ("rollback", ("rollback", "--all", "--force"))):
                count = len(_recorded(url))
                run = self.start(url, *args)
                self.wait_for_backend(url)
                connected = time.monotonic()
                _wait_until(lambda: len(_recorded(url)) != count or run.proc.poll() is not None, 300)
                first_change = time.monotonic() - connected
                run.finish()
                if run.code != 0:
                    raise RuntimeError(f"calibration {kind} failed: {run.stderr}")
                self.windows[kind] = (first_change, time.monotonic() - connected)
        finally:
            self.drop_database(url)

    def fault_moment(self, url: str, run: Run, direction: str) -> str:
        """Wait for a random point of the run: a random number of migrations recorded (applied,
        or still applied for a rollback; all of them: during its probe), then a random part of
        one migration's time. Returns where that was."""
        n = len(self.plan)
        first, end = self.windows[direction]
        step = max((end - first) / n, 0.005)
        target = self.random.randint(0, n - 1) if direction == "apply" else self.random.randint(1, n)
        self.wait_for_backend(url)
        if direction == "rollback" and target == n:
            extra = self.random.uniform(0, first)  # still probing: nothing changed yet
        else:
            with psycopg.connect(url, autocommit=True) as conn:
                while run.proc.poll() is None:
                    count = _rows(conn, "select count(*) from dbkit._yoyo_migration")
                    recorded = int(count[0][0]) if count else 0
                    if (recorded >= target) if direction == "apply" else (recorded <= target):
                        break
                    time.sleep(0.005)
            extra = self.random.uniform(0, step)
        time.sleep(extra)
        return f"at {target} of {n} recorded +{extra * 1000:.0f}ms"

    def complete(self, url: str, direction: str, trial: Trial) -> None:
        """The next command after a fault must complete: apply or roll back to the end."""
        args = ("apply",) if direction == "apply" else ("rollback", "--all", "--force")
        run = self.start(url, *args, "--migration-lock-wait", LOCK_WAIT).finish()
        if run.code != 0:
            trial.problems.append(f"the next `dbkit {' '.join(args)}` failed ({run.code}): {run.stderr.strip()}")
            return
        wanted = frozenset(m.id for m in self.plan) if direction == "apply" else frozenset()
        self.check(url, trial, expect=wanted)

    # ------------------------------------------------------------ the check

    def check(self, url: str, trial: Trial, expect: frozenset[str] | None = None) -> frozenset[str]:
        """Status agrees with the record, the record with the catalog; nothing half-applied."""
        status = engine.status(self.settings(url))
        states = {m.id: m.state for m in status.migrations("applied") + status.migrations("changed")}
        applied = frozenset(states)
        if any(state != "applied" for state in states.values()):
            trial.problems.append(f"status shows changed migrations: {sorted(states)}")
        with psycopg.connect(url, autocommit=True) as conn:
            records = _rows(conn, "select migration_id, count(*) from dbkit._yoyo_migration group by 1")
            checksums = {r[0] for r in _rows(conn, "select migration_id from dbkit.migration_checksum")}
            files = dict(_rows(conn, "select path, checksum from dbkit.file_checksum"))
            invalid = _rows(conn, "select indexrelid::regclass::text from pg_index where not indisvalid")
            locks = _rows(conn, "select pid from pg_locks where locktype = 'advisory' and objid = %s",
                          (engine.ADVISORY_LOCK_KEY & 0xFFFFFFFF,))
        del locks  # a dying backend may still hold it for a moment; the next command proves it goes
        if any(count != 1 for _, count in records):
            trial.problems.append(f"a migration is recorded twice: {records}")
        if {r[0] for r in records} != applied or checksums != applied:
            trial.problems.append(f"status {sorted(applied)} != yoyo {sorted(r[0] for r in records)} "
                                  f"!= checksums {sorted(checksums)}")
        wanted_files = {inc.file.name: inc.file.checksum for m in self.plan if m.id in applied for inc in m.includes}
        if files != wanted_files:
            trial.problems.append(f"file records differ: extra {sorted(set(files) - set(wanted_files))}, "
                                  f"missing {sorted(set(wanted_files) - set(files))}")
        missing_deps = [m.id for m in self.plan if m.id in applied and not set(m.depends) <= applied]
        if missing_deps:
            trial.problems.append(f"applied without their dependencies: {missing_deps}")
        if expect is not None and applied != expect:
            trial.problems.append(f"expected {len(expect)} applied, found {len(applied)}")
        catalog = _catalog(url)
        differences = _differences(self.reference(applied), catalog)
        if differences:
            half = self._half_way(applied, differences)
            if half is None or expect is not None:
                shown = ", ".join(sorted(differences)[:8])
                trial.problems.append(f"catalog differs from the record ({len(differences)} objects: {shown})")
            else:
                trial.notes.append(f"half-way through non-transactional {half.id} (allowed; completed next)")
        elif invalid:
            trial.problems.append(f"invalid index(es) left: {invalid}")
        return applied

    def _half_way(self, applied: frozenset[str], differences: set[str]) -> Migration | None:
        """The ``-- transactional: false`` migration whose objects explain the differences, if any."""
        for m in self.plan:
            # A pending migration with a safer form (`-- replaces:`) runs that form in its place.
            runner = self.project.replacement(m.id) if m.id not in applied else None
            runner = runner or m
            if runner.transactional:
                continue
            if m.id not in applied and set(m.depends) <= applied:
                other = applied | {m.id}
            elif m.id in applied and not any(m.id in d.depends for d in self.plan if d.id in applied):
                other = applied - {m.id}
            else:
                continue
            explained = _differences(self.reference(applied), self.reference(frozenset(other)))
            # A half-way run may also leave an object only its statements name (a temporary
            # index built CONCURRENTLY, then renamed over the old one); the next run completes it.
            text = (runner.expanded().text + m.expanded().text + m.expanded_rollback().text).lower()
            if all(d in explained or _object_name(d) in text for d in differences):
                return m
        return None

    def said_one_line(self, run: Run, trial: Trial, allowed: tuple[int, ...]) -> None:
        if run.code not in allowed:
            trial.problems.append(f"`dbkit {' '.join(run.args)}` exited {run.code}: {run.stderr.strip()[:300]}")
        if "Traceback" in run.stderr or (run.code not in (0, -9) and len(run.stderr.strip().splitlines()) != 1):
            trial.problems.append(f"`dbkit {' '.join(run.args)}` did not fail in one line: {run.stderr[:500]}")

    # ------------------------------------------------------------ trials

    def at_full(self) -> str:
        url = self.new_database()
        engine.apply(self.settings(url))
        return url

    def kill(self, direction: str) -> Trial:
        trial = Trial(f"kill-{direction}")
        url = self.new_database() if direction == "apply" else self.at_full()
        try:
            args = ("apply",) if direction == "apply" else ("rollback", "--all", "--force")
            run = self.start(url, *args)
            trial.detail = self.fault_moment(url, run, direction)
            run.kill()
            applied = self.check(url, trial)
            trial.applied_after_fault = len(applied)
            self.complete(url, direction, trial)
        finally:
            self.drop_database(url)
        return trial

    def terminate(self) -> Trial:
        trial = Trial("terminate")
        direction = self.random.choice(["apply", "rollback"])
        url = self.new_database() if direction == "apply" else self.at_full()
        try:
            args = ("apply",) if direction == "apply" else ("rollback", "--all", "--force")
            run = self.start(url, *args)
            moment = self.fault_moment(url, run, direction)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                             "where application_name = 'dbkit' and datname = current_database()")
            run.finish()
            trial.detail = f"{direction} {moment}, exit {run.code}"
            self.said_one_line(run, trial, (0, 2))
            trial.applied_after_fault = len(self.check(url, trial))
            self.complete(url, direction, trial)
        finally:
            self.drop_database(url)
        return trial

    def restart(self) -> Trial:
        trial = Trial("restart")
        url = self.new_database()
        try:
            run = self.start(url, "apply")
            moment = self.fault_moment(url, run, "apply")
            _pg_ctl(self.server, "restart", "-m", "immediate", "-w", "-t", "120")
            run.finish()
            trial.detail = f"{moment}, exit {run.code}"
            self.said_one_line(run, trial, (0, 2))
            trial.applied_after_fault = len(self.check(url, trial))
            self.complete(url, "apply", trial)
        finally:
            self.drop_database(url)
        return trial

    def statement_timeout(self) -> Trial:
        trial = Trial("statement-timeout")
        url = self.new_database()
        try:
            timeout = self.random.randint(2, 40)
            run = self.start(url, "apply", "--statement-timeout", f"{timeout}ms").finish()
            trial.detail = f"{timeout}ms, exit {run.code}"
            self.said_one_line(run, trial, (0, 1))
            if run.code == 1 and "57014" not in run.stderr:
                trial.problems.append(f"failed for another reason than the timeout: {run.stderr.strip()}")
            trial.applied_after_fault = len(self.check(url, trial))
            self.complete(url, "apply", trial)
        finally:
            self.drop_database(url)
        return trial

    def concurrent_apply(self, count: int = 8) -> Trial:
        trial = Trial("concurrent-apply", detail=f"{count} processes")
        url = self.new_database()
        try:
            runs = [self.start(url, "apply", "--migration-lock-wait", LOCK_WAIT) for _ in range(count)]
            for run in runs:
                run.finish()
                self.said_one_line(run, trial, (0,))
            applied_lines = sum(line.startswith("applied ") for run in runs for line in run.stdout.splitlines())
            if applied_lines != len(self.plan):
                trial.problems.append(f"{applied_lines} 'applied' lines for {len(self.plan)} migrations")
            self.check(url, trial, expect=frozenset(m.id for m in self.plan))
        finally:
            self.drop_database(url)
        return trial

    def apply_vs_rollback(self) -> Trial:
        trial = Trial("apply-vs-rollback")
        url = self.at_full()
        try:
            rollback = self.start(url, "rollback", "--all", "--force", "--migration-lock-wait", LOCK_WAIT)
            moment = self.fault_moment(url, rollback, "rollback")
            apply = self.start(url, "apply", "--migration-lock-wait", LOCK_WAIT)
            for run in (rollback.finish(), apply.finish()):
                self.said_one_line(run, trial, (0,))
            applied = self.check(url, trial)
            trial.detail = f"apply started {moment}, ended with {len(applied)} applied"
            self.complete(url, "apply", trial)
        finally:
            self.drop_database(url)
        return trial

    def verify_vs_apply(self) -> Trial:
        """verify on a half-applied database must fail, and verify running beside apply must
        neither hold the apply up (default --ddl-lock-wait) nor pass on what it saw half-way."""
        trial = Trial("verify-vs-apply")
        url = self.new_database()
        try:
            half_way = self.plan[self.random.randint(2, len(self.plan) - 3)]
            engine.apply(self.settings(url), to=half_way.id)
            alone = self.start(url, "verify", "--format", "json").finish(timeout=600)
            if alone.code != 1:
                trial.problems.append(f"verify of a database applied up to {half_way.id} exited {alone.code}, not 1")
            elif not alone.stdout.strip():
                trial.notes.append("verify aborted without a report (issue 14 item 6, verify's own)")
            elif not re.search(r'"actual":\s*"pending"', alone.stdout):
                trial.problems.append(f"verify of a database applied up to {half_way.id} did not name what is pending")
            verify = self.start(url, "verify", "--format", "json")
            delay = self.random.uniform(0, 3.0)
            time.sleep(delay)
            apply = self.start(url, "apply").finish()
            verify.finish(timeout=600)
            self.said_one_line(apply, trial, (0,))
            if verify.code not in (0, 1):
                trial.problems.append(f"verify exited {verify.code}: {verify.stderr.strip()[:300]}")
            if verify.code == 0 and re.search(r'"actual":\s*"pending"', verify.stdout):
                trial.problems.append("verify passed while it saw pending migrations")
            trial.detail = f"from {half_way.id}, apply after {delay:.1f}s, verify exits {alone.code} then {verify.code}"
            self.check(url, trial, expect=frozenset(m.id for m in self.plan))
        finally:
            self.drop_database(url)
        return trial

    # ------------------------------------------------------------ schedule

    def run(self, schedule: list[Callable[[], Trial]], log: Callable[[str], None] = lambda _: None) -> list[Trial]:
        if not self.windows:
            self.calibrate()
        trials: list[Trial] = []
        for n, make in enumerate(schedule, 1):
            started = time.monotonic()
            trial = make()
            trial.seconds = time.monotonic() - started
            trials.append(trial)
            verdict = "ok" if not trial.problems else "INCONSISTENT: " + "; ".join(trial.problems)
            log(f"[{n}/{len(schedule)}] {trial.kind} {trial.detail} ({trial.seconds:.1f}s): {verdict}")
        return trials

    def schedule(self, counts: dict[str, int]) -> list[Callable[[], Trial]]:
        makers: dict[str, Callable[[], Trial]] = {
            "kill-apply": lambda: self.kill("apply"),
            "kill-rollback": lambda: self.kill("rollback"),
            "terminate": self.terminate,
            "restart": self.restart,
            "statement-timeout": self.statement_timeout,
            "concurrent-apply": self.concurrent_apply,
            "apply-vs-rollback": self.apply_vs_rollback,
            "verify-vs-apply": self.verify_vs_apply,
        }
        items = [makers[kind] for kind, count in counts.items() for _ in range(count)]
        self.random.shuffle(items)
        return items


FULL = {"kill-apply": 30, "kill-rollback": 30, "terminate": 10, "restart": 8, "statement-timeout": 10,
        "concurrent-apply": 4, "apply-vs-rollback": 6, "verify-vs-apply": 6}


def _catalog(url: str) -> State:
    with psycopg.connect(url, autocommit=True) as conn:
        return snapshot(conn)


def _recorded(url: str) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        return _rows(conn, "select migration_id from dbkit._yoyo_migration")


def _object_name(key: str) -> str:
    """``function public.f(uuid, text)`` -> ``f``; ``index public.idx_x`` -> ``idx_x``."""
    return key.split(" ", 1)[-1].split("(", 1)[0].split(".")[-1].lower()


def _differences(a: State, b: State) -> set[str]:
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


def _rows(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] | None = None) -> list[Any]:
    try:
        return list(conn.execute(query, params).fetchall())
    except psycopg.errors.UndefinedTable:
        return []


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _pg_ctl(server: Server, *args: str) -> None:
    """pg_ctl on the soak's own cluster, as the OS user that owns its data directory."""
    owner = server.data_dir.stat()
    kwargs: dict[str, Any] = {}
    if os.geteuid() != owner.st_uid:
        kwargs = {"user": owner.st_uid, "group": owner.st_gid, "extra_groups": [], "cwd": "/"}
    # The new postmaster must not inherit a pipe of ours (run() would wait for it to close): log to the file.
    subprocess.run([str(server.bindir / "pg_ctl"), "-D", str(server.data_dir), "-l",
                    str(server.socket_dir / "server.log"), *args],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   **kwargs)
    _wait_until(lambda: _connectable(server), 120)


def _connectable(server: Server) -> bool:
    try:
        with psycopg.connect(server.url(), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def report(trials: list[Trial], command: str, seconds: float, total: int) -> str:
    """The Markdown result for docs/reliability.md (``total``: migrations in the plan)."""
    bad = [t for t in trials if t.problems]
    lines = [f"Command: `{command}` — {len(trials)} trials in {seconds / 60:.1f} min, "
             f"**{len(bad)} inconsistencies**.", "",
             "| trial | runs | inconsistent | detail |", "|---|---|---|---|"]
    for kind in dict.fromkeys(t.kind for t in trials):
        group = [t for t in trials if t.kind == kind]
        landed = [t.applied_after_fault for t in group if t.applied_after_fault is not None]
        details: list[str] = []
        if landed:
            details.append(f"migrations recorded after the fault: min {min(landed)}, median "
                           f"{statistics.median(landed):g}, max {max(landed)} of {total}")
        half = sum(1 for t in group for n in t.notes if n.startswith("half-way"))
        if half:
            details.append(f"{half} stood half-way through a non-transactional migration (completed by the next "
                           "command)")
        aborted = sum(1 for t in group for n in t.notes if n.startswith("verify aborted"))
        if aborted:
            details.append(f"in {aborted} the half-applied verify failed by aborting, without a report "
                           "(issue 14 item 6)")
        lines.append(f"| {kind} | {len(group)} | {sum(1 for t in group if t.problems)} | {'; '.join(details)} |")
    for t in bad:
        lines.append(f"\n- {t.kind} {t.detail}: {'; '.join(t.problems)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every trial count (default 1: 104 trials)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "reports" / "soak.md")
    options = parser.parse_args()
    counts = {kind: max(1, round(n * options.scale)) for kind, n in FULL.items()}
    started = time.monotonic()
    with ephemeral_postgres() as server:
        soak = Soak(server, seed=options.seed)
        trials = soak.run(soak.schedule(counts), log=lambda line: print(line, flush=True))
    command = "make soak" if options.scale == 1.0 else f"python tests/soak.py --scale {options.scale:g}"
    text = report(trials, command, time.monotonic() - started, len(soak.plan))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"kinds: {dict(Counter(t.kind for t in trials))}")
    return 1 if any(t.problems for t in trials) else 0


if __name__ == "__main__":
    sys.exit(main())
