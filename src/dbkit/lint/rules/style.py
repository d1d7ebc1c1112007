"""One SQL style for every migration (docs/authoring.md, "One style"): DBK023.

What a reviewer or a DBA relies on when reading a migration without dbkit:

* the forward file starts ``-- <id>: <what it does>``, the rollback ``-- Rollback of <id>: …``;
* the forward file's header has a ``-- Source:`` line (document and section, or issue);
* a dependency is written once, as the ``-- depends: <id>`` directive, never as prose
  (``-- Depends on: …``): the previous migration of the module is implied;
* CHECK and EXCLUDE constraints are named (``constraint <table>_<what>_check``): the
  generated names are unpredictable, and a later migration must be able to drop them;
* a GRANT on a table, sequence, schema or function follows a REVOKE on the same object in
  the same file (revoke first: Supabase grants ALL by default);
* a transactional rollback drops without ``IF EXISTS``: the object is there because the
  migration created it, and a drop that fails on drift is the better signal. A rollback that
  runs outside a transaction (re-runnable after a half-way failure) or that undoes an object
  created only where absent says so with ``-- dbkit-allow DBK023 <reason>``.

The rule runs when the project opts in (``sql_style = true`` in its configuration): it is this
house's style, not PostgreSQL's. A migration already applied somewhere may not be edited (its checksum is recorded), not even
its comments: ``lint-baseline.toml``'s ``[style_through]`` lists, per module, the migrations
written before this rule, whose findings are set aside as history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ConstrType, ObjectType
from pglast.visitors import Visitor

from dbkit.lint.rules.base import Hit, Rule, Scope, relation, strings
from dbkit.lint.source import ParsedFile, Statement
from dbkit.project import Migration

_PROSE_DEPENDS = re.compile(r"^--\s*depends on\b", re.IGNORECASE)
_SOURCE = re.compile(r"^--\s*Source:\s*\S")
_GRANTABLE = {ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_SEQUENCE: "sequence",
              ObjectType.OBJECT_SCHEMA: "schema", ObjectType.OBJECT_FUNCTION: "function"}


def header(parsed: ParsedFile) -> list[tuple[int, str]]:
    """(line, text) of the leading comment block."""
    found = []
    for number, raw in enumerate(parsed.text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("--"):
            break
        if line:
            found.append((number, line))
    return found


class _Nodes(Visitor):
    """Every node of one statement, for the checks that look below the top level."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[Any] = []

    def visit(self, ancestors: Any, node: Any) -> None:
        self.nodes.append(node)


def _nodes(stmt: Statement) -> list[Any]:
    walker = _Nodes()
    walker(stmt.node)
    return walker.nodes


def _grant_keys(node: ast.GrantStmt) -> Iterator[str]:
    kind = _GRANTABLE.get(node.objtype) if node.objtype is not None else None
    if kind is None or str(getattr(node.targtype, "name", node.targtype)) != "ACL_TARGET_OBJECT":
        return
    for obj in node.objects or ():
        if isinstance(obj, ast.RangeVar):
            yield f"{kind} {relation(obj)}"
        elif isinstance(obj, ast.ObjectWithArgs):
            yield f"{kind} {'.'.join(strings(obj.objname))}"
        else:
            yield f"{kind} {getattr(obj, 'sval', obj)}"


class SqlStyle(Rule):
    """Every migration follows one style (docs/authoring.md): a `-- <id>: …` first line (`-- Rollback of
    <id>: …` in a rollback), a `-- Source:` line, dependencies only as `-- depends:`, named CHECK
    constraints, REVOKE before GRANT on each object, and transactional rollbacks that drop without IF
    EXISTS. Migrations applied before the rule are history (`[style_through]` in lint-baseline.toml)."""

    id = "DBK023"
    title = "migration does not follow the SQL style"
    fix = "write it as docs/authoring.md \"One style\" says"
    scope = Scope.PROJECT
    style = True

    def finish(self) -> None:
        if not self.project.loaded.project.settings.sql_style:
            return  # a house style: the project opts in (`sql_style = true`)
        for unit in self.project.units:
            forward = self.project.files.get(unit.migration.forward.name)
            rollback = self.project.files.get(unit.migration.rollback.name)
            if forward is not None:
                self._forward(unit.migration, forward)
            if rollback is not None and rollback.text:
                self._rollback(unit.migration, rollback)

    def _hit(self, migration: Migration, parsed: ParsedFile, line: int, message: str,
             stmt: Statement | None = None) -> None:
        allows = stmt.allows if stmt is not None else parsed.header_allows
        self._emit(Hit(type(self), parsed.name, line, 1, f"{message}; {self.fix}", allows, migration))

    def _forward(self, migration: Migration, parsed: ParsedFile) -> None:
        lines = header(parsed)
        if not lines or not lines[0][1].startswith(f"-- {migration.id}: "):
            self._hit(migration, parsed, 1, f"the first line is not `-- {migration.id}: <what it does>`")
        if not any(_SOURCE.match(text) for _, text in lines):
            self._hit(migration, parsed, 1, "the header has no `-- Source: <document and section>` line")
        for number, text in lines:
            if _PROSE_DEPENDS.match(text):
                self._hit(migration, parsed, number, "a dependency written as prose (`-- Depends on:`); write it "
                          "once as `-- depends: <id>` (the module's previous migration is implied)")
        revoked: set[str] = set()
        for stmt in parsed.statements:
            self._statement(migration, parsed, stmt, revoked)

    def _statement(self, migration: Migration, parsed: ParsedFile, stmt: Statement, revoked: set[str]) -> None:
        if isinstance(stmt.node, ast.GrantStmt):
            keys = set(_grant_keys(stmt.node))
            if not stmt.node.is_grant:
                revoked |= keys
            elif keys - revoked:
                self._hit(migration, parsed, stmt.line, f"GRANT on {sorted(keys - revoked)[0]} without a REVOKE "
                          "on it earlier in the file (revoke first)", stmt)
            return
        for node in _nodes(stmt):
            if isinstance(node, ast.Constraint) and node.contype in (
                    ConstrType.CONSTR_CHECK, ConstrType.CONSTR_EXCLUSION) and not node.conname:
                offset = node.location if node.location is not None and node.location >= 0 else stmt.start
                self._hit(migration, parsed, parsed.line_of(offset),
                          "an unnamed CHECK/EXCLUDE constraint; name it (`constraint <table>_<what>_check`)", stmt)

    def _rollback(self, migration: Migration, parsed: ParsedFile) -> None:
        lines = header(parsed)
        if not lines or not lines[0][1].startswith(f"-- Rollback of {migration.id}: "):
            self._hit(migration, parsed, 1, f"the first line is not `-- Rollback of {migration.id}: <what it undoes>`")
        if not migration.transactional:
            return  # runs statement by statement and must be re-runnable: IF EXISTS is its point
        for stmt in parsed.statements:
            if isinstance(stmt.node, ast.DropStmt) and stmt.node.missing_ok:
                self._hit(migration, parsed, stmt.line, "a transactional rollback drops with IF EXISTS; drop "
                          "plainly (the migration created it), or say why with `-- dbkit-allow DBK023 <reason>`",
                          stmt)
