"""``dbkit ci``: the full cycle on a throwaway PostgreSQL, for CI jobs and ``make demo``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from dbkit.cli.options import (
    build_settings,
    check_output_path,
    echo_json,
    format_option,
    progress_printer,
    project_options,
    to_jsonable,
    write_output,
)
from dbkit.config import Settings
from dbkit.errors import ChecksFailed


_SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".xml": "junit", ".json": "json", ".md": "markdown"}


def _format_for(path: Path, fmt: str) -> str:
    return _SUFFIX_FORMATS.get(path.suffix.lower(), fmt)


@click.command()
@project_options
@format_option("text", "json", "junit", "markdown", "html")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the verification report to FILE (format from --format, or from the suffix).")
@click.option("--roundtrip", is_flag=True, help="Also prove every migration's rollback by catalog round-trip.")
def ci(config_file: Path | None, fmt: str, output: Path | None, roundtrip: bool) -> None:
    """Apply, verify, roll back everything, check nothing is left, apply and verify again.

    Runs on a throwaway PostgreSQL cluster it starts and removes itself; needs the
    PostgreSQL server binaries (initdb, pg_ctl), not a running server.

    \b
    Example:  dbkit ci --format junit --output reports/dbkit.xml
    """
    from dbkit import ci as ci_core
    from dbkit import report as report_mod

    settings = build_settings(None, config_file, need_database=False)
    if output is not None:
        check_output_path(output)
    check: Callable[[Settings], tuple[bool, str]] | None = None
    if roundtrip:
        from dbkit.roundtrip import ci_roundtrip as check
    result = ci_core.run_ci(settings, roundtrip=check, progress=progress_printer())
    if output is not None and result.report is not None:
        write_output(output, report_mod.render(result.report, _format_for(output, fmt)))
        click.echo(f"wrote {output}", err=True)
    if fmt == "json":
        echo_json({"command": "ci", "ok": result.ok, "server": result.server,
                   "steps": to_jsonable(result.steps),
                   "report": json.loads(report_mod.render_json(result.report)) if result.report else None})
    elif fmt == "text":
        click.echo(f"dbkit ci on a throwaway {result.server}")
        for step in result.steps:
            click.echo(f"  {'ok  ' if step.ok else 'FAIL'} {step.name:<38} {step.duration_ms:>9.1f} ms  {step.detail}")
        if result.report is not None:
            click.echo("")
            click.echo(report_mod.render(result.report, "text"), nl=False)
    elif result.report is not None:
        click.echo(report_mod.render(result.report, fmt), nl=False)
    if not result.ok:
        failed = next((s for s in result.steps if not s.ok), None)
        raise ChecksFailed(f"ci failed at step {failed.name!r}: {failed.detail}" if failed else "ci ran no step")
