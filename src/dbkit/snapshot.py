"""The expected catalog, derived from the SQL: one generated, committed file per module.

``generate`` applies the project's plan migration by migration on an empty database
and reads the catalog (``dbkit.inspect``) after each one. Every object that a
migration creates or changes is attributed to that migration (the last one to change
it wins), and lands in ``migrations/<module>/catalog.json`` of that migration's module.
Like a lock file, the files are refreshed by one command (``dbkit snapshot``) and
checked for staleness (``dbkit snapshot --check``, the test suite, and ``dbkit ci``,
whose verify compares a fresh apply with them).

What is left out on purpose: owners (they are whoever applies, e.g. ``postgres`` on
Supabase), objects that existed before the first migration (extensions the server
provides, schema ``public``), and pg_cron jobs when the generating server has no pg_cron
(then the files keep the jobs they had).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pglast
from pglast import ast
from pglast.visitors import Visitor

from dbkit import engine, inspect
from dbkit.config import Settings
from dbkit.errors import InputError
from dbkit.project import Migration, Project, load_project

SNAPSHOT_FILE = "catalog.json"
FORMAT = 1
UNPORTABLE = ("owner",)  # attributes that depend on who applies, not on the SQL
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Expected(inspect.Named):
    """One object as the SQL leaves it, and the migration that created or last changed it."""

    kind: str
    name: str
    migration: str
    attrs: dict[str, str]
    table: str | None = None
    created: str = ""  # the migration that created it, when not the one that last changed it

    @property
    def created_by(self) -> str:
        return self.created or self.migration



@dataclass(frozen=True)
class ModuleSnapshot:
    module: str
    objects: dict[str, Expected] = field(default_factory=dict)
    audit_roles: tuple[str, ...] = ()  # the roles whose effective privileges every object lists

    def render(self) -> str:
        payload = {
            "format": FORMAT,
            "module": self.module,
            "generated_by": "dbkit snapshot (do not edit: regenerate after changing the module's SQL)",
            "audit_roles": list(self.audit_roles),
            "objects": {
                key: {"migration": o.migration, **({"created": o.created} if o.created else {}),
                      **({"table": o.table} if o.table else {}), "attrs": o.attrs}
                for key, o in sorted(self.objects.items())
            },
        }
        return json.dumps(payload, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def snapshot_path(project: Project, module: str) -> Path:
    return project.module(module).path / SNAPSHOT_FILE


def load(project: Project, module: str) -> ModuleSnapshot | None:
    """The committed snapshot of ``module``; None when the file does not exist."""
    path = snapshot_path(project, module)
    if not path.is_file():
        return None
    display = project.settings.relative(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        objects = {
            key: Expected(key.split(" ", 1)[0], key.split(" ", 1)[1], str(entry["migration"]),
                          {str(k): str(v) for k, v in entry["attrs"].items()}, entry.get("table"),
                          str(entry.get("created", "")))
            for key, entry in data["objects"].items()
        }
        if data.get("format") != FORMAT or data.get("module") != module:
            raise ValueError("format or module does not match")
        return ModuleSnapshot(module, objects, tuple(data.get("audit_roles", ())))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(f"not a dbkit catalog snapshot ({exc}); regenerate it with `dbkit snapshot`",
                         path=display) from None


# ---------------------------------------------------------------- generating


@dataclass(frozen=True)
class Generated:
    snapshots: dict[str, ModuleSnapshot]
    cron: bool  # pg_cron was installed on the generating server (its jobs are in the snapshots)


def generate(settings: Settings, *, progress: Progress = lambda _: None) -> Generated:
    """Apply the plan one migration at a time on the (empty) database of ``settings``."""
    project = load_project(settings)
    target = settings.require_database()
    status = engine.status(settings)
    if status.migrations("applied") or status.migrations("changed"):
        raise InputError(f"the snapshot needs an empty database; {target.describe()} has applied migrations")
    with engine.connect(target) as conn:
        previous = inspect.read(conn).flat()
    changed_by: dict[str, str] = {}
    created_by: dict[str, str] = {}
    first_reference: dict[str, str] = {}
    for migration in project.plan:
        progress(f"snapshot {migration.id}")
        engine.apply(settings, to=migration.id)
        with engine.connect(target) as conn:
            current = inspect.read(conn)
        flat = current.flat()
        for key, text in flat.items():
            if previous.get(key) != text:
                changed_by[key] = migration.id
                if key not in previous:
                    created_by[key] = migration.id
        for role in inspect.audit_roles(current):
            first_reference.setdefault(role, migration.id)
        previous = flat
    with engine.connect(target) as conn:
        roles = tuple(sorted(first_reference))
        final = inspect.read(conn, roles=roles, with_roles=True)
        row = conn.execute("select pg_catalog.to_regclass('cron.job') is not null").fetchone()
    split = _split(project, final, changed_by, created_by, first_reference, roles)
    return Generated(split, bool(row and row[0]))


def _split(project: Project, final: inspect.Catalog, changed_by: dict[str, str], created_by: dict[str, str],
           first_reference: dict[str, str], roles: tuple[str, ...]) -> dict[str, ModuleSnapshot]:
    module_of = {m.id: m.module for m in project.plan}
    per_module: dict[str, dict[str, Expected]] = {m.name: {} for m in project.modules}
    for key, obj in final.objects.items():
        by = first_reference.get(obj.name) if obj.kind == "role" else changed_by.get(key)
        if by is None:
            continue  # there before the first migration: not the SQL's doing
        attrs = {k: v for k, v in obj.attrs.items() if k not in UNPORTABLE}
        created = created_by.get(key, by)
        per_module[module_of[by]][key] = Expected(obj.kind, obj.name, by, attrs, obj.table,
                                                  created if created != by else "")
    for migration, channel in notify_channels(project):
        expected = Expected("channel", channel, migration.id, {"sent_by": migration.id})
        per_module[migration.module].setdefault(expected.key, expected)
    # Every file names every audited role: each object's privileges were read for all of them.
    return {name: ModuleSnapshot(name, objects, roles) for name, objects in per_module.items()}


# ---------------------------------------------------------------- NOTIFY channels, from the SQL

_NOTIFY_CALL = re.compile(r"pg_notify\s*\(\s*'([^']+)'", re.IGNORECASE)
_NOTIFY_STMT = re.compile(r"\bnotify\s+([A-Za-z_][A-Za-z0-9_$]*)", re.IGNORECASE)


class _Channels(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def visit_NotifyStmt(self, ancestors: Any, node: ast.NotifyStmt) -> None:
        self.found.add(str(node.conditionname))

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        name = node.funcname[-1].sval if node.funcname else ""
        if name == "pg_notify" and node.args and isinstance(node.args[0], ast.A_Const):
            value = node.args[0].val
            if isinstance(value, ast.String):
                self.found.add(str(value.sval))

    def visit_CreateFunctionStmt(self, ancestors: Any, node: ast.CreateFunctionStmt) -> None:
        for option in node.options or ():
            if option.defname == "as":
                for part in option.arg or ():
                    body = getattr(part, "sval", "") or ""
                    self.found.update(_NOTIFY_CALL.findall(body))
                    self.found.update(m for m in _NOTIFY_STMT.findall(body) if m.lower() not in ("of",))


def notify_channels(project: Project) -> Iterator[tuple[Migration, str]]:
    """(migration, channel) for every NOTIFY / pg_notify('literal', …) in the SQL, in plan order."""
    for migration in project.plan:
        visitor = _Channels()
        try:
            visitor(pglast.parse_sql(migration.expanded().text))
        except pglast.parser.ParseError:
            continue  # lint reports unparsable SQL (DBK000)
        for channel in sorted(visitor.found):
            yield migration, channel


# ---------------------------------------------------------------- writing and staleness


def load_all(project: Project) -> tuple[dict[str, Expected], tuple[str, ...]]:
    """Every module's committed objects, and the audited roles."""
    objects: dict[str, Expected] = {}
    roles: set[str] = set()
    for module in project.modules:
        snap = load(project, module.name)
        if snap is not None:
            objects.update(snap.objects)
            roles.update(snap.audit_roles)
    return objects, tuple(sorted(roles))


def unexplained(expected: dict[str, Expected], before: set[str], live: inspect.Catalog) -> list[str]:
    """On a database where the whole plan was just applied: what the committed snapshots do not say.

    ``before`` are the keys that existed before the first migration. Attribution is not
    compared here (``stale`` does that); every object and attribute is.
    """
    problems = []
    for key, obj in sorted(live.objects.items()):
        if key in before or obj.kind == "role":
            continue
        want = expected.get(key)
        have = {k: v for k, v in obj.attrs.items() if k not in UNPORTABLE}
        if want is None:
            problems.append(f"{key} is in no catalog.json")
        elif want.attrs != have:
            changed = sorted(k for k in set(have) | set(want.attrs) if have.get(k) != want.attrs.get(k))
            problems.append(f"{key} differs from its catalog.json ({', '.join(changed)})")
    for key, want in sorted(expected.items()):
        if want.kind in ("channel", "role") or (want.kind == "cron_job" and not live.cron_installed):
            continue
        if key not in live.objects:
            problems.append(f"{key} is in a catalog.json but applying the SQL does not create it")
    return problems



def stale(project: Project, generated: Generated) -> list[str]:
    """Project-relative paths whose committed content differs from ``generated``."""
    out = []
    for name, snap in generated.snapshots.items():
        path = snapshot_path(project, name)
        text = _merged(project, snap, keep_cron=not generated.cron).render()
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(project.settings.relative(path))
    return out


def write(project: Project, generated: Generated) -> list[str]:
    """Write every module's file; returns the paths that changed."""
    changed = stale(project, generated)
    for name, snap in generated.snapshots.items():
        text = _merged(project, snap, keep_cron=not generated.cron).render()
        snapshot_path(project, name).write_text(text, encoding="utf-8")
    return changed


def _merged(project: Project, snap: ModuleSnapshot, *, keep_cron: bool) -> ModuleSnapshot:
    """Without pg_cron on the generating server, keep the committed file's cron jobs."""
    if not keep_cron:
        return snap
    old = load(project, snap.module)
    if old is None:
        return snap
    objects = dict(snap.objects)
    objects.update({k: v for k, v in old.objects.items() if v.kind == "cron_job"})
    return ModuleSnapshot(snap.module, objects, snap.audit_roles)


__all__ = ["Expected", "Generated", "ModuleSnapshot", "SNAPSHOT_FILE", "generate", "load", "stale", "write", "notify_channels"]
