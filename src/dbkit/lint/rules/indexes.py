"""Indexes: foreign keys covered, and indexes built without blocking writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, BoolExprType, ConstrType, NullTestType, ObjectType
from pglast.visitors import Ancestor

from dbkit.lint.rules.base import Rule, Scope, altered_table, nearest, qualified, relation, strings
from dbkit.lint.source import Statement
from dbkit.project import Migration


@dataclass(frozen=True)
class _ForeignKey:
    name: str | None
    table: str
    columns: tuple[str, ...]
    references: str
    stmt: Statement
    at: Any
    migration: Migration | None


@dataclass(frozen=True)
class _Index:
    name: str | None
    table: str
    columns: tuple[str | None, ...]  # None: an expression
    partial: bool
    not_null: frozenset[str] = frozenset()  # columns the predicate only requires to be NOT NULL


class ForeignKeyWithoutIndex(Rule):
    """Deleting a parent row or updating its key looks up the child rows by the foreign key's
    columns; without an index whose leading columns are those, every such statement scans the
    child table. An index created by any later forward migration counts (and a later
    ``drop index`` removes it); a partial index counts only when its predicate is
    ``<key column> IS NOT NULL``, which the (strict) lookup implies."""

    id = "DBK006"
    title = "foreign key without a covering index"
    fix = "create an index whose leading columns are the foreign key's columns, in the table's migration"
    scope = Scope.PROJECT

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.foreign_keys: list[_ForeignKey] = []
        self.indexes: list[_Index] = []

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        table = _constrained_table(ancestors)
        if table is None:
            return
        column = nearest(ancestors, ast.ColumnDef)
        own_column = (column[0].colname,) if column else None
        if node.contype == ConstrType.CONSTR_FOREIGN:
            self._foreign_key(node, table, own_column or strings(node.fk_attrs))
        elif node.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            self._unique(node, table, own_column or strings(node.keys))

    def _foreign_key(self, node: ast.Constraint, table: str, columns: tuple[str, ...]) -> None:
        assert self.stmt is not None
        self.foreign_keys.append(_ForeignKey(node.conname, table, columns, relation(node.pktable), self.stmt,
                                             node, self.unit.migration if self.unit else None))

    def _unique(self, node: ast.Constraint, table: str, columns: tuple[str, ...]) -> None:
        """A primary key or unique constraint is an index on its columns (``using index``: that index's)."""
        if node.indexname and not columns:
            match = next((i for i in self.indexes if i.name == node.indexname), None)
            columns = tuple(c for c in match.columns if c) if match else ()
        self.indexes.append(_Index(node.conname, table, columns, partial=False))

    def visit_IndexStmt(self, ancestors: Ancestor, node: ast.IndexStmt) -> None:
        columns = tuple(getattr(p, "name", None) for p in node.indexParams or ())
        self.indexes.append(_Index(node.idxname, relation(node.relation), columns,
                                   partial=node.whereClause is not None, not_null=_not_null_columns(node.whereClause)))

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if found and node.subtype == AlterTableType.AT_DropConstraint:
            table = found[0]
            self.indexes = [i for i in self.indexes if not (i.table == table and i.name == node.name)]
            self.foreign_keys = [f for f in self.foreign_keys if not (f.table == table and f.name == node.name)]

    def visit_DropStmt(self, ancestors: Ancestor, node: ast.DropStmt) -> None:
        for names in node.objects or ():
            name = qualified(strings(names))
            if node.removeType == ObjectType.OBJECT_INDEX:
                self.indexes = [i for i in self.indexes if i.name != name.split(".")[-1]]
            elif node.removeType == ObjectType.OBJECT_TABLE:
                self.indexes = [i for i in self.indexes if i.table != name]
                self.foreign_keys = [f for f in self.foreign_keys if f.table != name]

    def finish(self) -> None:
        for fk in self.foreign_keys:
            if not any(_covers(index, fk) for index in self.indexes):
                cols = ", ".join(fk.columns)
                name = f"idx_{fk.table.split('.')[-1]}_{'_'.join(fk.columns)}"
                self.report(f"foreign key {fk.table} ({cols}) -> {fk.references} has no index starting with ({cols}), "
                            f"so every delete or key update on {fk.references} scans {fk.table}; add "
                            f"`create index {name} on {fk.table} using btree ({cols});` in the table's migration",
                            at=fk.at, stmt=fk.stmt, migration=fk.migration, with_fix=False)


def _not_null_columns(predicate: Any) -> frozenset[str]:
    """The columns of a predicate made only of ``col IS NOT NULL`` terms joined by AND; else empty."""
    if predicate is None:
        return frozenset()
    terms = (predicate.args or ()) if isinstance(predicate, ast.BoolExpr) and predicate.boolop == BoolExprType.AND_EXPR \
        else (predicate,)
    columns: set[str] = set()
    for term in terms:
        if not (isinstance(term, ast.NullTest) and term.nulltesttype == NullTestType.IS_NOT_NULL
                and isinstance(term.arg, ast.ColumnRef)):
            return frozenset()
        columns.add(strings(term.arg.fields)[-1])
    return frozenset(columns)


def _covers(index: _Index, fk: _ForeignKey) -> bool:
    """An index covers a foreign key when its leading columns are exactly the key's columns."""
    if index.table != fk.table or len(index.columns) < len(fk.columns):
        return False
    if index.partial and not (index.not_null and index.not_null <= set(fk.columns)):
        return False
    return set(index.columns[: len(fk.columns)]) == set(fk.columns)


class IndexWithoutConcurrently(Rule):
    """A plain CREATE INDEX holds a SHARE lock for the whole build, blocking every insert, update and
    delete on the table; on a table the same migration creates there is nothing to block."""

    id = "DBK007"
    title = "CREATE INDEX on an existing table without CONCURRENTLY"
    fix = ("use `create index concurrently` in a migration of its own with `-- transactional: false`; "
           "a plain CREATE INDEX blocks every write to the table while it builds")
    history = True
    graded = True

    def visit_IndexStmt(self, ancestors: Ancestor, node: ast.IndexStmt) -> None:
        table = relation(node.relation)
        if not node.concurrent and self.existing(table):
            assert self.unit is not None
            self.report(f"CREATE INDEX {node.idxname or ''} on {table}, which {self.unit.id} did not create",
                        table=table)


class ConcurrentlyInTransaction(Rule):
    """PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY inside a
    transaction block, so a transactional migration holding one fails at apply time."""

    id = "DBK008"
    title = "CONCURRENTLY inside a transactional migration"
    fix = ("add `-- transactional: false` to the migration's header (PostgreSQL refuses CONCURRENTLY "
           "inside a transaction) and keep it to that one statement")
    history = True

    def _transactional(self) -> bool:
        return self.unit is not None and self.unit.transactional

    def visit_IndexStmt(self, ancestors: Ancestor, node: ast.IndexStmt) -> None:
        if node.concurrent and self._transactional():
            self.report(f"CREATE INDEX CONCURRENTLY on {relation(node.relation)} in a transactional migration fails "
                        "at apply time")

    def visit_DropStmt(self, ancestors: Ancestor, node: ast.DropStmt) -> None:
        if node.concurrent and self._transactional():
            self.report("DROP INDEX CONCURRENTLY in a transactional migration fails at apply time")

    def visit_ReindexStmt(self, ancestors: Ancestor, node: ast.ReindexStmt) -> None:
        if self._transactional() and any(p.defname == "concurrently" for p in node.params or ()):
            self.report("REINDEX CONCURRENTLY in a transactional migration fails at apply time")


class UniqueWithoutUsingIndex(Rule):
    """``ADD PRIMARY KEY``/``ADD UNIQUE`` (and ``ADD COLUMN … UNIQUE``) build their index under the
    ACCESS EXCLUSIVE lock of ALTER TABLE, blocking reads and writes for the whole build (2.2 s for
    1,000,000 rows measured). ``USING INDEX`` attaches an index built beforehand with CREATE UNIQUE
    INDEX CONCURRENTLY, which takes the lock only for an instant. An EXCLUDE constraint has no
    such form; build it while the table is still small or in a maintenance window."""

    id = "DBK016"
    title = "ADD UNIQUE/PRIMARY KEY without USING INDEX on an existing table"
    fix = ("build the index first with `create unique index concurrently <name> on <table> (…)` in a "
           "`-- transactional: false` migration, then `alter table … add constraint <name> unique using index <name>`")
    history = True
    graded = True

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        kinds = {ConstrType.CONSTR_PRIMARY: "PRIMARY KEY", ConstrType.CONSTR_UNIQUE: "UNIQUE",
                 ConstrType.CONSTR_EXCLUSION: "EXCLUDE"}
        if node.contype not in kinds or node.indexname:
            return
        found = self.added_to_existing(ancestors, node, kinds[node.contype])
        if found:
            table, what = found
            self.report(f"{what} on {table} builds its index while holding ACCESS EXCLUSIVE, blocking reads and "
                        "writes", at=node, table=table)


def _constrained_table(ancestors: Ancestor) -> str | None:
    """The table a constraint is declared on: in CREATE TABLE, or in ALTER TABLE … ADD
    CONSTRAINT / ADD COLUMN (None for any other place a constraint node appears)."""
    owner = nearest(ancestors, ast.CreateStmt, ast.AlterTableStmt)
    if owner is None:
        return None
    if isinstance(owner[0], ast.AlterTableStmt):
        found = altered_table(ancestors)
        if found is None or found[1] is None or found[1].subtype not in (
                AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn):
            return None
        return found[0]
    return relation(owner[0].relation)

