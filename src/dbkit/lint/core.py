"""``lint``: the one entry point that loads, checks, settles and (optionally) runs sqlfluff."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dbkit.config import Settings
from dbkit.lint import history, runner
from dbkit.lint.grading import TargetReader, Thresholds
from dbkit.lint.model import LintReport, sorted_findings
from dbkit.lint.sqlfluff import default_cache_dir, run_sqlfluff
from dbkit.project import load

DEFAULT_EXPOSED_SCHEMAS = ("public",)


def lint(settings: Settings, *, sqlfluff: bool = True, exposed_schemas: Sequence[str] = DEFAULT_EXPOSED_SCHEMAS,
         target: TargetReader | None = None, thresholds: Thresholds | None = None, cache: bool = True,
         cache_dir: Path | None = None, jobs: int | None = None,
         progress: Callable[[int, int], None] | None = None) -> LintReport:
    """Lint every SQL file of the project. Raises ConfigError when there is nothing to lint.

    ``target`` reads a database's table sizes and applied migrations (``dbkit.dblint``):
    lock-taking findings are then graded by size, and findings on migrations applied there
    are history. Without it, ``lint-baseline.toml`` says which migrations are history.
    ``progress(done, total)`` follows sqlfluff, the slow part.
    """
    loaded = load(settings)
    project = runner.build(loaded, exposed_schemas)
    hits = runner.run(project)
    facts = target(frozenset(h.table for h in hits if h.table)) if target is not None else None
    past = history.from_target(facts, loaded.project) if facts is not None else None
    if past is None:
        past = history.from_baseline(settings, loaded.project)
    settled = runner.settle(hits, history=past, target=facts, thresholds=thresholds or Thresholds())
    findings = list(settled.findings)
    checkers = ["dbkit"]
    if sqlfluff:
        folder = (cache_dir or default_cache_dir()) if cache else None
        findings.extend(run_sqlfluff(settings, [f.path for f in loaded.files], cache_dir=folder, jobs=jobs,
                                     progress=progress))
        checkers.insert(0, "sqlfluff")
    return LintReport(findings=sorted_findings(findings), allowed=tuple(settled.allowed),
                      files=tuple(sorted(f.name for f in loaded.files)), checkers=tuple(checkers),
                      target=facts.description if facts is not None else None)
