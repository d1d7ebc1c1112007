"""``lint``: the one entry point that loads, checks, settles and (optionally) runs sqlfluff."""

from __future__ import annotations

from collections.abc import Sequence

from dbkit.config import Settings
from dbkit.lint import history, runner
from dbkit.lint.model import LintReport, sorted_findings
from dbkit.lint.sqlfluff import run_sqlfluff
from dbkit.project import load

DEFAULT_EXPOSED_SCHEMAS = ("public",)


def lint(settings: Settings, *, sqlfluff: bool = True,
         exposed_schemas: Sequence[str] = DEFAULT_EXPOSED_SCHEMAS) -> LintReport:
    """Lint every SQL file of the project. Raises ConfigError when there is nothing to lint.

    ``lint-baseline.toml`` says which migrations are history.
    """
    loaded = load(settings)
    project = runner.build(loaded, exposed_schemas)
    hits = runner.run(project)
    past = history.from_baseline(settings, loaded.project)
    settled = runner.settle(hits, history=past)
    findings = list(settled.findings)
    checkers = ["dbkit"]
    if sqlfluff:
        findings.extend(run_sqlfluff(settings, [f.path for f in loaded.files]))
        checkers.insert(0, "sqlfluff")
    return LintReport(findings=sorted_findings(findings), allowed=tuple(settled.allowed),
                      files=tuple(sorted(f.name for f in loaded.files)), checkers=tuple(checkers))
