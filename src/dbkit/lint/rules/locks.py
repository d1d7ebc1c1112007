"""Statements whose lock lasts as long as the table is big: graded by the target's table sizes.

Each finding names the table whose size decides how long the lock is held; with
``dbkit lint --database URL`` that size grades it (see ``dbkit.lint.grading``). Lock
levels are PostgreSQL's (``ALTER TABLE`` notes in its documentation); the durations quoted
were measured on PostgreSQL 15 with 1,000,000 rows (docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, BoolExprType, ConstrType, NullTestType
from pglast.visitors import Ancestor, Visitor

from dbkit.lint.grading import TableSize, Thresholds, grade_any_row
from dbkit.lint.rules.base import Rule, Scope, altered_table, column_constraints, nearest, relation, strings

# Built-in functions that are VOLATILE (pg_proc.provolatile = 'v') and plausible in a column
# default; a default calling one is evaluated per row, so ADD COLUMN rewrites the table.
# now(), current_timestamp and the other STABLE functions are not here: PostgreSQL 11+ stores
# their one value as a "fast default" without a rewrite.
VOLATILE_BUILTINS = frozenset({
    "random", "random_normal", "gen_random_uuid", "uuidv4", "uuidv7", "clock_timestamp", "timeofday",
    "nextval", "setval", "txid_current", "pg_current_xact_id", "gen_random_bytes",
    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
})
_SERIAL_TYPES = frozenset({"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"})


class CheckValidatedUnderLock(Rule):
    """``ADD CONSTRAINT … CHECK`` (and ``ADD COLUMN … CHECK``) scans every row to validate the check
    while holding ACCESS EXCLUSIVE: nothing reads or writes the table meanwhile (0.4 s for
    1,000,000 rows measured). Added ``NOT VALID``, the check applies to new rows at once, and a
    later ``VALIDATE CONSTRAINT`` scans under SHARE UPDATE EXCLUSIVE, which blocks no reads or writes."""

    id = "DBK014"
    title = "CHECK constraint validated while locking an existing table"
    fix = ("add it `not valid` in this migration and run `alter table … validate constraint <name>` in a later "
           "migration (validation then takes SHARE UPDATE EXCLUSIVE, which blocks no reads or writes)")
    history = True
    graded = True

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        if node.contype != ConstrType.CONSTR_CHECK or node.skip_validation:
            return
        found = self.added_to_existing(ancestors, node, "CHECK")
        if found:
            table, what = found
            self.report(f"{what} on {table} validates every row while holding ACCESS EXCLUSIVE", at=node, table=table)


class ForeignKeyValidatedUnderLock(Rule):
    """``ADD CONSTRAINT … FOREIGN KEY`` checks every existing row against the referenced table while
    holding SHARE ROW EXCLUSIVE on both tables, blocking their writes (0.3 s for 1,000,000 rows
    measured). Added ``NOT VALID`` it takes the locks only for an instant, and ``VALIDATE
    CONSTRAINT`` later blocks no reads or writes. A foreign key on a column added by the same
    command has nothing to validate (measured: 2 ms) and is not reported."""

    id = "DBK015"
    title = "foreign key validated while locking an existing table"
    fix = ("add it `not valid` in this migration and run `alter table … validate constraint <name>` in a later "
           "migration")
    history = True
    graded = True

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        if node.contype != ConstrType.CONSTR_FOREIGN or node.skip_validation:
            return
        found = self.added_to_existing(ancestors, node, "FOREIGN KEY", columns=False)
        if found:
            table, what = found
            self.report(f"{what} on {table} -> {relation(node.pktable)} checks every row while blocking writes to "
                        "both tables", at=node, table=table)


def _proves_not_null(expr: Any, column: str) -> bool:
    """True when a CHECK expression implies ``column IS NOT NULL`` (the term itself, or ANDed)."""
    terms = (expr.args or ()) if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR else (expr,)
    return any(isinstance(t, ast.NullTest) and t.nulltesttype == NullTestType.IS_NOT_NULL
               and isinstance(t.arg, ast.ColumnRef) and strings(t.arg.fields)[-1] == column for t in terms)


class SetNotNullWithoutCheck(Rule):
    """``ALTER COLUMN … SET NOT NULL`` scans the whole table under ACCESS EXCLUSIVE (0.2 s for
    1,000,000 rows measured) unless a valid CHECK constraint already proves the column is not
    null (PostgreSQL 12+ then skips the scan). The check must have been validated before:
    created with the table, or added NOT VALID and validated by an earlier statement."""

    id = "DBK017"
    title = "SET NOT NULL without a validated CHECK (col IS NOT NULL)"
    fix = ("add `check (<col> is not null) not valid` and `validate constraint` it in earlier migrations, then "
           "SET NOT NULL (no scan) and drop the check")
    scope = Scope.PROJECT
    history = True
    graded = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.checks: dict[tuple[str, str], tuple[Any, bool]] = {}  # (table, name) -> (expression, validated)

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        if node.contype != ConstrType.CONSTR_CHECK or node.raw_expr is None:
            return
        owner = nearest(ancestors, ast.CreateStmt, ast.AlterTableStmt)
        if owner is None:
            return
        table = relation(owner[0].relation)
        name = node.conname or f"(unnamed {len(self.checks)})"
        self.checks[(table, name)] = (node.raw_expr, not node.skip_validation)

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if found is None:
            return
        table = found[0]
        name = node.name or ""
        if node.subtype == AlterTableType.AT_ValidateConstraint and (table, name) in self.checks:
            self.checks[(table, name)] = (self.checks[(table, name)][0], True)
        elif node.subtype == AlterTableType.AT_DropConstraint:
            self.checks.pop((table, name), None)
        elif node.subtype == AlterTableType.AT_SetNotNull and self.existing(table) and node.name:
            column = node.name
            if not any(t == table and valid and _proves_not_null(expr, column)
                       for (t, _), (expr, valid) in self.checks.items()):
                self.report(f"SET NOT NULL on {table}.{column} scans every row under ACCESS EXCLUSIVE: no validated "
                            f"CHECK ({column} IS NOT NULL) proves it first", table=table)


def _type_name(column: ast.ColumnDef) -> str:
    names = strings(column.typeName.names if column.typeName else ())
    return names[-1].lower() if names else ""


def _rewrite_reason(column: ast.ColumnDef, volatile: set[str]) -> str | None:
    """Why adding this column rewrites the table (None: a catalog-only change)."""
    if _type_name(column) in _SERIAL_TYPES:
        return f"its {_type_name(column)} type fills every row from a sequence"
    for constraint in column_constraints(column):
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity column fills every row from a sequence"
        if constraint.contype == ConstrType.CONSTR_GENERATED:
            return "a stored generated column is computed for every row"
        if constraint.contype == ConstrType.CONSTR_DEFAULT and constraint.raw_expr is not None:
            calls = _FunctionNames()
            calls(constraint.raw_expr)
            hit = sorted(calls.names & volatile)
            if hit:
                return f"its default calls {hit[0]}(), which is VOLATILE and evaluated for every row"
    return None


class _FunctionNames(Visitor):
    """The (unqualified, lowercase) names of the functions an expression calls."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_FuncCall(self, ancestors: Ancestor, node: ast.FuncCall) -> None:
        self.names.add(strings(node.funcname)[-1].lower())


class AddColumnRewrite(Rule):
    """``ADD COLUMN`` is a catalog-only change unless each row needs its own value: a VOLATILE default
    (``gen_random_uuid()``, ``clock_timestamp()``, ``random()``, a project function declared or
    defaulting to VOLATILE), a serial or identity column, or a stored generated column. Then
    PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE (8.3 s for 1,000,000
    rows measured with ``default gen_random_uuid()``)."""

    id = "DBK018"
    title = "ADD COLUMN that rewrites an existing table"
    fix = ("add the column without the default, `alter column … set default …` in the same migration (new rows "
           "only), and backfill existing rows in batches from a non-transactional migration or a job")
    history = True
    graded = True

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        added = self.added_column(ancestors, node)
        if added is None:
            return
        table, column = added
        volatile = set(VOLATILE_BUILTINS) | {name for name, kind in self.project.function_volatility().items()
                                              if kind == "volatile"}
        reason = _rewrite_reason(column, volatile)
        if reason:
            self.report(f"ADD COLUMN {column.colname} on {table} rewrites the table under ACCESS EXCLUSIVE: "
                        f"{reason}", table=table)


class RequiredColumnWithoutDefault(Rule):
    """``ADD COLUMN … NOT NULL`` (or ``PRIMARY KEY``) without a default fails on the first existing row
    (every row would hold NULL), so the migration works on an empty table and fails in production.
    Graded: an error as soon as the target's table holds a row, fine on an empty one."""

    id = "DBK019"
    title = "NOT NULL column without a default added to an existing table"
    fix = ("give the column a non-volatile default (fast, no rewrite), or add it nullable, backfill, and SET NOT "
           "NULL through a validated CHECK")
    history = True
    graded = True

    @classmethod
    def grade(cls, size: TableSize | None, thresholds: Thresholds) -> str | None:
        return grade_any_row(size, thresholds)

    @classmethod
    def fine_because(cls, thresholds: Thresholds) -> str:
        return "the table is empty, so no row can violate NOT NULL"

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        added = self.added_column(ancestors, node)
        if added is None:
            return
        table, column = added
        kinds = {c.contype for c in column_constraints(column)}
        required = column.is_not_null or bool(kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY})
        filled = bool(kinds & {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED})
        if required and not filled and _type_name(column) not in _SERIAL_TYPES:
            self.report(f"ADD COLUMN {column.colname} NOT NULL without a default on {table} fails as soon as the "
                        "table holds a row", table=table)


class ValidateInSameTransaction(Rule):
    """``NOT VALID`` followed by ``VALIDATE CONSTRAINT`` in the same transaction gains nothing: the
    ADD took ACCESS EXCLUSIVE (a CHECK) or SHARE ROW EXCLUSIVE (a foreign key) and holds it until
    commit, so the validation scan runs under it."""

    id = "DBK022"
    title = "VALIDATE CONSTRAINT in the transaction that added it NOT VALID"
    fix = "move `validate constraint` to a later migration, so the scan runs after the ADD's lock is released"
    history = True
    graded = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.not_valid: set[tuple[str, str]] = set()

    def visit_Constraint(self, ancestors: Ancestor, node: ast.Constraint) -> None:
        found = altered_table(ancestors)
        if found is not None and node.skip_validation and node.conname:
            self.not_valid.add((found[0], node.conname))

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if (found is None or node.subtype != AlterTableType.AT_ValidateConstraint or self.unit is None
                or not self.unit.transactional):
            return
        if (found[0], node.name or "") in self.not_valid and self.existing(found[0]):
            self.report(f"VALIDATE CONSTRAINT {node.name} on {found[0]} runs in the transaction that added it NOT "
                        "VALID, so the scan still holds the ADD's lock", table=found[0])
