"""Hand-written checks: ``migrations/<module>/NNNN_name.verify.toml``, beside the change they check.

They state only what the SQL cannot: the documents' verification queries with their
stated outcomes (``[[rows]]``), behaviour (``[[behaviour]]``), the RLS access matrix
(``[rls."schema.table"]``), hot-query plans (``[[plans]]``), and which objects the
change creates only where absent, so that a platform's own objects are checked only for
what the modules need (``[prerequisites]``). The catalog itself comes from the generated
snapshot (``dbkit.snapshot``).

Three things keep the files compact without hiding what a check does:

* ``[fixtures]``: named setup SQL, declared once per module and named by a check's
  ``uses = [...]`` (run in that order, before the check's own ``setup``). A fixture is
  declared in the file of the change whose objects it needs; checks of that change and of
  later changes of the module may use it.
* ``as = "owner"``: one of the identities the project declares in its configuration
  (``[identities]``; each is a row of the RLS matrix) instead of ``role`` + ``sub``.
* ``each = [{...}, ...]``: one behaviour entry stands for one check per table of
  placeholder values; ``{name}`` is replaced in every text of the entry (the id must
  contain one, so every expanded check has its own id).

The RLS matrix has, besides select/insert/update/delete, the cells ``move`` (give the
owner's row to another owner) and ``reference`` (point the owner's row at another
tenant's row; one statement, or several named ones). A table's cells may be declared
in several files of a module (each beside the change that defines them), each cell once.

The schema is a declarative pydantic model with unknown keys forbidden: a misspelt key
is an ``InputError`` naming the file and the key, because a check that is silently
ignored is a check that never runs.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, ValidationInfo, model_validator

from dbkit.errors import InputError
from dbkit.identity import Identity, fill_placeholders
from dbkit.project import Module

CHECK_FILE_SUFFIX = ".verify.toml"
COMMANDS = ("select", "insert", "update", "delete", "move", "reference")

CheckId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]+$")]
SqlState = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{5}$")]
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Command = Literal["select", "insert", "update", "delete", "move", "reference"]
Row = list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _declared(info: ValidationInfo) -> tuple[str, ...]:
    """The identity names the configuration declares (passed as validation context)."""
    context = info.context if isinstance(info.context, dict) else {}
    return tuple(context.get("identities", ()))


def _unknown_identity(name: str, declared: tuple[str, ...]) -> str:
    known = ", ".join(declared) if declared else "none are declared"
    return (f"identity {name!r} is not declared in the configuration's [identities] ({known}); "
            "declare it in dbkit.toml or [tool.dbkit] of pyproject.toml")


class RowsCheck(_Strict):
    """A read-only query and the rows it must return (values as PostgreSQL's text output)."""

    id: CheckId
    source: Text
    query: Text
    expect: list[Row]


class BehaviourCheck(_Strict):
    """A statement (after the fixtures it uses and an optional setup) with its outcome: rows,
    an SQLSTATE, or a row count.

    It runs in a READ ONLY transaction by default when it cannot write; one that writes runs
    with ``--with-writes``, rolled back. ``as`` names a configured identity; ``role`` (with an
    optional ``sub``) any other.
    """

    id: CheckId
    source: Text
    description: str = ""
    uses: list[Name] = []
    setup: str | None = None
    sql: Text
    as_: Name | None = Field(default=None, alias="as")
    role: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")] | None = None
    sub: str | None = None
    expect: list[Row] | None = None
    # One SQLSTATE, or several where PostgreSQL versions differ (RESTRICT: 23503, from 18 23001).
    expect_error: SqlState | Annotated[list[SqlState], Field(min_length=1)] | None = None
    expect_rowcount: int | None = None

    @model_validator(mode="after")
    def _one_outcome(self, info: ValidationInfo) -> BehaviourCheck:
        given = [k for k in ("expect", "expect_error", "expect_rowcount") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of expect / expect_error / expect_rowcount, has {given or 'none'}")
        if self.as_ is not None and (self.role is not None or self.sub is not None):
            raise ValueError("`as` names an identity: give either `as` or `role`/`sub`, not both")
        if self.sub is not None and self.role is None:
            raise ValueError("`sub` needs the `role` the request runs as (or name a configured identity with `as`)")
        if self.as_ is not None and self.as_ not in _declared(info):
            raise ValueError(_unknown_identity(self.as_, _declared(info)))
        return self

    @property
    def accepted_errors(self) -> tuple[str, ...]:
        """The SQLSTATEs that count as the expected refusal (empty: no error expected)."""
        if self.expect_error is None:
            return ()
        return (self.expect_error,) if isinstance(self.expect_error, str) else tuple(self.expect_error)


class RlsMatrix(_Strict):
    """Each statement targets the owner's rows; each identity runs it in a rolled-back savepoint.

    ``move`` gives the owner's row to another owner; ``reference`` points the owner's row at
    another tenant's row (one statement, or a table of named statements, one cell each).
    """

    source: Text
    uses: list[Name] = []
    setup: str | None = None
    select: str | None = None
    insert: str | None = None
    update: str | None = None
    delete: str | None = None
    move: str | None = None
    reference: str | dict[Name, Text] | None = None
    allowed: dict[Name, list[Command]]  # identity -> the cells it may do; an identity not named may do none

    @model_validator(mode="after")
    def _some_statement(self, info: ValidationInfo) -> RlsMatrix:
        if not self.statements():
            raise ValueError(f"needs at least one of {', '.join(COMMANDS)}")
        unknown = [name for name in self.allowed if name not in _declared(info)]
        if unknown:
            raise ValueError("allowed: " + _unknown_identity(unknown[0], _declared(info)))
        return self

    def statements(self) -> dict[str, str]:
        """cell name -> statement: the commands, and ``reference.<name>`` for named references."""
        cells: dict[str, str] = {}
        for command in COMMANDS:
            value = getattr(self, command)
            if isinstance(value, dict):
                cells.update({f"{command}.{name}": text for name, text in value.items()})
            elif value:
                cells[command] = value
        return cells

    def allowed_for(self, identity: str) -> tuple[str, ...]:
        return tuple(self.allowed.get(identity, ()))

    def allows(self, identity: str, cell: str) -> bool:
        return cell.split(".", 1)[0] in self.allowed_for(identity)


class PlanCheck(_Strict):
    """A hot query whose plan must use ``uses_index``; ``setup`` generates data (``dbkit ci`` only)."""

    id: CheckId
    source: Text
    uses: list[Name] = []
    setup: str | None = None
    query: Text
    uses_index: Text


class Prerequisites(_Strict):
    """Objects this change creates only where absent ("kind name" patterns, shell-style wildcards)."""

    source: Text
    objects: list[Text] = Field(min_length=1)


class CheckFile(_Strict):
    fixtures: dict[Name, Text] = {}
    rows: list[RowsCheck] = []
    behaviour: list[BehaviourCheck] = []
    rls: dict[str, RlsMatrix] = {}
    plans: list[PlanCheck] = []
    prerequisites: Prerequisites | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_each(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and isinstance(data.get("behaviour"), list):
            known = _declared(info)
            data = {**data, "behaviour": [x for i, entry in enumerate(data["behaviour"])
                                          for x in _expand(entry, i, known)]}
        return data

    @model_validator(mode="after")
    def _table_keys(self) -> CheckFile:
        for key in self.rls:
            if len(key.split(".")) != 2 or not all(key.split(".")):
                raise ValueError(f"rls key {key!r} must be written 'schema.table'")
        return self

    def used_fixtures(self) -> list[tuple[str, list[str]]]:
        """(what, fixture names) for every check that uses fixtures."""
        return ([(f"behaviour {b.id}", b.uses) for b in self.behaviour if b.uses]
                + [(f"[rls.{t!r}]", m.uses) for t, m in self.rls.items() if m.uses]
                + [(f"plan {p.id}", p.uses) for p in self.plans if p.uses])


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(entry: Any, index: int, identities: tuple[str, ...]) -> list[Any]:
    """One behaviour entry with ``each`` -> one entry per placeholder table, ``{name}`` replaced."""
    if not isinstance(entry, dict) or "each" not in entry:
        return [entry]
    names = _each_names(entry["each"], f"behaviour.{index}.each")
    if not names & set(_PLACEHOLDER.findall(str(entry.get("id", "")))):
        raise ValueError(f"behaviour.{index}.id: must contain one of the placeholders {', '.join(sorted(names))} "
                         "so that each expanded check has its own id")
    body = {k: v for k, v in entry.items() if k != "each"}
    expanded = [{k: _fill_each(v, values) for k, v in body.items()} for values in entry["each"]]
    for item in expanded:
        for key, value in item.items():
            left = _unfilled(value, identities)
            if left:
                raise ValueError(f"behaviour.{index}.{key}: placeholder {{{left[0]}}} is given by no table of `each` "
                                 f"(it gives {', '.join(sorted(names))})")
    return expanded


def _unfilled(value: Any, identities: tuple[str, ...]) -> list[str]:
    """Placeholders left in a value after ``each`` filled it (identity names are filled later)."""
    texts = value if isinstance(value, list) else [value]
    return [n for t in texts if isinstance(t, str) for n in _PLACEHOLDER.findall(t) if n not in identities]


def _each_names(each: Any, where: str) -> set[str]:
    """The placeholder names every table of ``each`` gives (all the same, all strings)."""
    if not isinstance(each, list) or not each or not all(isinstance(p, dict) and p for p in each):
        raise ValueError(f"{where}: must be a non-empty list of tables of placeholder values")
    names = set(each[0])
    for values in each:
        if set(values) != names:
            raise ValueError(f"{where}: every table must give the same placeholders ({', '.join(sorted(names))})")
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError(f"{where}: placeholder values must be strings")
    return names


def _fill_each(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill_each(v, values) for v in value]
    return value


class ChangeChecks(BaseModel):
    """One change's checks, with the migration and file they belong to."""

    model_config = ConfigDict(frozen=True)
    module: str
    migration: str
    path: str  # project-relative, for messages
    checks: CheckFile


class ModuleChecks(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    module: str
    changes: tuple[ChangeChecks, ...] = ()
    fixtures: dict[str, str] = {}  # every fixture of the module, by name
    identities: tuple[Identity, ...] = ()  # the configured identities, in configuration order

    def identity(self, name: str) -> Identity:
        return next(i for i in self.identities if i.name == name)

    def setup_of(self, uses: list[str], setup: str | None) -> str | None:
        """The SQL a check runs first: its fixtures in order, then its own setup."""
        parts = [self.fixtures[name] for name in uses] + ([setup] if setup else [])
        return "\n".join(p.rstrip() for p in parts) or None

    def rows(self) -> list[tuple[ChangeChecks, RowsCheck]]:
        return [(c, x) for c in self.changes for x in c.checks.rows]

    def behaviour(self) -> list[tuple[ChangeChecks, BehaviourCheck]]:
        return [(c, x) for c in self.changes for x in c.checks.behaviour]

    def rls(self) -> list[tuple[ChangeChecks, str, RlsMatrix]]:
        return [(c, table, x) for c in self.changes for table, x in c.checks.rls.items()]

    def plans(self) -> list[tuple[ChangeChecks, PlanCheck]]:
        return [(c, x) for c in self.changes for x in c.checks.plans]

    def prerequisite_patterns(self) -> list[str]:
        return [p for c in self.changes if c.checks.prerequisites for p in c.checks.prerequisites.objects]


def cell_order(cell: str) -> tuple[int, str]:
    """Sort key of a matrix cell: the commands in COMMANDS order, named references by name."""
    command, _, name = cell.partition(".")
    return (COMMANDS.index(command) if command in COMMANDS else len(COMMANDS), name)


def is_prerequisite(key: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def parse(text: str, *, path: str, identities: tuple[Identity, ...] = ()) -> CheckFile:
    """Parse one check file; ``path`` names it in errors.

    ``identities`` are the configured ones: the names ``as`` and the RLS matrix may use; a
    ``{name}`` in any text of the file becomes that identity's user id (``sub``) here, once."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=path) from None
    try:
        return CheckFile.model_validate(_filled(doc, identities),
                                        context={"identities": tuple(i.name for i in identities)})
    except ValidationError as exc:
        raise InputError(_first_error(exc), path=path) from None


def _filled(value: Any, identities: tuple[Identity, ...]) -> Any:
    if isinstance(value, str):
        return fill_placeholders(value, identities)
    if isinstance(value, list):
        return [_filled(v, identities) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, identities) for k, v in value.items()}
    return value


def _first_error(exc: ValidationError) -> str:
    error = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {str(error['loc'][-1])!r} at {where.rsplit('.', 1)[0] if '.' in where else 'top level'}"
    if error["type"] == "missing":
        return f"missing key {where}"
    return f"{where}: {error['msg']}"


def load_module(module: Module, *, identities: tuple[Identity, ...] = (),
                display: dict[Path, str] | None = None) -> ModuleChecks:
    """Every ``NNNN_name.verify.toml`` of ``module``, each beside the migration it checks.

    ``identities`` are the configuration's (``Settings.identities``): the names ``as`` and
    the RLS matrix may use, and whose ``{name}`` placeholders are filled in."""
    ids = {m.id for m in module.migrations}
    changes: list[ChangeChecks] = []
    seen: set[str] = set()
    cells: set[tuple[str, str]] = set()
    fixtures: dict[str, str] = {}
    # Files in plan order (NNNN_ prefixes sort), so a fixture is known before a later file uses it.
    for file in sorted(module.path.glob("*" + CHECK_FILE_SUFFIX)):
        name = (display or {}).get(file, str(file))
        stem = file.name[: -len(CHECK_FILE_SUFFIX)]
        if stem not in ids:
            raise InputError(f"check file has no migration {stem}.sql beside it in module {module.name}", path=name)
        checks = parse(_read(file, name), path=name, identities=identities)
        _unique(checks, seen, cells, name, module.name)
        for fixture, text in checks.fixtures.items():
            if fixture in fixtures:
                raise InputError(f"fixture {fixture!r} is declared twice in module {module.name}", path=name)
            fixtures[fixture] = text
        for what, uses in checks.used_fixtures():
            unknown = [u for u in uses if u not in fixtures]
            if unknown:
                raise InputError(f"{what} uses fixture {unknown[0]!r}, which neither this file nor an earlier "
                                 f"check file of module {module.name} declares", path=name)
        changes.append(ChangeChecks(module=module.name, migration=stem, path=name, checks=checks))
    return ModuleChecks(module=module.name, changes=tuple(changes), fixtures=fixtures, identities=identities)


def _unique(checks: CheckFile, ids: set[str], cells: set[tuple[str, str]], path: str, module: str) -> None:
    for check_id in [x.id for x in checks.rows] + [x.id for x in checks.behaviour] + [x.id for x in checks.plans]:
        if check_id in ids:
            raise InputError(f"duplicate check id {check_id!r} in module {module}", path=path)
        ids.add(check_id)
    for table, matrix in checks.rls.items():
        for cell in matrix.statements():
            if (table, cell) in cells:
                raise InputError(f"the {cell} cells of [rls.{table!r}] are declared twice in module {module}",
                                 path=path)
            cells.add((table, cell))


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("file is not valid UTF-8", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read check file ({exc.strerror})", path=name) from None


__all__ = ["CheckFile", "ChangeChecks", "ModuleChecks", "RowsCheck", "BehaviourCheck", "RlsMatrix", "PlanCheck",
           "Prerequisites", "load_module", "parse", "is_prerequisite", "COMMANDS", "CHECK_FILE_SUFFIX",
           "cell_order"]
