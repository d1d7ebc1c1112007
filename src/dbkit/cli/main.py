"""The ``dbkit`` group and the one place where an exception becomes an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from dbkit import __version__
from dbkit.config import mask, secrets_in
from dbkit.errors import EXIT_ERROR, EXIT_FAIL, EXIT_INTERRUPTED, DbkitError


# Each command's module under dbkit.cli, imported when that command runs (or when `dbkit --help`
# lists them all): `dbkit apply` does not load the modules of lint, ci, verify or listen.
_COMMAND_MODULES = {
    "apply": "migrate", "rollback": "migrate", "status": "migrate", "baseline": "migrate", "repair": "migrate",
    "new": "migrate", "verify": "verify", "snapshot": "snapshot", "plan": "snapshot", "lint": "lint", "ci": "ci",
    "rehearse": "rehearse", "listen": "listen",
}


class DbkitGroup(click.Group):
    """A click group whose errors are one masked line and a contracted exit code, and whose
    commands are loaded when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMAND_MODULES and cmd_name not in self.commands:
            # The import statement's own machinery (not importlib.import_module), so that
            # `python -X importtime` still times the command's imports (bench/apply_profile.py).
            module = __import__(f"dbkit.cli.{_COMMAND_MODULES[cmd_name]}", fromlist=[cmd_name])
            self.add_command(getattr(module, cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = _run(self, args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code


def _run(group: click.Group, args: Sequence[str] | None, prog_name: str | None,
         complete_var: str | None, **extra: Any) -> int:
    argv = list(sys.argv[1:] if args is None else args)
    try:
        result = click.Group.main(group, args, prog_name, complete_var, standalone_mode=False, **extra)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        hint = f" (see `dbkit {exc.ctx.info_name} --help`)" if exc.ctx and exc.ctx.info_name != "dbkit" else " (see `dbkit --help`)"
        _fail(f"{exc.format_message()}{hint}", _secrets(argv))
        return EXIT_ERROR
    except click.ClickException as exc:
        _fail(exc.format_message(), _secrets(argv))
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C outside a migration run (which reports what it committed itself).
        _fail("interrupted; no migration was running", _secrets(argv))
        return EXIT_INTERRUPTED
    except DbkitError as exc:
        _fail(str(exc), _secrets(argv))
        return exc.exit_code
    except Exception as exc:
        # psycopg is imported by the commands that connect, not here: `dbkit --help` never loads it.
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(exc, psycopg.Error):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, psycopg.OperationalError):
            _fail(f"lost the database connection: {first}", _secrets(argv))
            return EXIT_ERROR
        _fail(f"database error: {first}", _secrets(argv))
        return EXIT_FAIL


def _secrets(args: list[str]) -> tuple[str, ...]:
    """Passwords of every database URL this invocation was given (option or environment).

    Worked out when an error is reported, not before every command: parsing a URL loads
    psycopg, which `dbkit --help` does not need."""
    urls = [os.environ.get("DATABASE_URL")]
    for i, arg in enumerate(args):
        # --database-url everywhere; lint's --database URL too (its URL is optional).
        if arg in ("--database-url", "--database") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            urls.append(args[i + 1])
        elif arg.startswith(("--database-url=", "--database=")):
            urls.append(arg.split("=", 1)[1])
    return tuple(secret for url in urls for secret in secrets_in(url))


def _fail(message: str, secrets: tuple[str, ...]) -> None:
    one_line = " ".join(message.split())
    click.echo(f"error: {mask(one_line, secrets)}", err=True)


@click.group(cls=DbkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbkit")
def cli() -> None:
    """dbkit: versioned raw-SQL migrations, verification and lint for PostgreSQL.

    \b
    Exit codes: 0 success, 1 a migration or check failed,
                2 usage, configuration or connection error (nothing changed).
    Database:   --database-url or DATABASE_URL.
    """
    _silence_driver_logging()


def _silence_driver_logging() -> None:
    """psycopg logs "error ignored in rollback" when the server is gone; the one error line
    says what happened, so its log records must not reach stderr as a second line. Run when a
    command runs (the group's callback), not for `dbkit --help`, which never loads logging."""
    import logging

    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    logging.getLogger("psycopg").propagate = False
