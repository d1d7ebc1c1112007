"""Exception types and the exit codes they map to.

Every failure dbkit reports is a ``DbkitError``. The CLI maps ``exit_code`` to the
process exit status in one place (``dbkit.cli.main``); nothing else calls
``sys.exit``. Callers branch on the type, never on the message text.
"""

from __future__ import annotations

EXIT_SUCCESS = 0
EXIT_FAIL = 1  # a migration or a check failed
EXIT_ERROR = 2  # usage, configuration or connection problem: nothing was changed
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class DbkitError(Exception):
    """Base class. ``exit_code`` 2: bad input, nothing was changed."""

    exit_code = EXIT_ERROR


class InputError(DbkitError):
    """A malformed file, an unknown module or id, a bad option combination."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class ConfigError(DbkitError):
    """dbkit.toml / [tool.dbkit] / environment is missing or wrong."""


class ConnectionFailed(DbkitError):
    """The database could not be reached or refused the login."""

    def __init__(self, message: str, *, target: str):
        super().__init__(f"cannot connect to {target}: {message}")
        self.target = target


class PrivilegeMissing(DbkitError):
    """The connecting role lacks a privilege dbkit needs (e.g. CREATE on a schema)."""


class LockTimeout(DbkitError):
    """Another dbkit process held the migration lock for longer than --migration-lock-wait."""


class DataLossRefused(DbkitError):
    """A rollback would drop tables that hold rows and --force was not given."""

    def __init__(self, data: dict[str, tuple[str, ...]], objects: tuple[str, ...] = ()):
        lost = "; ".join(f"{mid}: {', '.join(items)}" for mid, items in data.items())
        also = f"; on the way it would also drop {', '.join(objects)}" if objects else ""
        super().__init__(
            f"rollback would drop data: {lost}{also}; nothing was changed — rerun with --force to drop them"
        )
        self.data = data
        self.objects = objects


class ReadOnlyTarget(DbkitError):
    """The target is a standby or read-only: apply, rollback, baseline and repair refuse it."""


class ConnectionLost(DbkitError):
    """The connection went during a run (server restart, terminated backend); the message
    says what was committed before."""


class Interrupted(DbkitError):
    """Ctrl-C during a run; the message says what was committed before it."""

    exit_code = EXIT_INTERRUPTED


class ChangedSinceApplied(DbkitError):
    """An applied migration file was edited afterwards."""

    def __init__(self, paths: list[str]):
        super().__init__(
            "applied migration changed since it was applied: "
            + ", ".join(paths)
            + " — restore the file, or run `dbkit repair` to accept the edit"
        )
        self.paths = paths


class MigrationFailed(DbkitError):
    """The server rejected a statement; that migration's transaction rolled back."""

    exit_code = EXIT_FAIL

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        sqlstate: str | None = None,
        migration_id: str | None = None,
    ):
        where = f"{path}:{line}" if line is not None else path
        state = f" [SQLSTATE {sqlstate}]" if sqlstate else ""
        super().__init__(f"{where}: {message}{state}")
        self.reason = message
        self.path = path
        self.line = line
        self.sqlstate = sqlstate
        self.migration_id = migration_id


class ChecksFailed(DbkitError):
    """verify, lint or ci found failures. The report says which."""

    exit_code = EXIT_FAIL
