"""--help is the documentation: every command and option says what it does, with an example."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from dbkit.cli.main import cli
from dbkit.config import load_settings
from helpers import REPO_ROOT, run_dbkit


def _subcommands(group: click.Group) -> dict[str, click.Command]:
    """A group's commands by name, as click finds them (dbkit's are loaded when asked for)."""
    ctx = click.Context(group)
    found = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}


@pytest.mark.parametrize("name", sorted(_subcommands(cli)))
def test_every_command_has_a_docstring_with_an_example_and_helped_options(name: str) -> None:
    command = _subcommands(cli)[name]
    assert command.help and "Example" in command.help, f"dbkit {name} has no example in its help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"dbkit {name} {param.opts[0]} has no help text"
    assert run_dbkit(name, "--help").exit_code == 0


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command, the group itself and every subcommand of every group."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(_subcommands(command).items()):
            yield from _commands(sub, (*path, name))


def _this_projects_names() -> set[str]:
    """What only this project gives a meaning to, read from its own configuration (pyproject's
    [tool.dbkit]) and migrations folder: its modules, its NOTIFY channel and its identities'
    roles. (Identity names such as "owner" are ordinary words, so they are left out.)"""
    settings = load_settings(REPO_ROOT, environ={})
    names = set(settings.modules or ()) | {p.name for p in settings.migrations_dir.iterdir() if p.is_dir()}
    names |= {identity.role for identity in settings.identities if identity.role}
    if settings.listen_channel:
        names.add(settings.listen_channel)
    return names


def _named(text: str, names: set[str]) -> set[str]:
    """The names that stand in ``text`` as whole identifiers (billing_platform_id is not platform)."""
    return {name for name in names if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)}


def test_no_help_names_this_projects_modules_channel_or_roles() -> None:
    names = _this_projects_names()
    for name in names:  # the check finds each name it looks for, and only as a whole identifier
        assert _named(f"Example:  dbkit apply --module {name}", names) == {name}
        assert _named(f"{name}x x{name}", names) == set()
    found = {}
    for path in _commands(cli):
        result = run_dbkit(*path, "--help")
        assert result.exit_code == 0, path
        if named := _named(result.stdout, names):
            found[" ".join(("dbkit", *path))] = sorted(named)
    assert found == {}, "help must use neutral placeholders (e.g. billing), not this project's names"


def test_every_listed_command_loads_under_its_own_name() -> None:
    commands = _subcommands(cli)
    assert len(commands) == len(cli.list_commands(click.Context(cli))) >= 13
    assert all(command.name == name for name, command in commands.items())


def test_a_command_loads_only_its_own_cli_module() -> None:
    script = ("import sys\nfrom dbkit.cli.main import cli\n"
              "cli.main(['apply', '--help'], prog_name='dbkit', standalone_mode=False)\n"
              "print('CLI', ' '.join(sorted(m for m in sys.modules if m.startswith('dbkit.cli.'))))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
                         check=True).stdout
    loaded = set(next(line for line in out.splitlines() if line.startswith("CLI")).split()[1:])
    assert "dbkit.cli.migrate" in loaded
    assert not loaded & {"dbkit.cli.lint", "dbkit.cli.ci", "dbkit.cli.verify", "dbkit.cli.listen",
                         "dbkit.cli.rehearse", "dbkit.cli.snapshot"}, loaded


def test_version() -> None:
    result = run_dbkit("--version")
    assert result.exit_code == 0 and "dbkit" in result.stdout


# The `dbkit` process's garbage-collector settings (dbkit/cli/__init__.py says why): made by the
# entry point, for the process it runs in; a caller that runs commands in-process keeps its own.
_ENTRY_POINT_GC = """
import gc, sys
from dbkit.cli import GC_THRESHOLD, main
sys.argv = ["dbkit", "--version"]
try:
    main()
except SystemExit as exc:
    print("GC", exc.code, gc.get_threshold()[0] == GC_THRESHOLD, gc.get_freeze_count() > 0)
"""


def test_the_dbkit_process_collects_garbage_less_often_and_freezes_it_before_exit() -> None:
    out = subprocess.run([sys.executable, "-c", _ENTRY_POINT_GC], capture_output=True, text=True,
                         cwd=REPO_ROOT, check=True).stdout
    assert out.splitlines()[-1] == "GC 0 True True", out


def test_running_commands_in_process_leaves_the_callers_garbage_collector_alone() -> None:
    before = (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled())
    assert run_dbkit("--version").exit_code == 0
    assert run_dbkit("status", "--database-url", "postgresql://nobody@127.0.0.1:1/none").exit_code == 2
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


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
