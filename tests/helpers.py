"""Helpers shared by the tests: run the CLI in-process or as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from click.testing import CliRunner

from dbkit.cli.main import cli

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_dbkit(*args: str, url: str | None = None, cwd: Path = REPO_ROOT,
              env: Mapping[str, str] | None = None) -> Result:
    """Run ``dbkit ARGS`` in-process; the database comes through DATABASE_URL."""
    environment: dict[str, str | None] = {"DATABASE_URL": url}
    environment.update(env or {})
    with _cwd(cwd):
        result = CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def dbkit_process(*args: str, url: str | None = None, cwd: Path = REPO_ROOT) -> subprocess.Popen[str]:
    """Start ``python -m dbkit ARGS`` as a separate process (for kill and concurrency tests)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    env["CI"] = "true"
    return subprocess.Popen([sys.executable, "-m", "dbkit", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_interruptible_like_a_terminal)


@contextmanager
def dbkit_running(*args: str, url: str | None = None, cwd: Path = REPO_ROOT) -> Iterator[subprocess.Popen[str]]:
    """``dbkit_process``, killed on leaving the block if it is still running: a child that hangs
    fails only its own test (not a later one, through a ResourceWarning), and never outlives it."""
    proc = dbkit_process(*args, url=url, cwd=cwd)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _interruptible_like_a_terminal() -> None:
    # The Ctrl-C tests stand in for a user at a terminal, where SIGINT has its default
    # action. A suite started as a background job of a non-interactive shell (`.ci/run &`,
    # nohup) inherits SIGINT ignored, exec keeps it ignored, and Python then installs no
    # KeyboardInterrupt handler: the child would not see the test's Ctrl-C at all.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write_project(root: Path, files: Mapping[str, str | bytes], *, config: str = "") -> Path:
    """A throwaway dbkit project: ``files`` maps relative paths to contents."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbkit.toml").write_text(config, encoding="utf-8")
    (root / "migrations").mkdir(exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def table_migrations(module: str, count: int, *, sleep: float = 0.0, prefix: str = "") -> dict[str, str]:
    """``count`` migrations that each create one table (optionally after pg_sleep)."""
    files: dict[str, str] = {}
    for n in range(1, count + 1):
        stem = f"{n:04d}_{prefix}{module}_t{n}"
        pause = f"select pg_sleep({sleep});\n" if sleep else ""
        files[f"migrations/{module}/{stem}.sql"] = (
            f"-- Test migration {n}.\n{pause}create table public.{prefix}{module}_t{n} (id int primary key);\n"
        )
        files[f"migrations/{module}/{stem}.rollback.sql"] = f"drop table public.{prefix}{module}_t{n};\n"
    return files


def row_counts_and_sequences(url: str) -> tuple[dict[str, int], dict[str, int | None]]:
    """Every user table's row count and every sequence's last value: what a read-only tool must not change."""
    with psycopg.connect(url, autocommit=True) as conn:
        counts: dict[str, int] = {}
        for (table,) in conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables "
            "where schemaname not in ('pg_catalog', 'information_schema') order by 1"
        ).fetchall():
            row = conn.execute(f"select count(*) from {table}").fetchone()
            counts[table] = row[0] if row else -1
        seqs = {name: value for name, value in conn.execute(
            "select format('%I.%I', schemaname, sequencename), last_value from pg_sequences")}
    return counts, seqs


def database_state(url: str) -> dict[str, str]:
    """Everything a command must leave alone: the catalog (every user object, with row
    counts, as ``dbkit.roundtrip.snapshot`` describes it) and dbkit's bookkeeping rows.

    The one comparison for "nothing was changed": equal before and after."""
    from dbkit.roundtrip import snapshot

    with psycopg.connect(url, autocommit=True) as conn:
        state = snapshot(conn)
        if conn.execute("select to_regnamespace('dbkit')").fetchone() != (None,):
            for (table,) in conn.execute(
                    "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname = 'dbkit'").fetchall():
                rows = conn.execute(f"select t::text from {table} t order by 1").fetchall()
                state[f"bookkeeping {table}"] = "\n".join(r[0] for r in rows)
        state["schema dbkit exists"] = str(conn.execute("select to_regnamespace('dbkit') is not null").fetchone())
    return state


@contextmanager
def captured_plans(conn: psycopg.Connection[Any], *, json_format: bool = True,
                   analyze: bool = False) -> Iterator[list[str]]:
    """auto_explain's report of every statement run on ``conn`` inside the block, nested ones
    (function bodies, triggers) included: one ``duration: … plan: …`` message per statement,
    the plan as JSON (``plan_documents``) or as text. ``analyze`` adds actual row counts, never
    timings. Loading auto_explain and its settings need a superuser: switch identity inside."""
    messages: list[str] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        message = diag.message_primary or ""
        if message.startswith("duration:") and "plan:" in message:
            messages.append(message)

    conn.execute("load 'auto_explain'")
    for key, value in (("log_min_duration", "0"), ("log_nested_statements", "on"), ("log_level", "notice"),
                       ("log_format", "json" if json_format else "text"), ("log_analyze", "on" if analyze else "off"),
                       ("log_timing", "off")):
        conn.execute(f"set auto_explain.{key} = {value}")
    conn.add_notice_handler(on_notice)
    try:
        yield messages
    finally:
        conn.remove_notice_handler(on_notice)
    # Outside a transaction the settings would outlive the block; inside one they end with it.
    if conn.info.transaction_status == pq.TransactionStatus.IDLE:
        conn.execute("set auto_explain.log_min_duration = -1")


def plan_documents(messages: list[str]) -> list[dict[str, Any]]:
    """The JSON documents (``Query Text``, ``Plan``) of ``captured_plans``' messages."""
    return [json.loads(message.split("plan:", 1)[1]) for message in messages]
