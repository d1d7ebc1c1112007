"""``--targets FILE``: the fleet options of apply, status, verify and rollback, and their rendering."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from dbkit.cli.options import emit, interactive
from dbkit.errors import ChecksFailed, InputError

if TYPE_CHECKING:  # the fleet core loads the driver: imported by run_fleet, not by `--help`
    from dbkit import fleet as fleet_core
    from dbkit.config import Settings

F = TypeVar("F", bound=Callable[..., Any])
SINGLE_FORMATS = ("text", "json")


class FleetFailed(ChecksFailed):
    """Some databases of a fleet did not succeed; the combined report (any format) already says which."""

    reported = True


@dataclass(frozen=True)
class FleetOptions:
    targets: Path
    groups: tuple[str, ...]
    parallel: int
    canary: int
    on_failure: fleet_core.OnFailure


def fleet_options(single: tuple[str, ...] = SINGLE_FORMATS) -> Callable[[F], F]:
    """--targets, --group, --parallel, --canary, --on-failure; the command gets ``fleet`` (None without --targets).

    ``single``: the formats the command writes for one database (every format is a fleet's)."""
    return functools.partial(_fleet_options, single=single)


def _fleet_options(func: F, single: tuple[str, ...]) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        path = kwargs.pop("targets")
        options = FleetOptions(path, kwargs.pop("group"), kwargs.pop("parallel"), kwargs.pop("canary"),
                               kwargs.pop("on_failure"))
        ctx = click.get_current_context()
        if path is None:
            given = [name for name in ("group", "parallel", "canary", "on_failure")
                     if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
            if given:
                raise InputError(f"--{given[0].replace('_', '-')} needs --targets FILE")
            if kwargs.get("fmt") not in single:
                raise InputError(f"--format {kwargs.get('fmt')} is for fleet runs (--targets FILE); "
                                 f"for one database: {', '.join(single)}")
        elif ctx.get_parameter_source("database_url") == ParameterSource.COMMANDLINE:
            raise InputError("give either --database-url or --targets FILE, not both")
        kwargs["fleet"] = options if path is not None else None
        return func(*args, **kwargs)

    for option in reversed((
        click.option("--targets", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
                     help="Run on every database FILE lists: one URL per line (# comments), or a .toml file with "
                          "[[target]] (name, url or url_env, group, canary) and [[query]] entries. See README "
                          "\"Fleets\"."),
        click.option("--group", multiple=True, metavar="NAME", help="With --targets: only this group (repeatable)."),
        click.option("--parallel", type=click.IntRange(min=1, max=64), default=4, show_default=True,
                     help="With --targets: how many databases at a time."),
        click.option("--canary", type=click.IntRange(min=0), default=0, show_default=True,
                     help="With --targets: run the first N targets (and those marked canary) first; if one fails, "
                          "no other starts."),
        click.option("--on-failure", type=click.Choice(["stop", "continue"]), default="stop", show_default=True,
                     help="With --targets: after a database fails, start no other (stop) or run every one "
                          "(continue); the report has a row per database either way."),
    )):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def run_fleet(settings: Settings, options: FleetOptions, command: str, work: fleet_core.Work, *, fmt: str,
              output: Path | None, dry_run: bool = False) -> None:
    """Load the targets, run, render the combined report by the --format/--output rule; exit 1 unless all ok."""
    from dbkit import fleet as fleet_core
    from dbkit.report import fleet as fleet_report

    targets = fleet_core.load_targets(options.targets, groups=options.groups, canaries=options.canary)
    result = fleet_core.run(settings, targets, command, work, parallel=options.parallel,
                            on_failure=options.on_failure, dry_run=dry_run,
                            progress=_progress(len(targets)) if fmt == "text" or output is not None else None)
    emit(fleet_report.render(result, fmt), output, fleet_report.verdict(result))
    if not result.ok:
        bad = len(result.targets) - result.count("ok")
        raise FleetFailed(f"{bad} of {len(result.targets)} database(s) did not succeed; the report says why")


def _progress(total: int) -> Callable[[int, int, int], None] | None:
    """``… fleet: 12/50 databases, 1 not ok`` on an interactive stderr, overwritten in place."""
    if not interactive():
        return None

    def show(done: int, of: int, bad: int) -> None:
        click.echo(f"\r… fleet: {done}/{of} databases" + (f", {bad} not ok" if bad else ""), err=True,
                   nl=done >= of)
    return show
