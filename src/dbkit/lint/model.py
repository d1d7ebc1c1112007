"""What ``dbkit lint`` returns: findings, the findings it set aside (and why), the files it read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SCHEMA_VERSION = 1
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    rule: str  # DBKnnn, a sqlfluff code (LT01, PRS, …)
    path: str  # relative to the project root
    line: int
    column: int
    message: str
    severity: str = ERROR  # error | warning
    checker: str = "dbkit"  # dbkit | sqlfluff | plpgsql_check


@dataclass(frozen=True)
class Allowed:
    """A finding set aside, with the reason.

    ``by`` says who set it aside: ``marker`` (a ``-- dbkit-allow`` comment), ``history``
    (the migration is already applied: on the target, or through ``lint-baseline.toml``)
    or ``size`` (the target's table is small enough for the lock not to matter).
    """

    finding: Finding
    reason: str
    by: str = "marker"


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    allowed: tuple[Allowed, ...]
    files: tuple[str, ...]
    checkers: tuple[str, ...]
    target: str | None = None  # user@host:port/dbname whose sizes graded the findings

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity != ERROR)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def merged(self, findings: Iterable[Finding], checker: str) -> LintReport:
        return LintReport(findings=sorted_findings((*self.findings, *findings)), allowed=self.allowed,
                          files=self.files, checkers=(*self.checkers, checker), target=self.target)


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(set(findings), key=lambda f: (f.path, f.line, f.column, f.rule, f.message)))
