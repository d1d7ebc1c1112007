"""Changes that destroy data the running application may still read."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.visitors import Ancestor

from dbkit.lint.rules.base import Rule, altered_table, qualified, relation, strings


class DestructiveChange(Rule):
    """DROP TABLE, DROP COLUMN and ALTER COLUMN … TYPE in a forward migration destroy or rewrite data
    that the running application may still read (a type change also rewrites the table under
    ACCESS EXCLUSIVE). A table the same migration created is exempt, and so are rollbacks (undoing is their job)."""

    id = "DBK009"
    title = "destructive change in a forward migration"
    fix = ("drop or retype in a later release once nothing reads the data, and say so with "
           "`-- dbkit-allow DBK009 <reason>` above the statement")

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
                        "table under an exclusive lock and may lose data")
