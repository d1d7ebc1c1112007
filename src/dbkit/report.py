"""Render a ``VerifyReport`` as text, JSON, JUnit XML, Markdown or one self-contained HTML page.

Every renderer takes the same frozen report; every output passes through
``dbkit.config.mask`` so a password that reached a message never leaves the program.
Failures come first everywhere, then warnings, skipped checks and passes.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict

from dbkit.config import mask
from dbkit.checkfiles import IDENTITIES, cell_order
from dbkit.verify import IDENTITY_LABELS, OWNER_UUID, STRANGER_UUID, Check, VerifyReport

JSON_SCHEMA_VERSION = 1
FORMATS = ("text", "json", "junit", "markdown", "html")
_ORDER = {"fail": 0, "warn": 1, "skipped": 2, "pass": 3}


def ordered(checks: tuple[Check, ...] | list[Check]) -> list[Check]:
    """Failures first, then warnings, skipped, passes; stable within a status."""
    return sorted(checks, key=lambda c: _ORDER[c.status])


def rls_matrix(report: VerifyReport) -> dict[str, dict[str, dict[str, Check]]]:
    """table -> identity -> command -> the check of that cell."""
    matrix: dict[str, dict[str, dict[str, Check]]] = {}
    for check in report.checks:
        if check.kind == "rls" and check.cell is not None:
            identity, command = check.cell
            matrix.setdefault(check.target, {}).setdefault(identity, {})[command] = check
    return matrix


def matrix_columns(rows: dict[str, dict[str, Check]]) -> list[str]:
    """The cells a table's matrix has (select … delete, move, reference[.name]), in order."""
    return sorted({cell for cells in rows.values() for cell in cells}, key=cell_order)


def summary(report: VerifyReport) -> dict[str, object]:
    counts = report.counts()
    return {
        "result": "failed" if report.failed else "passed",
        "database": report.database,
        "server_version": report.server_version,
        "dbkit_version": report.dbkit_version,
        "started_at": report.started_at,
        "duration_ms": report.duration_ms,
        "modules": list(report.modules),
        "catalog_only": report.catalog_only,
        "writes": report.writes,
        "migration_status": report.migration_status,
        "counts": counts,
    }


def render(report: VerifyReport, fmt: str, *, color: bool = False) -> str:
    renderers: dict[str, Callable[[VerifyReport], str]] = {
        "text": lambda r: render_text(r, color=color),
        "json": render_json,
        "junit": render_junit,
        "markdown": render_markdown,
        "html": render_html,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}")
    return mask(renderers[fmt](report), report.secrets)


# ------------------------------------------------------------------ text

_COLOURS = {"fail": "\x1b[31;1m", "warn": "\x1b[33m", "pass": "\x1b[32m", "skipped": "\x1b[2m"}
_RESET = "\x1b[0m"


def render_text(report: VerifyReport, *, color: bool = False) -> str:
    def paint(status: str, text: str) -> str:
        return f"{_COLOURS[status]}{text}{_RESET}" if color else text

    counts = report.counts()
    lines = [
        f"dbkit verify {report.dbkit_version} — {report.database} (PostgreSQL {report.server_version})",
        f"started {report.started_at}, {report.duration_ms:.0f} ms; migrations: {report.migration_status}"
        + ("; read-only" if report.catalog_only else "; with writes (rolled back)"),
        "",
    ]
    listed = [c for c in ordered(report.checks) if c.status != "pass"]
    if listed:
        wmod = max(len(c.module) for c in listed)
        wkind = max(len(c.kind) for c in listed)
        lines.append(f"{'STATUS':<7}  {'MODULE':<{wmod}}  {'KIND':<{wkind}}  CHECK (passed checks: see the per-module counts)")
        for c in listed:
            lines.append(f"{paint(c.status, f'{c.status.upper():<7}')}  {c.module:<{wmod}}  {c.kind:<{wkind}}  {c.id}")
            for part in c.message.split("; ") if c.message else ():
                lines.append(f"{'':9}{part}")
        lines.append("")
    if report.modules:
        wmod = max(max(len(m) for m in report.modules), len("MODULE"))
        lines.append(f"{'MODULE':<{wmod}}  {'FAIL':>5}  {'WARN':>5}  {'PASS':>5}  {'SKIP':>5}")
        for module in report.modules:
            mc = {s: sum(1 for c in report.checks if c.module == module and c.status == s) for s in _ORDER}
            lines.append(f"{module:<{wmod}}  {mc['fail']:>5}  {mc['warn']:>5}  {mc['pass']:>5}  {mc['skipped']:>5}")
    matrix = rls_matrix(report)
    if matrix:
        lines += ["", "RLS access matrix (expected/actual: A = allowed, D = denied, E = error, - = not run)"]
        for table, rows in matrix.items():
            columns = matrix_columns(rows)
            width = max([9] + [len(c) + 2 for c in columns])
            lines.append(f"  {table}")
            lines.append(f"    {'':<26}" + "".join(f"{cmd.upper():<{width}}" for cmd in columns))
            for identity in IDENTITIES:
                cells = []
                for cmd in columns:
                    check = rows.get(identity, {}).get(cmd)
                    cells.append(paint(check.status, f"{_cell_short(check):<{width}}") if check else f"{'':<{width}}")
                lines.append(f"    {IDENTITY_LABELS[identity]:<26}" + "".join(cells))
    lines += [
        "",
        paint("fail" if report.failed else "pass",
              f"{'FAILED' if report.failed else 'PASSED'}: {counts['fail']} failed, {counts['warn']} warnings, "
              f"{counts['pass']} passed, {counts['skipped']} skipped ({counts['total']} checks)"),
    ]
    return "\n".join(lines) + "\n"


def _letter(value: str) -> str:
    return {"allowed": "A", "denied": "D"}.get(value.split(" ")[0], "E" if value.startswith("error") else "-")


def _cell_short(check: Check) -> str:
    if check.status == "skipped":
        return "-"
    mark = "" if check.status == "pass" else " ✗"
    return f"{_letter(check.expected)}/{_letter(check.actual)}{mark}"


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
        "rls_users": {"owner": OWNER_UUID, "stranger": STRANGER_UUID},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _check_dict(check: Check) -> dict[str, object]:
    data = asdict(check)
    data["cell"] = list(check.cell) if check.cell else None
    return data


# ------------------------------------------------------------------ junit


def render_junit(report: VerifyReport) -> str:
    """JUnit XML: one <testsuite> per module, one <testcase> per check."""
    counts = report.counts()
    root = ET.Element("testsuites", {
        "name": "dbkit verify",
        "tests": str(counts["total"]),
        "failures": str(counts["fail"]),
        "errors": "0",
        "skipped": str(counts["skipped"]),
        "time": f"{report.duration_ms / 1000:.3f}",
    })
    for module in report.modules:
        checks = [c for c in report.checks if c.module == module]
        suite = ET.SubElement(root, "testsuite", {
            "name": module,
            "tests": str(len(checks)),
            "failures": str(sum(c.status == "fail" for c in checks)),
            "errors": "0",
            "skipped": str(sum(c.status == "skipped" for c in checks)),
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


def _md(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")


def render_markdown(report: VerifyReport) -> str:
    counts = report.counts()
    out = [
        f"# dbkit verify: {'FAILED' if report.failed else 'PASSED'}",
        "",
        "| | |",
        "|---|---|",
        f"| Database | `{report.database}` |",
        f"| Server | PostgreSQL {_md(report.server_version)} |",
        f"| dbkit | {report.dbkit_version} |",
        f"| Time | {report.started_at} ({report.duration_ms:.0f} ms) |",
        f"| Migrations | {_md(report.migration_status)} |",
        f"| Mode | {'read-only (checks that write were skipped)' if report.catalog_only else 'with writes (rolled back)'} |",
        f"| Checks | {counts['fail']} failed, {counts['warn']} warnings, {counts['pass']} passed, "
        f"{counts['skipped']} skipped ({counts['total']}) |",
        "",
    ]
    failures = [c for c in report.checks if c.status == "fail"]
    if failures:
        out += ["## Failures", "", "| Module | Check | Source | What is wrong |", "|---|---|---|---|"]
        out += [f"| {c.module} | `{_md(c.id)}` | {_md(c.source)} | {_md(c.message)} |" for c in failures]
        out.append("")
    for module in report.modules:
        checks = ordered([c for c in report.checks if c.module == module])
        if not checks:
            continue
        mc = {s: sum(c.status == s for c in checks) for s in _ORDER}
        out += [f"## {module}", "",
                f"{mc['fail']} failed, {mc['warn']} warnings, {mc['pass']} passed, {mc['skipped']} skipped", "",
                "| Status | Kind | Check | Source | Expected | Actual | Message |", "|---|---|---|---|---|---|---|"]
        for c in checks:
            out.append(f"| {c.status.upper()} | {c.kind} | `{_md(c.id)}` | {_md(c.source)} | {_md(c.expected)} | "
                       f"{_md(c.actual)} | {_md(c.message)} |")
        out.append("")
    matrix = rls_matrix(report)
    if matrix:
        out += ["## RLS access matrix", "",
                f"Owner user `{OWNER_UUID}`, stranger `{STRANGER_UUID}`. Cells: actual (✗ = differs from expected).", ""]
        for table, rows in matrix.items():
            columns = matrix_columns(rows)
            out += [f"### {table}", "", "| Identity | " + " | ".join(c.upper() for c in columns) + " |",
                    "|---" * (len(columns) + 1) + "|"]
            for identity in IDENTITIES:
                cells = []
                for cmd in columns:
                    check = rows.get(identity, {}).get(cmd)
                    cells.append("" if check is None else _cell_word(check))
                out.append(f"| {IDENTITY_LABELS[identity]} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def _cell_word(check: Check) -> str:
    if check.status == "skipped":
        return "not run"
    actual = check.actual.split(" (")[0]
    return actual if check.status == "pass" else f"**{actual} ✗** (want {check.expected})"


# ------------------------------------------------------------------ html

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 12px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%} th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f6f8fa}
table.summary{width:auto} table.summary th{width:160px}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,monospace}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
table.checks{table-layout:fixed} table.checks td{overflow-wrap:anywhere}
table.matrix{table-layout:fixed;max-width:980px} table.matrix th:first-child{width:240px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.fail{background:#ffebe9;color:#a40e26} .warn{background:#fff8c5;color:#7d4e00} .pass{background:#dafbe1;color:#116329}
.skipped{background:#eaeef2;color:#57606a}
.result{font-size:16px;padding:4px 14px}
td.allowed{background:#dafbe1} td.denied{background:#eaeef2} td.bad{background:#ffebe9;font-weight:600}
details{margin:4px 0} summary{cursor:pointer}
.counts span{margin-right:10px}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(report: VerifyReport) -> str:
    counts = report.counts()
    status = "fail" if report.failed else "pass"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>dbkit verify — {_e(report.database)} — {'FAILED' if report.failed else 'PASSED'}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>dbkit verify <span class="badge result {status}">{"FAILED" if report.failed else "PASSED"}</span></h1>',
        '<table class="summary" id="summary">',
        f"<tr><th>Database</th><td><code>{_e(report.database)}</code></td></tr>",
        f"<tr><th>Server</th><td>PostgreSQL {_e(report.server_version)}</td></tr>",
        f"<tr><th>dbkit</th><td>{_e(report.dbkit_version)}</td></tr>",
        f"<tr><th>Time</th><td>{_e(report.started_at)} ({report.duration_ms:.0f} ms)</td></tr>",
        f"<tr><th>Migrations</th><td>{_e(report.migration_status)}</td></tr>",
        "<tr><th>Mode</th><td>"
        + ("read-only: checks that write (behaviour with setup, RLS matrix) were not run" if report.catalog_only
           else "full: behaviour, RLS matrix and plan checks ran in transactions that were rolled back")
        + "</td></tr>",
        '<tr><th>Checks</th><td class="counts">'
        + "".join(f'<span class="badge {s}">{counts[s]} {label}</span>'
                  for s, label in (("fail", "failed"), ("warn", "warnings"), ("pass", "passed"), ("skipped", "skipped")))
        + f" of {counts['total']}</td></tr>",
        "</table>",
    ]
    failures = [c for c in report.checks if c.status == "fail"]
    parts.append('<h2 id="failures">Failures</h2>')
    if failures:
        parts.append(_html_table(failures, with_module=True))
    else:
        parts.append("<p>None.</p>")
    for module in report.modules:
        checks = ordered([c for c in report.checks if c.module == module])
        if not checks:
            continue
        mc = {s: sum(c.status == s for c in checks) for s in _ORDER}
        parts.append(f'<h2 id="module-{_e(module)}">Module {_e(module)}</h2>')
        parts.append('<p class="counts">' + "".join(
            f'<span class="badge {s}">{mc[s]} {s}</span>' for s in ("fail", "warn", "pass", "skipped")) + "</p>")
        parts.append(_html_table(checks, with_module=False))
    matrix = rls_matrix(report)
    parts.append('<h2 id="rls-matrix">RLS access matrix</h2>')
    if matrix:
        parts.append(f"<p>Each statement targets the owner's rows; owner <code>{OWNER_UUID}</code>, stranger "
                     f"<code>{STRANGER_UUID}</code>. Each cell ran for real in a savepoint that was rolled back. "
                     "Red cells differ from the expectation.</p>")
        for table, rows in matrix.items():
            columns = matrix_columns(rows)
            parts.append(f'<h3>{_e(table)}</h3><table class="matrix"><tr><th>Identity</th>'
                         + "".join(f"<th>{_e(c.upper())}</th>" for c in columns) + "</tr>")
            for identity in IDENTITIES:
                parts.append(f"<tr><th>{_e(IDENTITY_LABELS[identity])}</th>")
                for cmd in columns:
                    check = rows.get(identity, {}).get(cmd)
                    if check is None:
                        parts.append("<td></td>")
                        continue
                    actual = check.actual.split(" (")[0]
                    css = "bad" if check.status == "fail" else ("denied" if actual != "allowed" else "allowed")
                    if check.status == "skipped":
                        css, actual = "denied", "not run"
                    want = "" if check.status != "fail" else f" (want {_e(check.expected)})"
                    parts.append(f'<td class="{css}" title="{_e(check.actual)}">{_e(actual)}{want}</td>')
                parts.append("</tr>")
            parts.append("</table>")
    else:
        parts.append("<p>No access matrix was run" + (" (read-only: run with --with-writes)." if report.catalog_only else ".") + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(checks: list[Check], *, with_module: bool) -> str:
    cols = ('<col style="width:80px">' + ('<col style="width:130px">' if with_module else "")
            + '<col style="width:112px"><col style="width:26%"><col style="width:16%"><col>')
    head = "<tr><th>Status</th>" + ("<th>Module</th>" if with_module else "") + \
        "<th>Kind</th><th>Check</th><th>Source</th><th>Detail</th></tr>"
    rows = [f'<table class="checks"><colgroup>{cols}</colgroup>{head}']
    for c in checks:
        detail = f"<pre>{_e(c.message)}</pre>" if c.message else ""
        if c.status != "pass" or c.expected != c.actual:
            detail += (f"<details><summary>expected / actual</summary><pre>expected:\n{_e(c.expected)}\n\n"
                       f"actual:\n{_e(c.actual)}</pre></details>")
        rows.append(
            f'<tr><td><span class="badge {c.status}">{c.status.upper()}</span></td>'
            + (f"<td>{_e(c.module)}</td>" if with_module else "")
            + f"<td>{_e(c.kind)}</td><td><code>{_e(c.id)}</code></td><td>{_e(c.source)}</td><td>{detail}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)
