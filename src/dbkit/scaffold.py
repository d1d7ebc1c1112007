"""``dbkit new``: a migration, its rollback and its check file, under one name."""

from __future__ import annotations

import re
from pathlib import Path

from dbkit.checkfiles import CHECK_FILE_SUFFIX
from dbkit.config import Settings
from dbkit.errors import ConfigError, InputError
from dbkit.project import Migration, load_project

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
MAX_NAME = 100  # it becomes the file name and the migration id (yoyo stores ids in varchar(255))


def new_migration(settings: Settings, module: str, name: str) -> tuple[Path, ...]:
    if len(name) > MAX_NAME:
        raise InputError(f"migration name is {len(name)} characters long; keep it to {MAX_NAME} "
                         "(it becomes the file name and the migration id)")
    if not _NAME.match(name):
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise InputError(f"migration name {shown!r} must be lowercase letters, digits and underscores")
    project = load_project(settings)
    mod = project.module(module)
    number = max((m.number for m in mod.migrations), default=0) + 1
    stem = f"{number:04d}_{name}"
    if any(m.id == stem for m in project.plan):
        raise InputError(f"migration id {stem!r} already exists")
    forward = mod.path / f"{stem}.sql"
    rollback = mod.path / f"{stem}.rollback.sql"
    depends = "" if mod.migrations else _first_depends(settings, project.plan, stem)
    checks = mod.path / f"{stem}{CHECK_FILE_SUFFIX}"
    written: list[Path] = []
    try:
        _create(forward, written,
                f"-- {stem}: <what this migration does>.\n"
                "-- Source: <document and section>.\n"
                f"{depends}\n"
                "-- Write the forward change here: schema-qualified names, one object per statement,\n"
                "-- each followed by its COMMENT ON and GRANTs. Functions and policies go in sql/ and\n"
                "-- are pulled in with `-- include: sql/functions/<schema>.<name>.sql`.\n"
                "-- (dbkit refuses to apply this file while it holds only comments.)\n")
        _create(rollback, written,
                f"-- Rollback of {stem}: the exact reverse, newest statement first, no CASCADE.\n")
        _create(checks, written,
                f"# Hand-written checks for {stem}: only what its SQL cannot say (docs/authoring.md).\n"
                "# The catalog it produces is recorded by `dbkit snapshot` in catalog.json; do not restate it here.\n"
                "#\n# [[behaviour]]\n# id = \"<module>.<what>\"\n# source = \"<document and section>\"\n"
                "# sql = \"select ...\"\n# expect = [[\"...\"]]\n")
    except OSError as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        raise InputError(f"cannot write the new migration: {exc.strerror or exc}",
                         path=settings.relative(Path(exc.filename)) if exc.filename else None) from None
    return forward, rollback, checks


def _first_depends(settings: Settings, plan: tuple[Migration, ...], stem: str) -> str:
    """A module's first migration depends on what the configuration says (``new_module_depends``),
    except on itself (when it is the migration the others are to depend on)."""
    wanted = [d for d in settings.new_module_depends if d != stem]
    if not wanted:
        return ""
    known = {m.id for m in plan}
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise ConfigError(f"{settings.config_source}: new_module_depends names {unknown[0]!r}, which is no "
                          "migration of the project; `dbkit status` lists the ids")
    return f"-- depends: {' '.join(wanted)}\n"


def _create(path: Path, written: list[Path], text: str) -> None:
    """Write a new file, never over an existing one."""
    with path.open("x", encoding="utf-8") as handle:
        written.append(path)
        handle.write(text)
