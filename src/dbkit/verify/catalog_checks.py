"""The live catalog against the snapshot the SQL produces: objects, privileges, prerequisites, drift.

Every expected object (``dbkit.snapshot.Expected``) is in one of three states:

* **pending**: its migration is not applied; not compared (the pending migration fails);
* **prerequisite**: its migration was baselined (an existing application's own table), or
  a check file lists it under ``[prerequisites]`` (created only where absent, e.g. the auth
  shim on Supabase): it is checked only for what the modules need of it;
* **owned**: everything else: compared attribute by attribute, privileges audited.

Drift (warnings) is what the live database has and no snapshot expects, limited to what
dbkit owns: objects in the schemas the modules create and sub-objects (columns, indexes,
constraints, policies, triggers) of the tables they own. A shared schema such as
``public`` may hold an application's other objects; those are not dbkit's business.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dbkit import inspect
from dbkit.checkfiles import is_prerequisite
from dbkit.snapshot import Expected
from dbkit.verify.model import Collector, Outcome, have_want

SUBJECT_KINDS = {"column": "table"}  # a column is reported with its table
NOT_COMPARED = ("owner", "category")
DRIFT_KINDS = ("table", "sequence", "function", "type", "column", "index", "constraint", "policy", "trigger", "rule")
_OBJECT_TYPE = {"table": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION", "schema": "SCHEMA",
                "column": "TABLE"}


@dataclass(frozen=True)
class Scope:
    """What the migration status and the check files say about the expected objects."""

    selected: frozenset[str]
    module_of: dict[str, str]  # migration id -> module
    source_of: dict[str, str]  # migration id -> its file, for Check.source
    applied: frozenset[str]
    baselined: frozenset[str]
    prerequisite_patterns: tuple[str, ...]
    audit_roles: tuple[str, ...]

    def state(self, obj: Expected) -> str:
        if obj.migration not in self.applied:
            return "pending"
        if obj.created_by in self.baselined or is_prerequisite(obj.key, list(self.prerequisite_patterns)):
            return "prerequisite"
        return "owned"


def check_catalog(out: Collector, expected: dict[str, Expected], live: inspect.Catalog, scope: Scope) -> None:
    """Every check of the catalog family, for the selected modules."""
    owned: dict[tuple[str, str], list[Expected]] = defaultdict(list)
    uses = _Uses([o for o in expected.values() if scope.state(o) == "owned"])
    for obj in expected.values():
        if scope.module_of[obj.migration] not in scope.selected:
            continue
        state = scope.state(obj)
        if state == "owned":
            subject = (SUBJECT_KINDS.get(obj.kind, obj.kind),
                       (obj.table or obj.name) if obj.kind in SUBJECT_KINDS else obj.name)
            owned[subject].append(obj)
        elif state == "prerequisite" and uses.needs(obj):
            _prerequisite(out, scope, obj, live)
    for (kind, name), objs in sorted(owned.items()):
        _owned(out, scope, kind, name, objs, live)
        _privileges(out, scope, kind, name, objs, live)
    _drift(out, scope, expected, live)


# ---------------------------------------------------------------- owned objects


def _owned(out: Collector, scope: Scope, kind: str, name: str, objs: list[Expected], live: inspect.Catalog) -> None:
    if kind in ("channel",):
        return  # reported by listen_checks
    subject = next((o for o in objs if o.kind == kind and o.name == name), None)
    lead = subject or objs[0]
    module = scope.module_of[lead.migration]
    if kind == "cron_job" and not live.cron_installed:
        out.add(module, f"{module}.cron.{name}", "cron", name, scope.source_of[lead.migration], Outcome(
            _summary(lead), "(pg_cron not installed)", skipped="pg_cron is not installed in this database (no cron.job, or not readable by this role)"))
        return
    problems: list[str] = []
    expected_lines: list[str] = []
    actual_lines: list[str] = []
    for obj in sorted(objs, key=lambda o: (o.kind != kind, o.name)):
        have = live.get(obj.key)
        expected_lines.append(f"{obj.kind} {obj.name}: {_summary(obj)}")
        if have is None:
            problems.append(f"{obj.kind} {obj.name} does not exist (want: {_summary(obj)})")
            actual_lines.append(f"{obj.kind} {obj.name}: (missing)")
            continue
        actual_lines.append(f"{obj.kind} {obj.name}: {_summary_of(have.attrs)}")
        problems.extend(f"{obj.kind} {obj.name}: {p}" for p in _attr_differences(obj.attrs, have.attrs))
    label = "cron" if kind == "cron_job" else kind
    out.add(module, f"{module}.{label}.{name}", label, name, scope.source_of[lead.migration],
            Outcome("\n".join(expected_lines), "\n".join(actual_lines), tuple(problems)))


def _attr_differences(want: Mapping[str, str], have: Mapping[str, str]) -> list[str]:
    problems = []
    for attr in sorted(set(want) | set(have)):
        if attr in NOT_COMPARED or attr.startswith(inspect.PRIVILEGE_PREFIX):
            continue
        if want.get(attr, "") != have.get(attr, ""):
            problems.append(have_want(attr, have.get(attr, ""), want.get(attr, "")))
    return problems


def _summary(obj: Expected) -> str:
    return _summary_of(obj.attrs)


def _summary_of(attrs: Mapping[str, str]) -> str:
    if "definition" in attrs:
        return attrs["definition"]
    shown = {k: v for k, v in attrs.items()
             if not k.startswith(inspect.PRIVILEGE_PREFIX) and k not in ("owner", "category", "comment", "body")}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "(exists)"


# ---------------------------------------------------------------- privileges


def _privileges(out: Collector, scope: Scope, kind: str, name: str, objs: list[Expected],
                live: inspect.Catalog) -> None:
    relevant = [o for o in objs if o.kind in _OBJECT_TYPE]
    if not relevant:
        return
    lead = relevant[0]
    module = scope.module_of[lead.migration]
    problems: list[str] = []
    expected_lines: list[str] = []
    actual_lines: list[str] = []
    for obj in relevant:
        have = live.get(obj.key)
        if have is None:
            continue  # reported missing by the object's own check
        want_p, have_p = obj.privileges(), have.privileges()
        expected_lines.append(f"{obj.kind} {obj.name}: {_privilege_text(want_p)}")
        actual_lines.append(f"{obj.kind} {obj.name}: {_privilege_text(have_p)}")
        problems.extend(_privilege_problems(obj, want_p, have_p, scope.audit_roles, owned=True))
    if expected_lines:
        out.add(module, f"{module}.privileges.{name}", "privilege", name, scope.source_of[lead.migration],
                Outcome("\n".join(expected_lines), "\n".join(actual_lines), tuple(problems)))


def _privilege_text(privs: dict[str, str]) -> str:
    return "; ".join(f"{role}: {p}" for role, p in sorted(privs.items())) or "(owner only)"


def _split(privs: str) -> set[str]:
    return {p.strip() for p in privs.split(",") if p.strip()}


def _privilege_problems(obj: Expected, want: dict[str, str], have: dict[str, str], audit_roles: Iterable[str],
                        *, owned: bool) -> list[str]:
    problems = []
    audited = set(audit_roles)
    for role in sorted(set(want) | set(have) | audited):
        if obj.kind == "column" and role in audited and role not in want and role not in have:
            continue
        wanted = _split(want.get(role, "")) if (role in audited or role in want or role == inspect.PUBLIC) \
            else _split(want.get(inspect.PUBLIC, ""))
        held = _split(have.get(role, ""))
        extra, missing = sorted(held - wanted), sorted(wanted - held)
        if extra and owned:
            via_public = role != inspect.PUBLIC and set(extra) <= _split(have.get(inspect.PUBLIC, ""))
            problems.append(_extra_text(obj, role, extra, via_public))
        if missing:
            problems.append(f"{role} lacks {', '.join(missing)} on {obj.kind} {obj.name}: "
                            f"`{_grant(obj, role, missing)}`")
    return problems


def _extra_text(obj: Expected, role: str, extra: list[str], via_public: bool) -> str:
    grantee = inspect.PUBLIC if via_public else role
    how = "through PUBLIC, " if via_public else ""
    return (f"{role} may {', '.join(extra)} on {obj.kind} {obj.name}, which the SQL does not grant: "
            f"{how}given by `{_grant(obj, grantee, extra)}`, removed by `{_revoke(obj, grantee, extra)}`")


def _target(obj: Expected) -> tuple[str, str]:
    if obj.kind == "column":
        return "TABLE", obj.name.rsplit(".", 1)[0]
    return _OBJECT_TYPE[obj.kind], obj.name


def _role_sql(role: str) -> str:
    return "PUBLIC" if role == inspect.PUBLIC else inspect.quote_ident(role)


def _privs_sql(obj: Expected, privs: list[str]) -> str:
    if obj.kind == "column":
        column = obj.name.rsplit(".", 1)[1]
        return ", ".join(f"{p} ({column})" for p in privs)
    return ", ".join(privs)


def _grant(obj: Expected, role: str, privs: list[str]) -> str:
    object_type, name = _target(obj)
    return f"GRANT {_privs_sql(obj, privs)} ON {object_type} {name} TO {_role_sql(role)}"


def _revoke(obj: Expected, role: str, privs: list[str]) -> str:
    object_type, name = _target(obj)
    return f"REVOKE {_privs_sql(obj, privs)} ON {object_type} {name} FROM {_role_sql(role)}"


# ---------------------------------------------------------------- prerequisites


class _Uses:
    """Which columns and keys of objects the modules do not own their own SQL uses."""

    def __init__(self, owned: list[Expected]) -> None:
        self.by_table: dict[str, list[str]] = defaultdict(list)
        self.references: list[str] = []
        self.bodies: list[str] = []
        for obj in owned:
            texts = [obj.attrs.get(k, "") for k in ("definition", "using", "with_check", "columns")]
            if obj.table:
                self.by_table[obj.table].extend(texts)
            self.references.extend(t for t in texts if "REFERENCES" in t)
            if obj.kind in ("function", "table"):
                self.bodies.append(obj.attrs.get("body", "") + " " + obj.attrs.get("definition", ""))

    def needs(self, obj: Expected) -> bool:
        if obj.kind in ("schema", "table", "function", "role"):
            return True
        if obj.kind == "constraint" and obj.attrs.get("type") == "primary":
            target = f"REFERENCES {obj.table}({obj.attrs.get('columns', '').replace(',', ', ')})"
            return any(target in text for text in self.references)
        if obj.kind != "column" or obj.table is None:
            return False
        table, column = obj.table, obj.name.rsplit(".", 1)[1]
        word = re.compile(rf"(?<![\w.]){re.escape(column)}(?!\w)")
        short = re.compile(rf"(?<!\w){re.escape(table.split('.', 1)[1])}(?!\w)")
        return (any(word.search(t) for t in self.by_table.get(table, ()))
                or any(f"REFERENCES {table}({column}" in t for t in self.references)
                or any(short.search(b) and word.search(b) for b in self.bodies))


def _prerequisite(out: Collector, scope: Scope, obj: Expected, live: inspect.Catalog) -> None:
    """Only what the modules need of an object they do not own."""
    module = scope.module_of[obj.migration]
    have = live.get(obj.key)
    problems = _needs(obj, have, live, scope)
    why = "baselined: the application's own" if obj.created_by in scope.baselined else "created only where absent"
    out.add(module, f"{module}.prerequisite.{obj.kind}.{obj.name}", "prerequisite", obj.name,
            scope.source_of[obj.migration],
            Outcome(f"{obj.kind} {obj.name} as the modules use it ({why})",
                    _summary_of(have.attrs) if have else "(missing)", tuple(problems)))


def _needs(obj: Expected, have: inspect.DbObject | None, live: inspect.Catalog, scope: Scope) -> list[str]:
    if obj.kind == "constraint":
        return _unique_key(obj, live)
    if have is None:
        return [f"{obj.kind} {obj.name} does not exist; the modules need it"]
    problems: list[str] = []
    if obj.kind == "column" and obj.attrs.get("category") != have.attrs.get("category") \
            and obj.attrs.get("type") != have.attrs.get("type"):
        problems.append(f"column {obj.name}: type {have.attrs.get('type')} is not compatible with "
                        f"{obj.attrs.get('type')}, which the modules' SQL uses")
    if obj.kind == "function" and obj.attrs.get("returns") != have.attrs.get("returns"):
        problems.append(have_want(f"function {obj.name} returns", have.attrs.get("returns"), obj.attrs.get("returns")))
    if obj.kind == "role" and obj.attrs.get("bypassrls") != have.attrs.get("bypassrls"):
        problems.append(have_want(f"role {obj.name} BYPASSRLS (the RLS policies assume it)",
                                  have.attrs.get("bypassrls"), obj.attrs.get("bypassrls")))
    if obj.kind in ("schema", "function"):
        problems.extend(_privilege_problems(obj, obj.privileges(), have.privileges(), scope.audit_roles, owned=False))
    return problems


def _unique_key(obj: Expected, live: inspect.Catalog) -> list[str]:
    """The key the modules' foreign keys reference: any unique, non-partial index on those columns."""
    columns = obj.attrs.get("columns", "")
    for index in live.of_kind("index"):
        if index.table == obj.table and index.attrs.get("unique") == "true" \
                and not index.attrs.get("predicate") and index.attrs.get("columns") == columns:
            return []
    return [f"{obj.table} has no unique index on ({columns}); the modules' foreign keys reference it"]


# ---------------------------------------------------------------- drift


def _drift(out: Collector, scope: Scope, expected: dict[str, Expected], live: inspect.Catalog) -> None:
    owned_schemas = {o.name: o for o in expected.values() if o.kind == "schema" and scope.state(o) == "owned"}
    owned_tables = {o.name: o for o in expected.values() if o.kind == "table" and scope.state(o) == "owned"}
    for key, obj in sorted(live.objects.items()):
        if key in expected or obj.kind not in DRIFT_KINDS or _backs_constraint(obj, live):
            continue
        home = owned_tables.get(obj.table) if obj.table else owned_schemas.get(obj.schema)
        module = scope.module_of[home.migration] if home else None
        if module is None or module not in scope.selected:
            continue
        out.add(module, f"drift.{obj.kind}.{obj.name}", "drift", obj.name, "drift", Outcome(
            "(not in the snapshot)", _summary_of(dict(obj.attrs)), warnings=(
                f"{obj.kind} {obj.name} exists in the database but no migration creates it "
                f"(not in {module}'s catalog.json)",)))


def _backs_constraint(index: inspect.DbObject, live: inspect.Catalog) -> bool:
    if index.kind != "index":
        return False
    schema = index.schema
    short = index.name.split(".", 1)[1]
    return live.get(f"constraint {schema}.{(index.table or '').split('.', 1)[-1]}.{short}") is not None


# ---------------------------------------------------------------- who can hear the NOTIFY channels; default privileges


def listen_checks(out: Collector, scope: Scope, expected: dict[str, Expected], login_roles: tuple[str, ...]) -> None:
    for obj in expected.values():
        module = scope.module_of[obj.migration]
        if obj.kind != "channel" or module not in scope.selected or obj.migration not in scope.applied:
            continue
        out.add(module, f"{module}.listen.{obj.name}", "listen", obj.name, scope.source_of[obj.migration], Outcome(
            f"NOTIFY channel {obj.name} (sent by {obj.migration}); LISTEN needs no privilege",
            f"{len(login_roles)} login role(s) can LISTEN: {', '.join(login_roles) or '(none)'}"))


def default_privilege_checks(out: Collector, scope: Scope, expected: dict[str, Expected],
                             live: inspect.Catalog) -> None:
    """Default privileges that will grant audited roles (or PUBLIC) something on the next object."""
    schemas = {o.schema: scope.module_of[o.migration] for o in expected.values()
               if o.kind in ("table", "function", "sequence") and scope.module_of[o.migration] in scope.selected}
    audited = set(scope.audit_roles) | {inspect.PUBLIC}
    for obj in live.of_kind("default_acl"):
        role, schema, objtype = obj.name.split(" ")
        grants = {r: p for r, p in obj.privileges().items() if r in audited}
        module = schemas.get(schema) or (next(iter(sorted(set(schemas.values()))), None) if schema == "*" else None)
        if not grants or module is None:
            continue
        wanted = expected.get(f"default_acl {obj.name}")
        problems = _privilege_problems(wanted, wanted.privileges(), obj.privileges(), (), owned=True) if wanted else []
        what = {"r": "tables", "S": "sequences", "f": "functions", "T": "types", "n": "schemas"}.get(objtype, objtype)
        out.add(module, f"{module}.default_privileges.{role}.{schema}.{what}", "default_privileges",
                f"{schema} {what}", "default privileges", Outcome(
                    "default privileges set by the modules' SQL: " + (_privilege_text(wanted.privileges())
                                                                       if wanted else "(none)"),
                    f"new {what} created by {role} in {schema} are granted {_privilege_text(grants)}; "
                    "every migration must revoke before it grants (the privilege checks audit each object)",
                    tuple(problems)))
