"""``dbkit new``: a migration, its rollback and its check file, under one name."""

from __future__ import annotations

import re
from pathlib import Path

from dbkit.config import Settings
from dbkit.errors import InputError
from dbkit.checkfiles import CHECK_FILE_SUFFIX
from dbkit.project import load_project

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def new_migration(settings: Settings, module: str, name: str) -> tuple[Path, ...]:
    if not _NAME.match(name):
        raise InputError(f"migration name {name!r} must be lowercase letters, digits and underscores")
    project = load_project(settings)
    mod = project.module(module)
    number = max((m.number for m in mod.migrations), default=0) + 1
    stem = f"{number:04d}_{name}"
    if any(m.id == stem for m in project.plan):
        raise InputError(f"migration id {stem!r} already exists")
    forward = mod.path / f"{stem}.sql"
    rollback = mod.path / f"{stem}.rollback.sql"
    depends = "" if mod.migrations or module == "platform" else "-- depends: 0001_platform_auth_shim\n"
    forward.write_text(
        f"-- {stem}: <what this migration does>.\n"
        "-- Source: <document and section>.\n"
        f"{depends}\n"
        "-- Write the forward change here: schema-qualified names, one object per statement,\n"
        "-- each followed by its COMMENT ON and GRANTs. Functions and policies go in sql/ and\n"
        "-- are pulled in with `-- include: sql/functions/<schema>.<name>.sql`.\n",
        encoding="utf-8",
    )
    rollback.write_text(
        f"-- Rollback of {stem}: the exact reverse, newest statement first, no CASCADE.\n",
        encoding="utf-8",
    )
    checks = mod.path / f"{stem}{CHECK_FILE_SUFFIX}"
    checks.write_text(
        f"# Hand-written checks for {stem}: only what its SQL cannot say (docs/authoring.md).\n"
        "# The catalog it produces is recorded by `dbkit snapshot` in catalog.json; do not restate it here.\n"
        "#\n# [[behaviour]]\n# id = \"<module>.<what>\"\n# source = \"<document and section>\"\n"
        "# sql = \"select ...\"\n# expect = [[\"...\"]]\n",
        encoding="utf-8",
    )
    return forward, rollback, checks
