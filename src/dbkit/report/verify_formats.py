"""A ``VerifyReport`` as text, JSON, JUnit XML or Markdown (HTML: ``dbkit.report.html``).

Each format leads with the verdict, then failures, then warnings and skipped checks
(repeated lines counted), then details. Masking happens once, in ``dbkit.report.render``.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict

import click

from dbkit.report.model import (
    Digest,
    Group,
    cell_short,
    cell_word,
    digest,
    identity_labels,
    matrix_columns,
    ordered,
    rls_matrix,
    users_text,
)
from dbkit.verify import Check, VerifyReport

JSON_SCHEMA_VERSION = 1
_STYLE = {"fail": {"fg": "red", "bold": True}, "warn": {"fg": "yellow"}, "pass": {"fg": "green"},
          "skipped": {"dim": True}}


def summary(report: VerifyReport, facts: Digest | None = None) -> dict[str, object]:
    facts = facts or digest(report)
    return {
        "result": "failed" if facts.failed else "passed",
        "database": report.database,
        "server_version": report.server_version,
        "dbkit_version": report.dbkit_version,
        "started_at": report.started_at,
        "duration_ms": report.duration_ms,
        "modules": list(report.modules),
        "catalog_only": report.catalog_only,
        "writes": report.writes,
        "migration_status": report.migration_status,
        "counts": facts.counts.as_dict(),
        "module_counts": {m: c.as_dict() for m, c in facts.modules},
    }


def mode_line(report: VerifyReport) -> str:
    return ("read-only: checks that write (behaviour with setup, RLS matrix) were not run" if report.catalog_only
            else "with writes: behaviour, RLS matrix and plan checks ran in transactions that were rolled back")


# ------------------------------------------------------------------ text


Paint = Callable[[str, str], str]  # (status, text) -> text, coloured by status or not


def render_text(report: VerifyReport, *, color: bool = False) -> str:
    def paint(status: str, text: str) -> str:
        return click.style(text, **_STYLE[status]) if color else text  # type: ignore[arg-type]

    facts = digest(report)
    verdict = paint("fail" if facts.failed else "pass", f"{facts.verdict}: {facts.counts.sentence()}")
    lines = [
        verdict,
        f"dbkit verify {report.dbkit_version} — {report.database} (PostgreSQL {report.server_version})",
        f"started {report.started_at}, {report.duration_ms:.0f} ms; migrations: {report.migration_status}; "
        + ("read-only" if report.catalog_only else "with writes (rolled back)"),
        "",
    ]
    lines += _text_noteworthy(facts.noteworthy, paint)
    lines += _text_module_counts(facts)
    lines += _text_matrix(report, paint)
    lines += ["", verdict]
    return "\n".join(lines) + "\n"


def _text_noteworthy(listed: tuple[Group, ...], paint: Paint) -> list[str]:
    """Failures, warnings and skips, one line each, with the message's parts indented below."""
    if not listed:
        return []
    wmod = max(len(g.module) for g in listed)
    wkind = max(len(g.kind) for g in listed)
    lines = [f"{'STATUS':<7}  {'MODULE':<{wmod}}  {'KIND':<{wkind}}  CHECK (passed checks: see the per-module counts)"]
    for g in listed:
        lines.append(f"{paint(g.status, f'{g.status.upper():<7}')}  {g.module:<{wmod}}  {g.kind:<{wkind}}  {g.label()}")
        lines += [f"{'':9}{part}" for part in (g.message.split("; ") if g.message else ())]
    return lines + [""]


def _text_module_counts(facts: Digest) -> list[str]:
    if not facts.modules:
        return []
    wmod = max(max(len(m) for m, _ in facts.modules), len("MODULE"))
    return [f"{'MODULE':<{wmod}}  {'FAIL':>5}  {'WARN':>5}  {'PASS':>5}  {'SKIP':>5}"] + [
        f"{module:<{wmod}}  {mc.fail:>5}  {mc.warn:>5}  {mc.passed:>5}  {mc.skipped:>5}" for module, mc in facts.modules]


def _text_matrix(report: VerifyReport, paint: Paint) -> list[str]:
    """Every RLS cell, per table: identities down, commands across."""
    matrix = rls_matrix(report)
    if not matrix:
        return []
    lines = ["", "RLS access matrix (expected/actual: A = allowed, D = denied, E = error, - = not run)"]
    for table, rows in matrix.items():
        columns = matrix_columns(rows)
        width = max([9] + [len(c) + 2 for c in columns])
        lines.append(f"  {table}")
        lines.append(f"    {'':<26}" + "".join(f"{cmd.upper():<{width}}" for cmd in columns))
        for identity, label in identity_labels(report).items():
            cells = [rows.get(identity, {}).get(cmd) for cmd in columns]
            lines.append(f"    {label:<26}" + "".join(
                paint(check.status, f"{cell_short(check):<{width}}") if check else f"{'':<{width}}" for check in cells))
    return lines


# ------------------------------------------------------------------ json


def render_json(report: VerifyReport) -> str:
    matrix = {
        table: {
            identity: {cmd: {"expected": c.expected, "actual": c.actual, "status": c.status} for cmd, c in cells.items()}
            for identity, cells in rows.items()
        }
        for table, rows in rls_matrix(report).items()
    }
    payload = {
        "schema_version": JSON_SCHEMA_VERSION,
        "summary": summary(report),
        "checks": [_check_dict(c) for c in report.checks],
        "rls_matrix": matrix,
        "rls_users": {i.name: i.sub for i in report.identities if i.sub},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _check_dict(check: Check) -> dict[str, object]:
    data = asdict(check)
    data["cell"] = list(check.cell) if check.cell else None
    return data


# ------------------------------------------------------------------ junit


def render_junit(report: VerifyReport) -> str:
    """JUnit XML: one <testsuite> per module, one <testcase> per check."""
    facts = digest(report)
    root = ET.Element("testsuites", {
        "name": "dbkit verify",
        "tests": str(facts.counts.total),
        "failures": str(facts.counts.fail),
        "errors": "0",
        "skipped": str(facts.counts.skipped),
        "time": f"{report.duration_ms / 1000:.3f}",
    })
    for module, mc in facts.modules:
        checks = [c for c in report.checks if c.module == module]
        suite = ET.SubElement(root, "testsuite", {
            "name": module,
            "tests": str(mc.total),
            "failures": str(mc.fail),
            "errors": "0",
            "skipped": str(mc.skipped),
            "time": f"{sum(c.duration_ms for c in checks) / 1000:.3f}",
            "timestamp": report.started_at,
        })
        props = ET.SubElement(suite, "properties")
        for name, value in (("database", report.database), ("server_version", report.server_version),
                            ("dbkit_version", report.dbkit_version), ("migration_status", report.migration_status),
                            ("catalog_only", str(report.catalog_only).lower())):
            ET.SubElement(props, "property", {"name": name, "value": value})
        for c in ordered(checks):
            case = ET.SubElement(suite, "testcase", {
                "classname": f"{module}.{c.kind}",
                "name": c.id,
                "time": f"{c.duration_ms / 1000:.3f}",
            })
            detail = f"source: {c.source}\nexpected:\n{c.expected}\nactual:\n{c.actual}"
            if c.status == "fail":
                failure = ET.SubElement(case, "failure", {"message": c.message, "type": c.kind})
                failure.text = f"{c.message}\n\n{detail}"
            elif c.status == "skipped":
                ET.SubElement(case, "skipped", {"message": c.message})
            elif c.status == "warn":
                out = ET.SubElement(case, "system-out")
                out.text = f"WARNING: {c.message}\n\n{detail}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------ markdown


def md(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")


def _md_clip(text: str, limit: int = 400) -> str:
    return md(text if len(text) <= limit else text[:limit] + " …")


def _md_groups(title: str, groups: tuple[Group, ...], *, detail: bool) -> list[str]:
    if not groups:
        return []
    out = [f"## {title}", "", "| Module | Kind | Check | What |" + (" Expected / actual |" if detail else ""),
           "|---|---|---|---|" + ("---|" if detail else "")]
    for g in groups:
        row = f"| {g.module} | {g.kind} | `{md(g.label())}` | {_md_clip(g.message)} |"
        if detail:
            only = g.checks[0]
            row += (f" want: {_md_clip(only.expected, 200)}<br>have: {_md_clip(only.actual, 200)} |"
                    if g.count == 1 else " |")
        out.append(row)
    return out + [""]


def render_markdown(report: VerifyReport) -> str:
    """A compact summary for a change ticket: verdict, failures, warnings, skips, per-module counts.

    Passed checks are counted, not listed; the RLS matrix is shown for tables where a cell
    differs from its expectation (the HTML and JSON reports have every check and cell).
    """
    facts = digest(report)
    out = [
        f"# dbkit verify: {facts.verdict}",
        "",
        f"**{facts.counts.sentence()}**",
        "",
        "| | |",
        "|---|---|",
        f"| Database | `{report.database}` |",
        f"| Server | PostgreSQL {md(report.server_version)} |",
        f"| dbkit | {report.dbkit_version} |",
        f"| Time | {report.started_at} ({report.duration_ms:.0f} ms) |",
        f"| Migrations | {md(report.migration_status)} |",
        f"| Mode | {mode_line(report)} |",
        "",
    ]
    out += _md_groups("Failures", facts.failures, detail=True)
    out += _md_groups("Warnings", facts.warnings, detail=False)
    out += _md_groups("Skipped", facts.skipped, detail=False)
    out += ["## Checks per module", "", "| Module | Failed | Warnings | Passed | Skipped |", "|---|---|---|---|---|"]
    out += [f"| {m} | {c.fail} | {c.warn} | {c.passed} | {c.skipped} |" for m, c in facts.modules]
    out.append("")
    out += _md_matrix(report)
    return "\n".join(out)


def _md_matrix(report: VerifyReport) -> list[str]:
    """The RLS matrix's size, and the tables where a cell differs from its expectation."""
    matrix = rls_matrix(report)
    if not matrix:
        return []
    differing = {t: rows for t, rows in matrix.items()
                 if any(c.status == "fail" for cells in rows.values() for c in cells.values())}
    cells = sum(len(cells) for rows in matrix.values() for cells in rows.values())
    out = ["## RLS access matrix", "",
           f"{len(matrix)} tables, {cells} cells; "
           + (f"{len(differing)} table(s) with a cell that differs from its expectation:" if differing
              else "every cell that ran matched its expectation (the HTML report shows them all)."), ""]
    if differing:
        users = users_text(report, lambda sub: f"`{sub}`")
        out += [(f"Users: {users}. " if users else "") + "Cells: actual (✗ = differs).", ""]
    for table, rows in differing.items():
        out += _md_table(report, table, rows)
    return out


def _md_table(report: VerifyReport, table: str, rows: dict[str, dict[str, Check]]) -> list[str]:
    columns = matrix_columns(rows)
    out = [f"### {table}", "", "| Identity | " + " | ".join(c.upper() for c in columns) + " |",
           "|---" * (len(columns) + 1) + "|"]
    for identity, label in identity_labels(report).items():
        shown = [_md_cell(rows.get(identity, {}).get(cmd)) for cmd in columns]
        out.append(f"| {label} | " + " | ".join(shown) + " |")
    return out + [""]


def _md_cell(check: Check | None) -> str:
    """A cell shows what happened; one that differs also says what was expected."""
    if check is None:
        return ""
    if check.status == "fail":
        return f"**{cell_word(check)} ✗** (want {check.expected})"
    return cell_word(check)
