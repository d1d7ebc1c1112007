"""The project on disk: modules, migrations, their rollbacks and included SQL files.

Loading is strict where yoyo is lenient: a ``.sql`` file with a malformed name or outside
a module folder, a migration without its rollback, an unknown header directive, a
non-UTF-8 file, a duplicate id, a dependency on an unknown id or a cycle, an include that
is never expanded are errors naming the file (and line), because a file that is silently
skipped is a change that silently never runs.

One loader serves every command: ``load`` returns the project with every problem as a
``Diagnostic`` (``dbkit lint`` reports them all); ``load_project`` raises the first one
(``apply``, ``status``, ``verify`` and the rest refuse to run).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import os
import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dbkit.config import Settings
from dbkit.errors import ConfigError, DbkitError, InputError

MIGRATION_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)(?P<rollback>\.rollback)?\.sql$")
KNOWN_DIRECTIVES = ("depends", "transactional", "include", "replaces")
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
    replaces: str | None = None  # an earlier migration of the module this one is the safer form of
    # A replacement's includes: the replaced migration's files, which stay owned (and recorded) by it.
    shared_includes: tuple[Include, ...] = ()

    @property
    def checksum(self) -> str:
        return self.forward.checksum

    def expanded(self) -> ExpandedSql:
        """The forward SQL with every ``-- include:`` replaced by the file's text."""
        return _expand(self.forward, self.includes + self.shared_includes)

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

    def replacement(self, migration_id: str) -> Migration | None:
        """The migration that declares ``-- replaces: migration_id`` (its safer form), if any."""
        return self._replacements.get(migration_id)

    @functools.cached_property
    def _replacements(self) -> dict[str, Migration]:
        """Replaced id -> its safer form (the first in plan order), looked up once per migration by apply."""
        found: dict[str, Migration] = {}
        for m in self.plan:
            if m.replaces is not None:
                found.setdefault(m.replaces, m)
        return found

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


class Problem(str, Enum):
    """What a diagnostic is about; ``dbkit lint`` reports each kind under one rule."""

    UNREADABLE = "unreadable"  # not UTF-8
    ROLLBACK = "rollback"  # a migration without its rollback file
    HEADER = "header"  # unknown or malformed directive, unknown dependency, dependency cycle
    INCLUDE = "include"  # include outside sql/, missing, shared, nested, in a rollback, or never included
    LAYOUT = "layout"  # misnamed or misplaced file, duplicate id or number, folders vs configured modules


@dataclass(frozen=True)
class Diagnostic:
    """One problem found while loading: the file, the line, what is wrong and what to do."""

    problem: Problem
    path: str  # project-relative file or folder
    line: int | None
    message: str
    severity: str = "error"  # error | warning
    config: bool = False  # the configuration and the folders disagree (a ConfigError)

    def exception(self) -> DbkitError:
        """The exception ``load_project`` raises for this diagnostic."""
        if self.config:
            return ConfigError(self.message)
        return InputError(self.message, path=self.path, line=self.line)


@dataclass(frozen=True)
class LoadResult:
    """The project as far as it could be loaded, every diagnostic, and every SQL file read.

    With error diagnostics the project is partial: a migration without its rollback has
    an empty ``rollback`` (not in ``files``), an unreadable file has empty text, and a
    dependency cycle leaves the plan in folder order.
    """

    project: Project
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[SourceFile, ...]  # every .sql file read, in discovery order

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


def load_project(settings: Settings) -> Project:
    """The project, or the first loading error as an exception (``ConfigError``/``InputError``)."""
    result = load(settings)
    if result.errors:
        raise result.errors[0].exception()
    return result.project


def load(settings: Settings) -> LoadResult:
    """Load everything that can be loaded and report every problem as a diagnostic.

    Only a missing migrations directory raises: there is nothing to load at all.
    """
    migrations_dir = settings.migrations_dir
    if not migrations_dir.is_dir():
        raise ConfigError(
            f"migrations directory {migrations_dir} does not exist "
            f"(config: {settings.config_source}); run dbkit from the project root or set "
            "`migrations` in dbkit.toml"
        )
    return _Loader(settings).run()


class _Loader:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.diagnostics: list[Diagnostic] = []
        self.files: dict[Path, SourceFile] = {}
        self.folders: dict[Path, Path] = {}  # folder -> its resolved path (see resolve)

    def resolve(self, path: Path) -> Path:
        """``path.resolve()``, with each folder resolved once: a file that is not itself a symlink
        resolves to its resolved folder plus its name (one lstat instead of one per component)."""
        if path.name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        folder = self.folders.get(path.parent)
        if folder is None:
            folder = self.folders[path.parent] = path.parent.resolve()
        return folder / path.name

    def report(self, problem: Problem, path: str, line: int | None, message: str, *, config: bool = False) -> None:
        self.diagnostics.append(Diagnostic(problem, path, line, message, config=config))

    def read(self, path: Path) -> SourceFile:
        """Read a file once (by resolved path); a file that is not UTF-8 is reported and empty."""
        key = self.resolve(path)
        if key not in self.files:
            source, problem = _decode(self.settings, path)
            if problem is not None:
                self.diagnostics.append(problem)
            self.files[key] = source
        return self.files[key]

    def run(self) -> LoadResult:
        settings = self.settings
        names = self._module_names()
        for stray in sorted(settings.migrations_dir.glob("*.sql")):
            self.read(stray)
            self.report(Problem.LAYOUT, settings.relative(stray), None,
                        "SQL file outside a module folder is never applied; move it to migrations/<module>/ "
                        "or delete it")
        loaded = [self._load_module(name, settings.migrations_dir / name) for name in names]
        all_migrations = [m for module in loaded for m in module.migrations]
        self._check_unique_ids(all_migrations)
        self._check_dependencies(all_migrations)
        self._check_replacements(all_migrations)
        self._check_includes(all_migrations)
        if settings.sql_dir.is_dir():
            for path in sorted(settings.sql_dir.rglob("*.sql")):
                self.read(path)
        plan = self._order(all_migrations)
        return LoadResult(project=Project(settings=settings, modules=tuple(loaded), plan=plan),
                          diagnostics=tuple(self.diagnostics), files=tuple(self.files.values()))

    def _module_names(self) -> list[str]:
        settings = self.settings
        present = sorted(p.name for p in settings.migrations_dir.iterdir()
                         if p.is_dir() and not p.name.startswith((".", "_")))
        if settings.modules is None:  # no configured order: folder names; `-- depends:` headers order the plan
            return present
        for name in settings.modules:
            if name not in present:
                self.report(Problem.LAYOUT, settings.relative(settings.migrations_dir / name), None,
                            f"module(s) {name} listed in {settings.config_source} have no folder under "
                            f"{settings.migrations_dir}", config=True)
        for name in present:
            if name not in settings.modules:
                self.report(Problem.LAYOUT, settings.relative(settings.migrations_dir / name), None,
                            f"folder(s) {name} under {settings.migrations_dir} are not listed in the modules of "
                            f"{settings.config_source}", config=True)
        return [name for name in settings.modules if name in present]

    def _load_module(self, name: str, path: Path) -> Module:
        settings = self.settings
        forwards: dict[str, Path] = {}
        rollbacks: dict[str, Path] = {}
        with os.scandir(path) as entries:  # the file type from the directory listing, no stat per file
            sql_files = sorted(entry.name for entry in entries if entry.name.endswith(".sql") and entry.is_file())
        for file in (path / name for name in sql_files):  # README, __init__.py, *.toml: not migrations
            match = MIGRATION_NAME.match(file.name)
            if not match:
                self.read(file)
                self.report(Problem.LAYOUT, settings.relative(file), None,
                            "not a migration file name; expected NNNN_name.sql or NNNN_name.rollback.sql "
                            "(lowercase letters, digits, underscores)")
                continue
            stem = file.name[: -len(".rollback.sql")] if match["rollback"] else file.name[: -len(".sql")]
            (rollbacks if match["rollback"] else forwards)[stem] = file
        for stem in sorted(set(rollbacks) - set(forwards)):
            self.read(rollbacks[stem])
            self.report(Problem.LAYOUT, settings.relative(rollbacks[stem]), None,
                        "rollback file without its migration")
        migrations: list[Migration] = []
        numbers: dict[int, str] = {}
        previous: str | None = None
        for stem in sorted(forwards):
            if stem not in rollbacks:
                self.report(Problem.ROLLBACK, settings.relative(forwards[stem]), None,
                            f"migration has no rollback file; create {stem}.rollback.sql beside it")
            number = int(stem[:4])
            if number in numbers:
                self.report(Problem.LAYOUT, settings.relative(forwards[stem]), None,
                            f"two migrations share number {stem[:4]} in module {name}: {numbers[number]} and {stem}")
            numbers.setdefault(number, stem)
            migrations.append(self._load_migration(name, stem, forwards[stem], rollbacks.get(stem), previous))
            previous = stem
        return Module(name=name, path=path, migrations=tuple(migrations))

    def _load_migration(self, module: str, stem: str, forward_path: Path, rollback_path: Path | None,
                        previous: str | None) -> Migration:
        forward = self.read(forward_path)
        if rollback_path is not None:
            rollback = self.read(rollback_path)
        else:  # reported; an empty stand-in keeps the rest of the migration checkable
            missing = forward_path.with_name(f"{stem}.rollback.sql")
            rollback = SourceFile(path=missing, name=self.settings.relative(missing), text="", checksum=checksum(b""))
        directives = self._header_directives(forward)
        if rollback_path is not None:
            self._header_directives(rollback)  # a rollback's header is held to the same rules
            for line, raw in _include_lines(rollback):
                self.report(Problem.INCLUDE, rollback.name, line,
                            f"include {raw} in a rollback is never expanded; drop the included objects explicitly")
        depends: list[str] = [previous] if previous else []
        transactional = True
        replaces: str | None = None
        for key, value, line in directives:
            if key == "replaces":
                replaces = value.strip()
            elif key == "depends":
                depends.extend(d for d in value.split() if d not in depends)
            elif key == "transactional":
                if value.lower() not in {"true", "false"}:
                    self.report(Problem.HEADER, forward.name, line, f"transactional must be true or false, not {value!r}")
                else:
                    transactional = value.lower() == "true"
        includes = tuple(self._includes(forward))
        return Migration(
            id=stem,
            module=module,
            number=int(stem[:4]),
            forward=forward,
            rollback=rollback,
            depends=tuple(depends),
            transactional=transactional,
            includes=() if replaces else includes,
            replaces=replaces,
            shared_includes=includes if replaces else (),
        )

    def _header_directives(self, source: SourceFile) -> list[tuple[str, str, int]]:
        """Directives from the leading comment block; unknown lowercase keys are reported."""
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
                self.report(Problem.HEADER, source.name, number, f"directive {key!r} must be lowercase: -- {key.lower()}:")
            elif key == key.lower() and key not in KNOWN_DIRECTIVES:
                hint = ("; an allow marker is written `-- dbkit-allow DBKnnn <reason>`" if key == "dbkit"
                        else " (prose keys start with a capital letter)")
                self.report(Problem.HEADER, source.name, number,
                            f"unknown header directive {key!r}; known directives: {', '.join(KNOWN_DIRECTIVES)}{hint}")
            elif key in KNOWN_DIRECTIVES and key != "include":
                found.append((key, match["value"], number))
        return found

    def _includes(self, forward: SourceFile) -> list[Include]:
        settings = self.settings
        includes: list[Include] = []
        sql_root = self.resolve(settings.sql_dir)
        for number, raw in _include_lines(forward):
            given = settings.root / raw  # named as written, so a symlinked sql/ keeps its names
            target = self.resolve(given)
            if not target.is_relative_to(sql_root):
                self.report(Problem.INCLUDE, forward.name, number,
                            f"include {raw!r} is outside {settings.relative(settings.sql_dir)}/")
            elif not target.is_file():
                self.report(Problem.INCLUDE, forward.name, number, f"included file {raw!r} does not exist")
            else:
                included = self.read(given)
                for nested_line, nested in _include_lines(included):
                    self.report(Problem.INCLUDE, included.name, nested_line,
                                f"nested include {nested} is never expanded; include it from the migration instead")
                includes.append(Include(file=included, line=number))
        return includes

    def _check_unique_ids(self, migrations: list[Migration]) -> None:
        seen: dict[str, Migration] = {}
        for migration in migrations:
            if migration.id in seen:
                self.report(Problem.LAYOUT, migration.forward.name, None,
                            f"duplicate migration id {migration.id!r} (also in module {seen[migration.id].module}); "
                            "ids are unique across modules")
            seen.setdefault(migration.id, migration)

    def _check_dependencies(self, migrations: list[Migration]) -> None:
        ids = {m.id for m in migrations}
        for migration in migrations:
            for dep in migration.depends:
                if dep not in ids:
                    line = _directive_line(migration.forward, "depends")
                    self.report(Problem.HEADER, migration.forward.name, line,
                                f"depends on unknown migration id {dep!r}")

    def _check_replacements(self, migrations: list[Migration]) -> None:
        """``-- replaces: ID`` names one earlier migration of the same module, replaced once."""
        by_id = {m.id: m for m in migrations}
        claimed: dict[str, str] = {}
        for migration in migrations:
            old_id = migration.replaces
            if old_id is None:
                continue
            line = _directive_line(migration.forward, "replaces")
            old = by_id.get(old_id)
            if old is None or old.module != migration.module or old.number >= migration.number:
                self.report(Problem.HEADER, migration.forward.name, line,
                            f"replaces {old_id!r}, which is not an earlier migration of module {migration.module}")
            elif old_id in claimed:
                self.report(Problem.HEADER, migration.forward.name, line,
                            f"{old_id} is already replaced by {claimed[old_id]}; a migration has one safer form")
            elif old.replaces is not None:
                self.report(Problem.HEADER, migration.forward.name, line,
                            f"{old_id} is itself a replacement; replace {old.replaces} instead")
            elif ({inc.file.path.resolve() for inc in migration.shared_includes}
                  != {inc.file.path.resolve() for inc in old.includes}):
                self.report(Problem.INCLUDE, migration.forward.name, line,
                            f"a replacement includes exactly the files of {old_id} "
                            f"({', '.join(inc.file.name for inc in old.includes) or 'none'}), which stay its own")
            claimed.setdefault(old_id, migration.id)

    def _check_includes(self, migrations: list[Migration]) -> None:
        settings = self.settings
        owners: dict[Path, str] = {}
        for migration in migrations:
            for inc in migration.includes:
                real = self.resolve(inc.file.path)
                if real in owners:
                    self.report(Problem.INCLUDE, migration.forward.name, inc.line,
                                f"{inc.file.name} is included by both {owners[real]} and {migration.id}; "
                                "a function or policy file belongs to exactly one migration")
                owners.setdefault(real, migration.id)
        owned = set(owners)
        for sub in REPEATABLE_DIRS:
            folder = settings.sql_dir / sub
            if not folder.is_dir():
                continue
            for file in sorted(folder.glob("*.sql")):
                if self.resolve(file) not in owned:
                    self.read(file)
                    self.report(Problem.INCLUDE, settings.relative(file), None,
                                "not included by any migration; add `-- include: "
                                f"{settings.relative(file)}` to the migration that introduces it")

    def _order(self, migrations: list[Migration]) -> tuple[Migration, ...]:
        ids = {m.id for m in migrations}
        graph = {m.id: {d for d in m.depends if d in ids} for m in migrations}
        try:
            order = list(topological_sort([m.id for m in migrations], graph))
        except CycleError as exc:
            members = list(exc.args[1]) if len(exc.args) > 1 else []
            first = next((m for m in migrations if m.id in members), migrations[0])
            cycle = ", ".join(members) if members else str(exc)
            self.report(Problem.HEADER, first.forward.name, _directive_line(first.forward, "depends"),
                        f"dependency cycle among migrations: {cycle}")
            return tuple(migrations)
        by_id = {m.id: m for m in migrations}
        return tuple(by_id[i] for i in order)


class CycleError(ValueError):
    """A dependency cycle; ``args[1]`` lists its members in input order (as yoyo's)."""


def topological_sort(items: list[str], graph: Mapping[str, Collection[str]]) -> Iterator[str]:
    """yoyo-migrations' ``yoyo.topologicalsort.topological_sort``, the same algorithm and so
    the same order: the earliest item (in input order) whose dependencies are all out comes
    next. Kept here because importing any yoyo module imports all of yoyo (its backends,
    sqlparse, importlib_metadata): a third of `dbkit status`'s start-up. A test compares the
    two on random graphs."""
    pqueue = list(enumerate(items))
    ordering = {item: ix for ix, item in pqueue}
    seen_since_last_change = 0
    output: set[str] = set()
    blocked_on: dict[str, set[str]] = defaultdict(set)
    blocked: set[str] = set()
    while pqueue:
        if seen_since_last_change == len(pqueue) + len(blocked):
            _raise_cycle(ordering, pqueue, blocked_on)
        _, n = heapq.heappop(pqueue)
        blockers = {d for d in graph.get(n, []) if d not in output and d in ordering}
        if not blockers:
            seen_since_last_change = 0
            output.add(n)
            blocked.discard(n)
            yield n
            for b in blocked_on.pop(n, set()):
                if not any(b in other for other in blocked_on.values()):
                    heapq.heappush(pqueue, (ordering[b], b))
        elif n in blocked:
            seen_since_last_change += 1
        else:
            seen_since_last_change = 0
            blocked.add(n)
            for b in blockers:
                blocked_on[b].add(n)
    if blocked_on:
        _raise_cycle(ordering, pqueue, blocked_on)


def _raise_cycle(ordering: dict[str, int], pqueue: list[tuple[int, str]], blocked_on: dict[str, set[str]]) -> None:
    unresolved = {n for _, n in pqueue}
    unresolved.update(*blocked_on.values())
    raise CycleError(f"Dependency graph loop detected among {unresolved!r}",
                     sorted(unresolved, key=lambda item: ordering[item]))


def read_source(settings: Settings, path: Path) -> SourceFile:
    source, problem = _decode(settings, path)
    if problem is not None:
        raise problem.exception()
    return source


def _decode(settings: Settings, path: Path) -> tuple[SourceFile, Diagnostic | None]:
    name = settings.relative(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Diagnostic(Problem.UNREADABLE, name, line, "file is not valid UTF-8; save it as UTF-8")
        return SourceFile(path=path, name=name, text="", checksum=checksum(data)), problem
    # An editor's UTF-8 byte order mark is not SQL; the checksum stays that of the bytes on disk.
    return SourceFile(path=path, name=name, text=text.removeprefix("\ufeff"), checksum=checksum(data)), None


def _include_lines(source: SourceFile) -> list[tuple[int, str]]:
    """(line, path) of every ``-- include:`` directive in a file."""
    return [(number, match["path"]) for number, raw in enumerate(source.text.splitlines(), start=1)
            if (match := _INCLUDE.match(raw))]


def _directive_line(source: SourceFile, key: str) -> int | None:
    for number, raw in enumerate(source.text.splitlines(), start=1):
        if re.match(rf"^\s*--\s*{key}\s*:", raw):
            return number
    return None


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
