"""The bad-input corpus: every way a user can hand dbkit something wrong, one case each.

Each case runs one command against a real database whose URL carries a password made of
every URL-special character, and asserts the contract for bad input: the exit code, one
line on stderr saying what is wrong, no traceback, no part of the password anywhere, and
no change to the database (catalog and bookkeeping, compared by ``database_state``).
Cases that already held before issue 14 are here too, so none of them can regress.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ContextManager
from urllib.parse import quote

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from helpers import database_state, run_dbkit, table_migrations, write_project

PASSWORD = "Xq7" + " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~" + "Zk9"
LEAKS = (PASSWORD, quote(PASSWORD, safe=""), "Xq7", "Zk9")

BASE: dict[str, str | bytes] = {**table_migrations("a", 2), **table_migrations("b", 1)}
BASE["migrations/b/0001_b_t1.sql"] = "-- depends: 0002_a_t2\ncreate table public.b_t1 (id int primary key);\n"
FN = "sql/functions/public.answer.sql"


def _pending(name: str, forward: str, rollback: str = "select 1;\n", module: str = "a") -> dict[str, str | bytes]:
    return {f"migrations/{module}/{name}.sql": forward, f"migrations/{module}/{name}.rollback.sql": rollback}


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    exit_code: int
    says: tuple[str, ...]  # fragments of the one error line
    extra: Mapping[str, str | bytes] = field(default_factory=dict)  # files written after the base is applied
    config: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    applied: bool = True  # apply BASE first: the state the command must keep
    url: str | None = None  # a literal URL ({port}, {db} filled in) instead of the database's
    by_option: bool = False  # give the URL as --database-url instead of DATABASE_URL
    no_url: bool = False
    sql_before: str = ""  # run on the database before the "before" snapshot
    hold_lock: bool = False  # another session holds dbkit's migration lock during the command
    remove: tuple[str, ...] = ()  # project files deleted after the base is applied
    json_stdout: bool = False  # --format json: stdout is a JSON error object


CASES: dict[str, Case] = {
    # ---- settings, from every source
    "config retries -1 (was a false success)": Case(("apply",), 2, ("dbkit.toml", "retries = -1", "0 to 100"),
                                                    extra=_pending("0003_a_t3", "create table public.a_t3 ();\n"),
                                                    config="retries = -1\n"),
    "config retries not a number": Case(("apply",), 2, ('retries = "many"', "whole number"), config='retries = "many"\n'),
    "config retries fractional": Case(("apply",), 2, ("retries = 2.7",), config="retries = 2.7\n"),
    "config lock wait a word": Case(("apply",), 2, ('migration_lock_wait = "soon"',),
                                    config='migration_lock_wait = "soon"\n'),
    "config lock wait a list": Case(("apply",), 2, ("migration_lock_wait = [1, 2]",),
                                    config="migration_lock_wait = [1, 2]\n"),
    "config old lock_timeout a word": Case(("apply",), 2, ('lock_timeout = "soon"',), config='lock_timeout = "soon"\n'),
    "config ddl lock wait unknown unit": Case(("apply",), 2, ('ddl_lock_wait = "5 parsecs"', "PostgreSQL duration"),
                                             config='ddl_lock_wait = "5 parsecs"\n'),
    "config statement timeout a table": Case(("apply",), 2, ("statement_timeout = {",),
                                             config="statement_timeout = {a = 1}\n"),
    "config old and new name together": Case(("apply",), 2, ("both lock_timeout",),
                                             config="lock_timeout = 1\nmigration_lock_wait = 2\n"),
    "config unknown key": Case(("apply",), 2, ("unknown key(s) migration_dir",), config='migration_dir = "x"\n'),
    "config not toml": Case(("apply",), 2, ("not valid TOML",), config="retries = = 1\n"),
    "config modules names a missing folder": Case(("apply",), 2, ("have no folder",),
                                                  config='modules = ["a", "b", "zz"]\n'),
    "config modules leaves a folder out": Case(("apply",), 2, ("not listed",), config='modules = ["a"]\n'),
    "config file given does not exist": Case(("apply", "--config", "nowhere.toml"), 2, ("nowhere.toml", "does not exist")),
    "option ddl lock wait banana (was exit 1)": Case(("apply", "--ddl-lock-wait", "banana"), 2,
                                                     ("--ddl-lock-wait 'banana'",)),
    "option old ddl lock timeout banana": Case(("apply", "--ddl-lock-timeout", "banana"), 2,
                                               ("--ddl-lock-timeout 'banana'",)),
    "option lock wait negative": Case(("apply", "--migration-lock-wait", "-1"), 2, ("--migration-lock-wait '-1'",)),
    "option retries negative": Case(("rollback", "--all", "--retries", "-1"), 2, ("--retries '-1'",)),
    "option statement timeout too long": Case(("apply", "--statement-timeout", "30d"), 2,
                                              ("--statement-timeout '30d'", "longer than PostgreSQL allows")),
    "environment retries negative": Case(("apply",), 2, ("environment DBKIT_RETRIES='-1'",), env={"DBKIT_RETRIES": "-1"}),
    "environment statement timeout a word": Case(("apply",), 2, ("environment DBKIT_STATEMENT_TIMEOUT='soon'",),
                                                 env={"DBKIT_STATEMENT_TIMEOUT": "soon"}),
    # ---- database URLs
    "url malformed port": Case(("status",), 2, ("port is not a number",), url="postgresql://postgres@127.0.0.1:nope/{db}"),
    "url unsupported scheme": Case(("status",), 2, ("DATABASE_URL", "scheme 'mysql'"), url="mysql://u@h/{db}"),
    "url password with unencoded slash": Case(("status",), 2, ("percent-encode",),
                                              url="postgresql://postgres:Xq7/Zk9@127.0.0.1:{port}/{db}"),
    "url password with unencoded at": Case(("status",), 2, ("percent-encode",),
                                           url="postgresql://postgres:Xq7@Zk9@127.0.0.1:{port}/{db}"),
    "url password with bad percent escape": Case(("status",), 2, ("malformed database URL",),
                                                 url="postgresql://postgres:Xq7%zzZk9@127.0.0.1:{port}/{db}"),
    "url given as option, malformed": Case(("status",), 2, ("--database-url", "percent-encode"), by_option=True,
                                           url="postgresql://postgres:Xq7/Zk9@127.0.0.1:{port}/{db}"),
    "url unreachable port": Case(("apply",), 2, ("cannot connect to postgres@127.0.0.1:1/",),
                                 url=f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:1/{{db}}"),
    "url unknown database": Case(("status",), 2, ('database "no_such_db" does not exist',),
                                 url=f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:{{port}}/no_such_db"),
    "url missing": Case(("apply",), 2, ("DATABASE_URL",), no_url=True),
    # ---- project files that cannot load
    "duplicate migration id": Case(("apply",), 2, ("duplicate migration id '0001_a_t1'",),
                                   extra={"migrations/c/0001_a_t1.sql": "select 1;\n",
                                          "migrations/c/0001_a_t1.rollback.sql": "select 1;\n"}),
    "depends on an unknown id": Case(("apply",), 2, ("0099_nowhere",), extra=_pending(
        "0003_a_t3", "-- depends: 0099_nowhere\ncreate table public.a_t3 ();\n")),
    "dependency cycle": Case(("apply",), 2, ("dependency cycle",), extra={
        **_pending("0001_c_t1", "-- depends: 0001_d_t1\nselect 1;\n", module="c"),
        **_pending("0001_d_t1", "-- depends: 0001_c_t1\nselect 1;\n", module="d")}),
    "misspelt header directive": Case(("apply",), 2, ("unknown header directive 'transaction'",), extra=_pending(
        "0003_a_t3", "-- Adds t3.\n-- transaction: false\ncreate table public.a_t3 ();\n")),
    "file not utf-8": Case(("apply",), 2, ("migrations/a/0003_a_t3.sql:1", "UTF-8"), extra={
        "migrations/a/0003_a_t3.sql": "-- caf\xe9\nselect 1;\n".encode("latin-1"),
        "migrations/a/0003_a_t3.rollback.sql": "select 1;\n"}),
    "migration without rollback": Case(("apply",), 2, ("no rollback file",),
                                       extra={"migrations/a/0003_a_t3.sql": "select 1;\n"}),
    "malformed file name": Case(("apply",), 2, ("migrations/a/3_oops.sql", "NNNN_name.sql"),
                                extra={"migrations/a/3_oops.sql": "select 1;\n"}),
    "include outside sql/": Case(("apply",), 2, ("is outside sql/",), extra=_pending(
        "0003_a_t3", "-- include: migrations/a/0001_a_t1.sql\n")),
    "include of a missing file": Case(("apply",), 2, ("does not exist",), extra=_pending(
        "0003_a_t3", f"-- include: {FN}\n")),
    "function file no migration includes": Case(("apply",), 2, (FN, "not included by any migration"), extra={
        FN: "create function public.answer() returns int language sql as $$ select 42 $$;\n"}),
    "migrations directory missing": Case(("apply",), 2, ("migrations directory",), config='migrations = "nowhere"\n'),
    "unknown module": Case(("apply", "--module", "nope"), 2, ("unknown module 'nope'", "known modules: a, b")),
    "apply --to unknown id": Case(("apply", "--to", "0042_nope"), 2, ("unknown migration id '0042_nope'",)),
    "apply --to of another module": Case(("apply", "--module", "b", "--to", "0002_a_t2"), 2,
                                         ("belongs to module a, not b",)),
    # ---- files that load but cannot run as one unit
    "empty forward migration": Case(("apply",), 2, ("migrations/a/0003_a_t3.sql", "has no SQL statement"),
                                    extra=_pending("0003_a_t3", "")),
    "comment-only forward migration": Case(("apply",), 2, ("has no SQL statement",),
                                           extra=_pending("0003_a_t3", "-- TODO\n/* later */\n")),
    "comment-only rollback file": Case(("apply",), 2, ("migrations/a/0003_a_t3.rollback.sql", "has no SQL statement"),
                                       extra=_pending("0003_a_t3", "create table public.a_t3 ();\n", "-- undo\n")),
    "comment-only rollback of an applied migration": Case(
        ("rollback", "--steps", "1"), 2, ("migrations/b/0001_b_t1.rollback.sql", "has no SQL statement"),
        extra={"migrations/b/0001_b_t1.rollback.sql": "-- TODO: undo\n"}),
    "commit inside a transactional migration": Case(("apply",), 2, ("migrations/a/0003_a_t3.sql:2", "`commit`"),
                                                    extra=_pending("0003_a_t3", "create table public.x ();\ncommit;\n"
                                                                   "create table public.y ();\nselect 1/0;\n")),
    "begin inside a transactional migration": Case(("apply",), 2, ("migrations/a/0003_a_t3.sql:1", "`begin`"),
                                                   extra=_pending("0003_a_t3", "begin;\ncreate table public.x ();\n")),
    "rollback statement in a rollback file": Case(
        ("rollback", "--steps", "1"), 2, ("migrations/b/0001_b_t1.rollback.sql:2", "`rollback`"),
        extra={"migrations/b/0001_b_t1.rollback.sql": "drop table public.b_t1;\nrollback;\n"}),
    "create index concurrently in a transaction": Case(
        ("apply",), 2, ("migrations/a/0003_a_t3.sql:1", "transactional: false"),
        extra=_pending("0003_a_t3", "create index concurrently a_t1_idx on public.a_t1 (id);\n")),
    "syntax error": Case(("apply",), 1, ("migrations/a/0003_a_t3.sql:2", 'syntax error at or near "creat"', "42601"),
                         extra=_pending("0003_a_t3", "create table public.x ();\ncreat table public.y ();\n")),
    "syntax error in --dry-run (was exit 0)": Case(("apply", "--dry-run"), 1, ("migrations/a/0003_a_t3.sql:2",),
                                                   extra=_pending("0003_a_t3", "select 1;\nselec 2;\n")),
    "runtime error rolls the migration back": Case(
        ("apply",), 1, ("migrations/a/0003_a_t3.sql:3", "duplicate key value", "23505"),
        extra=_pending("0003_a_t3", "create table public.x (id int primary key);\ninsert into public.x values (1);\n"
                       "insert into public.x values (1);\n")),
    "statement timeout inside a migration": Case(
        ("apply", "--statement-timeout", "100ms"), 1, ("migrations/a/0003_a_t3.sql:2", "statement timeout", "57014"),
        extra=_pending("0003_a_t3", "create table public.x ();\nselect pg_sleep(5);\n")),
    "json error object on failure": Case(("apply", "--format", "json"), 1, ("division by zero",), json_stdout=True,
                                         extra=_pending("0003_a_t3", "select 1/0;\n")),
    # ---- refusals that depend on the database
    "edited applied migration": Case(("apply",), 2, ("migrations/a/0001_a_t1.sql", "dbkit repair"), extra={
        "migrations/a/0001_a_t1.sql": "-- edited\ncreate table public.a_t1 (id int primary key);\n"}),
    "rollback without a range": Case(("rollback",), 2, ("exactly one of --steps N, --to ID or --all",)),
    "rollback --to an unknown id": Case(("rollback", "--to", "0042_nope"), 2, ("unknown migration id '0042_nope'",)),
    "rollback --to a pending id": Case(("rollback", "--to", "0003_a_t3"), 2, ("is not applied",),
                                       extra=_pending("0003_a_t3", "create table public.a_t3 ();\n")),
    "rollback --steps 0": Case(("rollback", "--steps", "0"), 2, ("--steps must be at least 1",)),
    "rollback --steps 10^23 (was all)": Case(("rollback", "--steps", str(10 ** 23)), 2, ("more than the 3 applied", "--all")),
    "rollback of a table holding rows": Case(("rollback", "--all"), 2, ("public.a_t1 (2 rows)", "--force"),
                                             sql_before="insert into public.a_t1 values (1), (2)"),
    "rollback blocked by a dependent in another module": Case(("rollback", "--module", "a", "--all"), 2,
                                                              ("0001_b_t1 (b)", "roll those back first")),
    "lock held by another dbkit": Case(("apply", "--migration-lock-wait", "0.3"), 2, ("holds the migration lock",),
                                       extra=_pending("0003_a_t3", "create table public.a_t3 ();\n"), hold_lock=True),
    "read-only database": Case(("apply",), 2, ("target is read-only", "default_transaction_read_only"),
                               extra=_pending("0003_a_t3", "create table public.a_t3 ();\n"),
                               sql_before="do $$ begin execute format('alter database %I set "
                                          "default_transaction_read_only = on', current_database()); end $$"),
    "baseline of objects that do not exist": Case(
        ("baseline", "--module", "c", "--through", "0001_c_t1"), 2, ("0001_c_t1: table public.c_t1", "do not exist"),
        extra=table_migrations("c", 1)),
    "baseline --through another module's id": Case(("baseline", "--module", "a", "--through", "0001_b_t1"), 2,
                                                  ("belongs to module b, not a",)),
    "forget a migration that has a file": Case(("repair", "--forget", "0001_a_t1"), 2, ("has a file",)),
    "forget an id that is not recorded": Case(("repair", "--forget", "0009_never"), 2, ("not recorded as applied",)),
    # ---- command line and output
    "unknown option": Case(("apply", "--frobnicate"), 2, ("No such option", "dbkit apply --help")),
    "unknown command": Case(("frobnicate",), 2, ("No such command",)),
    "format not offered": Case(("status", "--format", "xml"), 2, ("'xml' is not one of",)),
    "new with a 300-character name": Case(("new", "a", "x" * 300), 2, ("300 characters",)),
    "new with a bad name": Case(("new", "a", "Bad-Name"), 2, ("lowercase letters",)),
    "verify --output to /dev/full": Case(("verify", "--output", "/dev/full"), 2,
                                         ("cannot write the report to /dev/full", "No space left")),
    "verify --output to a directory": Case(("verify", "--output", "migrations"), 2, ("is a directory",)),
    "verify --output name too long": Case(("verify", "--output", "r" * 300 + ".html"), 2, ("longer than 255 bytes",)),
    "ci --output to a directory": Case(("ci", "--output", "migrations"), 2, ("is a directory",)),
    "ci --output where no directory can be made": Case(("ci", "--output", "dbkit.toml/report.html"), 2,
                                                       ("not a writable directory",)),
}


@contextmanager
def _holding_the_lock(url: str) -> Iterator[None]:
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (engine.ADVISORY_LOCK_KEY,))
        yield


def _secret_url(url: str) -> str:
    return url.replace("postgres@", f"postgres:{quote(PASSWORD, safe='')}@", 1)


def test_the_corpus_has_at_least_fifty_cases() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_code_no_secret_and_nothing_changed(
        name: str, empty_url: str, tmp_path: Path) -> None:
    case = CASES[name]
    project = write_project(tmp_path, BASE)
    if case.applied:
        engine.apply(load_settings(project, database_url=empty_url, environ={}))
    (project / "dbkit.toml").write_text(case.config)
    for rel, content in case.extra.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.sql_before:
        with psycopg.connect(empty_url, autocommit=True) as conn:
            conn.execute(case.sql_before)
    port, db = re.match(r".*:(\d+)/(.+)$", empty_url).groups()  # type: ignore[union-attr]
    url = case.url.format(port=port, db=db) if case.url else _secret_url(empty_url)
    before = database_state(empty_url)

    args = case.args + (("--database-url", url) if case.by_option else ())
    lock: ContextManager[None] = _holding_the_lock(empty_url) if case.hold_lock else nullcontext()
    with lock:
        result = run_dbkit(*args, url=None if case.by_option or case.no_url else url, cwd=project, env=case.env)

    assert result.exit_code == case.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in case.says:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    if case.json_stdout:
        assert json.loads(result.stdout)["ok"] is False
    else:
        assert result.stdout == "", result.stdout
    written = [p.read_text(errors="replace") for p in project.rglob("*") if p.is_file() and "r" * 50 not in p.name]
    for leak in LEAKS:
        assert leak not in result.output, leak
        assert not any(leak in text for text in written), leak
    assert database_state(empty_url) == before


def test_the_state_helper_sees_a_change_in_the_catalog_and_in_the_bookkeeping(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, BASE)
    engine.apply(load_settings(project, database_url=empty_url, environ={}))
    before = database_state(empty_url)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("insert into public.a_t1 values (1)")
    counted = database_state(empty_url)
    assert counted != before
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("update dbkit.migration_checksum set applied_by = 'someone else'")
    assert database_state(empty_url) != counted

