"""``dbkit verify``: the live database against the SQL's catalog snapshot and the check files."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from dbkit.cli.fleet import FleetOptions, fleet_options, run_fleet
from dbkit.cli.options import (
    build_settings,
    database_options,
    emit,
    ignored_option,
    output_options,
    progress_printer,
    write_output,
)
from dbkit.errors import ChecksFailed, DbkitError

FORMATS = ("text", "json", "junit", "markdown", "html")
PROGRESS_AFTER = 1.0  # seconds of work before progress shows: a quick verify stays quiet


@click.command()
@database_options
@ignored_option("--lock-timeout")
@click.option("--module", default=None, help="Only this module's checks (default: every module).")
@click.option("--with-writes", "writes", is_flag=True, default=False,
              help="Also run the checks that write: behaviour checks with setup and the RLS access matrix, "
                   "each in a transaction that is always rolled back (row locks, triggers and sequence values "
                   "are still touched). Without it verify only reads.")
@output_options(*FORMATS)
@fleet_options(single=FORMATS)
def verify(database_url: str | None, config_file: Path | None, fmt: str, module: str | None, output: Path | None,
           writes: bool, fleet: FleetOptions | None) -> None:
    """Check the live database against what the SQL produces: catalog, privileges, behaviour, plans, drift.

    Read-only by default (safe on production, a read-only database and a hot standby).
    Exit 0 when no check failed (warnings allowed), 1 when a check failed, 2 on bad input.
    With --output the report is written also when verify cannot run.

    \b
    Examples:
      dbkit verify --output verify.html          # the suffix picks the format
      dbkit verify --module billing --format json | jq '.summary.counts'
      dbkit verify --with-writes                 # on a staging copy: behaviour and RLS matrix too
      dbkit verify --targets tenants.txt --parallel 8 --format junit --output fleet.xml
    """
    from dbkit import report as reports
    from dbkit import verify as verifier

    if fleet is not None:
        from dbkit import fleet as fleet_core

        settings = build_settings(None, config_file, need_database=False)
        run_fleet(settings, fleet, "verify", fleet_core.verify_work(module=module, writes=writes), fmt=fmt,
                  output=output)
        return
    settings = build_settings(database_url, config_file, need_database=False)
    try:
        settings.require_database()
        result = verifier.verify(settings, module=module, writes=writes,
                                 progress=_after_a_second(fmt == "text" or output is not None))
    except DbkitError as exc:
        if output is not None:  # CI keeps its report (e.g. JUnit) even when verify cannot run
            write_output(output, reports.render(verifier.failed_report(settings, str(exc)), fmt))
        raise
    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    emit(reports.render(result, fmt, color=color), output, reports.one_line(result))
    if result.failed:
        failed = sum(1 for c in result.checks if c.status == "fail")
        raise ChecksFailed(f"{failed} check(s) failed on {result.database}")


def _after_a_second(wanted: bool) -> Callable[[str], None]:
    """Progress on a terminal, only once the run has taken more than a second (never for piped JSON)."""
    show = progress_printer() if wanted else None
    started = time.monotonic()

    def progress(message: str) -> None:
        if show is not None and time.monotonic() - started > PROGRESS_AFTER:
            show(message)
    return progress
