"""A ``FleetResult`` in every format: the verdict, the targets that did not succeed, then a row per database."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict

from dbkit.config import mask
from dbkit.fleet import FleetResult, State, TargetResult
from dbkit.report.html import render_page
from dbkit.report.verify_formats import JSON_SCHEMA_VERSION, md

FORMATS = ("text", "json", "junit", "markdown", "html")
_STATES: tuple[State, ...] = ("ok", "failed", "error", "not run")


def verdict(result: FleetResult) -> str:
    counts = ", ".join(f"{result.count(s)} {s}" for s in _STATES if result.count(s) or s == "ok")
    head = "PASSED" if result.ok else "FAILED"
    what = f"dbkit {result.command}" + (" --dry-run" if result.dry_run else "")
    return (f"{head}: {what} on {len(result.targets)} database(s): {counts} "
            f"({result.duration_ms / 1000:.1f} s, {result.parallel} at a time)")


def _what(row: TargetResult) -> str:
    parts = []
    if row.done:
        parts.append(f"{len(row.done)} step(s): {', '.join(row.done[:3])}{', …' if len(row.done) > 3 else ''}")
    if row.pending is not None:
        parts.append(row.detail)
    if row.checks is not None:
        parts.append(f"verify {row.checks['fail']} failed, {row.checks['warn']} warnings, {row.checks['pass']} passed, "
                     f"{row.checks['skipped']} skipped")
    if not parts and row.state == "ok":
        parts.append(row.detail or ("nothing to do"))
    return "; ".join(p for p in parts if p)


def _problem(row: TargetResult) -> str:
    if row.error:
        return row.error
    if row.failed_checks:
        return f"failed checks: {', '.join(row.failed_checks[:5])}" + (" …" if len(row.failed_checks) > 5 else "")
    return "not started (the run stopped)" if row.state == "not run" else ""


def _bad(result: FleetResult) -> list[TargetResult]:
    return [t for t in result.targets if t.state != "ok"]


def render_text(result: FleetResult) -> str:
    lines = [verdict(result)]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    bad = [t for t in _bad(result) if t.state != "not run"]
    if bad:
        lines += ["", "Did not succeed:"]
        lines += [f"  {t.state.upper():<7} {t.name}: {_problem(t)}" for t in bad]
    width = max(len(t.name) for t in result.targets)
    lines += ["", f"{'STATE':<8} {'TARGET':<{width}}  {'TIME':>8}  WHAT"]
    for t in result.targets:
        mark = "*" if t.canary else " "
        lines.append(f"{t.state:<8} {t.name:<{width}}{mark} {t.duration_ms / 1000:>7.1f}s  {_what(t) or _problem(t)}")
    if any(t.canary for t in result.targets):
        lines.append("(* canary: run first)")
    return "\n".join(lines) + "\n"


def render_json(result: FleetResult) -> str:
    payload = {
        "schema_version": JSON_SCHEMA_VERSION,
        "command": result.command,
        "ok": result.ok,
        "dry_run": result.dry_run,
        "started_at": result.started_at,
        "duration_ms": result.duration_ms,
        "parallel": result.parallel,
        "on_failure": result.on_failure,
        "stopped": result.stopped or None,
        "counts": {s: result.count(s) for s in _STATES},
        "targets": [asdict(t) for t in result.targets],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_junit(result: FleetResult) -> str:
    """One <testsuite> for the fleet, one <testcase> per database."""
    root = ET.Element("testsuites", {"name": f"dbkit {result.command} fleet", "tests": str(len(result.targets)),
                                     "failures": str(result.count("failed")), "errors": str(result.count("error")),
                                     "skipped": str(result.count("not run")),
                                     "time": f"{result.duration_ms / 1000:.3f}"})
    suite = ET.SubElement(root, "testsuite", {"name": f"dbkit {result.command}", "tests": str(len(result.targets)),
                                              "failures": str(result.count("failed")),
                                              "errors": str(result.count("error")),
                                              "skipped": str(result.count("not run")),
                                              "time": f"{result.duration_ms / 1000:.3f}",
                                              "timestamp": result.started_at})
    for t in result.targets:
        case = ET.SubElement(suite, "testcase", {"classname": f"fleet.{t.group or 'targets'}", "name": t.name,
                                                "time": f"{t.duration_ms / 1000:.3f}"})
        if t.state == "failed":
            ET.SubElement(case, "failure", {"message": _problem(t) or t.detail, "type": result.command}).text = t.detail
        elif t.state == "error":
            ET.SubElement(case, "error", {"message": t.error, "type": result.command})
        elif t.state == "not run":
            ET.SubElement(case, "skipped", {"message": _problem(t)})
        else:
            ET.SubElement(case, "system-out").text = f"{t.database}: {_what(t)}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_markdown(result: FleetResult) -> str:
    out = [f"# {md(verdict(result))}", ""]
    if result.stopped:
        out += [f"Stopped: {md(result.stopped)}", ""]
    bad = [t for t in _bad(result) if t.state != "not run"]
    if bad:
        out += ["## Did not succeed", "", "| State | Target | Database | Problem |", "|---|---|---|---|"]
        out += [f"| {t.state} | {md(t.name)} | `{t.database}` | {md(_problem(t))} |" for t in bad]
        out.append("")
    out += ["## Databases", "", "| State | Target | Group | Canary | Time | What |", "|---|---|---|---|---|---|"]
    out += [f"| {t.state} | {md(t.name)} | {md(t.group or '')} | {'yes' if t.canary else ''} | "
            f"{t.duration_ms / 1000:.1f} s | {md(_what(t) or _problem(t))} |" for t in result.targets]
    return "\n".join(out) + "\n"


def render_html(result: FleetResult) -> str:
    rows = [(t, _what(t), _problem(t)) for t in result.targets]
    return render_page("fleet.html.j2", result=result, verdict=verdict(result), rows=rows,
                       bad=[(t, p) for t, _, p in rows if t.state not in ("ok", "not run")])


def render(result: FleetResult, fmt: str) -> str:
    renderers = {"text": render_text, "json": render_json, "junit": render_junit, "markdown": render_markdown,
                 "html": render_html}
    if fmt not in renderers:
        raise ValueError(f"unknown fleet report format {fmt!r}")
    return mask(renderers[fmt](result), result.secrets)
