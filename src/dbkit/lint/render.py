"""The report as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
from dataclasses import asdict

from dbkit.errors import InputError
from dbkit.lint.model import ERROR, SCHEMA_VERSION, LintReport
from dbkit.lint.rules import RULES

FORMATS = ("text", "json", "github")


def render(report: LintReport, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "text":
        return render_text(report)
    raise InputError(f"unknown lint format {fmt!r}; choose one of {', '.join(FORMATS)}")


def summary(report: LintReport) -> str:
    checked = " + ".join(report.checkers)
    counts = {by: sum(1 for a in report.allowed if a.by == by) for by in ("marker", "history", "size")}
    notes = "".join(text for text in (
        f", {counts['marker']} allowed by marker" if counts["marker"] else "",
        f", {counts['history']} on applied migrations" if counts["history"] else "",
        f", {counts['size']} on tables small enough" if counts["size"] else "",
    ))
    graded = f"; graded by {report.target}" if report.target else ""
    return (f"{report.errors} error(s), {report.warnings} warning(s) in {len(report.files)} file(s) "
            f"({checked}){notes}{graded}")


def render_text(report: LintReport) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message}" + (" [warning]" if f.severity != ERROR else "")
             for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines)


def render_json(report: LintReport) -> str:
    payload = {
        "schema_version": SCHEMA_VERSION,
        "ok": report.ok,
        "errors": report.errors,
        "warnings": report.warnings,
        "checkers": list(report.checkers),
        "target": report.target,
        "files": list(report.files),
        "findings": [asdict(f) for f in report.findings],
        "allowed": [{**asdict(a.finding), "reason": a.reason, "by": a.by} for a in report.allowed],
        "rules": {rule.id: {"title": rule.title, "fix": rule.fix, "severity": rule.severity,
                            "graded": rule.graded, "history": rule.history, "docs": rule.docs()}
                  for rule in RULES.values()},
    }
    return json.dumps(payload, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: LintReport) -> str:
    lines = []
    for f in report.findings:
        level = "error" if f.severity == ERROR else "warning"
        props = (f"file={_escape_property(f.path)},line={f.line},col={f.column},"
                 f"title={_escape_property(f.rule)}")
        lines.append(f"::{level} {props}::{_escape_data(f.rule + ' ' + f.message)}")
    lines.append(summary(report))
    return "\n".join(lines)
