"""apply, rollback, status, baseline, repair and new."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dbkit.cli.fleet import FleetOptions, fleet_options, run_fleet
from dbkit.cli.options import (
    build_settings,
    database_options,
    emit,
    ignored_option,
    json_errors,
    json_text,
    output_options,
    progress_printer,
    project_options,
    setting_options,
    to_jsonable,
)

if TYPE_CHECKING:
    from dbkit import engine
    from dbkit.config import Settings

# Each command imports the core module it calls: `dbkit --help` loads none of them.

MODULE_HELP = "Only this module (and the migrations it depends on)."


#: apply and rollback run DDL: every wait applies; baseline and repair only take the migration lock.
run_options = setting_options("migration_lock_wait", "ddl_lock_wait", "statement_timeout", "retries")
lock_options = setting_options("migration_lock_wait")
replica_options = setting_options("wait_replica_lag_below", "replica_wait_limit")


def _echo_steps(result: engine.RunResult, verb: str, nothing: str, show_sql: bool) -> None:
    from dbkit.report import runs

    click.echo(runs.render_run(result, nothing=nothing, show_sql=show_sql, verb=verb), nl=False)
    _echo_notices(result)


def _echo_notices(result: engine.RunResult) -> None:
    for notice in result.notices:
        click.echo(f"notice: {notice}", err=True)


def _emit_run(result: engine.RunResult, command: str, fmt: str, output: Path | None, nothing: str) -> None:
    from dbkit.report import runs

    if fmt == "json":
        text = json_text({"command": command, "ok": True, **to_jsonable(result),
                          "summary": runs.run_summary(result)})
    else:
        text = runs.render_run(result, nothing=nothing, show_sql=result.dry_run) + _replication_text(result)
    emit(text, output, runs.run_summary(result))
    _echo_notices(result)


def _replication_text(result: engine.RunResult) -> str:
    """Each standby's replay lag before and after each applied migration (apply only)."""
    lines = []
    for lag in result.replication:
        waited = f" after waiting {lag.waited_s:.1f} s" if lag.waited_s >= 0.05 else ""
        before = "; ".join(s.describe() for s in lag.before) or "none"
        after = "; ".join(s.describe() for s in lag.after) or "none"
        lines.append(f"  {lag.target}: standby replay lag before {before}{waited}; after {after}\n")
    return "".join(lines)


ALL_FORMATS = ("text", "json", "junit", "markdown", "html")


@click.command()
@database_options
@click.option("--module", default=None, help=MODULE_HELP)
@click.option("--to", "to", default=None, metavar="ID", help="Apply up to and including this migration id.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the SQL, then a per-module summary; change nothing.")
@run_options
@replica_options
@output_options(*ALL_FORMATS)
@fleet_options()
@json_errors("apply")
def apply(database_url: str | None, config_file: Path | None, module: str | None, to: str | None, dry_run: bool,
          fmt: str, output: Path | None, fleet: FleetOptions | None) -> None:
    """Apply pending migrations, then re-apply changed function/policy files.

    With --targets FILE: on every database the file lists (canaries first, --parallel at a
    time), each verified read-only after its apply; one combined report.

    With streaming standbys connected, each applied migration is followed by their replay
    lag before and after it (pg_stat_replication); --wait-replica-lag-below makes apply
    wait for the standbys before each migration.

    \b
    Examples:
      DATABASE_URL=postgresql://app@db/app dbkit apply --module billing
      dbkit apply --targets tenants.txt --canary 2 --parallel 8 --output fleet.html
      dbkit apply --wait-replica-lag-below 2s --replica-wait-limit 10min
    """
    from dbkit import engine

    if fleet is not None:
        from dbkit import fleet as fleet_core

        settings = build_settings(None, config_file, need_database=False)
        run_fleet(settings, fleet, "apply", fleet_core.apply_work(module=module, to=to, dry_run=dry_run),
                  fmt=fmt, output=output, dry_run=dry_run)
        return
    settings = build_settings(database_url, config_file)
    result = engine.apply(settings, module=module, to=to, dry_run=dry_run, progress=progress_printer())
    _emit_run(result, "apply", fmt, output, "nothing to apply: the database is up to date")


@click.command()
@database_options
@click.option("--module", default=None, help="Only this module's migrations.")
@click.option("--steps", type=int, default=None, help="Roll back the last N applied migrations.")
@click.option("--to", "to", default=None, metavar="ID", help="Roll back everything applied after this id.")
@click.option("--all", "all_", is_flag=True, help="Roll back every applied migration (of --module, if given).")
@click.option("--force", is_flag=True, help="Also drop tables that hold rows (the data is lost).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the SQL, then a per-module summary; change nothing.")
@run_options
@output_options(*ALL_FORMATS)
@fleet_options()
@json_errors("rollback")
def rollback(database_url: str | None, config_file: Path | None, module: str | None, steps: int | None,
             to: str | None, all_: bool, force: bool, dry_run: bool, fmt: str, output: Path | None,
             fleet: FleetOptions | None) -> None:
    """Roll back applied migrations, newest first.

    With --targets FILE: on every database the file lists (canaries first); one combined report.

    \b
    Example:  dbkit rollback --module billing --steps 1 --dry-run
    """
    from dbkit import engine

    if fleet is not None:
        from dbkit import fleet as fleet_core

        settings = build_settings(None, config_file, need_database=False)
        work = fleet_core.rollback_work(module=module, steps=steps, to=to, all_=all_, force=force, dry_run=dry_run)
        run_fleet(settings, fleet, "rollback", work, fmt=fmt, output=output, dry_run=dry_run)
        return
    settings = build_settings(database_url, config_file)
    result = engine.rollback(settings, module=module, steps=steps, to=to, all_=all_, force=force,
                             dry_run=dry_run, progress=progress_printer())
    _emit_run(result, "rollback", fmt, output, "nothing to roll back")


def _warn_if_plan_stale(settings: Settings) -> None:
    from dbkit import planfile
    from dbkit.project import load_project

    plan = planfile.state(load_project(settings))
    if plan.exists and not plan.current:
        click.echo(f"warning: {plan.message()}", err=True)


@click.command()
@database_options
@click.option("--module", default=None, help="Only this module.")
@ignored_option("--lock-timeout")
@output_options(*ALL_FORMATS)
@fleet_options()
@json_errors("status")
def status(database_url: str | None, config_file: Path | None, module: str | None, fmt: str,
           output: Path | None, fleet: FleetOptions | None) -> None:
    """Show applied, pending and changed-since-applied migrations and files per module.

    \b
    Examples:
      dbkit status --format json | jq '.modules[] | {name, pending}'
      dbkit status --targets tenants.toml --group eu
    """
    from dbkit import engine
    from dbkit.report import runs

    if fleet is not None:
        from dbkit import fleet as fleet_core

        settings = build_settings(None, config_file, need_database=False)
        run_fleet(settings, fleet, "status", fleet_core.status_work(module=module), fmt=fmt, output=output)
        return
    settings = build_settings(database_url, config_file)
    result = engine.status(settings, module=module)
    _warn_if_plan_stale(settings)
    if fmt == "json":
        payload = to_jsonable(result)
        for mod, data in zip(result.modules, payload["modules"]):
            data["pending"] = [m.id for m in mod.migrations if m.state == "pending"]
            data["changed"] = [m.id for m in mod.migrations if m.state == "changed"]
            data["changed_files"] = [f.path for f in mod.files if f.state == "changed"]
        text = json_text({"command": "status", "ok": True, **payload})
    else:
        text = runs.render_status(result)
    emit(text, output, runs.status_summary(result))


@click.command()
@database_options
@click.option("--module", required=True, help="The module whose migrations already exist in the database.")
@click.option("--through", required=True, metavar="ID", help="Mark migrations up to and including this id.")
@lock_options
def baseline(database_url: str | None, config_file: Path | None, module: str, through: str) -> None:
    """Mark a module's existing objects as applied, without running their SQL.

    For a database that already has the tables a module's first migration creates.

    \b
    Example:  dbkit baseline --module billing --through 0002_invoices
    """
    from dbkit import engine

    settings = build_settings(database_url, config_file)
    result = engine.baseline(settings, module=module, through=through, progress=progress_printer())
    _echo_steps(result, "baselined", "nothing to baseline: already recorded as applied", show_sql=False)


@click.command()
@database_options
@click.option("--forget", "forget", multiple=True, metavar="ID",
              help="Instead, clear the record of an applied migration whose files were deleted (repeatable).")
@lock_options
def repair(database_url: str | None, config_file: Path | None, forget: tuple[str, ...]) -> None:
    """Accept deliberate edits to applied migrations by re-recording their checksums.

    With --forget ID, clear the record of a migration that is recorded as applied but
    has no file in the project any more (`dbkit status` lists these); nothing else runs.

    \b
    Examples:
      dbkit repair
      dbkit repair --forget 0007_dropped_experiment
    """
    from dbkit import engine

    settings = build_settings(database_url, config_file)
    result = engine.repair(settings, forget=forget, progress=progress_printer())
    if forget:
        _echo_steps(result, "forgot", "nothing to forget", show_sql=False)
        return
    _echo_steps(result, "re-recorded", "nothing to repair: no applied migration has changed", show_sql=False)


@click.command()
@project_options
@click.argument("module")
@click.argument("name")
def new(config_file: Path | None, module: str, name: str) -> None:
    """Scaffold a migration, its rollback and its verification entry.

    \b
    Example:  dbkit new billing add_invoice_notes
    """
    from dbkit import scaffold

    settings = build_settings(None, config_file, need_database=False)
    for path in scaffold.new_migration(settings, module, name):
        click.echo(f"wrote {settings.relative(path)}")
