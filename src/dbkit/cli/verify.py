"""``dbkit verify``: check the live database against every module's expectations."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dbkit import report as reports
from dbkit import verify as verifier
from dbkit.cli.options import (
    build_settings,
    check_output_path,
    database_options,
    format_option,
    ignored_option,
    write_output,
)
from dbkit.errors import ChecksFailed, InputError


@click.command()
@database_options
@ignored_option("--lock-timeout")
@format_option("text", "json", "junit", "markdown", "html")
@click.option("--module", default=None, help="Only this module's checks (default: every module).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to FILE instead of stdout (a one-line summary still goes to stderr).")
@click.option("--catalog-only", is_flag=True, default=False,
              help="Only read the catalog: skip behaviour checks, the RLS matrix, plans and file comparisons, "
                   "which write inside transactions that are always rolled back.")
def verify(database_url: str | None, config_file: Path | None, fmt: str,
           module: str | None, output: Path | None, catalog_only: bool) -> None:
    """Check the live database against the documents: catalog, behaviour, RLS matrix, drift.

    Exit 0 when no check failed (warnings allowed), 1 when a check failed, 2 on bad input.

    \b
    Examples:
      dbkit verify --format html --output verify.html
      dbkit verify --catalog-only --module alm_reporting --format json | jq '.summary.counts'
    """
    settings = build_settings(database_url, config_file)
    if output is not None and output.parent and not output.parent.exists():
        raise InputError(f"cannot write the report: directory {output.parent} does not exist")
    if output is not None:
        check_output_path(output)
    result = verifier.verify(settings, module=module, catalog_only=catalog_only)
    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = reports.render(result, fmt, color=color)
    if output is not None:
        write_output(output, text)
        counts = result.counts()
        click.echo(f"wrote {output}: {counts['fail']} failed, {counts['warn']} warnings, "
                   f"{counts['pass']} passed, {counts['skipped']} skipped", err=True)
    else:
        click.echo(text, nl=False)
    if result.failed:
        failed = sum(1 for c in result.checks if c.status == "fail")
        raise ChecksFailed(f"{failed} check(s) failed on {result.database}")
