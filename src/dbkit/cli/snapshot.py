"""``dbkit snapshot``: regenerate (or check) the committed catalog snapshots, one per module."""

from __future__ import annotations

from pathlib import Path

import click

from dbkit.cli.options import build_settings, progress_printer, project_options
from dbkit.errors import ChecksFailed


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
    from dbkit import ci as ci_core
    from dbkit import snapshot as snapshots
    from dbkit.project import load_project

    settings = build_settings(None, config_file, need_database=False)
    project = load_project(settings)  # bad files fail before a server starts
    generated = ci_core.throwaway_snapshots(settings, progress=progress_printer())
    if check:
        stale = snapshots.stale(project, generated)
        if stale:
            raise ChecksFailed(f"stale catalog snapshot(s): {', '.join(stale)}; run `dbkit snapshot` and commit them")
        click.echo(f"{len(generated.snapshots)} catalog snapshots are current", err=True)
        return
    changed = snapshots.write(project, generated)
    for path in changed:
        click.echo(f"wrote {path}", err=True)
    if not changed:
        click.echo(f"{len(generated.snapshots)} catalog snapshots were already current", err=True)
