"""``dbkit lint``: sqlfluff plus dbkit's rules; plpgsql_check, or grading against a target database."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from dbkit.lint.grading import Thresholds
from dbkit.cli.options import build_settings, emit, interactive, output_options, progress_printer, project_options
from dbkit.errors import ChecksFailed

PROGRESS_AFTER = 1.0  # seconds of work before progress shows: a quick lint stays quiet


@click.command()
@project_options
@click.option("--database", "database", is_flag=False, flag_value="", default=None, metavar="[URL]",
              help="Without URL: apply everything to a throwaway PostgreSQL and run plpgsql_check on every plpgsql "
                   "function (needs the plpgsql_check extension). With URL: read that database, read-only, and "
                   "grade the lock-taking rules by the size of the tables they lock; migrations it has applied "
                   "are history.")
@click.option("--warn-rows", type=click.IntRange(min=0), default=Thresholds().warn_rows, show_default=True,
              help="With --database URL: a lock-taking statement on a table of at least this many rows is a warning.")
@click.option("--error-rows", type=click.IntRange(min=0), default=Thresholds().error_rows,
              show_default=True,
              help="With --database URL: a lock-taking statement on a table of at least this many rows is an error.")
@click.option("--no-cache", is_flag=True,
              help="Run sqlfluff on every file again instead of reusing results for unchanged files "
                   "(cache in ~/.cache/dbkit, or $DBKIT_CACHE_DIR).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="sqlfluff processes (default: one per CPU).")
@output_options("text", "json", "github")
def lint(config_file: Path | None, fmt: str, output: Path | None, database: str | None, warn_rows: int,
         error_rows: int, no_cache: bool, jobs: int | None) -> None:
    """Lint migrations/ and sql/: sqlfluff (.sqlfluff) plus dbkit's rules (DBK000-DBK022).

    Silence one occurrence with a reason, in or directly above the statement:
    `-- dbkit-allow DBK009 column unused since release 12`. Exit 1 on any error.
    Migrations listed in lint-baseline.toml (or applied on --database URL) are history:
    their lock-taking findings are set aside.

    \b
    Example:  dbkit lint --format github
              dbkit lint --database "$STAGING_URL"   # grade by staging's table sizes
    """
    from dbkit import dblint
    from dbkit import lint as lint_core

    settings = build_settings(None, config_file, need_database=False)
    text = fmt == "text" or output is not None
    report = dblint.lint_project(
        settings, database=database, thresholds=Thresholds(warn_rows=warn_rows, error_rows=error_rows),
        cache=not no_cache, jobs=jobs, sqlfluff_progress=_counter("sqlfluff") if text else None,
        progress=progress_printer() if text else (lambda _: None),
    )
    emit(lint_core.render(report, fmt), output, lint_core.summary(report))
    if not report.ok:
        raise ChecksFailed(f"lint found {report.errors} error(s); see the findings "
                           + (f"in {output}" if output is not None else "above"))


def _interactive() -> bool:
    return interactive()


def _counter(label: str) -> Callable[[int, int], None] | None:
    """``label: done/total files`` on an interactive stderr, once the work has taken PROGRESS_AFTER seconds."""
    if not _interactive():
        return None
    after = PROGRESS_AFTER
    started = time.monotonic()
    shown = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - started < after or (done < total and now - shown[0] < 0.2):
            return
        shown[0] = now
        click.echo(f"\r… {label}: {done}/{total} files", err=True, nl=done >= total)

    return show
