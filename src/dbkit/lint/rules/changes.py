"""Changes that break the application running against the database, or the migration's own transaction."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType, TransactionStmtKind
from pglast.visitors import Ancestor

from dbkit.lint.rules.base import Rule, altered_table, qualified, relation, strings


class DestructiveChange(Rule):
    """DROP TABLE, DROP COLUMN and ALTER COLUMN … TYPE in a forward migration destroy or rewrite data
    that the running application may still read. A type change also rewrites the table (and its
    indexes) under ACCESS EXCLUSIVE, so with a target database it is graded by the table's size.
    A table the same migration created is exempt, and so are rollbacks (undoing is their job)."""

    id = "DBK009"
    title = "destructive change in a forward migration"
    fix = ("drop or retype in a later release once nothing reads the data, and say so with "
           "`-- dbkit-allow DBK009 <reason>` above the statement")
    history = True
    graded = True

    def visit_DropStmt(self, ancestors: Ancestor, node: ast.DropStmt) -> None:
        if node.removeType != ObjectType.OBJECT_TABLE:
            return
        assert self.unit is not None
        for names in node.objects or ():
            table = qualified(strings(names))
            if self.existing(table):
                self.report(f"DROP TABLE {table} in forward migration {self.unit.id} destroys its data")

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if found is None or not self.existing(found[0]):
            return
        table = found[0]
        assert self.unit is not None
        if node.subtype == AlterTableType.AT_DropColumn:
            self.report(f"DROP COLUMN {table}.{node.name} in forward migration {self.unit.id} destroys its data")
        elif node.subtype == AlterTableType.AT_AlterColumnType:
            self.report(f"ALTER COLUMN {table}.{node.name} TYPE in forward migration {self.unit.id} rewrites the "
                        "table under an exclusive lock and may lose data", table=table)


class Rename(Rule):
    """Renaming a table or a column breaks every query of the application version still running
    while the migration deploys (and every view or function body that names it). Add the new
    name beside the old one, move the application, then drop the old name in a later release."""

    id = "DBK020"
    title = "table or column renamed in a forward migration"
    fix = ("expand and contract: add the new column (or a view under the new table name), deploy the application "
           "that uses it, and drop the old name in a later release; or say why no client can notice with "
           "`-- dbkit-allow DBK020 <reason>`")
    history = True

    def visit_RenameStmt(self, ancestors: Ancestor, node: ast.RenameStmt) -> None:
        if node.relation is None:
            return
        table = relation(node.relation)
        if not self.existing(table):
            return
        if node.renameType == ObjectType.OBJECT_TABLE:
            self.report(f"ALTER TABLE {table} RENAME TO {node.newname} breaks every client still using {table}")
        elif node.renameType == ObjectType.OBJECT_COLUMN and node.relationType == ObjectType.OBJECT_TABLE:
            self.report(f"RENAME COLUMN {table}.{node.subname} TO {node.newname} breaks every client still reading "
                        f"{node.subname}")


_ENDS_TRANSACTION = {
    TransactionStmtKind.TRANS_STMT_BEGIN: "BEGIN",
    TransactionStmtKind.TRANS_STMT_START: "START TRANSACTION",
    TransactionStmtKind.TRANS_STMT_COMMIT: "COMMIT",
    TransactionStmtKind.TRANS_STMT_ROLLBACK: "ROLLBACK",
    TransactionStmtKind.TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
}


class TransactionControl(Rule):
    """dbkit runs a transactional migration and its record in one transaction. A COMMIT (or
    ROLLBACK, BEGIN, PREPARE TRANSACTION) inside it ends that transaction early: what ran before
    stays even if the rest fails, and the record no longer commits with the change. SAVEPOINT and
    ROLLBACK TO SAVEPOINT stay inside the transaction and are fine."""

    id = "DBK021"
    title = "transaction control inside a transactional migration"
    fix = ("remove it: the engine wraps the migration in one transaction; a migration that must commit in "
           "steps is `-- transactional: false` (each statement commits on its own) or several migrations")
    history = True

    def visit_TransactionStmt(self, ancestors: Ancestor, node: ast.TransactionStmt) -> None:
        assert self.unit is not None
        if self.unit.transactional and node.kind in _ENDS_TRANSACTION:
            self.report(f"{_ENDS_TRANSACTION[node.kind]} inside transactional migration {self.unit.id} breaks the "
                        "one transaction that makes it land whole or not at all")
