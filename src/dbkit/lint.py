"""``dbkit lint``: sqlfluff plus dbkit's own safety rules over ``migrations/`` and ``sql/``.

Two checkers run over the same files:

* **sqlfluff** (postgres dialect, raw templater) with the project's ``.sqlfluff``; dbkit
  forces ``large_file_skip_byte_limit = 0`` because sqlfluff otherwise skips files over
  20 kB without a word and reports success.
* **dbkit's rules** (``DBK000``–``DBK013``), read from PostgreSQL's own parser (pglast)
  rather than from regular expressions over raw text. Rules about one statement run on
  every file; rules about a migration see the migration with its ``-- include:`` files
  inlined (that is what the engine runs); rules about the whole schema (a policy for
  every RLS table, an index for every foreign key) see every forward migration.

Any finding can be silenced for one statement by a comment inside or directly above
it, with a reason: ``-- dbkit-allow DBK009 the column was never read (ticket 123)``.
File-level findings (``DBK000``, ``DBK010``–``DBK013``) take the marker in the file's
header. A marker without a reason silences nothing.

``check_functions`` runs the ``plpgsql_check`` extension over a database into which
the project has been applied (``dbkit.dblint`` provides the throwaway one) and maps its
findings back to the function's file and line.

This module imports only ``dbkit.config`` and ``dbkit.errors``; it never prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbkit.config import Settings
from dbkit.errors import ConfigError, InputError

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "github")
DEFAULT_EXPOSED_SCHEMAS = ("public",)

MIGRATION_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)(?P<rollback>\.rollback)?\.sql$")
KNOWN_DIRECTIVES = ("depends", "transactional", "include")
_DIRECTIVE = re.compile(r"^--\s*(?P<key>[A-Za-z][A-Za-z0-9_-]*)\s*:\s*(?P<value>.*?)\s*$")
_INCLUDE = re.compile(r"^\s*--\s*include\s*:\s*(?P<path>\S+)\s*$")
_ALLOW = re.compile(r"^\s*(?:--|/\*)\s*dbkit-allow\s+(?P<ids>DBK\d{3}(?:\s*,\s*DBK\d{3})*)(?P<reason>.*)", re.S)
_AUTH_CALLS = {("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("current_setting",),
               ("pg_catalog", "current_setting")}


# ---------------------------------------------------------------- rules and results


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    fix: str


RULES: dict[str, Rule] = {rule.id: rule for rule in (
    Rule("DBK000", "file cannot be read or parsed",
         "fix the syntax error PostgreSQL's parser reports (or save the file as UTF-8)"),
    Rule("DBK001", "SECURITY DEFINER function without SET search_path",
         "add `set search_path = ''` to the function and schema-qualify every name in its body"),
    Rule("DBK002", "table in an exposed schema without row level security",
         "enable RLS in the same migration (`alter table … enable row level security` in the table's "
         "sql/policies/ file, included by that migration)"),
    Rule("DBK003", "row level security enabled but no policy",
         "create at least one policy (`create policy … to <role> using (…)`) in the table's sql/policies/ file, "
         "or mark a deliberately closed table with `-- dbkit-allow DBK003 <reason>`"),
    Rule("DBK004", "policy calls auth.uid()/auth.jwt() per row",
         "wrap the call in a scalar subquery, `(select auth.uid())`, so PostgreSQL evaluates it once per statement"),
    Rule("DBK005", "policy without TO role",
         "name the roles it applies to: `create policy … for select to authenticated using (…)`"),
    Rule("DBK006", "foreign key without a covering index",
         "create an index whose leading columns are the foreign key's columns, in the table's migration"),
    Rule("DBK007", "CREATE INDEX on an existing table without CONCURRENTLY",
         "use `create index concurrently` in a migration of its own with `-- transactional: false`; "
         "a plain CREATE INDEX blocks every write to the table while it builds"),
    Rule("DBK008", "CONCURRENTLY inside a transactional migration",
         "add `-- transactional: false` to the migration's header (PostgreSQL refuses CONCURRENTLY "
         "inside a transaction) and keep it to that one statement"),
    Rule("DBK009", "destructive change in a forward migration",
         "drop or retype in a later release once nothing reads the data, and say so with "
         "`-- dbkit-allow DBK009 <reason>` above the statement"),
    Rule("DBK010", "migration without a rollback",
         "create NNNN_name.rollback.sql beside the migration that reverses it statement by statement"),
    Rule("DBK011", "unknown or malformed header directive",
         "use only `-- depends:`, `-- transactional: true|false` and `-- include:`; prose keys start with "
         "a capital letter (`-- Source: …`)"),
    Rule("DBK012", "include problem",
         "include each sql/functions or sql/policies file from exactly one forward migration with "
         "`-- include: sql/<dir>/<file>.sql`"),
    Rule("DBK013", "misplaced or misnamed migration file",
         "name migrations migrations/<module>/NNNN_name.sql and NNNN_name.rollback.sql, ids unique across modules"),
    Rule("DBK100", "plpgsql_check finding",
         "fix the function body as plpgsql_check says; checks run on every plpgsql function after applying "
         "the project to a throwaway cluster"),
)}


@dataclass(frozen=True)
class Finding:
    rule: str  # DBKnnn, a sqlfluff code (LT01, PRS, …) or "plpgsql_check"
    path: str  # relative to the project root
    line: int
    column: int
    message: str
    severity: str = "error"  # error | warning
    checker: str = "dbkit"  # dbkit | sqlfluff | plpgsql_check


@dataclass(frozen=True)
class Allowed:
    """A finding silenced by a ``-- dbkit-allow`` marker, with the reason given."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    allowed: tuple[Allowed, ...]
    files: tuple[str, ...]
    checkers: tuple[str, ...]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity != "error")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def merged(self, findings: Iterable[Finding], checker: str) -> LintReport:
        return LintReport(findings=_sorted((*self.findings, *findings)), allowed=self.allowed,
                          files=self.files, checkers=(*self.checkers, checker))


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(set(findings), key=lambda f: (f.path, f.line, f.column, f.rule, f.message)))


# ---------------------------------------------------------------- entry points


def lint(settings: Settings, *, sqlfluff: bool = True,
         exposed_schemas: Sequence[str] = DEFAULT_EXPOSED_SCHEMAS) -> LintReport:
    """Lint every SQL file of the project. Raises ConfigError when there is nothing to lint."""
    project = _load(settings)
    findings, allowed = _Checker(project, tuple(exposed_schemas)).run()
    checkers = ["dbkit"]
    if sqlfluff:
        findings.extend(run_sqlfluff(settings, [f.path for f in project.files]))
        checkers.insert(0, "sqlfluff")
    return LintReport(findings=_sorted(findings), allowed=tuple(allowed),
                      files=tuple(sorted(f.name for f in project.files)), checkers=tuple(checkers))


def run_sqlfluff(settings: Settings, paths: Sequence[Path]) -> list[Finding]:
    """sqlfluff over ``paths`` with the project's .sqlfluff (postgres, raw, no size limit)."""
    import configparser

    from sqlfluff.core import FluffConfig, Linter, SQLFluffUserError

    findings: list[Finding] = []
    try:
        config = FluffConfig.from_path(
            str(settings.root),
            overrides={"dialect": "postgres", "templater": "raw", "large_file_skip_byte_limit": 0},
        )
        linter = Linter(config=config)
        results = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # reported as DBK000
            results.append((settings.relative(path), linter.lint_string(text, fname=str(path))))
    except (SQLFluffUserError, configparser.Error, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"sqlfluff configuration (.sqlfluff in {settings.root} or above) is invalid: {detail}") from None
    for name, result in results:
        for violation in result.get_violations():
            findings.append(Finding(
                rule=violation.rule_code(), path=name, line=int(violation.line_no or 1),
                column=int(violation.line_pos or 1), message=violation.desc(),
                severity="warning" if getattr(violation, "warning", False) else "error", checker="sqlfluff",
            ))
    return findings


# ---------------------------------------------------------------- parsing


@dataclass
class _Stmt:
    node: Any
    file: _File
    start: int  # character offset of the statement's first token
    allows: dict[str, str]  # rule id -> reason ("" when none was given)

    @property
    def line(self) -> int:
        return self.file.line_of(self.start)


@dataclass
class _File:
    path: Path
    name: str
    text: str
    statements: list[_Stmt] = field(default_factory=list)
    header: list[tuple[int, str]] = field(default_factory=list)  # (line, text) of the leading comments
    header_allows: dict[str, str] = field(default_factory=dict)
    parsed: bool = False
    _line_starts: list[int] = field(default_factory=list)

    def line_of(self, offset: int) -> int:
        import bisect

        if not self._line_starts:
            self._line_starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        return bisect.bisect_right(self._line_starts, offset)

    def column_of(self, offset: int) -> int:
        line = self.line_of(offset)
        return offset - self._line_starts[line - 1] + 1


@dataclass
class _Migration:
    id: str
    module: str
    forward: _File
    rollback: _File | None
    transactional: bool
    includes: list[tuple[int, _File]]  # (line of the directive, included file)

    def statements(self) -> list[_Stmt]:
        """The forward statements with each included file's statements at its directive."""
        keyed: list[tuple[tuple[int, int, int], _Stmt]] = []
        for index, stmt in enumerate(self.forward.statements):
            keyed.append(((stmt.line, 0, index), stmt))
        for position, (line, included) in enumerate(self.includes):
            for index, stmt in enumerate(included.statements):
                keyed.append(((line, 1, position * 100000 + index), stmt))
        return [stmt for _, stmt in sorted(keyed, key=lambda item: item[0])]


@dataclass
class _Project:
    settings: Settings
    files: list[_File]
    migrations: list[_Migration]
    problems: list[Finding]  # file-level findings found while loading (DBK000, DBK010–DBK013)


def _read(settings: Settings, path: Path, problems: list[Finding]) -> _File:
    name = settings.relative(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Finding("DBK000", name, line, 1, "file is not valid UTF-8; " + RULES["DBK000"].fix))
        return _File(path=path, name=name, text="")
    source = _File(path=path, name=name, text=text)
    _parse(source, problems)
    return source


def _parse(source: _File, problems: list[Finding]) -> None:
    from pglast import parse_sql, parser

    text = source.text
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        source.header.append((number, stripped))
        source.header_allows.update(_allows(stripped))
    try:
        raw_statements = parse_sql(text)
        tokens = parser.scan(text)
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        problems.append(Finding("DBK000", source.name, source.line_of(offset), source.column_of(offset),
                                f"PostgreSQL cannot parse this file: {exc.args[0]}; " + RULES["DBK000"].fix))
        return
    comments = [(tok.start, tok.end + 1) for tok in tokens if tok.name in ("SQL_COMMENT", "C_COMMENT")]
    previous_end = 0
    for raw in raw_statements:
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(text)
        allows: dict[str, str] = {}
        for c_start, c_end in comments:
            if previous_end <= c_start < end:
                allows.update(_allows(text[c_start:c_end]))
        source.statements.append(_Stmt(node=raw.stmt, file=source, start=start, allows=allows))
        previous_end = end
    source.parsed = True


def _allows(comment: str) -> dict[str, str]:
    match = _ALLOW.search(comment)
    if not match:
        return {}
    reason = match["reason"].strip()
    if reason.endswith("*/"):
        reason = reason[:-2].strip()
    reason = reason.lstrip(":-—– ").strip()
    return {rule.strip(): reason for rule in match["ids"].split(",")}


def _load(settings: Settings) -> _Project:
    problems: list[Finding] = []
    migrations_dir = settings.migrations_dir
    if not migrations_dir.is_dir():
        raise ConfigError(
            f"migrations directory {migrations_dir} does not exist (config: {settings.config_source}); "
            "run dbkit lint from the project root or set `migrations` in dbkit.toml"
        )
    files: list[_File] = []
    by_path: dict[Path, _File] = {}

    def read(path: Path) -> _File:
        key = path.resolve()
        if key not in by_path:
            by_path[key] = _read(settings, path, problems)
            files.append(by_path[key])
        return by_path[key]

    migrations: list[_Migration] = []
    for stray in sorted(migrations_dir.glob("*.sql")):
        read(stray)
        problems.append(Finding("DBK013", settings.relative(stray), 1, 1,
                                "SQL file outside a module folder is never applied; move it to "
                                "migrations/<module>/ or delete it"))
    for module_dir in _module_dirs(settings):
        migrations.extend(_load_module(settings, module_dir, read, problems))
    if settings.sql_dir.is_dir():
        for path in sorted(settings.sql_dir.rglob("*.sql")):
            read(path)
    seen: dict[str, _Migration] = {}
    for migration in migrations:
        if migration.id in seen:
            problems.append(Finding("DBK013", migration.forward.name, 1, 1,
                                    f"migration id {migration.id} is also used in module {seen[migration.id].module}; "
                                    + RULES["DBK013"].fix))
        seen.setdefault(migration.id, migration)
    return _Project(settings=settings, files=files, migrations=migrations, problems=problems)


def _module_dirs(settings: Settings) -> list[Path]:
    present = sorted(p for p in settings.migrations_dir.iterdir()
                     if p.is_dir() and not p.name.startswith((".", "_")))
    if settings.modules is None:
        return sorted(present, key=lambda p: (p.name != "platform", p.name))
    order = {name: index for index, name in enumerate(settings.modules)}
    return sorted(present, key=lambda p: (order.get(p.name, len(order)), p.name))


def _load_module(settings: Settings, module_dir: Path, read: Any, problems: list[Finding]) -> list[_Migration]:
    forwards: dict[str, Path] = {}
    rollbacks: dict[str, Path] = {}
    for path in sorted(module_dir.iterdir()):
        if not path.is_file() or path.suffix != ".sql":
            continue
        match = MIGRATION_NAME.match(path.name)
        if not match:
            read(path)
            problems.append(Finding("DBK013", settings.relative(path), 1, 1,
                                    "not a migration file name (NNNN_name.sql or NNNN_name.rollback.sql, "
                                    "lowercase letters, digits, underscores); dbkit refuses to load it"))
            continue
        (rollbacks if match["rollback"] else forwards)[path.name.split(".")[0]] = path
    for stem in sorted(set(rollbacks) - set(forwards)):
        read(rollbacks[stem])
        problems.append(Finding("DBK013", settings.relative(rollbacks[stem]), 1, 1,
                                f"rollback without its migration {stem}.sql; rename or delete it"))
    migrations: list[_Migration] = []
    for stem in sorted(forwards):
        forward = read(forwards[stem])
        rollback = read(rollbacks[stem]) if stem in rollbacks else None
        transactional = _check_header(forward, problems)
        if rollback is None:
            _report_file(forward, "DBK010", f"migration {stem} has no rollback; create {stem}.rollback.sql beside it "
                         "that reverses it statement by statement", problems)
        else:
            _check_header(rollback, problems)
            if rollback.parsed and not rollback.statements:
                _report_file(rollback, "DBK010", f"rollback of {stem} is empty; write the statements that undo "
                             "the migration (or `raise exception` with the reason it cannot be undone)", problems)
            for line, raw in _include_lines(rollback):
                problems.append(Finding("DBK012", rollback.name, line, 1,
                                        f"include {raw} in a rollback is never expanded; drop the included "
                                        "objects explicitly instead"))
        includes: list[tuple[int, _File]] = []
        for line, raw in _include_lines(forward):
            target = (settings.root / raw).resolve()
            if not target.is_relative_to(settings.sql_dir.resolve()):
                problems.append(Finding("DBK012", forward.name, line, 1,
                                        f"include {raw} is outside {settings.relative(settings.sql_dir)}/; "
                                        + RULES["DBK012"].fix))
            elif not target.is_file():
                problems.append(Finding("DBK012", forward.name, line, 1,
                                        f"included file {raw} does not exist; " + RULES["DBK012"].fix))
            else:
                includes.append((line, read(target)))
        migrations.append(_Migration(id=stem, module=module_dir.name, forward=forward, rollback=rollback,
                                     transactional=transactional, includes=includes))
    return migrations


def _include_lines(source: _File) -> list[tuple[int, str]]:
    return [(number, match["path"]) for number, raw in enumerate(source.text.splitlines(), start=1)
            if (match := _INCLUDE.match(raw))]


def _check_header(source: _File, problems: list[Finding]) -> bool:
    """DBK011 on the header's directives; returns the migration's transactional flag."""
    transactional = True
    for line, text in source.header:
        match = _DIRECTIVE.match(text)
        if not match:
            continue
        key, value = match["key"], match["value"]
        if key.lower() in KNOWN_DIRECTIVES and key != key.lower():
            _report_at(source, line, "DBK011", f"directive {key!r} must be lowercase (`-- {key.lower()}:`); "
                       "yoyo ignores it as written", problems)
        elif key == "dbkit":
            _report_at(source, line, "DBK011", "`-- dbkit:` is read as an unknown header directive (dbkit refuses "
                       "to load the file); write the allow marker as `-- dbkit-allow DBKnnn <reason>`", problems)
        elif key == key.lower() and key not in KNOWN_DIRECTIVES:
            _report_at(source, line, "DBK011", f"unknown header directive {key!r}, which yoyo would silently "
                       "ignore; " + RULES["DBK011"].fix, problems)
        elif key == "transactional":
            if value.lower() not in ("true", "false"):
                _report_at(source, line, "DBK011", f"transactional must be true or false, not {value!r}", problems)
            else:
                transactional = value.lower() == "true"
    return transactional


def _report_file(source: _File, rule: str, message: str, problems: list[Finding]) -> None:
    _report_at(source, 1, rule, message, problems)


def _report_at(source: _File, line: int, rule: str, message: str, problems: list[Finding]) -> None:
    problems.append(Finding(rule, source.name, line, 1, message))


# ---------------------------------------------------------------- AST helpers


def _walk(node: Any, path: tuple[tuple[Any, str], ...] = ()) -> Iterator[tuple[Any, tuple[tuple[Any, str], ...]]]:
    """Every AST node under ``node`` with its ancestors as (parent, attribute) pairs."""
    from pglast import ast

    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item, path)
    elif isinstance(node, ast.Node):
        yield node, path
        for attr in node:
            value = getattr(node, attr)
            if isinstance(value, (ast.Node, list, tuple)):
                yield from _walk(value, (*path, (node, attr)))


def _strings(nodes: Any) -> tuple[str, ...]:
    return tuple(getattr(n, "sval", str(n)) for n in nodes or ())


def _relation(rangevar: Any) -> str:
    return f"{rangevar.schemaname or 'public'}.{rangevar.relname}"


def _qualified(names: Sequence[str]) -> str:
    return ".".join(names) if len(names) > 1 else f"public.{names[0]}"


def _kind(node: Any) -> str:
    return type(node).__name__


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _is_auth_call(node: Any) -> bool:
    return _kind(node) == "FuncCall" and _strings(node.funcname) in _AUTH_CALLS


def _wrapped(path: tuple[tuple[Any, str], ...]) -> bool:
    """True when the nearest enclosing SELECT has no FROM and holds the call in its target list."""
    for parent, attr in reversed(path):
        if _kind(parent) == "SelectStmt":
            return attr == "targetList" and not parent.fromClause
    return False


def _table_of_cmds(stmt: Any) -> Iterator[Any]:
    if _kind(stmt) == "AlterTableStmt" and _enum_name(stmt.objtype) == "OBJECT_TABLE":
        yield from stmt.cmds or ()


@dataclass(frozen=True)
class _ForeignKey:
    name: str | None
    table: str
    columns: tuple[str, ...]
    references: str
    stmt: _Stmt
    offset: int


@dataclass(frozen=True)
class _Index:
    name: str | None
    table: str
    columns: tuple[str | None, ...]  # None: an expression
    partial: bool
    not_null: frozenset[str] = frozenset()  # columns the predicate only requires to be NOT NULL


def _constraint_offset(constraint: Any, stmt: _Stmt) -> int:
    location = getattr(constraint, "location", None)
    return location if isinstance(location, int) and location >= 0 else stmt.start


# ---------------------------------------------------------------- the rules


class _Checker:
    def __init__(self, project: _Project, exposed: tuple[str, ...]):
        self.project = project
        self.exposed = exposed
        self.findings: list[Finding] = []
        self.allowed: list[Allowed] = []

    def run(self) -> tuple[list[Finding], list[Allowed]]:
        for problem in self.project.problems:
            self._emit_file_level(problem)
        for source in self.project.files:
            if source.parsed:
                self._statement_rules(source)
        self._ownership()
        for migration in self.project.migrations:
            self._migration_rules(migration)
        self._schema_rules()
        return self.findings, self.allowed

    # -- emitting

    def _emit(self, rule: str, stmt: _Stmt, message: str, offset: int | None = None) -> None:
        at = stmt.start if offset is None else offset
        finding = Finding(rule, stmt.file.name, stmt.file.line_of(at), stmt.file.column_of(at), message)
        self._silence_or_keep(finding, stmt.allows)

    def _emit_file_level(self, finding: Finding) -> None:
        source = next((f for f in self.project.files if f.name == finding.path), None)
        self._silence_or_keep(finding, source.header_allows if source else {})

    def _silence_or_keep(self, finding: Finding, allows: dict[str, str]) -> None:
        reason = allows.get(finding.rule)
        if reason:
            self.allowed.append(Allowed(finding=finding, reason=reason))
        elif reason == "":
            self.findings.append(Finding(finding.rule, finding.path, finding.line, finding.column,
                                         finding.message + " (the dbkit-allow marker needs a reason to count)"))
        else:
            self.findings.append(finding)

    # -- one statement at a time, every file

    def _statement_rules(self, source: _File) -> None:
        pinned = set()
        for stmt in source.statements:
            node = stmt.node
            if _kind(node) == "AlterFunctionStmt":
                for action in node.actions or ():
                    if action.defname == "set" and getattr(action.arg, "name", None) == "search_path":
                        pinned.add(_strings(node.func.objname))
        for stmt in source.statements:
            node = stmt.node
            kind = _kind(node)
            if kind == "CreateFunctionStmt":
                self._security_definer(stmt, _strings(node.funcname), node.options, pinned)
            elif kind == "AlterFunctionStmt":
                self._security_definer(stmt, _strings(node.func.objname), node.actions, pinned)
            elif kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
                self._policy(stmt)

    def _security_definer(self, stmt: _Stmt, name: tuple[str, ...], options: Any, pinned: set[tuple[str, ...]]) -> None:
        definer = any(o.defname == "security" and getattr(o.arg, "boolval", False) for o in options or ())
        has_path = any(o.defname == "set" and getattr(o.arg, "name", None) == "search_path" for o in options or ())
        if definer and not has_path and name not in pinned:
            self._emit("DBK001", stmt, f"function {_qualified(name)} is SECURITY DEFINER without SET search_path, "
                       "so a caller's search_path can hijack the names it uses; " + RULES["DBK001"].fix)

    def _policy(self, stmt: _Stmt) -> None:
        node = stmt.node
        table = _relation(node.table)
        label = f"policy {node.policy_name} on {table}"
        if _kind(node) == "CreatePolicyStmt":
            roles = node.roles or ()
            if not roles or all(_enum_name(r.roletype) == "ROLESPEC_PUBLIC" for r in roles):
                self._emit("DBK005", stmt, f"{label} has no TO role, so it applies to every role (PUBLIC); "
                           + RULES["DBK005"].fix)
        for clause in (node.qual, node.with_check):
            if clause is None:
                continue
            for found, path in _walk(clause):
                if _is_auth_call(found) and not _wrapped(path):
                    call = ".".join(_strings(found.funcname)) + "()"
                    offset = found.location if isinstance(found.location, int) and found.location >= 0 else None
                    self._emit("DBK004", stmt, f"{label} calls {call} outside a scalar subquery, so it runs "
                               f"once per row; write (select {call[:-2]}(…)) — " + RULES["DBK004"].fix, offset)

    # -- include ownership

    def _ownership(self) -> None:
        owners: dict[str, str] = {}
        for migration in self.project.migrations:
            for line, included in migration.includes:
                if included.name in owners and owners[included.name] != migration.id:
                    self._emit_file_level(Finding(
                        "DBK012", migration.forward.name, line, 1,
                        f"{included.name} is also included by {owners[included.name]}; a function or policy file "
                        "belongs to exactly one migration"))
                owners.setdefault(included.name, migration.id)
                for nested_line, raw in _include_lines(included):
                    self._emit_file_level(Finding("DBK012", included.name, nested_line, 1,
                                                  f"nested include {raw} is never expanded; include it from the "
                                                  "migration instead"))
        sql_dir = self.project.settings.sql_dir
        for sub in ("functions", "policies"):
            folder = sql_dir / sub
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.sql")):
                name = self.project.settings.relative(path)
                if name not in owners:
                    self._emit_file_level(Finding("DBK012", name, 1, 1,
                                                  f"not included by any migration, so it never runs; add "
                                                  f"`-- include: {name}` to the migration that introduces it"))

    # -- one migration (with its includes)

    def _migration_rules(self, migration: _Migration) -> None:
        statements = migration.statements()
        created = {_relation(s.node.relation) for s in statements
                   if _kind(s.node) == "CreateStmt" and s.node.relation.relpersistence != "t"}
        created |= {_relation(s.node.into.rel) for s in statements if _kind(s.node) == "CreateTableAsStmt"}
        rls_on = {_relation(s.node.relation) for s in statements for cmd in _table_of_cmds(s.node)
                  if _enum_name(cmd.subtype) == "AT_EnableRowSecurity"}
        for stmt in statements:
            node = stmt.node
            kind = _kind(node)
            if kind == "CreateStmt" and node.relation.relpersistence != "t":
                table = _relation(node.relation)
                if table.split(".")[0] in self.exposed and table not in rls_on:
                    self._emit("DBK002", stmt, f"table {table} is in exposed schema {table.split('.')[0]} but "
                               f"{migration.id} does not enable row level security on it; " + RULES["DBK002"].fix)
            elif kind == "IndexStmt":
                table = _relation(node.relation)
                if node.concurrent and migration.transactional:
                    self._emit("DBK008", stmt, f"CREATE INDEX CONCURRENTLY on {table} in a transactional "
                               f"migration fails at apply time; " + RULES["DBK008"].fix)
                if not node.concurrent and table not in created:
                    self._emit("DBK007", stmt, f"CREATE INDEX {node.idxname or ''} on {table}, which "
                               f"{migration.id} did not create; " + RULES["DBK007"].fix)
            elif kind == "DropStmt":
                if node.concurrent and migration.transactional:
                    self._emit("DBK008", stmt, "DROP INDEX CONCURRENTLY in a transactional migration fails at "
                               "apply time; " + RULES["DBK008"].fix)
                if _enum_name(node.removeType) == "OBJECT_TABLE":
                    for names in node.objects or ():
                        table = _qualified(_strings(names))
                        if table not in created:
                            self._emit("DBK009", stmt, f"DROP TABLE {table} in forward migration {migration.id} "
                                       "destroys its data; " + RULES["DBK009"].fix)
            elif kind == "ReindexStmt":
                if migration.transactional and any(p.defname == "concurrently" for p in node.params or ()):
                    self._emit("DBK008", stmt, "REINDEX CONCURRENTLY in a transactional migration fails at "
                               "apply time; " + RULES["DBK008"].fix)
            elif kind == "AlterTableStmt":
                table = _relation(node.relation)
                if table in created:
                    continue
                for cmd in _table_of_cmds(node):
                    subtype = _enum_name(cmd.subtype)
                    if subtype == "AT_DropColumn":
                        self._emit("DBK009", stmt, f"DROP COLUMN {table}.{cmd.name} in forward migration "
                                   f"{migration.id} destroys its data; " + RULES["DBK009"].fix)
                    elif subtype == "AT_AlterColumnType":
                        self._emit("DBK009", stmt, f"ALTER COLUMN {table}.{cmd.name} TYPE in forward migration "
                                   f"{migration.id} rewrites the table under an exclusive lock and may lose data; "
                                   + RULES["DBK009"].fix)

    # -- the whole schema: every forward migration in order

    def _schema_rules(self) -> None:
        rls: dict[str, _Stmt] = {}
        policies: set[str] = set()
        foreign_keys: list[_ForeignKey] = []
        indexes: list[_Index] = []
        for migration in self.project.migrations:
            for stmt in migration.statements():
                self._collect(stmt, rls, policies, foreign_keys, indexes)
        for table, stmt in rls.items():
            if table not in policies:
                self._emit("DBK003", stmt, f"row level security is enabled on {table} but no migration or "
                           "policy file creates a policy for it, so only the owner and BYPASSRLS roles see rows; "
                           + RULES["DBK003"].fix)
        for fk in foreign_keys:
            if not any(_covers(index, fk) for index in indexes):
                cols = ", ".join(fk.columns)
                name = f"idx_{fk.table.split('.')[-1]}_{'_'.join(fk.columns)}"
                self._emit("DBK006", fk.stmt, f"foreign key {fk.table} ({cols}) -> {fk.references} has no index "
                           f"starting with ({cols}), so every delete or key update on {fk.references} scans "
                           f"{fk.table}; add `create index {name} on {fk.table} using btree ({cols});` in the "
                           "table's migration", fk.offset)

    def _collect(self, stmt: _Stmt, rls: dict[str, _Stmt], policies: set[str],
                 foreign_keys: list[_ForeignKey], indexes: list[_Index]) -> None:
        node = stmt.node
        kind = _kind(node)
        if kind == "CreateStmt":
            table = _relation(node.relation)
            for element in node.tableElts or ():
                if _kind(element) == "ColumnDef":
                    for constraint in element.constraints or ():
                        self._constraint(stmt, table, constraint, (element.colname,), foreign_keys, indexes)
                elif _kind(element) == "Constraint":
                    self._constraint(stmt, table, element, None, foreign_keys, indexes)
        elif kind == "AlterTableStmt":
            table = _relation(node.relation)
            for cmd in _table_of_cmds(node):
                subtype = _enum_name(cmd.subtype)
                if subtype == "AT_EnableRowSecurity":
                    rls.setdefault(table, stmt)
                elif subtype == "AT_DisableRowSecurity":
                    rls.pop(table, None)
                elif subtype == "AT_AddConstraint":
                    self._constraint(stmt, table, cmd.def_, None, foreign_keys, indexes)
                elif subtype == "AT_AddColumn":
                    for constraint in cmd.def_.constraints or ():
                        self._constraint(stmt, table, constraint, (cmd.def_.colname,), foreign_keys, indexes)
                elif subtype == "AT_DropConstraint":
                    indexes[:] = [i for i in indexes if not (i.table == table and i.name == cmd.name)]
                    foreign_keys[:] = [f for f in foreign_keys if not (f.table == table and f.name == cmd.name)]
        elif kind == "CreatePolicyStmt":
            policies.add(_relation(node.table))
        elif kind == "IndexStmt":
            columns = tuple(getattr(p, "name", None) for p in node.indexParams or ())
            indexes.append(_Index(name=node.idxname, table=_relation(node.relation), columns=columns,
                                  partial=node.whereClause is not None,
                                  not_null=_not_null_columns(node.whereClause)))
        elif kind == "DropStmt":
            remove = _enum_name(node.removeType)
            for names in node.objects or ():
                qualified = _qualified(_strings(names))
                if remove == "OBJECT_INDEX":
                    bare = qualified.split(".")[-1]
                    indexes[:] = [i for i in indexes if i.name != bare]
                elif remove == "OBJECT_TABLE":
                    rls.pop(qualified, None)
                    policies.discard(qualified)
                    indexes[:] = [i for i in indexes if i.table != qualified]
                    foreign_keys[:] = [f for f in foreign_keys if f.table != qualified]

    def _constraint(self, stmt: _Stmt, table: str, constraint: Any, column: tuple[str, ...] | None,
                    foreign_keys: list[_ForeignKey], indexes: list[_Index]) -> None:
        contype = _enum_name(constraint.contype)
        if contype == "CONSTR_FOREIGN":
            columns = column if column is not None else _strings(constraint.fk_attrs)
            foreign_keys.append(_ForeignKey(name=constraint.conname, table=table, columns=columns, references=_relation(constraint.pktable),
                                            stmt=stmt, offset=_constraint_offset(constraint, stmt)))
        elif contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            columns = column if column is not None else _strings(constraint.keys)
            if constraint.indexname and not columns:
                match = next((i for i in indexes if i.name == constraint.indexname), None)
                columns = tuple(c for c in match.columns if c) if match else ()
            indexes.append(_Index(name=constraint.conname, table=table, columns=columns, partial=False))


def _not_null_columns(predicate: Any) -> frozenset[str]:
    """The columns of a predicate made only of ``col IS NOT NULL`` terms joined by AND; else empty."""
    if predicate is None:
        return frozenset()
    terms = predicate.args if _kind(predicate) == "BoolExpr" and _enum_name(predicate.boolop) == "AND_EXPR" \
        else (predicate,)
    columns: set[str] = set()
    for term in terms:
        if not (_kind(term) == "NullTest" and _enum_name(term.nulltesttype) == "IS_NOT_NULL"
                and _kind(term.arg) == "ColumnRef"):
            return frozenset()
        columns.add(_strings(term.arg.fields)[-1])
    return frozenset(columns)


def _covers(index: _Index, fk: _ForeignKey) -> bool:
    """An index covers a foreign key when its leading columns are exactly the key's columns.

    A partial index counts only when its predicate is ``fk_col IS NOT NULL``: the lookup
    PostgreSQL runs for the key (``fk_col = $1``, a strict operator) implies it.
    """
    if index.table != fk.table or len(index.columns) < len(fk.columns):
        return False
    if index.partial and not (index.not_null and index.not_null <= set(fk.columns)):
        return False
    return set(index.columns[: len(fk.columns)]) == set(fk.columns)


# ---------------------------------------------------------------- plpgsql_check


PLPGSQL_CHECK_INSTALL = ("plpgsql_check is not installed on this server; install it "
                         "(Debian/Ubuntu: apt-get install postgresql-15-plpgsql-check) to check function bodies")

_PLPGSQL_FUNCTIONS = """
select p.oid::regprocedure::text as signature, n.nspname, p.proname,
       p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype as is_trigger,
       p.oid::bigint as oid, t2.tgrelid::bigint as relid
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_language l on l.oid = p.prolang
  left join lateral (select t.tgrelid from pg_catalog.pg_trigger t where t.tgfoid = p.oid and not t.tgisinternal
                     order by t.tgrelid limit 1) t2 on true
 where l.lanname = 'plpgsql'
   and n.nspname not in ('pg_catalog', 'information_schema', 'dbkit')
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
 order by 1
"""


def check_functions(conn: psycopg.Connection[Any], settings: Settings) -> list[Finding]:
    """plpgsql_check on every plpgsql function of an applied database, mapped to files and lines.

    Returns one warning finding when the extension is not available on the server.
    """
    available = conn.execute("select 1 from pg_catalog.pg_available_extensions where name = 'plpgsql_check'").fetchone()
    if not available:
        return [Finding("DBK100", "(database)", 1, 1, PLPGSQL_CHECK_INSTALL, severity="warning",
                        checker="plpgsql_check")]
    conn.execute("create extension if not exists plpgsql_check")
    project = _load(settings)
    locations = _function_locations(project)
    findings: list[Finding] = []
    for signature, schema, name, is_trigger, oid, relid in conn.execute(_PLPGSQL_FUNCTIONS).fetchall():
        if is_trigger and relid is None:
            continue  # a trigger function attached to no table cannot be checked without one
        rows = conn.execute(
            "select lineno, statement, sqlstate, message, detail, hint, level "
            "from plpgsql_check_function_tb(%s::oid, %s::oid, extra_warnings => true)",
            (oid, relid or 0),
        ).fetchall()
        where = locations.get((schema, name))
        for lineno, statement, sqlstate, message, detail, hint, level in rows:
            path, line = ("(database)", 1)
            if where is not None:
                path, line = where[0], where[1] + max(int(lineno or 1), 1) - 1
            text = f"{signature}: {message}"
            if detail:
                text += f" ({detail})"
            if hint:
                text += f"; hint: {hint}"
            if sqlstate:
                text += f" [SQLSTATE {sqlstate}]"
            severity = "error" if str(level).lower() == "error" else "warning"
            findings.append(Finding("DBK100", path, line, 1, text, severity=severity, checker="plpgsql_check"))
    return findings


def _function_locations(project: _Project) -> dict[tuple[str, str], tuple[str, int]]:
    """(schema, name) -> (file, line where the body string starts), forward files only."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    forward = {m.forward.name for m in project.migrations} | {f.name for m in project.migrations for _, f in m.includes}
    for source in project.files:
        if source.name not in forward:
            continue
        for stmt in source.statements:
            if _kind(stmt.node) != "CreateFunctionStmt":
                continue
            names = _strings(stmt.node.funcname)
            key = (names[0], names[1]) if len(names) > 1 else ("public", names[0])
            body = next((o for o in stmt.node.options or () if o.defname == "as"), None)
            offset = getattr(body, "arg_location", None) if body is not None else None
            line = source.line_of(offset) if isinstance(offset, int) and offset >= 0 else stmt.line
            found[key] = (source.name, line)  # a later definition (e.g. a function file) wins
    return found


# ---------------------------------------------------------------- rendering


def render(report: LintReport, fmt: str) -> str:
    """The report as text, JSON or GitHub workflow annotations."""
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "text":
        return render_text(report)
    raise InputError(f"unknown lint format {fmt!r}; choose one of {', '.join(FORMATS)}")


def summary(report: LintReport) -> str:
    checked = " + ".join(report.checkers)
    silenced = f", {len(report.allowed)} allowed by marker" if report.allowed else ""
    return (f"{report.errors} error(s), {report.warnings} warning(s) in {len(report.files)} file(s) "
            f"({checked}){silenced}")


def render_text(report: LintReport) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message}" + (" [warning]" if f.severity != "error" else "")
             for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines)


def render_json(report: LintReport) -> str:
    payload = {
        "schema_version": SCHEMA_VERSION,
        "ok": report.ok,
        "errors": report.errors,
        "warnings": report.warnings,
        "checkers": list(report.checkers),
        "files": list(report.files),
        "findings": [asdict(f) for f in report.findings],
        "allowed": [{**asdict(a.finding), "reason": a.reason} for a in report.allowed],
        "rules": {rule.id: {"title": rule.title, "fix": rule.fix} for rule in RULES.values()},
    }
    return json.dumps(payload, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: LintReport) -> str:
    lines = []
    for f in report.findings:
        level = "error" if f.severity == "error" else "warning"
        props = (f"file={_escape_property(f.path)},line={f.line},col={f.column},"
                 f"title={_escape_property(f.rule)}")
        lines.append(f"::{level} {props}::{_escape_data(f.rule + ' ' + f.message)}")
    lines.append(summary(report))
    return "\n".join(lines)
