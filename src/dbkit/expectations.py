"""Load and validate ``migrations/<module>/expectations.toml`` (docs/authoring.md).

Validation is strict: an unknown key, a value of the wrong type or a malformed object
key is an ``InputError`` naming the file and the key, because an expectation that is
silently ignored is a check that silently never runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dbkit.errors import InputError

IDENTITIES = ("anon", "owner", "stranger", "service_role")
COMMANDS = ("select", "insert", "update", "delete")
CONSTRAINT_TYPES = {"primary": "p", "unique": "u", "check": "c", "foreign": "f", "exclude": "x"}
POLICY_COMMANDS = ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE")
VOLATILITIES = ("immutable", "stable", "volatile")
_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_ID = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@dataclass(frozen=True)
class TableExp:
    key: str  # schema.table
    source: str
    columns: tuple[tuple[str, str], ...]  # (name, "<type>[ not null][ default <expr>]")
    rls: bool | None
    force_rls: bool | None


@dataclass(frozen=True)
class IndexExp:
    key: str  # schema.index
    source: str
    definition: str


@dataclass(frozen=True)
class ConstraintExp:
    key: str  # schema.table.name
    source: str
    type: str  # primary | unique | check | foreign | exclude
    definition: str


@dataclass(frozen=True)
class PolicyExp:
    key: str  # schema.table.policy
    source: str
    command: str
    roles: tuple[str, ...]
    permissive: bool
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class FunctionExp:
    key: str  # schema.name(argtypes)
    source: str
    file: str | None
    returns: str | None
    language: str | None
    volatility: str | None
    security_definer: bool
    search_path: str | None
    execute: tuple[str, ...] | None


@dataclass(frozen=True)
class TriggerExp:
    key: str  # schema.table.trigger
    source: str
    definition: str


@dataclass(frozen=True)
class CronExp:
    key: str  # pg_cron job name
    source: str
    schedule: str
    command: str


@dataclass(frozen=True)
class RowsExp:
    id: str
    source: str
    query: str
    expect: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BehaviourExp:
    id: str
    source: str
    description: str
    setup: str | None
    sql: str
    role: str | None
    sub: str | None
    expect: tuple[tuple[str, ...], ...] | None
    expect_error: str | None
    expect_rowcount: int | None
    # Further SQLSTATEs that pass (``expect_error = ["23503", "23001"]``): a refusal whose
    # code differs between PostgreSQL versions (RESTRICT is 23001 from 18 on, 23503 before).
    also_accepted_errors: tuple[str, ...] = ()

    @property
    def accepted_errors(self) -> tuple[str, ...]:
        """Every SQLSTATE that passes; empty when the check expects no error."""
        return () if self.expect_error is None else (self.expect_error, *self.also_accepted_errors)


@dataclass(frozen=True)
class RlsExp:
    table: str  # schema.table
    source: str
    setup: str | None
    statements: tuple[tuple[str, str], ...]  # (command, sql) for the commands given
    allowed: tuple[tuple[str, tuple[str, ...]], ...]  # (identity, commands)

    def allowed_for(self, identity: str) -> tuple[str, ...]:
        return dict(self.allowed).get(identity, ())


@dataclass(frozen=True)
class PlanExp:
    id: str
    source: str
    setup: str | None
    query: str
    uses_index: str


@dataclass(frozen=True)
class ModuleExpectations:
    name: str
    path: str  # for messages
    documents: tuple[str, ...]
    schemas: tuple[str, ...]
    tables: tuple[TableExp, ...] = ()
    indexes: tuple[IndexExp, ...] = ()
    constraints: tuple[ConstraintExp, ...] = ()
    policies: tuple[PolicyExp, ...] = ()
    functions: tuple[FunctionExp, ...] = ()
    triggers: tuple[TriggerExp, ...] = ()
    cron: tuple[CronExp, ...] = ()
    rows: tuple[RowsExp, ...] = ()
    behaviour: tuple[BehaviourExp, ...] = ()
    rls: tuple[RlsExp, ...] = ()
    plans: tuple[PlanExp, ...] = ()


_TOP_KEYS = {
    "module", "tables", "indexes", "constraints", "policies", "functions", "triggers",
    "cron", "rows", "behaviour", "rls", "plans",
}
# A change's own checks (``NNNN_name.verify.toml`` beside the migration) hold only what
# the SQL cannot say: the documents' queries, behaviour, the RLS matrix and plans.
CHECK_KEYS = {"rows", "behaviour", "rls", "plans"}
CHECK_FILE_SUFFIX = ".verify.toml"


class _Reader:
    """Typed access to one table of the TOML document, with error messages naming it."""

    def __init__(self, path: str, where: str, data: Any, allowed: set[str], required: set[str]):
        self.path = path
        self.where = where
        if not isinstance(data, Mapping):
            self.fail(f"{where} must be a table, not {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} in {where}; allowed keys: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(data))
        if missing:
            self.fail(f"missing key {missing[0]!r} in {where}")

    def fail(self, message: str) -> None:
        raise InputError(message, path=self.path)

    def _get(self, key: str, kind: type | tuple[type, ...], label: str) -> Any:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) and kind is not bool:
            self.fail(f"{self.where}.{key} must be {label}, not a boolean")
        if not isinstance(value, kind):
            self.fail(f"{self.where}.{key} must be {label}, not {type(value).__name__}")
        return value

    def get_str(self, key: str) -> str | None:
        return self._get(key, str, "a string")  # type: ignore[no-any-return]

    def req_str(self, key: str) -> str:
        value = self.get_str(key)
        if value is None or not value.strip():
            self.fail(f"{self.where}.{key} must be a non-empty string")
        return value  # type: ignore[return-value]

    def get_bool(self, key: str) -> bool | None:
        return self._get(key, bool, "true or false")  # type: ignore[no-any-return]

    def get_int(self, key: str) -> int | None:
        return self._get(key, int, "an integer")  # type: ignore[no-any-return]

    def str_list(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key, list, "a list of strings")
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value):
            self.fail(f"{self.where}.{key} must be a list of strings")
        return tuple(value)

    def rows(self, key: str) -> tuple[tuple[str, ...], ...] | None:
        value = self._get(key, list, "a list of rows (lists of strings)")
        if value is None:
            return None
        for row in value:
            if not isinstance(row, list) or not all(isinstance(v, str) for v in row):
                self.fail(
                    f"{self.where}.{key} must be a list of rows, each a list of strings "
                    '(write every value as a TOML string: "t"/"f" for booleans, "NULL" for null)'
                )
        return tuple(tuple(r) for r in value)


def _key_parts(path: str, section: str, key: str, parts: int) -> None:
    pieces = key.split(".", parts - 1)
    if len(pieces) != parts or not all(p.strip() for p in pieces):
        shape = {2: "schema.name", 3: "schema.table.name"}[parts]
        raise InputError(f"key {section}.{key!r} must be written {shape!r}", path=path)


def _section(path: str, doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, Mapping):
        raise InputError(f"[{name}] must be a table of entries keyed by object name", path=path)
    return value


def _array(path: str, doc: Mapping[str, Any], name: str) -> list[Any]:
    value = doc.get(name, [])
    if not isinstance(value, list):
        raise InputError(f"{name} must be an array of tables ([[{name}]])", path=path)
    return value


def _check_id(path: str, where: str, value: str, seen: set[str]) -> None:
    if not _ID.match(value):
        raise InputError(f"{where}.id {value!r} may contain only letters, digits and _ . : -", path=path)
    if value in seen:
        raise InputError(f"duplicate check id {value!r} in {where}", path=path)
    seen.add(value)


def _toml(text: str, path: str, allowed: set[str]) -> dict[str, Any]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=path) from None
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} at top level; allowed: {', '.join(sorted(allowed))}", path=path
        )
    return doc


def parse(text: str, *, path: str, module: str | None = None) -> ModuleExpectations:
    """Parse and validate one expectations document. ``path`` names it in errors."""
    doc = _toml(text, path, _TOP_KEYS)
    if "module" not in doc:
        raise InputError("missing [module] table (name, documents, schemas)", path=path)
    m = _Reader(path, "[module]", doc["module"], {"name", "documents", "schemas"}, {"name", "schemas"})
    name = m.req_str("name")
    if module is not None and name != module:
        m.fail(f"[module].name is {name!r} but the file is in module folder {module!r}")
    schemas = m.str_list("schemas") or ()
    if not schemas:
        m.fail("[module].schemas must list at least one schema")

    tables: list[TableExp] = []
    for key, entry in _section(path, doc, "tables").items():
        _key_parts(path, "tables", key, 2)
        where = f"[tables.{key!r}]"
        r = _Reader(path, where, entry, {"source", "rls", "force_rls", "columns"}, {"source"})
        cols = entry.get("columns", {})
        if not isinstance(cols, Mapping):
            r.fail(f"{where}.columns must be a table of column = \"<type>[ not null][ default <expr>]\"")
        for col, spec in cols.items():
            if not isinstance(spec, str) or not spec.strip():
                r.fail(f"{where}.columns.{col} must be a non-empty string like \"uuid not null\"")
        tables.append(
            TableExp(key, r.req_str("source"), tuple(cols.items()), r.get_bool("rls"), r.get_bool("force_rls"))
        )

    indexes: list[IndexExp] = []
    for key, entry in _section(path, doc, "indexes").items():
        _key_parts(path, "indexes", key, 2)
        r = _Reader(path, f"[indexes.{key!r}]", entry, {"source", "definition"}, {"source", "definition"})
        indexes.append(IndexExp(key, r.req_str("source"), r.req_str("definition")))

    constraints: list[ConstraintExp] = []
    for key, entry in _section(path, doc, "constraints").items():
        _key_parts(path, "constraints", key, 3)
        where = f"[constraints.{key!r}]"
        r = _Reader(path, where, entry, {"source", "type", "definition"}, {"source", "type", "definition"})
        ctype = r.req_str("type")
        if ctype not in CONSTRAINT_TYPES:
            r.fail(f"{where}.type must be one of {', '.join(CONSTRAINT_TYPES)}, not {ctype!r}")
        constraints.append(ConstraintExp(key, r.req_str("source"), ctype, r.req_str("definition")))

    policies: list[PolicyExp] = []
    for key, entry in _section(path, doc, "policies").items():
        _key_parts(path, "policies", key, 3)
        where = f"[policies.{key!r}]"
        r = _Reader(
            path, where, entry,
            {"source", "command", "roles", "permissive", "using", "with_check"},
            {"source", "command", "roles"},
        )
        command = r.req_str("command").upper()
        if command not in POLICY_COMMANDS:
            r.fail(f"{where}.command must be one of {', '.join(POLICY_COMMANDS)}, not {entry['command']!r}")
        roles = r.str_list("roles") or ()
        if not roles:
            r.fail(f"{where}.roles must name at least one role (\"public\" for PUBLIC)")
        permissive = r.get_bool("permissive")
        policies.append(
            PolicyExp(
                key, r.req_str("source"), command, tuple(sorted(roles)),
                True if permissive is None else permissive, r.get_str("using"), r.get_str("with_check"),
            )
        )

    functions: list[FunctionExp] = []
    for key, entry in _section(path, doc, "functions").items():
        where = f"[functions.{key!r}]"
        if not re.match(r"^[^.()\s]+\.[^.()\s]+\(.*\)$", key):
            raise InputError(
                f"key functions.{key!r} must be the regprocedure text \"schema.name(argtype, ...)\"", path=path
            )
        r = _Reader(
            path, where, entry,
            {"source", "file", "returns", "language", "volatility", "security_definer", "search_path", "execute"},
            {"source"},
        )
        vol = r.get_str("volatility")
        if vol is not None and vol not in VOLATILITIES:
            r.fail(f"{where}.volatility must be one of {', '.join(VOLATILITIES)}, not {vol!r}")
        execute = r.str_list("execute")
        functions.append(
            FunctionExp(
                key, r.req_str("source"), r.get_str("file"), r.get_str("returns"), r.get_str("language"), vol,
                bool(r.get_bool("security_definer")), r.get_str("search_path"),
                tuple(sorted(execute)) if execute is not None else None,
            )
        )

    triggers: list[TriggerExp] = []
    for key, entry in _section(path, doc, "triggers").items():
        _key_parts(path, "triggers", key, 3)
        r = _Reader(path, f"[triggers.{key!r}]", entry, {"source", "definition"}, {"source", "definition"})
        triggers.append(TriggerExp(key, r.req_str("source"), r.req_str("definition")))

    cron: list[CronExp] = []
    for key, entry in _section(path, doc, "cron").items():
        r = _Reader(path, f"[cron.{key!r}]", entry, {"source", "schedule", "command"}, {"source", "schedule", "command"})
        cron.append(CronExp(key, r.req_str("source"), r.req_str("schedule"), r.req_str("command")))

    rows, behaviour, rls, plans = _checks(path, doc, set())
    return ModuleExpectations(
        name=name,
        path=path,
        documents=m.str_list("documents") or (),
        schemas=schemas,
        tables=tuple(tables),
        indexes=tuple(indexes),
        constraints=tuple(constraints),
        policies=tuple(policies),
        functions=tuple(functions),
        triggers=tuple(triggers),
        cron=tuple(cron),
        rows=rows,
        behaviour=behaviour,
        rls=rls,
        plans=plans,
    )


_Checks = tuple[tuple[RowsExp, ...], tuple[BehaviourExp, ...], tuple[RlsExp, ...], tuple[PlanExp, ...]]


def _checks(path: str, doc: Mapping[str, Any], ids: set[str]) -> _Checks:
    """The hand-written check sections of a document; ``ids`` collects check ids (unique per module)."""
    rows: list[RowsExp] = []
    for i, entry in enumerate(_array(path, doc, "rows")):
        where = f"[[rows]] #{i + 1}"
        r = _Reader(path, where, entry, {"id", "source", "query", "expect"}, {"id", "source", "query", "expect"})
        _check_id(path, where, r.req_str("id"), ids)
        rows.append(RowsExp(entry["id"], r.req_str("source"), r.req_str("query"), r.rows("expect") or ()))

    behaviour: list[BehaviourExp] = []
    for i, entry in enumerate(_array(path, doc, "behaviour")):
        where = f"[[behaviour]] #{i + 1}"
        r = _Reader(
            path, where, entry,
            {"id", "source", "description", "setup", "sql", "role", "sub", "expect", "expect_error", "expect_rowcount"},
            {"id", "source", "sql"},
        )
        _check_id(path, where, r.req_str("id"), ids)
        outcomes = [k for k in ("expect", "expect_error", "expect_rowcount") if k in entry]
        if len(outcomes) != 1:
            r.fail(f"{where} ({entry['id']}) needs exactly one of expect / expect_error / expect_rowcount, has {outcomes or 'none'}")
        raw = entry.get("expect_error")
        errors: tuple[str, ...] = tuple(raw) if isinstance(raw, list) else () if raw is None else (raw,)
        if raw is not None and (not errors or not all(isinstance(e, str) and _SQLSTATE.match(e) for e in errors)):
            r.fail(f"{where}.expect_error must be a five-character SQLSTATE such as \"23505\" (or a list of them "
                   f"where PostgreSQL versions differ), not {raw!r}")
        err = errors[0] if errors else None
        role = r.get_str("role")
        if role is not None and not re.match(r"^[a-z_][a-z0-9_]*$", role):
            r.fail(f"{where}.role must be a plain role name, not {role!r}")
        behaviour.append(
            BehaviourExp(
                entry["id"], r.req_str("source"), r.get_str("description") or "", r.get_str("setup"), r.req_str("sql"),
                role, r.get_str("sub"), r.rows("expect"), err, r.get_int("expect_rowcount"),
                errors[1:],
            )
        )

    rls: list[RlsExp] = []
    for key, entry in _section(path, doc, "rls").items():
        _key_parts(path, "rls", key, 2)
        where = f"[rls.{key!r}]"
        r = _Reader(path, where, entry, {"source", "setup", "allowed", *COMMANDS}, {"source", "allowed"})
        statements = tuple((c, r.req_str(c)) for c in COMMANDS if c in entry)
        if not statements:
            r.fail(f"{where} needs at least one of {', '.join(COMMANDS)}")
        a = _Reader(path, f"{where}.allowed", entry["allowed"], set(IDENTITIES), set())
        allowed: list[tuple[str, tuple[str, ...]]] = []
        for identity in IDENTITIES:
            commands = a.str_list(identity) or ()
            bad = [c for c in commands if c not in COMMANDS]
            if bad:
                a.fail(f"{where}.allowed.{identity} lists {bad[0]!r}; commands are {', '.join(COMMANDS)}")
            allowed.append((identity, tuple(commands)))
        rls.append(RlsExp(key, r.req_str("source"), r.get_str("setup"), statements, tuple(allowed)))

    plans: list[PlanExp] = []
    for i, entry in enumerate(_array(path, doc, "plans")):
        where = f"[[plans]] #{i + 1}"
        r = _Reader(path, where, entry, {"id", "source", "setup", "query", "uses_index"}, {"id", "source", "query", "uses_index"})
        _check_id(path, where, r.req_str("id"), ids)
        plans.append(PlanExp(entry["id"], r.req_str("source"), r.get_str("setup"), r.req_str("query"), r.req_str("uses_index")))

    return tuple(rows), tuple(behaviour), tuple(rls), tuple(plans)


def parse_checks(text: str, *, path: str, ids: set[str]) -> _Checks:
    """Parse one change's ``NNNN_name.verify.toml``: only rows, behaviour, rls and plans."""
    return _checks(path, _toml(text, path, CHECK_KEYS), ids)


def with_change_checks(base: ModuleExpectations, files: list[tuple[Path, str]]) -> ModuleExpectations:
    """``base`` plus the checks of each ``(path, display name)`` change file, in file order."""
    ids = {x.id for x in base.rows} | {x.id for x in base.behaviour} | {x.id for x in base.plans}
    tables = {x.table for x in base.rls}
    rows, behaviour, rls, plans = list(base.rows), list(base.behaviour), list(base.rls), list(base.plans)
    for path, name in files:
        r, b, t, p = parse_checks(_read(path, name), path=name, ids=ids)
        for entry in t:
            if entry.table in tables:
                raise InputError(f"[rls.{entry.table!r}] is declared twice in module {base.name}", path=name)
            tables.add(entry.table)
        rows += r
        behaviour += b
        rls += t
        plans += p
    return replace(base, rows=tuple(rows), behaviour=tuple(behaviour), rls=tuple(rls), plans=tuple(plans))


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("file is not valid UTF-8", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read expectations file ({exc.strerror})", path=name) from None


def load(path: Path, *, module: str | None = None, display: str | None = None) -> ModuleExpectations:
    """Read one expectations file; ``display`` is the name used in messages."""
    name = display or str(path)
    return parse(_read(path, name), path=name, module=module)
