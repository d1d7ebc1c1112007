"""The ``dbkit`` command line: a thin click layer over the dbkit library."""

from __future__ import annotations

import gc
import sys

#: New objects between two collections of the youngest generation in a ``dbkit`` process
#: (Python's default: 700). A command allocates most of its objects importing its libraries
#: (click, psycopg, pglast), all of them kept: at the default that is ~100 collections that
#: free nothing, ~12 ms of a `dbkit apply`. 100,000 still bounds the cyclic garbage of a long
#: `dbkit listen` or fleet run.
GC_THRESHOLD = 100_000


def main() -> None:
    """The ``dbkit`` entry point: Ctrl-C while the modules load is one line and exit 130 too."""
    gc.set_threshold(GC_THRESHOLD)
    try:
        from dbkit.cli.main import cli
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted while starting; nothing was changed\n")
        sys.exit(130)
    try:
        cli(prog_name="dbkit")
    finally:
        # The process ends here. Interpreter shutdown would collect every object still alive,
        # mostly the classes and functions of the libraries the command imported (pglast's
        # syntax tree, psycopg's adapters): ~40 ms of a 0.4 s `dbkit apply`. Frozen objects
        # are left for the OS to reclaim; shutdown still flushes stdout and stderr and runs
        # atexit handlers. Both settings are made here, not in the click group, so that a
        # process running commands in-process (the tests) keeps Python's defaults.
        gc.freeze()
