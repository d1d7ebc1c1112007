"""Which migrations are history: already applied, so their change-safety findings are moot.

A change-safety finding (how a migration locks, rewrites or breaks clients while it runs)
helps only before the migration runs; once it is applied somewhere, the file may not be
edited (its checksum is recorded), and a safer form can only be a new migration. So:

* with ``--database URL``, the target's own record says what is applied there;
* without a target, ``lint-baseline.toml`` at the project root says, per module, through
  which migration everything is released, with the reason::

      reason = "released to production in 2024.06; safer forms follow as new migrations"
      [through]
      billing = "0002_invoices"

Findings of other rules (a missing policy, an unindexed foreign key, a definer function
without search_path) describe the schema as it is and stay errors on history too: they
are fixed by a new migration, which clears them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from dbkit.config import Settings
from dbkit.errors import ConfigError
from dbkit.lint.grading import Target
from dbkit.project import Migration, Project

BASELINE_FILE = "lint-baseline.toml"


@dataclass(frozen=True)
class History:
    reasons: Mapping[str, str] = field(default_factory=dict)  # migration id -> why it counts as applied
    pending_files: frozenset[str] = frozenset()  # included files that will run again although their owner ran
    style_reasons: Mapping[str, str] = field(default_factory=dict)  # migration id -> why its style is history

    def reason(self, migration: Migration | None, path: str) -> str | None:
        if migration is None or path in self.pending_files:
            return None
        return self.reasons.get(migration.id)

    def style_reason(self, migration: Migration | None) -> str | None:
        """Why a style finding of ``migration`` is set aside: it was written before the style rule."""
        return None if migration is None else self.style_reasons.get(migration.id)


def from_target(target: Target, project: Project) -> History | None:
    """What the target's record says is applied; None when the record could not be read."""
    if target.applied is None:
        return None
    reasons = {m.id: f"applied on {target.description} at {target.applied[m.id]}"
               for m in project.plan if m.id in target.applied}
    return History(reasons=reasons, pending_files=target.pending_files, style_reasons=reasons)


def from_baseline(settings: Settings, project: Project) -> History:
    """What ``lint-baseline.toml`` says is released (empty when there is no such file)."""
    path = settings.root / BASELINE_FILE
    if not path.is_file():
        return History()
    name = settings.relative(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: not valid TOML ({exc})") from None
    known = ("reason", "through", "style_reason", "style_through")
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}; known keys: {', '.join(known)}")
    reasons = _through(name, data, "reason", "through", project)
    style = _through(name, data, "style_reason", "style_through", project) if "style_through" in data else {}
    return History(reasons=reasons, style_reasons=style)


def _through(name: str, data: dict[str, object], reason_key: str, through_key: str,
             project: Project) -> dict[str, str]:
    """migration id -> reason for every migration through ``[through_key]``'s id, per module."""
    reason = data.get(reason_key)
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{name}: `{reason_key}` must say why these migrations count as applied "
                          "(a non-empty string)")
    through = data.get(through_key, {})
    if not isinstance(through, dict) or not all(isinstance(v, str) for v in through.values()):
        raise ConfigError(f"{name}: [{through_key}] maps a module to the id of its last applied migration")
    modules = {m.name: m for m in project.modules}
    reasons: dict[str, str] = {}
    for module_name, last in through.items():
        if module_name not in modules:
            raise ConfigError(f"{name}: unknown module {module_name!r} in [{through_key}]; known modules: "
                              f"{', '.join(modules)}")
        migrations = modules[module_name].migrations
        ids = [m.id for m in migrations]
        if last not in ids:
            raise ConfigError(f"{name}: {last!r} is not a migration of module {module_name}")
        for migration in migrations[: ids.index(last) + 1]:
            reasons[migration.id] = f"applied history ({name}: {reason.strip()})"
    return reasons
