"""Rules about functions and policies, one file at a time (function and policy files included)."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import RoleSpecType
from pglast.visitors import Ancestor

from dbkit.lint.rules.base import Rule, Scope, nearest, qualified, relation, strings
from dbkit.lint.source import Statement

_AUTH_CALLS = {("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("current_setting",),
               ("pg_catalog", "current_setting")}


def _definer(options: Any) -> bool:
    return any(o.defname == "security" and getattr(o.arg, "boolval", False) for o in options or ())


def _pins_search_path(options: Any) -> bool:
    return any(o.defname == "set" and getattr(o.arg, "name", None) == "search_path" for o in options or ())


class SecurityDefinerWithoutSearchPath(Rule):
    """A SECURITY DEFINER function runs with its owner's rights; without a pinned search_path a
    caller's objects can shadow the names it uses. ``alter function … set search_path`` in the
    same file counts as pinning it."""

    id = "DBK001"
    title = "SECURITY DEFINER function without SET search_path"
    fix = "add `set search_path = ''` to the function and schema-qualify every name in its body"
    scope = Scope.FILE

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.definers: list[tuple[Statement, tuple[str, ...]]] = []
        self.pinned: set[tuple[str, ...]] = set()

    def visit_CreateFunctionStmt(self, ancestors: Ancestor, node: ast.CreateFunctionStmt) -> None:
        if _definer(node.options) and not _pins_search_path(node.options):
            assert self.stmt is not None
            self.definers.append((self.stmt, strings(node.funcname)))

    def visit_AlterFunctionStmt(self, ancestors: Ancestor, node: ast.AlterFunctionStmt) -> None:
        name = strings(node.func.objname if node.func else ())
        if _pins_search_path(node.actions):
            self.pinned.add(name)
        elif _definer(node.actions):
            assert self.stmt is not None
            self.definers.append((self.stmt, name))

    def finish(self) -> None:
        for stmt, name in self.definers:
            if name not in self.pinned:
                self.report(f"function {qualified(name)} is SECURITY DEFINER without SET search_path, so a caller's "
                            "search_path can hijack the names it uses", stmt=stmt)


class AuthCallPerRow(Rule):
    """``auth.uid()`` (and ``auth.jwt()``, ``auth.role()``, ``current_setting()``) in a policy runs
    once per row unless it stands alone in a scalar subquery, which PostgreSQL evaluates once per
    statement (Supabase's splinter lint 0003). A call inside ``exists (select … from t where …)``
    is still per row."""

    id = "DBK004"
    title = "policy calls auth.uid()/auth.jwt() per row"
    fix = "wrap the call in a scalar subquery, `(select auth.uid())`, so PostgreSQL evaluates it once per statement"
    scope = Scope.FILE

    def visit_FuncCall(self, ancestors: Ancestor, node: ast.FuncCall) -> None:
        if strings(node.funcname) not in _AUTH_CALLS:
            return
        policy = nearest(ancestors, ast.CreatePolicyStmt, ast.AlterPolicyStmt)
        if policy is None or _wrapped(ancestors):
            return
        call = ".".join(strings(node.funcname)) + "()"
        label = f"policy {policy[0].policy_name} on {relation(policy[0].table)}"
        self.report(f"{label} calls {call} outside a scalar subquery, so it runs once per row; "
                    f"write (select {call[:-2]}(…))", at=node)


def _wrapped(ancestors: Ancestor) -> bool:
    """True when the nearest enclosing SELECT has no FROM and holds the call in its target list."""
    select = nearest(ancestors, ast.SelectStmt)
    return select is not None and select[1] == "targetList" and not select[0].fromClause


class PolicyWithoutRole(Rule):
    """A policy without ``TO`` applies to PUBLIC, every role, including ones added later."""

    id = "DBK005"
    title = "policy without TO role"
    fix = "name the roles it applies to: `create policy … for select to app_user using (…)`"
    scope = Scope.FILE

    def visit_CreatePolicyStmt(self, ancestors: Ancestor, node: ast.CreatePolicyStmt) -> None:
        roles = node.roles or ()
        if not roles or all(getattr(r, "roletype", None) == RoleSpecType.ROLESPEC_PUBLIC for r in roles):
            self.report(f"policy {node.policy_name} on {relation(node.table)} has no TO role, so it applies to "
                        "every role (PUBLIC)")
