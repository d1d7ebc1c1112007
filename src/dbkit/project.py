"""The project on disk: modules, migrations, their rollbacks and included SQL files.

Loading is strict where yoyo is lenient: a ``.sql`` file with a malformed name, a
migration without its rollback, an unknown header directive, a non-UTF-8 file, a
duplicate id, a dependency on an unknown id or a cycle are errors naming the file (and
line), because a file that is silently skipped is a change that silently never runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from yoyo.topologicalsort import CycleError, topological_sort

from dbkit.config import Settings
from dbkit.errors import ConfigError, InputError

MIGRATION_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)(?P<rollback>\.rollback)?\.sql$")
KNOWN_DIRECTIVES = ("depends", "transactional", "include")
_DIRECTIVE = re.compile(r"^--\s*(?P<key>[A-Za-z][A-Za-z0-9_-]*)\s*:\s*(?P<value>.*?)\s*$")
_INCLUDE = re.compile(r"^\s*--\s*include\s*:\s*(?P<path>\S+)\s*$")
REPEATABLE_DIRS = ("functions", "policies")
EXPECTATIONS_FILE = "expectations.toml"


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SourceFile:
    """A SQL file read from disk: its text, its checksum and its project-relative name."""

    path: Path
    name: str  # relative to the project root, for messages
    text: str
    checksum: str


@dataclass(frozen=True)
class Include:
    file: SourceFile
    line: int  # where the include directive stands in the migration

    def expanded(self) -> ExpandedSql:
        """The file alone, as re-applied when its content changed."""
        return _expand(self.file, ())


@dataclass(frozen=True)
class Segment:
    """A run of lines of the expanded SQL that came from one file."""

    first_line: int  # 1-based line in the expanded text
    line_count: int
    source: str  # project-relative file name
    source_first_line: int


@dataclass(frozen=True)
class ExpandedSql:
    text: str
    segments: tuple[Segment, ...]

    def locate(self, line: int) -> tuple[str, int]:
        """Map a line of the expanded text back to (file, line)."""
        for seg in self.segments:
            if seg.first_line <= line < seg.first_line + seg.line_count:
                return seg.source, seg.source_first_line + (line - seg.first_line)
        last = self.segments[-1]
        return last.source, last.source_first_line + last.line_count - 1


@dataclass(frozen=True)
class Migration:
    id: str
    module: str
    number: int
    forward: SourceFile
    rollback: SourceFile
    depends: tuple[str, ...]  # explicit and implied (previous migration of the module)
    transactional: bool
    includes: tuple[Include, ...]

    @property
    def checksum(self) -> str:
        return self.forward.checksum

    def expanded(self) -> ExpandedSql:
        """The forward SQL with every ``-- include:`` replaced by the file's text."""
        return _expand(self.forward, self.includes)

    def expanded_rollback(self) -> ExpandedSql:
        return _expand(self.rollback, ())


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    migrations: tuple[Migration, ...]

    @property
    def expectations_path(self) -> Path:
        return self.path / EXPECTATIONS_FILE


@dataclass(frozen=True)
class Project:
    settings: Settings
    modules: tuple[Module, ...]
    plan: tuple[Migration, ...]  # every migration, dependency-ordered

    def module(self, name: str) -> Module:
        for module in self.modules:
            if module.name == name:
                return module
        known = ", ".join(m.name for m in self.modules)
        raise InputError(f"unknown module {name!r}; known modules: {known}")

    def migration(self, migration_id: str) -> Migration:
        for migration in self.plan:
            if migration.id == migration_id:
                return migration
        raise InputError(f"unknown migration id {migration_id!r}; `dbkit status` lists the ids")

    def closure(self, ids: set[str]) -> tuple[Migration, ...]:
        """The given migrations plus everything they depend on, in plan order."""
        by_id = {m.id: m for m in self.plan}
        wanted: set[str] = set()
        stack = list(ids)
        while stack:
            current = stack.pop()
            if current in wanted:
                continue
            wanted.add(current)
            stack.extend(by_id[current].depends)
        return tuple(m for m in self.plan if m.id in wanted)

    def dependents(self, ids: set[str]) -> tuple[Migration, ...]:
        """Migrations that depend, directly or not, on any of ``ids`` (excluding them)."""
        found: set[str] = set()
        frontier = set(ids)
        while frontier:
            nxt = {m.id for m in self.plan if set(m.depends) & frontier and m.id not in found}
            found |= nxt
            frontier = nxt
        return tuple(m for m in self.plan if m.id in found and m.id not in ids)

    def selected(self, module: str | None) -> tuple[Migration, ...]:
        if module is None:
            return self.plan
        self.module(module)
        return tuple(m for m in self.plan if m.module == module)

    def repeatables(self) -> tuple[tuple[Migration, Include], ...]:
        """Every included function/policy file with the migration that owns it, in plan order."""
        return tuple((m, inc) for m in self.plan for inc in m.includes)


def load_project(settings: Settings) -> Project:
    migrations_dir = settings.migrations_dir
    if not migrations_dir.is_dir():
        raise ConfigError(
            f"migrations directory {migrations_dir} does not exist "
            f"(config: {settings.config_source}); run dbkit from the project root or set "
            "`migrations` in dbkit.toml"
        )
    names = _module_names(settings)
    loaded: list[Module] = []
    for name in names:
        loaded.append(_load_module(settings, name, migrations_dir / name))
    all_migrations = [m for module in loaded for m in module.migrations]
    _check_unique_ids(all_migrations)
    _check_dependencies(all_migrations)
    _check_includes(settings, all_migrations)
    graph = {m.id: set(m.depends) for m in all_migrations}
    try:
        order = list(topological_sort([m.id for m in all_migrations], graph))
    except CycleError as exc:
        cycle = ", ".join(exc.args[1]) if len(exc.args) > 1 else str(exc)
        raise InputError(f"dependency cycle among migrations: {cycle}") from None
    by_id = {m.id: m for m in all_migrations}
    return Project(settings=settings, modules=tuple(loaded), plan=tuple(by_id[i] for i in order))


def _module_names(settings: Settings) -> list[str]:
    present = sorted(p.name for p in settings.migrations_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if settings.modules is None:
        return sorted(present, key=lambda n: (n != "platform", n))
    missing = [m for m in settings.modules if m not in present]
    if missing:
        raise ConfigError(
            f"module(s) {', '.join(missing)} listed in {settings.config_source} have no folder under {settings.migrations_dir}"
        )
    unlisted = [m for m in present if m not in settings.modules]
    if unlisted:
        raise ConfigError(
            f"folder(s) {', '.join(unlisted)} under {settings.migrations_dir} are not listed in the modules of {settings.config_source}"
        )
    return list(settings.modules)


def _load_module(settings: Settings, name: str, path: Path) -> Module:
    forwards: dict[str, Path] = {}
    rollbacks: dict[str, Path] = {}
    for file in sorted(path.iterdir()):
        if not file.is_file() or not file.name.endswith(".sql"):
            continue  # README, __init__.py, expectations.toml: not migrations
        match = MIGRATION_NAME.match(file.name)
        if not match:
            raise InputError(
                "not a migration file name; expected NNNN_name.sql or NNNN_name.rollback.sql "
                "(lowercase letters, digits, underscores)",
                path=settings.relative(file),
            )
        stem = file.name[: -len(".rollback.sql")] if match["rollback"] else file.name[: -len(".sql")]
        (rollbacks if match["rollback"] else forwards)[stem] = file
    for stem in sorted(set(rollbacks) - set(forwards)):
        raise InputError("rollback file without its migration", path=settings.relative(rollbacks[stem]))
    migrations: list[Migration] = []
    numbers: dict[int, str] = {}
    previous: str | None = None
    for stem in sorted(forwards):
        if stem not in rollbacks:
            raise InputError(
                f"migration has no rollback file; create {stem}.rollback.sql beside it",
                path=settings.relative(forwards[stem]),
            )
        number = int(stem[:4])
        if number in numbers:
            raise InputError(
                f"two migrations share number {stem[:4]} in module {name}: {numbers[number]} and {stem}",
                path=settings.relative(forwards[stem]),
            )
        numbers[number] = stem
        migration = _load_migration(settings, name, stem, forwards[stem], rollbacks[stem], previous)
        migrations.append(migration)
        previous = stem
    return Module(name=name, path=path, migrations=tuple(migrations))


def read_source(settings: Settings, path: Path) -> SourceFile:
    name = settings.relative(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("file is not valid UTF-8; save it as UTF-8", path=name, line=line) from None
    # An editor's UTF-8 byte order mark is not SQL; the checksum stays that of the bytes on disk.
    return SourceFile(path=path, name=name, text=text.removeprefix("\ufeff"), checksum=checksum(data))


def _load_migration(
    settings: Settings, module: str, stem: str, forward_path: Path, rollback_path: Path, previous: str | None
) -> Migration:
    forward = read_source(settings, forward_path)
    rollback = read_source(settings, rollback_path)
    directives = _header_directives(forward)
    _header_directives(rollback)  # a rollback's header is held to the same rules
    depends: list[str] = [previous] if previous else []
    transactional = True
    for key, value, line in directives:
        if key == "depends":
            depends.extend(d for d in value.split() if d not in depends)
        elif key == "transactional":
            if value.lower() not in {"true", "false"}:
                raise InputError(f"transactional must be true or false, not {value!r}", path=forward.name, line=line)
            transactional = value.lower() == "true"
    includes = tuple(_includes(settings, forward))
    return Migration(
        id=stem,
        module=module,
        number=int(stem[:4]),
        forward=forward,
        rollback=rollback,
        depends=tuple(depends),
        transactional=transactional,
        includes=includes,
    )


def _header_directives(source: SourceFile) -> list[tuple[str, str, int]]:
    """Directives from the leading comment block; unknown lowercase keys are errors."""
    found: list[tuple[str, str, int]] = []
    for number, raw in enumerate(source.text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        key = match["key"]
        if key.lower() in KNOWN_DIRECTIVES and key != key.lower():
            raise InputError(f"directive {key!r} must be lowercase: -- {key.lower()}:", path=source.name, line=number)
        if key == key.lower() and key not in KNOWN_DIRECTIVES:
            raise InputError(
                f"unknown header directive {key!r}; known directives: {', '.join(KNOWN_DIRECTIVES)} "
                "(prose keys start with a capital letter)",
                path=source.name,
                line=number,
            )
        if key in KNOWN_DIRECTIVES and key != "include":
            found.append((key, match["value"], number))
    return found


def _includes(settings: Settings, forward: SourceFile) -> list[Include]:
    includes: list[Include] = []
    for number, raw in enumerate(forward.text.splitlines(), start=1):
        match = _INCLUDE.match(raw)
        if not match:
            continue
        given = settings.root / match["path"]  # named as written, so a symlinked sql/ keeps its names
        target = given.resolve()
        sql_root = settings.sql_dir.resolve()
        if not target.is_relative_to(sql_root):
            raise InputError(f"include {match['path']!r} is outside {settings.relative(settings.sql_dir)}/", path=forward.name, line=number)
        if not target.is_file():
            raise InputError(f"included file {match['path']!r} does not exist", path=forward.name, line=number)
        includes.append(Include(file=read_source(settings, given), line=number))
    return includes


def _check_unique_ids(migrations: list[Migration]) -> None:
    seen: dict[str, Migration] = {}
    for migration in migrations:
        if migration.id in seen:
            raise InputError(
                f"duplicate migration id {migration.id!r} (also in module {seen[migration.id].module}); ids are unique across modules",
                path=migration.forward.name,
            )
        seen[migration.id] = migration


def _check_dependencies(migrations: list[Migration]) -> None:
    ids = {m.id for m in migrations}
    for migration in migrations:
        for dep in migration.depends:
            if dep not in ids:
                line = _directive_line(migration.forward, "depends")
                raise InputError(f"depends on unknown migration id {dep!r}", path=migration.forward.name, line=line)


def _directive_line(source: SourceFile, key: str) -> int | None:
    for number, raw in enumerate(source.text.splitlines(), start=1):
        if re.match(rf"^\s*--\s*{key}\s*:", raw):
            return number
    return None


def _check_includes(settings: Settings, migrations: list[Migration]) -> None:
    owners: dict[Path, str] = {}
    for migration in migrations:
        for inc in migration.includes:
            real = inc.file.path.resolve()
            if real in owners:
                raise InputError(
                    f"{inc.file.name} is included by both {owners[real]} and {migration.id}; "
                    "a function or policy file belongs to exactly one migration",
                    path=migration.forward.name,
                    line=inc.line,
                )
            owners[real] = migration.id
    for sub in REPEATABLE_DIRS:
        folder = settings.sql_dir / sub
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.sql")):
            if file.resolve() not in owners:
                raise InputError(
                    "not included by any migration; add `-- include: "
                    f"{settings.relative(file)}` to the migration that introduces it",
                    path=settings.relative(file),
                )


def _expand(source: SourceFile, includes: tuple[Include, ...]) -> ExpandedSql:
    by_line = {inc.line: inc for inc in includes}
    out: list[str] = []
    segments: list[Segment] = []
    run_start_out = 1
    run_start_src = 1
    lines = source.text.splitlines()
    for number, raw in enumerate(lines, start=1):
        inc = by_line.get(number)
        if inc is None:
            out.append(raw)
            continue
        out.append(raw)  # keep the directive line itself as a marker comment
        segments.append(Segment(run_start_out, number - run_start_src + 1, source.name, run_start_src))
        included = inc.file.text.splitlines()
        segments.append(Segment(len(out) + 1, max(len(included), 1), inc.file.name, 1))
        out.extend(included)
        run_start_out = len(out) + 1
        run_start_src = number + 1
    segments.append(Segment(run_start_out, max(len(lines) - run_start_src + 1, 1), source.name, run_start_src))
    return ExpandedSql(text="\n".join(out) + "\n", segments=tuple(segments))
