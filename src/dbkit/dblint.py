"""``dbkit lint --database``: check function bodies in a database the project was applied to.

sqlfluff and dbkit's rules never look inside ``$$`` bodies. The ``plpgsql_check``
extension does, with the real catalog: it starts a throwaway cluster, applies every
migration with dbkit's engine, and runs ``plpgsql_check_function`` on every plpgsql
function (as Supabase's ``db lint`` does). Findings point at the function's file and
line.
"""

from __future__ import annotations

from collections.abc import Callable

from dbkit import engine, lint
from dbkit.config import Settings
from dbkit.ephemeral import ephemeral_postgres


def _quiet(_: str) -> None:
    return None


def lint_database(settings: Settings, *, progress: Callable[[str], None] = _quiet) -> list[lint.Finding]:
    """Apply the project to a throwaway cluster and return plpgsql_check's findings."""
    with ephemeral_postgres() as server:
        progress(f"throwaway PostgreSQL on port {server.port}: applying every migration")
        applied = settings.with_database(server.url("postgres"))
        engine.apply(applied, progress=progress)
        progress("running plpgsql_check on every plpgsql function")
        with engine.connect(applied.require_database()) as conn:
            return lint.check_functions(conn, settings)
