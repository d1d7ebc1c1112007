"""Hand-written checks: ``migrations/<module>/NNNN_name.verify.toml``, beside the change they check.

They state only what the SQL cannot: the documents' verification queries with their
stated outcomes (``[[rows]]``), behaviour (``[[behaviour]]``), the RLS access matrix
(``[rls."schema.table"]``), hot-query plans (``[[plans]]``), and which objects the
change creates only where absent, so that a platform's own objects are checked only for
what the modules need (``[prerequisites]``). The catalog itself comes from the generated
snapshot (``dbkit.snapshot``).

The schema is a declarative pydantic model with unknown keys forbidden: a misspelt key
is an ``InputError`` naming the file and the key, because a check that is silently
ignored is a check that never runs.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from dbkit.errors import InputError
from dbkit.identity import DEFAULT_IDENTITIES
from dbkit.project import Module

CHECK_FILE_SUFFIX = ".verify.toml"
COMMANDS = ("select", "insert", "update", "delete")
IDENTITIES = tuple(DEFAULT_IDENTITIES)

CheckId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]+$")]
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
Command = Literal["select", "insert", "update", "delete"]
Row = list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RowsCheck(_Strict):
    """A read-only query and the rows it must return (values as PostgreSQL's text output)."""

    id: CheckId
    source: Text
    query: Text
    expect: list[Row]


class BehaviourCheck(_Strict):
    """A statement (after an optional setup) with its outcome: rows, an SQLSTATE, or a row count.

    It runs in a READ ONLY transaction by default; one that needs to write reports itself
    as such (SQLSTATE 25006) and runs with ``--with-writes``, rolled back.
    """

    id: CheckId
    source: Text
    description: str = ""
    setup: str | None = None
    sql: Text
    role: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")] | None = None
    sub: str | None = None
    expect: list[Row] | None = None
    expect_error: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{5}$")] | None = None
    expect_rowcount: int | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> BehaviourCheck:
        given = [k for k in ("expect", "expect_error", "expect_rowcount") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of expect / expect_error / expect_rowcount, has {given or 'none'}")
        return self


class Allowed(_Strict):
    anon: list[Command] = []
    owner: list[Command] = []
    stranger: list[Command] = []
    service_role: list[Command] = []


class RlsMatrix(_Strict):
    """Each statement targets the owner's rows; each identity runs it in a rolled-back savepoint."""

    source: Text
    setup: str | None = None
    select: str | None = None
    insert: str | None = None
    update: str | None = None
    delete: str | None = None
    allowed: Allowed

    @model_validator(mode="after")
    def _some_statement(self) -> RlsMatrix:
        if not self.statements():
            raise ValueError(f"needs at least one of {', '.join(COMMANDS)}")
        return self

    def statements(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in COMMANDS if getattr(self, c)}

    def allowed_for(self, identity: str) -> tuple[str, ...]:
        return tuple(getattr(self.allowed, identity))


class PlanCheck(_Strict):
    """A hot query whose plan must use ``uses_index``; ``setup`` generates data (``dbkit ci`` only)."""

    id: CheckId
    source: Text
    setup: str | None = None
    query: Text
    uses_index: Text


class Prerequisites(_Strict):
    """Objects this change creates only where absent ("kind name" patterns, shell-style wildcards)."""

    source: Text
    objects: list[Text] = Field(min_length=1)


class CheckFile(_Strict):
    rows: list[RowsCheck] = []
    behaviour: list[BehaviourCheck] = []
    rls: dict[str, RlsMatrix] = {}
    plans: list[PlanCheck] = []
    prerequisites: Prerequisites | None = None

    @model_validator(mode="after")
    def _table_keys(self) -> CheckFile:
        for key in self.rls:
            if len(key.split(".")) != 2 or not all(key.split(".")):
                raise ValueError(f"rls key {key!r} must be written 'schema.table'")
        return self


class ChangeChecks(BaseModel):
    """One change's checks, with the migration and file they belong to."""

    model_config = ConfigDict(frozen=True)
    module: str
    migration: str
    path: str  # project-relative, for messages
    checks: CheckFile


class ModuleChecks(BaseModel):
    model_config = ConfigDict(frozen=True)
    module: str
    changes: tuple[ChangeChecks, ...] = ()

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


def is_prerequisite(key: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def parse(text: str, *, path: str) -> CheckFile:
    """Parse one check file; ``path`` names it in errors."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=path) from None
    try:
        return CheckFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(_first_error(exc), path=path) from None


def _first_error(exc: ValidationError) -> str:
    error = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {str(error['loc'][-1])!r} at {where.rsplit('.', 1)[0] if '.' in where else 'top level'}"
    if error["type"] == "missing":
        return f"missing key {where}"
    return f"{where}: {error['msg']}"


def load_module(module: Module, *, display: dict[Path, str] | None = None) -> ModuleChecks:
    """Every ``NNNN_name.verify.toml`` of ``module``, each beside the migration it checks."""
    ids = {m.id for m in module.migrations}
    changes: list[ChangeChecks] = []
    seen: set[str] = set()
    tables: set[str] = set()
    for file in sorted(module.path.glob("*" + CHECK_FILE_SUFFIX)):
        name = (display or {}).get(file, str(file))
        stem = file.name[: -len(CHECK_FILE_SUFFIX)]
        if stem not in ids:
            raise InputError(f"check file has no migration {stem}.sql beside it in module {module.name}", path=name)
        checks = parse(_read(file, name), path=name)
        _unique(checks, seen, tables, name, module.name)
        changes.append(ChangeChecks(module=module.name, migration=stem, path=name, checks=checks))
    return ModuleChecks(module=module.name, changes=tuple(changes))


def _unique(checks: CheckFile, ids: set[str], tables: set[str], path: str, module: str) -> None:
    for check_id in [x.id for x in checks.rows] + [x.id for x in checks.behaviour] + [x.id for x in checks.plans]:
        if check_id in ids:
            raise InputError(f"duplicate check id {check_id!r} in module {module}", path=path)
        ids.add(check_id)
    for table in checks.rls:
        if table in tables:
            raise InputError(f"[rls.{table!r}] is declared twice in module {module}", path=path)
        tables.add(table)


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("file is not valid UTF-8", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read check file ({exc.strerror})", path=name) from None


__all__ = ["CheckFile", "ChangeChecks", "ModuleChecks", "RowsCheck", "BehaviourCheck", "RlsMatrix", "PlanCheck",
           "Prerequisites", "load_module", "parse", "is_prerequisite", "COMMANDS", "IDENTITIES", "CHECK_FILE_SUFFIX"]
