"""--help is the documentation: every command and option says what it does, with an example."""

from __future__ import annotations

import click
import pytest

from dbkit.cli.main import cli
from helpers import run_dbkit


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
