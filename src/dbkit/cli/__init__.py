"""The ``dbkit`` command line: a thin click layer over the dbkit library."""

from __future__ import annotations

import sys


def main() -> None:
    """The ``dbkit`` entry point: Ctrl-C while the modules load is one line and exit 130 too."""
    try:
        from dbkit.cli.main import cli
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted while starting; nothing was changed\n")
        sys.exit(130)
    cli(prog_name="dbkit")
