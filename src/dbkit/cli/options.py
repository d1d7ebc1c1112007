"""Options shared by several commands, and the plumbing every command uses."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click

from dbkit.config import DatabaseTarget, Settings, load_settings
from dbkit.errors import DbkitError

F = TypeVar("F", bound=Callable[..., Any])
JSON_SCHEMA_VERSION = 1

# Passwords seen on this invocation; the error handler masks them in every message.
SECRETS: list[str] = []


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


def _remember_secret(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        try:
            SECRETS.extend(DatabaseTarget.parse(value).secrets())
        except DbkitError:
            pass  # reported properly when the settings are built
    return value


def project_options(func: F) -> F:
    """--config, for commands that read the project but need no database."""
    return click.option(
        "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="Config file (default: dbkit.toml or [tool.dbkit] in pyproject.toml, searched upwards).",
    )(func)


def database_options(func: F) -> F:
    """--database-url (env DATABASE_URL), --config and --lock-timeout."""
    func = project_options(func)
    func = click.option(
        "--lock-timeout", type=click.FloatRange(min=0), default=None,
        help="Seconds to wait for another dbkit apply/rollback to finish (default 60).",
    )(func)
    return click.option(
        "--database-url", envvar="DATABASE_URL", default=None, callback=_remember_secret,
        help="postgresql://user@host:port/dbname (or a key=value string). Env: DATABASE_URL.",
    )(func)


def build_settings(
    database_url: str | None,
    config_file: Path | None,
    *,
    need_database: bool = True,
    **overrides: Any,
) -> Settings:
    settings = load_settings(database_url=database_url, config_file=config_file, **overrides)
    if need_database:
        settings.require_database()
    return settings


def progress_printer() -> Callable[[str], None]:
    """Progress lines on an interactive terminal; silence in CI and pipes."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
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


def echo_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps({"schema_version": JSON_SCHEMA_VERSION, **payload}, indent=2, default=str))
