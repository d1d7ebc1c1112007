"""Text for apply, rollback, baseline and repair runs and for ``status``: what happened, then a summary.

A plan (``--dry-run``) and a run both end with one paragraph per module saying what
would change or what changed, so 4,000 lines of SQL never end without a verdict.
"""

from __future__ import annotations

from dbkit.engine import RunResult, Status, Step

_DONE = {"apply": "applied", "reapply": "re-applied", "rollback": "rolled back", "unbaseline": "forgot the baseline of",
         "baseline": "baselined", "repair": "re-recorded", "forget": "forgot"}
_PLANNED = {"apply": "apply", "reapply": "re-apply (changed)", "rollback": "roll back",
            "unbaseline": "forget the baseline of", "baseline": "baseline"}
_NOUN = {"apply": "migration", "reapply": "function/policy file", "rollback": "migration",
         "unbaseline": "baseline record", "baseline": "migration", "repair": "checksum", "forget": "record"}


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def per_module(steps: tuple[Step, ...]) -> list[tuple[str, dict[str, int]]]:
    """module -> action -> count, modules in the order their first step appears."""
    modules: dict[str, dict[str, int]] = {}
    for step in steps:
        counts = modules.setdefault(step.module or "(no module)", {})
        counts[step.action] = counts.get(step.action, 0) + 1
    return list(modules.items())


def run_summary(result: RunResult) -> str:
    """One paragraph: per module, what would change (dry run) or what changed."""
    if not result.steps:
        return "Nothing would change." if result.dry_run else "Nothing changed."
    words = _PLANNED if result.dry_run else _DONE
    parts = []
    for module, counts in per_module(result.steps):
        done = ", ".join(f"{words.get(action, action)} {_plural(n, _NOUN.get(action, 'step'))}"
                         for action, n in counts.items())
        parts.append(f"{module}: {done}")
    head = (f"Plan for {result.database} (dry run, nothing was changed): " if result.dry_run
            else f"Done on {result.database}: ")
    return head + "; ".join(parts) + "."


def render_run(result: RunResult, *, nothing: str, show_sql: bool, verb: str | None = None) -> str:
    """Each step (with its SQL in a dry run when ``show_sql``), then the per-module summary."""
    if not result.steps:
        return nothing + "\n"
    lines: list[str] = []
    for step in result.steps:
        where = f" ({step.module})" if step.module else ""
        if result.dry_run:
            lines.append(f"would {_PLANNED.get(step.action, step.action)} {step.target}{where}")
        else:
            lines.append(f"{verb or _DONE.get(step.action, step.action)} {step.target}{where}")
        if step.drops:
            lines.append(f"  dropped {', '.join(step.drops)}")
        if show_sql and step.sql:
            lines.append(f"-- {step.path}\n{step.sql.rstrip()}\n")
    lines += ["", run_summary(result)]
    return "\n".join(lines) + "\n"


def status_summary(status: Status) -> str:
    applied = len(status.migrations("applied"))
    pending = len(status.migrations("pending"))
    changed = len(status.migrations("changed"))
    files = len(status.files("changed"))
    return (f"{applied} applied, {pending} pending, {changed} changed since applied, {files} changed "
            f"function/policy file(s) in {len(status.modules)} module(s)")


def render_status(result: Status) -> str:
    lines = [f"database {result.database}"]
    for mod in result.modules:
        lines.append(f"\n{mod.name}: {mod.count('applied')} applied, {mod.count('pending')} pending, "
                     f"{mod.count('changed')} changed since applied")
        for m in mod.migrations:
            extra = " (baseline)" if m.baselined else ""
            lines.append(f"  {m.state:<8} {m.id}{extra}")
        for f in mod.files:
            if f.state != "applied":
                lines.append(f"  {'file ' + f.state:<8} {f.path} (owned by {f.owner})")
    if result.cron_jobs is None:
        lines.append("\npg_cron: not installed in this database — no job is scheduled")
    else:
        lines.append(f"\npg_cron: {len(result.cron_jobs)} job(s) scheduled")
        for job, schedule, command in result.cron_jobs:
            lines.append(f"  {schedule:<12} {job}: {command}")
    for unknown in result.unknown_applied:
        lines.append(f"\nwarning: {unknown} is recorded as applied but has no file in this project; "
                     f"restore its files, or clear the record with `dbkit repair --forget {unknown}`")
    lines += ["", status_summary(result)]
    return "\n".join(lines) + "\n"
