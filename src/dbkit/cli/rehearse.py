"""``dbkit rehearse``: every migration on populated tables under a live workload."""

from __future__ import annotations

from pathlib import Path

import click

from dbkit.cli.options import build_settings, echo_json, format_option, progress_printer, project_options, to_jsonable
from dbkit.errors import ChecksFailed


@click.command()
@project_options
@click.option("--rows", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Rows loaded into each table the prerequisite migrations create.")
@click.option("--bound-ms", type=click.FloatRange(min=0, min_open=True), default=200.0, show_default=True,
              help="Longest a workload statement may wait behind one migration; longer fails the rehearsal.")
@click.option("--clients", type=click.IntRange(min=1, max=50), default=4, show_default=True,
              help="Workload connections, each reading, updating and inserting rows of every loaded table.")
@click.option("--rate", type=click.FloatRange(min=1, max=1000), default=100.0, show_default=True,
              help="Statements per second of each workload connection.")
@click.option("--prerequisite", "prerequisites", multiple=True, metavar="ID",
              help="Apply this migration (and what it depends on) before loading; repeatable. "
                   "Default: each module's first migration, the one an existing application baselines.")
@format_option("text", "json", "markdown")
def rehearse(config_file: Path | None, rows: int, bound_ms: float, clients: int, rate: float,
             prerequisites: tuple[str, ...], fmt: str) -> None:
    """Apply every module to populated tables under a concurrent workload, on a throwaway PostgreSQL.

    Loads each prerequisite table with --rows rows, runs reads, updates and inserts on
    them from --clients connections, applies the other migrations one by one while a
    second session samples pg_locks, and reports per migration the locks it held and
    the longest wait of a workload statement behind it. Exit 1 when any migration made
    a statement wait longer than --bound-ms, failed, or made workload statements fail.

    \b
    Examples:
      dbkit rehearse                              # 1,000,000 rows per table
      dbkit rehearse --rows 50000 --format markdown
    """
    from dbkit import rehearsal  # the driver and the SQL parser load only when the command runs

    settings = build_settings(None, config_file, need_database=False)
    options = rehearsal.Options(rows=rows, bound_ms=bound_ms, clients=clients, rate=rate,
                                prerequisites=prerequisites)
    result = rehearsal.rehearse(settings, options, progress=progress_printer())
    if fmt == "json":
        echo_json({"command": "rehearse", "ok": result.ok, "blocking": [m.id for m in result.blocking],
                   **to_jsonable(result)})
    elif fmt == "markdown":
        click.echo(rehearsal.render_markdown(result), nl=False)
    else:
        click.echo(rehearsal.render_text(result), nl=False)
    if not result.ok:
        problems = [f"{m.id} made the workload wait {m.longest_wait_ms:.0f} ms" for m in result.blocking]
        problems += [f"{m.id} failed" if m.failed else f"{m.id} made workload statements fail"
                     for m in result.failed]
        raise ChecksFailed(f"rehearsal: {'; '.join(problems) or 'no migration was rehearsed'} "
                           f"(bound {bound_ms:g} ms)")
