"""Row level security: every table an API serves is protected from the migration that creates it."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.visitors import Ancestor

from dbkit.lint.rules.base import Rule, Scope, altered_table, qualified, relation, strings
from dbkit.lint.source import Statement


class TableWithoutRls(Rule):
    """A table in an exposed schema (``public``, what PostgREST/Supabase serve) must have RLS enabled
    by the migration that creates it, counting the files it includes: a table protected only by
    a later migration is open to every API user between the two deploys."""

    id = "DBK002"
    title = "table in an exposed schema without row level security"
    fix = ("enable RLS in the same migration (`alter table … enable row level security` in the table's "
           "sql/policies/ file, included by that migration)")
    history = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tables: list[tuple[str, Statement]] = []
        self.protected: set[str] = set()

    def visit_CreateStmt(self, ancestors: Ancestor, node: ast.CreateStmt) -> None:
        if node.relation is None:
            return
        table = relation(node.relation)
        if node.relation.relpersistence != "t" and table.split(".")[0] in self.project.exposed:
            assert self.stmt is not None
            self.tables.append((table, self.stmt))

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if found and node.subtype == AlterTableType.AT_EnableRowSecurity:
            self.protected.add(found[0])

    def finish(self) -> None:
        assert self.unit is not None
        for table, stmt in self.tables:
            if table not in self.protected:
                self.report(f"table {table} is in exposed schema {table.split('.')[0]} but {self.unit.id} does not "
                            "enable row level security on it", stmt=stmt)


class RlsWithoutPolicy(Rule):
    """RLS with no policy at all hides every row from every role but the owner and BYPASSRLS roles.
    A policy created by a later migration counts (the table is closed, not open, in between); a
    table only a BYPASSRLS role reads says so with an allow marker."""

    id = "DBK003"
    title = "row level security enabled but no policy"
    fix = ("create at least one policy (`create policy … to <role> using (…)`) in the table's sql/policies/ file, "
           "or mark a deliberately closed table with `-- dbkit-allow DBK003 <reason>`")
    scope = Scope.PROJECT

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.enabled: dict[str, tuple[Statement, Any]] = {}
        self.policies: set[str] = set()

    def visit_AlterTableCmd(self, ancestors: Ancestor, node: ast.AlterTableCmd) -> None:
        found = altered_table(ancestors)
        if found is None:
            return
        if node.subtype == AlterTableType.AT_EnableRowSecurity and found[0] not in self.enabled:
            assert self.stmt is not None and self.unit is not None
            self.enabled[found[0]] = (self.stmt, self.unit.migration)
        elif node.subtype == AlterTableType.AT_DisableRowSecurity:
            self.enabled.pop(found[0], None)

    def visit_CreatePolicyStmt(self, ancestors: Ancestor, node: ast.CreatePolicyStmt) -> None:
        self.policies.add(relation(node.table))

    def visit_DropStmt(self, ancestors: Ancestor, node: ast.DropStmt) -> None:
        if node.removeType == ObjectType.OBJECT_TABLE:
            for names in node.objects or ():
                table = qualified(strings(names))
                self.enabled.pop(table, None)
                self.policies.discard(table)

    def finish(self) -> None:
        for table, (stmt, migration) in self.enabled.items():
            if table not in self.policies:
                self.report(f"row level security is enabled on {table} but no migration or policy file creates a "
                            "policy for it, so only the owner and BYPASSRLS roles see rows", stmt=stmt,
                            migration=migration)
