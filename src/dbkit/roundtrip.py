"""Revert round-trip: prove each migration's rollback restores the catalog exactly.

For every migration N, in plan order, on a database where nothing of the project is
applied yet: apply what N depends on, snapshot the catalog, apply N, roll N back,
snapshot again, and compare. Then N is applied again (which also proves that a
migration applies cleanly after its own rollback) and the next one is tried.

The snapshot describes every object by name, never by OID, so a dropped and
re-created object compares equal: schemas, tables/views/sequences (kind, owner, RLS
flags, options, privileges, row count), columns, indexes, constraints, policies,
functions (full definition and privileges), triggers, rules, types, extensions,
event triggers, default privileges and comments. Roles are cluster-wide and kept by
design on rollback, so they are left out; grants to them are in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from dbkit import engine
from dbkit.config import TRACKING_SCHEMA, DatabaseTarget, Settings
from dbkit.ephemeral import throwaway_database
from dbkit.errors import DbkitError, InputError
from dbkit.project import Migration, Project, load_project

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# ---------------------------------------------------------------- the snapshot

_SYSTEM = ("pg_catalog", "information_schema", "pg_toast", TRACKING_SCHEMA)
_USER_NS = f"""n.nspname not in ({", ".join(f"'{s}'" for s in _SYSTEM)})
   and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'"""


def _not_extension(classid: str, oid: str) -> str:
    return (f"not exists (select 1 from pg_catalog.pg_depend d where d.classid = '{classid}'::pg_catalog.regclass "
            f"and d.objid = {oid} and d.deptype = 'e')")


# NULL means the default privileges: compare it as what it means, sorted, so that a
# grant followed by its revoke (which leaves an explicit owner-only ACL) compares equal.
_ACL = ("array_to_string(array(select unnest(coalesce({acl}, pg_catalog.acldefault({kind}, {owner})))::text "
        "order by 1), ',')")

_SCHEMA_ACL = _ACL.format(acl="n.nspacl", kind="'n'", owner="n.nspowner")
_RELATION_ACL = _ACL.format(acl="c.relacl", kind="(case when c.relkind = 'S' then 's' else 'r' end)::\"char\"",
                            owner="c.relowner")
_FUNCTION_ACL = _ACL.format(acl="p.proacl", kind="'f'", owner="p.proowner")
_TYPE_ACL = _ACL.format(acl="t.typacl", kind="'T'", owner="t.typowner")

_QUERIES: dict[str, str] = {
    "schema": f"""
        select n.nspname, 'owner=' || pg_catalog.pg_get_userbyid(n.nspowner) || ' acl='
               || {_SCHEMA_ACL}
          from pg_catalog.pg_namespace n
         where {_USER_NS} and {_not_extension('pg_catalog.pg_namespace', 'n.oid')}""",
    "relation": f"""
        select format('%I.%I', n.nspname, c.relname),
               concat_ws(' ', 'kind=' || c.relkind::text, 'persistence=' || c.relpersistence::text,
                         'owner=' || pg_catalog.pg_get_userbyid(c.relowner),
                         'rls=' || c.relrowsecurity::text, 'force_rls=' || c.relforcerowsecurity::text,
                         'options=' || coalesce(array_to_string(c.reloptions, ','), ''),
                         'acl=' || {_RELATION_ACL},
                         case when c.relkind in ('v', 'm') then 'definition=' || pg_catalog.pg_get_viewdef(c.oid) end)
          from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and {_USER_NS}
           and {_not_extension('pg_catalog.pg_class', 'c.oid')}""",
    "column": f"""
        select format('%I.%I.%I', n.nspname, c.relname, a.attname),
               concat_ws(' ', 'position=' || a.attnum::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                         case when a.attnotnull then 'not null' end,
                         'default=' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
                         case when a.attidentity <> '' then 'identity=' || a.attidentity::text end,
                         case when a.attgenerated <> '' then 'generated=' || a.attgenerated::text end,
                         case when a.attcollation <> t.typcollation then 'collation=' || a.attcollation::regcollation::text end,
                         'acl=' || coalesce(array_to_string(array(select unnest(a.attacl)::text order by 1), ','), ''))
          from pg_catalog.pg_attribute a
          join pg_catalog.pg_class c on c.oid = a.attrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          join pg_catalog.pg_type t on t.oid = a.atttypid
          left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
         where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'f') and {_USER_NS}
           and {_not_extension('pg_catalog.pg_class', 'c.oid')}""",
    "index": f"""
        select format('%I.%I', n.nspname, c.relname), pg_catalog.pg_get_indexdef(c.oid)
          from pg_catalog.pg_index i
          join pg_catalog.pg_class c on c.oid = i.indexrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where {_USER_NS} and {_not_extension('pg_catalog.pg_class', 'i.indrelid')}""",
    "constraint": f"""
        select format('%I.%I.%I', n.nspname, coalesce(c.relname, tp.typname), k.conname),
               concat_ws(' ', k.contype, pg_catalog.pg_get_constraintdef(k.oid),
                         case when k.condeferrable then 'deferrable' end,
                         case when k.condeferred then 'initially deferred' end)
          from pg_catalog.pg_constraint k
          join pg_catalog.pg_namespace n on n.oid = k.connamespace
          left join pg_catalog.pg_class c on c.oid = k.conrelid
          left join pg_catalog.pg_type tp on tp.oid = k.contypid
         where {_USER_NS} and {_not_extension('pg_catalog.pg_class', 'k.conrelid')}""",
    "policy": f"""
        select format('%I.%I.%I', p.schemaname, p.tablename, p.policyname),
               concat_ws(' ', p.permissive, p.cmd, 'to=' || array_to_string(array(select unnest(p.roles) order by 1), ','),
                         'using=' || p.qual, 'with_check=' || p.with_check)
          from pg_catalog.pg_policies p join pg_catalog.pg_namespace n on n.nspname = p.schemaname
         where {_USER_NS}""",
    "function": f"""
        select p.oid::pg_catalog.regprocedure::text,
               concat_ws(' ', 'owner=' || pg_catalog.pg_get_userbyid(p.proowner),
                         'acl=' || {_FUNCTION_ACL},
                         case when p.prokind in ('f', 'p') then pg_catalog.pg_get_functiondef(p.oid)
                              else 'kind=' || p.prokind::text end)
          from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where {_USER_NS} and {_not_extension('pg_catalog.pg_proc', 'p.oid')}""",
    "trigger": f"""
        select format('%I.%I.%I', n.nspname, c.relname, t.tgname),
               pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
          from pg_catalog.pg_trigger t
          join pg_catalog.pg_class c on c.oid = t.tgrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where not t.tgisinternal and {_USER_NS}""",
    "rule": f"""
        select format('%I.%I.%I', r.schemaname, r.tablename, r.rulename), r.definition
          from pg_catalog.pg_rules r join pg_catalog.pg_namespace n on n.nspname = r.schemaname
         where {_USER_NS}""",
    "type": f"""
        select t.oid::pg_catalog.regtype::text,
               concat_ws(' ', 'kind=' || t.typtype::text, 'owner=' || pg_catalog.pg_get_userbyid(t.typowner),
                         'acl=' || {_TYPE_ACL},
                         'base=' || case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end,
                         'labels=' || (select string_agg(e.enumlabel, ',' order by e.enumsortorder)
                                         from pg_catalog.pg_enum e where e.enumtypid = t.oid))
          from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
         where (t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'c' and exists (
                   select 1 from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
           and {_USER_NS} and {_not_extension('pg_catalog.pg_type', 't.oid')}""",
    "extension": """
        select e.extname, e.extversion || ' schema=' || e.extnamespace::regnamespace::text
          from pg_catalog.pg_extension e""",
    "event_trigger": """
        select e.evtname, concat_ws(' ', e.evtevent, e.evtfoid::regprocedure::text, e.evtenabled,
                                    array_to_string(e.evttags, ','))
          from pg_catalog.pg_event_trigger e""",
    "default_acl": """
        select concat_ws(' ', pg_catalog.pg_get_userbyid(d.defaclrole), d.defaclnamespace::regnamespace::text,
                         d.defaclobjtype),
               array_to_string(array(select unnest(d.defaclacl)::text order by 1), ',')
          from pg_catalog.pg_default_acl d""",
    "comment": f"""
        select pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
          from pg_catalog.pg_description d
         where d.objoid >= 16384
           and pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) not like '% {TRACKING_SCHEMA}.%'""",
}

_TABLES = f"""
    select format('%I.%I', n.nspname, c.relname)
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and {_USER_NS} and {_not_extension('pg_catalog.pg_class', 'c.oid')}
"""


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Every user object of the database as ``"<kind> <name>" -> description``.

    Runs in a read-only transaction with an empty search_path, so every name in the
    deparsed definitions is schema-qualified and the text is comparable.
    """
    objects: dict[str, str] = {}
    with conn.transaction(force_rollback=True):
        conn.execute("set transaction read only")
        conn.execute("select pg_catalog.set_config('search_path', '', true)")
        for kind, query in _QUERIES.items():
            for name, description in conn.execute(query).fetchall():
                objects[f"{kind} {name}"] = " ".join(str(description or "").split())
        for (table,) in conn.execute(_TABLES).fetchall():
            row = conn.execute(sql.SQL("select count(*) from {}").format(sql.SQL(table))).fetchone()
            objects[f"rows {table}"] = str(row[0] if row else 0)
    return objects


# ---------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Difference:
    object: str  # "<kind> <name>"
    before: str | None  # None: the object is extra after the rollback
    after: str | None  # None: the rollback removed an object that existed before

    def describe(self) -> str:
        if self.before is None:
            return f"extra after rollback: {self.object}"
        if self.after is None:
            return f"missing after rollback: {self.object}"
        return f"changed by apply+rollback: {self.object}: before `{self.before}`, after `{self.after}`"


@dataclass(frozen=True)
class RoundTrip:
    migration: str
    module: str
    differences: tuple[Difference, ...] = ()
    error: str | None = None  # apply or rollback failed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences

    def describe(self) -> str:
        if self.ok:
            return f"{self.migration}: catalog identical after apply + rollback"
        problems = [d.describe() for d in self.differences]
        if self.error is not None:
            problems.append(self.error)
        return f"{self.migration}: " + "; ".join(problems)


def compare(before: dict[str, str], after: dict[str, str]) -> tuple[Difference, ...]:
    keys = sorted(set(before) | set(after))
    return tuple(Difference(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k))


# ---------------------------------------------------------------- running


def run_roundtrip(settings: Settings, *, module: str | None = None, progress: Progress = _quiet) -> tuple[RoundTrip, ...]:
    """Round-trip every migration (of ``module``, or all) on an empty database.

    Raises InputError when any migration of the project is already applied there: the
    check needs to apply each migration from the state just before it.
    """
    project = load_project(settings)
    targets = project.selected(module)
    target = settings.require_database()
    status = engine.status(settings)
    applied = [m.id for m in status.migrations("applied") + status.migrations("changed")]
    if applied:
        raise InputError(
            f"the round-trip needs a database where nothing of the project is applied; "
            f"{target.describe()} has {len(applied)} applied migration(s) ({applied[0]}, …)"
        )
    results: list[RoundTrip] = []
    done: set[str] = set()
    for migration in targets:
        progress(f"round-trip {migration.id}")
        results.append(_one(settings, project, migration, done))
    return tuple(results)


def _one(settings: Settings, project: Project, migration: Migration, done: set[str]) -> RoundTrip:
    target = settings.require_database()
    try:
        for dependency in project.closure({migration.id}):
            if dependency.id != migration.id and dependency.id not in done:
                engine.apply(settings, to=dependency.id)
                done.update(m.id for m in project.closure({dependency.id}))
        with engine.connect(target) as conn:
            before = snapshot(conn)
        engine.apply(settings, to=migration.id)
        engine.rollback(settings, module=migration.module, steps=1, force=True)
        with engine.connect(target) as conn:
            after = snapshot(conn)
    except DbkitError as exc:
        return RoundTrip(migration.id, migration.module, error=str(exc))
    differences = compare(before, after)
    try:
        engine.apply(settings, to=migration.id)  # forward again, for the migrations after it
        done.add(migration.id)
    except DbkitError as exc:
        return RoundTrip(migration.id, migration.module, differences,
                         error=f"applying it again after its rollback failed: {exc}")
    return RoundTrip(migration.id, migration.module, differences)


@contextmanager
def scratch_database(settings: Settings) -> Iterator[Settings]:
    """A fresh database beside ``settings``' database (same server), dropped afterwards."""
    target = settings.require_database()
    with throwaway_database(target.conninfo(), prefix="dbkit_roundtrip_") as name:
        yield replace(settings, database=DatabaseTarget(params={**target.params, "dbname": name},
                                                        password=target.password))


def ci_roundtrip(settings: Settings) -> tuple[bool, str]:
    """For ``dbkit ci --roundtrip``: every migration, in a scratch database on the CI server."""
    with scratch_database(settings) as scratch:
        results = run_roundtrip(scratch)
    failed = [r for r in results if not r.ok]
    if not failed:
        return True, f"{len(results)} migrations: catalog identical after each apply + rollback"
    shown = " | ".join(r.describe() for r in failed[:5])
    return False, f"{len(failed)} of {len(results)} migrations did not round-trip: {shown}"
