"""--help is the documentation: every command and option says what it does, with an example."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from dbkit.cli.main import cli
from helpers import REPO_ROOT, run_dbkit


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_a_docstring_with_an_example_and_helped_options(name: str) -> None:
    command = cli.commands[name]
    assert command.help and "Example" in command.help, f"dbkit {name} has no example in its help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"dbkit {name} {param.opts[0]} has no help text"
    assert run_dbkit(name, "--help").exit_code == 0


def test_version() -> None:
    result = run_dbkit("--version")
    assert result.exit_code == 0 and "dbkit" in result.stdout


# What a command loads: run in a fresh interpreter, then name the heavy packages it imported.
_LOADED = """
import sys
from dbkit.cli.main import cli
cli.main(sys.argv[1:], prog_name="dbkit", standalone_mode=False)
heavy = {"psycopg", "pglast", "yoyo", "sqlfluff"}
print("LOADED", " ".join(sorted(heavy & {name.split(".")[0] for name in sys.modules})))
"""


def _heavy_packages_loaded(*args: str, url: str | None = None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    out = subprocess.run([sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, env=env,
                         cwd=REPO_ROOT, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("LOADED"))
    return set(line.split()[1:])


def test_help_loads_no_database_driver_parser_or_linter() -> None:
    assert _heavy_packages_loaded("--help") == set()
    assert _heavy_packages_loaded("--help", url="postgresql://app:secret@db.example/app") == set()
    assert _heavy_packages_loaded("lint", "--help") == set()


def test_status_loads_the_driver_but_not_the_sql_parser_or_yoyo(migrated_url: str) -> None:
    assert _heavy_packages_loaded("status", url=migrated_url) == {"psycopg"}


def test_apply_on_a_fresh_database_loads_neither_yoyo_nor_the_linter(empty_url: str) -> None:
    # yoyo's tables are created from dbkit's own SQL (sql/yoyo_tables.sql), yoyo is not imported for them.
    assert _heavy_packages_loaded("apply", "--module", "platform", url=empty_url) == {"psycopg", "pglast"}


def test_apply_with_nothing_pending_loads_the_driver_but_not_the_sql_parser(migrated_url: str) -> None:
    # PostgreSQL's parser checks files before they run; with nothing to run it is not loaded.
    assert _heavy_packages_loaded("apply", url=migrated_url) == {"psycopg"}
