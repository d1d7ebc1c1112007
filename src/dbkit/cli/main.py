"""The ``dbkit`` group and the one place where an exception becomes an exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
import psycopg

from dbkit import __version__
from dbkit.cli.options import SECRETS
from dbkit.config import mask
from dbkit.errors import EXIT_ERROR, EXIT_FAIL, DbkitError


class DbkitGroup(click.Group):
    """A click group whose errors are one masked line and a contracted exit code."""

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
    SECRETS.clear()
    try:
        result = click.Group.main(group, args, prog_name, complete_var, standalone_mode=False, **extra)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        hint = f" (see `dbkit {exc.ctx.info_name} --help`)" if exc.ctx and exc.ctx.info_name != "dbkit" else " (see `dbkit --help`)"
        _fail(f"{exc.format_message()}{hint}")
        return EXIT_ERROR
    except click.ClickException as exc:
        _fail(exc.format_message())
        return exc.exit_code
    except click.Abort:
        _fail("aborted")
        return EXIT_FAIL
    except DbkitError as exc:
        _fail(str(exc))
        return exc.exit_code
    except psycopg.OperationalError as exc:
        _fail(f"lost the database connection: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return EXIT_ERROR
    except psycopg.Error as exc:
        _fail(f"database error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


def _fail(message: str) -> None:
    one_line = " ".join(message.split())
    click.echo(f"error: {mask(one_line, tuple(SECRETS))}", err=True)


@click.group(cls=DbkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbkit")
def cli() -> None:
    """dbkit: versioned raw-SQL migrations, verification and lint for PostgreSQL.

    \b
    Exit codes: 0 success, 1 a migration or check failed,
                2 usage, configuration or connection error (nothing changed).
    Database:   --database-url or DATABASE_URL.
    """


def _register() -> None:
    from dbkit.cli import ci, lint, listen, migrate, snapshot, verify

    for command in (
        migrate.apply, migrate.rollback, migrate.status, migrate.baseline, migrate.repair, migrate.new,
        verify.verify, snapshot.snapshot, lint.lint, ci.ci, listen.listen,
    ):
        cli.add_command(command)


_register()
