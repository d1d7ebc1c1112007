"""``python -m dbkit``: the same as the ``dbkit`` command."""

from dbkit.cli.main import cli

cli(prog_name="dbkit")
