"""The rule machinery: one class per rule, each a pglast visitor over the statements it is shown.

A rule declares its id, title, fix and severity, which statements it looks at (its
``scope``) and how its findings are treated:

* ``Scope.FILE``: every statement of one file (every SQL file, rollbacks included);
* ``Scope.MIGRATION``: one forward migration with its ``-- include:`` files inlined at
  their directive, i.e. what the engine runs in one transaction;
* ``Scope.PROJECT``: every forward migration in plan order (the schema as it grows).

``history = True`` marks a change-safety rule (how a migration locks or breaks clients
while it runs): once the migration is applied, such a finding is history and is set
aside. ``style = True`` marks a style rule: set aside on the migrations written before it
(``[style_through]`` of lint-baseline.toml, or applied on the target), which may not be edited. ``graded = True`` marks a rule whose cost grows with the table: with a target
database its findings are graded by that table's size.

Rules only read the tree: their ``visit_<Node>`` methods return nothing, so the runner
can walk each statement once for every rule of a scope (``Dispatcher``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.visitors import Ancestor, Continue, Visitor

from dbkit.lint.grading import TableSize, Thresholds, grade_by_rows
from dbkit.lint.model import ERROR
from dbkit.lint.source import ParsedFile, Statement
from dbkit.project import Diagnostic, LoadResult, Migration


class Scope(Enum):
    FILE = "file"
    MIGRATION = "migration"
    PROJECT = "project"
    DATABASE = "database"  # checked against an applied database, not by the runner


@dataclass(frozen=True)
class MigrationUnit:
    """One forward migration as the engine runs it: its statements with includes inlined."""

    migration: Migration
    statements: tuple[Statement, ...]
    created: frozenset[str]  # tables this migration creates: no rows yet when it runs

    @property
    def id(self) -> str:
        return self.migration.id

    @property
    def transactional(self) -> bool:
        return self.migration.transactional


@dataclass
class LintProject:
    """The loaded project with every file parsed; what rules look at."""

    loaded: LoadResult
    files: dict[str, ParsedFile]  # by project-relative name
    units: tuple[MigrationUnit, ...]  # plan order
    exposed: tuple[str, ...]  # schemas an API serves (RLS required)
    _volatility: dict[str, str] | None = field(default=None, repr=False)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.loaded.diagnostics

    def function_volatility(self) -> dict[str, str]:
        """name -> volatile|stable|immutable for every function the project's SQL creates."""
        if self._volatility is None:
            found: dict[str, str] = {}
            for parsed in self.files.values():
                for stmt in parsed.statements:
                    if isinstance(stmt.node, ast.CreateFunctionStmt):
                        volatility = "volatile"  # PostgreSQL's default
                        for option in stmt.node.options or ():
                            if option.defname == "volatility":
                                volatility = str(getattr(option.arg, "sval", volatility))
                        found[strings(stmt.node.funcname)[-1]] = volatility
            self._volatility = found
        return self._volatility


@dataclass(frozen=True)
class Hit:
    """A finding before allow markers, history and grading are applied."""

    rule: type[Rule]
    path: str
    line: int
    column: int
    message: str
    allows: Mapping[str, str]  # markers that may silence it
    migration: Migration | None = None  # the migration it belongs to (history)
    table: str | None = None  # graded by this table's size on the target


class Rule(Visitor):
    """Base class: subclasses set the class attributes and define ``visit_<Node>`` methods."""

    id: ClassVar[str]
    title: ClassVar[str]
    fix: ClassVar[str]
    severity: ClassVar[str] = ERROR
    scope: ClassVar[Scope] = Scope.MIGRATION
    history: ClassVar[bool] = False
    style: ClassVar[bool] = False  # a style finding: set aside on migrations written before the rule
    graded: ClassVar[bool] = False

    def __init__(self, project: LintProject, emit: Callable[[Hit], None]) -> None:
        self.project = project
        self._emit = emit
        self.file: ParsedFile | None = None  # FILE scope: the file
        self.unit: MigrationUnit | None = None  # MIGRATION/PROJECT scope: the migration being walked
        self.stmt: Statement | None = None  # the statement being walked

    @classmethod
    def docs(cls) -> str:
        return " ".join((cls.__doc__ or "").split())

    @classmethod
    def grade(cls, size: TableSize | None, thresholds: Thresholds) -> str | None:
        """The severity of a graded finding on a table of this size (None: fine)."""
        return grade_by_rows(size, thresholds)

    @classmethod
    def fine_because(cls, thresholds: Thresholds) -> str:
        """Why a graded finding was set aside (the reason shown with it)."""
        return f"below the warning threshold ({thresholds.warn_rows:,} rows)"

    def finish(self) -> None:
        """Called after the last statement of the scope."""

    # -- reporting

    def report(self, message: str, *, at: Any = None, stmt: Statement | None = None, table: str | None = None,
               migration: Migration | None = None, with_fix: bool = True) -> None:
        """A finding at ``at`` (a node with a location, or an offset) in ``stmt`` (default: the current one).

        ``table`` names the table whose size grades it (graded rules only); the rule's fix is
        appended unless the message already says what to do (``with_fix=False``).
        """
        stmt = stmt or self.stmt
        assert stmt is not None, "report() outside a statement"
        offset = at if isinstance(at, int) else getattr(at, "location", None)
        if not isinstance(offset, int) or offset < 0:
            offset = stmt.start
        source = stmt.file
        owner = migration or (self.unit.migration if self.unit else None)
        self._emit(Hit(type(self), source.name, source.line_of(offset), source.column_of(offset),
                       f"{message}; {self.fix}" if with_fix else message, stmt.allows, owner, table if self.graded else None))

    def report_file(self, path: str, line: int | None, message: str, *, column: int = 1) -> None:
        """A finding about a whole file (silenced by a marker in the file's header)."""
        parsed = self.project.files.get(path)
        self._emit(Hit(type(self), path, line or 1, column, message, parsed.header_allows if parsed else {}))

    # -- context helpers

    def existing(self, table: str) -> bool:
        """True unless the current migration creates the table (then it has no rows yet)."""
        return self.unit is None or table not in self.unit.created

    def added_column(self, ancestors: Ancestor, cmd: ast.AlterTableCmd) -> tuple[str, ast.ColumnDef] | None:
        """For ``ALTER TABLE … ADD COLUMN`` on a table the migration did not create: the table and column."""
        if cmd.subtype != AlterTableType.AT_AddColumn or not isinstance(cmd.def_, ast.ColumnDef):
            return None
        found = altered_table(ancestors)
        if found is None or not self.existing(found[0]):
            return None
        return found[0], cmd.def_

    def added_to_existing(self, ancestors: Ancestor, node: ast.Constraint, kind: str,
                          *, columns: bool = True) -> tuple[str, str] | None:
        """For a constraint that ``ALTER TABLE … ADD CONSTRAINT`` (or, with ``columns``, ``ADD COLUMN``)
        adds to a table the migration did not create: the table and how to name the statement."""
        found = altered_table(ancestors)
        if found is None:
            return None
        table, cmd = found
        if cmd is None or not self.existing(table):
            return None
        if cmd.subtype == AlterTableType.AT_AddConstraint:
            return table, " ".join(part for part in ("ADD CONSTRAINT", node.conname, kind) if part)
        if columns and cmd.subtype == AlterTableType.AT_AddColumn:
            return table, f"ADD COLUMN {getattr(cmd.def_, 'colname', '')} … {kind}"
        return None


class Dispatcher(Visitor):
    """Walks a statement once and hands each node to every rule that visits its type."""

    def __init__(self, rules: Sequence[Rule]):
        self.rules = tuple(rules)
        self.handlers: dict[type[ast.Node], list[Callable[[Ancestor, Any], Any]]] = {}
        for rule in self.rules:
            for name in dir(type(rule)):
                node_type = getattr(ast, name[len("visit_"):], None) if name.startswith("visit_") else None
                if isinstance(node_type, type) and issubclass(node_type, ast.Node):
                    self.handlers.setdefault(node_type, []).append(getattr(rule, name))

    def walk(self, stmt: Statement, unit: MigrationUnit | None = None) -> None:
        for rule in self.rules:
            rule.stmt = stmt
            if unit is not None:
                rule.unit = unit
        if not self.handlers:
            return
        # pglast's own breadth-first traversal (Visitor.iterate), driven directly: the
        # handlers were looked up once in __init__, not on every call as Visitor.__call__ does.
        nodes = self.iterate(stmt.node)
        try:
            ancestors, node = next(nodes)
            while True:
                for handler in self.handlers.get(type(node), ()):
                    handler(ancestors, node)
                ancestors, node = nodes.send(Continue)
        except StopIteration:
            return

    def finish(self) -> None:
        for rule in self.rules:
            rule.finish()


# ---------------------------------------------------------------- AST helpers


def strings(nodes: Any) -> tuple[str, ...]:
    return tuple(getattr(n, "sval", str(n)) for n in nodes or ())


def relation(rangevar: Any) -> str:
    """``schema.table`` of a RangeVar (unqualified names are taken as public)."""
    return f"{rangevar.schemaname or 'public'}.{rangevar.relname}"


def qualified(names: Sequence[str]) -> str:
    return ".".join(names) if len(names) > 1 else f"public.{names[0]}"


def nearest(ancestors: Ancestor, *types: type[Any]) -> tuple[Any, str | int | None] | None:
    """The nearest ancestor node of one of ``types`` and the member through which we descended."""
    path: Ancestor | None = ancestors
    while path is not None:
        if isinstance(path.node, types):
            return path.node, path.member
        path = path.parent
    return None


def altered_table(ancestors: Ancestor) -> tuple[str, ast.AlterTableCmd | None] | None:
    """For a node inside ``ALTER TABLE``: the table and the sub-command holding the node."""
    found = nearest(ancestors, ast.AlterTableStmt)
    if found is None or found[0].objtype != ObjectType.OBJECT_TABLE:
        return None
    cmd = nearest(ancestors, ast.AlterTableCmd)
    return relation(found[0].relation), cmd[0] if cmd else None


def column_constraints(column: ast.ColumnDef) -> Iterator[ast.Constraint]:
    yield from (c for c in column.constraints or () if isinstance(c, ast.Constraint))


def is_subcommand(cmd: ast.AlterTableCmd | None, *subtypes: AlterTableType) -> bool:
    return cmd is not None and cmd.subtype in subtypes
