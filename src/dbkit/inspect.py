"""One model of the catalog: every user object by name (never by OID), with normalised attributes.

``read`` returns a ``Catalog``: a mapping ``"<kind> <name>" -> DbObject``. Every
reader of the catalog uses it: ``verify`` (live against the committed snapshot, drift,
the privileges audit), ``snapshot`` (what applying the SQL produces), ``roundtrip``
(before/after a migration and its rollback) and ``ci`` (nothing left after
``rollback --all``). Engine and lint code can ask it for ``user_tables`` and
``plpgsql_functions``.

Kinds and their names:

==============  =============================  =============================================
kind            name                           attributes
==============  =============================  =============================================
schema          ``s``                          owner, comment, privileges.<role>
table           ``s.t``                        relkind, rls, force_rls, persistence, options,
                                               definition (views), owner, comment,
                                               privileges.<role>
sequence        ``s.q``                        type, start, increment, owned_by, owner, privileges
column          ``s.t.c``                      type, category, not_null, default, identity,
                                               generated, collation, comment, privileges.<role>
index           ``s.i``                        table, definition, unique, columns, predicate, comment
constraint      ``s.t.c``                      table, type, definition, columns, deferrable, comment
policy          ``s.t.p``                      table, command, roles, permissive, using, with_check
function        ``s.f(argtypes)``              returns, arguments, language, volatility, strict,
                                               security, leakproof, parallel, config, body,
                                               owner, comment, privileges.<role>
trigger         ``s.t.g``                      table, definition, enabled, comment
rule            ``s.t.r``                      definition
type            ``s.ty``                       typtype, base, labels, owner, comment
event_trigger   ``name``                       event, function, enabled, tags
extension       ``name``                       schema
default_acl     ``role schema objtype``        privileges.<role>
cron_job        ``jobname``                    schedule, command (where pg_cron's cron.job exists)
role            ``name``                       bypassrls, login, inherit (only with ``roles=True``)
==============  =============================  =============================================

Expressions (index definitions, constraint and policy expressions, column defaults,
trigger definitions, view definitions) are normalised through PostgreSQL's own parser
(pglast) so that whitespace, redundant parentheses and the ``USING btree`` default
compare equal across PostgreSQL 14–18. ``privileges.<role>`` is the *effective*
privilege (``has_*_privilege``, so PUBLIC and inherited grants count) of every audited
role, plus the literal grants to PUBLIC; the owner is never listed.

Callers run ``read`` inside any transaction; it sets ``search_path`` to empty for the
transaction so every deparsed name is schema-qualified, and only reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pglast
import psycopg
from pglast.stream import RawStream

from dbkit.config import TRACKING_SCHEMA

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", TRACKING_SCHEMA)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
SCHEMA_PRIVILEGES = ("USAGE", "CREATE")
PRIVILEGE_PREFIX = "privileges."
PUBLIC = "public"


class Named:
    """What every catalog object has: a kind, a name, attributes (mixin for DbObject and snapshot.Expected)."""

    kind: str
    name: str
    attrs: Mapping[str, str]

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    def privileges(self) -> dict[str, str]:
        """role -> comma-separated privileges (effective; "public" for PUBLIC)."""
        return {k[len(PRIVILEGE_PREFIX):]: v for k, v in self.attrs.items() if k.startswith(PRIVILEGE_PREFIX)}


@dataclass(frozen=True)
class DbObject(Named):
    kind: str
    name: str
    attrs: Mapping[str, str]
    table: str | None = None  # the table a column/index/constraint/policy/trigger belongs to

    def describe(self, *, skip: Iterable[str] = ()) -> str:
        """One line, attributes in name order: for round-trip and leftover messages."""
        skipped = set(skip)
        return " ".join(f"{k}={v}" for k, v in sorted(self.attrs.items()) if k not in skipped)


@dataclass(frozen=True)
class Catalog:
    objects: dict[str, DbObject] = field(default_factory=dict)
    cron_installed: bool = False  # pg_cron's cron.job exists and is readable (its jobs are kind cron_job)

    def of_kind(self, *kinds: str) -> list[DbObject]:
        return [o for o in self.objects.values() if o.kind in kinds]

    def get(self, key: str) -> DbObject | None:
        return self.objects.get(key)

    def flat(self, *, skip: Iterable[str] = ()) -> dict[str, str]:
        """``key -> describe()``: what two catalogs are compared by in round-trips."""
        skipped = tuple(skip)
        return {k: o.describe(skip=skipped) for k, o in sorted(self.objects.items())}


# ---------------------------------------------------------------- normalising deparsed SQL

_WS = re.compile(r"\s+")


def squash(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


@functools.lru_cache(maxsize=8192)
def normalise_sql(text: str) -> str:
    """A statement through pglast's parser and deparser; whitespace-collapsed text when it does not parse."""
    try:
        return str(RawStream()(pglast.parse_sql(text)))
    except Exception:  # pglast raises ParseError and, on deparse gaps, others  # noqa: BLE001
        return squash(text)


def normalise_expr(text: str | None) -> str:
    """A scalar expression (policy qual, column default, CHECK body) through pglast."""
    if text is None or not text.strip():
        return ""
    deparsed = normalise_sql(f"SELECT {text}")
    return deparsed[len("SELECT "):] if deparsed.startswith("SELECT ") else deparsed


def normalise_constraint(definition: str) -> str:
    """``pg_get_constraintdef`` text; CHECK bodies go through pglast."""
    match = re.match(r"^CHECK \((?P<expr>.*)\)(?P<rest>( NOT VALID| NO INHERIT)*)$", definition.strip(), re.S)
    if match:
        return f"CHECK ({normalise_expr(match['expr'])}){match['rest']}"
    return squash(definition)


# ---------------------------------------------------------------- queries

_USER_NS = f"""n.nspname not in ({", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)})
   and n.nspname not like 'pg\\_temp\\_%%' and n.nspname not like 'pg\\_toast\\_temp\\_%%'
   and (%(schemas)s::text[] is null or n.nspname = any(%(schemas)s::text[]))"""


def _not_member(classid: str, oid: str) -> str:
    return (f"not exists (select 1 from pg_catalog.pg_depend d where d.classid = '{classid}'::pg_catalog.regclass "
            f"and d.objid = {oid} and d.deptype = 'e')")


def _literal_grantees(acl: str, owner: str) -> str:
    return (f"select a.grantee from pg_catalog.aclexplode({acl}) a "
            f"where a.grantee <> 0 and a.grantee <> {owner}")


def _privileges(acl: str, owner: str, kind: str, check: str, privs: Sequence[str]) -> str:
    """A json object role -> privileges: audited roles' effective ones, plus PUBLIC's literal ones."""
    names = ", ".join(f"'{p}'" for p in privs)
    return f"""(select coalesce(jsonb_object_agg(g.name, g.privs), '{{}}'::jsonb) from (
          select r.rolname::text as name,
                 array_to_string(array(select priv from unnest(array[{names}]) priv
                                        where {check.format(role='r.oid')} order by 1), ', ') as privs
            from pg_catalog.pg_roles r
           where not r.rolsuper and r.oid <> {owner}
             and (r.rolname = any(%(roles)s::text[]) or r.oid in ({_literal_grantees(f"coalesce({acl}, pg_catalog.acldefault('{kind}', {owner}))", owner)}))
          union all
          select 'public', array_to_string(array(select distinct a.privilege_type
                   from pg_catalog.aclexplode(coalesce({acl}, pg_catalog.acldefault('{kind}', {owner}))) a
                  where a.grantee = 0 order by 1), ', ')
        ) g where g.privs <> '')"""


_SCHEMAS = f"""
select n.nspname as name, pg_catalog.pg_get_userbyid(n.nspowner) as owner,
       pg_catalog.obj_description(n.oid, 'pg_namespace') as comment,
       {_privileges('n.nspacl', 'n.nspowner', 'n', "pg_catalog.has_schema_privilege({role}, n.oid, priv)", SCHEMA_PRIVILEGES)} as privileges
  from pg_catalog.pg_namespace n
 where {_USER_NS} and {_not_member('pg_catalog.pg_namespace', 'n.oid')}
"""

_RELATIONS = f"""
select format('%%I.%%I', n.nspname, c.relname) as name, c.relkind::text as relkind,
       c.relrowsecurity as rls, c.relforcerowsecurity as force_rls, c.relpersistence::text as persistence,
       array_to_string(c.reloptions, ',') as options,
       case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid) end as definition,
       pg_catalog.pg_get_userbyid(c.relowner) as owner, pg_catalog.obj_description(c.oid, 'pg_class') as comment,
       case when c.relkind = 'S' then
         {_privileges('c.relacl', 'c.relowner', 's', "pg_catalog.has_sequence_privilege({role}, c.oid, priv)", SEQUENCE_PRIVILEGES)}
       else
         {_privileges('c.relacl', 'c.relowner', 'r', "pg_catalog.has_table_privilege({role}, c.oid, priv)", TABLE_PRIVILEGES)}
       end as privileges,
       s.seqtypid::pg_catalog.regtype::text as seqtype, s.seqstart::text as seqstart,
       s.seqincrement::text as seqincrement,
       (select format('%%I.%%I.%%I', tn.nspname, t.relname, a.attname)
          from pg_catalog.pg_depend d join pg_catalog.pg_class t on t.oid = d.refobjid
          join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
          join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
         where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid
           and d.deptype in ('a', 'i') and c.relkind = 'S' limit 1) as owned_by
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_sequence s on s.seqrelid = c.oid
 where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and {_USER_NS}
   and {_not_member('pg_catalog.pg_class', 'c.oid')}
"""

_COLUMNS = f"""
select format('%%I.%%I', n.nspname, c.relname) as tbl, a.attname as col,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type, t.typcategory::text as category,
       a.attnotnull as not_null, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) as "default",
       a.attidentity::text as identity, a.attgenerated::text as generated,
       case when a.attcollation <> t.typcollation then a.attcollation::pg_catalog.regcollation::text end as collation,
       pg_catalog.col_description(c.oid, a.attnum) as comment,
       (select coalesce(jsonb_object_agg(g.name, g.privs), '{{}}'::jsonb) from (
            select case when e.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(e.grantee) end as name,
                   string_agg(distinct e.privilege_type, ', ' order by e.privilege_type) as privs
              from pg_catalog.aclexplode(a.attacl) e where e.grantee <> c.relowner group by 1) g) as privileges
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_type t on t.oid = a.atttypid
  left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
 where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'f') and {_USER_NS}
   and {_not_member('pg_catalog.pg_class', 'c.oid')}
"""

_INDEXES = f"""
select format('%%I.%%I', n.nspname, c.relname) as name, format('%%I.%%I', n.nspname, t.relname) as tbl,
       pg_catalog.pg_get_indexdef(c.oid) as definition, i.indisunique as "unique",
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) as predicate,
       array_to_string(array(select pg_catalog.pg_get_indexdef(c.oid, k, true)
                               from generate_series(1, i.indnkeyatts) k order by k), ',') as columns,
       pg_catalog.obj_description(c.oid, 'pg_class') as comment
  from pg_catalog.pg_index i
  join pg_catalog.pg_class c on c.oid = i.indexrelid
  join pg_catalog.pg_class t on t.oid = i.indrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where {_USER_NS} and {_not_member('pg_catalog.pg_class', 'i.indrelid')}
"""

_CONSTRAINTS = f"""
select format('%%I.%%I.%%I', n.nspname, coalesce(c.relname, tp.typname), k.conname) as name,
       format('%%I.%%I', n.nspname, coalesce(c.relname, tp.typname)) as tbl, k.contype::text as contype,
       pg_catalog.pg_get_constraintdef(k.oid) as definition, k.condeferrable as deferrable,
       k.condeferred as deferred,
       array_to_string(array(select a.attname from unnest(k.conkey) with ordinality u(num, ord)
                               join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.num
                              order by u.ord), ',') as columns,
       pg_catalog.obj_description(k.oid, 'pg_constraint') as comment
  from pg_catalog.pg_constraint k
  join pg_catalog.pg_namespace n on n.oid = k.connamespace
  left join pg_catalog.pg_class c on c.oid = k.conrelid
  left join pg_catalog.pg_type tp on tp.oid = k.contypid
 where k.contype in ('p', 'u', 'c', 'f', 'x') and {_USER_NS}
   and (k.conrelid = 0 or {_not_member('pg_catalog.pg_class', 'k.conrelid')})
"""

_POLICIES = f"""
select format('%%I.%%I.%%I', n.nspname, c.relname, p.polname) as name, format('%%I.%%I', n.nspname, c.relname) as tbl,
       pp.cmd as command, array_to_string(array(select unnest(pp.roles)::text order by 1), ', ') as roles,
       pp.permissive = 'PERMISSIVE' as permissive, pp.qual as using, pp.with_check as with_check,
       pg_catalog.obj_description(p.oid, 'pg_policy') as comment
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_policies pp on pp.schemaname = n.nspname and pp.tablename = c.relname and pp.policyname = p.polname
 where {_USER_NS}
"""

_FUNCTIONS = f"""
select p.oid::pg_catalog.regprocedure::text as name, p.prokind::text as prokind,
       pg_catalog.pg_get_function_result(p.oid) as returns, pg_catalog.pg_get_function_arguments(p.oid) as arguments,
       l.lanname as language, p.provolatile::text as volatility, p.proisstrict as strict, p.prosecdef as secdef,
       p.proleakproof as leakproof, p.proparallel::text as parallel,
       array_to_string(array(select unnest(p.proconfig) order by 1), ', ') as config,
       p.prosrc as body, pg_catalog.pg_get_userbyid(p.proowner) as owner,
       pg_catalog.obj_description(p.oid, 'pg_proc') as comment,
       {_privileges('p.proacl', 'p.proowner', 'f', "pg_catalog.has_function_privilege({role}, p.oid, 'EXECUTE')", ('EXECUTE',))} as privileges
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_language l on l.oid = p.prolang
 where {_USER_NS} and {_not_member('pg_catalog.pg_proc', 'p.oid')}
"""

_TRIGGERS = f"""
select format('%%I.%%I.%%I', n.nspname, c.relname, t.tgname) as name, format('%%I.%%I', n.nspname, c.relname) as tbl,
       pg_catalog.pg_get_triggerdef(t.oid) as definition, t.tgenabled::text as enabled,
       pg_catalog.obj_description(t.oid, 'pg_trigger') as comment
  from pg_catalog.pg_trigger t
  join pg_catalog.pg_class c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where not t.tgisinternal and {_USER_NS} and {_not_member('pg_catalog.pg_class', 'c.oid')}
"""

_RULES = f"""
select format('%%I.%%I.%%I', r.schemaname, r.tablename, r.rulename) as name,
       format('%%I.%%I', r.schemaname, r.tablename) as tbl, r.definition
  from pg_catalog.pg_rules r join pg_catalog.pg_namespace n on n.nspname = r.schemaname
 where {_USER_NS}
"""

_TYPES = f"""
select t.oid::pg_catalog.regtype::text as name, t.typtype::text as typtype,
       case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end as base,
       (select string_agg(e.enumlabel, ',' order by e.enumsortorder)
          from pg_catalog.pg_enum e where e.enumtypid = t.oid) as labels,
       pg_catalog.pg_get_userbyid(t.typowner) as owner, pg_catalog.obj_description(t.oid, 'pg_type') as comment
  from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
 where (t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'c' and exists (
           select 1 from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
   and {_USER_NS} and {_not_member('pg_catalog.pg_type', 't.oid')}
"""

_EVENT_TRIGGERS = """
select e.evtname as name, e.evtevent as event, e.evtfoid::pg_catalog.regprocedure::text as function,
       e.evtenabled::text as enabled, array_to_string(e.evttags, ',') as tags
  from pg_catalog.pg_event_trigger e
"""

_EXTENSIONS = """
select e.extname as name, e.extnamespace::pg_catalog.regnamespace::text as schema
  from pg_catalog.pg_extension e where e.extname <> 'plpgsql'
"""

_DEFAULT_ACLS = """
select concat_ws(' ', pg_catalog.pg_get_userbyid(d.defaclrole), coalesce(d.defaclnamespace::pg_catalog.regnamespace::text, '*'),
                 d.defaclobjtype::text) as name,
       (select coalesce(jsonb_object_agg(g.name, g.privs), '{}'::jsonb) from (
            select case when e.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(e.grantee) end as name,
                   string_agg(distinct e.privilege_type, ', ' order by e.privilege_type) as privs
              from pg_catalog.aclexplode(d.defaclacl) e where e.grantee <> d.defaclrole group by 1) g) as privileges
  from pg_catalog.pg_default_acl d
"""

_ROLES = """
select r.rolname as name, r.rolbypassrls as bypassrls, r.rolcanlogin as login, r.rolinherit as inherit
  from pg_catalog.pg_roles r where r.rolname = any(%(roles)s::text[])
"""

_CRON = "select jobname as name, schedule, command from cron.job where jobname is not null"

_CONTYPE = {"p": "primary", "u": "unique", "c": "check", "f": "foreign", "x": "exclude"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}
_ENABLED = {"O": "origin", "D": "disabled", "R": "replica", "A": "always"}
_IDENTITY = {"a": "always", "d": "by default"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attrs(values: Mapping[str, Any], privileges: Mapping[str, str] | None = None) -> dict[str, str]:
    out = {k: _text(v) for k, v in values.items() if _text(v) != ""}
    for role, privs in (privileges or {}).items():
        if privs:
            out[PRIVILEGE_PREFIX + role] = privs
    return out


def _rows(cur: psycopg.Cursor[Any], query: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    cur.execute(query, params)
    names = [d.name for d in cur.description or ()]
    for row in cur.fetchall():
        yield dict(zip(names, row))


# ---------------------------------------------------------------- one reader per kind


def _schemas(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _SCHEMAS, p):
        yield DbObject("schema", r["name"], _attrs({"owner": r["owner"], "comment": r["comment"]}, r["privileges"]))


def _relations(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _RELATIONS, p):
        common = {"owner": r["owner"], "comment": r["comment"]}
        if r["relkind"] == "S":
            yield DbObject("sequence", r["name"], _attrs({
                **common, "type": r["seqtype"], "start": r["seqstart"], "increment": r["seqincrement"],
                "owned_by": r["owned_by"]}, r["privileges"]))
            continue
        definition = normalise_sql(r["definition"].rstrip().rstrip(";")) if r["definition"] else None
        yield DbObject("table", r["name"], _attrs({
            **common, "relkind": r["relkind"], "rls": r["rls"], "force_rls": r["force_rls"],
            "persistence": r["persistence"], "options": r["options"], "definition": definition}, r["privileges"]))


def _columns(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _COLUMNS, p):
        generated = normalise_expr(r["default"]) if r["generated"] else ""
        default = "" if r["generated"] else normalise_expr(r["default"])
        yield DbObject("column", f"{r['tbl']}.{quote_ident(r['col'])}", _attrs({
            "type": r["type"], "category": r["category"], "not_null": r["not_null"], "default": default,
            "identity": _IDENTITY.get(r["identity"] or "", ""), "generated": generated,
            "collation": r["collation"], "comment": r["comment"]}, r["privileges"]), table=r["tbl"])


def _indexes(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _INDEXES, p):
        yield DbObject("index", r["name"], _attrs({
            "table": r["tbl"], "definition": normalise_sql(r["definition"]), "unique": r["unique"],
            "columns": r["columns"], "predicate": normalise_expr(r["predicate"]), "comment": r["comment"]}),
            table=r["tbl"])


def _constraints(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _CONSTRAINTS, p):
        yield DbObject("constraint", r["name"], _attrs({
            "table": r["tbl"], "type": _CONTYPE[r["contype"]], "definition": normalise_constraint(r["definition"]),
            "columns": r["columns"], "deferrable": "deferred" if r["deferred"] else r["deferrable"] or "",
            "comment": r["comment"]}), table=r["tbl"])


def _policies(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _POLICIES, p):
        yield DbObject("policy", r["name"], _attrs({
            "table": r["tbl"], "command": r["command"], "roles": r["roles"], "permissive": r["permissive"],
            "using": normalise_expr(r["using"]), "with_check": normalise_expr(r["with_check"]),
            "comment": r["comment"]}), table=r["tbl"])


def _functions(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _FUNCTIONS, p):
        yield DbObject("function", r["name"], _attrs({
            "kind": {"f": "", "p": "procedure", "a": "aggregate", "w": "window"}[r["prokind"]],
            "returns": r["returns"], "arguments": r["arguments"], "language": r["language"],
            "volatility": _VOLATILITY[r["volatility"]], "strict": r["strict"],
            "security": "definer" if r["secdef"] else "invoker", "leakproof": r["leakproof"],
            "parallel": _PARALLEL[r["parallel"]], "config": r["config"], "body": squash(r["body"]),
            "owner": r["owner"], "comment": r["comment"]}, r["privileges"]))


def _triggers(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _TRIGGERS, p):
        yield DbObject("trigger", r["name"], _attrs({
            "table": r["tbl"], "definition": normalise_sql(r["definition"]), "enabled": _ENABLED[r["enabled"]],
            "comment": r["comment"]}), table=r["tbl"])


def _rules(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _RULES, p):
        yield DbObject("rule", r["name"], _attrs({"definition": normalise_sql(r["definition"].rstrip().rstrip(";"))}),
                       table=r["tbl"])


def _types(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _TYPES, p):
        yield DbObject("type", r["name"], _attrs({k: r[k] for k in ("typtype", "base", "labels", "owner", "comment")}))


def _cluster_wide(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _EVENT_TRIGGERS, p):
        yield DbObject("event_trigger", r["name"], _attrs({k: r[k] for k in ("event", "function", "enabled", "tags")}))
    for r in _rows(cur, _EXTENSIONS, p):
        yield DbObject("extension", r["name"], _attrs({"schema": r["schema"]}))
    for r in _rows(cur, _DEFAULT_ACLS, p):
        yield DbObject("default_acl", r["name"], _attrs({}, r["privileges"]))


_CRON_READABLE = ("select pg_catalog.to_regclass('cron.job') is not null "
                  "and pg_catalog.has_table_privilege('cron.job', 'SELECT')")


def _cron(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    present = cur.execute(_CRON_READABLE).fetchone()
    if present and present[0]:
        for r in _rows(cur, _CRON, p):
            yield DbObject("cron_job", r["name"], _attrs({"schedule": r["schedule"], "command": squash(r["command"])}))


def _roles(cur: psycopg.Cursor[Any], p: Mapping[str, Any]) -> Iterator[DbObject]:
    for r in _rows(cur, _ROLES, p):
        yield DbObject("role", r["name"], _attrs({k: r[k] for k in ("bypassrls", "login", "inherit")}))


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL prints it: bare when it may be, double-quoted otherwise."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


_READERS = (_schemas, _relations, _columns, _indexes, _constraints, _policies, _functions, _triggers, _rules,
            _types, _cluster_wide, _cron)


def read(conn: psycopg.Connection[Any], *, schemas: Sequence[str] | None = None,
         roles: Sequence[str] = (), with_roles: bool = False) -> Catalog:
    """Every user object (of ``schemas``, or of every user schema). Only reads.

    ``roles`` are audited in ``privileges.<role>`` of every object (besides the roles
    with a literal grant); ``with_roles`` also reads those roles' attributes.
    """
    params = {"schemas": list(schemas) if schemas is not None else None, "roles": list(roles)}
    objects: dict[str, DbObject] = {}
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("select pg_catalog.set_config('search_path', '', true)")
        readers = _READERS + ((_roles,) if with_roles else ())
        for reader in readers:
            for obj in reader(cur, params):
                objects[obj.key] = obj
        row = cur.execute(_CRON_READABLE).fetchone()
    return Catalog(objects, bool(row and row[0]))


def login_roles(conn: psycopg.Connection[Any]) -> tuple[str, ...]:
    """Roles that can log in, and so LISTEN to any channel (LISTEN needs no privilege)."""
    rows = conn.execute("select rolname::text from pg_catalog.pg_roles where rolcanlogin order by 1").fetchall()
    return tuple(r[0] for r in rows)


# ---------------------------------------------------------------- small questions other modules ask


USER_TABLES = f"""
    select c.oid::bigint, format('%I.%I', n.nspname, c.relname)
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ({", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)})
       and n.nspname not like 'pg\\_temp\\_%' and {_not_member('pg_catalog.pg_class', 'c.oid')}
"""
"""Every user table (oid, qualified name), extension members and dbkit's schema excluded: for
the engine's data-loss probe and the round-trip row counts."""


def user_tables(conn: psycopg.Connection[Any]) -> dict[int, str]:
    return {int(oid): name for oid, name in conn.execute(USER_TABLES).fetchall()}


def audit_roles(catalog: Catalog) -> tuple[str, ...]:
    """Roles whose privileges a catalog states: every grantee (PUBLIC aside) and every policy role."""
    found: set[str] = set()
    for obj in catalog.objects.values():
        found.update(r for r in obj.privileges() if r != PUBLIC)
        if obj.kind == "policy":
            found.update(r.strip() for r in obj.attrs.get("roles", "").split(",") if r.strip() and r.strip() != PUBLIC)
    return tuple(sorted(found))


__all__ = ["Catalog", "DbObject", "read", "normalise_sql", "normalise_expr", "user_tables", "audit_roles",
           "TABLE_PRIVILEGES", "SEQUENCE_PRIVILEGES", "SCHEMA_PRIVILEGES", "PUBLIC"]
