"""Render reports: a ``VerifyReport`` or a ``FleetResult`` as text, JSON, JUnit XML, Markdown or HTML.

Every format leads with the verdict, then failures, then warnings and skipped checks
(repeated lines counted, not repeated), then details. Every output passes through
``dbkit.config.mask`` here, so a password that reached a message never leaves the program.
HTML comes from Jinja2 templates with autoescape (``dbkit/report/templates``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dbkit.config import mask

if TYPE_CHECKING:
    from dbkit.verify import VerifyReport

# The verify renderers load the verify package (and through it the SQL parser); `dbkit status`
# renders only runs (dbkit.report.runs) and must not pay for them, so they load on first use.
_LAZY = {
    "render_html": "dbkit.report.html",
    **{name: "dbkit.report.model" for name in ("Counts", "Digest", "Group", "digest", "matrix_columns", "ordered",
                                                "rls_matrix")},
    **{name: "dbkit.report.verify_formats" for name in ("JSON_SCHEMA_VERSION", "render_json", "render_junit",
                                                         "render_markdown", "render_text", "summary")},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORMATS = ("text", "json", "junit", "markdown", "html")


def render(report: VerifyReport, fmt: str, *, color: bool = False) -> str:
    """The report in one of ``FORMATS``, passwords masked."""
    from dbkit.report.html import render_html
    from dbkit.report.verify_formats import render_json, render_junit, render_markdown, render_text

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


def one_line(report: VerifyReport) -> str:
    """The verdict and counts in one line, for a terminal when the report went to a file."""
    from dbkit.report.model import digest

    facts = digest(report)
    return f"{facts.verdict}: {facts.counts.sentence()}"


__all__ = ["FORMATS", "JSON_SCHEMA_VERSION", "Counts", "Digest", "Group", "digest", "matrix_columns", "one_line",
           "ordered", "render", "render_html", "render_json", "render_junit", "render_markdown", "render_text",
           "rls_matrix", "summary"]
