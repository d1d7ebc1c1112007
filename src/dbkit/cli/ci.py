"""``dbkit ci``: the full cycle on a throwaway PostgreSQL, for CI jobs and ``make demo``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dbkit.cli.options import (
    build_settings,
    emit,
    json_text,
    output_options,
    progress_printer,
    project_options,
    to_jsonable,
)
from dbkit.errors import ChecksFailed

if TYPE_CHECKING:
    from dbkit import ci as ci_core
    from dbkit.config import Settings


def _steps_text(result: ci_core.CiResult) -> str:
    lines = [f"  {'ok  ' if step.ok else 'FAIL'} {step.name:<38} {step.duration_ms:>9.1f} ms  {step.detail}"
             for step in result.steps]
    verdict = "PASSED" if result.ok else "FAILED"
    return "\n".join(lines + [f"ci {verdict}: {sum(s.ok for s in result.steps)} of {len(result.steps)} steps ok"]) + "\n"


@click.command()
@project_options
@click.option("--roundtrip", is_flag=True, help="Also prove every migration's rollback by catalog round-trip.")
@output_options("text", "json", "junit", "markdown", "html")
def ci(config_file: Path | None, fmt: str, output: Path | None, roundtrip: bool) -> None:
    """Apply, verify, roll back everything, check nothing is left, apply and verify again.

    Runs on a throwaway PostgreSQL cluster it starts and removes itself; needs the
    PostgreSQL server binaries (initdb, pg_ctl), not a running server. The first line
    names the server version. With --output the report goes to the file and the
    terminal gets the steps and the verdict.

    \b
    Examples:
      dbkit ci --output reports/dbkit.xml      # JUnit, from the suffix
      dbkit ci --format json | jq .ok
    """
    from dbkit import ci as ci_core
    from dbkit import report as report_mod
    from dbkit.ephemeral import find_binaries

    settings = build_settings(None, config_file, need_database=False)
    header = f"dbkit ci on a throwaway {find_binaries().describe()}"
    to_terminal = fmt == "text" or output is not None
    if to_terminal:
        click.echo(header, err=output is not None)
    check: Callable[[Settings], tuple[bool, str]] | None = None
    if roundtrip:
        from dbkit.roundtrip import ci_roundtrip as check
    result = ci_core.run_ci(settings, roundtrip=check, progress=progress_printer())
    text = _rendered(result, fmt)
    if output is not None:
        click.echo(_steps_text(result), nl=False, err=True)
        emit(text, output, report_mod.one_line(result.report) if result.report else "no verify report")
    elif text:
        emit(text, None, "")
    if not result.ok:
        failed = next((s for s in result.steps if not s.ok), None)
        raise ChecksFailed(f"ci failed at step {failed.name!r}: {failed.detail}" if failed else "ci ran no step")


def _rendered(result: ci_core.CiResult, fmt: str) -> str:
    """The steps and the verify report in one format: JSON nests the report; text puts the
    steps first; the report formats (junit, markdown, html) are the report alone."""
    from dbkit import report as report_mod

    if fmt == "json":
        return json_text({"command": "ci", "ok": result.ok, "server": result.server,
                          "steps": to_jsonable(result.steps),
                          "report": json.loads(report_mod.render_json(result.report)) if result.report else None})
    if result.report is None:
        return _steps_text(result) if fmt == "text" else ""
    rendered = report_mod.render(result.report, fmt)
    return _steps_text(result) + "\n" + rendered if fmt == "text" else rendered
