"""``dbkit lint``: sqlfluff plus dbkit's own rules over ``migrations/`` and ``sql/``.

* **sqlfluff** (postgres dialect, raw templater) with the project's ``.sqlfluff``; dbkit
  forces ``large_file_skip_byte_limit = 0`` because sqlfluff otherwise skips files over
  20 kB without a word and reports success (``dbkit.lint.sqlfluff``).
* **dbkit's rules**, one class each (``dbkit.lint.rules``), read from PostgreSQL's own
  parser (pglast) over the project as ``dbkit.project.load`` sees it, the loader every
  command uses: its diagnostics are rules DBK000 and DBK010–DBK013.
* **grading** (``dbkit.lint.grading``): with a target database, lock-taking findings are
  graded by the size of the table they lock, and findings on applied migrations are history
  (``dbkit.lint.history``).

Any finding can be silenced for one statement by a comment inside or directly above it,
with a reason: ``-- dbkit-allow DBK009 the column was never read (ticket 123)``.
File-level findings take the marker in the file's header. A marker without a reason
silences nothing.

This package imports ``dbkit.config``, ``dbkit.errors`` and ``dbkit.project``; it never
prints and never connects (``dbkit.dblint`` does the database side).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbkit.lint.core import DEFAULT_EXPOSED_SCHEMAS, lint
    from dbkit.lint.grading import TableSize, Target, TargetReader, Thresholds
    from dbkit.lint.history import BASELINE_FILE
    from dbkit.lint.model import SCHEMA_VERSION, Allowed, Finding, LintReport
    from dbkit.lint.plpgsql import PLPGSQL_CHECK_INSTALL, check_functions, plpgsql_functions
    from dbkit.lint.render import FORMATS, render, render_github, render_json, render_text, summary
    from dbkit.lint.rules import RULES, Rule
    from dbkit.lint.sqlfluff import run_sqlfluff

__all__ = [
    "BASELINE_FILE", "DEFAULT_EXPOSED_SCHEMAS", "FORMATS", "PLPGSQL_CHECK_INSTALL", "RULES", "SCHEMA_VERSION",
    "Allowed", "Finding", "LintReport", "Rule", "TableSize", "Target", "TargetReader", "Thresholds",
    "check_functions", "lint", "plpgsql_functions", "render", "render_github", "render_json", "render_text",
    "run_sqlfluff", "summary",
]

#: Where each name of __all__ lives. The package loads them on first use (PEP 562), so that
#: importing one light submodule (``dbkit.lint.grading``, for the CLI's option defaults)
#: does not load pglast, yoyo and psycopg, and `dbkit --help` stays quick.
_SOURCES = {
    "dbkit.lint.core": ("DEFAULT_EXPOSED_SCHEMAS", "lint"),
    "dbkit.lint.grading": ("TableSize", "Target", "TargetReader", "Thresholds"),
    "dbkit.lint.history": ("BASELINE_FILE",),
    "dbkit.lint.model": ("SCHEMA_VERSION", "Allowed", "Finding", "LintReport"),
    "dbkit.lint.plpgsql": ("PLPGSQL_CHECK_INSTALL", "check_functions", "plpgsql_functions"),
    "dbkit.lint.render": ("FORMATS", "render", "render_github", "render_json", "render_text", "summary"),
    "dbkit.lint.rules": ("RULES", "Rule"),
    "dbkit.lint.sqlfluff": ("run_sqlfluff",),
}


def __getattr__(name: str) -> Any:
    """Load every exported name at once on first use. All at once, because importing the
    submodule ``dbkit.lint.render`` binds the package attribute ``render`` to the module;
    the function of that name is bound after it, as the eager imports did."""
    if name not in __all__:
        raise AttributeError(f"module 'dbkit.lint' has no attribute {name!r}")
    exported = {attr: getattr(importlib.import_module(module), attr)
                for module, attrs in _SOURCES.items() for attr in attrs}
    globals().update(exported)
    return exported[name]
