"""What every report format shows, computed once per report: verdict, counts, grouped lines.

A report leads with its verdict, then failures, then warnings and skipped checks, then
details. Checks that say the same thing (same status, module, kind and message — e.g. the
many behaviour checks a read-only run skips) become one counted ``Group`` instead of one
line each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbkit.checkfiles import cell_order
from dbkit.verify import Check, VerifyReport

_ORDER = {"fail": 0, "warn": 1, "skipped": 2, "pass": 3}


def ordered(checks: tuple[Check, ...] | list[Check]) -> list[Check]:
    """Failures first, then warnings, skipped, passes; stable within a status."""
    return sorted(checks, key=lambda c: _ORDER[c.status])


@dataclass(frozen=True)
class Counts:
    fail: int = 0
    warn: int = 0
    passed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.fail + self.warn + self.passed + self.skipped

    @classmethod
    def of(cls, checks: tuple[Check, ...] | list[Check]) -> Counts:
        by = {s: 0 for s in _ORDER}
        for check in checks:
            by[check.status] += 1
        return cls(fail=by["fail"], warn=by["warn"], passed=by["pass"], skipped=by["skipped"])

    def get(self, status: str) -> int:
        return {"fail": self.fail, "warn": self.warn, "pass": self.passed, "skipped": self.skipped}[status]

    def as_dict(self) -> dict[str, int]:
        """The JSON shape: status -> count, plus total."""
        return {"fail": self.fail, "warn": self.warn, "pass": self.passed, "skipped": self.skipped,
                "total": self.total}

    def sentence(self) -> str:
        return (f"{self.fail} failed, {self.warn} warnings, {self.passed} passed, {self.skipped} skipped "
                f"({self.total} checks)")


@dataclass(frozen=True)
class Group:
    """Checks with the same status, module, kind and message, shown as one counted line."""

    status: str
    module: str
    kind: str
    message: str
    checks: tuple[Check, ...]

    @property
    def count(self) -> int:
        return len(self.checks)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.checks)

    def label(self, shown: int = 3) -> str:
        """The check id, or for a group the count and the first few ids."""
        if self.count == 1:
            return self.checks[0].id
        more = f", … (+{self.count - shown})" if self.count > shown else ""
        return f"{self.count} checks: {', '.join(self.ids[:shown])}{more}"


def group(checks: list[Check]) -> tuple[Group, ...]:
    """Group checks by (status, module, kind, message), in first-seen order."""
    groups: dict[tuple[str, str, str, str], list[Check]] = {}
    for check in checks:
        groups.setdefault((check.status, check.module, check.kind, check.message), []).append(check)
    return tuple(Group(s, m, k, msg, tuple(cs)) for (s, m, k, msg), cs in groups.items())


@dataclass(frozen=True)
class Digest:
    """The verdict and everything a summary needs, computed once from a report."""

    failed: bool
    counts: Counts
    modules: tuple[tuple[str, Counts], ...]
    failures: tuple[Group, ...]
    warnings: tuple[Group, ...]
    skipped: tuple[Group, ...]

    @property
    def verdict(self) -> str:
        return "FAILED" if self.failed else "PASSED"

    @property
    def noteworthy(self) -> tuple[Group, ...]:
        """Failures, then warnings, then skipped: every line a reader should see."""
        return self.failures + self.warnings + self.skipped


def digest(report: VerifyReport) -> Digest:
    by_module: dict[str, list[Check]] = {m: [] for m in report.modules}
    for check in report.checks:
        by_module.setdefault(check.module, []).append(check)
    return Digest(
        failed=report.failed,
        counts=Counts.of(report.checks),
        modules=tuple((m, Counts.of(cs)) for m, cs in by_module.items() if cs),
        failures=group([c for c in report.checks if c.status == "fail"]),
        warnings=group([c for c in report.checks if c.status == "warn"]),
        skipped=group([c for c in report.checks if c.status == "skipped"]),
    )


def rls_matrix(report: VerifyReport) -> dict[str, dict[str, dict[str, Check]]]:
    """table -> identity -> command -> the check of that cell."""
    matrix: dict[str, dict[str, dict[str, Check]]] = {}
    for check in report.checks:
        if check.kind == "rls" and check.cell is not None:
            identity, command = check.cell
            matrix.setdefault(check.target, {}).setdefault(identity, {})[command] = check
    return matrix


def matrix_columns(rows: dict[str, dict[str, Check]]) -> list[str]:
    """The cells a table's matrix has (select … delete, move, reference[.name]), in order."""
    return sorted({cell for cells in rows.values() for cell in cells}, key=cell_order)


def identity_labels(report: VerifyReport) -> dict[str, str]:
    """The matrix rows: the configured identities in their order (name -> label)."""
    return {i.name: i.label for i in report.identities}


def users_text(report: VerifyReport, code: Callable[[str], str]) -> str:
    """The identities that act as a user, each with its user id (``code`` formats the id)."""
    return ", ".join(f"{i.name} {code(i.sub)}" for i in report.identities if i.sub)


def matrix_letter(value: str) -> str:
    return {"allowed": "A", "denied": "D"}.get(value.split(" ")[0], "E" if value.startswith("error") else "-")


def cell_short(check: Check) -> str:
    """A matrix cell in two letters: expected/actual, ✗ when they differ."""
    if check.status == "skipped":
        return "-"
    mark = "" if check.status == "pass" else " ✗"
    return f"{matrix_letter(check.expected)}/{matrix_letter(check.actual)}{mark}"


def cell_word(check: Check) -> str:
    if check.status == "skipped":
        return "not run"
    return check.actual.split(" (")[0]
