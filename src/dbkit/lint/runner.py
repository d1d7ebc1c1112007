"""Run the rules over a loaded project, then settle each hit: allow marker, history, or size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pglast import ast

from dbkit.lint.grading import Target, Thresholds
from dbkit.lint.history import History
from dbkit.lint.model import Allowed, Finding
from dbkit.lint.rules import ALL_RULES, Rule, Scope
from dbkit.lint.rules.base import Dispatcher, Hit, LintProject, MigrationUnit, relation
from dbkit.lint.source import ParsedFile, Statement, parse
from dbkit.project import LoadResult, Migration, Problem


def build(loaded: LoadResult, exposed: Sequence[str]) -> LintProject:
    """Parse every file the loader read and lay out each migration as the engine runs it."""
    unreadable = {d.path for d in loaded.diagnostics if d.problem is Problem.UNREADABLE}
    files = {source.name: parse(source, readable=source.name not in unreadable) for source in loaded.files}
    units = tuple(_unit(migration, files) for migration in loaded.project.plan)
    return LintProject(loaded=loaded, files=files, units=units, exposed=tuple(exposed))


def _unit(migration: Migration, files: dict[str, ParsedFile]) -> MigrationUnit:
    """The forward statements with each included file's statements at its directive's line."""
    keyed: list[tuple[tuple[int, int, int], Statement]] = []
    forward = files.get(migration.forward.name)
    for index, stmt in enumerate(forward.statements if forward else ()):
        keyed.append(((stmt.line, 0, index), stmt))
    for position, include in enumerate(migration.includes):
        included = files.get(include.file.name)
        for index, stmt in enumerate(included.statements if included else ()):
            keyed.append(((include.line, 1, position * 100_000 + index), stmt))
    statements = tuple(stmt for _, stmt in sorted(keyed, key=lambda item: item[0]))
    created: set[str] = set()
    for stmt in statements:
        node = stmt.node
        if isinstance(node, ast.CreateStmt) and node.relation is not None and node.relation.relpersistence != "t":
            created.add(relation(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None and node.into.rel is not None:
            created.add(relation(node.into.rel))
    return MigrationUnit(migration=migration, statements=statements, created=frozenset(created))


def run(project: LintProject, rules: Sequence[type[Rule]] = ALL_RULES) -> list[Hit]:
    """Every rule over its scope, walking each statement once per file and once per migration."""
    hits: list[Hit] = []
    by_scope = {scope: [r for r in rules if r.scope is scope] for scope in Scope}
    for parsed in project.files.values():
        if parsed.parsed and by_scope[Scope.FILE]:
            file_rules = [rule(project, hits.append) for rule in by_scope[Scope.FILE]]
            for rule in file_rules:
                rule.file = parsed
            dispatcher = Dispatcher(file_rules)
            for stmt in parsed.statements:
                dispatcher.walk(stmt)
            dispatcher.finish()
    project_rules = [rule(project, hits.append) for rule in by_scope[Scope.PROJECT]]
    for unit in project.units:
        migration_rules = [rule(project, hits.append) for rule in by_scope[Scope.MIGRATION]]
        dispatcher = Dispatcher([*migration_rules, *project_rules])
        for rule in dispatcher.rules:
            rule.unit = unit
        for stmt in unit.statements:
            dispatcher.walk(stmt, unit)
        Dispatcher(migration_rules).finish()
    Dispatcher(project_rules).finish()
    return hits


@dataclass
class Settled:
    findings: list[Finding] = field(default_factory=list)
    allowed: list[Allowed] = field(default_factory=list)


def settle(hits: Sequence[Hit], *, history: History, target: Target | None, thresholds: Thresholds) -> Settled:
    """Markers first (an explicit reason), then history (applied migrations), then size (the target)."""
    out = Settled()
    for hit in hits:
        rule = hit.rule
        finding = Finding(rule.id, hit.path, hit.line, hit.column, hit.message, rule.severity)
        reason = hit.allows.get(rule.id)
        if reason:
            out.allowed.append(Allowed(finding, reason, "marker"))
            continue
        if reason == "":
            finding = replace(finding, message=finding.message + " (the dbkit-allow marker needs a reason to count)")
        applied = history.reason(hit.migration, hit.path) if rule.history else (
            history.style_reason(hit.migration) if rule.style else None)
        if applied:
            out.allowed.append(Allowed(finding, applied, "history"))
            continue
        if hit.table is not None and target is not None:
            size = target.sizes.get(hit.table)
            facts = (f"{hit.table} does not exist on {target.description} yet (a pending migration creates it)"
                     if size is None else f"{hit.table} on {target.description}: {size.describe()}")
            graded = replace(finding, message=f"{finding.message} [{facts}]")
            severity = rule.grade(size, thresholds)
            if severity is None:
                out.allowed.append(Allowed(graded, f"{facts}; {rule.fine_because(thresholds)}", "size"))
                continue
            finding = replace(graded, severity=severity)
        out.findings.append(finding)
    return out

