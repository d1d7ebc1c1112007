"""``dbkit new``: a migration, its rollback and its verification entry, under one name."""

from __future__ import annotations

import re
from pathlib import Path

from dbkit.config import Settings
from dbkit.errors import InputError
from dbkit.project import EXPECTATIONS_FILE, load_project

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
    expectations = mod.path / EXPECTATIONS_FILE
    if not expectations.exists():
        expectations.write_text(
            f'# What `dbkit verify` checks for module {module} (docs/authoring.md).\n\n'
            f'[module]\nname = "{module}"\ndocuments = []\nschemas = ["public"]\n',
            encoding="utf-8",
        )
    with expectations.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n# {stem}: declare what it creates (docs/authoring.md), e.g.\n"
            f"# [tables.\"public.example\"]\n# source = \"<document §>\"\n"
        )
    return forward, rollback, expectations
