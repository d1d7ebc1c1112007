"""What verify produces: frozen checks and the report, plus the collector checks are added to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import psycopg

Status = Literal["pass", "fail", "warn", "skipped"]
STATUSES: tuple[Status, ...] = ("fail", "warn", "pass", "skipped")


@dataclass(frozen=True)
class Check:
    """One verified fact. ``expected``/``actual`` are catalog text; ``message`` says what differs."""

    id: str
    module: str
    source: str
    kind: str
    target: str
    expected: str
    actual: str
    status: Status
    message: str
    duration_ms: float
    cell: tuple[str, str] | None = None  # (identity, command) for RLS matrix checks


@dataclass(frozen=True)
class IdentityRow:
    """A configured identity as reports show it: a row of the RLS matrix."""

    name: str
    label: str
    sub: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    database: str  # user@host:port/dbname, never a password
    server_version: str
    dbkit_version: str
    started_at: str  # ISO 8601, UTC
    duration_ms: float
    modules: tuple[str, ...]
    writes: bool  # checks that write (rolled back) ran
    migration_status: str
    checks: tuple[Check, ...]
    identities: tuple[IdentityRow, ...] = ()  # the configuration's, in its order: the RLS matrix rows

    @property
    def secrets(self) -> tuple[str, ...]:
        """The connection's password(s), for masking output. Not a field: asdict()/repr never show it."""
        return tuple(getattr(self, "_secrets", ()))

    def with_secrets(self, secrets: tuple[str, ...]) -> VerifyReport:
        object.__setattr__(self, "_secrets", secrets)
        return self

    @property
    def catalog_only(self) -> bool:
        """Nothing that writes ran (the default)."""
        return not self.writes

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {s: 0 for s in STATUSES}
        for check in self.checks:
            result[check.status] += 1
        result["total"] = len(self.checks)
        return result

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


@dataclass(frozen=True)
class Outcome:
    """A comparison's result before it becomes a Check."""

    expected: str
    actual: str
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: str | None = None  # the reason, when the check could not run

    @property
    def status(self) -> Status:
        if self.skipped is not None:
            return "skipped"
        if self.problems:
            return "fail"
        return "warn" if self.warnings else "pass"

    @property
    def message(self) -> str:
        if self.skipped is not None:
            return self.skipped
        return "; ".join(self.problems or self.warnings)


class Collector:
    """Checks per module, in the order they are added; each timed from ``start()``."""

    def __init__(self) -> None:
        self.by_module: dict[str, list[Check]] = {}
        self._started = time.perf_counter()

    def start(self) -> None:
        self._started = time.perf_counter()

    def add(self, module: str, id: str, kind: str, target: str, source: str, outcome: Outcome,
            cell: tuple[str, str] | None = None) -> None:
        elapsed = round((time.perf_counter() - self._started) * 1000, 3)
        self.by_module.setdefault(module, []).append(Check(
            id=id, module=module, source=source, kind=kind, target=target, expected=outcome.expected,
            actual=outcome.actual, status=outcome.status, message=outcome.message, duration_ms=elapsed, cell=cell))
        self._started = time.perf_counter()

    def ordered(self, modules: list[str]) -> tuple[tuple[str, ...], tuple[Check, ...]]:
        order = [m for m in modules if m in self.by_module] + sorted(set(self.by_module) - set(modules))
        return tuple(order), tuple(c for name in order for c in self.by_module[name])


def have_want(label: str, have: object, want: object) -> str:
    shown_have = have if have not in (None, "") else "(none)"
    shown_want = want if want not in (None, "") else "(none)"
    return f"{label}: have: {shown_have} want: {shown_want}"


def error_text(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or "?"
        primary = exc.diag.message_primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"{primary} [SQLSTATE {state}]"
    return str(exc)
