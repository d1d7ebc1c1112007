"""What a target database says about the tables a migration locks: sizes, and what is applied.

``dbkit lint --database URL`` reads, read-only, the size of every table a lock-taking
finding names (``dbkit.dblint.table_sizes``) and which migrations the target has
applied (its dbkit record). A finding on a table below the thresholds is set aside; one
on an applied migration is history. Without a target, every lock-taking finding keeps
its rule's severity, because nothing proves the table is small.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dbkit.lint.model import ERROR, WARNING

# Defaults, measured on PostgreSQL 15 with 1,000,000 narrow rows (docs/decisions.md):
# validating a CHECK or a foreign key held its lock for 0.3-0.4 s, an index build or
# ADD UNIQUE 2-3 s, a rewrite 8 s. 100,000 rows is where the cheapest of them reaches
# the 200 ms a workload can be blocked once a cold cache and wider rows are counted.
DEFAULT_WARN_ROWS = 10_000
DEFAULT_ERROR_ROWS = 100_000


@dataclass(frozen=True)
class Thresholds:
    warn_rows: int = DEFAULT_WARN_ROWS
    error_rows: int = DEFAULT_ERROR_ROWS

    def __post_init__(self) -> None:
        if self.warn_rows < 0 or self.error_rows < 0:
            raise ValueError("row thresholds cannot be negative")


@dataclass(frozen=True)
class TableSize:
    """One table on the target, estimated the way the planner does, without ANALYZE."""

    rows: int | None  # None: never vacuumed or analyzed, yet not empty, so unknown
    bytes: int  # pg_relation_size (main fork)
    locked: bool = False  # pg_relation_size had to wait: size from pg_class.relpages

    def describe(self) -> str:
        rows = "an unknown number of rows (never analyzed)" if self.rows is None else f"~{self.rows:,} rows"
        note = ", size from pg_class: the table was locked" if self.locked else ""
        return f"{rows}, {_human_bytes(self.bytes)}{note}"


@dataclass(frozen=True)
class Target:
    """What lint knows about the target database."""

    description: str  # user@host:port/dbname, never the password
    sizes: Mapping[str, TableSize]  # "schema.table" -> size; absent: the table does not exist there
    applied: Mapping[str, str] | None = None  # migration id -> applied_at; None: the record could not be read
    pending_files: frozenset[str] = field(default_factory=frozenset)  # included files it will (re-)apply


TargetReader = Callable[[frozenset[str]], Target]  # called with the tables the graded findings name


def grade_by_rows(size: TableSize | None, thresholds: Thresholds) -> str | None:
    """error, warning, or None (fine) for a statement whose lock lasts as long as the table is big."""
    if size is None:
        return None  # created by a pending migration: empty when this one runs
    if size.rows is None:
        return ERROR
    if size.rows >= thresholds.error_rows:
        return ERROR
    if size.rows >= thresholds.warn_rows:
        return WARNING
    return None


def grade_any_row(size: TableSize | None, thresholds: Thresholds) -> str | None:
    """error as soon as the table holds a row (for a statement that fails on any row)."""
    if size is None:
        return None
    if size.rows is None or size.rows > 0:
        return ERROR
    return None


def estimate_rows(reltuples: float, relpages: int, size: int, block_size: int) -> int | None:
    """The planner's estimate (``estimate_rel_size``): density at the last VACUUM/ANALYZE
    times the pages the table has now; None when there is no density to go by."""
    pages = size // block_size if block_size else 0
    if pages == 0:
        return 0
    if reltuples < 0 or relpages <= 0:
        return None  # never analyzed (or emptied then refilled since): density unknown
    return int(reltuples / relpages * pages + 0.5)


def _human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover
