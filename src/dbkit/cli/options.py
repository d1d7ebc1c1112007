"""Options shared by several commands, and the plumbing every command uses."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from dbkit import config
from dbkit.config import Settings, mask, secrets_in
from dbkit.errors import DbkitError, InputError

F = TypeVar("F", bound=Callable[..., Any])
JSON_SCHEMA_VERSION = 1


class Format(str, Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"
    GITHUB = "github"


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    allowed = [f.value for f in Format if f.value in choices]
    return click.option(
        "--format", "fmt", type=click.Choice(allowed), default=default, show_default=True,
        help="Output format: " + ", ".join(allowed) + ". Data goes to stdout, progress to stderr.",
    )


def project_options(func: F) -> F:
    """--config, for commands that read the project but need no database."""
    return click.option(
        "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="Config file (default: dbkit.toml or [tool.dbkit] in pyproject.toml, searched upwards).",
    )(func)


def database_options(func: F) -> F:
    """--database-url (env DATABASE_URL) and --config."""
    func = project_options(func)
    return click.option(
        "--database-url", envvar="DATABASE_URL", default=None,
        help="postgresql://user@host:port/dbname (or a key=value string). Env: DATABASE_URL.",
    )(func)


_SETTINGS_META = "dbkit.cli_settings"
_SETTING_HELP = {
    "migration_lock_wait": ("SECONDS", "How long to wait while another dbkit apply, rollback, baseline or repair holds "
                            "this database's migration lock: seconds, or e.g. 2min (default 60)."),
    "ddl_lock_wait": ("DURATION", "How long each migration statement may wait for a table lock held by the "
                      "application's transactions (PostgreSQL lock_timeout), e.g. 5s (default 5s); then the "
                      "migration fails, or is retried with --retries."),
    "statement_timeout": ("DURATION", "PostgreSQL statement_timeout for each migration statement, e.g. 5min "
                          "(default 0: off)."),
    "wait_replica_lag_below": ("DURATION", "Before each migration, wait until every streaming standby's replay "
                               "lag (pg_stat_replication) is below DURATION, e.g. 2s or 500ms (default: do not "
                               "wait; the lag is reported either way)."),
    "replica_wait_limit": ("SECONDS", "Give up (exit 1, later migrations not applied) when the standbys stay "
                           "behind --wait-replica-lag-below this long: seconds, or e.g. 10min (default 600)."),
    "retries": ("N", "Retry a migration whose statement waited longer than --ddl-lock-wait, N times with "
                "backoff (default 0)."),
}


def _keep_setting(key: str, option: str) -> Callable[[click.Context, click.Parameter, str | None], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            given = ctx.meta.setdefault(_SETTINGS_META, {})
            if key in given:
                raise click.UsageError(f"{given[key][1]} and {option} say the same thing; give only "
                                       f"{config.KEYS[key].option}", ctx)
            given[key] = (value, option)
    return callback


def setting_options(*keys: str) -> Callable[[F], F]:
    """The options for these settings, each with its deprecated spelling hidden beside it.

    Values are not converted here: ``dbkit.config`` validates them like the config file's,
    so a bad value reads the same from every source.
    """
    def decorate(func: F) -> F:
        for key in reversed(keys):
            spec = config.KEYS[key]
            assert spec.option is not None and spec.env is not None
            metavar, text = _SETTING_HELP[key]
            old = config.old_option(key)
            if old:
                func = click.option(old, expose_value=False, hidden=True, default=None,
                                    callback=_keep_setting(key, old))(func)
            func = click.option(spec.option, metavar=metavar, expose_value=False, default=None,
                                callback=_keep_setting(key, spec.option),
                                help=f"{text} Env: {spec.env}.")(func)
        return func
    return decorate


def _ignore(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        click.echo(f"note: {param.opts[0]} is deprecated and has no effect on `dbkit {ctx.info_name}`", err=True)


def ignored_option(name: str) -> Callable[[F], F]:
    """An option that once appeared here but never acted: still accepted, with a note."""
    return click.option(name, expose_value=False, hidden=True, default=None, callback=_ignore)


def build_settings(database_url: str | None, config_file: Path | None, *, need_database: bool = True) -> Settings:
    """Settings from the config file, the environment and this command's options; prints deprecation notes."""
    ctx = click.get_current_context(silent=True)
    given: dict[str, config.CliValue] = ctx.meta.get(_SETTINGS_META, {}) if ctx else {}
    source = "--database-url"
    if ctx is not None and ctx.get_parameter_source("database_url") == ParameterSource.ENVIRONMENT:
        source = "environment DATABASE_URL"
    settings = config.load_settings(database_url=database_url, database_source=source, config_file=config_file,
                                    cli=given)
    for note in settings.notes:
        click.echo(f"note: {note}", err=True)
    if need_database:
        settings.require_database()
    return settings


def progress_printer() -> Callable[[str], None]:
    """Progress lines on an interactive terminal; silence in CI and pipes."""
    if interactive():
        return lambda message: click.echo(f"… {message}", err=True)
    return lambda message: None


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def json_text(payload: dict[str, Any]) -> str:
    return json.dumps({"schema_version": JSON_SCHEMA_VERSION, **payload}, indent=2, default=str) + "\n"


def echo_json(payload: dict[str, Any]) -> None:
    click.echo(json_text(payload), nl=False)


def json_errors(command: str) -> Callable[[F], F]:
    """With --format json, a failure also prints a JSON error object on stdout.

    The one-line message on stderr and the exit code stay as for every other format.
    Put it directly above the function, below the click decorators.
    """
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except DbkitError as exc:
                if kwargs.get("fmt") == "json" and not getattr(exc, "reported", False):
                    secrets = secrets_in(kwargs.get("database_url"))
                    error: dict[str, Any] = {"type": type(exc).__name__, "message": mask(str(exc), secrets),
                                             "exit_code": exc.exit_code}
                    for name in ("path", "line", "sqlstate", "migration_id"):
                        if getattr(exc, name, None) is not None:
                            error[name] = getattr(exc, name)
                    echo_json({"command": command, "ok": False, "error": error})
                raise
        return wrapper  # type: ignore[return-value]
    return decorate


def check_output_path(path: Path) -> None:
    """Refuse an --output path that cannot be written, before the (possibly long) run."""
    parent = path.parent if str(path.parent) else Path(".")
    if len(os.fsencode(path.name)) > 255:
        raise InputError(f"cannot write the report to {path}: the file name is longer than 255 bytes")
    if path.is_dir():
        raise InputError(f"cannot write the report to {path}: it is a directory")
    if parent.exists() and not (parent.is_dir() and os.access(parent, os.W_OK)):
        raise InputError(f"cannot write the report to {path}: {parent} is not a writable directory")


def write_output(path: Path, text: str) -> None:
    """Write a report file; an OS error is one line and exit 2, not a traceback."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- the one --format/--output rule

#: What a file name's suffix says about its format; a suffix not listed says nothing.
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".xml": "junit", ".json": "json", ".md": "markdown",
                  ".markdown": "markdown"}


def resolve_output(fmt: str | None, output: Path | None, allowed: tuple[str, ...], *,
                   default: str = "text", stdout_is_tty: bool | None = None) -> str:
    """The format a command writes, by one rule for every command.

    An explicit ``--format`` wins; an ``--output`` suffix that says another format is an
    error (exit 2) rather than a silent choice. Without ``--format`` the suffix decides,
    else ``default``. HTML goes to a file, never to a terminal.
    """
    said = SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None
    if fmt is not None and said is not None and said != fmt:
        raise InputError(f"--format {fmt} contradicts --output {output.name if output else ''} (a {said} file "
                         f"name); give a matching suffix, or leave out --format")
    chosen = fmt or said or default
    if chosen not in allowed:
        raise InputError(f"--output {output} names a {chosen} file, but this command writes "
                         f"{', '.join(allowed)}; pass --format")
    tty = sys.stdout.isatty() if stdout_is_tty is None else stdout_is_tty
    if output is None and chosen == "html" and tty:
        raise InputError("an HTML report is a page, not terminal output: add --output FILE.html")
    if output is not None:
        check_output_path(output)
    return chosen


def output_options(*choices: str, default: str = "text") -> Callable[[F], F]:
    """--format and --output, resolved by ``resolve_output`` before the command runs.

    The command receives ``fmt`` (the chosen format) and ``output`` (a path or None);
    put ``json_errors`` below it so a JSON error object follows the resolved format.
    """
    allowed = tuple(f.value for f in Format if f.value in choices)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["fmt"] = resolve_output(kwargs.get("fmt"), kwargs.get("output"), allowed, default=default)
            return func(*args, **kwargs)

        command: F = click.option(  # type: ignore[assignment]
            "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
            help="Write the output to FILE (its suffix picks the format when --format is not given: .json, .xml "
                 "(junit), .md, .html); the terminal then gets a one-line summary on stderr.",
        )(wrapper)
        return click.option(
            "--format", "fmt", type=click.Choice(allowed), default=None,
            help=f"Output format: {', '.join(allowed)} (default: {default}, or the --output suffix). Data goes "
                 "to stdout (or --output), progress and notes to stderr.",
        )(command)
    return decorate


def emit(text: str, output: Path | None, summary: str) -> None:
    """The command's output: to stdout, or to --output with the summary line on stderr."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_output(output, text if text.endswith("\n") else text + "\n")
    click.echo(f"wrote {output}: {summary}", err=True)


def interactive() -> bool:
    """Progress is for a person at a terminal: stderr is a TTY and this is not CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")
