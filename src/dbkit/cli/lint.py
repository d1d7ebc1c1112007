"""``dbkit lint``: sqlfluff plus dbkit's safety rules, optionally plpgsql_check."""

from __future__ import annotations

from pathlib import Path

import click

from dbkit import lint as lint_core
from dbkit.cli.options import build_settings, format_option, progress_printer, project_options
from dbkit.errors import ChecksFailed


@click.command()
@project_options
@format_option("text", "json", "github")
@click.option("--database", is_flag=True,
              help="Also apply everything to a throwaway PostgreSQL and run plpgsql_check on every plpgsql "
                   "function (needs the plpgsql_check extension, e.g. postgresql-15-plpgsql-check).")
def lint(config_file: Path | None, fmt: str, database: bool) -> None:
    """Lint migrations/ and sql/: sqlfluff (.sqlfluff) plus dbkit's rules DBK000-DBK022.

    Silence one occurrence with a reason, in or directly above the statement:
    `-- dbkit-allow DBK009 column unused since release 12`. Exit 1 on any error.

    \b
    Example:  dbkit lint --format github
    """
    settings = build_settings(None, config_file, need_database=False)
    report = lint_core.lint(settings)
    if database:
        from dbkit import dblint

        report = report.merged(dblint.lint_database(settings, progress=progress_printer()), "plpgsql_check")
    click.echo(lint_core.render(report, fmt))
    if not report.ok:
        raise ChecksFailed(f"lint found {report.errors} error(s); see the findings above")
