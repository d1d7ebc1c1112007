"""``dbkit snapshot`` and ``dbkit plan``: regenerate (or check) the generated, committed files:
the catalog snapshots, one per module, and the plan file."""

from __future__ import annotations

from pathlib import Path

import click

from dbkit import ci as ci_core
from dbkit import planfile
from dbkit import snapshot as snapshots
from dbkit.cli.options import build_settings, progress_printer, project_options
from dbkit.errors import ChecksFailed
from dbkit.project import load_project


@click.command()
@project_options
@click.option("--check", is_flag=True, default=False,
              help="Change nothing: exit 1 naming every migrations/<module>/catalog.json that is stale.")
def snapshot(config_file: Path | None, check: bool) -> None:
    """Write migrations/<module>/catalog.json: the catalog the SQL produces (what verify expects).

    Applies the migrations one at a time on a throwaway PostgreSQL (server binaries
    needed, as for `dbkit ci`) and records every object with the migration that created
    or last changed it. Commit the files with the SQL change, like a lock file.

    \b
    Examples:
      dbkit snapshot            # after changing a migration, function or policy file
      dbkit snapshot --check    # in CI: the committed files match the SQL
    """
    settings = build_settings(None, config_file, need_database=False)
    project = load_project(settings)  # bad files fail before a server starts
    generated = ci_core.throwaway_snapshots(settings, progress=progress_printer())
    if check:
        stale = snapshots.stale(project, generated)
        if not planfile.state(project).current:
            stale.append(planfile.state(project).path)
        if stale:
            raise ChecksFailed(f"stale generated file(s): {', '.join(stale)}; run `dbkit snapshot` and commit them")
        click.echo(f"{len(generated.snapshots)} catalog snapshots are current", err=True)
        return
    changed = snapshots.write(project, generated)
    if planfile.write(project):
        changed.append(planfile.state(project).path)
    for path in changed:
        click.echo(f"wrote {path}", err=True)
    if not changed:
        click.echo(f"{len(generated.snapshots)} catalog snapshots were already current", err=True)


@click.command()
@project_options
@click.option("--check", is_flag=True, default=False,
              help="Change nothing: exit 1 when migrations/PLAN is missing or stale.")
def plan(config_file: Path | None, check: bool) -> None:
    """Write migrations/PLAN: every migration in apply order, for a DBA to read without dbkit.

    Derived from the SQL files' names and headers (module, dependencies, includes,
    checksums); needs no database. Commit it with the change; `dbkit snapshot` writes it too.

    \b
    Examples:
      dbkit plan            # after adding a migration or changing a header
      dbkit plan --check    # in CI: the committed plan matches the files
    """
    project = load_project(build_settings(None, config_file, need_database=False))
    state = planfile.state(project)
    if check:
        if not state.current:
            raise ChecksFailed(state.message())
        click.echo(f"{state.path} is current", err=True)
        return
    click.echo(f"wrote {state.path}" if planfile.write(project) else f"{state.path} was already current", err=True)

